// Package dashboard keeps the ministry's figures: counters of what was
// written (registrations by place, group, age and channel, per minute;
// appointment events by center and day), capacity against bookings, each
// node's usage; and computes every figure from them, never from the
// registrations. It must never hold or show personal data: it opens a
// registration's sealed data only to read its locality, which it folds and
// counts.
//
// Why a worker that catches up, and not counters written with each
// registration: intake commits thousands of registrations a second in
// batches through one writer (BENCHMARKS.md); an upsert of five counter
// rows per registration in the same transaction would lengthen every batch,
// and on PostgreSQL every node's batches would queue on the same hot rows.
// The worker reads each registration once, after it is committed, a few
// thousand per pass, and adds a pass's counts in one short transaction.
package dashboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// Store is what the worker reads and writes.
type Store interface {
	turnero.DashboardStore
	Centers(ctx context.Context) ([]turnero.Center, error)
}

// Opener opens a registration's sealed personal data (the key file's keys).
type Opener func(r turnero.Registration) (turnero.PersonalData, error)

// Config sets the worker's pace.
type Config struct {
	// Every is how often the counters catch up: the figures are at most
	// this old.
	Every time.Duration
	// Chunk is how many registrations or events one read takes.
	Chunk int
	// CapacityEvery is how often the capacity snapshot is made.
	CapacityEvery time.Duration
	// PastDays and AheadDays are the capacity snapshot's window.
	PastDays, AheadDays int
}

// DefaultConfig: figures at most 2 s behind; the capacity snapshot every
// 30 s, from a week ago to two weeks ahead.
var DefaultConfig = Config{Every: 2 * time.Second, Chunk: 2000, CapacityEvery: 30 * time.Second, PastDays: 7, AheadDays: 14}

// Worker keeps the counters.
type Worker struct {
	cfg      Config
	store    Store
	campaign *turnero.Campaign
	open     Opener
	clock    turnero.Clock
	log      *slog.Logger
}

// NewWorker returns a worker over store.
func NewWorker(cfg Config, store Store, c *turnero.Campaign, open Opener, clock turnero.Clock, log *slog.Logger) *Worker {
	if cfg.Every <= 0 {
		cfg.Every = DefaultConfig.Every
	}
	if cfg.Chunk <= 0 {
		cfg.Chunk = DefaultConfig.Chunk
	}
	if cfg.CapacityEvery <= 0 {
		cfg.CapacityEvery = DefaultConfig.CapacityEvery
	}
	if cfg.AheadDays <= 0 {
		cfg.PastDays, cfg.AheadDays = DefaultConfig.PastDays, DefaultConfig.AheadDays
	}
	return &Worker{cfg: cfg, store: store, campaign: c, open: open, clock: clock, log: log}
}

