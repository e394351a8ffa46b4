package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/loadtest"
	"github.com/turnero/turnero/internal/pii"
)

// keygenSynopsis is the help of "turnero keygen".
const keygenSynopsis = `turnero keygen --out FILE [--id KEY_ID]            write a new key file
       turnero keygen --add-to FILE [--id KEY_ID] [--current=false]
                                                         add a data key to a key file
       turnero keygen --set-current KEY_ID --in FILE     make a data key of FILE the one that seals new records

Key rotation, and the order in which to give the new file to several nodes: docs/operations.md.`

func cmdKeygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	out := fs.String("out", "", "file to write a new key file to (must not exist)")
	addTo := fs.String("add-to", "", "existing key file to add a data key to")
	current := fs.Bool("current", true, "with --add-to: the new key seals new records at once (false: it only opens them, until --set-current)")
	setCurrent := fs.String("set-current", "", "id of a data key of the --in file to make the one that seals new records")
	in := fs.String("in", "", "with --set-current: the key file")
	defaultID := "k" + time.Now().UTC().Format("20060102")
	id := fs.String("id", defaultID, "id of the new data key (letters, digits, - and _)")
	if err := parseFlags(fs, keygenSynopsis, args, stdout, stderr); err != nil {
		return err
	}
	idSet := false
	fs.Visit(func(f *flag.Flag) { idSet = idSet || f.Name == "id" })
	switch {
	case *setCurrent != "":
		if *in == "" || *out != "" || *addTo != "" {
			return fmt.Errorf("keygen: setting in: --set-current needs --in FILE, and neither --out nor --add-to")
		}
		if err := pii.SetCurrentKey(*in, *setCurrent); err != nil {
			return fmt.Errorf("keygen: %w", err)
		}
		ids, _ := pii.DataKeyIDs(*in)
		fmt.Fprintf(stdout, "%s: data key %s now seals new records (data keys: %s). Give this file to every node.\n",
			*in, *setCurrent, strings.Join(ids, ", "))
		return nil
	case *addTo != "":
		if *out != "" {
			return fmt.Errorf("keygen: setting out: give --out (a new file) or --add-to (an existing one), not both")
		}
		newID := *id
		if !idSet {
			// The default id is the date: a second key added the same day
			// gets a suffix rather than an error.
			ids, err := pii.DataKeyIDs(*addTo)
			if err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			for n := 2; slices.Contains(ids, newID); n++ {
				newID = fmt.Sprintf("%s-%d", defaultID, n)
			}
		}
		if err := pii.AddDataKey(*addTo, newID, *current); err != nil {
			return fmt.Errorf("keygen: %w", err)
		}
		ids, _ := pii.DataKeyIDs(*addTo)
		if *current {
			fmt.Fprintf(stdout, "%s: added data key %s, which now seals new records; the others still open what they sealed (data keys: %s).\n",
				*addTo, newID, strings.Join(ids, ", "))
		} else {
			fmt.Fprintf(stdout, "%s: added data key %s, which opens records but seals none until \"turnero keygen --set-current %s --in %s\" (data keys: %s).\n",
				*addTo, newID, newID, *addTo, strings.Join(ids, ", "))
		}
		fmt.Fprintln(stdout, "Never remove a data key that sealed records. Keep a copy of the new file offline.")
		return nil
	case *out == "":
		return fmt.Errorf("keygen: setting out: a file is required (--out FILE), or --add-to FILE to add a key to one")
	}
	if err := pii.WriteKeyFile(*out, *id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (data key %s). Keep it secret, keep a copy offline, never commit it.\n", *out, *id)
	return nil
}

func cmdCampaignSample(stdout io.Writer) error {
	_, err := stdout.Write(campaign.SampleFile())
	return err
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on; a free port is taken if it is busy")
	data := fs.String("data", "", "data directory (default: turnero-demo under the user's cache directory)")
	if err := parseFlags(fs, "turnero demo [--addr HOST:PORT] [--data DIR]", args, stdout, stderr); err != nil {
		return err
	}
	if *data == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		*data = filepath.Join(base, "turnero-demo")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return fmt.Errorf("demo: listen: %w", err)
		}
	}
	cfg := defaultServeConfig()
	cfg.Addr, cfg.DataDir = ln.Addr().String(), *data
	cfg.DrainDelay = 0 // no load balancer to tell: Ctrl-C stops at once
	if err := cfg.validate(); err != nil {
		return err
	}
	return serve(ctx, cfg, ln, log, func(addr string) {
		fmt.Fprintf(stdout, demoText, addr, *data, addr, addr, addr, addr)
	})
}

const demoText = `
turnero is running the sample campaign (Uruguay 2021) at http://%s
Data directory: %s (all demo data is synthetic; delete the directory to start over)

Register someone (202, a tracking code and a place in line):

  curl -s -X POST http://%s/v1/registrations -H 'Content-Type: application/json' -d '{
    "document_type":"CI","document_number":"1.234.567-2","given_names":"María José",
    "family_names":"Pérez Núñez","birth_date":"1958-03-14","phone":"099 123 456","email":"",
    "department":"Montevideo","locality":"Pocitos","groups":[],"channel":"web","consent":true}'

Send it again: the same code and place, "duplicate": true (200).
See the status (put the tracking code in place of CODE):

  curl -s http://%s/v1/registrations/CODE

Lost the code? Look it up by document and birth date:

  curl -s -X POST http://%s/v1/registrations/lookup -H 'Content-Type: application/json' \
    -d '{"document_type":"CI","document_number":"12345672","birth_date":"1958-03-14"}'

Metrics: curl -s http://%s/metrics     Stop: Ctrl-C
`

func cmdLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	cfg := loadtest.Config{}
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "base URL of a running turnero")
	fs.IntVar(&cfg.Requests, "n", 10000, "number of synthetic people to register")
	fs.IntVar(&cfg.Concurrency, "c", 100, "concurrent connections")
	fs.Int64Var(&cfg.Seed, "seed", time.Now().UnixNano(), "seed of the synthetic people (their documents start at a number drawn from it)")
	fs.BoolVar(&cfg.SkipVerify, "no-verify", false, "do not read every acknowledged code back")
	codesOut := fs.String("codes-out", "", "write the acknowledged tracking codes to this file, one per line (for bench/status.lua)")
	if err := parseFlags(fs, "turnero loadtest --url URL -n N -c C", args, stdout, stderr); err != nil {
		return err
	}
	if cfg.Requests < 1 || cfg.Concurrency < 1 {
		return fmt.Errorf("loadtest: -n and -c must be positive")
	}
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	rep.Print(stdout)
	if *codesOut != "" {
		if err := os.WriteFile(*codesOut, []byte(strings.Join(rep.Codes, "\n")+"\n"), 0o600); err != nil {
			return fmt.Errorf("loadtest: %w", err)
		}
	}
	if rep.Missing > 0 || rep.Changed > 0 || rep.DuplicateSequences > 0 {
		return fmt.Errorf("loadtest: %d acknowledged registrations missing, %d changed, %d duplicate sequences",
			rep.Missing, rep.Changed, rep.DuplicateSequences)
	}
	return nil
}
