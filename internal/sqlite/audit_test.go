package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/turnero"
)

// TestAuditIsAppendOnly: the database itself refuses to change or delete
// the trail, whoever asks (another program on the file included).
func TestAuditIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "turnero.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.AppendAudit(ctx, []turnero.AuditEntry{{At: time.Now(), Actor: "ana", Role: turnero.RoleCenter,
		Action: turnero.AuditCheckIn, Registrations: []int64{7}}}); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, stmt := range []string{
		`UPDATE audit_log SET actor = 'someone else'`,
		`DELETE FROM audit_log`,
		`UPDATE audit_registrations SET sequence = 8`,
		`DELETE FROM audit_registrations`,
	} {
		_, err := raw.ExecContext(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", stmt, err)
		}
	}
	got, err := db.AuditEntries(ctx, turnero.AuditQuery{Registration: 7})
	if err != nil || len(got) != 1 || got[0].Actor != "ana" {
		t.Fatalf("after the attempts: %+v, %v; want the entry as appended", got, err)
	}
}
