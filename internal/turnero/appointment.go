package turnero

import (
	"context"
	"time"
)

// Registration statuses after the waiting list.
const (
	// StatusScheduled: both doses (or the only one) are booked.
	StatusScheduled = "scheduled"
	// StatusCancelled: the person cancelled and did not ask for another date.
	StatusCancelled = "cancelled"
	// StatusVaccinated: every dose of the schedule was given.
	StatusVaccinated = "vaccinated"
)

// Appointment states.
const (
	AppointmentBooked    = "booked"
	AppointmentCheckedIn = "checked_in"
	AppointmentGiven     = "given"
	AppointmentNoShow    = "no_show"
)

// Sources of an appointment.
const (
	SourceAllocator = "allocator"
	SourceFeed      = "feed"
)

// Appointment is one dose booked for one registration at a center. A
// registration holds at most one appointment per dose.
type Appointment struct {
	Registration int64 // sequence
	Dose         int   // 1, 2, ...
	Center       string
	Start        time.Time
	Vaccine      string
	State        string
	Lot          string // recorded with the dose given
	Source       string
}

// BookingRow is a booking as both storage engines keep it: one row per
// person, both doses in it.
type BookingRow struct {
	Sequence                int64
	Center, Vaccine, Source string
	Dose1Start              time.Time
	Dose1State, Dose1Lot    string
	// Dose2Start is zero for a one-dose vaccine, and for a second dose
	// waiting to be booked again: no appointment then.
	Dose2Start           time.Time
	Dose2State, Dose2Lot string
	Dose2Center          string // empty: dose 1's center
}

// Appointments turns the row into its appointments by dose.
func (b BookingRow) Appointments() []Appointment {
	out := []Appointment{{Registration: b.Sequence, Dose: 1, Center: b.Center, Start: b.Dose1Start.UTC(),
		Vaccine: b.Vaccine, State: b.Dose1State, Lot: b.Dose1Lot, Source: b.Source}}
	if !b.Dose2Start.IsZero() {
		center := b.Center
		if b.Dose2Center != "" {
			center = b.Dose2Center
		}
		out = append(out, Appointment{Registration: b.Sequence, Dose: 2, Center: center, Start: b.Dose2Start.UTC(),
			Vaccine: b.Vaccine, State: b.Dose2State, Lot: b.Dose2Lot, Source: b.Source})
	}
	return out
}

// GroupState is how far a priority group has been served.
type GroupState struct {
	Group string
	Open  bool
	// ChangedAt is when the group was last opened or closed.
	ChangedAt time.Time
	// Cursor is "now serving": every registration of the group with a group
	// ordinal at or below it has been considered by the allocator, and was
	// either given appointments or is pending with a reason.
	Cursor int64
	// Pending counts the registrations at or below the cursor that could not
	// be placed yet; they are tried first on every run.
	Pending int64
	// Left counts the places past the cursor that nobody waits at any
	// more (cancelled, or booked through the feed): the line is that much
	// shorter than the ordinals say.
	Left int64
}

// Candidate is a waiting registration as the allocator sees it: no personal
// data, only what placement needs.
type Candidate struct {
	Sequence   int64
	Ordinal    int64 // group ordinal
	Group      string
	Department string
	Age        int
}

// Reasons a registration could not be placed, shown to operators.
const (
	// ReasonNoCenter: no center of the person's department gives a vaccine
	// allowed for their group and age.
	ReasonNoCenter = "no_center_for_vaccine"
	// ReasonNoCapacity: every allowed center is full within the horizon.
	ReasonNoCapacity = "no_capacity"
	// ReasonNoSecondDose: first doses were free but no second dose fitted
	// within the window.
	ReasonNoSecondDose = "no_second_dose_slot"
)

// Pending is a registration the allocator passed but could not place.
type Pending struct {
	Candidate
	Reason string
	Since  time.Time
}

// SlotBooking is how many people a slot has booked, with the capacity it was
// last booked against.
type SlotBooking struct {
	Center   string
	Start    time.Time
	Capacity int
	Booked   int
}

// Notification kinds written to the outbox.
const (
	NotifyScheduled = "appointments_scheduled"
	NotifyCancelled = "appointments_cancelled"
	// NotifySecondDose: a second dose was booked again, after the person
	// missed it or asked for another date.
	NotifySecondDose = "second_dose_scheduled"
)

// SecondDose is a person whose first dose was given and whose second dose
// must be booked again: they missed it, or asked for another date. The
// allocator books it before any first dose (a person halfway through a
// course comes first), with the same vaccine, at dose 1's center or, failing
// that, another center of the department that gives it.
type SecondDose struct {
	Sequence   int64
	Group      string
	Ordinal    int64 // group ordinal
	Department string
	Vaccine    string    // dose 1's, never another
	Center     string    // dose 1's center, tried first
	Earliest   time.Time // not before: the vaccine's interval after dose 1, and for another date the day after the one given up
	Reason     string    // EventNoShow or EventReschedule
	Since      time.Time
}

// PendingReason is why the second dose waits, as operators see it with
// the group's pending registrations: ReasonSecondDoseMissed or
// ReasonSecondDoseMoved.
func (sd SecondDose) PendingReason() string { return "second_dose_" + sd.Reason }