// Run catches up every Every and makes the capacity snapshot every
// CapacityEvery, until ctx ends. Run it on one node at a time (the store's
// leadership): two would only refuse each other's passes.
func (w *Worker) Run(ctx context.Context) {
	tick := time.NewTicker(w.cfg.Every)
	defer tick.Stop()
	var lastCapacity time.Time
	for {
		if _, err := w.CatchUp(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("dashboard catch-up failed", "err", err)
		}
		if now := w.clock.Now(); now.Sub(lastCapacity) >= w.cfg.CapacityEvery || now.Before(lastCapacity) {
			if err := w.RefreshCapacity(ctx); err != nil && ctx.Err() == nil {
				w.log.Error("dashboard capacity snapshot failed", "err", err)
			} else {
				lastCapacity = now
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// CatchUp counts everything written since the marks, a chunk at a time,
// until nothing is left; it returns how many registrations and events it
// counted.
func (w *Worker) CatchUp(ctx context.Context) (int, error) {
	total := 0
	for {
		n, more, err := w.pass(ctx)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// pass counts one chunk of registrations and one of events, and adds them
// in one transaction; more says whether a chunk was full.
func (w *Worker) pass(ctx context.Context) (int, bool, error) {
	from, err := w.store.DashboardMarks(ctx)
	if err != nil {
		return 0, false, err
	}
	regs, err := w.store.RegistrationsAfter(ctx, from.Registrations, w.cfg.Chunk)
	if err != nil {
		return 0, false, err
	}
	events, next, err := w.store.EventsAfter(ctx, from.Events, w.cfg.Chunk)
	if err != nil {
		return 0, false, err
	}
	d, err := w.count(regs, events)
	if err != nil {
		return 0, false, err
	}
	d.To = turnero.DashboardMarks{Registrations: from.Registrations, Events: next}
	if len(regs) > 0 {
		d.To.Registrations = regs[len(regs)-1].Sequence
	}
	if d.To == from {
		return 0, false, nil
	}
	if err := w.store.ApplyDashboard(ctx, from, d, w.clock.Now()); err != nil {
		if errors.Is(err, turnero.ErrDashboardMoved) {
			return 0, true, nil // another worker passed: read again from its marks
		}
		return 0, false, err
	}
	more := len(regs) == w.cfg.Chunk || len(events) == w.cfg.Chunk || next.Upper != 0
	return len(regs) + len(events), more, nil
}

// count turns registrations and events into counter increments.
func (w *Worker) count(regs []turnero.Registration, events []turnero.DashboardEvent) (turnero.DashboardDelta, error) {
	var d turnero.DashboardDelta
	type regKey struct {
		dep, grp, ch string
		age          int
	}
	rc := map[regKey]int64{}
	lc := map[[2]string]int64{}
	mc := map[int64]int64{}
	hc := map[int64]int64{}
	for _, r := range regs {
		rc[regKey{r.Department, r.Group, r.Channel, r.Age}]++
		m := floorMinute(r.ReceivedAt)
		mc[m]++
		hc[floorDiv(m, 60)]++
		p, err := w.open(r)
		if err != nil {
			return d, fmt.Errorf("open registration %d for its locality: %w", r.Sequence, err)
		}
		lc[[2]string{r.Department, FoldLocality(p.Locality)}]++
	}
	for k, n := range rc {
		d.Registrations = append(d.Registrations, turnero.RegistrationCount{Department: k.dep, Group: k.grp, Channel: k.ch, Age: k.age, N: n})
	}
	for k, n := range lc {
		d.Localities = append(d.Localities, turnero.LocalityCount{Department: k[0], Locality: k[1], N: n})
	}
	for k, n := range mc {
		d.Minutes = append(d.Minutes, turnero.MinuteCount{Minute: k, N: n})
	}
	for k, n := range hc {
		d.Hours = append(d.Hours, turnero.HourCount{Hour: k, N: n})
	}
	tc := map[turnero.EventTotal]int64{}
	dc := map[turnero.EventDay]int64{}
	for _, e := range events {
		tc[turnero.EventTotal{Center: e.Center, Department: e.Department, Vaccine: e.Vaccine, Kind: e.Kind, Dose: e.Dose}]++
		dc[turnero.EventDay{Day: e.At.In(w.campaign.Location).Format("2006-01-02"), Center: e.Center, Kind: e.Kind, Dose: e.Dose}]++
	}
	for k, n := range tc {
		k.N = n
		d.EventTotals = append(d.EventTotals, k)
	}
	for k, n := range dc {
		k.N = n
		d.EventDays = append(d.EventDays, k)
	}
	return d, nil
}

func floorMinute(t time.Time) int64 { return floorDiv(t.Unix(), 60) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

var accents = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n",
	"à", "a", "è", "e", "ì", "i", "ò", "o", "ù", "u", "â", "a", "ê", "e", "ô", "o", "ã", "a", "õ", "o", "ç", "c")

// FoldLocality is the form localities are counted under: lower case,
// without accents, spaces collapsed, so that "Ciudad de la Costa" and
// "ciudad de la  costa" count together. "" for none given.
func FoldLocality(s string) string {
	return accents.Replace(strings.Join(strings.Fields(strings.ToLower(s)), " "))
}

// RefreshCapacity makes the capacity snapshot: for every center and day of
// the window, the people its agenda takes and those booked for each dose.
// It reads the booked slots of the window (bounded by capacity, never by
// registrations) and the centers' agendas.
func (w *Worker) RefreshCapacity(ctx context.Context) error {
	c := w.campaign
	now := w.clock.Now().In(c.Location)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, c.Location)
	first := today.AddDate(0, 0, -w.cfg.PastDays)
	end := today.AddDate(0, 0, w.cfg.AheadDays+1)
	centers, err := w.store.Centers(ctx)
	if err != nil {
		return err
	}
	type key struct{ day, center string }
	days := map[key]*turnero.CapacityDay{}
	var order []key
	for _, ct := range centers {
		for d := first; d.Before(end); d = d.AddDate(0, 0, 1) {
			k := key{d.Format("2006-01-02"), ct.ID}
			cap := int64(ct.CapacityOn(d)) * int64(ct.SlotsPerDay())
			days[k] = &turnero.CapacityDay{Day: k.day, Center: ct.ID, Capacity: cap}
			order = append(order, k)
		}
	}
	slots, err := w.store.SlotsBetween(ctx, first, end)
	if err != nil {
		return err
	}
	for _, s := range slots {
		k := key{s.Start.In(c.Location).Format("2006-01-02"), s.Center}
		cd, ok := days[k]
		if !ok { // a retired center's past bookings
			cd = &turnero.CapacityDay{Day: k.day, Center: s.Center}
			days[k] = cd
			order = append(order, k)
		}
		cd.Dose1 += s.Dose1
		cd.Dose2 += s.Dose2
	}
	out := make([]turnero.CapacityDay, 0, len(order))
	for _, k := range order {
		if cd := days[k]; cd.Capacity > 0 || cd.Dose1+cd.Dose2 > 0 {
			out = append(out, *cd)
		}
	}
	return w.store.PutCapacity(ctx, out, w.clock.Now())
}

// Usage records this node's requests and CPU time every minute, until ctx
// ends: every node runs it.
type Usage struct {
	Node     string
	Store    turnero.DashboardStore
	Requests func() int64
	Clock    turnero.Clock
	Log      *slog.Logger
}

// Record writes the node's usage now.
func (u *Usage) Record(ctx context.Context) error {
	return u.Store.PutUsage(ctx, turnero.NodeUsage{Node: u.Node, Requests: u.Requests(), CPUSeconds: ProcessCPUSeconds(),
		UpdatedAt: u.Clock.Now()})
}

// Run records now, then every minute until ctx ends, and once more then.
func (u *Usage) Run(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	if err := u.Record(ctx); err != nil && ctx.Err() == nil {
		u.Log.Warn("node usage not recorded", "err", err)
	}
	for {
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := u.Record(rctx); err != nil {
				u.Log.Warn("node usage not recorded", "err", err)
			}
			cancel()
			return
		case <-tick.C:
		}
		if err := u.Record(ctx); err != nil && ctx.Err() == nil {
			u.Log.Warn("node usage not recorded", "err", err)
		}
	}
}

// NodeName names this node in the usage table: its host name and process.
func NodeName() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", h, os.Getpid())
}
