package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	turnerohttp "github.com/turnero/turnero/internal/http"
	"github.com/turnero/turnero/internal/intake"
	"github.com/turnero/turnero/internal/metrics"
	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/turnero"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	cfg, err := parseServeConfig(args, stdout, stderr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	return serve(ctx, cfg, ln, log, nil)
}

// serve runs the API on ln until ctx ends, then shuts down in order: stop
// accepting, answer the requests in flight (their registrations are committed),
// stop the writer, close the database. ready, if set, is called once serving.
func serve(ctx context.Context, cfg serveConfig, ln net.Listener, log *slog.Logger, ready func(addr string)) error {
	defer ln.Close()
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit on the Go heap keeps the whole process within the
		// intake's memory budget (500 MB with SQLite's caches) under a launch
		// evening's churn; the garbage collector works harder near it.
		// GOMEMLIMIT overrides it.
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	c := campaign.Sample()
	if cfg.CampaignFile != "" {
		var err error
		if c, err = campaign.Load(cfg.CampaignFile); err != nil {
			return err
		}
	}
	if cfg.DB == "" {
		if err := makeDataDir(cfg.DataDir, log); err != nil {
			return err
		}
	}
	keys, err := loadKeys(cfg, log)
	if err != nil {
		return err
	}
	db, where, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()

	m := metrics.New()
	in, err := intake.New(intake.Config{QueueSize: cfg.QueueSize, MaxBatch: cfg.MaxBatch, CommitLinger: cfg.CommitLinger}, c, keys, db, turnero.SystemClock{}, m, log.With("component", "intake"))
	if err != nil {
		return err
	}
	if err := in.CheckKeys(ctx); err != nil {
		return fmt.Errorf("setting key-file: %w; start with the key file this data was written with", err)
	}
	m.GaugeFunc("turnero_intake_queue_depth", "Registrations waiting for the writer.", func() float64 { return float64(in.QueueDepth()) })
	m.GaugeFunc("turnero_intake_queue_capacity", "Bound of the intake queue.", func() float64 { return float64(in.QueueCapacity()) })
	in.Start()

	handler := turnerohttp.NewServer(in, m, log.With("component", "http"))
	stopAllocation, err := startAllocation(ctx, cfg, c, db, handler, log)
	if err != nil {
		in.Close()
		return err
	}
	defer stopAllocation()
	startChanges(c, keys, db, handler, log)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if cfg.DebugAddr != "" {
		go func() {
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
			log.Warn("pprof enabled", "debug_addr", cfg.DebugAddr, "err", http.ListenAndServe(cfg.DebugAddr, mux))
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "campaign", c.ID, "store", where, "version", binaryVersion(),
		"data_keys", strings.Join(keys.KeyIDs(), ","))
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-errc:
		in.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if err := drain(cfg, handler, errc, log); err != nil {
		in.Close()
		return err
	}
	log.Info("shutting down: answering requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	in.Close()
	stopAllocation()
	if shutdownErr != nil && !errors.Is(shutdownErr, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	log.Info("stopped")
	return nil
}

// openStore is the one place where the storage engine is chosen: PostgreSQL
// when a database URL is configured, else SQLite in the data directory. It
// also says where, for the log (without a password or any other secret).
func openStore(ctx context.Context, cfg serveConfig, log *slog.Logger) (turnero.RegistrationStore, string, error) {
	if cfg.DB != "" {
		db, err := postgres.Open(ctx, cfg.DB, postgres.WithLogger(log))
		where := postgres.RedactURL(cfg.DB)
		if err != nil {
			return nil, "", fmt.Errorf("open PostgreSQL at %s: %w", where, err)
		}
		return db, where, nil
	}
	path := filepath.Join(cfg.DataDir, "turnero.db")
	db, err := sqlite.Open(ctx, path, sqlite.WithLogger(log))
	if err != nil {
		return nil, "", err
	}
	return db, path, nil
}

// defaultMemoryLimit is the Go heap's soft limit when GOMEMLIMIT is unset.
const defaultMemoryLimit = 256 << 20

// loadKeys reads the configured key file, or creates one in the data
// directory for a trial, saying loudly that this is not how to run for real.
func loadKeys(cfg serveConfig, log *slog.Logger) (*pii.Keyring, error) {
	if cfg.KeyFile != "" {
		return pii.LoadKeyFile(cfg.KeyFile)
	}
	path := filepath.Join(cfg.DataDir, "turnero.key")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		// A database whose key is gone must not get a new one: its
		// registrations would be unreadable, their codes unknown, and
		// everyone could register again for a second place.
		if db := filepath.Join(cfg.DataDir, "turnero.db"); fileExists(db) {
			return nil, fmt.Errorf("setting key-file: %s has no key for the database %s; restore %s, or pass the key file with --key-file", cfg.DataDir, db, path)
		}
		if err := pii.WriteKeyFile(path, "local-"+time.Now().UTC().Format("20060102")); err != nil {
			return nil, err
		}
	}
	log.Warn("NO KEY FILE CONFIGURED: personal data is encrypted with a key kept in the data directory, "+
		"next to the data it protects. This is only for trying turnero out. For real use, run "+
		"`turnero keygen --out FILE`, keep FILE apart from the data, and pass --key-file FILE.", "key_file", path)
	return pii.LoadKeyFile(path)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