// Reasons of second doses waiting to be booked again.
const (
	ReasonSecondDoseMissed = "second_dose_" + EventNoShow
	ReasonSecondDoseMoved  = "second_dose_" + EventReschedule
)

// SecondDoseBooking is a second dose booked again.
type SecondDoseBooking struct {
	Sequence int64
	Group    string
	Ordinal  int64
	Vaccine  string // checked by storage against the booking's
	Center   string
	Start    time.Time
}

// AllocationSnapshot is what an allocation run starts from.
type AllocationSnapshot struct {
	// Version changes with every write that books or frees a slot; a commit
	// made against an older version is refused.
	Version int64
	Groups  []GroupState
	// Bookings of slots starting at or after the snapshot's time.
	Bookings []SlotBooking
}

// Booking is every appointment of one registration, made in one step: all
// doses at one center with one vaccine.
type Booking struct {
	Candidate
	Center  string
	Vaccine string
	Source  string
	// Starts are the doses' times, dose 1 first.
	Starts []time.Time
}

// Appointments lists a booking dose by dose.
func (b *Booking) Appointments() []Appointment {
	out := make([]Appointment, len(b.Starts))
	for i, t := range b.Starts {
		out[i] = Appointment{Registration: b.Sequence, Dose: i + 1, Center: b.Center, Start: t, Vaccine: b.Vaccine,
			State: AppointmentBooked, Source: b.Source}
	}
	return out
}

// AllocationBatch is one step of an allocation run, committed atomically.
type AllocationBatch struct {
	// Version is the snapshot version the batch was computed against.
	Version int64
	At      time.Time
	// Bookings to create; each registration among them becomes scheduled
	// and gets one notification.
	Bookings []Booking
	// Slots adds bookings to slots; Capacity is the slot's capacity by the
	// current agenda. Storage refuses a batch that would overbook.
	Slots []SlotBooking
	// NewPending are registrations passed but not placed.
	NewPending []Pending
	// Resolved are pending registrations that were placed.
	Resolved []Candidate
	// Cursors moves groups' cursors forward.
	Cursors map[string]int64
	// SecondDoses books second doses again; each leaves the queue of second
	// doses and gets one notification. Storage refuses one whose booking
	// is not waiting for its second dose with that vaccine.
	SecondDoses []SecondDoseBooking
}

// CenterStore keeps the vaccination centers and their agendas.
type CenterStore interface {
	// UpsertCenters stores centers by id, all or none; it changes the
	// allocation version (agendas changed).
	UpsertCenters(ctx context.Context, centers []Center) error
	Centers(ctx context.Context) ([]Center, error)
	// Center returns one center, or ErrCenterNotFound.
	Center(ctx context.Context, id string) (Center, error)
}

// GroupStore keeps which priority groups are open and how far each has
// been served.
type GroupStore interface {
	// SetGroupOpen opens or closes a priority group; its cursor is kept.
	SetGroupOpen(ctx context.Context, group string, open bool, at time.Time) (GroupState, error)
	// GroupStates lists the groups that were ever opened.
	GroupStates(ctx context.Context) ([]GroupState, error)
}

// AllocationStore is what the allocator reads and commits: the waiting
// list, the pending list, the queue of second doses, the slots' bookings,
// and the commit of a step. Every engine passes the contract in package
// storetest.
type AllocationStore interface {
	// AllocationState reads the version and the groups: what a run needs
	// when it still holds the bookings from its previous run.
	AllocationState(ctx context.Context) (version int64, groups []GroupState, err error)
	// AllocationSnapshot reads the version, the groups and the bookings of
	// slots from the given time on.
	AllocationSnapshot(ctx context.Context, from time.Time) (AllocationSnapshot, error)
	// WaitingAfter returns up to limit waiting registrations of a group with
	// a group ordinal above after, in ordinal order.
	WaitingAfter(ctx context.Context, group string, after int64, limit int) ([]Candidate, error)
	// PendingAfter returns up to limit pending registrations of a group with
	// a group ordinal above after, in ordinal order.
	PendingAfter(ctx context.Context, group string, after int64, limit int) ([]Pending, error)
	// SecondDosesAfter returns up to limit second doses waiting to be booked
	// again with a sequence above after, in sequence order.
	SecondDosesAfter(ctx context.Context, after int64, limit int) ([]SecondDose, error)
	// SecondDosesInGroup returns up to limit second doses of a group waiting
	// to be booked again with a group ordinal above after, in ordinal order
	// (what operators see with the group's pending registrations).
	SecondDosesInGroup(ctx context.Context, group string, after int64, limit int) ([]SecondDose, error)
	// CommitAllocation writes a batch in one transaction, or nothing. It
	// returns ErrAllocationConflict when the version moved, a registration
	// is already booked, or a slot would be overbooked.
	CommitAllocation(ctx context.Context, b AllocationBatch) error
}

// ErrAllocationConflict: someone else changed the bookings since the
// snapshot; the run reloads and tries again.
var ErrAllocationConflict = Errorf(CodeConflict, "allocation_conflict")

// Errors of centers, groups and appointments.
var (
	ErrCenterNotFound = Errorf(CodeNotFound, "center_not_found")
	ErrGroupNotFound  = Errorf(CodeNotFound, "group_not_found")
	ErrUnauthorized   = Errorf(CodeUnauthorized, "unauthorized")
	ErrForbidden      = Errorf(CodeForbidden, "forbidden")
)
