package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/turnero/turnero/internal/turnero"
)

// TestMigrationKeepsTokens: 00041 makes the tokens table again (a new CHECK
// of roles); every token made before keeps working, with its role and
// center, no label and no expiry, and gets its public ID.
func TestMigrationKeepsTokens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", dsn(path, roleWrite))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 40); err != nil {
		t.Fatal(err)
	}
	admin, center := turnero.HashToken("an-old-admin-token-000000"), turnero.HashToken("an-old-center-token-00000")
	created := time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC)
	if _, err := raw.ExecContext(ctx, `INSERT INTO tokens (hash, role, center, created_at) VALUES (?, 'admin', '', ?), (?, 'center', 'MO-01', ?)`,
		admin, created.UnixMilli(), center, created.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err := Open(ctx, path)
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
