package storetest

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// The contract's allocation data, written through the stores' own methods:
// two centers, people of a few groups, and bookings made by hand as an
// allocator or an external system would make them. Times are whole minutes
// (SQLite keeps slot starts to the second, both engines event times to the
// millisecond).

var (
	// day0 is the first day with appointments.
	day0 = time.Date(2021, 3, 2, 8, 0, 0, 0, time.UTC)
	// interval is the days between dose 1 and dose 2 in the fixtures.
	interval = 28
)

// centers of the fixture: the same agenda, in two departments.
func centers() []turnero.Center {
	week := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
	return []turnero.Center{
		{ID: "MO-A", Name: "Centro A", Department: "UY-MO", Locality: "Montevideo", Address: "Av. 18 de Julio 1",
			Latitude: -34.9, Longitude: -56.2, Vaccines: []string{"pfizer", "sinovac"}, Days: week,
			Opens: 8 * 60, Closes: 12 * 60, SlotMinutes: 30, PerSlot: 2,
			Exceptions: []turnero.CenterException{{Date: "2021-03-06", Closed: true}}},
		{ID: "CA-A", Name: "Centro C", Department: "UY-CA", Vaccines: []string{"astrazeneca"}, Days: week,
			Opens: 8 * 60, Closes: 9 * 60, SlotMinutes: 20, PerSlot: 1},
	}
}

// slot is the start of slot i of day d at MO-A.
func slot(d, i int) time.Time { return day0.AddDate(0, 0, d).Add(time.Duration(i) * 30 * time.Minute) }

// fixture is one store with the fixture's centers and the registrations
// made through it.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	s     Store
	n     int // people registered so far
	clock time.Time
}

func newFixture(t *testing.T, s Store) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), s: s, clock: day0.Add(-24 * time.Hour)}
	if err := s.UpsertCenters(f.ctx, centers()); err != nil {
		t.Fatalf("upsert centers: %v", err)
	}
	return f
}

// now moves the fixture's clock a minute and returns it: every change
// happens at a time of its own.
func (f *fixture) now() time.Time {
	f.clock = f.clock.Add(time.Minute)
	return f.clock
}

// register stores n new people of group in one batch.
func (f *fixture) register(group string, n int) []turnero.Registration {
	f.t.Helper()
	batch := make([]turnero.NewRegistration, n)
	for i := range batch {
		f.n++
		batch[i] = NewRegistration(f.n, "1950-01-01", group)
	}
	out := insert(f.t, f.s, batch...)
	regs := make([]turnero.Registration, n)
	for i, o := range out {
		if o.Err != nil || o.Duplicate {
			f.t.Fatalf("register: err %v, duplicate %v", o.Err, o.Duplicate)
		}
		regs[i] = o.Registration
	}
	return regs
}

func (f *fixture) open(group string, open bool) turnero.GroupState {
	f.t.Helper()
	g, err := f.s.SetGroupOpen(f.ctx, group, open, f.now())
	if err != nil {
		f.t.Fatalf("open group %s: %v", group, err)
	}
	return g
}

func (f *fixture) version() int64 {
	f.t.Helper()
	v, _, err := f.s.AllocationState(f.ctx)
	if err != nil {
		f.t.Fatalf("allocation state: %v", err)
	}
	return v
}

func (f *fixture) group(name string) turnero.GroupState {
	f.t.Helper()
	gs, err := f.s.GroupStates(f.ctx)
	if err != nil {
		f.t.Fatalf("group states: %v", err)
	}
	for _, g := range gs {
		if g.Group == name {
			return g
		}
	}
	return turnero.GroupState{Group: name}
}

func candidate(r turnero.Registration) turnero.Candidate {
	return turnero.Candidate{Sequence: r.Sequence, Ordinal: r.GroupOrdinal, Group: r.Group, Department: r.Department, Age: r.Age}
}

// booking books r at MO-A with pfizer: dose 1 at start, dose 2 the same
// time interval days later; one dose only with single.
func booking(r turnero.Registration, start time.Time, single bool) turnero.Booking {
	b := turnero.Booking{Candidate: candidate(r), Center: "MO-A", Vaccine: "pfizer", Source: turnero.SourceAllocator,
		Starts: []time.Time{start}}
	if !single {
		b.Starts = append(b.Starts, start.AddDate(0, 0, interval))
	}
	return b
}

// batch is an allocation step against version: the bookings, their slots
// with capacity, and the groups' cursors moved to the last booked ordinal.
func batch(version int64, at time.Time, capacity int, bookings ...turnero.Booking) turnero.AllocationBatch {
	b := turnero.AllocationBatch{Version: version, At: at, Bookings: bookings, Cursors: map[string]int64{}}
	b.Slots = slotsOf(capacity, bookings...)
	for _, bk := range bookings {
		b.Cursors[bk.Group] = max(b.Cursors[bk.Group], bk.Ordinal)
	}
	return b
}

// slotsOf lists the slots of bookings with capacity, and how many of the
// bookings each takes.
func slotsOf(capacity int, bookings ...turnero.Booking) []turnero.SlotBooking {
	var out []turnero.SlotBooking
	idx := map[string]int{}
	for _, bk := range bookings {
		for _, t := range bk.Starts {
			k := bk.Center + t.Format(time.RFC3339)
			i, ok := idx[k]
			if !ok {
				i = len(out)
				idx[k] = i
				out = append(out, turnero.SlotBooking{Center: bk.Center, Start: t, Capacity: capacity})
			}
			out[i].Booked++
		}
	}
	return out
}

