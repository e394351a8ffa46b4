package http

import (
	"log/slog"
	"sync"
	"time"
)

// overloadLogEvery is the shortest time between two log lines about
// requests refused for overload.
const overloadLogEvery = time.Second

// overloadLog reports requests refused with 503 overloaded. Such a refusal
// is not a fault (the queue in front of the writer is full and the client
// retries), and a launch evening may refuse thousands a second: one line a
// second at most, with how many were refused since the line before, says
// all an operator needs; the count is also a metric. The refusals of the
// last second before the overload ends are reported a second later.
type overloadLog struct {
	log *slog.Logger

	mu      sync.Mutex
	pending int64     // refused since the last line
	last    time.Time // of the last line
	flush   *time.Timer
}

func newOverloadLog(log *slog.Logger) *overloadLog { return &overloadLog{log: log} }

// refused counts one refusal and writes a line if none was written in the
// last second, or arranges for one to be written when the second is over.
func (o *overloadLog) refused() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pending++
	now := time.Now()
	if wait := o.last.Add(overloadLogEvery).Sub(now); wait > 0 {
		if o.flush == nil {
			o.flush = time.AfterFunc(wait, o.flushPending)
		}
		return
	}
	o.writeLocked(now)
}

func (o *overloadLog) flushPending() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flush = nil
	if o.pending > 0 {
		o.writeLocked(time.Now())
	}
}

func (o *overloadLog) writeLocked(now time.Time) {
	o.log.Warn("overloaded: requests refused with 503, the writer's queue is full",
		"refused", o.pending, "since_last_line", sinceLast(o.last, now))
	o.pending, o.last = 0, now
}

func sinceLast(last, now time.Time) string {
	if last.IsZero() {
		return "first"
	}
	return now.Sub(last).Round(time.Millisecond).String()
}
