package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.ChangeStamper = (*DB)(nil)

// ChangeStamp is what status answers depend on besides the registration
// rows themselves: the allocation version (moved by every booking, release,
// feed booking and center change), the last appointment event (doses,
// no-shows, cancellations) and the last opening or closing of a group. Each
// part is one index or primary-key lookup.
func (db *DB) ChangeStamp(ctx context.Context) (string, []turnero.GroupState, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return "", nil, fmt.Errorf("change stamp: %w", err)
	}
	defer tx.Rollback()
	var version, event, changed int64
	err = tx.QueryRowContext(ctx, `SELECT (SELECT version FROM allocation_state WHERE id = 1),
		(SELECT COALESCE(MAX(id), 0) FROM appointment_events),
		(SELECT COALESCE(MAX(changed_at), 0) FROM allocation_groups)`).Scan(&version, &event, &changed)
	if err != nil {
		return "", nil, fmt.Errorf("change stamp: %w", err)
	}
	groups, err := groupStates(ctx, tx)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("%d/%d/%d", version, event, changed), groups, nil
}
