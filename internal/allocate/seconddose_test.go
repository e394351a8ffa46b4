package allocate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/allocate/allocatetest"
	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/turnero"
)

// A person whose first dose was given and who misses the second, or asks for
// another date for it, gets a new second dose: the same vaccine, at least the
// interval after dose 1 (as recorded), at the earliest slot from now plus the
// notice period at dose 1's center or, failing that, another center of the
// department that gives the vaccine; before any first dose.

// courseStarted books one person and records their first dose late after
// its appointment; it returns the sequence and the booking as it was made.
func courseStarted(e *allocatetest.Env, group, dept string, age int, late time.Duration) (int64, []turnero.Appointment) {
	e.T.Helper()
	r := e.Register(turnero.Candidate{Group: group, Department: dept, Age: age})[0]
	e.OpenGroups(group)
	e.Run(e.Allocator(e.Store, 10))
	as := e.Appointments()[r.Sequence]
	if len(as) != 2 {
		e.T.Fatalf("registration %d booked %+v, want two doses", r.Sequence, as)
	}
	e.Clock.Set(as[0].Start.Add(late))
	e.Change(r.Sequence, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
		return e.Campaign.DecideDose(rec, as[0].Center, 1, as[0].Vaccine, "LOT-1", e.Clock.Now())
	})
	return r.Sequence, as
}

// firstSlot is the first slot of ct with room for one more at or after
// from (a day with capacity, nobody else booked in these tests' slots).
func firstSlot(t *testing.T, c *turnero.Campaign, ct turnero.Center, from time.Time) time.Time {
	t.Helper()
	y, m, day := from.In(c.Location).Date()
	for d := 0; d < 400; d++ {
		date := time.Date(y, m, day+d, 0, 0, 0, 0, c.Location)
		if ct.CapacityOn(date) == 0 {
			continue
		}
		for i := range ct.SlotsPerDay() {
			if s := ct.SlotStart(date, i, c.Location); !s.Before(from) {
				return s
			}
		}
	}
	t.Fatalf("no slot of %s after %s", ct.ID, from)
	return time.Time{}
}

func centerOf(c *turnero.Campaign, id string) turnero.Center {
	for _, ct := range c.Centers {
		if ct.ID == id {
			return ct
		}
	}
	return turnero.Center{}
}

