package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

var (
	_ turnero.TokenStore   = (*DB)(nil)
	_ turnero.SessionStore = (*DB)(nil)
)

const tokenColumns = `hash, role, center, label, created_at, expires_at, revoked_at, last_used_at`

// PutToken stores a token's hash and what it allows, or updates the role,
// center and label of a stored one (its revocation stays).
func (db *DB) PutToken(ctx context.Context, t turnero.Token) error {
	created := t.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO tokens (hash, id, role, center, label, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (hash) DO UPDATE SET role = excluded.role, center = excluded.center, label = excluded.label`,
		t.Hash, t.ID(), t.Role, t.Center, t.Label, created.UnixMilli(), nullMillis(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("put token: %w", err)
	}
	return nil
}

// TokenByHash looks a token up by its hash.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (turnero.Token, error) {
	t, err := scanToken(db.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return t, turnero.ErrUnauthorized
	}
	if err != nil {
		return t, fmt.Errorf("token: %w", err)
	}
	return t, nil
}

// Tokens lists every token, the newest first.
func (db *DB) Tokens(ctx context.Context) ([]turnero.Token, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at DESC, id`)
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
	var t turnero.Token
	err := db.inWriteTx(ctx, "revoke token", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
			at.UnixMilli(), id); err != nil {
			return err
		}
		var err error
		t, err = scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return turnero.ErrNotFound
		}
		return err
	})
	return t, err
}

// TouchTokens records last uses, in one transaction.
func (db *DB) TouchTokens(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	return db.inWriteTx(ctx, "touch tokens", func(tx *sql.Tx) error {
		for hash, at := range used {
			if _, err := tx.ExecContext(ctx, `UPDATE tokens SET last_used_at = ?
				WHERE hash = ? AND (last_used_at IS NULL OR last_used_at < ?)`, at.UnixMilli(), []byte(hash), at.UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
}

type rowScanner interface{ Scan(dest ...any) error }

func scanToken(row rowScanner) (turnero.Token, error) {
	var t turnero.Token
	var created int64
	var expires, revoked, used sql.NullInt64
	if err := row.Scan(&t.Hash, &t.Role, &t.Center, &t.Label, &created, &expires, &revoked, &used); err != nil {
		return t, err
	}
	t.CreatedAt = time.UnixMilli(created).UTC()
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = fromNullMillis(expires), fromNullMillis(revoked), fromNullMillis(used)
	return t, nil
}

func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromNullMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64).UTC()
}

// PutSession stores a new session.
func (db *DB) PutSession(ctx context.Context, s turnero.Session) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO sessions (hash, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		s.Hash, s.TokenHash, s.CreatedAt.UnixMilli(), s.ExpiresAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	return nil
}

// SessionByHash reads a session with its token, in one statement.
func (db *DB) SessionByHash(ctx context.Context, hash []byte) (turnero.Session, turnero.Token, error) {
	var s turnero.Session
	var created, expires int64
	var t turnero.Token
	var tcreated int64
	var texpires, revoked, used sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT s.hash, s.token_hash, s.created_at, s.expires_at,
		t.hash, t.role, t.center, t.label, t.created_at, t.expires_at, t.revoked_at, t.last_used_at
		FROM sessions s JOIN tokens t ON t.hash = s.token_hash WHERE s.hash = ?`, hash).Scan(
		&s.Hash, &s.TokenHash, &created, &expires,
		&t.Hash, &t.Role, &t.Center, &t.Label, &tcreated, &texpires, &revoked, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return s, t, turnero.ErrUnauthorized
	}
	if err != nil {
		return s, t, fmt.Errorf("session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	t.CreatedAt = time.UnixMilli(tcreated).UTC()
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = fromNullMillis(texpires), fromNullMillis(revoked), fromNullMillis(used)
	return s, t, nil
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessionsBefore deletes the sessions expired before t.
func (db *DB) DeleteSessionsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, t.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}
