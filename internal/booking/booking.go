// Package booking holds the booking rules of every storage engine, written
// once: the commit of an allocation step, a change of an appointment, a
// booking made by an external system through the feed, the allocator's
// waiting list after a cursor and a center's day. It works over small
// primitives (Engine, ReadTx, Tx) that each engine implements in its own
// dialect, one statement each; batch primitives keep each engine's fastest
// way in (COPY and unnest on PostgreSQL, multi-row INSERTs on SQLite). An
// engine embeds Rules, so that the rules are what it answers with.
//
// This is the pattern of river's drivers (a driver interface of
// one-statement operations, the logic above it) and of turnero.ReadFeed. It
// imports only the domain; it never sees SQL.
//
// # Lock order
//
// Every write transaction takes what it touches in this order, so that two
// of them (two nodes on PostgreSQL) never wait for each other:
//
//  1. the registration's row (a change or an external booking locks it
//     first: two changes of one booking are decided one after the other);
//  2. the allocation version's row (every write that books or frees a slot
//     moves it, checking it when it was computed against a snapshot);
//  3. bookings, then slots;
//  4. the pending list and the groups' rows;
//  5. the queue of second doses;
//  6. appended rows (appointment events, outbox) and the registration's own
//     columns (status, place in line);
//  7. the feed position's row, last: its lock, held to the commit, makes
//     feed positions visible in the order they were given.
//
// On SQLite one writer holds the database for the whole transaction and the
// order changes nothing; it is the same code, so the engines cannot drift.
package booking

