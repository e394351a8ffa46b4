package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.ChangeStamper = (*DB)(nil)

// changeStampQuery reads the allocation version, the change counter (see
// migration 00005) and every group's state in one statement, so from one
// snapshot: two primary-key reads and the few rows of allocation_groups.
// The stamp parts come with each group row, or alone when there is none.
const changeStampQuery = `SELECT s.version, c.n, g.grp, g.open, g.changed_at, g.cursor, g.pending,
	(SELECT COUNT(*) FROM line_gaps l WHERE l.grp = g.grp AND l.group_ordinal > g.cursor)
FROM allocation_state s
CROSS JOIN change_stamp c
LEFT JOIN allocation_groups g ON true
WHERE s.id = 1 AND c.id = 1
ORDER BY g.grp`

// ChangeStamp is what status answers depend on besides the registration
// rows themselves, with every group's state. Each node's status cache polls
// it several times a second.
func (db *DB) ChangeStamp(ctx context.Context) (string, []turnero.GroupState, error) {
	rows, err := db.read.Query(ctx, changeStampQuery)
	if err != nil {
		return "", nil, fmt.Errorf("change stamp: %w", err)
	}
	defer rows.Close()
	var version, counter int64
	var groups []turnero.GroupState
	var grp *string
	var open *bool
	var changed *time.Time
	var cursor, pending *int64
	var left int64
	n := 0
	_, err = pgx.ForEachRow(rows, []any{&version, &counter, &grp, &open, &changed, &cursor, &pending, &left}, func() error {
		n++
		if grp != nil {
			groups = append(groups, turnero.GroupState{Group: *grp, Open: *open, ChangedAt: changed.UTC(),
				Cursor: *cursor, Pending: *pending, Left: left})
		}
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("change stamp: %w", err)
	}
	if n == 0 {
		return "", nil, errors.New("change stamp: the allocation_state or change_stamp row is missing")
	}
	return fmt.Sprintf("%d/%d", version, counter), groups, nil
}
