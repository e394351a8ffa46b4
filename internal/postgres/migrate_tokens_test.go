package postgres

import (
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/turnero/turnero/internal/postgres/pgtest"
	"github.com/turnero/turnero/internal/turnero"
)

// TestMigrationKeepsTokens: the same upgrade as the SQLite engine's test of
// that name: tokens made before 00041 keep working and get their ID.
func TestMigrationKeepsTokens(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	raw := stdlib.OpenDB(*cfg)
	defer raw.Close()
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, raw, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 40); err != nil {
		t.Fatal(err)
	}
	admin, center := turnero.HashToken("an-old-admin-token-000000"), turnero.HashToken("an-old-center-token-00000")
	created := time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC)
	if _, err := raw.ExecContext(ctx, `INSERT INTO tokens (hash, role, center, created_at) VALUES ($1, 'admin', '', $3), ($2, 'center', 'MO-01', $3)`,
		admin, center, created); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, want := range []turnero.Token{{Hash: admin, Role: turnero.RoleAdmin}, {Hash: center, Role: turnero.RoleCenter, Center: "MO-01"}} {
		got, err := db.TokenByHash(ctx, want.Hash)
		if err != nil || got.Role != want.Role || got.Center != want.Center || !got.CreatedAt.Equal(created) ||
			got.Label != "" || !got.ExpiresAt.IsZero() || got.Usable(time.Now()) != nil {
			t.Fatalf("token after the migration: %+v, %v", got, err)
		}
		if _, err := db.RevokeToken(ctx, turnero.TokenID(want.Hash), time.Now()); err != nil {
			t.Fatalf("revoke by the ID the migration gave: %v", err)
		}
	}
}
