package booking

import (
	"context"
	"errors"
	"fmt"

	"github.com/turnero/turnero/internal/turnero"
)

// AppointmentsOf lists a registration's appointments by dose; none for a
// registration not booked, or unknown.
func (r Rules) AppointmentsOf(ctx context.Context, seq int64) ([]turnero.Appointment, error) {
	var out []turnero.Appointment
	err := r.e.Read(ctx, fmt.Sprintf("appointments of %d", seq), func(rt ReadTx) error {
		reg, err := rt.Registration(ctx, seq)
		if errors.Is(err, turnero.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		row, ok, err := rt.Booking(ctx, reg)
		if err != nil {
			return fmt.Errorf("appointments of %d: %w", seq, err)
		}
		if ok {
			out = row.Appointments()
		}
		return nil
	})
	return out, err
}

// EachAppointment calls fn with every appointment, by registration and
// dose: for exports and for checking invariants in tests.
func (r Rules) EachAppointment(ctx context.Context, fn func(turnero.Appointment) error) error {
	var stop error // fn's own error, returned as is
	err := r.e.EachBooking(ctx, func(b turnero.BookingRow) error {
		for _, a := range b.Appointments() {
			if err := fn(a); err != nil {
				stop = err
				return err
			}
		}
		return nil
	})
	if stop != nil {
		return stop
	}
	if err != nil {
		return fmt.Errorf("appointments: %w", err)
	}
	return nil
}
