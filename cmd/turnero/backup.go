package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/sqlite"
)

const backupSynopsis = "turnero backup --data DIR --out FILE"

// cmdBackup writes an online, consistent copy of a data directory's
// database. On PostgreSQL, pg_dump is the tool (docs/operations.md).
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultServeConfig()
	cfg.fromEnv()
	var out string
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory of the database to copy (env TURNERO_DATA)")
	fs.StringVar(&out, "out", "", "file to write the copy to (must not exist); keep it apart from the data, like the key file")
	if err := parseFlags(fs, backupSynopsis, args, stdout, stderr); err != nil {
		return err
	}
	switch {
	case cfg.DB != "":
		return errors.New("backup: on PostgreSQL, back up with pg_dump as docs/operations.md says")
	case cfg.DataDir == "":
		return errors.New("backup: setting data: a data directory is required (--data DIR or TURNERO_DATA)")
	case out == "":
		return errors.New("backup: setting out: a file is required (--out FILE)")
	}
	db := filepath.Join(cfg.DataDir, "turnero.db")
	if !fileExists(db) {
		return fmt.Errorf("backup: setting data: %s holds no database", cfg.DataDir)
	}
	start := time.Now()
	if err := sqlite.Backup(ctx, db, out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s in %s: a consistent copy of %s. The key file is not in it: keep a copy of that apart.\n",
		out, time.Since(start).Round(time.Millisecond), db)
	return nil
}

const restoreSynopsis = "turnero restore --data DIR FILE\n" +
	"       turnero restore --db postgres://...        (after pg_restore: start a new epoch)"

// cmdRestore puts a backup in place and starts a new epoch: registrations
// continue at sequences, and so tracking codes, never given before, and the
// codes of people registered after the backup (lost with it) are answered
// with what happened to them.
func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	cfg := defaultServeConfig()
	cfg.fromEnv()
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory to restore into; serve must not be running on it (env TURNERO_DATA)")
	fs.StringVar(&cfg.DB, "db", cfg.DB, "PostgreSQL URL of a database just restored with pg_restore (env TURNERO_DB)")
	redactDefault(fs, "db")
	if err := parseFlags(fs, restoreSynopsis, args, stdout, stderr); err != nil {
		return err
	}
	now := time.Now()
	if cfg.DB != "" {
		if fs.NArg() != 0 {
			return errors.New("restore: on PostgreSQL, restore with pg_restore first, then run this without a file")
		}
		db, err := postgres.Open(ctx, cfg.DB, postgres.WithLogger(log))
		if err != nil {
			return fmt.Errorf("restore: open PostgreSQL at %s: %w", postgres.RedactURL(cfg.DB), err)
		}
		defer db.Close()
		r, err := db.StartEpoch(ctx, now)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		return reportRestore(stdout, r.Epoch, r.After, r.Floor)
	}
	if cfg.DataDir == "" || fs.NArg() != 1 {
		return fmt.Errorf("restore: give the data directory (--data DIR) and one backup file\nUsage: %s", restoreSynopsis)
	}
	if err := makeDataDir(cfg.DataDir, log); err != nil {
		return err
	}
	release, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer release()
	db := filepath.Join(cfg.DataDir, "turnero.db")
	aside := ".before-restore-" + now.UTC().Format("20060102T150405Z")
	r, err := sqlite.Restore(ctx, fs.Arg(0), db, aside, now)
	if err != nil {
		return err
	}
	if fileExists(db + aside) {
		fmt.Fprintf(stdout, "the database it replaced is kept as %s%s\n", db, aside)
	}
	return reportRestore(stdout, r.Epoch, r.After, r.Floor)
}

func reportRestore(stdout io.Writer, epoch, after, floor int64) error {
	_, err := fmt.Fprintf(stdout, "restored: epoch %d. The backup held registrations up to sequence %d; anyone registered "+
		"after it was taken is lost with it, and their tracking code now answers that their registration was lost "+
		"and they should register again. New registrations continue after sequence %d, so no code is ever given twice.\n",
		epoch, after, floor)
	return err
}
