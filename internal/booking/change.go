package booking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// ChangeBooking reads a registration's booking (locking the registration),
// asks decide what to do, applies the change with its events and
// notification, and returns the record as it is after the change, all in
// one write transaction: two changes of one booking (a double click, two
// staff members, two nodes) are decided one after the other on what the
// first left. An error from decide is returned as is and nothing changes.
func (r Rules) ChangeBooking(ctx context.Context, seq int64, at time.Time,
	decide func(turnero.BookingRecord) (turnero.BookingChange, error)) (turnero.BookingRecord, error) {
	var rec, after turnero.BookingRecord
	err := r.e.Write(ctx, fmt.Sprintf("booking change of %d", seq), func(tx Tx) error {
		reg, err := tx.LockRegistration(ctx, seq)
		if err != nil {
			return err
		}
		if rec, err = readRecord(ctx, tx, reg); err != nil {
			return err
		}
		if rec.FirstDoseGiven, err = firstDoseGiven(ctx, tx, rec); err != nil {
			return err
		}
		if rec.LastEvent, err = lastEvent(ctx, tx, rec); err != nil {
			return err
		}
		ch, err := decide(rec)
		if err != nil {
			return err
		}
		if err := r.apply(ctx, tx, rec, ch, at); err != nil {
			return r.refused(fmt.Sprintf("change booking of %d", seq), err)
		}
		if reg, err = tx.Registration(ctx, seq); err != nil {
			return fmt.Errorf("registration %d: %w", seq, err)
		}
		after, err = readRecord(ctx, tx, reg)
		return err
	})
	if err != nil {
		return rec, err
	}
	return after, nil
}

// readRecord reads what a decision is made on: the registration's booking
// and whether it is pending.
func readRecord(ctx context.Context, rt ReadTx, reg turnero.Registration) (turnero.BookingRecord, error) {
	rec := turnero.BookingRecord{Registration: reg}
	row, ok, err := rt.Booking(ctx, reg)
	if err != nil {
		return rec, fmt.Errorf("booking of %d: %w", reg.Sequence, err)
	}
	if ok {
		rec.Appointments = row.Appointments()
	}
	if rec.Pending, err = rt.IsPending(ctx, reg.Sequence); err != nil {
		return rec, fmt.Errorf("pending of %d: %w", reg.Sequence, err)
	}
	return rec, nil
}

// firstDoseGiven reads when dose 1 was recorded as given, for a booking
// whose dose 2 is still to be given: what a second dose booked again counts
// its interval from (staff may record a dose on a later day than its
// appointment's).
func firstDoseGiven(ctx context.Context, rt ReadTx, rec turnero.BookingRecord) (time.Time, error) {
	as := rec.Appointments
	if len(as) == 0 || as[0].State != turnero.AppointmentGiven || (len(as) > 1 && as[1].State == turnero.AppointmentGiven) {
		return time.Time{}, nil
	}
	t, err := rt.FirstDoseGiven(ctx, rec.Registration.Sequence)
	if err != nil {
		return time.Time{}, fmt.Errorf("dose 1 of %d: %w", rec.Registration.Sequence, err)
	}
	return t, nil
}

// lastEvent reads the registration's latest appointment event for a booking
// that lacks a dose (none booked, or dose 2 waiting to be booked again):
// whether a no-show released it tells a no-show recorded twice from a dose
// never booked.
func lastEvent(ctx context.Context, rt ReadTx, rec turnero.BookingRecord) (*turnero.AppointmentEvent, error) {
	if len(rec.Appointments) >= 2 {
		return nil, nil
	}
	e, ok, err := rt.LastEvent(ctx, rec.Registration.Sequence)
	if err != nil {
		return nil, fmt.Errorf("last event of %d: %w", rec.Registration.Sequence, err)
	}
	if !ok {
		return nil, nil
	}
	return &e, nil
}

