package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/turnero/turnero/internal/access"
	turnerohttp "github.com/turnero/turnero/internal/http"
	"github.com/turnero/turnero/internal/turnero"
)

// tokensSynopsis is the help of "turnero tokens".
const tokensSynopsis = "turnero tokens create " + operatorStorage +
	" --role admin|center|feed|analyst|support [--center ID] --label WHO [--expires 90d|YYYY-MM-DD]\n" +
	"       turnero tokens list " + operatorStorage + "\n" +
	"       turnero tokens revoke " + operatorStorage + " ID"

// cmdTokens: create a token (the secret is printed once and stored only as
// its hash), list them, revoke one by its ID.
func cmdTokens(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		return subcommandUsage(args, tokensSynopsis, stdout, stderr)
	}
	switch args[0] {
	case "create":
		return tokensCreate(ctx, args[1:], stdout, stderr, log)
	case "list":
		return tokensList(ctx, args[1:], stdout, stderr, log)
	case "revoke":
		return tokensRevoke(ctx, args[1:], stdout, stderr, log)
	}
	return subcommandUsage(args, tokensSynopsis, stdout, stderr)
}

func tokensCreate(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var req access.NewToken
	var expires string
	sys, rest, err := operatorSystem(ctx, "tokens create", tokensSynopsis, args, stdout, stderr, log, func(fs *flag.FlagSet) {
		fs.StringVar(&req.Role, "role", "", "admin (operators), center (staff of one center), feed (an external scheduling system), "+
			"analyst (aggregates only) or support (phone operators)")
		fs.StringVar(&req.Center, "center", "", "the center a center token is for")
		fs.StringVar(&req.Label, "label", "", "whose token this is (a person and place, or a system): the audit trail names it")
		fs.StringVar(&expires, "expires", "90d", "when it stops working: a number of days (\"30d\", at most 400d) or a date YYYY-MM-DD")
	})
	if err != nil {
		return err
	}
	defer sys.store.Close()
	if len(rest) != 0 {
		return fmt.Errorf("tokens create: unexpected arguments %v", rest)
	}
	now := time.Now()
	if req.ExpiresAt, err = parseExpiry(expires, now, sys.campaign.Location); err != nil {
		return fmt.Errorf("tokens create: setting expires: %w", err)
	}
	secret, t, err := access.Make(req, now, func(id string) bool {
		if campaignHasCenter(sys.campaign, id) {
			return true
		}
		_, err := sys.store.Center(ctx, id)
		return err == nil
	})
	if err != nil {
		return fmt.Errorf("tokens create: %s", fieldProblems(err))
	}
	if err := sys.store.PutToken(ctx, t); err != nil {
		return fmt.Errorf("tokens create: %w", err)
	}
	if err := consoleAudit(ctx, sys.store, "turnero tokens create", turnero.AuditTokenCreate, nil,
		fmt.Sprintf("token %s role %s %s", t.ID(), t.Role, t.Center)); err != nil {
		return fmt.Errorf("tokens create: %w", err)
	}
	fmt.Fprintf(stderr, "%s %s token; it is shown only this once and stored only as a hash (id %s, %q, expires %s):\n",
		article(t.Role), t.Role, t.ID(), t.Label, t.ExpiresAt.In(sys.campaign.Location).Format("2006-01-02 15:04"))
	fmt.Fprintln(stdout, secret)
	return nil
}

// parseExpiry reads "90d" or a date (the end of that day, in the campaign's
// time zone).
func parseExpiry(v string, now time.Time, loc *time.Location) (time.Time, error) {
	if d, ok := strings.CutSuffix(v, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err != nil || fmt.Sprint(n) != d || n < 1 {
			return time.Time{}, fmt.Errorf("%q is not a number of days", v)
		}
		return now.Add(time.Duration(n) * 24 * time.Hour), nil
	}
	day, err := time.ParseInLocation("2006-01-02", v, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a number of days (30d) nor a date YYYY-MM-DD", v)
	}
	return day.AddDate(0, 0, 1), nil
}

// fieldProblems says what is wrong with each setting, in English.
func fieldProblems(err error) string {
	de, ok := err.(*turnero.Error)
	if !ok || len(de.Fields) == 0 {
		return err.Error()
	}
	var parts []string
	for _, f := range []string{"role", "center", "label", "expires_at"} {
		if k, ok := de.Fields[f]; ok {
			name := f
			if f == "expires_at" {
				name = "expires"
			}
			parts = append(parts, "setting "+name+": "+turnero.Message(k, turnero.English))
		}
	}
	return strings.Join(parts, "; ")
}

func tokensList(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	sys, rest, err := operatorSystem(ctx, "tokens list", tokensSynopsis, args, stdout, stderr, log, nil)
	if err != nil {
		return err
	}
	defer sys.store.Close()
	if len(rest) != 0 {
		return fmt.Errorf("tokens list: unexpected arguments %v", rest)
	}
	toks, err := sys.store.Tokens(ctx)
	if err != nil {
		return fmt.Errorf("tokens list: %w", err)
	}
	loc := sys.campaign.Location
	f := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tCENTER\tSTATE\tCREATED\tEXPIRES\tLAST USED\tLABEL")
	now := time.Now()
	for _, t := range toks {
		center := t.Center
		if center == "" {
			center = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID(), t.Role, center, turnerohttp.TokenState(t, now),
			f(t.CreatedAt), f(t.ExpiresAt), f(t.LastUsedAt), t.Label)
	}
	return tw.Flush()
}

func tokensRevoke(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	sys, rest, err := operatorSystem(ctx, "tokens revoke", tokensSynopsis, args, stdout, stderr, log, nil)
	if err != nil {
		return err
	}
	defer sys.store.Close()
	if len(rest) != 1 {
		return fmt.Errorf("tokens revoke: give the ID of one token (turnero tokens list shows them)")
	}
	t, err := sys.store.RevokeToken(ctx, rest[0], time.Now())
	if turnero.ErrorCode(err) == turnero.CodeNotFound {
		return fmt.Errorf("tokens revoke: no token has the ID %q (turnero tokens list shows them)", rest[0])
	}
	if err != nil {
		return fmt.Errorf("tokens revoke: %w", err)
	}
	if err := consoleAudit(ctx, sys.store, "turnero tokens revoke", turnero.AuditTokenRevoke, nil,
		fmt.Sprintf("token %s role %s %s", t.ID(), t.Role, t.Center)); err != nil {
		return fmt.Errorf("tokens revoke: %w", err)
	}
	fmt.Fprintf(stdout, "revoked %s (%s token, %s) at %s; every node refuses it within %s\n", t.ID(), t.Role, t.Label,
		t.RevokedAt.In(sys.campaign.Location).Format("2006-01-02 15:04:05"), access.CacheTTL)
	return nil
}

func campaignHasCenter(c *turnero.Campaign, id string) bool {
	for _, ct := range c.Centers {
		if ct.ID == id {
			return true
		}
	}
	return false
}

// article is the indefinite article before word: "an admin token", "a feed token".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}
