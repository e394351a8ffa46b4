package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.FeedStore = (*DB)(nil)

// FeedWaiting walks registrations by sequence from after, keeping those of
// the groups that are waiting and have no booking. Like WaitingAfter, a page
// of registrations and then a probe of the bookings' unique sequence index
// for that page, rather than an anti-join whose plan follows the statistics
// of bookings.
func (db *DB) FeedWaiting(ctx context.Context, groups []string, after int64, limit int) ([]turnero.Registration, error) {
	if len(groups) == 0 || limit < 1 {
		return nil, nil
	}
	var out []turnero.Registration
	for {
		want := limit - len(out)
		page, err := db.feedPage(ctx, groups, after, want)
		if err != nil || len(page) == 0 {
			return out, err
		}
		seqs := make([]int64, len(page))
		for i := range page {
			seqs[i] = page[i].Sequence
		}
		rows, err := db.read.Query(ctx, `SELECT sequence FROM bookings WHERE sequence = ANY($1)`, seqs)
		if err != nil {
			return nil, fmt.Errorf("feed after %d: %w", after, err)
		}
		booked := map[int64]bool{}
		var s int64
		if _, err := pgx.ForEachRow(rows, []any{&s}, func() error { booked[s] = true; return nil }); err != nil {
			return nil, fmt.Errorf("feed after %d: %w", after, err)
		}
		for _, r := range page {
			if !booked[r.Sequence] {
				out = append(out, r)
			}
		}
		if len(page) < want || len(out) >= limit {
			return out, nil
		}
		after = page[len(page)-1].Sequence
	}
}

func (db *DB) feedPage(ctx context.Context, groups []string, after int64, limit int) ([]turnero.Registration, error) {
	rows, err := db.read.Query(ctx, `SELECT `+registrationColumns+` FROM registrations
		WHERE sequence > $1 AND status = 'waiting' AND grp = ANY($2) ORDER BY sequence LIMIT $3`, after, groups, limit)
	if err != nil {
		return nil, fmt.Errorf("feed after %d: %w", after, err)
	}
	defer rows.Close()
	var out []turnero.Registration
	for rows.Next() {
		r, err := scanRegistration(rows)
		if err != nil {
			return nil, fmt.Errorf("feed after %d: %w", after, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("feed after %d: %w", after, err)
	}
	return out, nil
}

// BookExternal books one registration as the allocator would, through the
// same commit (booking row, slot counts under their CHECK, outbox), holding
// the registration's row and then the allocation version's row: it always
// moves the version, so an allocator that computed against the old counts
// is refused.
func (db *DB) BookExternal(ctx context.Context, b turnero.Booking, slots []turnero.SlotBooking, at time.Time) error {
	return db.inTx(ctx, fmt.Sprintf("external booking of %d", b.Sequence), func(tx pgx.Tx) error {
		rec, err := readBookingRecord(ctx, tx, b.Sequence, true)
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
		var version int64
		if err := tx.QueryRow(ctx, `SELECT version FROM allocation_state WHERE id = 1 FOR UPDATE`).Scan(&version); err != nil {
			return fmt.Errorf("external booking: %w", err)
		}
		for _, s := range slots {
			var booked int32
			err := tx.QueryRow(ctx, `SELECT booked FROM slots WHERE start = $1 AND center = $2`, s.Start, s.Center).Scan(&booked)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("external booking: %w", err)
			}
			if int(booked)+s.Booked > s.Capacity {
				return turnero.ErrSlotFull
			}
		}
		b.Candidate = turnero.Candidate{Sequence: r.Sequence, Ordinal: r.GroupOrdinal, Group: r.Group, Department: r.Department, Age: r.Age}
		if err := commitAllocation(ctx, tx, turnero.AllocationBatch{Version: version, At: at, Bookings: []turnero.Booking{b}, Slots: slots}); err != nil {
			return fmt.Errorf("external booking of %d: %w", r.Sequence, err)
		}
		if rec.Pending {
			return unpend(ctx, tx, r)
		}
		return nil
	})
}
