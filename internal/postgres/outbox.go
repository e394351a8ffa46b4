package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.OutboxQueue = (*DB)(nil)

// The outbox queue on PostgreSQL, shared by the workers of every node. A
// claim locks the oldest free messages with FOR UPDATE SKIP LOCKED, so that
// claims running at once on several nodes take different messages instead of
// waiting for each other, and leases them in the same statement. Leases are
// in the database's clock, the one clock every node shares. Like allocation,
// the queue writes on the reading pool: the writer connection is intake's.

// claimQuery leases the oldest free messages: the CTE picks and locks them
// (skipping rows another claim holds), the UPDATE leases what it picked.
const claimQuery = `WITH free AS (
	SELECT id FROM outbox
	WHERE sent_at IS NULL AND failed_at IS NULL AND lease_until <= now()
	ORDER BY id LIMIT $2
	FOR UPDATE SKIP LOCKED)
UPDATE outbox o SET claimed_by = $1, lease_until = now() + $3::bigint * interval '1 microsecond', attempts = o.attempts + 1
FROM free WHERE o.id = free.id
RETURNING o.id, o.registration, o.kind, o.created_at, o.attempts, o.last_error`

// Claim leases up to n messages to worker, oldest first.
func (db *DB) Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]turnero.OutboxMessage, error) {
	if worker == "" {
		return nil, errors.New("claim outbox: a worker name is required")
	}
	if n < 1 {
		return nil, nil
	}
	rows, err := db.read.Query(ctx, claimQuery, worker, n, lease.Microseconds())
	if err != nil {
		return nil, fmt.Errorf("claim outbox for %s: %w", worker, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (turnero.OutboxMessage, error) {
		var m turnero.OutboxMessage
		var attempts int32
		err := row.Scan(&m.ID, &m.Registration, &m.Kind, &m.CreatedAt, &attempts, &m.LastError)
		m.Attempts, m.CreatedAt = int(attempts), m.CreatedAt.UTC()
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox for %s: %w", worker, err)
	}
	// RETURNING follows the update's order, which is not the CTE's.
	slices.SortFunc(out, func(a, b turnero.OutboxMessage) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Done marks a message sent.
func (db *DB) Done(ctx context.Context, id int64) error {
	tag, err := db.read.Exec(ctx, `UPDATE outbox SET sent_at = COALESCE(sent_at, now()), claimed_by = '' WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("outbox message %d done: %w", id, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("outbox message %d done: %w", id, turnero.ErrNotFound)
	}
	return nil
}

// Retry gives a message back, claimable again after the delay.
func (db *DB) Retry(ctx context.Context, id int64, worker, reason string, after time.Duration) error {
	return db.releaseMessage(ctx, id, worker, `lease_until = now() + $3::bigint * interval '1 microsecond', last_error = $4`,
		after.Microseconds(), reason)
}

// Fail gives up on a message.
func (db *DB) Fail(ctx context.Context, id int64, worker, reason string) error {
	return db.releaseMessage(ctx, id, worker, `failed_at = now(), last_error = $3`, reason)
}

// releaseMessage applies set (whose parameters start at $3) to a message
// worker holds, and clears the claim.
func (db *DB) releaseMessage(ctx context.Context, id int64, worker, set string, args ...any) error {
	tag, err := db.read.Exec(ctx, `UPDATE outbox SET `+set+`, claimed_by = ''
		WHERE id = $1 AND claimed_by = $2 AND sent_at IS NULL AND failed_at IS NULL`, append([]any{id, worker}, args...)...)
	if err != nil {
		return fmt.Errorf("outbox message %d of %s: %w", id, worker, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("outbox message %d of %s: %w", id, worker, turnero.ErrLeaseLost)
	}
	return nil
}
