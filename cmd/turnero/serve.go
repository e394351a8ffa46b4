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
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/turnero/turnero/internal/access"
	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/appointments"
	"github.com/turnero/turnero/internal/dashboard"
	"github.com/turnero/turnero/internal/feed"
	turnerohttp "github.com/turnero/turnero/internal/http"
	"github.com/turnero/turnero/internal/intake"
	"github.com/turnero/turnero/internal/metrics"
	"github.com/turnero/turnero/internal/status"
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
// accepting, answer the requests in flight (their registrations are
// committed), stop the writer and the allocator, close the database. ready,
// if set, is called once serving.
func serve(ctx context.Context, cfg serveConfig, ln net.Listener, log *slog.Logger, ready func(addr string)) error {
	defer ln.Close()
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit on the Go heap keeps the whole process within the
		// intake's memory budget (500 MB with SQLite's caches) under a launch
		// evening's churn; the garbage collector works harder near it.
		// GOMEMLIMIT overrides it.
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	if cfg.DB == "" {
		// One serve per data directory, and no restore under it.
		if err := makeDataDir(cfg.DataDir, log); err != nil {
			return err
		}
		release, err := lockDataDir(cfg.DataDir)
		if err != nil {
			return fmt.Errorf("setting data: %s: %w", cfg.DataDir, err)
		}
		defer release()
	}
	sys, err := openSystem(ctx, cfg, forServe, log)
	if err != nil {
		return err
	}
	defer sys.store.Close()
	m := metrics.New()
	n, err := startNode(ctx, cfg, sys, m, log)
	if err != nil {
		return err
	}
	defer n.stop()

	srv := &http.Server{
		Handler:           n.handler,
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
	log.Info("serving", "addr", ln.Addr().String(), "campaign", sys.campaign.ID, "store", sys.where, "version", binaryVersion(),
		"data_keys", strings.Join(sys.keys.KeyIDs(), ","))
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if err := drain(cfg, n.handler, errc, log); err != nil {
		return err
	}
	log.Info("shutting down: answering requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	n.stop()
	if shutdownErr != nil && !errors.Is(shutdownErr, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	log.Info("stopped")
	return nil
}

// node is what serve runs on one machine: intake's writer, status answers
// and their cache, the allocator (under the store's leadership), and the
// handler of the API over them.
type node struct {
	handler  *turnerohttp.Server
	stopOnce sync.Once
	stopFns  []func()
}

// stop stops what startNode started, in reverse: the writer answers what is
// queued first, then the allocator and the status poller stop. Safe to call
// more than once.
func (n *node) stop() {
	n.stopOnce.Do(func() {
		for i := len(n.stopFns) - 1; i >= 0; i-- {
			n.stopFns[i]()
		}
	})
}

// startNode wires the services of serve by hand, each given what it needs:
// the bootstrap admin token is stored (the campaign's centers were, when
// it was pinned to the database), then the
// allocator, status answers, intake, appointment changes and the feed are
// built and started, and the API is put over them.
func startNode(ctx context.Context, cfg serveConfig, sys *system, m *metrics.Metrics, log *slog.Logger) (*node, error) {
	c, keys, store := sys.campaign, sys.keys, sys.store
	clock := turnero.SystemClock{}
	if cfg.AdminToken != "" {
		if err := store.PutToken(ctx, turnero.Token{Hash: turnero.HashToken(cfg.AdminToken), Role: turnero.RoleAdmin}); err != nil {
			return nil, fmt.Errorf("store the admin token: %w", err)
		}
	}
	acfg := allocate.ServeConfig
	acfg.Every, acfg.Batch, acfg.Duty = cfg.AllocateEvery, cfg.AllocateBatch, cfg.AllocateDuty
	allocator, err := allocate.New(acfg, store, c, clock, log.With("component", "allocator"))
	if err != nil {
		return nil, err
	}
	st := status.New(c, keys, store, allocator)
	allocator.Changes = st
	in, err := intake.New(intake.Config{QueueSize: cfg.QueueSize, MaxBatch: cfg.MaxBatch, CommitLinger: cfg.CommitLinger},
		c, keys, store, st, clock, m, log.With("component", "intake"))
	if err != nil {
		return nil, err
	}
	if err := in.CheckKeys(ctx); err != nil {
		return nil, fmt.Errorf("setting key-file: %w; start with the key file this data was written with", err)
	}
	acc := access.New(store, clock, log.With("component", "access"))
	handler, err := turnerohttp.NewServer(turnerohttp.Services{
		Campaign:     c,
		Intake:       in,
		Status:       st,
		Allocator:    allocator,
		Appointments: appointments.New(c, keys, store, st, clock, log.With("component", "appointments")),
		Feed:         feed.New(c, keys, store, st, clock, log.With("component", "feed")),
		Store:        store,
		Access:       acc,
	}, m, log.With("component", "http"))
	if err != nil {
		return nil, err
	}
	m.GaugeFunc("turnero_intake_queue_depth", "Registrations waiting for the writer.", func() float64 { return float64(in.QueueDepth()) })
	m.GaugeFunc("turnero_intake_queue_capacity", "Bound of the intake queue.", func() float64 { return float64(in.QueueCapacity()) })

	n := &node{handler: handler}
	st.Start()
	n.stopFns = append(n.stopFns, st.Close)
	n.stopFns = append(n.stopFns, runWorker(ctx, acc.Run))
	n.stopFns = append(n.stopFns, startDashboard(ctx, cfg, sys, handler, clock, log))
	if cfg.Allocate {
		// On PostgreSQL several nodes share the data: the allocator runs
		// only on the node that leads, and another takes over within
		// seconds when it dies. Two at once would still never double-book
		// (storage refuses a step computed against a moved version), but
		// would refuse each other's steps and do the work twice.
		actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			store.Lead(actx, "allocator", log.With("component", "leader"), func(ctx context.Context) { allocator.Run(ctx) })
		}()
		n.stopFns = append(n.stopFns, func() { cancel(); wg.Wait() })
	}
	in.Start()
	n.stopFns = append(n.stopFns, in.Close)
	return n, nil
}

// startDashboard runs the dashboard's counters on the leading node, and
// records this node's usage (requests, CPU time) on every node.
func startDashboard(ctx context.Context, cfg serveConfig, sys *system, h *turnerohttp.Server, clock turnero.Clock, log *slog.Logger) func() {
	keys, store := sys.keys, sys.store
	w := dashboard.NewWorker(dashboard.DefaultConfig, store, sys.campaign, func(r turnero.Registration) (turnero.PersonalData, error) {
		return keys.Open(r.KeyID, r.Sealed, r.DocumentHash)
	}, clock, log.With("component", "dashboard"))
	u := &dashboard.Usage{Node: dashboard.NodeName(), Store: store, Requests: h.Served, Clock: clock, Log: log.With("component", "dashboard")}
	stopUsage := runWorker(ctx, u.Run)
	if !cfg.Dashboard {
		return stopUsage
	}
	stopLead := runWorker(ctx, func(ctx context.Context) {
		store.Lead(ctx, "dashboard", log.With("component", "leader"), w.Run)
	})
	return func() { stopLead(); stopUsage() }
}

// runWorker runs a worker until the node stops, and returns how to stop
// it and wait for it.
func runWorker(ctx context.Context, run func(ctx context.Context)) func() {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); run(wctx) }()
	return func() { cancel(); <-done }
}

// defaultMemoryLimit is the Go heap's soft limit when GOMEMLIMIT is unset.
const defaultMemoryLimit = 256 << 20
