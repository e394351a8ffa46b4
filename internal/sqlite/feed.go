package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.FeedStore = (*DB)(nil)

// FeedWaiting reads the feed (turnero.ReadFeed) in one read transaction,
// group by group: those re-queued through the partial index of a group's
// feed positions, the others through the group's ordinals, in windows; each
// row waiting, and without a booking (a primary-key probe of bookings).
// Readers only.
func (db *DB) FeedWaiting(ctx context.Context, groups []string, after turnero.FeedCursor, limit int) (turnero.FeedPage, error) {
	if len(groups) == 0 || limit < 1 {
		return turnero.ReadFeed(ctx, nil, groups, after, limit)
	}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return turnero.FeedPage{}, fmt.Errorf("feed: %w", err)
	}
	defer tx.Rollback()
	page, err := turnero.ReadFeed(ctx, feedSnapshot{tx}, groups, after, limit)
	if err != nil {
		return turnero.FeedPage{}, fmt.Errorf("feed: %w", err)
	}
	return page, nil
}

// feedSnapshot is turnero.FeedSnapshot over one read transaction.
type feedSnapshot struct{ tx *sql.Tx }

const feedUnbooked = ` AND r.status = 'waiting'
	AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.grp = r.grp AND b.group_ordinal = r.group_ordinal)`

// The window of ordinals one query of FeedFresh reads at most: it grows from
// a few pages to this, so that a group whose people are booked for a long
// stretch is read in a few bounded steps, once (the cursor moves past them).
const maxFeedWindow = 1 << 16

func (s feedSnapshot) FeedRequeued(ctx context.Context, group string, after, ordinal int64, limit int) ([]turnero.FeedEntry, error) {
	es, err := feedRows(ctx, s.tx, `SELECT `+registrationColumnsR+`, r.feed_position
		FROM registrations r INDEXED BY registrations_group_feed_position
		WHERE r.grp = ? AND r.feed_position > ? AND r.group_ordinal <= ?`+feedUnbooked+`
		ORDER BY r.feed_position LIMIT ?`, group, after, ordinal, limit)
	if err != nil {
		return nil, fmt.Errorf("re-queued of %s after %d: %w", group, after, err)
	}
	return es, nil
}

func (s feedSnapshot) FeedFresh(ctx context.Context, group string, after int64, limit int) ([]turnero.FeedEntry, int64, error) {
	last, err := s.LastOrdinal(ctx, group)
	if err != nil {
		return nil, 0, err
	}
	var out []turnero.FeedEntry
	step := int64(max(4*limit, 256))
	for lo := after; lo < last; step = min(2*step, maxFeedWindow) {
		hi := min(lo+step, last)
		want := limit - len(out)
		es, err := feedRows(ctx, s.tx, `SELECT `+registrationColumnsR+`, r.feed_position FROM registrations r
			WHERE r.grp = ? AND r.group_ordinal > ? AND r.group_ordinal <= ?`+feedUnbooked+`
			ORDER BY r.group_ordinal LIMIT ?`, group, lo, hi, want)
		if err != nil {
			return nil, 0, fmt.Errorf("%s after %d: %w", group, lo, err)
		}
		out = append(out, es...)
		if len(es) == want {
			return out, es[len(es)-1].GroupOrdinal, nil
		}
		lo = hi
	}
	return out, max(after, last), nil
}

func (s feedSnapshot) LastFeedPosition(ctx context.Context, group string) (int64, error) {
	var pos int64
	err := s.tx.QueryRowContext(ctx, `SELECT feed_position FROM registrations INDEXED BY registrations_group_feed_position
		WHERE grp = ? AND feed_position IS NOT NULL ORDER BY feed_position DESC LIMIT 1`, group).Scan(&pos)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("last feed position of %s: %w", group, err)
	}
	return pos, nil
}

func (s feedSnapshot) LastOrdinal(ctx context.Context, group string) (int64, error) {
	var ord int64
	err := s.tx.QueryRowContext(ctx, `SELECT group_ordinal FROM registrations WHERE grp = ?
		ORDER BY group_ordinal DESC LIMIT 1`, group).Scan(&ord)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("last ordinal of %s: %w", group, err)
	}
	return ord, nil
}

func (s feedSnapshot) FirstNotRequeued(ctx context.Context, group string, ordinal int64) (int64, int64, bool, error) {
	var ord, seq int64
	err := s.tx.QueryRowContext(ctx, `SELECT group_ordinal, sequence FROM registrations
		WHERE grp = ? AND group_ordinal >= ? AND feed_position IS NULL ORDER BY group_ordinal LIMIT 1`, group, ordinal).Scan(&ord, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("%s at %d: %w", group, ordinal, err)
	}
	return ord, seq, true, nil
}

func feedRows(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]turnero.FeedEntry, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []turnero.FeedEntry
	for rows.Next() {
		var e turnero.FeedEntry
		r := &e.Registration
		var received int64
		var pos sql.NullInt64
		if err := rows.Scan(&r.Sequence, &r.DocumentHash, &r.IdentityHash, &r.Group, &r.GroupOrdinal,
			&r.Department, &r.Age, &r.Channel, &r.Status, &r.KeyID, &r.Sealed, &received, &pos); err != nil {
			return nil, err
		}
		r.ReceivedAt = time.UnixMilli(received).UTC()
		e.Requeued = pos.Int64
		out = append(out, e)
	}
	return out, rows.Err()
}
