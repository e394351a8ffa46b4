package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// runAllocation: what storage guarantees whatever an allocator does, so that
// a faulty or racing allocator can never overbook a slot, book half a
// schedule, or book a person twice.
func runAllocation(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"CommitStoresEveryDose", testCommitStoresEveryDose},
		{"OneOrTwoDosesOnly", testDoseCount},
		{"NoOverbooking", testNoOverbooking},
		{"BothDosesOrNeither", testBothDosesOrNeither},
		{"OneBookingPerPerson", testOneBookingPerPerson},
		{"StaleVersionRefused", testStaleVersion},
		{"PendingAndResolved", testPendingAndResolved},
		{"ReleaseFreesEveryDose", testReleaseFreesEveryDose},
		{"SecondDoseBookedAgain", testSecondDoseBookedAgain},
		{"TwoStoresNeverDoubleBook", testTwoStoresNeverDoubleBook},
	} {
		t.Run("Allocation/"+tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

func testCommitStoresEveryDose(t *testing.T, open Opener) {
	f := newFixture(t, fresh(t, open))
	rs := f.register("g1", 3)
	f.open("g1", true)
	v := f.version()
	f.commit(batch(v, f.now(), 2, booking(rs[0], slot(0, 0), false), booking(rs[1], slot(0, 1), true)))
	if got := f.version(); got <= v {
		t.Fatalf("version %d after a commit against %d: it must move", got, v)
	}
	as, err := f.s.AppointmentsOf(f.ctx, rs[0].Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 {
		t.Fatalf("two-dose booking stored as %+v", as)
	}
	for i, a := range as {
		want := slot(0, 0).AddDate(0, 0, interval*i)
		if a.Registration != rs[0].Sequence || a.Dose != i+1 || a.Center != "MO-A" || a.Vaccine != "pfizer" ||
			!a.Start.Equal(want) || a.State != turnero.AppointmentBooked || a.Source != turnero.SourceAllocator {
			t.Fatalf("dose %d stored as %+v, want MO-A with pfizer at %s, booked by the allocator", i+1, a, want)
		}
	}
	if as, err := f.s.AppointmentsOf(f.ctx, rs[1].Sequence); err != nil || len(as) != 1 || !as[0].Start.Equal(slot(0, 1)) {
		t.Fatalf("one-dose booking stored as %+v (%v)", as, err)
	}
	if as, err := f.s.AppointmentsOf(f.ctx, rs[2].Sequence); err != nil || len(as) != 0 {
		t.Fatalf("registration never booked has %+v (%v)", as, err)
	}
	if n := f.checkSlots(); n != 2 {
		t.Fatalf("%d people booked, want 2", n)
	}
	if g := f.group("g1"); g.Cursor != rs[1].GroupOrdinal || g.Pending != 0 || !g.Open {
		t.Fatalf("group after the commit: %+v, want open, cursor %d, none pending", g, rs[1].GroupOrdinal)
	}
	// The center's day of the second dose lists it, with its registration.
	day := slot(0, 0).AddDate(0, 0, interval)
	agenda, err := f.s.DayAgenda(f.ctx, "MO-A", day.Add(-time.Hour), day.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(agenda) != 1 || agenda[0].Appointment.Dose != 2 || agenda[0].Registration.Sequence != rs[0].Sequence {
		t.Fatalf("agenda of dose 2's day: %+v", agenda)
	}
}

func testDoseCount(t *testing.T, open Opener) {
	f := newFixture(t, fresh(t, open))
	rs := f.register("g1", 2)
	for _, n := range []int{0, 3} {
		b := booking(rs[0], slot(0, 0), false)
		b.Starts = nil
		for i := range n {
			b.Starts = append(b.Starts, slot(0, 0).AddDate(0, 0, interval*i))
		}
		before := f.state()
		err := f.s.CommitAllocation(f.ctx, batch(f.version(), f.now(), 2, b, booking(rs[1], slot(0, 1), false)))
		if turnero.ErrorCode(err) != turnero.CodeInvalid {
			t.Fatalf("a booking of %d doses: %v, want invalid", n, err)
		}
		if !equalState(before, f.state()) {
			t.Fatalf("a refused booking of %d doses changed what is stored", n)
		}
	}
}

func testNoOverbooking(t *testing.T, open Opener) {
	f := newFixture(t, fresh(t, open))
	rs := f.register("g1", 5)
	at := slot(1, 0)
	// Three people in a slot of two, in one batch.
	before := f.state()
	err := f.s.CommitAllocation(f.ctx, batch(f.version(), f.now(), 2,
		booking(rs[0], at, true), booking(rs[1], at, true), booking(rs[2], at, true)))
	f.refused("three bookings in a slot of two", err, before)
	// Two fit; a third, in a later batch, does not.
	f.commit(batch(f.version(), f.now(), 2, booking(rs[0], at, true), booking(rs[1], at, true)))
	before = f.state()
	err = f.s.CommitAllocation(f.ctx, batch(f.version(), f.now(), 2, booking(rs[2], at, true)))
	f.refused("a third booking in a full slot of two", err, before)
	// Lowering the capacity below what is booked is refused too.
	before = f.state()
	err = f.s.CommitAllocation(f.ctx, batch(f.version(), f.now(), 1, booking(rs[2], at, true)))
	f.refused("a booking against a capacity below the slot's bookings", err, before)
	// The agenda gave the slot a third place: it is booked.
	f.commit(batch(f.version(), f.now(), 3, booking(rs[2], at, true)))
	if n := f.checkSlots(); n != 3 {
		t.Fatalf("%d people booked, want 3", n)
	}
	slots, err := f.s.SlotBookings(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(slots) != 1 || slots[0].Booked != 3 || slots[0].Capacity != 3 || !slots[0].Start.Equal(at) || slots[0].Center != "MO-A" {
		t.Fatalf("slots %+v, want MO-A at %s with 3 of 3", slots, at)
	}
}

func testBothDosesOrNeither(t *testing.T, open Opener) {
	f := newFixture(t, fresh(t, open))
	rs := f.register("g1", 3)
	// Someone's only dose fills the slot where rs[1]'s second dose would go.
	second := slot(0, 0).AddDate(0, 0, interval)
	f.commit(batch(f.version(), f.now(), 1, booking(rs[0], second, true)))
	before := f.state()
	err := f.s.CommitAllocation(f.ctx, batch(f.version(), f.now(), 1, booking(rs[1], slot(0, 0), false)))
	f.refused("a booking whose second dose does not fit", err, before)
	if as, err := f.s.AppointmentsOf(f.ctx, rs[1].Sequence); err != nil || len(as) != 0 {
		t.Fatalf("after a refused two-dose booking: %+v (%v), want none", as, err)
	}
	// In a free pair of slots both doses are booked.
	f.commit(batch(f.version(), f.now(), 1, booking(rs[1], slot(0, 1), false)))
	if as, _ := f.s.AppointmentsOf(f.ctx, rs[1].Sequence); len(as) != 2 || as[0].Center != as[1].Center || as[0].Vaccine != as[1].Vaccine {
		t.Fatalf("two-dose booking stored as %+v", as)
	}
	f.checkSlots()
}

func testOneBookingPerPerson(t *testing.T, open Opener) {
	f := newFixture(t, fresh(t, open))
	rs := f.register("g1", 2)
	f.open("g1", true)
	f.book(booking(rs[0], slot(0, 0), false))
	before := f.state()
	err := f.s.CommitAllocation(f.ctx, batch(f.version(), f.now(), 2, booking(rs[0], slot(1, 0), false)))
	f.refused("a second booking of a booked person", err, before)
	err = f.s.CommitAllocation(f.ctx, batch(f.version(), f.now(), 2, booking(rs[1], slot(1, 0), false), booking(rs[1], slot(1, 1), false)))
	f.refused("one person twice in a batch", err, before)
	ext := booking(rs[0], slot(2, 0), false)
	ext.Source = turnero.SourceFeed
	if err := f.s.BookExternal(f.ctx, ext, slotsOf(2, ext), f.now()); !errors.Is(err, turnero.ErrAlreadyScheduled) {
		t.Fatalf("an external booking of a booked person: %v, want already scheduled", err)
	}
	if !equalState(before, f.state()) {
		t.Fatal("a refused external booking changed what is stored")
	}
	if n := f.checkSlots(); n != 1 {
		t.Fatalf("%d people booked, want 1", n)
	}
}

// testStaleVersion: a commit computed against a version that any booking,
// release, external booking or center change has since moved is refused,
// even when it would fit.
func testStaleVersion(t *testing.T, open Opener) {
	f := newFixture(t, fresh(t, open))
	rs := f.register("g1", 8)
	f.open("g1", true)
	next := 0
	person := func() turnero.Registration { next++; return rs[next-1] }
	moves := []struct {
		name string
		fn   func()
	}{
		{"another allocation", func() { f.book(booking(person(), slot(0, 0), false)) }},
		{"an external booking", func() {
			b := booking(person(), slot(0, 1), false)
			b.Source = turnero.SourceFeed
			if err := f.s.BookExternal(f.ctx, b, slotsOf(2, b), f.now()); err != nil {
				t.Fatalf("external booking: %v", err)
			}
		}},
		{"a release", func() {
			f.change(rs[0].Sequence, turnero.BookingChange{Release: turnero.EventCancel, Status: turnero.StatusCancelled})
		}},
		{"a center change", func() {
			if err := f.s.UpsertCenters(f.ctx, centers()[:1]); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for i, m := range moves {
		v := f.version()
		m.fn()
		if f.version() == v {
			t.Fatalf("%s did not move the version", m.name)
		}
		before := f.state()
		err := f.s.CommitAllocation(f.ctx, batch(v, f.now(), 2, booking(rs[len(rs)-1-i], slot(2, i), false)))
		f.refused("a commit computed before "+m.name, err, before)
	}
	// A step that books nobody (only cursors) is version-checked too.
	v := f.version()
	f.commit(turnero.AllocationBatch{Version: v, At: f.now(), Cursors: map[string]int64{"g1": 1}})
	before := f.state()
	err := f.s.CommitAllocation(f.ctx, turnero.AllocationBatch{Version: v, At: f.now(), Cursors: map[string]int64{"g1": 2}})
	f.refused("a second step against the same version", err, before)
}

func testPendingAndResolved(t *testing.T, open Opener) {
	f := newFixture(t, fresh(t, open))
	rs := f.register("g1", 4)
	f.open("g1", true)
	since := f.now().Truncate(time.Millisecond)
	b := batch(f.version(), f.now(), 2, booking(rs[1], slot(0, 0), false))
	b.NewPending = []turnero.Pending{
		{Candidate: candidate(rs[0]), Reason: turnero.ReasonNoCapacity, Since: since},
		{Candidate: candidate(rs[2]), Reason: turnero.ReasonNoCenter, Since: since},
	}
	b.Cursors["g1"] = rs[2].GroupOrdinal
	f.commit(b)
	if g := f.group("g1"); g.Cursor != rs[2].GroupOrdinal || g.Pending != 2 {
		t.Fatalf("group %+v, want cursor %d and 2 pending", g, rs[2].GroupOrdinal)
	}
	ps, err := f.s.PendingAfter(f.ctx, "g1", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Sequence != rs[0].Sequence || ps[0].Reason != turnero.ReasonNoCapacity ||
		ps[1].Sequence != rs[2].Sequence || ps[1].Reason != turnero.ReasonNoCenter || !ps[0].Since.Equal(since) ||
		ps[0].Ordinal != rs[0].GroupOrdinal || ps[0].Department != rs[0].Department {
		t.Fatalf("pending list %+v", ps)
	}
	if ps, err := f.s.PendingAfter(f.ctx, "g1", rs[0].GroupOrdinal, 10); err != nil || len(ps) != 1 || ps[0].Sequence != rs[2].Sequence {
		t.Fatalf("pending after the first: %+v (%v)", ps, err)
	}
	// Waiting past the cursor: only rs[3]; the pending and the booked are not.
	w, err := f.s.WaitingAfter(f.ctx, "g1", rs[2].GroupOrdinal, 10)
	if err != nil || len(w) != 1 || w[0].Sequence != rs[3].Sequence {
		t.Fatalf("waiting after the cursor: %+v (%v)", w, err)
	}
	// The same person pending twice is refused.
	before := f.state()
	again := turnero.AllocationBatch{Version: f.version(), At: f.now(), NewPending: b.NewPending[:1]}
	f.refused("a second pending row for one person", f.s.CommitAllocation(f.ctx, again), before)
	// Placing a pending person resolves them, in the same commit.
	placed := batch(f.version(), f.now(), 2, booking(rs[0], slot(0, 1), false))
	placed.Resolved = []turnero.Candidate{candidate(rs[0])}
	f.commit(placed)
	if g := f.group("g1"); g.Pending != 1 || g.Cursor != rs[2].GroupOrdinal {
		t.Fatalf("after resolving one: %+v, want 1 pending, cursor kept at %d", g, rs[2].GroupOrdinal)
	}
	// Resolving someone who is not pending is refused.
	before = f.state()
	bad := batch(f.version(), f.now(), 2, booking(rs[3], slot(0, 2), false))
	bad.Resolved = []turnero.Candidate{candidate(rs[3])}
	f.refused("resolving someone not pending", f.s.CommitAllocation(f.ctx, bad), before)
}

func testReleaseFreesEveryDose(t *testing.T, open Opener) {
	f := newFixture(t, fresh(t, open))
	rs := f.register("g1", 4)
	f.open("g1", true)
	f.book(booking(rs[0], slot(0, 0), false), booking(rs[1], slot(0, 0), false), booking(rs[2], slot(0, 1), false))
	// Another date, keeping the place: both slots freed, the person pending
	// (the allocator passed them), a notification.
	rec := f.change(rs[0].Sequence, turnero.BookingChange{Release: turnero.EventReschedule, Place: turnero.KeepPlace,
		Notify: turnero.NotifyReleased})
	if len(rec.Appointments) != 0 || !rec.Pending || rec.Registration.GroupOrdinal != rs[0].GroupOrdinal {
		t.Fatalf("after another date keeping the place: %+v", rec)
	}
	if n := f.checkSlots(); n != 2 {
		t.Fatalf("%d booked after a release, want 2", n)
	}
	if g := f.group("g1"); g.Pending != 1 {
		t.Fatalf("group %+v after a requeue, want 1 pending", g)
	}
	// To the back of the line: a new last ordinal, same sequence.
	rec = f.change(rs[1].Sequence, turnero.BookingChange{Release: turnero.EventNoShow, Place: turnero.BackOfLine,
		Notify: turnero.NotifyMissed})
	if len(rec.Appointments) != 0 || rec.Registration.Sequence != rs[1].Sequence || rec.Registration.GroupOrdinal != rs[3].GroupOrdinal+1 {
		t.Fatalf("after a missed appointment, back of the line: %+v, want ordinal %d", rec, rs[3].GroupOrdinal+1)
	}
	// A dose given is recorded; a cancellation of the rest is the caller's
	// to refuse, but a release frees both slots whatever their state.
	rec = f.change(rs[2].Sequence, turnero.BookingChange{Doses: []turnero.DoseChange{{Dose: 1, State: turnero.AppointmentGiven, Lot: "L-1"}}})
	if len(rec.Appointments) != 2 || rec.Appointments[0].State != turnero.AppointmentGiven || rec.Appointments[0].Lot != "L-1" ||
		rec.Appointments[1].State != turnero.AppointmentBooked {
		t.Fatalf("after dose 1 given: %+v", rec.Appointments)
	}
	rec = f.change(rs[2].Sequence, turnero.BookingChange{Release: turnero.EventCancel, Status: turnero.StatusCancelled,
		Notify: turnero.NotifyCancelled})
	if len(rec.Appointments) != 0 || rec.Registration.Status != turnero.StatusCancelled || rec.Pending {
		t.Fatalf("after a cancellation: %+v", rec)
	}
	if n := f.checkSlots(); n != 0 {
		t.Fatalf("%d booked after releasing everyone, want 0", n)
	}
	events, err := f.s.EventsOf(f.ctx, rs[2].Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].Kind != turnero.EventGiven || events[0].Dose != 1 || events[0].Lot != "L-1" ||
		events[1].Kind != turnero.EventCancel || events[1].Dose != 0 || events[1].Center != "MO-A" || events[1].Vaccine != "pfizer" {
		t.Fatalf("events %+v, want dose 1 given then the booking cancelled", events)
	}
	// A decision that refuses changes nothing.
	refuse := errors.New("no")
	before := f.state()
	if _, err := f.s.ChangeBooking(f.ctx, rs[3].Sequence, f.now(), func(turnero.BookingRecord) (turnero.BookingChange, error) {
		return turnero.BookingChange{}, refuse
	}); !errors.Is(err, refuse) {
		t.Fatalf("a refused change: %v, want the decision's error", err)
	}
	if !equalState(before, f.state()) {
		t.Fatal("a refused change changed what is stored")
	}
	if _, err := f.s.ChangeBooking(f.ctx, 1_000_000, f.now(), func(turnero.BookingRecord) (turnero.BookingChange, error) {
		return turnero.BookingChange{}, nil
	}); !errors.Is(err, turnero.ErrNotFound) {
		t.Fatalf("change of an unknown registration: %v, want not found", err)
	}
}

// giveDose1 records dose 1 of seq as given.
func (f *fixture) giveDose1(seq int64) {
	f.t.Helper()
	f.change(seq, turnero.BookingChange{Doses: []turnero.DoseChange{{Dose: 1, State: turnero.AppointmentGiven, Lot: "L1"}}})
}

// releaseDose2 gives up dose 2 alone (dose 1 given), to book it again from
// earliest on.
func (f *fixture) releaseDose2(seq int64, kind string, earliest time.Time) turnero.BookingRecord {
	f.t.Helper()
	return f.change(seq, turnero.BookingChange{SecondDose: &turnero.SecondDoseRelease{Kind: kind, Earliest: earliest},
		Notify: turnero.NotifyReleased})
}

// testSecondDoseBookedAgain: once dose 1 is given, dose 2 alone may be
// released (its slot freed, the person in the queue of second doses) and
// booked again, with the same vaccine only, at dose 1's center or another,
// under the same capacity and version checks as any booking.
func testSecondDoseBookedAgain(t *testing.T, open Opener) {
	f := newFixture(t, fresh(t, open))
	rs := f.register("g1", 3)
	f.open("g1", true)
	f.book(booking(rs[0], slot(0, 0), false), booking(rs[1], slot(0, 0), false), booking(rs[2], slot(0, 1), false))
	before := f.state()
	// Dose 2 cannot be released while dose 1 is not given.
	if _, err := f.s.ChangeBooking(f.ctx, rs[0].Sequence, f.now(), func(turnero.BookingRecord) (turnero.BookingChange, error) {
		return turnero.BookingChange{SecondDose: &turnero.SecondDoseRelease{Kind: turnero.EventReschedule, Earliest: slot(29, 0)}}, nil
	}); err == nil {
		t.Fatal("dose 2 released before dose 1 was given")
	}
	if !equalState(before, f.state()) {
		t.Fatal("a refused release of dose 2 changed what is stored")
	}
	f.giveDose1(rs[0].Sequence)
	f.giveDose1(rs[1].Sequence)
	v := f.version()
	earliest := slot(interval+1, 0)
	rec := f.releaseDose2(rs[0].Sequence, turnero.EventReschedule, earliest)
	if len(rec.Appointments) != 1 || rec.Appointments[0].State != turnero.AppointmentGiven || rec.Pending {
		t.Fatalf("after dose 2 given up: %+v, want dose 1 (given) alone", rec)
	}
	if f.version() == v {
		t.Fatal("releasing dose 2 did not move the allocation version")
	}
	if n := f.checkSlots(); n != 3 {
		t.Fatalf("%d people booked, want 3 (dose 1 stays)", n)
	}
	sds, err := f.s.SecondDosesAfter(f.ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(sds) != 1 || sds[0].Sequence != rs[0].Sequence || sds[0].Vaccine != "pfizer" || sds[0].Center != "MO-A" ||
		!sds[0].Earliest.Equal(earliest) || sds[0].Reason != turnero.EventReschedule || sds[0].Group != "g1" ||
		sds[0].Ordinal != rs[0].GroupOrdinal || sds[0].Department != rs[0].Department {
		t.Fatalf("queue of second doses %+v", sds)
	}
	events, err := f.s.EventsOf(f.ctx, rs[0].Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if last := events[len(events)-1]; last.Dose != 2 || last.Kind != turnero.EventReschedule || last.Place != turnero.PlaceSecondDose {
		t.Fatalf("last event %+v, want dose 2 given up for a second dose", last)
	}
	rebook := func(r turnero.Registration, vaccine, center string, start time.Time, capacity int) turnero.AllocationBatch {
		return turnero.AllocationBatch{Version: f.version(), At: f.now(),
			SecondDoses: []turnero.SecondDoseBooking{{Sequence: r.Sequence, Group: r.Group, Ordinal: r.GroupOrdinal,
				Vaccine: vaccine, Center: center, Start: start}},
			Slots: []turnero.SlotBooking{{Center: center, Start: start, Capacity: capacity, Booked: 1}}}
	}
	again := slot(interval+2, 3)
	for _, tc := range []struct {
		what string
		b    turnero.AllocationBatch
	}{
		{"another vaccine", rebook(rs[0], "sinovac", "MO-A", again, 2)},
		{"a full slot", rebook(rs[0], "pfizer", "MO-A", slot(0, 0).AddDate(0, 0, interval), 1)},
		{"someone whose dose 2 is booked", rebook(rs[1], "pfizer", "MO-A", again, 2)},
	} {
		before := f.state()
		f.refused("a second dose booked again with "+tc.what, f.s.CommitAllocation(f.ctx, tc.b), before)
	}
	// Booked again at another center: dose 2 names it.
	f.commit(rebook(rs[0], "pfizer", "CA-A", again, 2))
	as, err := f.s.AppointmentsOf(f.ctx, rs[0].Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].Center != "MO-A" || as[0].State != turnero.AppointmentGiven || as[1].Center != "CA-A" ||
		!as[1].Start.Equal(again) || as[1].Vaccine != "pfizer" || as[1].State != turnero.AppointmentBooked {
		t.Fatalf("after dose 2 booked again: %+v", as)
	}
	if sds, err := f.s.SecondDosesAfter(f.ctx, 0, 10); err != nil || len(sds) != 0 {
		t.Fatalf("queue of second doses after booking it: %+v (%v)", sds, err)
	}
	if n, err := f.s.OutboxCount(f.ctx, turnero.NotifySecondDose); err != nil || n != 1 {
		t.Fatalf("%d notifications of a second dose (%v), want 1", n, err)
	}
	before = f.state()
	f.refused("a second dose booked twice", f.s.CommitAllocation(f.ctx, rebook(rs[0], "pfizer", "MO-A", slot(interval+3, 0), 2)), before)
	f.checkSlots()
}

// testTwoStoresNeverDoubleBook races allocators on two stores of one
// database (two processes, two nodes), each reading a snapshot, placing the
// next people in line in the first slots with room and committing against
// the snapshot's version: commits refused for a conflict start again. In the
// end every place is taken once, nobody twice, and what the allocators
// report is what is stored.
func testTwoStoresNeverDoubleBook(t *testing.T, open Opener) {
	s, another := open(t)
	f := newFixture(t, s)
	other := another(t)
	const capacity = 2
	var starts []time.Time
	for d := range 3 {
		for i := range 4 {
			starts = append(starts, slot(d, i))
		}
	}
	places := capacity * len(starts)
	f.register("g1", places+10)
	f.open("g1", true)
	var wg sync.WaitGroup
	booked := make([]int, 4)
	conflicts := make([]int, 4)
	for i := range booked {
		wg.Add(1)
		go func() {
			defer wg.Done()
			store := turnero.AllocationStore(s)
			if i%2 == 1 {
				store = other
			}
			var err error
			booked[i], conflicts[i], err = allocate(context.Background(), store, "g1", 1+i, capacity, starts)
			if err != nil {
				t.Errorf("allocator %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	total := 0
	for _, n := range booked {
		total += n
	}
	placed := f.checkSlots()
	if placed != total || placed != places {
		t.Fatalf("allocators report %v (%d in all, %v conflicts), storage has %d booked; %d places", booked, total, conflicts, placed, places)
	}
	if n, err := f.s.OutboxCount(f.ctx, turnero.NotifyScheduled); err != nil || n != int64(placed) {
		t.Fatalf("%d notifications (%v) for %d people booked", n, err, placed)
	}
	// The cursor is where the last booked person is: the rest still wait.
	w, err := f.s.WaitingAfter(f.ctx, "g1", f.group("g1").Cursor, 100)
	if err != nil || len(w) != 10 {
		t.Fatalf("%d waiting after the cursor (%v), want 10", len(w), err)
	}
}

// allocate is a small allocator: it books the group's next people in line
// at MO-A, both doses in the first slots with room, in steps of size people,
// until the slots are full or nobody waits.
func allocate(ctx context.Context, s turnero.AllocationStore, group string, size, capacity int, starts []time.Time) (booked, conflicts int, err error) {
	for {
		snap, err := s.AllocationSnapshot(ctx, day0.Add(-time.Hour))
		if err != nil {
			return booked, conflicts, err
		}
		count := map[int64]int{}
		for _, b := range snap.Bookings {
			if b.Center == "MO-A" {
				count[b.Start.Unix()] = b.Booked
			}
		}
		var cursor int64
		for _, g := range snap.Groups {
			if g.Group == group {
				cursor = g.Cursor
			}
		}
		waiting, err := s.WaitingAfter(ctx, group, cursor, size)
		if err != nil {
			return booked, conflicts, err
		}
		var step []turnero.Booking
	people:
		for _, c := range waiting {
			for _, t := range starts {
				t2 := t.AddDate(0, 0, interval)
				if count[t.Unix()] < capacity && count[t2.Unix()] < capacity {
					count[t.Unix()]++
					count[t2.Unix()]++
					step = append(step, turnero.Booking{Candidate: c, Center: "MO-A", Vaccine: "pfizer",
						Source: turnero.SourceAllocator, Starts: []time.Time{t, t2}})
					continue people
				}
			}
			break // full
		}
		if len(step) == 0 {
			return booked, conflicts, nil
		}
		err = s.CommitAllocation(ctx, batch(snap.Version, day0.Add(-time.Hour), capacity, step...))
		switch {
		case errors.Is(err, turnero.ErrAllocationConflict):
			conflicts++
			if conflicts > 1000 {
				return booked, conflicts, fmt.Errorf("%d conflicts: no progress", conflicts)
			}
		case err != nil:
			return booked, conflicts, err
		default:
			booked += len(step)
		}
	}
}

// CheckMissedSecondDosesQueued checks what the upgrade to migration 00009
// of either engine leaves in the queue of second doses, for the fixture both
// engines' tests build: registrations 1 (Montevideo) and 2 (Canelones) given
// dose 1 of sinovac at center c1 and marked no_show for dose 2 at missed;
// registration 3's dose 2 given.
func CheckMissedSecondDosesQueued(t *testing.T, store turnero.AllocationStore, missed time.Time) {
	t.Helper()
	queued, err := store.SecondDosesAfter(context.Background(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 2 {
		t.Fatalf("queued %d second doses, want 2: %+v", len(queued), queued)
	}
	for i, sd := range queued {
		if sd.Sequence != int64(i+1) || sd.Vaccine != "sinovac" || sd.Center != "c1" || sd.Reason != "no_show" ||
			!sd.Earliest.Equal(missed) || sd.Department != []string{"Montevideo", "Canelones"}[i] {
			t.Errorf("queued second dose %d: %+v", i, sd)
		}
	}
}
