package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/turnero/turnero/internal/turnero"
)

// Leader runs a function on exactly one node at a time, for work that must
// not be done twice at once (the allocator, a feed of the waiting list): the
// node that holds a PostgreSQL session-level advisory lock on a connection of
// its own is the leader. The others try to take the lock every Interval.
//
// Takeover. When the leader's process dies, its socket closes and PostgreSQL
// releases the lock at once; when its machine or network dies, the server's
// TCP keepalives (set on the leader's connection) end the session in about 11
// seconds. The leader checks its connection every Interval and stops the
// function as soon as a check fails. A node that has just taken the lock waits
// Grace before starting the function, longer than a former leader needs to
// notice its loss, so that two functions never overlap even when the server
// ended a session that the former leader still believed alive.
//
// What this does not give: a fence against a leader whose process is frozen
// (a stopped VM) for longer than the keepalive timeout and then resumes
// writing. Work run under a Leader should commit in transactions that would
// stay correct if run twice (e.g. allocate with FOR UPDATE on the rows it
// takes), which the allocation work must provide anyway.
type Leader struct {
	db   *DB
	name string
	key  int32
	log  *slog.Logger
	// Interval is how often a follower tries to take the lock and how often
	// the leader checks its connection (each check also times out after
	// Interval). Default 1s.
	Interval time.Duration
}

// Leader returns a leader election named name; nodes that use the same name
// on the same database and schema elect one leader among them.
func (db *DB) Leader(name string, log *slog.Logger) *Leader {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d/%s", db.schemaOID, name)
	return &Leader{db: db, name: name, key: int32(h.Sum32()), log: log, Interval: time.Second}
}

var _ turnero.Store = (*DB)(nil)

// Lead runs fn whenever this node holds the leadership called name (see
// Leader), until ctx ends.
func (db *DB) Lead(ctx context.Context, name string, log *slog.Logger, fn func(ctx context.Context)) error {
	return db.Leader(name, log).Run(ctx, fn)
}

// Grace is how long a new leader waits after taking the lock before running
// the function: longer than a former leader takes to notice it lost it.
func (l *Leader) Grace() time.Duration { return 3 * l.Interval }

// Run runs fn whenever this node is the leader, until ctx ends. fn's context
// is cancelled when leadership is lost (or ctx ends) and fn must return
// promptly then; Run does not try to lead again until it has. If fn returns
// by itself, Run gives leadership up and tries again after Interval, so a
// leader whose work failed lets another node try. Run returns ctx's error.
func (l *Leader) Run(ctx context.Context, fn func(ctx context.Context)) error {
	for {
		err := l.campaign(ctx, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			// Not a fault of this node's work: the database is away. Logged
			// here, at the top of the worker's loop, and tried again.
			l.log.Warn("leader election: will retry", "leader", l.name, "err", err)
		}
		if !sleep(ctx, l.Interval) {
			return ctx.Err()
		}
	}
}

// campaign connects, waits to take the lock, leads, and returns when
// leadership ends or the connection fails.
func (l *Leader) campaign(ctx context.Context, fn func(ctx context.Context)) error {
	cfg := l.db.read.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "turnero leader " + l.name
	// Let the server end the session, and so release the lock, within ~11 s
	// of the node going silent.
	cfg.RuntimeParams["tcp_keepalives_idle"] = "5"
	cfg.RuntimeParams["tcp_keepalives_interval"] = "2"
	cfg.RuntimeParams["tcp_keepalives_count"] = "3"
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	// Closing the session releases the lock if it is held.
	defer conn.Close(context.Background())
	for {
		got, err := l.try(ctx, conn)
		if err != nil {
			return err
		}
		if got {
			break
		}
		if !sleep(ctx, l.Interval) {
			return nil
		}
	}
	// A former leader may not know yet that it lost the lock.
	if !sleep(ctx, l.Grace()) {
		return nil
	}
	if err := l.check(ctx, conn); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	l.log.Info("leading", "leader", l.name)
	lctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(lctx)
	}()
	t := time.NewTicker(l.Interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			stop()
			l.log.Info("leader work returned; giving leadership up", "leader", l.name)
			return nil
		case <-ctx.Done():
			stop()
			<-done
			return nil
		case <-t.C:
			if err := l.check(ctx, conn); err != nil {
				stop()
				<-done
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("leadership lost: %w", err)
			}
		}
	}
}

func (l *Leader) try(ctx context.Context, conn *pgx.Conn) (bool, error) {
	qctx, cancel := context.WithTimeout(ctx, l.Interval+pingTimeout)
	defer cancel()
	var got bool
	err := conn.QueryRow(qctx, `SELECT pg_try_advisory_lock($1, $2)`, lockSpaceLeader, l.key).Scan(&got)
	if err != nil && ctx.Err() == nil {
		return false, fmt.Errorf("take leader lock: %w", err)
	}
	return got, nil
}

// check verifies that the session holding the lock is alive, within
// Interval.
func (l *Leader) check(ctx context.Context, conn *pgx.Conn) error {
	qctx, cancel := context.WithTimeout(ctx, l.Interval)
	defer cancel()
	return conn.Ping(qctx)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
