package sqlite

import (
	"fmt"
	"os"
)

// privateFiles makes the database at path readable and writable by its
// owner only, before SQLite opens it: the file holds sealed personal data,
// blind indexes and token hashes, none of which another account of the
// machine has any business reading. SQLite creates the -wal and -shm files
// with the database file's permissions, so creating the database file
// 0600 is enough for them; an existing database (and its -wal and -shm)
// that others may read, as earlier versions left them, is tightened.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("check the permissions of %s: %w", p, err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, st.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("make %s private (mode %v): %w", p, st.Mode().Perm(), err)
			}
		}
	}
	return nil
}
