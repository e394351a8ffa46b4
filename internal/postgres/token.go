package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.TokenStore = (*DB)(nil)

// PutToken stores a token's hash and what it allows; never the token.
func (db *DB) PutToken(ctx context.Context, t turnero.Token) error {
	_, err := db.read.Exec(ctx, `INSERT INTO tokens (hash, role, center, created_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (hash) DO UPDATE SET role = excluded.role, center = excluded.center`, t.Hash, t.Role, t.Center)
	if err != nil {
		return fmt.Errorf("put token: %w", err)
	}
	return nil
}

// TokenByHash looks a token up by its hash.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (turnero.Token, error) {
	t := turnero.Token{}
	err := db.read.QueryRow(ctx, `SELECT hash, role, center FROM tokens WHERE hash = $1`, hash).Scan(&t.Hash, &t.Role, &t.Center)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, turnero.ErrUnauthorized
	}
	if err != nil {
		return t, fmt.Errorf("token: %w", err)
	}
	return t, nil
}
