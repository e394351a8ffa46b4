// Package allocate turns the waiting list into appointments: open groups in
// priority order, each strictly in order of submission, first dose at the
// earliest free slot in the person's department with a vaccine they are
// allowed, second dose at the same center after the vaccine's interval, both
// or neither. Before any of them, it books again the second doses of people
// whose first dose was given and who missed the second or asked for another
// date: the same vaccine, after the interval, at the same center or another
// of the department. A run holds the agenda in memory and commits in large steps;
// storage refuses a step computed against bookings that changed meanwhile,
// and the run starts again. It never touches personal data.
package allocate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// Config sizes a run.
type Config struct {
	// Every is how often Run allocates; 0 takes the campaign's
	// allocation.interval.
	Every time.Duration
	// Page is how many registrations are read per query.
	Page int
	// Batch is how many people are committed per transaction. Larger is
	// faster; smaller holds the write lock for less time (intake waits for
	// it).
	Batch int
	// Yield makes a run give the processor up every yieldEvery people, so
	// that a run inside serve does not keep intake's goroutines queued
	// behind it for a scheduler time slice (10 ms) on a small machine.
	Yield bool
	// Duty is the share of time a run may work, between 0 and 1; after each
	// committed step it rests in proportion. 0 means 1: no rest. Inside
	// serve, intake and the allocator share the machine's processors, and a
	// run placing people as fast as it can puts intake's tail latency above
	// its target on two cores.
	Duty float64
}

const yieldEvery = 64

// DefaultConfig commits about 100,000 rows per transaction: the fastest, for
// `turnero allocate` and benchmarks.
var DefaultConfig = Config{Page: 50_000, Batch: 20_000}

// ServeConfig is for the allocator inside serve, which shares the database
// and the processors with intake. Measured with bench/run.sh alloc (2,000
// registrations/s while a run places ~430,000 people, 2-core machine):
//   - reading the waiting list through reader connections stalled intake
//     for up to 2 s (see sqlite.DB.bulk); read through the writer's
//     connection in pages of 2,000, p99 was 39 ms, the run 9 s;
//   - 250 people per transaction and working half the time (Duty 0.5):
//     p99 20 ms against 15 ms with no allocation, the run ~35 s;
//   - once SQLite's checkpoints left the commit path (sqlite/checkpoint.go)
//     and intake's writer lingered for larger batches: p99 10-13 ms, the
//     run 20-26 s; at full speed (Duty 1, --allocate-duty) 13-21 ms, 10-11 s.
//
// `turnero allocate` (DefaultConfig) still runs at full speed.
var ServeConfig = Config{Page: 2_000, Batch: 250, Yield: true, Duty: 0.5}

// maxAttempts bounds the restarts of a run refused for a conflict.
const maxAttempts = 8

// Store is what the allocator reads and commits, with the centers' agendas
// and the groups it opens and closes.
type Store interface {
	turnero.AllocationStore
	turnero.CenterStore
	turnero.GroupStore
}

// Allocator allocates appointments. One run at a time per process; runs of
// other processes on the same data are kept apart by storage.
type Allocator struct {
	// Changes, when set (before the first run), is told at the end of each
	// run that booked anyone and of each group opened or closed. Within a
	// run, status answers follow the store's change stamp: telling them at
	// every commit would empty their cache many times a second.
	Changes turnero.StatusChanges

	store    Store
	campaign *turnero.Campaign
	clock    turnero.Clock
	log      *slog.Logger
	cfg      Config

	mu sync.Mutex // one run at a time

	lastMu sync.RWMutex
	last   *plan // the agenda as the last run left it, for estimates

	// cache is the agenda the last successful run left, valid while the
	// storage version is cacheVersion (nobody else booked or freed a slot
	// or changed a center): the next run then reads only the groups, not
	// every future booking, and costs in proportion to what is new.
	cache        *plan
	cacheVersion int64
}

// New returns an allocator.
func New(cfg Config, store Store, c *turnero.Campaign, clock turnero.Clock, log *slog.Logger) (*Allocator, error) {
	if cfg.Page == 0 {
		cfg.Page = DefaultConfig.Page
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultConfig.Batch
	}
	if cfg.Duty < 0 || cfg.Duty > 1 {
		return nil, fmt.Errorf("allocate: duty must be between 0 and 1, got %v", cfg.Duty)
	}
	if cfg.Page < 1 || cfg.Batch < 1 {
		return nil, fmt.Errorf("allocate: page and batch must be positive, got %d and %d", cfg.Page, cfg.Batch)
	}
	if cfg.Every == 0 {
		cfg.Every = c.Allocation.Every
	}
	if cfg.Every <= 0 {
		return nil, fmt.Errorf("allocate: interval must be positive, got %s", cfg.Every)
	}
	return &Allocator{store: store, campaign: c, clock: clock, log: log, cfg: cfg}, nil
}

