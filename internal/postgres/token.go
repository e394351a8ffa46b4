package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/turnero"
)

var (
	_ turnero.TokenStore   = (*DB)(nil)
	_ turnero.SessionStore = (*DB)(nil)
)

const tokenColumns = `hash, role, center, label, created_at, expires_at, revoked_at, last_used_at`

// PutToken stores a token's hash and what it allows, or updates the role,
// center and label of a stored one (its revocation stays); never the token.
func (db *DB) PutToken(ctx context.Context, t turnero.Token) error {
	created := t.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	_, err := db.read.Exec(ctx, `INSERT INTO tokens (hash, id, role, center, label, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (hash) DO UPDATE SET role = excluded.role, center = excluded.center, label = excluded.label`,
		t.Hash, t.ID(), t.Role, t.Center, t.Label, created, nullTime(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("put token: %w", err)
	}
	return nil
}

// TokenByHash looks a token up by its hash.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (turnero.Token, error) {
	t, err := scanToken(db.read.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, turnero.ErrUnauthorized
	}
	if err != nil {
		return t, fmt.Errorf("token: %w", err)
	}
	return t, nil
}

// Tokens lists every token, the newest first.
func (db *DB) Tokens(ctx context.Context) ([]turnero.Token, error) {
	rows, err := db.read.Query(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	defer rows.Close()
	var out []turnero.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token by its public ID.
func (db *DB) RevokeToken(ctx context.Context, id string, at time.Time) (turnero.Token, error) {
	t, err := scanToken(db.read.QueryRow(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1
		RETURNING `+tokenColumns, id, at))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, turnero.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("revoke token: %w", err)
	}
	return t, nil
}

// TouchTokens records last uses, in one statement.
func (db *DB) TouchTokens(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	hashes := make([][]byte, 0, len(used))
	ats := make([]time.Time, 0, len(used))
	for h, at := range used {
		hashes = append(hashes, []byte(h))
		ats = append(ats, at)
	}
	_, err := db.read.Exec(ctx, `UPDATE tokens t SET last_used_at = u.at
		FROM unnest($1::bytea[], $2::timestamptz[]) AS u(hash, at)
		WHERE t.hash = u.hash AND (t.last_used_at IS NULL OR t.last_used_at < u.at)`, hashes, ats)
	if err != nil {
		return fmt.Errorf("touch tokens: %w", err)
	}
	return nil
}

func scanToken(row pgx.Row) (turnero.Token, error) {
	var t turnero.Token
	var expires, revoked, used *time.Time
	if err := row.Scan(&t.Hash, &t.Role, &t.Center, &t.Label, &t.CreatedAt, &expires, &revoked, &used); err != nil {
		return t, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = fromNullTime(expires), fromNullTime(revoked), fromNullTime(used)
	return t, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func fromNullTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// PutSession stores a new session.
func (db *DB) PutSession(ctx context.Context, s turnero.Session) error {
	_, err := db.read.Exec(ctx, `INSERT INTO sessions (hash, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		s.Hash, s.TokenHash, s.CreatedAt, s.ExpiresAt)
	if err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	return nil
}

// SessionByHash reads a session with its token, in one statement.
func (db *DB) SessionByHash(ctx context.Context, hash []byte) (turnero.Session, turnero.Token, error) {
	var s turnero.Session
	var t turnero.Token
	var expires, revoked, used *time.Time
	err := db.read.QueryRow(ctx, `SELECT s.hash, s.token_hash, s.created_at, s.expires_at,
		t.hash, t.role, t.center, t.label, t.created_at, t.expires_at, t.revoked_at, t.last_used_at
		FROM sessions s JOIN tokens t ON t.hash = s.token_hash WHERE s.hash = $1`, hash).Scan(
		&s.Hash, &s.TokenHash, &s.CreatedAt, &s.ExpiresAt,
		&t.Hash, &t.Role, &t.Center, &t.Label, &t.CreatedAt, &expires, &revoked, &used)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, t, turnero.ErrUnauthorized
	}
	if err != nil {
		return s, t, fmt.Errorf("session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt, t.CreatedAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC(), t.CreatedAt.UTC()
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = fromNullTime(expires), fromNullTime(revoked), fromNullTime(used)
	return s, t, nil
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := db.read.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessionsBefore deletes the sessions expired before t.
func (db *DB) DeleteSessionsBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := db.read.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, t)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
