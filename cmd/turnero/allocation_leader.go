package main

import (
	"context"
	"log/slog"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/turnero"
)

// leaderName is the election the allocators of every node on one
// PostgreSQL database (and schema) take part in.
const leaderName = "allocator"

// runAllocator runs the allocator until ctx ends. On PostgreSQL, several
// nodes share the data: the allocator runs only on the node that holds the
// leadership, and another node takes over within seconds when that node
// dies. Two allocators at once would still never double-book (storage
// refuses a step computed against a moved version), but they would refuse
// each other's steps and do the work twice. On SQLite (one machine) it runs
// here.
func runAllocator(ctx context.Context, store turnero.RegistrationStore, a *allocate.Allocator, log *slog.Logger) {
	pg, ok := store.(*postgres.DB)
	if !ok {
		a.Run(ctx)
		return
	}
	pg.Leader(leaderName, log.With("component", "leader")).Run(ctx, func(ctx context.Context) { a.Run(ctx) })
}
