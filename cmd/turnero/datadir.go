package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
)

// makeDataDir creates the data directory readable by its owner only: it
// holds the database and, for a trial, the key. A directory that exists
// already is left as the operator made it, with a warning when other
// accounts may read it.
func makeDataDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("setting data: create the data directory: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("setting data: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && log != nil {
		log.Warn("the data directory may be read by other accounts; make it private with chmod 700",
			"data", dir, "mode", fmt.Sprintf("%04o", perm))
	}
	return nil
}

// errDataDirInUse: serve is running on the data directory.
var errDataDirInUse = errors.New("a turnero serve is running on this data directory; stop it first")
