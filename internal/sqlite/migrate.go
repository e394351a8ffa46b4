package sqlite

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"

	"github.com/turnero/turnero/internal/schema"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Option is a setting of Open.
type Option func(*openOptions)

type openOptions struct {
	log *slog.Logger
}

// WithLogger gives Open a logger for the migrations it runs.
func WithLogger(log *slog.Logger) Option { return func(o *openOptions) { o.log = log } }

func options(opts []Option) openOptions {
	var o openOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// SchemaVersion is the newest schema version this binary knows, and brings
// a database to.
func SchemaVersion() int64 {
	v, err := schema.Known(migrationFS())
	if err != nil {
		panic(err) // the migrations are embedded: checked by the tests
	}
	return v
}

func migrationFS() fs.FS {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // a constant path in an embedded tree
	}
	return fsys
}

// migrate refuses a schema newer than this binary's and applies the pending
// migrations (package schema).
func (db *DB) migrate(ctx context.Context, o openOptions) error {
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, migrationFS())
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return schema.Up(ctx, p, db.path, o.log)
}
