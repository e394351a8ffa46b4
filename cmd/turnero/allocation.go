package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/turnero/turnero/internal/allocate"
	turnerohttp "github.com/turnero/turnero/internal/http"
	"github.com/turnero/turnero/internal/turnero"
)

// startAllocation wires centers, tokens and the allocator into serve: the
// campaign file's centers are stored (imported ones are kept), the bootstrap
// admin token is stored hashed, and the allocator runs every interval until
// the returned stop is called (on PostgreSQL, on one node at a time: see
// runAllocator). A storage engine without allocation yet serves intake only.
func startAllocation(ctx context.Context, cfg serveConfig, c *turnero.Campaign, store turnero.RegistrationStore,
	h *turnerohttp.Server, log *slog.Logger) (stop func(), err error) {
	as, ok1 := store.(turnero.AllocationStore)
	ts, ok2 := store.(turnero.TokenStore)
	if !ok1 || !ok2 {
		log.Warn("this storage engine has no centers, tokens or allocation yet: serving intake only")
		return func() {}, nil
	}
	if len(c.Centers) > 0 {
		if err := as.UpsertCenters(ctx, c.Centers); err != nil {
			return nil, fmt.Errorf("store the campaign's centers: %w", err)
		}
	}
	if cfg.AdminToken != "" {
		if err := ts.PutToken(ctx, turnero.Token{Hash: turnero.HashToken(cfg.AdminToken), Role: turnero.RoleAdmin}); err != nil {
			return nil, fmt.Errorf("store the admin token: %w", err)
		}
	}
	clock := turnero.SystemClock{}
	acfg := allocate.ServeConfig
	acfg.Every = cfg.AllocateEvery
	acfg.Batch = cfg.AllocateBatch
	acfg.Duty = cfg.AllocateDuty
	a, err := allocate.New(acfg, as, c, clock, log.With("component", "allocator"))
	if err != nil {
		return nil, err
	}
	h.SetAllocation(&turnerohttp.Allocation{Store: as, Tokens: ts, Allocator: a, Clock: clock})
	if !cfg.Allocate {
		return func() {}, nil
	}
	actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		runAllocator(actx, store, a, log)
	}()
	return func() { cancel(); wg.Wait() }, nil
}
