package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.FeedStore = (*DB)(nil)

// FeedWaiting reads the feed (turnero.ReadFeed) in one snapshot, group by
// group: those re-queued through the partial index of a group's feed
// positions, the others through the group's ordinals. Like WaitingAfter,
// each read is a page of registrations and then a probe of the bookings'
// unique sequence index for that page, rather than an anti-join whose plan
// follows the statistics of bookings.
func (db *DB) FeedWaiting(ctx context.Context, groups []string, after turnero.FeedCursor, limit int) (turnero.FeedPage, error) {
	if len(groups) == 0 || limit < 1 {
		return turnero.ReadFeed(ctx, nil, groups, after, limit)
	}
	var page turnero.FeedPage
	err := db.readTx(ctx, "feed", func(tx pgx.Tx) error {
		var err error
		page, err = turnero.ReadFeed(ctx, feedSnapshot{tx}, groups, after, limit)
		return err
	})
	if err != nil {
		return turnero.FeedPage{}, fmt.Errorf("feed: %w", err)
	}
	return page, nil
}

// feedSnapshot is turnero.FeedSnapshot over one repeatable-read transaction.
type feedSnapshot struct{ tx pgx.Tx }

// feedBatch is the fewest rows one read of FeedFresh asks for: people
// booked are skipped after the read, and a consumer asking for one at a
// time should not cost a round trip per person booked.
const feedBatch = 100

func (s feedSnapshot) FeedRequeued(ctx context.Context, group string, after, ordinal int64, limit int) ([]turnero.FeedEntry, error) {
	var out []turnero.FeedEntry
	for len(out) < limit {
		want := limit - len(out)
		page, err := feedPage(ctx, s.tx, `SELECT `+registrationColumns+`, feed_position FROM registrations
			WHERE grp = $1 AND feed_position > $2 AND group_ordinal <= $3 AND status = 'waiting'
			ORDER BY feed_position LIMIT $4`, group, after, ordinal, want)
		if err != nil {
			return nil, fmt.Errorf("re-queued of %s after %d: %w", group, after, err)
		}
		unbooked, err := s.unbooked(ctx, page)
		if err != nil {
			return nil, err
		}
		out = append(out, unbooked...)
		if len(page) < want {
			break
		}
		after = page[len(page)-1].Requeued
	}
	return out, nil
}

func (s feedSnapshot) FeedFresh(ctx context.Context, group string, after int64, limit int) ([]turnero.FeedEntry, int64, error) {
	last, err := s.LastOrdinal(ctx, group)
	if err != nil {
		return nil, 0, err
	}
	var out []turnero.FeedEntry
	for after < last {
		n := max(limit-len(out), feedBatch)
		page, err := feedPage(ctx, s.tx, `SELECT `+registrationColumns+`, feed_position FROM registrations
			WHERE grp = $1 AND group_ordinal > $2 AND group_ordinal <= $3 AND status = 'waiting'
			ORDER BY group_ordinal LIMIT $4`, group, after, last, n)
		if err != nil {
			return nil, 0, fmt.Errorf("%s after %d: %w", group, after, err)
		}
		unbooked, err := s.unbooked(ctx, page)
		if err != nil {
			return nil, 0, err
		}
		if want := limit - len(out); len(unbooked) >= want {
			out = append(out, unbooked[:want]...)
			return out, out[len(out)-1].GroupOrdinal, nil
		}
		out = append(out, unbooked...)
		if len(page) < n {
			break
		}
		after = page[len(page)-1].GroupOrdinal
	}
	return out, max(after, last), nil
}

// unbooked drops from page those with a booking.
func (s feedSnapshot) unbooked(ctx context.Context, page []turnero.FeedEntry) ([]turnero.FeedEntry, error) {
	if len(page) == 0 {
		return nil, nil
	}
	seqs := make([]int64, len(page))
	for i := range page {
		seqs[i] = page[i].Sequence
	}
	rows, err := s.tx.Query(ctx, `SELECT sequence FROM bookings WHERE sequence = ANY($1)`, seqs)
	if err != nil {
		return nil, fmt.Errorf("bookings of the feed's page: %w", err)
	}
	booked := map[int64]bool{}
	var seq int64
	if _, err := pgx.ForEachRow(rows, []any{&seq}, func() error { booked[seq] = true; return nil }); err != nil {
		return nil, fmt.Errorf("bookings of the feed's page: %w", err)
	}
	out := page[:0:0]
	for _, e := range page {
		if !booked[e.Sequence] {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s feedSnapshot) LastFeedPosition(ctx context.Context, group string) (int64, error) {
	var pos int64
	err := s.tx.QueryRow(ctx, `SELECT feed_position FROM registrations WHERE grp = $1 AND feed_position IS NOT NULL
		ORDER BY feed_position DESC LIMIT 1`, group).Scan(&pos)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("last feed position of %s: %w", group, err)
	}
	return pos, nil
}

func (s feedSnapshot) LastOrdinal(ctx context.Context, group string) (int64, error) {
	var ord int64
	err := s.tx.QueryRow(ctx, `SELECT group_ordinal FROM registrations WHERE grp = $1
		ORDER BY group_ordinal DESC LIMIT 1`, group).Scan(&ord)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("last ordinal of %s: %w", group, err)
	}
	return ord, nil
}

func (s feedSnapshot) FirstNotRequeued(ctx context.Context, group string, ordinal int64) (int64, int64, bool, error) {
	var ord, seq int64
	err := s.tx.QueryRow(ctx, `SELECT group_ordinal, sequence FROM registrations
		WHERE grp = $1 AND group_ordinal >= $2 AND feed_position IS NULL ORDER BY group_ordinal LIMIT 1`, group, ordinal).Scan(&ord, &seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("%s at %d: %w", group, ordinal, err)
	}
	return ord, seq, true, nil
}

func feedPage(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]turnero.FeedEntry, error) {
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
