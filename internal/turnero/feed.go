package turnero

import (
	"context"
	"time"
)

// The feed offers each waiting registration in order of submission
// (sequence), and offers it again each time it becomes waiting after it was
// booked (another date, a missed first dose). Becoming waiting again gives
// it a feed position, from a counter of its own that only grows, in the
// order those changes commit. A consumer's cursor is how far it has read of
// each: a re-queued registration it has passed by sequence is offered again
// at its feed position; one it has not reached yet is offered once, at its
// sequence.

// FeedCursor is how far a consumer of the feed has read: by sequence, and by
// feed position among those re-queued.
type FeedCursor struct {
	Sequence int64
	Requeued int64
}

// Next is the cursor after e: each part is the largest seen. An entry read
// at its sequence carries its feed position too, if it has one, so that it
// is not offered again for the same re-queue.
func (c FeedCursor) Next(e FeedEntry) FeedCursor {
	c.Sequence = max(c.Sequence, e.Sequence)
	c.Requeued = max(c.Requeued, e.Requeued)
	return c
}

// FeedEntry is a registration the feed offers, with its feed position (0
// when it was never re-queued).
type FeedEntry struct {
	Registration
	Requeued int64
}

// FeedStore serves an external scheduling system: the waiting list to pull,
// and the appointments it made to post back.
type FeedStore interface {
	// FeedWaiting returns up to limit registrations of the groups, still
	// waiting and not booked, after the cursor, from one snapshot: first
	// those re-queued at a feed position above after.Requeued whose
	// sequence is at or below after.Sequence, by feed position; then, if
	// the limit allows, those with a sequence above after.Sequence, by
	// sequence. It reads on the readers only: a slow consumer never holds
	// the writer that intake needs.
	FeedWaiting(ctx context.Context, groups []string, after FeedCursor, limit int) ([]FeedEntry, error)
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
