// Package postgres stores turnero's data in PostgreSQL, for deployments of
// more than one node on a shared database. It passes the same contract
// (package storetest) as the embedded SQLite engine and answers the same way:
// one registration per document, sequence numbers that increase in commit
// order across every node, a batch stored in one transaction and one WAL
// flush. SQL of this dialect stays in this package; nothing outside it
// imports pgx.
//
// It must never acknowledge what is not durable: every failure, including a
// commit whose outcome is unknown because the connection broke, is returned
// as an error and the caller answers "try again" (the retry then finds the
// registration if it was stored after all).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/turnero/turnero/internal/booking"
)

const (
	// writeTimeout bounds one batch: a database that does not answer (a
	// network partition, a stalled node holding the registration lock) turns
	// into an error and a 503 instead of a request that hangs.
	writeTimeout = 10 * time.Second
	// pingTimeout bounds readiness checks.
	pingTimeout = 2 * time.Second
	// connectTimeout applies when the URL does not set connect_timeout.
	connectTimeout = 5 * time.Second

	// Advisory lock namespaces (first key of the two-key form). The second key
	// identifies the table or the schema, so that several deployments in one
	// database (or the tests' schemas) never wait for each other.
	lockSpaceRegistrations int32 = 0x7475726e // "turn"
	lockSpaceLeader        int32 = 0x6c656164 // "lead"
	lockSpaceAudit         int32 = 0x61756469 // "audi"
)

// DB is an open turnero database on PostgreSQL. The booking rules (package
// booking) are embedded over this engine's primitives (booking.go).
type DB struct {
	booking.Rules

	// write holds one connection: each node has a single writer (package
	// intake), and a pool of its own means readers can never keep it waiting.
	write *pgxpool.Pool
	read  *pgxpool.Pool

	// registrationsLock is the second key of the advisory lock that orders
	// batches of every node: the OID of this schema's registrations table.
	registrationsLock int32
	// schemaOID scopes leader locks to this schema.
	schemaOID uint32
}

// CheckURL reports whether s is a PostgreSQL URL turnero can use, without
// connecting, so that a bad setting fails at start-up with a clear message.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("must be a URL of the form postgres://USER@HOST:PORT/DATABASE")
	}
	cfg, err := pgxpool.ParseConfig(s)
	if err != nil {
		return err
	}
	if v := strings.ToLower(cfg.ConnConfig.RuntimeParams["synchronous_commit"]); v == "off" {
		return errors.New("synchronous_commit=off would acknowledge registrations before they are durable")
	}
	return nil
}

// Open connects to the database at connString (a postgres:// URL; pgxpool's
// pool_max_conns and the like apply to the reading pool), brings its schema
// up to date and returns it. Tables live in the first schema of the search
// path, so one database can hold several deployments. Migrations are in
// migrate.go.
func Open(ctx context.Context, connString string, opts ...Option) (*DB, error) {
	if err := CheckURL(connString); err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	readCfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if readCfg.ConnConfig.ConnectTimeout == 0 {
		readCfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	// A dead connection is noticed before a request uses it.
	readCfg.PingTimeout = pingTimeout

	writeCfg := readCfg.Copy()
	writeCfg.MaxConns, writeCfg.MinConns = 1, 1
	params := writeCfg.ConnConfig.RuntimeParams
	if params["synchronous_commit"] == "" {
		// The server's or database's default might be off; an acknowledged
		// registration must be flushed (and replicated, when the primary
		// has synchronous standbys configured).
		params["synchronous_commit"] = "on"
	}
	// A node that stalls inside a batch (paused, partitioned) would hold the
	// lock every node's writer takes; the server ends such a transaction.
	params["idle_in_transaction_session_timeout"] = "10s"
	// The writer's statements are planned for the table as it is at each
	// execution. Left to itself, PostgreSQL switches a prepared statement
	// to a generic plan after five runs; made while the table was nearly
	// empty (a fresh deployment's first seconds), the plan of the batch's
	// "document_hash = ANY($1)" was a sequential scan, kept as the table
	// grew: one scan of every registration per batch (283 scans of 4 M rows
	// in a 10 s run at 200 connections, 3,000 registrations/s).
	params["plan_cache_mode"] = "force_custom_plan"

	db := &DB{}
	db.Rules = booking.New(engine{db})
	if db.read, err = pgxpool.NewWithConfig(ctx, readCfg); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if db.write, err = pgxpool.NewWithConfig(ctx, writeCfg); err != nil {
		db.read.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := db.migrate(ctx, readCfg, connString, options(opts)); err != nil {
		db.Close()
		return nil, err
	}
	var tableOID uint32
	if err := db.read.QueryRow(ctx, `SELECT 'registrations'::regclass::oid, n.oid
		FROM pg_namespace n WHERE n.nspname = current_schema()`).Scan(&tableOID, &db.schemaOID); err != nil {
		db.Close()
		return nil, fmt.Errorf("read schema: %w", err)
	}
	db.registrationsLock = int32(tableOID)
	return db, nil
}

// Ping reports whether the database takes writes: reachable, and a primary
// rather than a standby (after a failover the old primary may come back as
// one).
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	var standby bool
	if err := db.read.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&standby); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	if standby {
		return errors.New("ping postgres: the database is a read-only standby")
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	if db.write != nil {
		db.write.Close()
	}
	if db.read != nil {
		db.read.Close()
	}
	return nil
}
