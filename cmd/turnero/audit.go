package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"time"

	turnerohttp "github.com/turnero/turnero/internal/http"
	"github.com/turnero/turnero/internal/turnero"
)

// auditSynopsis is the help of "turnero audit".
const auditSynopsis = "turnero audit export " + operatorStorage +
	" [--from DATE] [--to DATE] [--registration SEQ] [--actor LABEL] [--role ROLE] [--action ACTION] [--out FILE.csv]"

// RoleConsole is the role the audit trail gives an operator at the
// console: commands run with access to the data directory or the database
// need no token.
const roleConsole = "console"

// consoleAudit records what an operator command did, naming the command and
// the account that ran it.
func consoleAudit(ctx context.Context, store turnero.AuditStore, command, action string, regs []int64, detail string) error {
	who := command
	if u, err := user.Current(); err == nil {
		who += " (" + u.Username + ")"
	}
	_, err := store.AppendAudit(ctx, []turnero.AuditEntry{{At: time.Now(), Actor: who, Role: roleConsole,
		Action: action, Registrations: regs, Detail: detail}})
	return err
}

// cmdAudit: turnero audit export writes the audit trail, or the part the
// filters select, as CSV (the columns of GET /v1/admin/audit?format=csv).
func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 || args[0] != "export" {
		return subcommandUsage(args, auditSynopsis, stdout, stderr)
	}
	var q turnero.AuditQuery
	var from, to, out string
	sys, rest, err := operatorSystem(ctx, "audit export", auditSynopsis, args[1:], stdout, stderr, log, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "entries at or after this date (YYYY-MM-DD, the campaign's time zone) or RFC 3339 time")
		fs.StringVar(&to, "to", "", "entries before this date or time")
		fs.Int64Var(&q.Registration, "registration", 0, "only entries naming this registration (its sequence): who has seen a person's data")
		fs.StringVar(&q.Actor, "actor", "", "only entries of this actor (a token's label)")
		fs.StringVar(&q.Role, "role", "", "only entries of this role")
		fs.StringVar(&q.Action, "action", "", "only entries of this action (check_in, feed_read, ...)")
		fs.StringVar(&out, "out", "", "write to this file (created 0600) instead of standard output")
	})
	if err != nil {
		return err
	}
	defer sys.store.Close()
	if len(rest) != 0 {
		return fmt.Errorf("audit export: unexpected arguments %v", rest)
	}
	loc := sys.campaign.Location
	for _, f := range []struct {
		name, v string
		dst     *time.Time
	}{{"from", from, &q.From}, {"to", to, &q.To}} {
		if f.v == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", f.v, loc)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, f.v); err != nil {
				return fmt.Errorf("audit export: setting %s: %q is neither a date YYYY-MM-DD nor an RFC 3339 time", f.name, f.v)
			}
		}
		*f.dst = t
	}
	w := stdout
	if out != "" {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("audit export: setting out: %w", err)
		}
		defer f.Close()
		w = f
	}
	// The export is itself a read of the trail: recorded first, so that
	// it is in what it exports.
	var regs []int64
	if q.Registration != 0 {
		regs = []int64{q.Registration}
	}
	if err := consoleAudit(ctx, sys.store, "turnero audit export", turnero.AuditAuditRead, regs, ""); err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	q.Limit = turnero.MaxAuditPage
	n := 0
	for {
		page, err := sys.store.AuditEntries(ctx, q)
		if err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
		if err := turnerohttp.WriteAuditCSV(w, page, loc, n == 0); err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
		n += len(page)
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].ID
	}
	if f, ok := w.(*os.File); ok && out != "" {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
	}
	fmt.Fprintf(stderr, "%d audit entries exported\n", n)
	return nil
}
