package sqlite

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.OutboxQueue = (*DB)(nil)

// The outbox queue on SQLite: every claim and every mark is one statement on
// the single writer, so two claims never see the same message free; other
// processes on the same file wait for the write lock (busy_timeout). Leases
// are in this machine's clock, which every process on the file shares.

// Claim leases up to n messages to worker, oldest first.
func (db *DB) Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]turnero.OutboxMessage, error) {
	if worker == "" {
		return nil, errors.New("claim outbox: a worker name is required")
	}
	if n < 1 {
		return nil, nil
	}
	now := time.Now()
	rows, err := db.write.QueryContext(ctx, `UPDATE outbox SET claimed_by = ?, lease_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox INDEXED BY outbox_unsent
			WHERE sent_at IS NULL AND failed_at IS NULL AND lease_until <= ? ORDER BY id LIMIT ?)
		RETURNING id, registration, kind, created_at, attempts, last_error`,
		worker, now.Add(lease).UnixMilli(), now.UnixMilli(), n)
	if err != nil {
		return nil, fmt.Errorf("claim outbox for %s: %w", worker, err)
	}
	defer rows.Close()
	var out []turnero.OutboxMessage
	for rows.Next() {
		var m turnero.OutboxMessage
		var created int64
		if err := rows.Scan(&m.ID, &m.Registration, &m.Kind, &created, &m.Attempts, &m.LastError); err != nil {
			return nil, fmt.Errorf("claim outbox for %s: %w", worker, err)
		}
		m.CreatedAt = time.UnixMilli(created).UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim outbox for %s: %w", worker, err)
	}
	// RETURNING follows the update's order, which SQLite does not promise.
	slices.SortFunc(out, func(a, b turnero.OutboxMessage) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Done marks a message sent.
func (db *DB) Done(ctx context.Context, id int64) error {
	res, err := db.write.ExecContext(ctx, `UPDATE outbox SET sent_at = COALESCE(sent_at, ?), claimed_by = ''
		WHERE id = ?`, time.Now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("outbox message %d done: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("outbox message %d done: %w", id, turnero.ErrNotFound)
	}
	return nil
}

// Retry gives a message back, claimable again after the delay.
func (db *DB) Retry(ctx context.Context, id int64, worker, reason string, after time.Duration) error {
	return db.releaseMessage(ctx, id, worker, `lease_until = ?, last_error = ?`, time.Now().Add(after).UnixMilli(), reason)
}

// Fail gives up on a message.
func (db *DB) Fail(ctx context.Context, id int64, worker, reason string) error {
	return db.releaseMessage(ctx, id, worker, `failed_at = ?, last_error = ?`, time.Now().UnixMilli(), reason)
}

// releaseMessage applies set to a message worker holds, and clears the claim.
func (db *DB) releaseMessage(ctx context.Context, id int64, worker, set string, args ...any) error {
	args = append(args, id, worker)
	res, err := db.write.ExecContext(ctx, `UPDATE outbox SET `+set+`, claimed_by = ''
		WHERE id = ? AND claimed_by = ? AND sent_at IS NULL AND failed_at IS NULL`, args...)
	if err != nil {
		return fmt.Errorf("outbox message %d of %s: %w", id, worker, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("outbox message %d of %s: %w", id, worker, turnero.ErrLeaseLost)
	}
	return nil
}