// apply writes a decided change, in the lock order of the package.
func (r Rules) apply(ctx context.Context, tx Tx, rec turnero.BookingRecord, ch turnero.BookingChange, at time.Time) error {
	reg := rec.Registration
	as := rec.Appointments
	for _, d := range ch.Doses {
		if d.Dose < 1 || d.Dose > len(as) || d.Dose > 2 {
			return fmt.Errorf("dose %d of a booking of %d", d.Dose, len(as))
		}
	}
	if ch.SecondDose != nil && (len(as) != 2 || as[0].State != turnero.AppointmentGiven) {
		return fmt.Errorf("second dose released from a booking of %d doses, dose 1 not given", len(as))
	}
	if ch.Release != "" && len(as) == 0 {
		return errors.New("release without a booking")
	}
	event := func(dose int, a turnero.Appointment, kind, place, lot string) error {
		return tx.InsertEvent(ctx, turnero.AppointmentEvent{Registration: reg.Sequence, Dose: dose, Center: a.Center,
			Vaccine: a.Vaccine, Kind: kind, Place: place, Lot: lot, At: at})
	}
	if ch.Release != "" || ch.SecondDose != nil {
		// Freed slots: an allocator that computed with their old counts is
		// refused and starts again.
		if err := tx.MoveVersion(ctx); err != nil {
			return fmt.Errorf("allocation version: %w", err)
		}
	}
	for _, d := range ch.Doses {
		if err := tx.SetDoseState(ctx, reg, d.Dose, d.State, d.Lot); err != nil {
			return fmt.Errorf("dose %d: %w", d.Dose, err)
		}
		if err := event(d.Dose, as[d.Dose-1], d.State, "", d.Lot); err != nil {
			return err
		}
	}
	if sd := ch.SecondDose; sd != nil {
		// Dose 2 alone (dose 1 was given): its slot is freed and the
		// person joins the queue of second doses, served before any first
		// dose.
		d1, d2 := as[0], as[1]
		if err := freeSlot(ctx, tx, reg.Sequence, d2); err != nil {
			return err
		}
		if err := tx.ClearSecondDose(ctx, reg); err != nil {
			return fmt.Errorf("release second dose: %w", err)
		}
		if err := tx.QueueSecondDose(ctx, turnero.SecondDose{Sequence: reg.Sequence, Group: reg.Group, Ordinal: reg.GroupOrdinal,
			Department: reg.Department, Vaccine: d1.Vaccine, Center: d1.Center, Earliest: sd.Earliest, Reason: sd.Kind,
			Since: at}); err != nil {
			return fmt.Errorf("queue second dose: %w", err)
		}
		if err := event(2, d2, sd.Kind, turnero.PlaceSecondDose, ""); err != nil {
			return err
		}
	}
	if ch.Release != "" {
		for _, a := range as {
			if err := freeSlot(ctx, tx, reg.Sequence, a); err != nil {
				return err
			}
		}
		if err := tx.DeleteBooking(ctx, reg); err != nil {
			return fmt.Errorf("delete booking: %w", err)
		}
		if err := event(0, as[0], ch.Release, ch.Place, ""); err != nil {
			return err
		}
		if err := requeue(ctx, tx, reg, ch.Place, at); err != nil {
			return err
		}
	} else if ch.Status == turnero.StatusCancelled && rec.Pending {
		// A pending person leaves the list: the group's count goes down.
		if err := unpend(ctx, tx, reg); err != nil {
			return err
		}
	} else if ch.Status == turnero.StatusCancelled && len(as) == 0 {
		// A waiting person leaves the line: those behind move up.
		if err := leaveLine(ctx, tx, reg); err != nil {
			return err
		}
	}
	if ch.Status != "" && ch.Status != reg.Status {
		if err := tx.SetStatus(ctx, reg.Sequence, ch.Status); err != nil {
			return fmt.Errorf("status: %w", err)
		}
		if len(as) == 0 && ch.Status == turnero.StatusCancelled {
			if err := event(0, turnero.Appointment{}, turnero.EventCancel, "", ""); err != nil {
				return err
			}
		}
	}
	if ch.Notify != "" {
		if err := tx.InsertOutbox(ctx, []OutboxRow{{Registration: reg.Sequence, Kind: ch.Notify}}, at); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	return nil
}

// freeSlot takes one dose out of its slot's count and list.
func freeSlot(ctx context.Context, tx Tx, seq int64, a turnero.Appointment) error {
	ok, err := tx.FreeSlot(ctx, a.Center, a.Start, SlotEntry{Sequence: seq, Dose: a.Dose})
	if err != nil {
		return fmt.Errorf("free slot: %w", err)
	}
	if !ok {
		return fmt.Errorf("free slot of %s at %s: the slot does not list dose %d", a.Center, a.Start.Format(time.RFC3339), a.Dose)
	}
	return nil
}

// requeue puts a released person back in line. Keep place: at their ordinal;
// if the allocator has passed it, in the pending list it tries first on every
// run. Back of the line: a new last ordinal of their group, as if they had
// registered now; their sequence (and tracking code) never change. Either
// way the pull feed offers them again, at a new feed position, given last
// (see the lock order).
func requeue(ctx context.Context, tx Tx, reg turnero.Registration, place string, at time.Time) error {
	switch place {
	case "":
		return nil // they left the list
	case turnero.KeepPlace:
		cursor, err := tx.GroupCursor(ctx, reg.Group)
		if err != nil {
			return fmt.Errorf("group cursor: %w", err)
		}
		if reg.GroupOrdinal <= cursor {
			if err := tx.InsertPending(ctx, []turnero.Pending{{Candidate: turnero.Candidate{Sequence: reg.Sequence,
				Ordinal: reg.GroupOrdinal, Group: reg.Group, Department: reg.Department, Age: reg.Age},
				Reason: turnero.ReasonRequeued, Since: at}}); err != nil {
				return fmt.Errorf("requeue: %w", err)
			}
			if err := tx.AdvanceGroup(ctx, reg.Group, 0, 1); err != nil {
				return fmt.Errorf("requeue: %w", err)
			}
		} else if err := tx.RemoveLineGap(ctx, reg.Group, reg.GroupOrdinal); err != nil {
			// The allocator reaches them in order, at their place, which a
			// booking through the feed had left empty.
			return fmt.Errorf("requeue: %w", err)
		}
	case turnero.BackOfLine:
		if err := tx.MoveToBackOfLine(ctx, reg); err != nil {
			return fmt.Errorf("back of the line: %w", err)
		}
	default:
		return fmt.Errorf("unknown place-in-line rule %q", place)
	}
	if err := tx.GiveFeedPosition(ctx, reg.Sequence); err != nil {
		return fmt.Errorf("feed position: %w", err)
	}
	return nil
}

// leaveLine records that a person past their group's cursor no longer
// waits at their place (they cancelled, or were booked through the feed),
// so that those behind them see their position move at once. A person at
// or before the cursor was booked or is pending: the allocator passed
// their place already.
func leaveLine(ctx context.Context, tx Tx, reg turnero.Registration) error {
	cursor, err := tx.GroupCursor(ctx, reg.Group)
	if err != nil {
		return fmt.Errorf("group cursor: %w", err)
	}
	if reg.GroupOrdinal <= cursor {
		return nil
	}
	// The group's row holds its counts, whether or not it was ever opened.
	if err := tx.AdvanceGroup(ctx, reg.Group, 0, 0); err != nil {
		return fmt.Errorf("leave the line: %w", err)
	}
	if err := tx.AddLineGap(ctx, reg.Group, reg.GroupOrdinal); err != nil {
		return fmt.Errorf("leave the line: %w", err)
	}
	return nil
}

// unpend takes a registration out of the pending list, and its group's
// count down when it was there.
func unpend(ctx context.Context, tx Tx, reg turnero.Registration) error {
	n, err := tx.DeletePending(ctx, []int64{reg.Sequence})
	if err != nil {
		return fmt.Errorf("leave pending: %w", err)
	}
	if n == 1 {
		if err := tx.AdvanceGroup(ctx, reg.Group, 0, -1); err != nil {
			return fmt.Errorf("leave pending: %w", err)
		}
	}
	return nil
}
