package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/turnero"
)

// Deployment reads what the database says about itself.
func (db *DB) Deployment(ctx context.Context) (turnero.Deployment, error) {
	return readDeployment(ctx, db.read)
}

func readDeployment(ctx context.Context, q querier) (turnero.Deployment, error) {
	var d turnero.Deployment
	var applied *time.Time
	err := q.QueryRow(ctx, `SELECT database_id, code_salt, epoch, campaign_id, rules_hash, campaign_source,
		campaign_applied_at FROM deployment WHERE id = 1`).Scan(&d.DatabaseID, &d.CodeSalt, &d.Epoch, &d.CampaignID,
		&d.RulesHash, &d.CampaignSource, &applied)
	if err != nil {
		return d, fmt.Errorf("deployment: %w", err)
	}
	if applied != nil {
		d.CampaignAppliedAt = applied.UTC()
	}
	rows, err := q.Query(ctx, `SELECT epoch, after_seq, floor, restored_at FROM restores ORDER BY epoch`)
	if err != nil {
		return d, fmt.Errorf("deployment: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r turnero.Restore
		if err := rows.Scan(&r.Epoch, &r.After, &r.Floor, &r.RestoredAt); err != nil {
			return d, fmt.Errorf("deployment: %w", err)
		}
		r.RestoredAt = r.RestoredAt.UTC()
		d.Restores = append(d.Restores, r)
	}
	return d, rows.Err()
}

// PinCampaign pins a campaign to a database that has none, with its
// centers; the deployment row's lock makes one of several nodes starting
// together the one that pins.
func (db *DB) PinCampaign(ctx context.Context, pin turnero.CampaignPin, centers []turnero.Center) (turnero.Deployment, error) {
	err := db.inTx(ctx, "pin campaign", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE deployment SET campaign_id = $1, rules_hash = $2, campaign_source = $3,
			campaign_applied_at = $4 WHERE id = 1 AND campaign_id = ''`, pin.ID, pin.RulesHash, pin.Source, pin.At)
		if err != nil {
			return fmt.Errorf("pin campaign: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil // pinned already
		}
		return upsertCenters(ctx, tx, centers)
	})
	if err != nil {
		return turnero.Deployment{}, err
	}
	return readDeployment(ctx, db.read)
}

// ApplyCampaign replaces the pinned campaign if its rules are still fromHash.
func (db *DB) ApplyCampaign(ctx context.Context, fromHash string, pin turnero.CampaignPin, centers []turnero.Center) error {
	return db.inTx(ctx, "apply campaign", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE deployment SET campaign_id = $1, rules_hash = $2, campaign_source = $3,
			campaign_applied_at = $4 WHERE id = 1 AND rules_hash = $5 AND campaign_id = $1`,
			pin.ID, pin.RulesHash, pin.Source, pin.At, fromHash)
		if err != nil {
			return fmt.Errorf("apply campaign: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return turnero.ErrCampaignChanged
		}
		return upsertCenters(ctx, tx, centers)
	})
}

// StartEpoch records a restore: sequences continue above the new epoch's
// floor. It takes the lock every node's intake takes to number
// registrations, so no batch numbers from the old epoch meanwhile.
func (db *DB) StartEpoch(ctx context.Context, at time.Time) (turnero.Restore, error) {
	var r turnero.Restore
	err := db.inTx(ctx, "start epoch", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockSpaceRegistrations, db.registrationsLock); err != nil {
			return fmt.Errorf("start epoch: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT epoch + 1 FROM deployment WHERE id = 1 FOR UPDATE`).Scan(&r.Epoch); err != nil {
			return fmt.Errorf("start epoch: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(sequence), 0) FROM registrations`).Scan(&r.After); err != nil {
			return fmt.Errorf("start epoch: %w", err)
		}
		r.Floor, r.RestoredAt = turnero.EpochSequenceFloor(r.Epoch), at.Truncate(time.Microsecond).UTC()
		if r.After >= r.Floor {
			return fmt.Errorf("start epoch: sequence %d is past the floor %d of epoch %d", r.After, r.Floor, r.Epoch)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO restores (epoch, after_seq, floor, restored_at) VALUES ($1, $2, $3, $4)`,
			r.Epoch, r.After, r.Floor, r.RestoredAt); err != nil {
			return fmt.Errorf("start epoch: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE deployment SET epoch = $1 WHERE id = 1`, r.Epoch); err != nil {
			return fmt.Errorf("start epoch: %w", err)
		}
		return nil
	})
	return r, err
}

// RemoveCenter takes a center out of the agenda, or refuses when doses are
// booked there from now on. It moves the allocation version first (see
// package booking's lock order): an allocator computing with the center is
// refused and starts again without it.
func (db *DB) RemoveCenter(ctx context.Context, id string, now time.Time) error {
	return db.inTx(ctx, "remove center "+id, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1`); err != nil {
			return fmt.Errorf("remove center: %w", err)
		}
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM centers WHERE id = $1 FOR UPDATE`, id).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return turnero.ErrCenterNotFound
		}
		if err != nil {
			return fmt.Errorf("remove center: %w", err)
		}
		var future, past bool
		if err := tx.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM slots WHERE center = $1 AND start >= $2 AND booked > 0),
			EXISTS (SELECT 1 FROM slots WHERE center = $1 AND booked > 0)
				OR EXISTS (SELECT 1 FROM appointment_events WHERE center = $1)`, id, now).Scan(&future, &past); err != nil {
			return fmt.Errorf("remove center: %w", err)
		}
		if future {
			return turnero.ErrCenterInUse
		}
		if past {
			_, err = tx.Exec(ctx, `UPDATE centers SET retired_at = $2 WHERE id = $1`, id, now)
		} else {
			_, err = tx.Exec(ctx, `DELETE FROM centers WHERE id = $1`, id)
		}
		if err != nil {
			return fmt.Errorf("remove center: %w", err)
		}
		return nil
	})
}
