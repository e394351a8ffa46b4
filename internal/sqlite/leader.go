package sqlite

import (
	"context"
	"log/slog"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.Store = (*DB)(nil)

// Lead runs fn until ctx ends: a database file has one machine, whose node
// always leads. If fn returns by itself it is run again a second later, as
// a leader that gave up would be elected again.
func (db *DB) Lead(ctx context.Context, name string, log *slog.Logger, fn func(ctx context.Context)) error {
	for {
		fn(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
