// Command turnero is a national vaccination appointment system in one binary.
//
//	turnero serve     the HTTP API on an embedded database
//	turnero demo      serve the sample campaign with a data directory of its own
//	turnero keygen    write a new key file for personal data
//	turnero loadtest  register synthetic people against a running server
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // campaign time zones work on machines without tzdata
)

const usage = `turnero: a national vaccination appointment system.

Usage:
  turnero serve    --addr HOST:PORT --data DIR [--campaign FILE] [--key-file FILE]
  turnero serve    --addr HOST:PORT --db postgres://... --key-file FILE [--campaign FILE]
  turnero demo     [--addr HOST:PORT]
  turnero keygen   --out FILE [--id KEY_ID]
  turnero keygen   --add-to FILE [--id KEY_ID] [--current=false]   rotate: add a data key
  turnero loadtest --url URL -n N -c C
  turnero centers  import (--data DIR | --db URL) [--campaign FILE] FILE.csv
                   add or update vaccination centers
  turnero centers  remove (--data DIR | --db URL) [--campaign FILE] ID
                   take a center with no bookings ahead out of the agenda
  turnero campaign show|apply (--data DIR | --db URL) [FILE] [--yes]
                   the campaign the data runs; change it (centers, allocation, notices)
  turnero backup   --data DIR --out FILE     an online, consistent copy (PostgreSQL: pg_dump)
  turnero restore  --data DIR FILE | --db URL   put a backup back; start a new epoch
  turnero groups   open|close|list (--data DIR | --db URL) [--campaign FILE] [GROUP]
  turnero allocate (--data DIR | --db URL) [--campaign FILE]
                   give appointments now (serve also does it)
  turnero tokens   create (--data DIR | --db URL) [--campaign FILE] --role ROLE [--center ID] --label WHO [--expires 90d]
                   ROLE: admin, center, feed, analyst or support
  turnero tokens   list|revoke (--data DIR | --db URL) [--campaign FILE] [ID]
  turnero audit    export (--data DIR | --db URL) [--from DATE] [--to DATE] [--registration SEQ] [--out FILE]
                   who read or changed whose personal data, as CSV
  turnero campaign-sample   print the bundled sample campaign file
  turnero version           print the version and the schema versions it knows

The operator commands (centers, groups, allocate, tokens, audit, campaign) work on
the data of the nodes that serve it: give them the same --data or --db as
serve (or TURNERO_DATA, TURNERO_DB). They run the campaign the database was
pinned to at its first start; --campaign FILE, if given, must be that one.

Run "turnero COMMAND -h" for the settings of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal starts a graceful shutdown, a second one stops
	// the process at once, as an operator pressing Ctrl-C twice expects.
	go func() { <-ctx.Done(); stop() }()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "turnero:", err)
		}
		os.Exit(2)
	}
}

var errUsage = errors.New("usage")

// run runs the command of args; asked for help, it prints it on stdout and
// returns nil.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := dispatch(ctx, args, stdout, stderr); !errors.Is(err, errHelp) {
		return err
	}
	return nil
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr, log)
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr, log)
	case "keygen":
		return cmdKeygen(args[1:], stdout, stderr)
	case "loadtest":
		return cmdLoadtest(ctx, args[1:], stdout, stderr)
	case "centers":
		return cmdCenters(ctx, args[1:], stdout, stderr, log)
	case "groups":
		return cmdGroups(ctx, args[1:], stdout, stderr, log)
	case "allocate":
		return cmdAllocate(ctx, args[1:], stdout, stderr, log)
	case "tokens":
		return cmdTokens(ctx, args[1:], stdout, stderr, log)
	case "audit":
		return cmdAudit(ctx, args[1:], stdout, stderr, log)
	case "campaign":
		return cmdCampaign(ctx, args[1:], stdout, stderr, log)
	case "backup":
		return cmdBackup(ctx, args[1:], stdout, stderr)
	case "restore":
		return cmdRestore(ctx, args[1:], stdout, stderr, log)
	case "campaign-sample":
		return cmdCampaignSample(stdout)
	case "version", "-version", "--version":
		return cmdVersion(stdout)
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "turnero: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}
