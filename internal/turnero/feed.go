package turnero

import (
	"context"
	"time"
)

// FeedStore serves an external scheduling system: the waiting list to pull,
// and the appointments it made to post back.
type FeedStore interface {
	// FeedWaiting returns up to limit registrations of the groups, still
	// waiting and not booked, with a sequence above after, in sequence
	// order. It reads on the readers only: a slow consumer never holds the
	// writer that intake needs.
	FeedWaiting(ctx context.Context, groups []string, after int64, limit int) ([]Registration, error)
	// BookExternal stores the appointments an external system made for one
	// registration, with their slots (Capacity by the agenda), a
	// notification, and the allocation version moved, in one transaction.
	// The booking's Candidate is filled from the stored registration.
	BookExternal(ctx context.Context, b Booking, slots []SlotBooking, at time.Time) error
}

// Errors of the feed.
var (
	ErrAlreadyScheduled = Errorf(CodeConflict, "already_scheduled")
	ErrSlotFull         = Errorf(CodeConflict, "slot_full")
	ErrGroupClosed      = Errorf(CodeConflict, "group_closed")
)
