package allocatetest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/turnero"
)

// Property-based tests draw random campaigns (centers, agendas, notice,
// horizon, window, place-in-line rules) and random people, and check the
// invariants of check.go after every step.

// Main runs a package's tests, as its TestMain, with rapid's number of
// checks bounded to checks unless -rapid.checks or RAPID_CHECKS says
// otherwise (each check builds a database: the bound keeps a package within
// a minute with -race on two cores), and exits with their result.
func Main(m *testing.M, checks int) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set && os.Getenv("RAPID_CHECKS") == "" {
		flag.Set("rapid.checks", strconv.Itoa(checks))
	}
	os.Exit(m.Run())
}

var (
	allDays = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
	// GroupAges are people the sample campaign's groups hold.
	GroupAges = []struct {
		Group string
		Age   int
	}{{"age-80-plus", 85}, {"age-70-79", 72}, {"age-60-69", 65}, {"age-50-59", 55}, {"age-18-29", 22}, {"health-workers", 40}}
	// Departments are those of RandomCampaign's centers.
	Departments = []string{"UY-MO", "UY-CA"}
)

// RandomCampaign is the sample campaign with a small random agenda.
func RandomCampaign(t *rapid.T) *turnero.Campaign {
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
			ID: fmt.Sprintf("C%d", i), Name: fmt.Sprintf("Center %d", i), Department: rapid.SampledFrom(Departments).Draw(t, fmt.Sprintf("c%d_dept", i)),
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

// Property checks prop with rapid on eng: each check draws a random
// campaign (RandomCampaign) and gets a fresh Env of its own, whose failures
// go to the check (so that rapid shrinks them) and whose files go to a
// directory removed when the check ends.
func Property(t *testing.T, eng enginetest.Engine, prop func(rt *rapid.T, e *Env)) {
	t.Helper()
	rapid.Check(t, func(rt *rapid.T) {
		c := RandomCampaign(rt)
		dir, err := os.MkdirTemp(t.TempDir(), "check")
		if err != nil {
			rt.Fatal(err)
		}
		sub := &checkTB{TB: t, rt: rt, dir: dir}
		e := New(sub, eng, c)
		rt.Cleanup(func() { sub.close() })
		prop(rt, e)
	})
}

// checkTB gives New what it needs inside a rapid check: failures go to
// the check, files to the check's directory.
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

// Release applies a citizen's or staff's change now and checks what became
// of the booking and of the person's place in line: a refused change is a
// conflict that left the slots as they were; a release frees the slots and
// puts the person where the campaign's rule says, counted for Check.
func (e *Env) Release(seq int64, decide func(turnero.BookingRecord) (turnero.BookingChange, error)) {
	ctx := context.Background()
	before := e.Registrations[seq]
	var maxOrd int64
	for _, r := range e.Registrations {
		if r.Group == before.Group && r.GroupOrdinal > maxOrd {
			maxOrd = r.GroupOrdinal
		}
	}
	slotsBefore := e.BookedSlots()
	var ch turnero.BookingChange
	rec, err := e.Store.ChangeBooking(ctx, seq, e.Clock.Now(), func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
		var err error
		ch, err = decide(rec)
		return ch, err
	})
	if err != nil {
		if turnero.ErrorCode(err) != turnero.CodeConflict {
			e.T.Fatalf("change of %d: %v", seq, err)
		}
		if got := e.BookedSlots(); got != slotsBefore {
			e.T.Fatalf("a refused change (%v) changed the slots: %d booked, was %d", err, got, slotsBefore)
		}
		return
	}
	if ch.SecondDose != nil {
		e.SecondDoses++
		e.SecondDose[seq] = true
		if len(rec.Appointments) != 1 || rec.Appointments[0].State != turnero.AppointmentGiven {
			e.T.Fatalf("after dose 2 was released: %+v", rec.Appointments)
		}
		if got := e.BookedSlots(); got != slotsBefore-1 {
			e.T.Fatalf("release of dose 2 of %d freed %d slots", seq, slotsBefore-got)
		}
		// Again: dose 2 already waits for a new date.
		if _, err := e.Store.ChangeBooking(ctx, seq, e.Clock.Now(), decide); err == nil {
			e.T.Fatalf("dose 2 of %d released twice", seq)
		}
		return
	}
	if ch.Release == "" {
		return
	}
	e.Released++
	after := rec.Registration
	if after.Sequence != seq || len(rec.Appointments) != 0 {
		e.T.Fatalf("after release: %+v", rec)
	}
	if got := e.BookedSlots(); got != slotsBefore-2 && got != slotsBefore-1 {
		e.T.Fatalf("release of %d freed %d slots", seq, slotsBefore-got)
	}
	switch ch.Place {
	case turnero.KeepPlace:
		if after.GroupOrdinal != before.GroupOrdinal {
			e.T.Fatalf("keep place: ordinal %d became %d", before.GroupOrdinal, after.GroupOrdinal)
		}
	case turnero.BackOfLine:
		if after.GroupOrdinal != maxOrd+1 {
			e.T.Fatalf("back of the line: ordinal %d, want %d", after.GroupOrdinal, maxOrd+1)
		}
	case "":
		if after.Status != turnero.StatusCancelled {
			e.T.Fatalf("cancelled, status %q", after.Status)
		}
	}
	e.Refresh()
}
