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

// FeedWaiting reads, in one snapshot, first the re-queued registrations
// already passed by sequence (the partial index of feed positions), then
// those after the cursor's sequence (the primary key); of the groups,
// waiting and without a booking. Like WaitingAfter, each is a page of
// registrations and then a probe of the bookings' unique sequence index for
// that page, rather than an anti-join whose plan follows the statistics of
// bookings.
func (db *DB) FeedWaiting(ctx context.Context, groups []string, after turnero.FeedCursor, limit int) ([]turnero.FeedEntry, error) {
	if len(groups) == 0 || limit < 1 {
		return nil, nil
	}
	var out []turnero.FeedEntry
	err := db.readTx(ctx, "feed", func(tx pgx.Tx) error {
		var err error
		out, err = feedStream(ctx, tx, `SELECT `+registrationColumns+`, feed_position FROM registrations
			WHERE feed_position > $1 AND sequence <= $4 AND status = 'waiting' AND grp = ANY($2)
			ORDER BY feed_position LIMIT $3`,
			groups, after.Requeued, []any{after.Sequence}, limit, func(e *turnero.FeedEntry) int64 { return e.Requeued })
		if err != nil || len(out) == limit {
			return err
		}
		fresh, err := feedStream(ctx, tx, `SELECT `+registrationColumns+`, feed_position FROM registrations
			WHERE sequence > $1 AND status = 'waiting' AND grp = ANY($2) ORDER BY sequence LIMIT $3`,
			groups, after.Sequence, nil, limit-len(out), func(e *turnero.FeedEntry) int64 { return e.Sequence })
		out = append(out, fresh...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("feed after %+v: %w", after, err)
	}
	return out, nil
}

// feedStream reads up to limit unbooked registrations of one of the feed's
// two orders (query, paged by key from after; extra are its arguments from
// $4 on).
func feedStream(ctx context.Context, tx pgx.Tx, query string, groups []string, after int64, extra []any, limit int,
	key func(*turnero.FeedEntry) int64) ([]turnero.FeedEntry, error) {
	var out []turnero.FeedEntry
	for {
		want := limit - len(out)
		page, err := feedPage(ctx, tx, query, append([]any{after, groups, want}, extra...))
		if err != nil || len(page) == 0 {
			return out, err
		}
		seqs := make([]int64, len(page))
		for i := range page {
			seqs[i] = page[i].Sequence
		}
		rows, err := tx.Query(ctx, `SELECT sequence FROM bookings WHERE sequence = ANY($1)`, seqs)
		if err != nil {
			return nil, err
		}
		booked := map[int64]bool{}
		var s int64
		if _, err := pgx.ForEachRow(rows, []any{&s}, func() error { booked[s] = true; return nil }); err != nil {
			return nil, err
		}
		for _, e := range page {
			if !booked[e.Sequence] {
				out = append(out, e)
			}
		}
		if len(page) < want || len(out) >= limit {
			return out, nil
		}
		after = key(&page[len(page)-1])
	}
}

func feedPage(ctx context.Context, tx pgx.Tx, query string, args []any) ([]turnero.FeedEntry, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []turnero.FeedEntry
	for rows.Next() {
		var e turnero.FeedEntry
		var pos *int64
		r := &e.Registration
		var age int32
		if err := rows.Scan(&r.Sequence, &r.DocumentHash, &r.IdentityHash, &r.Group, &r.GroupOrdinal,
			&r.Department, &age, &r.Channel, &r.Status, &r.KeyID, &r.Sealed, &r.ReceivedAt, &pos); err != nil {
			return nil, err
		}
		r.Age, r.ReceivedAt = int(age), r.ReceivedAt.UTC()
		if pos != nil {
			e.Requeued = *pos
		}
		out = append(out, e)
	}
	return out, rows.Err()
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
