package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// checkpointEvery is how often the checkpointer copies the WAL back into
// the database file. Often, so that each copy is small: a checkpoint ends
// with an fsync of the database file, and a commit's fsync of the WAL that
// comes during it waits for the same disk. With the allocator at full speed
// inside serve (bench/run.sh alloc, --allocate-duty 1), intake p99 at
// 2,000/s was 16-26 ms with 100 ms and 13-21 ms with 25 ms; intake
// throughput did not change within the noise (0.47 of bare either way).
const checkpointEvery = 25 * time.Millisecond

// checkpointer copies committed WAL frames into the database file on a
// connection of its own, so that no commit pays for it. With SQLite's
// automatic checkpoint the connection whose commit crossed 1,000 WAL pages
// did the copy and the fsync of the database file before it could answer,
// and every registration queued behind it waited; during a large allocation
// that happened every few commits. A PASSIVE checkpoint takes no lock that
// writers need, so commits go on while it runs.
type checkpointer struct {
	conn    *sql.DB
	stop    chan struct{}
	stopped chan struct{}
}

func startCheckpointer(ctx context.Context, path string) (*checkpointer, error) {
	conn, err := openOne(path, roleCheckpoint)
	if err != nil {
		return nil, fmt.Errorf("open %s for checkpoints: %w", path, err)
	}
	if err := conn.PingContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("open %s for checkpoints: %w", path, err)
	}
	c := &checkpointer{conn: conn, stop: make(chan struct{}), stopped: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.stopped)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		// A checkpoint that fails (the disk full, say) loses nothing: the
		// frames stay in the WAL, readers still see them, and the next tick
		// tries again. The commits, which share the disk, report the cause.
		_ = c.once(context.Background())
	}
}

// once runs one PASSIVE checkpoint: it copies what no reader still needs
// and never waits for a lock.
func (c *checkpointer) once(ctx context.Context) error {
	var busy, logFrames, done int
	if err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("wal checkpoint: %w", err)
	}
	return nil
}

// close stops the loop; the last connection to close checkpoints the rest.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.stopped
	return c.conn.Close()
}
