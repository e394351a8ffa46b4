package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.AppointmentStore = (*DB)(nil)

// EventsOf lists a registration's appointment events, oldest first.
func (db *DB) EventsOf(ctx context.Context, seq int64) ([]turnero.AppointmentEvent, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT dose, center, vaccine, kind, place, lot, at FROM appointment_events
		WHERE registration = ? ORDER BY id`, seq)
	if err != nil {
		return nil, fmt.Errorf("events of %d: %w", seq, err)
	}
	defer rows.Close()
	var out []turnero.AppointmentEvent
	for rows.Next() {
		e := turnero.AppointmentEvent{Registration: seq}
		var at int64
		if err := rows.Scan(&e.Dose, &e.Center, &e.Vaccine, &e.Kind, &e.Place, &e.Lot, &at); err != nil {
			return nil, fmt.Errorf("events of %d: %w", seq, err)
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
