package allocate_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/enginetest"

	"pgregory.net/rapid"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/turnero"
)

// Property-based tests: random campaigns (centers, agendas, notice, horizon,
// window, place-in-line rules), random people, groups opened and closed,
// runs, days passing, cancellations, requests for another date, doses and
// no-shows; the invariant checker of env_test.go after every step.
//
// Each check builds a SQLite file, so the number of checks is bounded here
// (RAPID_CHECKS or -rapid.checks override it) to keep the package within a
// minute with -race on two cores.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set && os.Getenv("RAPID_CHECKS") == "" {
		flag.Set("rapid.checks", "20")
	}
	os.Exit(m.Run())
}

var (
	allDays = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
	// groupAges are people the sample campaign's groups hold.
	groupAges = []struct {
		group string
		age   int
	}{{"age-80-plus", 85}, {"age-70-79", 72}, {"age-60-69", 65}, {"age-50-59", 55}, {"age-18-29", 22}, {"health-workers", 40}}
	depts = []string{"UY-MO", "UY-CA"}
)

// randomCampaign is the sample campaign with a small random agenda.
func randomCampaign(t *rapid.T) *turnero.Campaign {
	c := campaign.Sample()
	vaccines := []string{"pfizer", "sinovac", "astrazeneca"}
	n := rapid.IntRange(1, 4).Draw(t, "centers")
	c.Centers = nil
	for i := 0; i < n; i++ {
		var vs []string
		for _, v := range vaccines {
			if rapid.Bool().Draw(t, fmt.Sprintf("c%d_%s", i, v)) {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			vs = vaccines[:1]
		}
		var days []time.Weekday
		for _, d := range allDays {
			if rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("c%d_%s", i, d)) > 0 {
				days = append(days, d)
			}
		}
		if len(days) == 0 {
			days = allDays[1:2]
		}
		slot := rapid.SampledFrom([]int{15, 30, 60}).Draw(t, fmt.Sprintf("c%d_slot", i))
		opens := rapid.IntRange(7, 10).Draw(t, fmt.Sprintf("c%d_opens", i)) * 60
		ct := turnero.Center{
			ID: fmt.Sprintf("C%d", i), Name: fmt.Sprintf("Center %d", i), Department: rapid.SampledFrom(depts).Draw(t, fmt.Sprintf("c%d_dept", i)),
			Vaccines: vs, Days: days, Opens: opens, Closes: opens + slot*rapid.IntRange(1, 3).Draw(t, fmt.Sprintf("c%d_slots", i)),
			SlotMinutes: slot, PerSlot: rapid.IntRange(1, 3).Draw(t, fmt.Sprintf("c%d_per", i)),
		}
		if rapid.Bool().Draw(t, fmt.Sprintf("c%d_closed_day", i)) {
			ct.Exceptions = []turnero.CenterException{{Date: fmt.Sprintf("2021-03-%02d", rapid.IntRange(2, 8).Draw(t, fmt.Sprintf("c%d_closed", i))), Closed: true}}
		}
		c.Centers = append(c.Centers, ct)
	}
	c.Allocation = turnero.AllocationPolicy{
		Every:           time.Minute,
		Notice:          time.Duration(rapid.IntRange(0, 36).Draw(t, "notice_hours")) * time.Hour,
		HorizonDays:     rapid.IntRange(1, 6).Draw(t, "horizon"),
		Dose2WindowDays: rapid.IntRange(0, 3).Draw(t, "window"),
	}
	places := []string{turnero.KeepPlace, turnero.BackOfLine}
	c.PlaceInLine = turnero.PlaceInLinePolicy{
		AfterCancel: rapid.SampledFrom(places).Draw(t, "after_cancel"),
		AfterNoShow: rapid.SampledFrom(places).Draw(t, "after_no_show"),
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// rapidEnv adapts the test environment to one rapid check: a fresh file in
// a directory removed when the check ends.
func rapidEnv(t *testing.T, eng enginetest.Engine, rt *rapid.T, c *turnero.Campaign) *env {
	dir, err := os.MkdirTemp(t.TempDir(), "check")
	if err != nil {
		rt.Fatal(err)
	}
	sub := &checkTB{TB: t, rt: rt, dir: dir}
	e := newEnv(sub, eng, c)
	rt.Cleanup(func() { sub.close() })
	return e
}

// checkTB gives newEnv what it needs inside a rapid check: failures go to
// the check (so that rapid shrinks them), files to the check's directory.
type checkTB struct {
	testing.TB // the outer test, for what a check does not override
	rt         *rapid.T
	dir        string
	cleanup    []func()
}

func (c *checkTB) Helper()                   {}
func (c *checkTB) TempDir() string           { return c.dir }
func (c *checkTB) Cleanup(f func())          { c.cleanup = append(c.cleanup, f) }
func (c *checkTB) Fatal(args ...any)         { c.rt.Fatal(args...) }
func (c *checkTB) Fatalf(f string, a ...any) { c.rt.Fatalf(f, a...) }
func (c *checkTB) Errorf(f string, a ...any) { c.rt.Errorf(f, a...) }
func (c *checkTB) close() {
	for i := len(c.cleanup) - 1; i >= 0; i-- {
		c.cleanup[i]()
	}
	os.RemoveAll(c.dir)
}

// refresh reads every registration again (a release may have changed a
// group ordinal or a status).
func (e *env) refresh() {
	e.t.Helper()
	for seq := range e.regs {
		r, err := e.db.RegistrationBySequence(context.Background(), seq)
		if err != nil {
			e.t.Fatal(err)
		}
		e.regs[seq] = r
	}
}

func (e *env) booked() []int64 {
	var out []int64
	for seq := range e.appointments() {
		out = append(out, seq)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// release applies a citizen's or staff's change and checks what became of
// the person's place in line.
func (e *env) release(rt *rapid.T, seq int64, decide func(turnero.BookingRecord) (turnero.BookingChange, error)) {
	ctx := context.Background()
	before := e.regs[seq]
	var maxOrd int64
	for _, r := range e.regs {
		if r.Group == before.Group && r.GroupOrdinal > maxOrd {
			maxOrd = r.GroupOrdinal
		}
	}
	slotsBefore := e.bookedSlots()
	var ch turnero.BookingChange
	rec, err := e.db.ChangeBooking(ctx, seq, e.clock.Now(), func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
		var err error
		ch, err = decide(rec)
		return ch, err
	})
	if err != nil {
		if turnero.ErrorCode(err) != turnero.CodeConflict {
			rt.Fatalf("change of %d: %v", seq, err)
		}
		if got := e.bookedSlots(); got != slotsBefore {
			rt.Fatalf("a refused change (%v) changed the slots: %d booked, was %d", err, got, slotsBefore)
		}
		return
	}
	if ch.SecondDose != nil {
		e.secondDoses++
		e.secondDose[seq] = true
		if len(rec.Appointments) != 1 || rec.Appointments[0].State != turnero.AppointmentGiven {
			rt.Fatalf("after dose 2 was released: %+v", rec.Appointments)
		}
		if got := e.bookedSlots(); got != slotsBefore-1 {
			rt.Fatalf("release of dose 2 of %d freed %d slots", seq, slotsBefore-got)
		}
		// Again: dose 2 already waits for a new date.
		if _, err := e.db.ChangeBooking(ctx, seq, e.clock.Now(), decide); err == nil {
			rt.Fatalf("dose 2 of %d released twice", seq)
		}
		return
	}
	if ch.Release == "" {
		return
	}
	e.released++
	after := rec.Registration
	if after.Sequence != seq || len(rec.Appointments) != 0 {
		rt.Fatalf("after release: %+v", rec)
	}
	if got := e.bookedSlots(); got != slotsBefore-2 && got != slotsBefore-1 {
		rt.Fatalf("release of %d freed %d slots", seq, slotsBefore-got)
	}
	switch ch.Place {
	case turnero.KeepPlace:
		if after.GroupOrdinal != before.GroupOrdinal {
			rt.Fatalf("keep place: ordinal %d became %d", before.GroupOrdinal, after.GroupOrdinal)
		}
	case turnero.BackOfLine:
		if after.GroupOrdinal != maxOrd+1 {
			rt.Fatalf("back of the line: ordinal %d, want %d", after.GroupOrdinal, maxOrd+1)
		}
	case "":
		if after.Status != turnero.StatusCancelled {
			rt.Fatalf("cancelled, status %q", after.Status)
		}
	}
	e.refresh()
}

// checkLine asserts that nobody is lost from the line: every waiting person
// of a group up to its cursor (passed by the allocator) is booked or in the
// pending list, never both, and each group's pending count is its list's
// length.
func (e *env) checkLine() {
	t := e.t
	ctx := context.Background()
	states, err := e.db.GroupStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cursor := map[string]int64{}
	pending := map[int64]bool{}
	for _, g := range states {
		cursor[g.Group] = g.Cursor
		ps, err := e.db.PendingAfter(ctx, g.Group, 0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(ps)) != g.Pending {
			t.Fatalf("group %s counts %d pending, lists %d", g.Group, g.Pending, len(ps))
		}
		for _, p := range ps {
			pending[p.Sequence] = true
		}
	}
	appts := e.appointments()
	for seq, r := range e.regs {
		booked := len(appts[seq]) > 0
		switch {
		case booked && pending[seq]:
			t.Fatalf("registration %d is booked and pending", seq)
		case r.Status == turnero.StatusCancelled && (booked || pending[seq]):
			t.Fatalf("cancelled registration %d is booked or pending", seq)
		case r.Status == turnero.StatusWaiting && r.GroupOrdinal <= cursor[r.Group] && !booked && !pending[seq]:
			t.Fatalf("registration %d (%s ordinal %d, cursor %d) is lost: neither booked nor pending", seq, r.Group, r.GroupOrdinal, cursor[r.Group])
		}
	}
}

func (e *env) bookedSlots() int {
	slots, err := e.db.SlotBookings(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, s := range slots {
		n += s.Booked
	}
	return n
}

// TestPropertyInvariantsUnderChanges: whatever happens, in whatever order,
// no slot is overbooked, every booked person has both doses (or neither) of
// one allowed vaccine at one center of their department at the interval,
// every run is idempotent, and a release puts the person where the
// campaign's rule says.
func TestPropertyInvariantsUnderChanges(t *testing.T) {
	enginetest.Each(t, testPropertyInvariantsUnderChanges)
}

func testPropertyInvariantsUnderChanges(t *testing.T, eng enginetest.Engine) {
	rapid.Check(t, func(rt *rapid.T) {
		c := randomCampaign(rt)
		e := rapidEnv(t, eng, rt, c)
		a := e.allocator(e.db, rapid.IntRange(1, 20).Draw(rt, "batch"))
		var since time.Time
		ctx := context.Background()
		// A start that books someone more often than not: people of
		// groups that are open, then steps in any order.
		for _, ga := range groupAges {
			k := rapid.IntRange(0, 4).Draw(rt, "first_"+ga.group)
			for j := 0; j < k; j++ {
				e.register(turnero.Candidate{Group: ga.group, Age: ga.age, Department: rapid.SampledFrom(depts).Draw(rt, "dept")})
			}
			if k > 0 && rapid.Bool().Draw(rt, "open_"+ga.group) {
				e.open(ga.group)
			}
		}
		steps := rapid.IntRange(4, 24).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			switch rapid.IntRange(0, 9).Draw(rt, "action") {
			case 0, 1: // people register
				k := rapid.IntRange(1, 8).Draw(rt, "people")
				ps := make([]turnero.Candidate, k)
				for j := range ps {
					ga := rapid.SampledFrom(groupAges).Draw(rt, "group")
					ps[j] = turnero.Candidate{Group: ga.group, Age: ga.age, Department: rapid.SampledFrom(depts).Draw(rt, "dept")}
				}
				e.register(ps...)
			case 2: // a group opens or closes
				ga := rapid.SampledFrom(groupAges).Draw(rt, "group")
				if _, err := e.db.SetGroupOpen(ctx, ga.group, rapid.IntRange(0, 3).Draw(rt, "open") > 0, e.clock.Now()); err != nil {
					rt.Fatal(err)
				}
			case 3: // time passes
				e.clock.Add(time.Duration(rapid.IntRange(1, 72).Draw(rt, "hours")) * time.Hour)
			case 4, 5, 8: // the allocator runs, twice
				if since.IsZero() {
					since = e.clock.Now()
				}
				e.run(a)
				if rep := e.run(a); rep.Scheduled != 0 || rep.NewPending != 0 || rep.Commits != 0 {
					rt.Fatalf("a second run at the same time did %+v", rep)
				}
				// A fresh allocator (no agenda kept) agrees.
				if rep := e.run(e.allocator(e.db, 7)); rep.Scheduled != 0 || rep.NewPending != 0 {
					rt.Fatalf("a fresh allocator at the same time did %+v", rep)
				}
			case 6, 9: // a citizen cancels or asks for another date
				booked := e.booked()
				if len(booked) == 0 {
					continue
				}
				seq := rapid.SampledFrom(booked).Draw(rt, "who")
				if rapid.Bool().Draw(rt, "cancel") {
					e.release(rt, seq, c.DecideCancel)
				} else {
					e.release(rt, seq, c.DecideReschedule)
				}
			case 7: // staff: dose 1 or 2 given, or a no-show, for someone due
				now := e.clock.Now()
				var due []int64
				for seq, as := range e.appointments() {
					if a := as[len(as)-1]; len(as) == 2 && as[0].State == turnero.AppointmentGiven &&
						!a.Start.After(now) && a.State == turnero.AppointmentBooked {
						due = append(due, seq)
					}
					if !as[0].Start.After(now) && as[0].State == turnero.AppointmentBooked {
						due = append(due, seq)
					}
				}
				if len(due) == 0 {
					continue
				}
				sort.Slice(due, func(i, j int) bool { return due[i] < due[j] })
				seq := rapid.SampledFrom(due).Draw(rt, "due")
				as := e.appointments()[seq]
				if as[0].State == turnero.AppointmentGiven {
					// Dose 2, due: given, or missed and booked again.
					d2 := as[1]
					if rapid.Bool().Draw(rt, "no_show_2") {
						e.release(rt, seq, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
							return c.DecideNoShow(rec, d2.Center, 2, now)
						})
						break
					}
					if _, err := e.db.ChangeBooking(ctx, seq, now, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
						return c.DecideDose(rec, d2.Center, 2, d2.Vaccine, "L2", now)
					}); err != nil && !errors.Is(err, turnero.ErrDoseTooEarly) {
						rt.Fatalf("dose 2: %v", err)
					}
					break
				}
				if rapid.Bool().Draw(rt, "no_show") {
					e.release(rt, seq, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
						return c.DecideNoShow(rec, as[0].Center, 1, now)
					})
					continue
				}
				// The wrong vaccine is refused and changes nothing; the
				// right one is recorded; online changes are then refused.
				for _, v := range []string{"pfizer", "sinovac", "astrazeneca"} {
					if v == as[0].Vaccine {
						continue
					}
					_, err := e.db.ChangeBooking(ctx, seq, now, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
						return c.DecideDose(rec, as[0].Center, 1, v, "L1", now)
					})
					if !errors.Is(err, turnero.ErrWrongVaccine) {
						rt.Fatalf("dose 1 of %s recorded with %s: %v", as[0].Vaccine, v, err)
					}
				}
				if _, err := e.db.ChangeBooking(ctx, seq, now, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
					return c.DecideDose(rec, as[0].Center, 1, as[0].Vaccine, "L1", now)
				}); err != nil {
					rt.Fatalf("dose 1: %v", err)
				}
				e.release(rt, seq, c.DecideCancel) // refused: a dose was given
				if got := e.appointments()[seq]; len(got) != len(as) || got[0].State != turnero.AppointmentGiven {
					rt.Fatalf("after dose 1: %+v", got)
				}
				if len(as) > 1 && rapid.Bool().Draw(rt, "another_date_2") {
					e.release(rt, seq, c.DecideReschedule) // dose 2 only
				}
			}
			if !since.IsZero() {
				e.check(since)
			}
			e.checkLine()
		}
	})
}

