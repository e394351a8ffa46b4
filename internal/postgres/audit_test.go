package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/postgres/pgtest"
	"github.com/turnero/turnero/internal/turnero"
)

// TestAuditIsAppendOnly: the database itself refuses to change, delete or
// truncate the trail, whoever asks (a psql session included).
func TestAuditIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := openDB(t, url)
	if _, err := db.AppendAudit(ctx, []turnero.AuditEntry{{At: time.Now(), Actor: "ana", Role: turnero.RoleCenter,
		Action: turnero.AuditCheckIn, Registrations: []int64{7}}}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, stmt := range []string{
		`UPDATE audit_log SET actor = 'someone else'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log CASCADE`,
		`UPDATE audit_registrations SET sequence = 8`,
		`DELETE FROM audit_registrations`,
		`TRUNCATE audit_registrations`,
	} {
		_, err := conn.Exec(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", stmt, err)
		}
	}
	got, err := db.AuditEntries(ctx, turnero.AuditQuery{Registration: 7})
	if err != nil || len(got) != 1 || got[0].Actor != "ana" {
		t.Fatalf("after the attempts: %+v, %v; want the entry as appended", got, err)
	}
}
