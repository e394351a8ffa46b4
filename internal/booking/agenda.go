package booking

import (
	"context"
	"fmt"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// DayAgenda lists a center's appointments starting in [from, to), by time,
// from its slots' lists and each person's booking, in one snapshot.
func (r Rules) DayAgenda(ctx context.Context, center string, from, to time.Time) ([]turnero.AgendaEntry, error) {
	var out []turnero.AgendaEntry
	err := r.e.Read(ctx, "agenda of "+center, func(rt ReadTx) error {
		entries, err := rt.SlotEntries(ctx, center, from, to)
		if err != nil {
			return fmt.Errorf("agenda of %s: %w", center, err)
		}
		out = make([]turnero.AgendaEntry, 0, len(entries))
		for _, e := range entries {
			reg, err := rt.Registration(ctx, e.Sequence)
			if err != nil {
				return fmt.Errorf("agenda of %s: registration %d: %w", center, e.Sequence, err)
			}
			rec, err := readRecord(ctx, rt, reg)
			if err != nil {
				return fmt.Errorf("agenda of %s: %w", center, err)
			}
			if e.Dose > len(rec.Appointments) {
				return fmt.Errorf("agenda of %s: registration %d has no dose %d", center, e.Sequence, e.Dose)
			}
			out = append(out, turnero.AgendaEntry{Appointment: rec.Appointments[e.Dose-1], Registration: reg})
		}
		return nil
	})
	return out, err
}
