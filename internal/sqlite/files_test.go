//go:build unix

package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/storetest"
	"github.com/turnero/turnero/internal/turnero"
)

func setUmask(m int) int { return syscall.Umask(m) }

// TestFilesPrivate: the database and its -wal and -shm are readable by their
// owner only, whatever the umask; an existing database that others could
// read is made private when it is opened.
func TestFilesPrivate(t *testing.T) {
	old := setUmask(0o022) // the usual default, which gave 0644
	t.Cleanup(func() { setUmask(old) })
	ctx := context.Background()
	check := func(t *testing.T, path string) {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", filepath.Base(p), err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", filepath.Base(p), st.Mode().Perm())
			}
		}
	}
	write := func(t *testing.T, path string) {
		t.Helper()
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.InsertRegistrations(ctx, []turnero.NewRegistration{storetest.NewRegistration(len(path), "1950-01-01", "age-60-69")}); err != nil {
			t.Fatal(err)
		}
		check(t, path) // -wal and -shm exist while the database is open
	}
	t.Run("new", func(t *testing.T) {
		write(t, filepath.Join(t.TempDir(), "turnero.db"))
	})
	t.Run("existing and readable by others", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "turnero.db")
		write(t, path)
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			if err := os.Chmod(p, 0o644); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
		write(t, path)
	})
}
