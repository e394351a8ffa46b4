package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/sqlite"
)

// TestVersion: "turnero version" prints the version set at build time and
// the schema versions the binary knows, which the engines refuse to exceed.
func TestVersion(t *testing.T) {
	old := version
	version = "v9.8.7"
	t.Cleanup(func() { version = old })
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &errs); err != nil {
		t.Fatalf("version: %v\n%s", err, errs.String())
	}
	want := []string{"turnero v9.8.7", fmt.Sprintf("SQLite %d", sqlite.SchemaVersion()), fmt.Sprintf("PostgreSQL %d", postgres.SchemaVersion())}
	for _, w := range want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("turnero version printed %q, without %q", out.String(), w)
		}
	}
	if sqlite.SchemaVersion() < 9 || postgres.SchemaVersion() < 9 {
		t.Errorf("schema versions %d and %d; the migrations go to 00009 at least", sqlite.SchemaVersion(), postgres.SchemaVersion())
	}
	version = ""
	if v := binaryVersion(); v == "" {
		t.Error("no version without -ldflags")
	}
}

// TestServeLogsMigrations: serve's first start on a new database logs each
// migration it applies, and the serving line says which version runs.
func TestServeLogsMigrations(t *testing.T) {
	t.Setenv("TURNERO_DB", "")
	t.Setenv("TURNERO_KEY_FILE", "")
	cfg := defaultServeConfig()
	cfg.DataDir, cfg.Allocate, cfg.DrainDelay = t.TempDir(), false, 0
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := serve(ctx, cfg, ln, slog.New(slog.NewJSONHandler(&logs, nil)), func(string) { cancel() }); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), `"msg":"migration applied"`); n < 8 {
		t.Errorf("%d migrations logged on a new database, want 8 at least:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"version":"`+binaryVersion()+`"`) {
		t.Errorf("the serving line does not say the version %q:\n%s", binaryVersion(), logs.String())
	}
}