// TestPropertyOrderInOneRun: in one run, within a group and department,
// among people allowed the same vaccines, nobody gets a later first dose
// than someone after them in line, and nobody waits while someone after
// them is placed.
func TestPropertyOrderInOneRun(t *testing.T) { enginetest.Each(t, testPropertyOrderInOneRun) }

func testPropertyOrderInOneRun(t *testing.T, eng enginetest.Engine) {
	rapid.Check(t, func(rt *rapid.T) {
		c := randomCampaign(rt)
		e := rapidEnv(t, eng, rt, c)
		k := rapid.IntRange(1, 60).Draw(rt, "people")
		ps := make([]turnero.Candidate, k)
		for j := range ps {
			ga := rapid.SampledFrom(groupAges).Draw(rt, "group")
			ps[j] = turnero.Candidate{Group: ga.group, Age: ga.age, Department: rapid.SampledFrom(depts).Draw(rt, "dept")}
		}
		e.register(ps...)
		for _, ga := range groupAges {
			if rapid.Bool().Draw(rt, "open_"+ga.group) {
				e.open(ga.group)
			}
		}
		since := e.clock.Now()
		e.run(e.allocator(e.db, rapid.IntRange(1, 30).Draw(rt, "batch")))
		e.check(since)
		e.checkOrder()
	})
}

