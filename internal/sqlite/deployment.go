package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// Deployment reads what the database says about itself.
func (db *DB) Deployment(ctx context.Context) (turnero.Deployment, error) {
	return readDeployment(ctx, db.read)
}

func readDeployment(ctx context.Context, q querier) (turnero.Deployment, error) {
	var d turnero.Deployment
	var applied int64
	err := q.QueryRowContext(ctx, `SELECT database_id, code_salt, epoch, campaign_id, rules_hash, campaign_source,
		campaign_applied_at FROM deployment WHERE id = 1`).Scan(&d.DatabaseID, &d.CodeSalt, &d.Epoch, &d.CampaignID,
		&d.RulesHash, &d.CampaignSource, &applied)
	if err != nil {
		return d, fmt.Errorf("deployment: %w", err)
	}
	if applied != 0 {
		d.CampaignAppliedAt = time.UnixMilli(applied).UTC()
	}
	rows, err := q.QueryContext(ctx, `SELECT epoch, after_seq, floor, restored_at FROM restores ORDER BY epoch`)
	if err != nil {
		return d, fmt.Errorf("deployment: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r turnero.Restore
		var at int64
		if err := rows.Scan(&r.Epoch, &r.After, &r.Floor, &at); err != nil {
			return d, fmt.Errorf("deployment: %w", err)
		}
		r.RestoredAt = time.UnixMilli(at).UTC()
		d.Restores = append(d.Restores, r)
	}
	return d, rows.Err()
}

// PinCampaign pins a campaign to a database that has none, with its centers.
func (db *DB) PinCampaign(ctx context.Context, pin turnero.CampaignPin, centers []turnero.Center) (turnero.Deployment, error) {
	err := db.inWriteTx(ctx, "pin campaign", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deployment SET campaign_id = ?, rules_hash = ?, campaign_source = ?,
			campaign_applied_at = ? WHERE id = 1 AND campaign_id = ''`, pin.ID, pin.RulesHash, pin.Source, pin.At.UnixMilli())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // pinned already
		}
		return upsertCenters(ctx, tx, centers)
	})
	if err != nil {
		return turnero.Deployment{}, err
	}
	return readDeployment(ctx, db.write)
}

// ApplyCampaign replaces the pinned campaign if its rules are still fromHash.
func (db *DB) ApplyCampaign(ctx context.Context, fromHash string, pin turnero.CampaignPin, centers []turnero.Center) error {
	return db.inWriteTx(ctx, "apply campaign", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deployment SET campaign_id = ?, rules_hash = ?, campaign_source = ?,
			campaign_applied_at = ? WHERE id = 1 AND rules_hash = ? AND campaign_id = ?`,
			pin.ID, pin.RulesHash, pin.Source, pin.At.UnixMilli(), fromHash, pin.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return turnero.ErrCampaignChanged
		}
		return upsertCenters(ctx, tx, centers)
	})
}

// StartEpoch records a restore: sequences continue above the new epoch's
// floor.
func (db *DB) StartEpoch(ctx context.Context, at time.Time) (turnero.Restore, error) {
	var r turnero.Restore
	err := db.inWriteTx(ctx, "start epoch", func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT epoch + 1 FROM deployment WHERE id = 1`).Scan(&r.Epoch); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(sequence), 0) FROM registrations`).Scan(&r.After); err != nil {
			return err
		}
		r.Floor, r.RestoredAt = turnero.EpochSequenceFloor(r.Epoch), at.Truncate(time.Millisecond).UTC()
		if r.After >= r.Floor {
			return fmt.Errorf("sequence %d is past the floor %d of epoch %d", r.After, r.Floor, r.Epoch)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO restores (epoch, after_seq, floor, restored_at) VALUES (?, ?, ?, ?)`,
			r.Epoch, r.After, r.Floor, r.RestoredAt.UnixMilli()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE deployment SET epoch = ? WHERE id = 1`, r.Epoch)
		return err
	})
	if err == nil {
		db.floor.Store(r.Floor)
	}
	return r, err
}

