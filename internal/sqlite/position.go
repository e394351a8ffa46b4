package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/turnero/turnero/internal/turnero"
)

// waitingPosition is the number of people of the group ahead of ordinal in
// line, the person included, by turnero.PositionInGroup: everyone past the
// group's cursor is still waiting, behind everyone the allocator passed but
// could not place yet. Withdrawn registrations past the cursor still count
// until the allocator passes them, so the position may be a little high,
// never low.
func (db *DB) waitingPosition(ctx context.Context, group string, ordinal int64) (int64, error) {
	g := turnero.GroupState{Group: group}
	err := db.read.QueryRowContext(ctx, `SELECT cursor, pending FROM allocation_groups WHERE grp = ?`, group).Scan(&g.Cursor, &g.Pending)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("waiting position: %w", err)
	}
	pos, err := turnero.PositionInGroup(ordinal, g, func() (int64, error) { return db.gapsAhead(ctx, group, g.Cursor, ordinal) },
		func() (int64, error) { return db.pendingAhead(ctx, group, ordinal) })
	if err != nil {
		return 0, fmt.Errorf("waiting position: %w", err)
	}
	return pos, nil
}

// pendingAhead counts the group's pending registrations at or before ordinal.
func (db *DB) pendingAhead(ctx context.Context, group string, ordinal int64) (int64, error) {
	var ahead int64
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM allocation_pending WHERE grp = ? AND group_ordinal <= ?`,
		group, ordinal).Scan(&ahead)
	return ahead, err
}

// gapsAhead counts the places between the cursor and ordinal that nobody
// waits at any more.
func (db *DB) gapsAhead(ctx context.Context, group string, cursor, ordinal int64) (int64, error) {
	var n int64
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM line_gaps WHERE grp = ? AND group_ordinal > ? AND group_ordinal < ?`,
		group, cursor, ordinal).Scan(&n)
	return n, err
}
