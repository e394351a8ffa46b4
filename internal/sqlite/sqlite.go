// Package sqlite stores turnero's data in an embedded SQLite database: WAL,
// synchronous=FULL (a commit is on disk before it returns), one writer
// connection and a pool of readers. SQL of this dialect stays in this package.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/turnero/turnero/internal/booking"
	"github.com/turnero/turnero/internal/turnero"
)

// DB is an open turnero database. The booking rules (package booking) are
// embedded over this engine's primitives (booking.go).
type DB struct {
	booking.Rules

	path        string
	write       *sql.DB // one connection: SQLite has one writer at a time
	read        *readPool
	docs        *documentIndex
	checkpoints *checkpointer
	// floor is the sequence new registrations continue after at least:
	// the current epoch's (turnero.EpochSequenceFloor), above every
	// sequence given before the last restore.
	floor atomic.Int64

	inserts          []*sql.Stmt // on write, one per insertChunks size
	bySequenceWrite  *sql.Stmt   // on write
	newDocuments     *sql.Stmt   // on write
	newDocumentsRead *sql.Stmt   // on read
	maxOrdinal       *sql.Stmt   // on write
	bySequence       *sql.Stmt   // on read
}

// role says what a connection pool is for; each gets its own settings.
type role int

const (
	roleWrite role = iota
	roleRead
	roleCheckpoint
)

func dsn(path string, r role) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL: the WAL is fsynced at every commit, so an acknowledged
	// registration survives a power cut, not only a crash of the process.
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	// A larger page cache keeps hot pages in memory (the default 2 MB cache
	// read pages back with a syscall each), within the intake's memory
	// budget: 64 MB for the writer, 16 MB for each reader.
	// No memory-mapped I/O: each of the five connections mapped the file
	// on its own, and the process's resident size counted the database up
	// to five times (1 GB at 800,000 registrations for a 180 MB file).
	switch r {
	case roleRead:
		q.Add("_pragma", "cache_size(-16384)")
		q.Add("_pragma", "query_only(1)")
	case roleWrite:
		q.Add("_pragma", "cache_size(-65536)")
		// The checkpointer copies the WAL back, not the commits (checkpoint.go).
		q.Add("_pragma", "wal_autocheckpoint(0)")
		// Write transactions take the lock at BEGIN: a deferred transaction
		// that reads then writes fails at once with "database is locked" when
		// another writer got there first.
		q.Set("_txlock", "immediate")
	case roleCheckpoint:
		q.Add("_pragma", "wal_autocheckpoint(0)")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// openOne opens a pool of one connection, kept for the life of the DB: the
// writer (SQLite has one at a time) and the checkpointer.
func openOne(path string, r role) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path, r))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	return db, nil
}

// bulk is where the allocator's long reads go: the writer's connection.
// In WAL mode a connection empties its page cache whenever another one has
// written since its last read, and modernc's SQLite keeps every
// connection's pages in one group under one lock. A reader that had scanned
// tens of thousands of rows freed them all, page by page, under that lock,
// at its next read, and intake's writer waited for it: up to 2 s at the
// start of an allocation run. The writer's own cache is never emptied (no
// one else writes), so the allocator reads through it, in pages short
// enough (allocate.ServeConfig) for intake to commit between.
func (db *DB) bulk() *sql.DB { return db.write }

// Open opens (creating if needed) the database at path and brings its schema
// up to date (migrate.go).
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	if err := privateFiles(path); err != nil {
		return nil, err
	}
	write, err := openOne(path, roleWrite)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := &DB{path: path, write: write, docs: newDocumentIndex()}
	db.Rules = booking.New(engine{db})
	if err := db.migrate(ctx, options(opts)); err != nil {
		write.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", dsn(path, roleRead))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	n := 2 * runtime.GOMAXPROCS(0)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxLifetime(0)
	db.read = newReadPool(read)
	if db.checkpoints, err = startCheckpointer(ctx, path); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// Load the document index now rather than on the first registration.
	if err := db.docs.catchUp(ctx, func(ctx context.Context, after int64) (*sql.Rows, error) {
		return db.newDocumentsRead.QueryContext(ctx, after)
	}); err != nil {
		db.Close()
		return nil, err
	}
	d, err := db.Deployment(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	db.floor.Store(turnero.EpochSequenceFloor(d.Epoch))
	return db, nil
}

const registrationColumns = `sequence, document_hash, identity_hash, grp, group_ordinal,
	department, age, channel, status, key_id, personal_data, received_at`

// insertChunks are the row counts of the prepared multi-row INSERTs, largest
// first; a batch is written with as many of the largest as fit.
var insertChunks = []int{64, 16, 4, 1}

// insertColumns is the number of values bound per registration row.
const insertColumns = 11

func insertStatement(rows int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO registrations (sequence, document_hash, identity_hash, grp, group_ordinal,
		department, age, channel, key_id, personal_data, received_at) VALUES `)
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?)")
	}
	return b.String()
}

func (db *DB) prepare(ctx context.Context) error {
	stmts := []struct {
		dst  **sql.Stmt
		on   *sql.DB
		text string
	}{
		{&db.bySequenceWrite, db.write, `SELECT ` + registrationColumns + ` FROM registrations WHERE sequence = ?`},
		{&db.newDocuments, db.write, `SELECT document_hash, sequence FROM registrations WHERE sequence > ? ORDER BY sequence`},
		{&db.newDocumentsRead, db.read.DB, `SELECT document_hash, sequence FROM registrations WHERE sequence > ? ORDER BY sequence`},
		{&db.maxOrdinal, db.write, `SELECT COALESCE(MAX(group_ordinal), 0) FROM registrations WHERE grp = ?`},
		{&db.bySequence, db.read.DB, `SELECT ` + registrationColumns + ` FROM registrations WHERE sequence = ?`},
	}
	for _, n := range insertChunks {
		st, err := db.write.PrepareContext(ctx, insertStatement(n))
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		db.inserts = append(db.inserts, st)
	}
	for _, s := range stmts {
		st, err := s.on.PrepareContext(ctx, s.text)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		*s.dst = st
	}
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.path, err)
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.checkpoints != nil {
		errs = append(errs, db.checkpoints.close())
	}
	errs = append(errs, db.write.Close())
	return errors.Join(errs...)
}