// RemoveCenter takes a center out of the agenda, or refuses when doses are
// booked there from now on.
func (db *DB) RemoveCenter(ctx context.Context, id string, now time.Time) error {
	return db.inWriteTx(ctx, "remove center "+id, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM centers WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return turnero.ErrCenterNotFound
		}
		if err != nil {
			return err
		}
		var future, past bool
		if err := tx.QueryRowContext(ctx, `SELECT
			EXISTS (SELECT 1 FROM slots WHERE center = ? AND start >= ? AND booked > 0),
			EXISTS (SELECT 1 FROM slots WHERE center = ? AND booked > 0)
				OR EXISTS (SELECT 1 FROM appointment_events WHERE center = ?)`,
			id, now.Unix(), id, id).Scan(&future, &past); err != nil {
			return err
		}
		if future {
			return turnero.ErrCenterInUse
		}
		if past {
			_, err = tx.ExecContext(ctx, `UPDATE centers SET retired_at = ? WHERE id = ?`, now.UnixMilli(), id)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM centers WHERE id = ?`, id)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1`)
		return err
	})
}

// inWriteTx runs fn in a write transaction on the writer and commits it.
// Domain errors from fn are returned as they are.
func (db *DB) inWriteTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin %s: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		var de *turnero.Error
		if errors.As(err, &de) {
			return err
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", what, err)
	}
	return nil
}

// Backup writes a consistent copy of the database to path (which must not
// exist) while it is in use: VACUUM INTO reads one snapshot of the WAL and
// writes a compact database file, fsynced. Intake is not held: in WAL mode
// a reader does not stop the writer, and this runs on its own connection.
func Backup(ctx context.Context, dbPath, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s exists; give a new file", path)
	}
	conn, err := openOne(dbPath, roleCheckpoint)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup of %s: %w", dbPath, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return syncFile(path)
}

// syncFile makes a file written by someone else durable: its data, then
// its name in its directory.
func syncFile(path string) error {
	for _, p := range []string{path, filepath.Dir(path)} {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("sync %s: %w", p, err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("sync %s: %w", p, err)
		}
	}
	return nil
}

// Restore puts the backup at from in place of the database at dbPath, which
// no process may have open (the caller holds the data directory's lock),
// and starts a new epoch in it, so that no tracking code given after the
// backup is ever given again. The database it replaces is kept beside it,
// renamed with aside's suffix. It returns the restore.
func Restore(ctx context.Context, from, dbPath, aside string, at time.Time) (turnero.Restore, error) {
	tmp := dbPath + ".restoring"
	for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		os.Remove(p)
	}
	if err := copyFile(from, tmp); err != nil {
		return turnero.Restore{}, fmt.Errorf("restore: %w", err)
	}
	db, err := Open(ctx, tmp) // brings an older backup's schema up to date, refuses a newer one
	if err != nil {
		os.Remove(tmp)
		return turnero.Restore{}, fmt.Errorf("restore: %s is not a turnero database this binary can open: %w", from, err)
	}
	d, err := db.Deployment(ctx)
	if err == nil && d.CampaignID == "" {
		err = fmt.Errorf("%s holds no campaign: it is not a backup of a database that served", from)
	}
	var r turnero.Restore
	if err == nil {
		r, err = db.StartEpoch(ctx, at)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return r, fmt.Errorf("restore: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return r, err
	}
	if _, err := os.Stat(dbPath); err == nil {
		for _, sfx := range []string{"", "-wal", "-shm"} {
			if err := os.Rename(dbPath+sfx, dbPath+aside+sfx); err != nil && !errors.Is(err, os.ErrNotExist) {
				return r, fmt.Errorf("restore: keep the database it replaces: %w", err)
			}
		}
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return r, fmt.Errorf("restore: %w", err)
	}
	return r, syncFile(dbPath)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
