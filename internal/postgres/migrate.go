package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

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

// errNoSchema says how to fix a search_path whose schemas do not exist.
var errNoSchema = errors.New("no schema of the search_path exists: create it first " +
	"(psql: CREATE SCHEMA turnero AUTHORIZATION <user>;) or fix search_path in the database URL")

// migrate refuses a schema newer than this binary's and applies the pending
// migrations (package schema) under goose's session lock (a PostgreSQL
// advisory lock), so that nodes starting together never migrate at once.
// The lock id is scoped to the schema: deployments or tests in other schemas
// of the same database do not wait for each other.
func (db *DB) migrate(ctx context.Context, cfg *pgxpool.Config, connString string, o openOptions) error {
	var current *string
	if err := db.read.QueryRow(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if current == nil {
		return fmt.Errorf("migrate: %w", errNoSchema)
	}
	h := fnv.New64a()
	h.Write([]byte("turnero migrations " + *current))
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sqlDB := stdlib.OpenDB(*cfg.ConnConfig)
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrationFS(), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return schema.Up(ctx, p, "PostgreSQL "+RedactURL(connString)+" (schema "+*current+")", o.log)
}
