package allocate_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/allocate/allocatetest"
	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/turnero"
)

// Property-based tests: random campaigns (centers, agendas, notice, horizon,
// window, place-in-line rules), random people, groups opened and closed,
// runs, days passing, cancellations, requests for another date, doses and
// no-shows; the invariant checks of allocatetest after every step. Each
// check builds a database, so their number is bounded.
func TestMain(m *testing.M) { allocatetest.Main(m, 20) }

// TestPropertyInvariantsUnderChanges: whatever happens, in whatever order,
// no slot is overbooked, every booked person has both doses (or neither) of
// one allowed vaccine at one center of their department at the interval,
// every run is idempotent, and a release puts the person where the
// campaign's rule says.
func TestPropertyInvariantsUnderChanges(t *testing.T) {
	enginetest.Each(t, testPropertyInvariantsUnderChanges)
}

func testPropertyInvariantsUnderChanges(t *testing.T, eng enginetest.Engine) {
	allocatetest.Property(t, eng, func(rt *rapid.T, e *allocatetest.Env) {
		c := e.Campaign
		a := e.Allocator(e.Store, rapid.IntRange(1, 20).Draw(rt, "batch"))
		var since time.Time
		ctx := context.Background()
		// A start that books someone more often than not: people of
		// groups that are open, then steps in any order.
		for _, ga := range allocatetest.GroupAges {
			k := rapid.IntRange(0, 4).Draw(rt, "first_"+ga.Group)
			for j := 0; j < k; j++ {
				e.Register(turnero.Candidate{Group: ga.Group, Age: ga.Age, Department: rapid.SampledFrom(allocatetest.Departments).Draw(rt, "dept")})
			}
			if k > 0 && rapid.Bool().Draw(rt, "open_"+ga.Group) {
				e.OpenGroups(ga.Group)
			}
		}
		steps := rapid.IntRange(4, 24).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			switch rapid.IntRange(0, 9).Draw(rt, "action") {
			case 0, 1: // people register
				k := rapid.IntRange(1, 8).Draw(rt, "people")
				ps := make([]turnero.Candidate, k)
				for j := range ps {
					ga := rapid.SampledFrom(allocatetest.GroupAges).Draw(rt, "group")
					ps[j] = turnero.Candidate{Group: ga.Group, Age: ga.Age, Department: rapid.SampledFrom(allocatetest.Departments).Draw(rt, "dept")}
				}
				e.Register(ps...)
			case 2: // a group opens or closes
				ga := rapid.SampledFrom(allocatetest.GroupAges).Draw(rt, "group")
				if _, err := e.Store.SetGroupOpen(ctx, ga.Group, rapid.IntRange(0, 3).Draw(rt, "open") > 0, e.Clock.Now()); err != nil {
					rt.Fatal(err)
				}
			case 3: // time passes
				e.Clock.Add(time.Duration(rapid.IntRange(1, 72).Draw(rt, "hours")) * time.Hour)
			case 4, 5, 8: // the allocator runs, twice
				if since.IsZero() {
					since = e.Clock.Now()
				}
				e.Run(a)
				if rep := e.Run(a); rep.Scheduled != 0 || rep.NewPending != 0 || rep.Commits != 0 {
					rt.Fatalf("a second run at the same time did %+v", rep)
				}
				// A fresh allocator (no agenda kept) agrees.
				if rep := e.Run(e.Allocator(e.Store, 7)); rep.Scheduled != 0 || rep.NewPending != 0 {
					rt.Fatalf("a fresh allocator at the same time did %+v", rep)
				}
			case 6, 9: // a citizen cancels or asks for another date
				booked := e.Booked()
				if len(booked) == 0 {
					continue
				}
				seq := rapid.SampledFrom(booked).Draw(rt, "who")
				if rapid.Bool().Draw(rt, "cancel") {
					e.Release(seq, c.DecideCancel)
				} else {
					e.Release(seq, c.DecideReschedule)
				}
			case 7: // staff: dose 1 or 2 given, or a no-show, for someone due
				now := e.Clock.Now()
				var due []int64
				for seq, as := range e.Appointments() {
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
				as := e.Appointments()[seq]
				if as[0].State == turnero.AppointmentGiven {
					// Dose 2, due: given, or missed and booked again.
					d2 := as[1]
					if rapid.Bool().Draw(rt, "no_show_2") {
						e.Release(seq, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
							return c.DecideNoShow(rec, d2.Center, 2, now)
						})
						break
					}
					if _, err := e.Store.ChangeBooking(ctx, seq, now, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
						return c.DecideDose(rec, d2.Center, 2, d2.Vaccine, "L2", now)
					}); err != nil && !errors.Is(err, turnero.ErrDoseTooEarly) {
						rt.Fatalf("dose 2: %v", err)
					}
					break
				}
				if rapid.Bool().Draw(rt, "no_show") {
					e.Release(seq, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
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
					_, err := e.Store.ChangeBooking(ctx, seq, now, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
						return c.DecideDose(rec, as[0].Center, 1, v, "L1", now)
					})
					if !errors.Is(err, turnero.ErrWrongVaccine) {
						rt.Fatalf("dose 1 of %s recorded with %s: %v", as[0].Vaccine, v, err)
					}
				}
				if _, err := e.Store.ChangeBooking(ctx, seq, now, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
					return c.DecideDose(rec, as[0].Center, 1, as[0].Vaccine, "L1", now)
				}); err != nil {
					rt.Fatalf("dose 1: %v", err)
				}
				e.Release(seq, c.DecideCancel) // refused: a dose was given
				if got := e.Appointments()[seq]; len(got) != len(as) || got[0].State != turnero.AppointmentGiven {
					rt.Fatalf("after dose 1: %+v", got)
				}
				if len(as) > 1 && rapid.Bool().Draw(rt, "another_date_2") {
					e.Release(seq, c.DecideReschedule) // dose 2 only
				}
			}
			if !since.IsZero() {
				e.Check(since)
			}
			e.CheckLine()
		}
	})
}

