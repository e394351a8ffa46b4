package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.TokenStore = (*DB)(nil)

// PutToken stores a token's hash and what it allows.
func (db *DB) PutToken(ctx context.Context, t turnero.Token) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO tokens (hash, role, center, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (hash) DO UPDATE SET role = excluded.role, center = excluded.center`,
		t.Hash, t.Role, t.Center, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("put token: %w", err)
	}
	return nil
}

// TokenByHash looks a token up by its hash.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (turnero.Token, error) {
	t := turnero.Token{}
	err := db.read.QueryRowContext(ctx, `SELECT hash, role, center FROM tokens WHERE hash = ?`, hash).Scan(&t.Hash, &t.Role, &t.Center)
	if errors.Is(err, sql.ErrNoRows) {
		return t, turnero.ErrUnauthorized
	}
	if err != nil {
		return t, fmt.Errorf("token: %w", err)
	}
	return t, nil
}
