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
// sequence and group ordinals are read from the table inside the write
// transaction, so they continue after a crash without gaps being reused and
// stay right if another process wrote in between.
func (db *DB) InsertRegistrations(ctx context.Context, batch []turnero.NewRegistration) ([]turnero.InsertOutcome, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin registration batch: %w", err)
	}
	defer tx.Rollback()
	out, err := insertBatch(ctx, tx, db, batch)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit registration batch: %w", err)
	}
	return out, nil
}

func insertBatch(ctx context.Context, tx *sql.Tx, db *DB, batch []turnero.NewRegistration) ([]turnero.InsertOutcome, error) {
	insert := tx.StmtContext(ctx, db.insert)
	byDoc := tx.StmtContext(ctx, db.byDocWrite)
	maxOrdinal := tx.StmtContext(ctx, db.maxOrdinal)

	var seq int64
	if err := tx.StmtContext(ctx, db.maxSequence).QueryRowContext(ctx).Scan(&seq); err != nil {
		return nil, fmt.Errorf("read last sequence: %w", err)
	}
	ordinals := make(map[string]int64, 4)
	out := make([]turnero.InsertOutcome, len(batch))
	for i := range batch {
		nr := batch[i]
		ord, ok := ordinals[nr.Group]
		if !ok {
			if err := maxOrdinal.QueryRowContext(ctx, nr.Group).Scan(&ord); err != nil {
				return nil, fmt.Errorf("read last ordinal of %s: %w", nr.Group, err)
			}
		}
		res, err := insert.ExecContext(ctx, seq+1, nr.DocumentHash, nr.IdentityHash, nr.Group, ord+1,
			nr.Department, nr.Age, nr.Channel, nr.KeyID, nr.Sealed, nr.ReceivedAt.UnixMilli())
		if err != nil {
			return nil, fmt.Errorf("insert registration: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, fmt.Errorf("insert registration: %w", err)
		}
		if n == 1 {
			seq++
			ord++
			out[i].Registration = turnero.Registration{NewRegistration: nr, Sequence: seq, GroupOrdinal: ord, Status: turnero.StatusWaiting}
		} else {
			// The document is registered already (possibly earlier in
			// this very batch).
			existing, err := scanRegistration(byDoc.QueryRowContext(ctx, nr.DocumentHash))
			if err != nil {
				return nil, fmt.Errorf("read existing registration: %w", err)
			}
			out[i] = outcomeForExisting(existing, nr)
		}
		ordinals[nr.Group] = ord
	}
	return out, nil
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
	r, err := scanRegistration(db.byDoc.QueryRowContext(ctx, documentHash))
	if err != nil && !errors.Is(err, turnero.ErrNotFound) {
		return r, fmt.Errorf("registration by document: %w", err)
	}
	return r, err
}

// WaitingPosition counts the waiting registrations of a group up to ordinal:
// the ordinal less those ahead that already left the list.
func (db *DB) WaitingPosition(ctx context.Context, group string, ordinal int64) (int64, error) {
	var departed int64
	if err := db.departedBefore.QueryRowContext(ctx, group, ordinal).Scan(&departed); err != nil {
		return 0, fmt.Errorf("waiting position: %w", err)
	}
	return ordinal - departed, nil
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
