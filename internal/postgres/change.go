package postgres

import (
	"context"
	"fmt"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.AppointmentStore = (*DB)(nil)

// EventsOf lists a registration's appointment events, oldest first.
func (db *DB) EventsOf(ctx context.Context, seq int64) ([]turnero.AppointmentEvent, error) {
	rows, err := db.read.Query(ctx, `SELECT dose, center, vaccine, kind, place, lot, at FROM appointment_events
		WHERE registration = $1 ORDER BY id`, seq)
	if err != nil {
		return nil, fmt.Errorf("events of %d: %w", seq, err)
	}
	defer rows.Close()
	var out []turnero.AppointmentEvent
	for rows.Next() {
		e := turnero.AppointmentEvent{Registration: seq}
		var dose int32
		if err := rows.Scan(&dose, &e.Center, &e.Vaccine, &e.Kind, &e.Place, &e.Lot, &e.At); err != nil {
			return nil, fmt.Errorf("events of %d: %w", seq, err)
		}
		e.Dose, e.At = int(dose), e.At.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events of %d: %w", seq, err)
	}
	return out, nil
}
