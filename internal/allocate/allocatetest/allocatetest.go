// Package allocatetest is the allocation's test environment, for tests
// only, in the manner of net/http/httptest: a store of one engine holding a
// campaign's centers, a clock the test sets, people registered in batches,
// allocation runs, and checks of every invariant of what is stored (no slot
// overbooked, both doses or neither, nobody lost from the line, a
// notification for each booking). The allocator's tests, the feed's and the
// appointments' build on it, so that these invariants are written once.
//
// It is imported by _test.go files only; nothing that serves may depend on
// it. Failures go to the test given to New, or to the rapid check of
// Property.
package allocatetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/turnero"
)

// Clock is a clock the test sets; it is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the time the clock shows.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Campaign is the sample campaign with a small agenda: two centers in
// Montevideo, one in Canelones giving only AstraZeneca, five days ahead.
func Campaign(t testing.TB) *turnero.Campaign {
	t.Helper()
	c := campaign.Sample()
	week := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
	c.Centers = []turnero.Center{
		{ID: "MO-A", Name: "A", Department: "UY-MO", Vaccines: []string{"pfizer", "sinovac", "astrazeneca"},
			Days: week, Opens: 8 * 60, Closes: 10 * 60, SlotMinutes: 30, PerSlot: 2},
		{ID: "MO-B", Name: "B", Department: "UY-MO", Vaccines: []string{"pfizer"},
			Days: week, Opens: 9 * 60, Closes: 11 * 60, SlotMinutes: 60, PerSlot: 3,
			Exceptions: []turnero.CenterException{{Date: "2021-03-03", Closed: true}}},
		{ID: "CA-A", Name: "C", Department: "UY-CA", Vaccines: []string{"astrazeneca"},
			Days: week, Opens: 8 * 60, Closes: 9 * 60, SlotMinutes: 20, PerSlot: 1},
	}
	c.Allocation = turnero.AllocationPolicy{Every: time.Minute, Notice: 12 * time.Hour, HorizonDays: 5, Dose2WindowDays: 2}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// Env is one store of one engine with a campaign's centers, its clock, and
// what the test did to it, which the checks compare with what is stored.
type Env struct {
	T      testing.TB
	Engine enginetest.Engine
	// Where the database is, for Engine.Open: a file, or a PostgreSQL URL.
	Where    string
	Store    turnero.Store
	Campaign *turnero.Campaign
	Clock    *Clock
	// Registrations are everyone registered, by sequence, as last read
	// (see Refresh).
	Registrations map[int64]turnero.Registration
	// Released counts bookings released since (cancel, another date, a
	// missed first dose): each left its notification in the outbox.
	Released int
	// SecondDoses counts second doses released (missed, or another date
	// for them) to be booked again; SecondDose holds who had one.
	SecondDoses int
	SecondDose  map[int64]bool
	// n numbers the people Register makes.
	n int
}

// New opens a store on a fresh database of eng with c's centers, on a clock
// at Monday 1 March 2021, 10:00 in the campaign's time zone.
func New(t testing.TB, eng enginetest.Engine, c *turnero.Campaign) *Env {
	t.Helper()
	where := eng.Fresh(t)
	db := eng.Open(t, where)
	if err := db.UpsertCenters(context.Background(), c.Centers); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2021, 3, 1, 10, 0, 0, 0, c.Location)
	return &Env{T: t, Engine: eng, Where: where, Store: db, Campaign: c, Clock: NewClock(start),
		Registrations: map[int64]turnero.Registration{}, SecondDose: map[int64]bool{}}
}

// People are n people of one group, department and age, for Register.
func People(n int, group, dept string, age int) []turnero.Candidate {
	out := make([]turnero.Candidate, n)
	for i := range out {
		out[i] = turnero.Candidate{Group: group, Department: dept, Age: age}
	}
	return out
}

// NewRegistration is person i's registration: hashes of its own, personal
// data that is not sealed (nothing here opens it), received in the order of
// i.
func NewRegistration(i int, group, dept string, age int) turnero.NewRegistration {
	doc := sha256.Sum256(fmt.Appendf(nil, "doc-%d", i))
	id := sha256.Sum256(fmt.Appendf(nil, "id-%d", i))
	return turnero.NewRegistration{
		DocumentHash: doc[:16], IdentityHash: id[:16], Group: group, Department: dept, Age: age,
		Channel: "web", KeyID: "k1", Sealed: []byte("sealed"), ReceivedAt: time.UnixMilli(1_614_600_000_000 + int64(i)),
	}
}

