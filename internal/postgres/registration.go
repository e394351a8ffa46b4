package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.RegistrationStore = (*DB)(nil)

const registrationColumns = `sequence, document_hash, identity_hash, grp, group_ordinal,
	department, age, channel, status, key_id, personal_data, received_at`

// InsertRegistrations stores a batch from this node's single writer in one
// transaction, so one WAL flush makes all of it durable.
//
// Ordering across nodes. Each batch first takes a transaction-level advisory
// lock (pg_advisory_xact_lock) that every node's writer takes, then reads the
// last sequence and group ordinals (MAX over the primary key and the
// (grp, group_ordinal) index, as the SQLite engine does) and which documents
// of the batch exist already. The lock is released only once the commit is
// durable and visible, so the next batch, from whichever node, sees it:
// sequences are unique, increasing in commit order, with no gaps, and a person
// submitted to two nodes at once is found by the second batch and answered as
// a duplicate, exactly as within one node.
//
// Why this and not the alternatives: a SEQUENCE hands out numbers outside the
// transaction, so a batch that took numbers first can commit last, and an
// allocator reading the list in order could pass over people who then appear
// behind it. A counter row (UPDATE ... RETURNING) would order batches the
// same way, but it must be locked before we know how many of the batch are new,
// updated at the end (one more write and dead tuple per batch), and kept in
// step with the table; MAX() under the lock is derived from the registrations
// themselves, like the SQLite engine, and costs two index probes. The price of
// either is that batches of all nodes commit one after another: throughput is
// a batch per commit (a few milliseconds), and each node's writer grows its
// batch while it waits, which is what group commit is for.
func (db *DB) InsertRegistrations(ctx context.Context, batch []turnero.NewRegistration) ([]turnero.InsertOutcome, error) {
	out := make([]turnero.InsertOutcome, len(batch))
	if len(batch) == 0 {
		return out, nil
	}
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	err := db.insertBatch(ctx, batch, out)
	if err != nil && pgconn.SafeToRetry(err) {
		// Nothing reached the server (typically a pooled connection that
		// died with a restart of PostgreSQL): one more try on a new one.
		clear(out)
		err = db.insertBatch(ctx, batch, out)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (db *DB) insertBatch(ctx context.Context, batch []turnero.NewRegistration, out []turnero.InsertOutcome) error {
	tx, err := db.write.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin registration batch: %w", err)
	}
	defer tx.Rollback(context.Background())

	docs := make([][]byte, len(batch))
	groups := make([]string, 0, 4)
	for i := range batch {
		docs[i] = batch[i].DocumentHash
		if !contains(groups, batch[i].Group) {
			groups = append(groups, batch[i].Group)
		}
	}

	// One round trip: the lock, then reads that each take their snapshot
	// after it is granted (READ COMMITTED), so they see every batch committed
	// before ours.
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, lockSpaceRegistrations, db.registrationsLock)
	// After a restore, sequences continue above the epoch's floor: never
	// again one given before it, lost with the data restored over.
	b.Queue(`SELECT GREATEST((SELECT COALESCE(MAX(sequence), 0) FROM registrations),
		(SELECT epoch << 40 FROM deployment WHERE id = 1))`)
	b.Queue(`SELECT g, COALESCE((SELECT MAX(group_ordinal) FROM registrations WHERE grp = g), 0)
		FROM unnest($1::text[]) AS g`, groups)
	b.Queue(`SELECT `+registrationColumns+` FROM registrations WHERE document_hash = ANY($1)`, docs)
	br := tx.SendBatch(ctx, b)
	var seq int64
	ordinals := make(map[string]int64, len(groups))
	existing := make(map[string]turnero.Registration)
	err = func() error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("lock registrations: %w", err)
		}
		if err := br.QueryRow().Scan(&seq); err != nil {
			return fmt.Errorf("read last sequence: %w", err)
		}
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("read last ordinals: %w", err)
		}
		var g string
		var ord int64
		if _, err := pgx.ForEachRow(rows, []any{&g, &ord}, func() error { ordinals[g] = ord; return nil }); err != nil {
			return fmt.Errorf("read last ordinals: %w", err)
		}
		if rows, err = br.Query(); err != nil {
			return fmt.Errorf("read existing registrations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRegistration(rows)
			if err != nil {
				return fmt.Errorf("read existing registrations: %w", err)
			}
			existing[string(r.DocumentHash)] = r
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read existing registrations: %w", err)
		}
		return nil
	}()
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("registration batch: %w", cerr)
	}
	if err != nil {
		return err
	}

	// Decide each outcome in order, as the SQLite engine does row by row: a
	// document seen before (stored, or earlier in this batch) is the same
	// person again or someone else with that document.
	fresh := make([]*turnero.Registration, 0, len(batch))
	for i := range batch {
		nr := batch[i]
		if r, ok := existing[string(nr.DocumentHash)]; ok {
			out[i] = outcomeForExisting(r, nr)
			continue
		}
		seq++
		ordinals[nr.Group]++
		// Stored with microsecond precision; answer with what is stored.
		nr.ReceivedAt = nr.ReceivedAt.Truncate(time.Microsecond)
		out[i].Registration = turnero.Registration{NewRegistration: nr, Sequence: seq,
			GroupOrdinal: ordinals[nr.Group], Status: turnero.StatusWaiting}
		existing[string(nr.DocumentHash)] = out[i].Registration
		fresh = append(fresh, &out[i].Registration)
	}
	if len(fresh) == 0 {
		return nil // nothing to write; the deferred rollback ends the transaction
	}
	// COPY: the fastest way in (BenchmarkInsertMethods). Sending the rows
	// and the commit in one round trip (unnest INSERT + COMMIT pipelined),
	// or the whole batch as one statement, to hold the lock for fewer round
	// trips, measured no better with one or three nodes (BENCHMARKS.md,
	// PostgreSQL), so the simplest stays. No ON CONFLICT
	// is needed under the lock; if a writer that does not take it ever
	// inserted the same document, the unique index would fail the whole batch
	// and nobody would be told yes.
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"registrations"}, copyColumns, pgx.CopyFromSlice(len(fresh), func(i int) ([]any, error) {
		r := fresh[i]
		return []any{r.Sequence, r.DocumentHash, r.IdentityHash, r.Group, r.GroupOrdinal, r.Department,
			int32(r.Age), r.Channel, r.Status, r.KeyID, r.Sealed, r.ReceivedAt}, nil
	}))
	if err != nil {
		return fmt.Errorf("insert registrations: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		// The outcome may be unknown (the connection broke while COMMIT was
		// in flight). Saying "try again" is safe: a retry finds the
		// registration if it was stored after all.
		return fmt.Errorf("commit registration batch: %w", err)
	}
	return nil
}

