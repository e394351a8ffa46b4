package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/turnero"
)

// Operator commands work on the same data as serve (SQLite is safe to share
// between processes: one writer at a time, each transaction whole).

// operatorSystem parses the storage and campaign settings of an operator
// command and opens them, as serve does (openSystem), with the key file if
// there is one. synopsis is the first line of its help.
func operatorSystem(ctx context.Context, name, synopsis string, args []string, stdout, stderr io.Writer, log *slog.Logger,
	extra func(*flag.FlagSet)) (*system, []string, error) {
	cfg := defaultServeConfig()
	cfg.fromEnv()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (env TURNERO_DATA)")
	fs.StringVar(&cfg.DB, "db", cfg.DB, "PostgreSQL URL, to work on the data of nodes that serve with --db (env TURNERO_DB)")
	redactDefault(fs, "db")
	fs.StringVar(&cfg.CampaignFile, "campaign", cfg.CampaignFile, "campaign file, the one serve runs with; the bundled sample if empty (env TURNERO_CAMPAIGN)")
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, synopsis, args, stdout, stderr); err != nil {
		return nil, nil, err
	}
	if cfg.DataDir == "" && cfg.DB == "" {
		return nil, nil, fmt.Errorf("%s: setting data: a data directory is required (--data DIR or TURNERO_DATA), or a PostgreSQL URL (--db or TURNERO_DB)", name)
	}
	sys, err := openSystem(ctx, cfg, forOperator, log)
	if err != nil {
		return nil, nil, err
	}
	return sys, fs.Args(), nil
}

// operatorStorage is the part of every operator command's synopsis that
// says where the data is: where serve keeps it.
const operatorStorage = "(--data DIR | --db postgres://...) [--campaign FILE]"

// centersSynopsis is the help of "turnero centers".
var centersSynopsis = "turnero centers import " + operatorStorage + " FILE.csv\n" +
	"       turnero centers remove " + operatorStorage + " ID\n\n" +
	"FILE.csv is UTF-8 CSV whose first row names the columns, in any order (docs/campaign.md):\n  " +
	strings.Join(campaign.CentersCSVColumns, ",") + "\n" +
	"locality, address, latitude, longitude and exceptions may be left out; lists are separated by ';'."

// cmdCenters: turnero centers import FILE, turnero centers remove ID.
func cmdCenters(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 || (args[0] != "import" && args[0] != "remove") {
		return subcommandUsage(args, centersSynopsis, stdout, stderr)
	}
	sys, rest, err := operatorSystem(ctx, "centers "+args[0], centersSynopsis, args[1:], stdout, stderr, log, nil)
	if err != nil {
		return err
	}
	defer sys.store.Close()
	if args[0] == "remove" {
		if len(rest) != 1 {
			return fmt.Errorf("centers remove: give one center id")
		}
		if err := sys.store.RemoveCenter(ctx, rest[0], time.Now()); err != nil {
			if errors.Is(err, turnero.ErrCenterInUse) {
				return fmt.Errorf("centers remove %s: doses are booked there from now on; nothing changed "+
					"(give the people another date first, or close its days with exceptions in the campaign file)", rest[0])
			}
			return fmt.Errorf("centers remove %s: %w", rest[0], err)
		}
		fmt.Fprintf(stdout, "center %s removed from the agenda (kept for the history of past appointments, if it has any)\n", rest[0])
		return nil
	}
	c := sys.campaign
	if len(rest) != 1 {
		return fmt.Errorf("centers import: give one CSV file")
	}
	f, err := os.Open(rest[0])
	if err != nil {
		return fmt.Errorf("centers import: %w", err)
	}
	defer f.Close()
	centers, err := campaign.ParseCentersCSV(f, c)
	if err != nil {
		return fmt.Errorf("centers import %s: nothing imported:\n%w", rest[0], err)
	}
	if err := sys.store.UpsertCenters(ctx, centers); err != nil {
		return fmt.Errorf("centers import: nothing imported: %w", err)
	}
	fmt.Fprintf(stdout, "imported %d centers from %s\n", len(centers), rest[0])
	return nil
}

// groupsSynopsis is the help of "turnero groups".
const groupsSynopsis = "turnero groups open|close " + operatorStorage + " GROUP\n" +
	"       turnero groups list " + operatorStorage

// cmdGroups: turnero groups open|close GROUP, turnero groups list.
func cmdGroups(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 || (args[0] != "open" && args[0] != "close" && args[0] != "list") {
		return subcommandUsage(args, groupsSynopsis, stdout, stderr)
	}
	sys, rest, err := operatorSystem(ctx, "groups "+args[0], groupsSynopsis, args[1:], stdout, stderr, log, nil)
	if err != nil {
		return err
	}
	defer sys.store.Close()
	c := sys.campaign
	if args[0] == "list" {
		states, err := sys.store.GroupStates(ctx)
		if err != nil {
			return err
		}
		byID := map[string]turnero.GroupState{}
		for _, g := range states {
			byID[g.Group] = g
		}
		for i, g := range c.Groups {
			st := byID[g.ID]
			fmt.Fprintf(stdout, "%2d %-20s open=%-5v now_serving=%d pending=%d\n", i+1, g.ID, st.Open, st.Cursor, st.Pending)
		}
		return nil
	}
	if len(rest) != 1 {
		return fmt.Errorf("groups %s: give one group id", args[0])
	}
	if _, ok := c.Group(rest[0]); !ok {
		return fmt.Errorf("groups %s: the campaign has no group %q", args[0], rest[0])
	}
	g, err := sys.store.SetGroupOpen(ctx, rest[0], args[0] == "open", turnero.SystemClock{}.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "group %s open=%v now_serving=%d pending=%d\n", g.Group, g.Open, g.Cursor, g.Pending)
	return nil
}

// cmdAllocate runs the allocator once and prints its report as JSON.
func cmdAllocate(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	cfg := allocate.DefaultConfig
	sys, _, err := operatorSystem(ctx, "allocate", "turnero allocate "+operatorStorage, args, stdout, stderr, log, func(fs *flag.FlagSet) {
		fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "people committed per transaction")
	})
	if err != nil {
		return err
	}
	defer sys.store.Close()
	c := sys.campaign
	a, err := allocate.New(cfg, sys.store, c, turnero.SystemClock{}, log.With("component", "allocator"))
	if err != nil {
		return err
	}
	rep, err := a.RunOnce(ctx)
	if err != nil {
		return err
	}
	out := struct {
		allocate.Report
		TookMS int64 `json:"took_ms"`
	}{rep, rep.Took.Milliseconds()}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// subcommandUsage answers a command of subcommands called without a known
// one: its help on stdout when asked for (exit 0), on stderr otherwise.
func subcommandUsage(args []string, synopsis string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintf(stdout, "Usage: %s\n", synopsis)
		return errHelp
	}
	fmt.Fprintf(stderr, "Usage: %s\n", synopsis)
	return errUsage
}
