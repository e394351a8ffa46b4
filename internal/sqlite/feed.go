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

// FeedWaiting walks registrations by sequence (the primary key) from after,
// keeping those of the groups that are waiting and have no booking (a
// primary-key probe of bookings each). Readers only.
func (db *DB) FeedWaiting(ctx context.Context, groups []string, after int64, limit int) ([]turnero.Registration, error) {
	if len(groups) == 0 || limit < 1 {
		return nil, nil
	}
	args := make([]any, 0, len(groups)+2)
	args = append(args, after)
	for _, g := range groups {
		args = append(args, g)
	}
	args = append(args, limit)
	rows, err := db.read.QueryContext(ctx, `SELECT `+registrationColumns+` FROM registrations r
		WHERE r.sequence > ? AND r.status = 'waiting' AND r.grp IN (`+strings.Repeat("?,", len(groups)-1)+`?)
		AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.grp = r.grp AND b.group_ordinal = r.group_ordinal)
		ORDER BY r.sequence LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("feed after %d: %w", after, err)
	}
	defer rows.Close()
	var out []turnero.Registration
	for rows.Next() {
		var r turnero.Registration
		var received int64
		if err := rows.Scan(&r.Sequence, &r.DocumentHash, &r.IdentityHash, &r.Group, &r.GroupOrdinal,
			&r.Department, &r.Age, &r.Channel, &r.Status, &r.KeyID, &r.Sealed, &received); err != nil {
			return nil, fmt.Errorf("feed after %d: %w", after, err)
		}
		r.ReceivedAt = time.UnixMilli(received).UTC()
		out = append(out, r)
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
