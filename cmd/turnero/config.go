package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/intake"
	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/turnero"
)

// serveConfig is every setting of "turnero serve": defaults, then the
// environment, then flags; validated before anything starts.
type serveConfig struct {
	Addr            string
	DataDir         string
	DB              string // postgres:// URL: PostgreSQL instead of SQLite in DataDir, for several nodes
	CampaignFile    string
	KeyFile         string
	QueueSize       int
	MaxBatch        int
	CommitLinger    time.Duration
	AllocateBatch   int
	AllocateDuty    float64
	ShutdownTimeout time.Duration
	// DrainDelay is how long /readyz answers 503 shutting_down, while
	// everything is still served, before the listener closes: the time load
	// balancers and orchestrators take to notice and stop sending.
	DrainDelay time.Duration
	// DebugAddr serves Go's pprof profiles, for measuring the hot path; off
	// when empty. Never expose it publicly.
	DebugAddr string
	// AdminToken bootstraps an admin bearer token (env TURNERO_ADMIN_TOKEN
	// only, never a flag: flags show in the process list). Stored hashed.
	AdminToken string
	// Allocate runs the allocator inside serve; AllocateEvery overrides the
	// campaign's allocation.interval when positive.
	Allocate      bool
	AllocateEvery time.Duration
	// Dashboard keeps the ministry's figures up to date on the leading
	// node (off only to measure what it costs).
	Dashboard bool
}

func defaultServeConfig() serveConfig {
	return serveConfig{
		Addr:            "127.0.0.1:8080",
		QueueSize:       intake.DefaultConfig.QueueSize,
		MaxBatch:        intake.DefaultConfig.MaxBatch,
		CommitLinger:    intake.DefaultConfig.CommitLinger,
		AllocateBatch:   allocate.ServeConfig.Batch,
		AllocateDuty:    allocate.ServeConfig.Duty,
		ShutdownTimeout: 30 * time.Second,
		DrainDelay:      5 * time.Second,
		Allocate:        true,
		Dashboard:       true,
	}
}

func (c *serveConfig) fromEnv() {
	for _, e := range []struct {
		name string
		dst  *string
	}{
		{"TURNERO_ADDR", &c.Addr},
		{"TURNERO_DATA", &c.DataDir},
		{"TURNERO_DB", &c.DB},
		{"TURNERO_CAMPAIGN", &c.CampaignFile},
		{"TURNERO_KEY_FILE", &c.KeyFile},
		{"TURNERO_ADMIN_TOKEN", &c.AdminToken},
	} {
		if v := os.Getenv(e.name); v != "" {
			*e.dst = v
		}
	}
}

func (c *serveConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on, HOST:PORT (env TURNERO_ADDR)")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory, created on first start (env TURNERO_DATA)")
	fs.StringVar(&c.DB, "db", c.DB, "PostgreSQL URL, postgres://USER@HOST:PORT/DATABASE, to store in PostgreSQL instead of SQLite in --data; requires --key-file (env TURNERO_DB)")
	redactDefault(fs, "db")
	fs.StringVar(&c.CampaignFile, "campaign", c.CampaignFile, "campaign file (TOML); the bundled Uruguay 2021 sample if empty (env TURNERO_CAMPAIGN)")
	fs.StringVar(&c.KeyFile, "key-file", c.KeyFile, "key file for personal data (env TURNERO_KEY_FILE); without one, a key is created in the data directory for trying turnero out; required with --db")
	fs.IntVar(&c.QueueSize, "queue", c.QueueSize, "registrations waiting for the writer before new ones get 503")
	fs.IntVar(&c.MaxBatch, "batch", c.MaxBatch, "largest number of registrations committed in one transaction")
	fs.DurationVar(&c.CommitLinger, "commit-linger", c.CommitLinger, "how long the writer waits for more registrations when several are queued (larger batches under load; 0 turns it off)")
	fs.StringVar(&c.DebugAddr, "debug-addr", c.DebugAddr, "address for pprof profiles (off when empty; keep it on loopback)")
	// No backquotes in a flag's text: the flag package takes what they quote
	// for the name of the flag's value.
	fs.BoolVar(&c.Allocate, "allocate", c.Allocate, "run the allocator inside serve (it can also run as \"turnero allocate\"; -allocate=false turns it off)")
	fs.BoolVar(&c.Dashboard, "dashboard", c.Dashboard, "keep the dashboard's figures up to date (-dashboard=false: they stop moving; for measuring its cost)")
	fs.DurationVar(&c.AllocateEvery, "allocate-every", c.AllocateEvery, "how often to allocate; the campaign's allocation.interval if 0")
	fs.Float64Var(&c.AllocateDuty, "allocate-duty", c.AllocateDuty, "share of the time the allocator inside serve may work, above 0 and at most 1 (1: as fast as it can; less leaves intake more of the processors)")
	fs.IntVar(&c.AllocateBatch, "allocate-batch", c.AllocateBatch, "people the allocator commits per transaction: fewer holds the write lock for less time, more allocates faster")
	fs.DurationVar(&c.DrainDelay, "drain-delay", c.DrainDelay, "on SIGTERM, how long /readyz answers 503 while requests are still served, before the listener closes (load balancers' time to notice; 0: close at once)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "after the drain delay, how long to wait for requests in flight")
}

