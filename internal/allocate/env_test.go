package allocate_test

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

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testCampaign is the sample campaign with a small agenda: two centers in
// Montevideo, one in Canelones giving only AstraZeneca, five days ahead.
func testCampaign(t testing.TB) *turnero.Campaign {
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

type env struct {
	t      testing.TB
	engine enginetest.Engine
	path   string // a file, or a PostgreSQL URL
	db     turnero.Store
	c      *turnero.Campaign
	clock  *fakeClock
	n      int
	regs   map[int64]turnero.Registration
	// released counts bookings released since (cancel, another date, a
	// missed first dose): each left its notification in the outbox.
	released int
	// secondDoses counts second doses released (missed, or another date
	// for them) to be booked again; secondDose holds who had one.
	secondDoses int
	secondDose  map[int64]bool
}

func newEnv(t testing.TB, eng enginetest.Engine, c *turnero.Campaign) *env {
	t.Helper()
	path := eng.Fresh(t)
	db := eng.Open(t, path)
	if err := db.UpsertCenters(context.Background(), c.Centers); err != nil {
		t.Fatal(err)
	}
	// Monday 1 March 2021, 10:00 in Montevideo.
	start := time.Date(2021, 3, 1, 10, 0, 0, 0, c.Location)
	return &env{t: t, engine: eng, path: path, db: db, c: c, clock: &fakeClock{t: start}, regs: map[int64]turnero.Registration{},
		secondDose: map[int64]bool{}}
}

func newRegistration(i int, group, dept string, age int) turnero.NewRegistration {
	doc := sha256.Sum256(fmt.Appendf(nil, "doc-%d", i))
	id := sha256.Sum256(fmt.Appendf(nil, "id-%d", i))
	return turnero.NewRegistration{
		DocumentHash: doc[:16], IdentityHash: id[:16], Group: group, Department: dept, Age: age,
		Channel: "web", KeyID: "k1", Sealed: []byte("sealed"), ReceivedAt: time.UnixMilli(1_614_600_000_000 + int64(i)),
	}
}

// register stores people (group, department, age) in one batch.
func (e *env) register(people ...turnero.Candidate) []turnero.Registration {
	e.t.Helper()
	batch := make([]turnero.NewRegistration, len(people))
	for i, p := range people {
		e.n++
		batch[i] = newRegistration(e.n, p.Group, p.Department, p.Age)
	}
	out, err := e.db.InsertRegistrations(context.Background(), batch)
	if err != nil {
		e.t.Fatal(err)
	}
	regs := make([]turnero.Registration, len(out))
	for i, o := range out {
		if o.Err != nil {
			e.t.Fatal(o.Err)
		}
		regs[i] = o.Registration
		e.regs[o.Registration.Sequence] = o.Registration
	}
	return regs
}

func (e *env) open(groups ...string) {
	e.t.Helper()
	for _, g := range groups {
		if _, err := e.db.SetGroupOpen(context.Background(), g, true, e.clock.Now()); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) allocator(db allocate.Store, batch int) *allocate.Allocator {
	e.t.Helper()
	a, err := allocate.New(allocate.Config{Batch: batch, Page: 7}, db, e.c, e.clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) run(a *allocate.Allocator) allocate.Report {
	e.t.Helper()
	rep, err := a.RunOnce(context.Background())
	if err != nil {
		e.t.Fatalf("allocation run: %v", err)
	}
	return rep
}

func (e *env) appointments() map[int64][]turnero.Appointment {
	e.t.Helper()
	out := map[int64][]turnero.Appointment{}
	err := e.db.EachAppointment(context.Background(), func(a turnero.Appointment) error {
		out[a.Registration] = append(out[a.Registration], a)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// check asserts every invariant of the allocation on what is stored, and
// returns the number of people scheduled. since is the time of the first run
// (no first dose before since plus the notice period).
func (e *env) check(since time.Time) int {
	t := e.t
	t.Helper()
	ctx := context.Background()
	c := e.c
	centers := map[string]turnero.Center{}
	for _, ct := range c.Centers {
		centers[ct.ID] = ct
	}
	appts := e.appointments()
	// Slots: the stored count is the number of appointments, within the
	// agenda's capacity.
	count := map[string]int{}
	for _, as := range appts {
		for _, a := range as {
			count[a.Center+"@"+a.Start.Format(time.RFC3339)]++
		}
	}
	slots, err := e.db.SlotBookings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, s := range slots {
		k := s.Center + "@" + s.Start.Format(time.RFC3339)
		stored[k] = s.Booked
		if s.Booked > s.Capacity {
			t.Fatalf("slot %s overbooked: %d of %d", k, s.Booked, s.Capacity)
		}
	}
	for k, n := range count {
		if stored[k] != n {
			t.Fatalf("slot %s: %d appointments, %d booked in the slot table", k, n, stored[k])
		}
	}
	for _, as := range appts {
		for _, a := range as {
			ct := centers[a.Center]
			capacity := ct.CapacityOn(a.Start.In(c.Location))
			if _, ok := ct.SlotIndex(a.Start, c.Location); !ok {
				t.Fatalf("appointment %+v is not at a slot of %s", a, ct.ID)
			}
			if n := count[a.Center+"@"+a.Start.Format(time.RFC3339)]; n > capacity {
				t.Fatalf("slot of %s at %s: %d appointments, capacity %d", ct.ID, a.Start, n, capacity)
			}
		}
	}
	queued, err := e.db.SecondDosesAfter(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	waiting2 := map[int64]turnero.SecondDose{}
	for _, sd := range queued {
		waiting2[sd.Sequence] = sd
	}
	scheduled := 0
	var seqs []int64
	for seq := range e.regs {
		seqs = append(seqs, seq)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, seq := range seqs {
		reg := e.regs[seq]
		stored, err := e.db.RegistrationBySequence(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		as := appts[seq]
		one, err := e.db.AppointmentsOf(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if len(one) != len(as) {
			t.Fatalf("registration %d: %d appointments by registration, %d in the list", seq, len(one), len(as))
		}
		sd, inQueue := waiting2[seq]
		if len(as) == 0 {
			if inQueue {
				t.Fatalf("registration %d waits for a second dose without a first", seq)
			}
			continue
		}
		scheduled++
		if stored.Status != turnero.StatusWaiting {
			t.Fatalf("registration %d was booked while %q", seq, stored.Status)
		}
		v, _ := c.Vaccine(as[0].Vaccine)
		// Both doses or neither; or dose 1 given and dose 2, of the same
		// vaccine, in the queue to be booked again.
		switch {
		case inQueue && (len(as) != 1 || as[0].State != turnero.AppointmentGiven || sd.Vaccine != as[0].Vaccine ||
			sd.Center != as[0].Center || sd.Department != reg.Department || !e.secondDose[seq]):
			t.Fatalf("registration %d waits for a second dose %+v with appointments %+v", seq, sd, as)
		case !inQueue && len(as) != v.Doses:
			t.Fatalf("registration %d: %d appointments for a vaccine of %d doses (both or neither)", seq, len(as), v.Doses)
		}
		allowed := false
		for _, id := range c.AllowedVaccines(reg.Group, reg.Age) {
			allowed = allowed || id == v.ID
		}
		if !allowed {
			t.Fatalf("registration %d (group %s, age %d) got %s", seq, reg.Group, reg.Age, v.ID)
		}
		ct := centers[as[0].Center]
		if ct.Department != reg.Department || !ct.Gives(v.ID) {
			t.Fatalf("registration %d of %s got center %s (%s)", seq, reg.Department, ct.ID, ct.Department)
		}
		if as[0].Start.Before(since.Add(c.Allocation.Notice)) {
			t.Fatalf("registration %d: first dose at %s, before the notice period from %s", seq, as[0].Start, since)
		}
		for i, a := range as {
			if a.Dose != i+1 || a.Vaccine != v.ID || (a.Center != ct.ID && !e.secondDose[seq]) {
				t.Fatalf("registration %d: dose %d at %s with %s; dose 1 at %s with %s", seq, a.Dose, a.Center, a.Vaccine, ct.ID, v.ID)
			}
			if ct2 := centers[a.Center]; ct2.Department != reg.Department || !ct2.Gives(v.ID) {
				t.Fatalf("registration %d of %s: dose %d at center %s (%s) with %s", seq, reg.Department, a.Dose, ct2.ID, ct2.Department, v.ID)
			}
		}
		if len(as) > 1 && e.secondDose[seq] {
			// Booked again: at least the interval after dose 1, with no
			// upper bound (the window is for bookings made together).
			d1, d2 := civil(as[0].Start.In(c.Location)), civil(as[1].Start.In(c.Location))
			if days := int(d2.Sub(d1) / (24 * time.Hour)); days < v.IntervalDays {
				t.Fatalf("registration %d: dose 2 booked again %d days after dose 1, want at least %d", seq, days, v.IntervalDays)
			}
		} else if v.Doses > 1 && len(as) > 1 {
			d1, d2 := civil(as[0].Start.In(c.Location)), civil(as[1].Start.In(c.Location))
			days := int(d2.Sub(d1) / (24 * time.Hour))
			if days < v.IntervalDays || days > v.IntervalDays+c.Allocation.Dose2WindowDays {
				t.Fatalf("registration %d: dose 2 %d days after dose 1, want %d to %d", seq, days, v.IntervalDays,
					v.IntervalDays+c.Allocation.Dose2WindowDays)
			}
			if days == v.IntervalDays && as[1].Start.In(c.Location).Hour()*60+as[1].Start.In(c.Location).Minute() <
				as[0].Start.In(c.Location).Hour()*60+as[0].Start.In(c.Location).Minute() {
				t.Fatalf("registration %d: dose 2 earlier in the day than dose 1 on the interval's day", seq)
			}
		}
	}
	n, err := e.db.OutboxCount(ctx, turnero.NotifyScheduled)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(scheduled+e.released) {
		t.Fatalf("%d notifications for %d scheduled registrations and %d released bookings", n, scheduled, e.released)
	}
	// Every second dose released is booked again once, with its
	// notification, or still in the queue.
	if n, err = e.db.OutboxCount(ctx, turnero.NotifySecondDose); err != nil {
		t.Fatal(err)
	}
	if n != int64(e.secondDoses-len(queued)) {
		t.Fatalf("%d notifications of second doses booked again; %d released, %d still waiting", n, e.secondDoses, len(queued))
	}
	return scheduled
}

// checkOrder asserts that within a group and department, among people with
// the same allowed vaccines, nobody got a later first dose than someone after
// them in line, and nobody is left waiting for capacity while someone after
// them was placed. Valid for allocations made in one run.
func (e *env) checkOrder() {
	t := e.t
	t.Helper()
	appts := e.appointments()
	type key struct{ group, dept, allowed string }
	last := map[key]time.Time{}
	blocked := map[key]int64{}
	var seqs []int64
	for seq := range e.regs {
		seqs = append(seqs, seq)
	}
	sort.Slice(seqs, func(i, j int) bool {
		a, b := e.regs[seqs[i]], e.regs[seqs[j]]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		return a.GroupOrdinal < b.GroupOrdinal
	})
	for _, seq := range seqs {
		r := e.regs[seq]
		k := key{r.Group, r.Department, fmt.Sprint(e.c.AllowedVaccines(r.Group, r.Age))}
		as := appts[seq]
		if len(as) == 0 {
			if _, ok := blocked[k]; !ok {
				blocked[k] = seq
			}
			continue
		}
		if b, ok := blocked[k]; ok {
			t.Fatalf("registration %d (ordinal %d) placed while %d before it in %v waits", seq, r.GroupOrdinal, b, k)
		}
		if as[0].Start.Before(last[k]) {
			t.Fatalf("registration %d (ordinal %d) got %s, earlier than someone before it (%s)", seq, r.GroupOrdinal, as[0].Start, last[k])
		}
		last[k] = as[0].Start
	}
}

func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
