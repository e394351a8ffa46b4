// Package schema brings a database's schema up to date, the same way for
// every storage engine: each engine gives its embedded migrations and a goose
// provider over them; this package refuses a schema newer than the binary
// knows, and applies the pending migrations one at a time, logging each as it
// starts and ends. It holds no SQL and knows no engine.
package schema

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"time"

	"github.com/pressly/goose/v3"
)

// Known returns the newest schema version in fsys: the number of its last
// migration file, which is the version this binary brings a database to.
func Known(fsys fs.FS) (int64, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return 0, fmt.Errorf("list migrations: %w", err)
	}
	var newest int64
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		v, err := goose.NumericComponent(e.Name())
		if err != nil {
			return 0, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		newest = max(newest, v)
	}
	return newest, nil
}

// TooNewError is the refusal to work on a schema that a newer turnero has
// migrated: this binary does not know what the newer migrations changed, and
// would read and write the data by the old rules.
type TooNewError struct {
	Where    string // the database, as it may be printed
	Database int64  // the schema version of the database
	Known    int64  // the newest version this binary knows
}

func (e *TooNewError) Error() string {
	return fmt.Sprintf("%s: its schema is at version %d, newer than version %d, the newest this turnero knows "+
		"(\"turnero version\" says which it knows): a newer turnero has upgraded it. Run that version or a later one; "+
		"an older one must never run on it", e.Where, e.Database, e.Known)
}

// Up refuses a schema newer than p's migrations, then applies the pending
// ones in order. where names the database in messages (never with a
// password); log receives one line as each migration starts and one as it
// ends, and nothing when the schema is up to date.
func Up(ctx context.Context, p *goose.Provider, where string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	current, known, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("read the schema version of %s: %w", where, err)
	}
	if current > known {
		return &TooNewError{Where: where, Database: current, Known: known}
	}
	if current == known {
		return nil
	}
	log.Info("migrating the schema", "database", where, "from_version", current, "to_version", known)
	for {
		next := nextVersion(p, current)
		if next != nil {
			log.Info("migration starting", "version", next.Version, "file", path.Base(next.Path))
		}
		start := time.Now()
		res, err := p.UpByOne(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("migrate the schema of %s: %w", where, err)
		}
		// Another node may have applied the one expected: report what ran.
		log.Info("migration applied", "version", res.Source.Version, "file", path.Base(res.Source.Path),
			"took", time.Since(start).Round(time.Millisecond).String())
		current = res.Source.Version
	}
}

// nextVersion is the first migration after current, for the log; nil at
// the end.
func nextVersion(p *goose.Provider, current int64) *goose.Source {
	for _, s := range p.ListSources() {
		if s.Version > current {
			return s
		}
	}
	return nil
}