// Register stores people (group, department, age) in one batch.
func (e *Env) Register(people ...turnero.Candidate) []turnero.Registration {
	e.T.Helper()
	batch := make([]turnero.NewRegistration, len(people))
	for i, p := range people {
		e.n++
		batch[i] = NewRegistration(e.n, p.Group, p.Department, p.Age)
	}
	return e.Insert(batch...)
}

// Insert stores registrations made by the test (with personal data sealed
// under its own keys, say) in one batch.
func (e *Env) Insert(batch ...turnero.NewRegistration) []turnero.Registration {
	e.T.Helper()
	out, err := e.Store.InsertRegistrations(context.Background(), batch)
	if err != nil {
		e.T.Fatal(err)
	}
	regs := make([]turnero.Registration, len(out))
	for i, o := range out {
		if o.Err != nil {
			e.T.Fatal(o.Err)
		}
		regs[i] = o.Registration
		e.Registrations[o.Registration.Sequence] = o.Registration
	}
	return regs
}

// OpenGroups opens groups now.
func (e *Env) OpenGroups(groups ...string) { e.setGroups(true, groups) }

// CloseGroups closes groups now.
func (e *Env) CloseGroups(groups ...string) { e.setGroups(false, groups) }

func (e *Env) setGroups(open bool, groups []string) {
	e.T.Helper()
	for _, g := range groups {
		if _, err := e.Store.SetGroupOpen(context.Background(), g, open, e.Clock.Now()); err != nil {
			e.T.Fatal(err)
		}
	}
}

// Allocator is an allocator over store (the Env's, or another opened on
// the same database) on the Env's clock, committing batch people at a time.
func (e *Env) Allocator(store allocate.Store, batch int) *allocate.Allocator {
	e.T.Helper()
	a, err := allocate.New(allocate.Config{Batch: batch, Page: 7}, store, e.Campaign, e.Clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		e.T.Fatal(err)
	}
	return a
}

// Run runs a once; the test fails if the run does.
func (e *Env) Run(a *allocate.Allocator) allocate.Report {
	e.T.Helper()
	rep, err := a.RunOnce(context.Background())
	if err != nil {
		e.T.Fatalf("allocation run: %v", err)
	}
	return rep
}

// Appointments reads every appointment stored, by registration.
func (e *Env) Appointments() map[int64][]turnero.Appointment {
	e.T.Helper()
	out := map[int64][]turnero.Appointment{}
	err := e.Store.EachAppointment(context.Background(), func(a turnero.Appointment) error {
		out[a.Registration] = append(out[a.Registration], a)
		return nil
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return out
}

// Booked lists who has a booking, by sequence.
func (e *Env) Booked() []int64 {
	var out []int64
	for seq := range e.Appointments() {
		out = append(out, seq)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// BookedSlots is the number of doses booked in the slots' counts.
func (e *Env) BookedSlots() int {
	slots, err := e.Store.SlotBookings(context.Background())
	if err != nil {
		e.T.Fatal(err)
	}
	n := 0
	for _, s := range slots {
		n += s.Booked
	}
	return n
}

// Refresh reads every registration again (a release may have changed a
// group ordinal or a status).
func (e *Env) Refresh() {
	e.T.Helper()
	for seq := range e.Registrations {
		r, err := e.Store.RegistrationBySequence(context.Background(), seq)
		if err != nil {
			e.T.Fatal(err)
		}
		e.Registrations[seq] = r
	}
}

// Change applies a decision now, counting a second dose released; the test
// fails if it is refused.
func (e *Env) Change(seq int64, decide func(turnero.BookingRecord) (turnero.BookingChange, error)) (turnero.BookingRecord, turnero.BookingChange) {
	e.T.Helper()
	var ch turnero.BookingChange
	rec, err := e.Store.ChangeBooking(context.Background(), seq, e.Clock.Now(), func(r turnero.BookingRecord) (turnero.BookingChange, error) {
		var err error
		ch, err = decide(r)
		return ch, err
	})
	if err != nil {
		e.T.Fatalf("change of %d: %v", seq, err)
	}
	if ch.SecondDose != nil {
		e.SecondDoses++
		e.SecondDose[seq] = true
	}
	return rec, ch
}