// TestPropertyOrderInOneRun: in one run, within a group and department,
// among people allowed the same vaccines, nobody gets a later first dose
// than someone after them in line, and nobody waits while someone after
// them is placed.
func TestPropertyOrderInOneRun(t *testing.T) { enginetest.Each(t, testPropertyOrderInOneRun) }

func testPropertyOrderInOneRun(t *testing.T, eng enginetest.Engine) {
	allocatetest.Property(t, eng, func(rt *rapid.T, e *allocatetest.Env) {
		k := rapid.IntRange(1, 60).Draw(rt, "people")
		ps := make([]turnero.Candidate, k)
		for j := range ps {
			ga := rapid.SampledFrom(allocatetest.GroupAges).Draw(rt, "group")
			ps[j] = turnero.Candidate{Group: ga.Group, Age: ga.Age, Department: rapid.SampledFrom(allocatetest.Departments).Draw(rt, "dept")}
		}
		e.Register(ps...)
		for _, ga := range allocatetest.GroupAges {
			if rapid.Bool().Draw(rt, "open_"+ga.Group) {
				e.OpenGroups(ga.Group)
			}
		}
		since := e.Clock.Now()
		e.Run(e.Allocator(e.Store, rapid.IntRange(1, 30).Draw(rt, "batch")))
		e.Check(since)
		e.CheckOrder()
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
	allocatetest.Property(t, eng, func(rt *rapid.T, e *allocatetest.Env) {
		c := e.Campaign
		k := rapid.IntRange(5, 60).Draw(rt, "people")
		ps := make([]turnero.Candidate, k)
		for j := range ps {
			ga := rapid.SampledFrom(allocatetest.GroupAges).Draw(rt, "group")
			ps[j] = turnero.Candidate{Group: ga.Group, Age: ga.Age, Department: rapid.SampledFrom(allocatetest.Departments).Draw(rt, "dept")}
		}
		e.Register(ps...)
		for _, ga := range allocatetest.GroupAges {
			e.OpenGroups(ga.Group)
		}
		since := e.Clock.Now()
		e.Run(e.Allocator(e.Store, 50)) // some booked before the race
		other := e.Engine.Open(e.T, e.Where)
		a1 := e.Allocator(e.Store, rapid.IntRange(1, 10).Draw(rt, "batch1"))
		a2 := e.Allocator(other, rapid.IntRange(1, 10).Draw(rt, "batch2"))
		booked := e.Booked()
		moves := rapid.IntRange(0, min(3, len(booked))).Draw(rt, "moves")
		e.Register(ps...) // as many again, who arrive during the race
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
			if _, err := e.Store.ChangeBooking(context.Background(), seq, e.Clock.Now(), c.DecideReschedule); err != nil {
				rt.Fatalf("another date for %d: %v", seq, err)
			}
			e.Released++
		}
		wg.Wait()
		e.Refresh()
		e.Check(since)
		e.CheckLine()
		// A last run places whatever a refused run left.
		e.Run(e.Allocator(e.Store, 50))
		if rep := e.Run(e.Allocator(e.Store, 50)); rep.Scheduled != 0 {
			rt.Fatalf("not idempotent after the race: %+v", rep)
		}
		e.Check(since)
		e.CheckLine()
	})
}