func laterOf(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

// dayAfter is midnight days after t's civil date.
func dayAfter(c *turnero.Campaign, t time.Time, days int) time.Time {
	y, m, d := t.In(c.Location).Date()
	return time.Date(y, m, d+days, 0, 0, 0, 0, c.Location)
}

func TestSecondDoseBookedAgain(t *testing.T) { enginetest.Each(t, testSecondDoseBookedAgain) }

func testSecondDoseBookedAgain(t *testing.T, eng enginetest.Engine) {
	for _, tc := range []struct {
		name        string
		group, dept string
		age         int
		late        time.Duration // dose 1 recorded this long after its appointment
		// release gives up dose 2 (given dose 1 and the booking) and
		// says what the event is.
		release func(e *allocatetest.Env, seq int64, as []turnero.Appointment) string
		// before changes the agenda before the allocator runs again.
		before     func(e *allocatetest.Env)
		wantCenter string
		// earliest is the slot's lower bound besides now plus the notice
		// period.
		earliest func(e *allocatetest.Env, as []turnero.Appointment, given time.Time) time.Time
	}{
		{
			name: "missed, at the same center", group: "age-80-plus", dept: "UY-MO", age: 85,
			release: func(e *allocatetest.Env, seq int64, as []turnero.Appointment) string {
				e.Clock.Set(as[1].Start.Add(10 * time.Minute))
				e.Change(seq, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
					return e.Campaign.DecideNoShow(rec, as[1].Center, 2, e.Clock.Now())
				})
				return turnero.EventNoShow
			},
			wantCenter: "MO-A",
			earliest: func(e *allocatetest.Env, as []turnero.Appointment, given time.Time) time.Time {
				return dayAfter(e.Campaign, given, 28)
			},
		},
		{
			name: "another date, on a later day than the one given up", group: "age-80-plus", dept: "UY-MO", age: 85,
			release: func(e *allocatetest.Env, seq int64, as []turnero.Appointment) string {
				e.Clock.Add(24 * time.Hour)
				e.Change(seq, e.Campaign.DecideReschedule)
				return turnero.EventReschedule
			},
			wantCenter: "MO-A",
			earliest: func(e *allocatetest.Env, as []turnero.Appointment, given time.Time) time.Time {
				return dayAfter(e.Campaign, as[1].Start, 1)
			},
		},
		{
			name: "dose 1 recorded two days late: the interval counts from then", group: "age-80-plus", dept: "UY-MO", age: 85,
			late: 48 * time.Hour,
			release: func(e *allocatetest.Env, seq int64, as []turnero.Appointment) string {
				e.Change(seq, e.Campaign.DecideReschedule)
				return turnero.EventReschedule
			},
			wantCenter: "MO-A",
			earliest: func(e *allocatetest.Env, as []turnero.Appointment, given time.Time) time.Time {
				if d := dayAfter(e.Campaign, given, 28); !d.After(dayAfter(e.Campaign, as[1].Start, 1)) {
					e.T.Fatalf("the case needs dose 1's recorded date to matter: %s", d)
				}
				return dayAfter(e.Campaign, given, 28)
			},
		},
		{
			name: "dose 1's center closed: another center of the department", group: "age-80-plus", dept: "UY-MO", age: 85,
			release: func(e *allocatetest.Env, seq int64, as []turnero.Appointment) string {
				e.Clock.Set(as[1].Start.Add(10 * time.Minute))
				e.Change(seq, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
					return e.Campaign.DecideNoShow(rec, as[1].Center, 2, e.Clock.Now())
				})
				return turnero.EventNoShow
			},
			before: func(e *allocatetest.Env) {
				ct := centerOf(e.Campaign, "MO-A")
				for d := range 40 {
					ct.Exceptions = append(ct.Exceptions, turnero.CenterException{
						Date: dayAfter(e.Campaign, e.Clock.Now(), d).Format("2006-01-02"), Closed: true})
				}
				if err := e.Store.UpsertCenters(context.Background(), []turnero.Center{ct}); err != nil {
					e.T.Fatal(err)
				}
			},
			wantCenter: "MO-B",
			earliest: func(e *allocatetest.Env, as []turnero.Appointment, given time.Time) time.Time {
				return dayAfter(e.Campaign, given, 28)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secondDoseBookedAgain(t, eng, tc.group, tc.dept, tc.age, tc.late, tc.release, tc.before, tc.wantCenter, tc.earliest)
		})
	}
}

