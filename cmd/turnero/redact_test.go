package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/postgres/pgtest"
)

const dbSecret = "S3cret-Pa55"

// TestDatabasePasswordNeverPrinted: a password in --db, as user:password@ or
// as a query parameter, is in no help text, start-up error or log line.
func TestDatabasePasswordNeverPrinted(t *testing.T) {
	t.Setenv("TURNERO_DATA", "")
	t.Setenv("TURNERO_KEY_FILE", "")
	keyFile := filepath.Join(t.TempDir(), "turnero.keys")
	if err := pii.WriteKeyFile(keyFile, "k1"); err != nil {
		t.Fatal(err)
	}
	nobody := "postgres://turnero:" + dbSecret + "@127.0.0.1:1/turnero?sslmode=disable&password=" + dbSecret + "&connect_timeout=2"
	check := func(t *testing.T, what, text string) {
		t.Helper()
		if strings.Contains(text, dbSecret) {
			t.Errorf("%s shows the password:\n%s", what, text)
		}
		if !strings.Contains(text, "xxxxx") {
			t.Errorf("%s does not show where the password was masked:\n%s", what, text)
		}
	}

	t.Run("help", func(t *testing.T) {
		t.Setenv("TURNERO_DB", nobody)
		for _, cmd := range [][]string{{"serve", "-h"}, {"allocate", "-h"}, {"groups", "list", "-h"}} {
			var out, errs bytes.Buffer
			run(context.Background(), cmd, &out, &errs)
			check(t, strings.Join(cmd, " "), out.String()+errs.String())
		}
	})
	t.Run("start-up error", func(t *testing.T) {
		t.Setenv("TURNERO_DB", "")
		for _, cmd := range [][]string{
			{"serve", "--addr", "127.0.0.1:0", "--db", nobody, "--key-file", keyFile},
			{"allocate", "--db", nobody},
			{"serve", "--addr", "127.0.0.1:0", "--db", nobody + "&pool_max_conns=many", "--key-file", keyFile},
		} {
			var out, errs bytes.Buffer
			err := run(context.Background(), cmd, &out, &errs)
			if err == nil {
				t.Fatalf("%v: no error", cmd)
			}
			check(t, strings.Join(cmd[:1], " ")+" error", err.Error()+out.String()+errs.String())
		}
	})
	t.Run("serving line", func(t *testing.T) {
		u := pgtest.URL(t) + "&password=" + dbSecret // trust authentication ignores it
		cfg := defaultServeConfig()
		cfg.DB, cfg.KeyFile, cfg.Allocate = u, keyFile, false
		if err := cfg.validate(); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var logs syncBuffer
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		log := slog.New(slog.NewJSONHandler(&logs, nil))
		served := false
		err = serve(ctx, cfg, ln, log, func(string) { served = true; cancel() })
		if err != nil || !served {
			t.Fatalf("serve: %v (served %v)\n%s", err, served, logs.String())
		}
		if !strings.Contains(logs.String(), `"msg":"serving"`) {
			t.Fatalf("no serving line:\n%s", logs.String())
		}
		check(t, "the log", logs.String())
	})
}