// TestPropertyTwoAllocatorsAndChanges: two allocators on two handles of the
// same file (as two processes) while people ask for other dates: nobody is
// booked twice, no slot overbooked, and whatever a run refused for a
// conflict is placed by the next one.
func TestPropertyTwoAllocatorsAndChanges(t *testing.T) {
	enginetest.Each(t, testPropertyTwoAllocatorsAndChanges)
}

func testPropertyTwoAllocatorsAndChanges(t *testing.T, eng enginetest.Engine) {
	rapid.Check(t, func(rt *rapid.T) {
		c := randomCampaign(rt)
		e := rapidEnv(t, eng, rt, c)
		k := rapid.IntRange(5, 60).Draw(rt, "people")
		ps := make([]turnero.Candidate, k)
		for j := range ps {
			ga := rapid.SampledFrom(groupAges).Draw(rt, "group")
			ps[j] = turnero.Candidate{Group: ga.group, Age: ga.age, Department: rapid.SampledFrom(depts).Draw(rt, "dept")}
		}
		e.register(ps...)
		for _, ga := range groupAges {
			e.open(ga.group)
		}
		since := e.clock.Now()
		e.run(e.allocator(e.db, 50)) // some booked before the race
		other := e.engine.Open(e.t, e.path)
		a1 := e.allocator(e.db, rapid.IntRange(1, 10).Draw(rt, "batch1"))
		a2 := e.allocator(other, rapid.IntRange(1, 10).Draw(rt, "batch2"))
		booked := e.booked()
		moves := rapid.IntRange(0, min(3, len(booked))).Draw(rt, "moves")
		e.register(ps...) // as many again, who arrive during the race
		var wg sync.WaitGroup
		for i, a := range []*allocate.Allocator{a1, a2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := a.RunOnce(context.Background()); err != nil && !errors.Is(err, turnero.ErrAllocationConflict) {
					rt.Errorf("allocator %d: %v", i, err)
				}
			}()
		}
		for _, seq := range booked[:moves] {
			if _, err := e.db.ChangeBooking(context.Background(), seq, e.clock.Now(), c.DecideReschedule); err != nil {
				rt.Fatalf("another date for %d: %v", seq, err)
			}
			e.released++
		}
		wg.Wait()
		e.refresh()
		e.check(since)
		e.checkLine()
		// A last run places whatever a refused run left.
		e.run(e.allocator(e.db, 50))
		if rep := e.run(e.allocator(e.db, 50)); rep.Scheduled != 0 {
			rt.Fatalf("not idempotent after the race: %+v", rep)
		}
		e.check(since)
		e.checkLine()
	})
}
