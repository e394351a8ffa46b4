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

// BookExternal books one registration as the allocator would, through the
// same commit (booking row, slot counts under their CHECK, outbox), against
// the version read in the same transaction: it always moves the version, so
// an allocator that computed against the old counts is refused.
func (db *DB) BookExternal(ctx context.Context, b turnero.Booking, slots []turnero.SlotBooking, at time.Time) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin external booking: %w", err)
	}
	defer tx.Rollback()
	rec, err := readBookingRecord(ctx, tx, b.Sequence)
	if err != nil {
		return err
	}
	r := rec.Registration
	switch {
	case r.Status == turnero.StatusCancelled:
		return turnero.ErrAlreadyCancelled
	case len(rec.Appointments) > 0:
		return turnero.ErrAlreadyScheduled
	}
	for _, s := range slots {
		var booked int
		err := tx.QueryRowContext(ctx, `SELECT booked FROM slots WHERE start = ? AND center = ?`, s.Start.Unix(), s.Center).Scan(&booked)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("external booking: %w", err)
		}
		if booked+s.Booked > s.Capacity {
			return turnero.ErrSlotFull
		}
	}
	var version int64
	if err := tx.QueryRowContext(ctx, `SELECT version FROM allocation_state WHERE id = 1`).Scan(&version); err != nil {
		return fmt.Errorf("external booking: %w", err)
	}
	b.Candidate = turnero.Candidate{Sequence: r.Sequence, Ordinal: r.GroupOrdinal, Group: r.Group, Department: r.Department, Age: r.Age}
	if err := commitAllocation(ctx, tx, turnero.AllocationBatch{Version: version, At: at, Bookings: []turnero.Booking{b}, Slots: slots}); err != nil {
		return fmt.Errorf("external booking of %d: %w", r.Sequence, err)
	}
	if rec.Pending {
		if err := unpend(ctx, tx, r); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit external booking of %d: %w", r.Sequence, err)
	}
	return nil
}

// WaitingAfter is the allocator's page of a group's waiting list, without
// the people an external system booked through the feed: they may be past
// the group's cursor, where the allocator's own bookings never are, so one
// range read of bookings past the cursor finds them all.
func (db *DB) WaitingAfter(ctx context.Context, group string, after int64, limit int) ([]turnero.Candidate, error) {
	var out []turnero.Candidate
	for {
		want := limit - len(out)
		page, err := db.waitingPage(ctx, group, after, want)
		if err != nil || len(page) == 0 {
			return out, err
		}
		last := page[len(page)-1].Ordinal
		rows, err := db.bulk().QueryContext(ctx, `SELECT group_ordinal FROM bookings WHERE grp = ? AND group_ordinal > ? AND group_ordinal <= ?`,
			group, after, last)
		if err != nil {
			return nil, fmt.Errorf("booked past %d in %s: %w", after, group, err)
		}
		booked := map[int64]bool{}
		for rows.Next() {
			var o int64
			if err := rows.Scan(&o); err != nil {
				rows.Close()
				return nil, fmt.Errorf("booked past %d in %s: %w", after, group, err)
			}
			booked[o] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("booked past %d in %s: %w", after, group, err)
		}
		if len(booked) == 0 && out == nil {
			return page, nil
		}
		for _, c := range page {
			if !booked[c.Ordinal] {
				out = append(out, c)
			}
		}
		if len(page) < want || len(out) >= limit {
			return out, nil
		}
		after = last
	}
}
