//go:build unix

package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDataFilesPrivate: serve on a new data directory, with the usual umask,
// creates the directory 0700 and the database, its -wal and -shm and the
// trial key 0600; a data directory others may read is named in a warning.
func TestDataFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	t.Setenv("TURNERO_DB", "")
	t.Setenv("TURNERO_KEY_FILE", "")
	serveOnce := func(t *testing.T, data string, dirMode os.FileMode) string {
		t.Helper()
		cfg := defaultServeConfig()
		cfg.DataDir, cfg.Allocate = data, false
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var logs syncBuffer
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		modes := map[string]os.FileMode{}
		err = serve(ctx, cfg, ln, slog.New(slog.NewJSONHandler(&logs, nil)), func(string) {
			for _, p := range []string{data, filepath.Join(data, "turnero.db"), filepath.Join(data, "turnero.db-wal"),
				filepath.Join(data, "turnero.db-shm"), filepath.Join(data, "turnero.key")} {
				if st, err := os.Stat(p); err == nil {
					modes[p] = st.Mode().Perm()
				} else {
					t.Errorf("%s: %v", p, err)
				}
			}
			cancel()
		})
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, logs.String())
		}
		for p, m := range modes {
			want := os.FileMode(0o600)
			if p == data {
				want = dirMode
			}
			if m != want {
				t.Errorf("%s: mode %04o, want %04o", p, m, want)
			}
		}
		return logs.String()
	}
	data := filepath.Join(t.TempDir(), "var", "turnero")
	if logs := serveOnce(t, data, 0o700); strings.Contains(logs, "other accounts") {
		t.Errorf("a warning about a directory turnero made private:\n%s", logs)
	}
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if logs := serveOnce(t, data, 0o755); !strings.Contains(logs, "other accounts") || !strings.Contains(logs, data) {
		t.Errorf("no warning naming a data directory others may read:\n%s", logs)
	}
}
