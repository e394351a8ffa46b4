package ratelimit_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/ratelimit"
	"github.com/turnero/turnero/internal/turnero"
)

// fakeClock is a clock that only moves when a wait sleeps on it.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var epoch = time.Date(2021, 4, 1, 12, 0, 0, 0, time.UTC)

func TestReserve(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		rate   float64
		burst  int
		at     []time.Duration // when each event asks, from the start
		delays []time.Duration
	}{
		{"10/s, one at a time, all at once", 10, 1, []time.Duration{0, 0, 0, 0}, []time.Duration{0, 100 * ms, 200 * ms, 300 * ms}},
		{"10/s, bursts of 3", 10, 3, []time.Duration{0, 0, 0, 0, 0}, []time.Duration{0, 0, 0, 100 * ms, 200 * ms}},
		{"asking at the pace costs nothing", 10, 1, []time.Duration{0, 100 * ms, 200 * ms, 300 * ms}, []time.Duration{0, 0, 0, 0}},
		{"asking a little early waits the difference", 10, 1, []time.Duration{0, 60 * ms, 120 * ms}, []time.Duration{0, 40 * ms, 80 * ms}},
		{"an idle second refills only the burst", 10, 2, []time.Duration{0, 0, time.Second, time.Second, time.Second, time.Second},
			[]time.Duration{0, 0, 0, 0, 100 * ms, 200 * ms}},
		{"half a message a second", 0.5, 1, []time.Duration{0, 0, 0}, []time.Duration{0, 2 * time.Second, 4 * time.Second}},
	}
	for _, tt := range tests {
		l := ratelimit.NewWithClock(tt.rate, tt.burst, nil, nil)
		for i, at := range tt.at {
			if got := l.Reserve(epoch.Add(at)); got != tt.delays[i] {
				t.Errorf("%s: event %d waits %s, want %s", tt.name, i, got, tt.delays[i])
			}
		}
	}
}

// TestConcurrentReservations: many senders at one instant get one place
// each, whatever their order: the delays are exactly the rate's.
func TestConcurrentReservations(t *testing.T) {
	const n, rate, burst = 400, 100, 5
	l := ratelimit.NewWithClock(rate, burst, nil, nil)
	delays := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			delays[i] = l.Reserve(epoch)
		}()
	}
	wg.Wait()
	slices.Sort(delays)
	for k, d := range delays {
		want := time.Duration(max(k-(burst-1), 0)) * (time.Second / rate)
		if d != want {
			t.Fatalf("place %d waits %s, want %s", k, d, want)
		}
	}
}

type counting struct{ n atomic.Int64 }

func (c *counting) Send(context.Context, turnero.NoticeMessage) (string, error) {
	c.n.Add(1)
	return "id", nil
}

// TestProviderPace sends through the wrapper on a clock that moves only
// when it waits: 50 messages at 25/s take 49 intervals, to the nanosecond.
func TestProviderPace(t *testing.T) {
	clock := &fakeClock{now: epoch}
	next := &counting{}
	p := ratelimit.WrapWithLimiter(next, ratelimit.NewWithClock(25, 1, clock, clock.sleep))
	for range 50 {
		if _, err := p.Send(context.Background(), turnero.NoticeMessage{}); err != nil {
			t.Fatal(err)
		}
	}
	if next.n.Load() != 50 {
		t.Errorf("%d sent", next.n.Load())
	}
	if elapsed := clock.Now().Sub(epoch); elapsed != 49*40*time.Millisecond {
		t.Errorf("50 messages at 25/s took %s, want %s", elapsed, 49*40*time.Millisecond)
	}
	for _, d := range clock.slept {
		if d != 40*time.Millisecond {
			t.Fatalf("a wait of %s, want 40ms each", d)
		}
	}
	// After a pause, the next one goes at once.
	clock.advance(time.Minute)
	before := len(clock.slept)
	p.Send(context.Background(), turnero.NoticeMessage{})
	if len(clock.slept) != before {
		t.Error("waited after a pause")
	}
}

// TestWaitEnds: a wait that its context ends sends nothing, fails
// transiently, and gives its place back.
func TestWaitEnds(t *testing.T) {
	clock := &fakeClock{now: epoch}
	blocked := make(chan struct{})
	sleep := func(ctx context.Context, d time.Duration) error {
		close(blocked)
		<-ctx.Done()
		return ctx.Err()
	}
	l := ratelimit.NewWithClock(1, 1, clock, sleep)
	next := &counting{}
	p := ratelimit.WrapWithLimiter(next, l)
	if _, err := p.Send(context.Background(), turnero.NoticeMessage{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := p.Send(ctx, turnero.NoticeMessage{})
		done <- err
	}()
	<-blocked
	cancel()
	err := <-done
	if err == nil || turnero.IsPermanentDelivery(err) || next.n.Load() != 1 {
		t.Errorf("cancelled wait: %v, %d sent", err, next.n.Load())
	}
	// The place was given back: the next event waits one interval, not
	// two.
	if d := l.Reserve(epoch); d != time.Second {
		t.Errorf("after a cancelled wait the next waits %s, want 1s", d)
	}

	// A deadline sooner than its turn fails at once, without sleeping.
	l = ratelimit.NewWithClock(1, 1, clock, func(context.Context, time.Duration) error {
		t.Error("slept although the deadline comes first")
		return nil
	})
	l.Reserve(clock.Now())
	dl := &deadlineCtx{Context: context.Background(), deadline: clock.Now().Add(500 * time.Millisecond)}
	if err := l.Wait(dl); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a wait past the deadline: %v", err)
	}
	if d := l.Reserve(clock.Now()); d != time.Second {
		t.Errorf("the refused wait kept its place: next waits %s", d)
	}
}

// deadlineCtx has a deadline on the fake clock's time line.
type deadlineCtx struct {
	context.Context
	deadline time.Time
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// TestRealClock counts what goes through in a short window on the real
// clock: never more than the rate allows (a slow machine may let fewer
// through; that is not checked).
func TestRealClock(t *testing.T) {
	next := &counting{}
	p := ratelimit.Wrap(next, 50, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				p.Send(ctx, turnero.NoticeMessage{})
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	allowed := int64(elapsed.Seconds()*50) + 1
	if n := next.n.Load(); n < 1 || n > allowed {
		t.Errorf("%d sent in %s at 50/s, at most %d allowed", n, elapsed, allowed)
	}
}

func TestRateFromEnv(t *testing.T) {
	env := func(v string) func(string) string { return func(string) string { return v } }
	if r, err := ratelimit.RateFromEnv(env(""), "TURNERO_SMS_RATE", 30); r != 30 || err != nil {
		t.Errorf("default: %v %v", r, err)
	}
	if r, err := ratelimit.RateFromEnv(env(" 0.5 "), "TURNERO_SMS_RATE", 30); r != 0.5 || err != nil {
		t.Errorf("0.5: %v %v", r, err)
	}
	for _, v := range []string{"0", "-3", "fast", "NaN", "1e9"} {
		_, err := ratelimit.RateFromEnv(env(v), "TURNERO_SMS_RATE", 30)
		var se *turnero.SettingError
		if !errors.As(err, &se) || se.Setting != "TURNERO_SMS_RATE" {
			t.Errorf("%q: %v", v, err)
		}
	}
}