func (c *serveConfig) validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("setting addr: %q is not HOST:PORT", c.Addr)
	}
	switch {
	case c.DB != "":
		if err := postgres.CheckURL(c.DB); err != nil {
			return fmt.Errorf("setting db: %w", err)
		}
		// A key made up in each node's data directory would give each node
		// other blind indexes: the same person could register once per node.
		if c.KeyFile == "" {
			return errors.New("setting key-file: required with --db; every node on the database must use the same key file (create one with turnero keygen --out FILE)")
		}
	case c.DataDir == "":
		return errors.New("setting data: a data directory is required (--data DIR or TURNERO_DATA), or a PostgreSQL URL (--db or TURNERO_DB)")
	}
	if c.QueueSize < 1 || c.QueueSize > 1_000_000 {
		return fmt.Errorf("setting queue: must be between 1 and 1000000, got %d", c.QueueSize)
	}
	if c.AllocateBatch < 1 || c.AllocateBatch > 100_000 {
		return fmt.Errorf("setting allocate-batch: must be between 1 and 100000, got %d", c.AllocateBatch)
	}
	if !(c.AllocateDuty > 0 && c.AllocateDuty <= 1) {
		return fmt.Errorf("setting allocate-duty: must be above 0 and at most 1, got %v", c.AllocateDuty)
	}
	if c.MaxBatch < 1 || c.MaxBatch > 10_000 {
		return fmt.Errorf("setting batch: must be between 1 and 10000, got %d", c.MaxBatch)
	}
	if c.CommitLinger < 0 || c.CommitLinger > 100*time.Millisecond {
		return fmt.Errorf("setting commit-linger: must be between 0 and 100ms, got %s", c.CommitLinger)
	}
	if c.AdminToken != "" && len(c.AdminToken) < turnero.MinTokenLength {
		return fmt.Errorf("setting TURNERO_ADMIN_TOKEN: must be at least %d characters (use a long random string)", turnero.MinTokenLength)
	}
	if c.AllocateEvery < 0 {
		return fmt.Errorf("setting allocate-every: must not be negative, got %s", c.AllocateEvery)
	}
	if c.DrainDelay < 0 || c.DrainDelay > 10*time.Minute {
		return fmt.Errorf("setting drain-delay: must be between 0 and 10m, got %s", c.DrainDelay)
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("setting shutdown-timeout: must be positive, got %s", c.ShutdownTimeout)
	}
	return nil
}

// serveSynopsis is the first line of serve's help.
const serveSynopsis = "turnero serve --addr HOST:PORT (--data DIR | --db postgres://... --key-file FILE) [--campaign FILE] [--key-file FILE]"

func parseServeConfig(args []string, stdout, stderr io.Writer) (serveConfig, error) {
	cfg := defaultServeConfig()
	cfg.fromEnv()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.flags(fs)
	if err := parseFlags(fs, serveSynopsis, args, stdout, stderr); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	return cfg, cfg.validate()
}

// redactDefault keeps the secrets of a database URL taken from the
// environment out of the help text, which prints every flag's default.
func redactDefault(fs *flag.FlagSet, name string) {
	if f := fs.Lookup(name); f != nil && f.DefValue != "" {
		f.DefValue = postgres.RedactURL(f.DefValue)
	}
}
