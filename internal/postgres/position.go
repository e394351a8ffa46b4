package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/turnero"
)

// WaitingPosition is the number of people of the group ahead of ordinal in
// line, the person included, from the allocation cursors as in the SQLite
// engine (turnero.PositionInGroup). Withdrawn registrations past the cursor
// still count until the allocator passes them, so the position may be a
// little high, never low.
func (db *DB) WaitingPosition(ctx context.Context, group string, ordinal int64) (int64, error) {
	g := turnero.GroupState{Group: group}
	err := db.read.QueryRow(ctx, `SELECT cursor, pending FROM allocation_groups WHERE grp = $1`, group).Scan(&g.Cursor, &g.Pending)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
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
	err := db.read.QueryRow(ctx, `SELECT COUNT(*) FROM allocation_pending WHERE grp = $1 AND group_ordinal <= $2`,
		group, ordinal).Scan(&ahead)
	return ahead, err
}

// gapsAhead counts the places between the cursor and ordinal that nobody
// waits at any more.
func (db *DB) gapsAhead(ctx context.Context, group string, cursor, ordinal int64) (int64, error) {
	var n int64
	err := db.read.QueryRow(ctx, `SELECT COUNT(*) FROM line_gaps WHERE grp = $1 AND group_ordinal > $2 AND group_ordinal < $3`,
		group, cursor, ordinal).Scan(&n)
	return n, err
}