// Report says what a run did. It holds counts only, no personal data.
type Report struct {
	Started      time.Time     `json:"started"`
	Took         time.Duration `json:"-"`
	Scheduled    int           `json:"scheduled"`    // registrations given their appointments
	Appointments int           `json:"appointments"` // doses booked
	NewPending   int           `json:"new_pending"`  // passed, could not be placed
	StillPending int           `json:"still_pending"`
	Commits      int           `json:"commits"`
	Attempts     int           `json:"attempts"`
	// Reasons counts the people not placed by reason.
	Reasons map[string]int `json:"reasons"`
	// SecondDoses counts second doses booked again (also in Appointments);
	// SecondDosesWaiting those still waiting for a slot.
	SecondDoses        int      `json:"second_doses"`
	SecondDosesWaiting int      `json:"second_doses_waiting"`
	Groups             []string `json:"groups"` // open groups, in the order served
}

// Run allocates every interval until ctx ends. Errors are logged here, at the
// top of the worker, and the next run tries again.
func (a *Allocator) Run(ctx context.Context) error {
	t := time.NewTicker(a.cfg.Every)
	defer t.Stop()
	for {
		rep, err := a.RunOnce(ctx)
		switch {
		case errors.Is(err, context.Canceled):
			return nil
		case err != nil:
			a.log.Error("allocation run failed", "err", err, "attempts", rep.Attempts)
		case rep.Scheduled > 0 || rep.NewPending > 0 || rep.SecondDoses > 0:
			a.log.Info("allocation run", "scheduled", rep.Scheduled, "appointments", rep.Appointments,
				"new_pending", rep.NewPending, "still_pending", rep.StillPending, "second_doses", rep.SecondDoses,
				"second_doses_waiting", rep.SecondDosesWaiting, "commits", rep.Commits, "took_ms", rep.Took.Milliseconds())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce allocates what can be allocated now, starting again from fresh
// bookings when another writer got in between.
func (a *Allocator) RunOnce(ctx context.Context) (Report, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	start := time.Now()
	var total Report
	for attempt := 1; ; attempt++ {
		rep, err := a.run(ctx)
		total.add(rep)
		total.Attempts = attempt
		if errors.Is(err, turnero.ErrAllocationConflict) && attempt < maxAttempts {
			// Another allocator is committing: let it finish before
			// reading the bookings again, or both keep refusing each other.
			a.log.Info("allocation conflict; starting again", "attempt", attempt, "err", err)
			backoff := time.Duration(attempt) * (20*time.Millisecond + rand.N(50*time.Millisecond))
			select {
			case <-ctx.Done():
				return total, ctx.Err()
			case <-time.After(backoff):
			}
			continue
		}
		total.Took = time.Since(start)
		if a.Changes != nil && (total.Scheduled > 0 || total.NewPending > 0 || total.SecondDoses > 0) {
			a.Changes.Changed()
		}
		return total, err
	}
}

// SetGroupOpen opens or closes one of the campaign's priority groups
// (ErrGroupNotFound for another); people of an open group are allocated in
// order of submission as capacity allows.
func (a *Allocator) SetGroupOpen(ctx context.Context, group string, open bool) (turnero.GroupState, error) {
	if _, ok := a.campaign.Group(group); !ok {
		return turnero.GroupState{}, turnero.ErrGroupNotFound
	}
	g, err := a.store.SetGroupOpen(ctx, group, open, a.clock.Now())
	if err != nil {
		return g, err
	}
	if a.Changes != nil {
		a.Changes.Changed()
	}
	a.log.Info("group opened or closed", "group", group, "open", open)
	return g, nil
}

func (r *Report) add(o Report) {
	if r.Started.IsZero() {
		r.Started = o.Started
	}
	r.Scheduled += o.Scheduled
	r.Appointments += o.Appointments
	r.NewPending += o.NewPending
	r.StillPending = o.StillPending
	r.Commits += o.Commits
	r.Groups = o.Groups
	r.SecondDoses += o.SecondDoses
	r.SecondDosesWaiting = o.SecondDosesWaiting
	if r.Reasons == nil {
		r.Reasons = map[string]int{}
	}
	for k, v := range o.Reasons {
		r.Reasons[k] = v
	}
}

// run is one attempt: snapshot, then the second doses to book again (a
// person halfway through a course comes first, whether or not their group
// is open), then each open group in priority order, its pending list first
// and then the registrations past its cursor.
func (a *Allocator) run(ctx context.Context) (Report, error) {
	now := a.clock.Now()
	rep := Report{Started: now, Reasons: map[string]int{}}
	p, version, groups, err := a.agenda(ctx, now)
	if err != nil {
		return rep, err
	}
	a.cache = nil // until this run ends well
	defer func() {
		a.lastMu.Lock()
		a.last = p
		a.lastMu.Unlock()
	}()
	states := make(map[string]turnero.GroupState, len(groups))
	for _, g := range groups {
		states[g.Group] = g
	}
	w := &writer{store: a.store, plan: p, version: version, at: now, rep: &rep, yield: a.cfg.Yield,
		duty: a.cfg.Duty, working: time.Now()}
	if err := a.rebookSecondDoses(ctx, w); err != nil {
		return rep, err
	}
	for _, g := range a.campaign.Groups {
		st := states[g.ID]
		if !st.Open {
			continue
		}
		rep.Groups = append(rep.Groups, g.ID)
		if err := a.retryPending(ctx, w, g.ID, now); err != nil {
			return rep, err
		}
		if err := a.serveNew(ctx, w, g.ID, st.Cursor, now); err != nil {
			return rep, err
		}
	}
	if err := w.flush(ctx); err != nil {
		return rep, err
	}
	a.cache, a.cacheVersion = p, w.version
	return rep, nil
}

// agenda returns the in-memory agenda for a run at now: the previous run's
// when storage has not changed since and the booking days are the same,
// else one built from the centers and the stored bookings.
func (a *Allocator) agenda(ctx context.Context, now time.Time) (*plan, int64, []turnero.GroupState, error) {
	if p := a.cache; p != nil {
		v, groups, err := a.store.AllocationState(ctx)
		if err != nil {
			return nil, 0, nil, err
		}
		if v == a.cacheVersion && p.advance(now) {
			return p, v, groups, nil
		}
	}
	snap, err := a.store.AllocationSnapshot(ctx, now)
	if err != nil {
		return nil, 0, nil, err
	}
	centers, err := a.store.Centers(ctx)
	if err != nil {
		return nil, 0, nil, err
	}
	return newPlan(a.campaign, centers, snap.Bookings, now), snap.Version, snap.Groups, nil
}

// rebookSecondDoses books the queue of second doses, in sequence order.
// Those that find no slot stay in the queue and are tried first again on
// the next run.
func (a *Allocator) rebookSecondDoses(ctx context.Context, w *writer) error {
	var after int64
	for {
		page, err := a.store.SecondDosesAfter(ctx, after, a.cfg.Page)
		if err != nil {
			return err
		}
		for i := range page {
			sd := &page[i]
			after = sd.Sequence
			cp, flat, reason := w.plan.placeSecondDose(sd)
			if reason != "" {
				w.rep.SecondDosesWaiting++
				continue
			}
			w.b.SecondDoses = append(w.b.SecondDoses, turnero.SecondDoseBooking{Sequence: sd.Sequence, Group: sd.Group,
				Ordinal: sd.Ordinal, Vaccine: sd.Vaccine, Center: cp.c.ID, Start: w.plan.start(cp, flat)})
			w.people++
			w.appts++
			if err := w.maybeFlush(ctx, a.cfg.Batch); err != nil {
				return err
			}
		}
		if len(page) < a.cfg.Page {
			return nil
		}
	}
}

func (a *Allocator) retryPending(ctx context.Context, w *writer, group string, now time.Time) error {
	var after int64
	for {
		page, err := a.store.PendingAfter(ctx, group, after, a.cfg.Page)
		if err != nil {
			return err
		}
		for i := range page {
			pd := &page[i]
			after = pd.Ordinal
			pl, reason := w.plan.place(&pd.Candidate)
			if reason != "" {
				w.rep.StillPending++
				w.rep.Reasons[reason]++
				continue
			}
			w.book(&pd.Candidate, pl)
			w.b.Resolved = append(w.b.Resolved, pd.Candidate)
			if err := w.maybeFlush(ctx, a.cfg.Batch); err != nil {
				return err
			}
		}
		if len(page) < a.cfg.Page {
			return nil
		}
	}
}

func (a *Allocator) serveNew(ctx context.Context, w *writer, group string, cursor int64, now time.Time) error {
	for {
		page, err := a.store.WaitingAfter(ctx, group, cursor, a.cfg.Page)
		if err != nil {
			return err
		}
		for i := range page {
			c := &page[i]
			pl, reason := w.plan.place(c)
			if reason != "" {
				w.b.NewPending = append(w.b.NewPending, turnero.Pending{Candidate: *c, Reason: reason, Since: now})
				w.rep.Reasons[reason]++
			} else {
				w.book(c, pl)
			}
			cursor = c.Ordinal
			w.setCursor(group, cursor)
			if err := w.maybeFlush(ctx, a.cfg.Batch); err != nil {
				return err
			}
		}
		if len(page) < a.cfg.Page {
			return nil
		}
	}
}

// writer accumulates a step and commits it.
type writer struct {
	store   Store
	plan    *plan
	version int64
	at      time.Time
	rep     *Report
	b       turnero.AllocationBatch
	people  int
	appts   int
	yield   bool
	since   int // people since the last yield
	duty    float64
	working time.Time // when the current step began, for Duty
}

func (w *writer) book(c *turnero.Candidate, pl placement) {
	p := w.plan
	bk := turnero.Booking{Candidate: *c, Center: pl.center.c.ID, Vaccine: p.vaccines[pl.vaccine].ID,
		Source: turnero.SourceAllocator, Starts: make([]time.Time, pl.doses)}
	for i := range bk.Starts {
		bk.Starts[i] = p.start(pl.center, pl.flats[i])
	}
	w.b.Bookings = append(w.b.Bookings, bk)
	w.appts += pl.doses
	w.people++
}

func (w *writer) setCursor(group string, cursor int64) {
	if w.b.Cursors == nil {
		w.b.Cursors = map[string]int64{}
	}
	w.b.Cursors[group] = cursor
}

func (w *writer) maybeFlush(ctx context.Context, size int) error {
	if w.yield {
		if w.since++; w.since == yieldEvery {
			w.since = 0
			runtime.Gosched()
		}
	}
	if w.people+len(w.b.NewPending) < size {
		return nil
	}
	return w.flush(ctx)
}

func (w *writer) flush(ctx context.Context) error {
	if len(w.b.Bookings) == 0 && len(w.b.NewPending) == 0 && len(w.b.Resolved) == 0 && len(w.b.Cursors) == 0 &&
		len(w.b.SecondDoses) == 0 {
		return nil
	}
	w.b.Version = w.version
	w.b.At = w.at
	w.b.Slots = w.plan.takeTouched()
	if err := w.store.CommitAllocation(ctx, w.b); err != nil {
		return fmt.Errorf("allocation step of %d people: %w", w.people, err)
	}
	// Only what is committed counts: a step refused for a conflict is
	// computed again by the next attempt.
	w.version++
	w.rep.Commits++
	w.rep.SecondDoses += len(w.b.SecondDoses)
	w.rep.Scheduled += w.people - len(w.b.SecondDoses)
	w.rep.Appointments += w.appts
	w.rep.NewPending += len(w.b.NewPending)
	w.b = turnero.AllocationBatch{}
	w.people, w.appts = 0, 0
	return w.rest(ctx)
}

// rest pauses after a step so that the run works only its Duty share of
// the time.
func (w *writer) rest(ctx context.Context) error {
	if w.duty <= 0 || w.duty >= 1 {
		return nil
	}
	worked := time.Since(w.working)
	t := time.NewTimer(time.Duration(float64(worked) * (1 - w.duty) / w.duty))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	w.working = time.Now()
	return nil
}

// Estimate says when someone with position people ahead of them in their
// group and department may expect a first dose, from the capacity and the
// bookings the last run saw. False when there is no run yet or no capacity.
func (a *Allocator) Estimate(dept string, position int64) (time.Time, bool) {
	a.lastMu.RLock()
	p := a.last
	a.lastMu.RUnlock()
	if p == nil {
		return time.Time{}, false
	}
	perDay := p.dailyCapacity(dept)
	if perDay <= 0 {
		return time.Time{}, false
	}
	// The first free first-dose day of the department, then the days the
	// people ahead will take.
	first := -1
	for _, cp := range p.byDept[dept] {
		if cp.next1 < cp.end1 {
			if d := cp.next1 / cp.perDay; first < 0 || d < first {
				first = d
			}
		}
	}
	if first < 0 {
		first = p.campaign.Allocation.HorizonDays
	}
	days := first + int(position/int64(perDay))
	return p.dates[0].AddDate(0, 0, days), true
}