// change applies ch to a registration's booking; it must succeed.
func (f *fixture) change(seq int64, ch turnero.BookingChange) turnero.BookingRecord {
	f.t.Helper()
	rec, err := f.s.ChangeBooking(f.ctx, seq, f.now(), func(turnero.BookingRecord) (turnero.BookingChange, error) { return ch, nil })
	if err != nil {
		f.t.Fatalf("change booking of %d (%+v): %v", seq, ch, err)
	}
	return rec
}

// commit commits a batch that must succeed.
func (f *fixture) commit(b turnero.AllocationBatch) {
	f.t.Helper()
	if err := f.s.CommitAllocation(f.ctx, b); err != nil {
		f.t.Fatalf("commit allocation: %v", err)
	}
}

// book commits bookings against the current version, capacity 2 a slot.
func (f *fixture) book(bookings ...turnero.Booking) {
	f.t.Helper()
	f.commit(batch(f.version(), f.now(), 2, bookings...))
}

// state is everything an allocation writes, to assert that a refused one
// wrote nothing.
type state struct {
	version int64
	appts   []turnero.Appointment
	slots   []turnero.SlotBooking
	groups  []turnero.GroupState
	outbox  int64
	pending int
	second  int // second doses waiting to be booked again
}

func (f *fixture) state() state {
	f.t.Helper()
	var st state
	var err error
	if st.version, st.groups, err = f.s.AllocationState(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	st.appts = f.appointments()
	if st.slots, err = f.s.SlotBookings(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	if st.outbox, err = f.s.OutboxCount(f.ctx, turnero.NotifyScheduled); err != nil {
		f.t.Fatal(err)
	}
	for _, g := range st.groups {
		ps, err := f.s.PendingAfter(f.ctx, g.Group, 0, 1<<20)
		if err != nil {
			f.t.Fatal(err)
		}
		st.pending += len(ps)
	}
	sds, err := f.s.SecondDosesAfter(f.ctx, 0, 1<<20)
	if err != nil {
		f.t.Fatal(err)
	}
	st.second = len(sds)
	return st
}

func (f *fixture) appointments() []turnero.Appointment {
	f.t.Helper()
	var out []turnero.Appointment
	if err := f.s.EachAppointment(f.ctx, func(a turnero.Appointment) error { out = append(out, a); return nil }); err != nil {
		f.t.Fatalf("appointments: %v", err)
	}
	return out
}

// equalState compares two states.
func equalState(a, b state) bool {
	if a.version != b.version || a.outbox != b.outbox || a.pending != b.pending || a.second != b.second ||
		len(a.appts) != len(b.appts) || len(a.slots) != len(b.slots) || len(a.groups) != len(b.groups) {
		return false
	}
	for i := range a.appts {
		if !sameAppointment(a.appts[i], b.appts[i]) {
			return false
		}
	}
	for i := range a.slots {
		x, y := a.slots[i], b.slots[i]
		if x.Center != y.Center || !x.Start.Equal(y.Start) || x.Booked != y.Booked || x.Capacity != y.Capacity {
			return false
		}
	}
	for i := range a.groups {
		if !sameGroup(a.groups[i], b.groups[i]) {
			return false
		}
	}
	return true
}

func sameGroup(a, b turnero.GroupState) bool {
	return a.Group == b.Group && a.Open == b.Open && a.ChangedAt.Equal(b.ChangedAt) && a.Cursor == b.Cursor && a.Pending == b.Pending
}

func sameAppointment(a, b turnero.Appointment) bool {
	return a.Registration == b.Registration && a.Dose == b.Dose && a.Center == b.Center && a.Start.Equal(b.Start) &&
		a.Vaccine == b.Vaccine && a.State == b.State && a.Lot == b.Lot && a.Source == b.Source
}

// refused asserts that err is an allocation conflict and that nothing of the
// refused write is stored.
func (f *fixture) refused(what string, err error, before state) {
	f.t.Helper()
	if !errors.Is(err, turnero.ErrAllocationConflict) {
		f.t.Fatalf("%s: %v, want an allocation conflict", what, err)
	}
	if after := f.state(); !equalState(before, after) {
		f.t.Fatalf("%s was refused but changed what is stored:\nbefore %+v\nafter  %+v", what, before, after)
	}
}

// checkSlots asserts that every slot's count is the number of appointments
// in it, within its capacity, and that nobody holds a dose twice.
func (f *fixture) checkSlots() (people int) {
	f.t.Helper()
	count := map[string]int{}
	doses := map[[2]int64]bool{}
	for _, a := range f.appointments() {
		count[a.Center+"@"+a.Start.UTC().Format(time.RFC3339)]++
		k := [2]int64{a.Registration, int64(a.Dose)}
		if doses[k] {
			f.t.Fatalf("registration %d holds dose %d twice", a.Registration, a.Dose)
		}
		doses[k] = true
		if a.Dose == 1 {
			people++
		}
	}
	slots, err := f.s.SlotBookings(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	stored := map[string]int{}
	for _, s := range slots {
		k := s.Center + "@" + s.Start.UTC().Format(time.RFC3339)
		stored[k] = s.Booked
		if s.Booked > s.Capacity || s.Booked < 0 {
			f.t.Fatalf("slot %s: %d booked of %d", k, s.Booked, s.Capacity)
		}
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if stored[k] != count[k] {
			f.t.Fatalf("slot %s: %d appointments, %d booked in the slot", k, count[k], stored[k])
		}
	}
	for k, n := range stored {
		if n != count[k] {
			f.t.Fatalf("slot %s: %d booked, %d appointments", k, n, count[k])
		}
	}
	return people
}
