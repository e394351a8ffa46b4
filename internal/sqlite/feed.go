package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.FeedStore = (*DB)(nil)

// FeedWaiting reads, in one read transaction, first the re-queued
// registrations already passed by sequence (the partial index of feed
// positions, in order), then those after the cursor's sequence (the primary
// key, in order); of the groups, waiting and without a booking (a
// primary-key probe of bookings each). Readers only.
func (db *DB) FeedWaiting(ctx context.Context, groups []string, after turnero.FeedCursor, limit int) ([]turnero.FeedEntry, error) {
	if len(groups) == 0 || limit < 1 {
		return nil, nil
	}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("feed after %+v: %w", after, err)
	}
	defer tx.Rollback()
	in := strings.Repeat("?,", len(groups)-1) + "?"
	waiting := ` AND r.status = 'waiting' AND r.grp IN (` + in + `)
		AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.grp = r.grp AND b.group_ordinal = r.group_ordinal)`
	out, err := feedRows(ctx, tx, `SELECT `+registrationColumnsR+`, r.feed_position FROM registrations r
		WHERE r.feed_position > ? AND r.sequence <= ?`+waiting+` ORDER BY r.feed_position LIMIT ?`,
		[]any{after.Requeued, after.Sequence}, groups, limit)
	if err != nil {
		return nil, fmt.Errorf("feed after %+v: %w", after, err)
	}
	if len(out) == limit {
		return out, nil
	}
	fresh, err := feedRows(ctx, tx, `SELECT `+registrationColumnsR+`, r.feed_position FROM registrations r
		WHERE r.sequence > ?`+waiting+` ORDER BY r.sequence LIMIT ?`, []any{after.Sequence}, groups, limit-len(out))
	if err != nil {
		return nil, fmt.Errorf("feed after %+v: %w", after, err)
	}
	return append(out, fresh...), nil
}

func feedRows(ctx context.Context, tx *sql.Tx, query string, after []any, groups []string, limit int) ([]turnero.FeedEntry, error) {
	args := make([]any, 0, len(after)+len(groups)+1)
	args = append(args, after...)
	for _, g := range groups {
		args = append(args, g)
	}
	args = append(args, limit)
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
		rows, err := db.read.QueryContext(ctx, `SELECT group_ordinal FROM bookings WHERE grp = ? AND group_ordinal > ? AND group_ordinal <= ?`,
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
