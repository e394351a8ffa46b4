package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.AuditStore = (*DB)(nil)

// AppendAudit appends entries in one transaction on the writer: their IDs
// are given in commit order (there is one writer).
func (db *DB) AppendAudit(ctx context.Context, entries []turnero.AuditEntry) ([]turnero.AuditEntry, error) {
	out := make([]turnero.AuditEntry, len(entries))
	for i := range entries {
		if err := entries[i].Check(); err != nil {
			return nil, fmt.Errorf("append audit: %w", err)
		}
		out[i] = entries[i]
		out[i].Registrations = append([]int64(nil), entries[i].Registrations...)
	}
	err := db.inWriteTx(ctx, "append audit", func(tx *sql.Tx) error {
		for i := range out {
			e := &out[i]
			err := tx.QueryRowContext(ctx, `INSERT INTO audit_log (at, actor, role, token_id, action, address, detail, registrations)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.At.UnixMilli(), e.Actor, e.Role, e.TokenID, e.Action,
				e.Address, e.Detail, joinSequences(e.Registrations)).Scan(&e.ID)
			if err != nil {
				return err
			}
			e.At = time.UnixMilli(e.At.UnixMilli()).UTC()
			if err := insertAuditRegistrations(ctx, tx, e.ID, e.Registrations); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// insertAuditRegistrations writes the (sequence, entry) pairs in multi-row
// INSERTs: a feed page names up to a thousand people.
func insertAuditRegistrations(ctx context.Context, tx *sql.Tx, id int64, seqs []int64) error {
	const chunk = 200
	for len(seqs) > 0 {
		n := min(chunk, len(seqs))
		var b strings.Builder
		b.WriteString(`INSERT INTO audit_registrations (sequence, audit_id) VALUES `)
		args := make([]any, 0, 2*n)
		for i, s := range seqs[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?)")
			args = append(args, s, id)
		}
		// The same registration named twice in one entry is one pair.
		b.WriteString(` ON CONFLICT DO NOTHING`)
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("audit registrations: %w", err)
		}
		seqs = seqs[n:]
	}
	return nil
}

func joinSequences(seqs []int64) string {
	b := make([]byte, 0, 8*len(seqs))
	for i, s := range seqs {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, s, 10)
	}
	return string(b)
}

func splitSequences(s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	f := strings.Fields(s)
	out := make([]int64, len(f))
	for i, x := range f {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("audit registrations %q: %w", s, err)
		}
		out[i] = n
	}
	return out, nil
}

// AuditEntries reads the entries q selects, oldest first.
func (db *DB) AuditEntries(ctx context.Context, q turnero.AuditQuery) ([]turnero.AuditEntry, error) {
	var b strings.Builder
	b.WriteString(`SELECT a.id, a.at, a.actor, a.role, a.token_id, a.action, a.address, a.detail, a.registrations FROM audit_log a`)
	args := []any{}
	if q.Registration != 0 {
		b.WriteString(` JOIN audit_registrations r ON r.audit_id = a.id AND r.sequence = ?`)
		args = append(args, q.Registration)
	}
	b.WriteString(` WHERE a.id > ?`)
	args = append(args, q.After)
	if !q.From.IsZero() {
		b.WriteString(` AND a.at >= ?`)
		args = append(args, q.From.UnixMilli())
	}
	if !q.To.IsZero() {
		b.WriteString(` AND a.at < ?`)
		args = append(args, q.To.UnixMilli())
	}
	for _, f := range []struct{ col, v string }{{"actor", q.Actor}, {"role", q.Role}, {"action", q.Action}} {
		if f.v != "" {
			b.WriteString(` AND a.` + f.col + ` = ?`)
			args = append(args, f.v)
		}
	}
	b.WriteString(` ORDER BY a.id LIMIT ?`)
	args = append(args, q.PageSize())
	rows, err := db.read.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	defer rows.Close()
	var out []turnero.AuditEntry
	for rows.Next() {
		var e turnero.AuditEntry
		var at int64
		var regs string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Role, &e.TokenID, &e.Action, &e.Address, &e.Detail, &regs); err != nil {
			return nil, fmt.Errorf("audit entries: %w", err)
		}
		e.At = time.UnixMilli(at).UTC()
		if e.Registrations, err = splitSequences(regs); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	return out, nil
}
