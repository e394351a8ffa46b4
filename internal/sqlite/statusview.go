package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/turnero/turnero/internal/booking"
	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.StatusViewer = (*DB)(nil)

// statusViewQuery reads a registration with its booking, the booking's
// center (dose 1's), its group's state and the latest change to the booking
// (as a whole, or dose 2 alone released for booking again) in one
// statement. Each query on the reader pool takes and releases SQLite's file
// locks (fcntl system calls, costly on virtual machines), so the status
// lookup that used to run five queries now runs one.
const statusViewQuery = `SELECT ` + registrationColumnsR + `,
	` + bookingColumns + `,
	c.id, c.department, c.definition,
	g.open, g.changed_at, g.cursor, g.pending,
	e.kind, e.place, e.at,
	(SELECT COUNT(*) FROM line_gaps lg WHERE lg.grp = r.grp AND lg.group_ordinal > COALESCE(g.cursor, 0)),
	(SELECT COUNT(*) FROM line_gaps lg WHERE lg.grp = r.grp AND lg.group_ordinal > COALESCE(g.cursor, 0)
		AND lg.group_ordinal < r.group_ordinal)
FROM registrations r
LEFT JOIN bookings b ON b.grp = r.grp AND b.group_ordinal = r.group_ordinal AND b.sequence = r.sequence
LEFT JOIN centers c ON c.id = b.center
LEFT JOIN allocation_groups g ON g.grp = r.grp
LEFT JOIN appointment_events e ON e.id = (SELECT id FROM appointment_events
	WHERE registration = r.sequence AND (dose = 0 OR place <> '') ORDER BY id DESC LIMIT 1)
WHERE r.sequence = ?`

const registrationColumnsR = `r.sequence, r.document_hash, r.identity_hash, r.grp, r.group_ordinal,
	r.department, r.age, r.channel, r.status, r.key_id, r.personal_data, r.received_at`

// StatusView reads everything a status answer shows, from one snapshot.
func (db *DB) StatusView(ctx context.Context, sequence int64) (turnero.StatusView, error) {
	var v turnero.StatusView
	r := &v.Registration
	var received int64
	var bSeq, d1, d2 sql.NullInt64
	var bCenter, bVaccine, bSource, s1, l1, s2, l2, c2 sql.NullString
	var cID, cDept, cDef sql.NullString
	var gOpen sql.NullBool
	var gChanged, gCursor, gPending sql.NullInt64
	var eKind, ePlace sql.NullString
	var eAt sql.NullInt64
	var gapsAhead int64
	err := db.read.QueryRowContext(ctx, statusViewQuery, sequence).Scan(
		&r.Sequence, &r.DocumentHash, &r.IdentityHash, &r.Group, &r.GroupOrdinal,
		&r.Department, &r.Age, &r.Channel, &r.Status, &r.KeyID, &r.Sealed, &received,
		&bSeq, &bCenter, &bVaccine, &bSource, &d1, &s1, &l1, &d2, &s2, &l2, &c2,
		&cID, &cDept, &cDef,
		&gOpen, &gChanged, &gCursor, &gPending,
		&eKind, &ePlace, &eAt, &v.Group.Left, &gapsAhead)
	if errors.Is(err, sql.ErrNoRows) {
		return v, turnero.ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("status of %d: %w", sequence, err)
	}
	r.ReceivedAt = time.UnixMilli(received).UTC()
	if bSeq.Valid {
		b := turnero.BookingRow{Sequence: bSeq.Int64, Center: bCenter.String, Vaccine: bVaccine.String, Source: bSource.String,
			Dose1Start: time.Unix(d1.Int64, 0), Dose1State: s1.String, Dose1Lot: l1.String,
			Dose2State: s2.String, Dose2Lot: l2.String, Dose2Center: c2.String}
		if d2.Valid {
			b.Dose2Start = time.Unix(d2.Int64, 0)
		}
		v.Appointments = b.Appointments()
	}
	if cID.Valid {
		if v.Center, err = booking.DecodeCenter(cID.String, cDept.String, cDef.String); err != nil {
			return v, fmt.Errorf("status of %d: %w", sequence, err)
		}
	}
	v.Group.Group = r.Group
	if gOpen.Valid {
		v.Group.Open, v.Group.Cursor, v.Group.Pending = gOpen.Bool, gCursor.Int64, gPending.Int64
		v.Group.ChangedAt = time.UnixMilli(gChanged.Int64).UTC()
	}
	if eKind.Valid {
		v.LastChange = &turnero.AppointmentEvent{Registration: sequence, Kind: eKind.String, Place: ePlace.String,
			At: time.UnixMilli(eAt.Int64).UTC()}
	}
	if len(v.Appointments) == 0 && r.Status == turnero.StatusWaiting {
		v.Position, err = turnero.PositionInGroup(r.GroupOrdinal, v.Group, turnero.Known(gapsAhead), func() (int64, error) {
			return db.pendingAhead(ctx, r.Group, r.GroupOrdinal)
		})
		if err != nil {
			return v, fmt.Errorf("status of %d: position: %w", sequence, err)
		}
	}
	return v, nil
}
