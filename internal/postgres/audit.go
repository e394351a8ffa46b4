package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.AuditStore = (*DB)(nil)

// AppendAudit appends entries in one transaction. IDs come from the largest
// one stored, under a transaction-level advisory lock that every node takes
// for the trail: they increase in commit order, so a reader that pages by ID
// never passes over an entry that committed after a later one (an identity
// column hands out numbers before commit). The audit is written a few times
// a second by staff, never by intake: waiting for that lock costs nothing.
func (db *DB) AppendAudit(ctx context.Context, entries []turnero.AuditEntry) ([]turnero.AuditEntry, error) {
	out := make([]turnero.AuditEntry, len(entries))
	for i := range entries {
		if err := entries[i].Check(); err != nil {
			return nil, fmt.Errorf("append audit: %w", err)
		}
		out[i] = entries[i]
		out[i].Registrations = append([]int64(nil), entries[i].Registrations...)
		out[i].At = entries[i].At.Truncate(time.Microsecond).UTC()
	}
	err := db.inTx(ctx, "append audit", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockSpaceAudit, int32(db.schemaOID)); err != nil {
			return fmt.Errorf("append audit: lock: %w", err)
		}
		var last int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM audit_log`).Scan(&last); err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
		for i := range out {
			e := &out[i]
			last++
			e.ID = last
			regs := e.Registrations
			if regs == nil {
				regs = []int64{}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO audit_log (id, at, actor, role, token_id, action, address, detail, registrations)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, e.ID, e.At, e.Actor, e.Role, e.TokenID, e.Action, e.Address,
				e.Detail, regs); err != nil {
				return fmt.Errorf("append audit: %w", err)
			}
			if len(regs) > 0 {
				if _, err := tx.Exec(ctx, `INSERT INTO audit_registrations (sequence, audit_id)
					SELECT DISTINCT s, $2::bigint FROM unnest($1::bigint[]) AS s`, regs, e.ID); err != nil {
					return fmt.Errorf("append audit: registrations: %w", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AuditEntries reads the entries q selects, oldest first.
func (db *DB) AuditEntries(ctx context.Context, q turnero.AuditQuery) ([]turnero.AuditEntry, error) {
	var b strings.Builder
	b.WriteString(`SELECT a.id, a.at, a.actor, a.role, a.token_id, a.action, a.address, a.detail, a.registrations FROM audit_log a`)
	args := []any{}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Registration != 0 {
		b.WriteString(` JOIN audit_registrations r ON r.audit_id = a.id AND r.sequence = ` + arg(q.Registration))
	}
	b.WriteString(` WHERE a.id > ` + arg(q.After))
	if !q.From.IsZero() {
		b.WriteString(` AND a.at >= ` + arg(q.From))
	}
	if !q.To.IsZero() {
		b.WriteString(` AND a.at < ` + arg(q.To))
	}
	for _, f := range []struct{ col, v string }{{"actor", q.Actor}, {"role", q.Role}, {"action", q.Action}} {
		if f.v != "" {
			b.WriteString(` AND a.` + f.col + ` = ` + arg(f.v))
		}
	}
	b.WriteString(` ORDER BY a.id LIMIT ` + arg(q.PageSize()))
	rows, err := db.read.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	var out []turnero.AuditEntry
	var e turnero.AuditEntry
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.At, &e.Actor, &e.Role, &e.TokenID, &e.Action, &e.Address, &e.Detail,
		&e.Registrations}, func() error {
		c := e
		c.At = c.At.UTC()
		if len(c.Registrations) == 0 {
			c.Registrations = nil
		} else {
			c.Registrations = append([]int64(nil), c.Registrations...)
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	return out, nil
}
