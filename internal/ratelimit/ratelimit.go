// Package ratelimit holds each provider to the messages per second its
// gateway is paid for: Send blocks until the provider may take another
// message, or its context ends. That is the dispatcher's backpressure:
// its workers wait here instead of being refused by the gateway. It limits
// one process; several nodes divide a provider's rate among themselves by
// configuration.
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// Limiter lets through at most Rate events a second, Burst of them at once
// after a pause. It schedules each event at the earliest time the rate
// allows (the generic cell rate algorithm: one "theoretical arrival time"
// moved forward an interval per event), so waiting events keep their
// order and no event is refused.
type Limiter struct {
	interval  time.Duration // between events at the full rate
	tolerance time.Duration // how early an event may go: (burst-1) intervals
	clock     turnero.Clock
	sleep     func(ctx context.Context, d time.Duration) error

	mu  sync.Mutex
	tat time.Time // when the next event would go at the full rate
}

// New returns a limiter of perSecond events a second with bursts of burst,
// on the system clock.
func New(perSecond float64, burst int) *Limiter {
	return NewWithClock(perSecond, burst, turnero.SystemClock{}, sleepContext)
}

// NewWithClock is New with the clock and the way of waiting given, for
// tests.
func NewWithClock(perSecond float64, burst int, clock turnero.Clock, sleep func(ctx context.Context, d time.Duration) error) *Limiter {
	interval := time.Duration(float64(time.Second) / perSecond)
	burst = max(burst, 1)
	return &Limiter{interval: interval, tolerance: time.Duration(burst-1) * interval, clock: clock, sleep: sleep}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Reserve takes the next place at time now and returns how long its event
// must wait.
func (l *Limiter) Reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tat.Before(now) {
		l.tat = now
	}
	wait := l.tat.Sub(now) - l.tolerance
	l.tat = l.tat.Add(l.interval)
	return max(wait, 0)
}

// cancel gives back a place that was reserved and not used, so that an
// abandoned wait does not slow those after it.
func (l *Limiter) cancel() {
	l.mu.Lock()
	l.tat = l.tat.Add(-l.interval)
	l.mu.Unlock()
}

// Wait blocks until an event may go, or ctx ends (its error is returned and
// the place given back).
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d := l.Reserve(l.clock.Now())
	if d <= 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && l.clock.Now().Add(d).After(deadline) {
		// It would not be its turn before the deadline: say so now rather
		// than hold a place it cannot use.
		l.cancel()
		return fmt.Errorf("rate limit: a wait of %s passes the deadline: %w", d, context.DeadlineExceeded)
	}
	if err := l.sleep(ctx, d); err != nil {
		l.cancel()
		return err
	}
	return nil
}

// Provider sends through another provider at the limiter's pace.
type Provider struct {
	next    turnero.Provider
	limiter *Limiter
}

// Wrap limits p to perSecond messages a second, burst at once.
func Wrap(p turnero.Provider, perSecond float64, burst int) *Provider {
	return &Provider{next: p, limiter: New(perSecond, burst)}
}

// WrapWithLimiter limits p by a limiter of the caller's (shared, or on a
// test clock).
func WrapWithLimiter(p turnero.Provider, l *Limiter) *Provider {
	return &Provider{next: p, limiter: l}
}

// Send waits for its turn, then sends. A wait that ctx ends is a transient
// failure: nothing was sent.
func (p *Provider) Send(ctx context.Context, m turnero.NoticeMessage) (string, error) {
	if err := p.limiter.Wait(ctx); err != nil {
		return "", turnero.TransientDelivery("rate_limit", "waiting for the provider's rate: "+err.Error(), 0)
	}
	return p.next.Send(ctx, m)
}

// MaxRate bounds a configured rate: more would be a typo, not a contract.
const MaxRate = 100_000

// RateFromEnv reads a rate in messages per second (a positive number, such
// as "30" or "0.5") from the environment variable name; def when it is not
// set. An error names the variable.
func RateFromEnv(getenv func(string) string, name string, def float64) (float64, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	r, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(r) || r <= 0 || r > MaxRate {
		return 0, &turnero.SettingError{Setting: name, Problem: fmt.Sprintf("must be messages per second, above 0 and at most %d, got %q", MaxRate, v)}
	}
	return r, nil
}