var copyColumns = []string{"sequence", "document_hash", "identity_hash", "grp", "group_ordinal",
	"department", "age", "channel", "status", "key_id", "personal_data", "received_at"}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// outcomeForExisting decides between "the same person again" and "someone
// else with the same document"; the latter never sees the registration.
func outcomeForExisting(existing turnero.Registration, nr turnero.NewRegistration) turnero.InsertOutcome {
	if bytes.Equal(existing.IdentityHash, nr.IdentityHash) {
		return turnero.InsertOutcome{Registration: existing, Duplicate: true}
	}
	return turnero.InsertOutcome{Err: turnero.ErrIdentityClash}
}

// RegistrationBySequence returns the registration with that sequence number.
func (db *DB) RegistrationBySequence(ctx context.Context, sequence int64) (turnero.Registration, error) {
	r, err := scanRegistration(db.read.QueryRow(ctx,
		`SELECT `+registrationColumns+` FROM registrations WHERE sequence = $1`, sequence))
	if err != nil && !errors.Is(err, turnero.ErrNotFound) {
		return r, fmt.Errorf("registration by sequence: %w", err)
	}
	return r, err
}

// RegistrationByDocument returns the registration with that document hash.
func (db *DB) RegistrationByDocument(ctx context.Context, documentHash []byte) (turnero.Registration, error) {
	r, err := scanRegistration(db.read.QueryRow(ctx,
		`SELECT `+registrationColumns+` FROM registrations WHERE document_hash = $1`, documentHash))
	if err != nil && !errors.Is(err, turnero.ErrNotFound) {
		return r, fmt.Errorf("registration by document: %w", err)
	}
	return r, err
}

func scanRegistration(row pgx.Row) (turnero.Registration, error) {
	var r turnero.Registration
	var age int32
	err := row.Scan(&r.Sequence, &r.DocumentHash, &r.IdentityHash, &r.Group, &r.GroupOrdinal,
		&r.Department, &age, &r.Channel, &r.Status, &r.KeyID, &r.Sealed, &r.ReceivedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, turnero.ErrNotFound
	}
	if err != nil {
		return r, err
	}
	r.Age = int(age)
	r.ReceivedAt = r.ReceivedAt.UTC()
	return r, nil
}