func secondDoseBookedAgain(t *testing.T, eng enginetest.Engine, group, dept string, age int, late time.Duration,
	release func(e *allocatetest.Env, seq int64, as []turnero.Appointment) string, before func(e *allocatetest.Env), wantCenter string,
	earliest func(e *allocatetest.Env, as []turnero.Appointment, given time.Time) time.Time) {
	e := allocatetest.New(t, eng, allocatetest.Campaign(t))
	ctx := context.Background()
	since := e.Clock.Now()
	seq, as := courseStarted(e, group, dept, age, late)
	given := e.Clock.Now()
	slotsBefore := e.BookedSlots()
	kind := release(e, seq, as)

	// Dose 2's slot is free; the person waits for a new one, and says so.
	if got := e.BookedSlots(); got != slotsBefore-1 {
		t.Fatalf("%d slots booked after dose 2 was given up, want %d", got, slotsBefore-1)
	}
	v, err := e.Store.StatusView(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Appointments) != 1 || v.Appointments[0].State != turnero.AppointmentGiven || e.Campaign.Vaccinated(v.Appointments) ||
		v.LastChange == nil || v.LastChange.Kind != kind || v.LastChange.Place != turnero.PlaceSecondDose {
		t.Fatalf("status while dose 2 waits: %+v, last change %+v", v.Appointments, v.LastChange)
	}
	queued, err := e.Store.SecondDosesAfter(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 1 || queued[0].Sequence != seq || queued[0].Vaccine != as[0].Vaccine || queued[0].Center != as[0].Center ||
		queued[0].Reason != kind || queued[0].Earliest.Before(dayAfter(e.Campaign, given, 28)) {
		t.Fatalf("queue of second doses: %+v", queued)
	}
	e.Check(since)
	if before != nil {
		before(e)
	}

	released := e.Clock.Now()
	rep := e.Run(e.Allocator(e.Store, 10))
	if rep.SecondDoses != 1 || rep.SecondDosesWaiting != 0 || rep.Appointments != 1 || rep.Scheduled != 0 {
		t.Fatalf("report %+v, want one second dose booked again", rep)
	}
	v, err = e.Store.StatusView(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Appointments) != 2 {
		t.Fatalf("status after the run: %+v", v.Appointments)
	}
	d2 := v.Appointments[1]
	want := firstSlot(t, e.Campaign, centerOf(e.Campaign, wantCenter), laterOf(released.Add(e.Campaign.Allocation.Notice), earliest(e, as, given)))
	if d2.Dose != 2 || d2.Vaccine != as[0].Vaccine || d2.Center != wantCenter || d2.State != turnero.AppointmentBooked ||
		!d2.Start.Equal(want) || d2.Start.Equal(as[1].Start) {
		t.Fatalf("dose 2 booked again: %+v, want %s at %s (given up: %s)", d2, wantCenter, want, as[1].Start)
	}
	if v.Center.ID != as[0].Center {
		t.Fatalf("status view center %s, want dose 1's %s", v.Center.ID, as[0].Center)
	}
	if queued, err := e.Store.SecondDosesAfter(ctx, 0, 10); err != nil || len(queued) != 0 {
		t.Fatalf("queue after the run: %+v (%v)", queued, err)
	}
	e.Check(since) // one notification of the second dose, slots counted
	if rep := e.Run(e.Allocator(e.Store, 10)); rep.SecondDoses != 0 || rep.Commits != 0 {
		t.Fatalf("a second run did %+v", rep)
	}

	// Staff of dose 2's center give it on its day: the course is complete.
	if d2.Center != as[0].Center {
		_, err := e.Store.ChangeBooking(ctx, seq, d2.Start, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
			return e.Campaign.DecideDose(rec, as[0].Center, 2, d2.Vaccine, "LOT-2", d2.Start)
		})
		if !errors.Is(err, turnero.ErrWrongCenter) {
			t.Fatalf("dose 2 at dose 1's center: %v, want wrong center", err)
		}
	}
	e.Clock.Set(d2.Start.Add(5 * time.Minute))
	e.Change(seq, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
		return e.Campaign.DecideDose(rec, d2.Center, 2, d2.Vaccine, "LOT-2", e.Clock.Now())
	})
	if as, err := e.Store.AppointmentsOf(ctx, seq); err != nil || !e.Campaign.Vaccinated(as) {
		t.Fatalf("after dose 2: %+v (%v)", as, err)
	}
	e.Check(since)
}

// TestSecondDoseWaitsForItsVaccine: when no center of the department gives
// dose 1's vaccine, the second dose waits (another vaccine is never booked)
// and is booked as soon as one does.
func TestSecondDoseWaitsForItsVaccine(t *testing.T) {
	enginetest.Each(t, testSecondDoseWaitsForItsVaccine)
}

