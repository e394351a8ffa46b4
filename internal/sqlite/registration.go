package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.RegistrationStore = (*DB)(nil)

// InsertRegistrations stores a batch in one transaction and one fsync. The
// sequence and group ordinals continue from what the table holds, read inside
// the write transaction, so they continue after a crash without reusing a
// number and stay right if another process wrote in between. The document
// index is updated only once the transaction is durable.
func (db *DB) InsertRegistrations(ctx context.Context, batch []turnero.NewRegistration) ([]turnero.InsertOutcome, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin registration batch: %w", err)
	}
	defer tx.Rollback()
	out, keys, seqs, err := db.insertBatch(ctx, tx, batch)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit registration batch: %w", err)
	}
	db.docs.add(keys, seqs)
	return out, nil
}

func (db *DB) insertBatch(ctx context.Context, tx *sql.Tx, batch []turnero.NewRegistration) (
	out []turnero.InsertOutcome, keys [][hashKeyLen]byte, seqs []int64, err error) {
	newDocs := tx.StmtContext(ctx, db.newDocuments)
	err = db.docs.catchUp(ctx, func(ctx context.Context, after int64) (*sql.Rows, error) {
		return newDocs.QueryContext(ctx, after)
	})
	if err != nil {
		return nil, nil, nil, err
	}
	bySeq := tx.StmtContext(ctx, db.bySequenceWrite)
	maxOrdinal := tx.StmtContext(ctx, db.maxOrdinal)

	// After a restore, sequences continue above the epoch's floor: never
	// again one given before it, lost with the data restored over.
	seq := max(db.docs.last(), db.floor.Load())
	ordinals := make(map[string]int64, 4)
	inBatch := make(map[[hashKeyLen]byte]int, len(batch)) // document → index in out
	out = make([]turnero.InsertOutcome, len(batch))
	keys = make([][hashKeyLen]byte, 0, len(batch))
	seqs = make([]int64, 0, len(batch))
	fresh := make([]int, 0, len(batch)) // indexes of new registrations, in order
	for i := range batch {
		nr := batch[i]
		k, ok := hashKey(nr.DocumentHash)
		if !ok {
			return nil, nil, nil, fmt.Errorf("registration with a document hash of %d bytes", len(nr.DocumentHash))
		}
		if j, ok := inBatch[k]; ok {
			out[i] = outcomeForExisting(out[j].Registration, nr)
			continue
		}
		if existingSeq, ok := db.docs.lookup(nr.DocumentHash); ok {
			existing, err := scanRegistration(bySeq.QueryRowContext(ctx, existingSeq))
			if err != nil {
				return nil, nil, nil, fmt.Errorf("read registration %d: %w", existingSeq, err)
			}
			out[i] = outcomeForExisting(existing, nr)
			continue
		}
		ord, ok := ordinals[nr.Group]
		if !ok {
			if err := maxOrdinal.QueryRowContext(ctx, nr.Group).Scan(&ord); err != nil {
				return nil, nil, nil, fmt.Errorf("read last ordinal of %s: %w", nr.Group, err)
			}
		}
		seq++
		ord++
		ordinals[nr.Group] = ord
		out[i].Registration = turnero.Registration{NewRegistration: nr, Sequence: seq, GroupOrdinal: ord, Status: turnero.StatusWaiting}
		inBatch[k] = i
		keys = append(keys, k)
		seqs = append(seqs, seq)
		fresh = append(fresh, i)
	}
	if err := db.insertRows(ctx, tx, out, fresh); err != nil {
		return nil, nil, nil, err
	}
	return out, keys, seqs, nil
}

// insertRows writes the new registrations with multi-row INSERTs of
// insertChunks rows: per row, a statement execution through database/sql
// cost more than the row itself.
func (db *DB) insertRows(ctx context.Context, tx *sql.Tx, out []turnero.InsertOutcome, fresh []int) error {
	args := make([]any, 0, insertColumns*insertChunks[0])
	for len(fresh) > 0 {
		c := 0
		for c < len(insertChunks)-1 && insertChunks[c] > len(fresh) {
			c++
		}
		n := insertChunks[c]
		args = args[:0]
		for _, i := range fresh[:n] {
			r := &out[i].Registration
			args = append(args, r.Sequence, r.DocumentHash, r.IdentityHash, r.Group, r.GroupOrdinal,
				r.Department, r.Age, r.Channel, r.KeyID, r.Sealed, r.ReceivedAt.UnixMilli())
		}
		if _, err := tx.StmtContext(ctx, db.inserts[c]).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert registrations: %w", err)
		}
		fresh = fresh[n:]
	}
	return nil
}

// outcomeForExisting decides between "the same person again" and "someone
// else with the same document".
func outcomeForExisting(existing turnero.Registration, nr turnero.NewRegistration) turnero.InsertOutcome {
	if bytes.Equal(existing.IdentityHash, nr.IdentityHash) {
		return turnero.InsertOutcome{Registration: existing, Duplicate: true}
	}
	return turnero.InsertOutcome{Err: turnero.ErrIdentityClash}
}

// RegistrationBySequence returns the registration with that sequence number.
func (db *DB) RegistrationBySequence(ctx context.Context, sequence int64) (turnero.Registration, error) {
	r, err := scanRegistration(db.bySequence.QueryRowContext(ctx, sequence))
	if err != nil && !errors.Is(err, turnero.ErrNotFound) {
		return r, fmt.Errorf("registration by sequence: %w", err)
	}
	return r, err
}

// RegistrationByDocument returns the registration with that document hash.
func (db *DB) RegistrationByDocument(ctx context.Context, documentHash []byte) (turnero.Registration, error) {
	seq, ok := db.docs.lookup(documentHash)
	if !ok {
		// Perhaps registered by another process since we last looked.
		err := db.docs.catchUp(ctx, func(ctx context.Context, after int64) (*sql.Rows, error) {
			return db.newDocumentsRead.QueryContext(ctx, after)
		})
		if err != nil {
			return turnero.Registration{}, fmt.Errorf("registration by document: %w", err)
		}
		if seq, ok = db.docs.lookup(documentHash); !ok {
			return turnero.Registration{}, turnero.ErrNotFound
		}
	}
	return db.RegistrationBySequence(ctx, seq)
}

// WaitingPosition is the place in line of a waiting registration, from the
// allocation cursors (position.go): cheap with millions scheduled.
func (db *DB) WaitingPosition(ctx context.Context, group string, ordinal int64) (int64, error) {
	return db.waitingPosition(ctx, group, ordinal)
}

func scanRegistration(row *sql.Row) (turnero.Registration, error) {
	var r turnero.Registration
	var received int64
	err := row.Scan(&r.Sequence, &r.DocumentHash, &r.IdentityHash, &r.Group, &r.GroupOrdinal,
		&r.Department, &r.Age, &r.Channel, &r.Status, &r.KeyID, &r.Sealed, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return r, turnero.ErrNotFound
	}
	if err != nil {
		return r, err
	}
	r.ReceivedAt = time.UnixMilli(received).UTC()
	return r, nil
}