import (
	"context"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// Engine is what a storage engine gives the rules.
type Engine interface {
	// Write runs fn in one durable write transaction: committed (and on
	// disk) when fn returns nil, rolled back otherwise. what names it in
	// errors.
	Write(ctx context.Context, what string, fn func(Tx) error) error
	// Read runs fn in a read-only transaction: every read of fn sees one
	// snapshot.
	Read(ctx context.Context, what string, fn func(ReadTx) error) error
	// Conflict reports whether err is the database refusing what two
	// writers did at once: a violated CHECK (an overbooked slot) or UNIQUE
	// (a second booking of one person), or a deadlock or serialization
	// failure. Such an error becomes turnero.ErrAllocationConflict.
	Conflict(err error) bool

	// WaitingPage returns up to limit registrations of the group with
	// status waiting and a group ordinal above after, in ordinal order, on
	// the connection the engine keeps for the allocator's long reads.
	WaitingPage(ctx context.Context, group string, after int64, limit int) ([]turnero.Candidate, error)
	// BookedOrdinals returns the group ordinals in (after, through] that
	// have a booking.
	BookedOrdinals(ctx context.Context, group string, after, through int64) ([]int64, error)
	// EachBooking calls fn with every booking, by sequence: for exports
	// and for checking invariants.
	EachBooking(ctx context.Context, fn func(turnero.BookingRow) error) error
}

// ReadTx is a read of one snapshot.
type ReadTx interface {
	// Registration reads a registration; turnero.ErrNotFound if none.
	Registration(ctx context.Context, seq int64) (turnero.Registration, error)
	// Booking reads the registration's booking; ok false when it has none.
	Booking(ctx context.Context, r turnero.Registration) (row turnero.BookingRow, ok bool, err error)
	// IsPending reports whether the registration is in the allocator's
	// not-yet-placed list.
	IsPending(ctx context.Context, seq int64) (bool, error)
	// FirstDoseGiven reads when dose 1 was last recorded as given (zero if
	// never).
	FirstDoseGiven(ctx context.Context, seq int64) (time.Time, error)
	// LastEvent reads the registration's latest appointment event; ok
	// false when it has none.
	LastEvent(ctx context.Context, seq int64) (e turnero.AppointmentEvent, ok bool, err error)
	// SlotEntries lists who is booked at a center in slots starting in
	// [from, to), by slot and, within a slot, in the order booked.
	SlotEntries(ctx context.Context, center string, from, to time.Time) ([]SlotEntry, error)
	// SlotBooked reads how many a slot has booked (0 when it has no row).
	SlotBooked(ctx context.Context, center string, start time.Time) (int, error)
	// GroupCursor reads a group's cursor (0 before it was ever opened).
	GroupCursor(ctx context.Context, group string) (int64, error)
}

// Tx is a write transaction. Each primitive is one statement (or one per
// chunk of a batch), and applies without deciding anything: what is
// refused by the rules never reaches it.
type Tx interface {
	ReadTx

	// LockRegistration reads a registration and locks its row until the
	// transaction ends; turnero.ErrNotFound if none.
	LockRegistration(ctx context.Context, seq int64) (turnero.Registration, error)
	// LockVersion reads the allocation version and locks its row.
	LockVersion(ctx context.Context) (int64, error)
	// MoveVersion moves the allocation version on.
	MoveVersion(ctx context.Context) error
	// MoveVersionFrom moves the allocation version on if it is v; ok false
	// when it is not.
	MoveVersionFrom(ctx context.Context, v int64) (ok bool, err error)

	// InsertBookings writes new bookings, booked by each one's Source at
	// at; the database refuses a second booking of one person.
	InsertBookings(ctx context.Context, bookings []turnero.Booking, at time.Time) error
	// BookSecondDoses books second doses again, each only on a booking
	// whose dose 1 is given, whose dose 2 is empty and whose vaccine is
	// the one named; it returns how many it booked.
	BookSecondDoses(ctx context.Context, sds []turnero.SecondDoseBooking) (int64, error)
	// SetDoseState sets the state of one dose of a booking, and its lot
	// when lot is not empty.
	SetDoseState(ctx context.Context, r turnero.Registration, dose int, state, lot string) error
	// ClearSecondDose empties dose 2 of a booking.
	ClearSecondDose(ctx context.Context, r turnero.Registration) error
	// DeleteBooking deletes a booking.
	DeleteBooking(ctx context.Context, r turnero.Registration) error

	// AddToSlots adds bookings to slots, creating their rows, and sets
	// each slot's capacity; the database refuses a slot booked beyond it.
	AddToSlots(ctx context.Context, adds []SlotAdd) error
	// FreeSlot takes one entry out of a slot; ok false when the slot does
	// not list it.
	FreeSlot(ctx context.Context, center string, start time.Time, e SlotEntry) (ok bool, err error)

	// InsertPending adds registrations to the not-yet-placed list.
	InsertPending(ctx context.Context, ps []turnero.Pending) error
	// DeletePending takes registrations out of it; it returns how many
	// were there.
	DeletePending(ctx context.Context, seqs []int64) (int64, error)
	// AdvanceGroup moves a group's cursor forward to cursor (never back)
	// and adds pendingDelta to its pending count, creating its row (with
	// the count at max(pendingDelta, 0)) when it has none.
	AdvanceGroup(ctx context.Context, group string, cursor, pendingDelta int64) error

	// AddLineGap records a place past a group's cursor that nobody waits
	// at any more; RemoveLineGap takes it back (the person waits there
	// again); PruneLineGaps drops those at or before through (the cursor
	// passed them).
	AddLineGap(ctx context.Context, group string, ordinal int64) error
	RemoveLineGap(ctx context.Context, group string, ordinal int64) error
	PruneLineGaps(ctx context.Context, group string, through int64) error

	// QueueSecondDose adds a person to the queue of second doses.
	QueueSecondDose(ctx context.Context, sd turnero.SecondDose) error
	// DeleteSecondDoses takes people out of the queue of second doses; it
	// returns how many were there.
	DeleteSecondDoses(ctx context.Context, seqs []int64) (int64, error)

	// InsertEvent records an appointment event.
	InsertEvent(ctx context.Context, e turnero.AppointmentEvent) error
	// InsertOutbox writes one notification request per message.
	InsertOutbox(ctx context.Context, msgs []OutboxRow, at time.Time) error
	// SetStatus sets a registration's status.
	SetStatus(ctx context.Context, seq int64, status string) error
	// MoveToBackOfLine gives a registration a new last ordinal of its group,
	// never handed out twice whoever numbers registrations at the same time.
	MoveToBackOfLine(ctx context.Context, r turnero.Registration) error
	// GiveFeedPosition gives a registration the next feed position.
	GiveFeedPosition(ctx context.Context, seq int64) error
}

// OutboxRow is one notification request to write.
type OutboxRow struct {
	Registration int64
	Kind         string
}

// SlotAdd is what one slot gains in a commit.
type SlotAdd struct {
	Center   string
	Start    time.Time
	Capacity int
	// Entries are who are booked, in order.
	Entries []SlotEntry
}

// Rules are the booking rules over one engine. An engine embeds them: their
// methods are the engine's CommitAllocation, ChangeBooking, BookExternal,
// WaitingAfter and DayAgenda.
type Rules struct {
	e Engine
}

// New returns the rules over e.
func New(e Engine) Rules { return Rules{e: e} }