func testSecondDoseWaitsForItsVaccine(t *testing.T, eng enginetest.Engine) {
	e := allocatetest.New(t, eng, allocatetest.Campaign(t))
	ctx := context.Background()
	since := e.Clock.Now()
	// Canelones: only CA-A, AstraZeneca.
	seq, as := courseStarted(e, "age-70-79", "UY-CA", 75, 0)
	if as[0].Vaccine != "astrazeneca" || as[0].Center != "CA-A" {
		t.Fatalf("booked %+v, want AstraZeneca at CA-A", as)
	}
	e.Clock.Set(as[1].Start.Add(time.Minute))
	e.Change(seq, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
		return e.Campaign.DecideNoShow(rec, "CA-A", 2, e.Clock.Now())
	})
	ca := centerOf(e.Campaign, "CA-A")
	pfizerOnly := ca
	pfizerOnly.Vaccines = []string{"pfizer"}
	if err := e.Store.UpsertCenters(ctx, []turnero.Center{pfizerOnly}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		rep := e.Run(e.Allocator(e.Store, 10))
		if rep.SecondDoses != 0 || rep.SecondDosesWaiting != 1 {
			t.Fatalf("report %+v, want the second dose waiting", rep)
		}
	}
	if got, err := e.Store.AppointmentsOf(ctx, seq); err != nil || len(got) != 1 || e.Campaign.Vaccinated(got) {
		t.Fatalf("appointments while no center gives the vaccine: %+v (%v)", got, err)
	}
	e.Check(since)
	if err := e.Store.UpsertCenters(ctx, []turnero.Center{ca}); err != nil {
		t.Fatal(err)
	}
	if rep := e.Run(e.Allocator(e.Store, 10)); rep.SecondDoses != 1 || rep.SecondDosesWaiting != 0 {
		t.Fatalf("report %+v, want the second dose booked", rep)
	}
	got, err := e.Store.AppointmentsOf(ctx, seq)
	if err != nil || len(got) != 2 || got[1].Vaccine != "astrazeneca" || got[1].Center != "CA-A" {
		t.Fatalf("after the center gives AstraZeneca again: %+v (%v)", got, err)
	}
	e.Check(since)
}

// TestSecondDoseBeforeFirstDoses: with fewer free places in the horizon
// than people, the second dose booked again takes the earliest one, before
// anyone new; first doses take what is left.
func TestSecondDoseBeforeFirstDoses(t *testing.T) { enginetest.Each(t, testSecondDoseBeforeFirstDoses) }

func testSecondDoseBeforeFirstDoses(t *testing.T, eng enginetest.Engine) {
	c := allocatetest.Campaign(t)
	c.Centers = c.Centers[:1] // MO-A: 4 slots of 2 a day, Monday to Saturday
	e := allocatetest.New(t, eng, c)
	since := e.Clock.Now()
	seq, as := courseStarted(e, "age-80-plus", "UY-MO", 85, 0)
	e.Clock.Set(as[1].Start.Add(time.Minute))
	e.Change(seq, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
		return e.Campaign.DecideNoShow(rec, "MO-A", 2, e.Clock.Now())
	})
	// More newcomers than the horizon holds, registered before the run.
	e.Register(allocatetest.People(80, "age-80-plus", "UY-MO", 82)...)
	rep := e.Run(e.Allocator(e.Store, 7))
	if rep.SecondDoses != 1 || rep.NewPending == 0 {
		t.Fatalf("report %+v, want the second dose booked and newcomers left pending", rep)
	}
	d2 := e.Appointments()[seq][1]
	want := firstSlot(t, c, c.Centers[0], e.Clock.Now().Add(c.Allocation.Notice))
	if !d2.Start.Equal(want) {
		t.Fatalf("dose 2 booked again at %s, want the first slot after the notice, %s", d2.Start, want)
	}
	for s, as := range e.Appointments() {
		if s != seq && as[0].Start.Before(d2.Start) {
			t.Fatalf("newcomer %d got a first dose at %s, before the second dose booked again (%s)", s, as[0].Start, d2.Start)
		}
	}
	e.Check(since)
	e.CheckLine()
}
