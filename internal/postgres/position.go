package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// WaitingPosition is the number of people of the group ahead of ordinal in
// line, the person included, from the allocation cursors as in the SQLite
// engine: everyone past the group's cursor is still waiting (ordinal -
// cursor), behind everyone the allocator passed but could not place yet
// (pending). Someone who is pending themselves counts the pending up to
// them. Withdrawn registrations past the cursor still count until the
// allocator passes them, so the position may be a little high, never low.
func (db *DB) WaitingPosition(ctx context.Context, group string, ordinal int64) (int64, error) {
	var cursor, pending int64
	err := db.read.QueryRow(ctx, `SELECT cursor, pending FROM allocation_groups WHERE grp = $1`, group).Scan(&cursor, &pending)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("waiting position: %w", err)
	}
	if ordinal > cursor {
		return ordinal - cursor + pending, nil
	}
	var ahead int64
	if err := db.read.QueryRow(ctx, `SELECT COUNT(*) FROM allocation_pending WHERE grp = $1 AND group_ordinal <= $2`,
		group, ordinal).Scan(&ahead); err != nil {
		return 0, fmt.Errorf("waiting position: %w", err)
	}
	return ahead, nil
}
