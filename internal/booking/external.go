package booking

import (
	"context"
	"fmt"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// BookExternal books one registration as the allocator would, through the
// same commit (booking, slot counts under the database's check, outbox):
// holding the registration's row and then the allocation version's row, it
// checks the slots have room and commits against that version, so it always
// moves it, and an allocator that computed against the old counts is
// refused. The booking's candidate is filled from the stored registration.
func (r Rules) BookExternal(ctx context.Context, b turnero.Booking, slots []turnero.SlotBooking, at time.Time) error {
	return r.e.Write(ctx, fmt.Sprintf("external booking of %d", b.Sequence), func(tx Tx) error {
		reg, err := tx.LockRegistration(ctx, b.Sequence)
		if err != nil {
			return err
		}
		rec, err := readRecord(ctx, tx, reg)
		if err != nil {
			return err
		}
		switch {
		case reg.Status == turnero.StatusCancelled:
			return turnero.ErrAlreadyCancelled
		case len(rec.Appointments) > 0:
			return turnero.ErrAlreadyScheduled
		}
		version, err := tx.LockVersion(ctx)
		if err != nil {
			return fmt.Errorf("external booking: %w", err)
		}
		for _, s := range slots {
			booked, err := tx.SlotBooked(ctx, s.Center, s.Start)
			if err != nil {
				return fmt.Errorf("external booking: %w", err)
			}
			if booked+s.Booked > s.Capacity {
				return turnero.ErrSlotFull
			}
		}
		b.Candidate = turnero.Candidate{Sequence: reg.Sequence, Ordinal: reg.GroupOrdinal, Group: reg.Group,
			Department: reg.Department, Age: reg.Age}
		batch := turnero.AllocationBatch{Version: version, At: at, Bookings: []turnero.Booking{b}, Slots: slots}
		if err := r.commit(ctx, tx, batch); err != nil {
			return fmt.Errorf("external booking of %d: %w", reg.Sequence, err)
		}
		if rec.Pending {
			return unpend(ctx, tx, reg)
		}
		return leaveLine(ctx, tx, reg)
	})
}
