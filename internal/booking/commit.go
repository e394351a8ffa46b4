package booking

import (
	"context"
	"fmt"

	"github.com/turnero/turnero/internal/turnero"
)

// CommitAllocation writes one step of an allocation run in one transaction,
// or nothing: the version check, the bookings, second doses booked again,
// the slots' counts (the database refuses an overbooked slot), the pending
// list, the cursors and one notification per person booked. It returns
// turnero.ErrAllocationConflict when the version moved, a registration is
// already booked, or a slot would be overbooked.
func (r Rules) CommitAllocation(ctx context.Context, b turnero.AllocationBatch) error {
	return r.e.Write(ctx, "allocation", func(tx Tx) error { return r.commit(ctx, tx, b) })
}

func (r Rules) commit(ctx context.Context, tx Tx, b turnero.AllocationBatch) error {
	for i := range b.Bookings {
		if n := len(b.Bookings[i].Starts); n < 1 || n > 2 {
			return &turnero.Error{Code: turnero.CodeInvalid, Key: "invalid_request",
				Err: fmt.Errorf("registration %d: %d doses; one or two are booked", b.Bookings[i].Sequence, n)}
		}
	}
	adds, err := slotAdds(&b)
	if err != nil {
		return err
	}
	// First, and under the row's lock until commit: an allocator on another
	// node that computed against the same version waits here for this
	// transaction, then finds the version moved and is refused.
	ok, err := tx.MoveVersionFrom(ctx, b.Version)
	if err != nil {
		return r.refused("allocation version", err)
	}
	if !ok {
		return conflict("allocation version", fmt.Errorf("version %d is stale", b.Version))
	}
	if len(b.Bookings) > 0 {
		// The database refuses a second booking of the same person,
		// whoever makes it.
		if err := tx.InsertBookings(ctx, b.Bookings, b.At); err != nil {
			return r.refused("book registrations", err)
		}
	}
	if sds := b.SecondDoses; len(sds) > 0 {
		// Each booking must be waiting for its dose 2 with the vaccine the
		// allocator booked; else another writer changed it since the
		// snapshot, and the batch is refused.
		n, err := tx.BookSecondDoses(ctx, sds)
		if err != nil {
			return r.refused("book second doses", err)
		}
		if n != int64(len(sds)) {
			return conflict("book second doses", fmt.Errorf("%d of %d registrations are not waiting for a second dose",
				int64(len(sds))-n, len(sds)))
		}
	}
	if len(adds) > 0 {
		if err := tx.AddToSlots(ctx, adds); err != nil {
			return r.refused("book slots", err)
		}
	}
	delta := map[string]int64{}
	if len(b.NewPending) > 0 {
		if err := tx.InsertPending(ctx, b.NewPending); err != nil {
			return r.refused("pending", err)
		}
		for _, p := range b.NewPending {
			delta[p.Group]++
		}
	}
	if len(b.Resolved) > 0 {
		seqs := make([]int64, len(b.Resolved))
		for i, p := range b.Resolved {
			seqs[i] = p.Sequence
			delta[p.Group]--
		}
		n, err := tx.DeletePending(ctx, seqs)
		if err != nil {
			return r.refused("resolve pending", err)
		}
		if n != int64(len(seqs)) {
			return conflict("resolve pending", fmt.Errorf("%d of %d pending registrations are gone", int64(len(seqs))-n, len(seqs)))
		}
	}
	for g := range b.Cursors {
		if _, ok := delta[g]; !ok {
			delta[g] = 0
		}
	}
	for g, d := range delta {
		if err := tx.AdvanceGroup(ctx, g, b.Cursors[g], d); err != nil {
			return r.refused("group "+g+" cursor", err)
		}
		if c := b.Cursors[g]; c > 0 {
			if err := tx.PruneLineGaps(ctx, g, c); err != nil {
				return fmt.Errorf("group %s line: %w", g, err)
			}
		}
	}
	if sds := b.SecondDoses; len(sds) > 0 {
		seqs := make([]int64, len(sds))
		for i, sd := range sds {
			seqs[i] = sd.Sequence
		}
		n, err := tx.DeleteSecondDoses(ctx, seqs)
		if err != nil {
			return r.refused("book second doses", err)
		}
		if n != int64(len(sds)) {
			return conflict("book second doses", fmt.Errorf("%d of %d registrations left the queue of second doses",
				int64(len(sds))-n, len(sds)))
		}
	}
	if n := len(b.Bookings) + len(b.SecondDoses); n > 0 {
		msgs := make([]OutboxRow, 0, n)
		for i := range b.Bookings {
			msgs = append(msgs, OutboxRow{Registration: b.Bookings[i].Sequence, Kind: turnero.NotifyScheduled})
		}
		for _, sd := range b.SecondDoses {
			msgs = append(msgs, OutboxRow{Registration: sd.Sequence, Kind: turnero.NotifySecondDose})
		}
		if err := tx.InsertOutbox(ctx, msgs, b.At); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	return nil
}

// refused turns the database refusing a write into a conflict, and wraps
// anything else with what was being done.
func (r Rules) refused(what string, err error) error {
	if r.e.Conflict(err) {
		return conflict(what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func conflict(what string, err error) error {
	return &turnero.Error{Code: turnero.CodeConflict, Key: turnero.ErrAllocationConflict.Key, Err: fmt.Errorf("%s: %w", what, err)}
}
