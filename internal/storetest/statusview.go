package storetest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/turnero/turnero/internal/turnero"
)

// runStatus: the one-statement status view, and the change stamp that lets
// status answers be cached.
func runStatus(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"ViewAgreesWithReads", testStatusView},
		{"ChangeStampMoves", testChangeStamp},
	} {
		t.Run("Status/"+tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// testStatusView: the status view of every registration says what the
// separate reads say (registration, appointments, center, group state, last
// change, position), and what each case must show, for people scheduled,
// pending, waiting past the cursor, waiting in a group never opened, given
// another date, back of the line, cancelled, and waiting for dose 2 to be
// booked again.
func testStatusView(t *testing.T, open Opener) {
	f := newFixture(t, fresh(t, open))
	rs := f.register("g1", 8)
	closed := f.register("g2", 2)[1]
	halfway := f.register("g3", 1)[0]
	f.open("g1", true)
	f.open("g3", true)
	b := batch(f.version(), f.now(), 2, booking(rs[1], slot(0, 0), false), booking(rs[2], slot(0, 0), false),
		booking(rs[3], slot(0, 1), false), booking(rs[4], slot(0, 1), true), booking(halfway, slot(0, 2), false))
	b.NewPending = []turnero.Pending{{Candidate: candidate(rs[0]), Reason: turnero.ReasonNoCenter, Since: f.now()}}
	f.commit(b) // cursor at rs[4]; rs[0] pending; rs[5..7] waiting past it
	f.change(rs[2].Sequence, turnero.BookingChange{Release: turnero.EventReschedule, Place: turnero.KeepPlace})
	f.change(rs[3].Sequence, turnero.BookingChange{Release: turnero.EventCancel, Status: turnero.StatusCancelled})
	f.change(rs[4].Sequence, turnero.BookingChange{Release: turnero.EventNoShow, Place: turnero.BackOfLine})
	f.change(rs[6].Sequence, turnero.BookingChange{Status: turnero.StatusCancelled})
	f.giveDose1(halfway.Sequence)
	f.releaseDose2(halfway.Sequence, turnero.EventNoShow, slot(interval+1, 0))

	center, err := f.s.Center(f.ctx, "MO-A")
	if err != nil {
		t.Fatal(err)
	}
	if want := centers()[0]; !reflect.DeepEqual(center, want) {
		t.Fatalf("center read back as %+v, stored %+v", center, want)
	}
	// What each must show: appointments, position, last change (kind and
	// place). Pending first in line in order (rs[0], rs[2]), then past the
	// cursor: rs[5], rs[7], rs[4] (back of the line); rs[6], who cancelled
	// past the cursor, no longer counts (issue 15: it used to, until the
	// allocator passed it).
	type want struct {
		appts    int
		position int64
		kind     string
		place    string
		status   string
	}
	wants := map[int64]want{
		rs[0].Sequence:   {position: 1, status: turnero.StatusWaiting},
		rs[1].Sequence:   {appts: 2, status: turnero.StatusWaiting},
		rs[2].Sequence:   {position: 2, kind: turnero.EventReschedule, place: turnero.KeepPlace, status: turnero.StatusWaiting},
		rs[3].Sequence:   {kind: turnero.EventCancel, status: turnero.StatusCancelled},
		rs[4].Sequence:   {position: 5, kind: turnero.EventNoShow, place: turnero.BackOfLine, status: turnero.StatusWaiting},
		rs[5].Sequence:   {position: 3, status: turnero.StatusWaiting},
		rs[6].Sequence:   {kind: turnero.EventCancel, status: turnero.StatusCancelled},
		rs[7].Sequence:   {position: 4, status: turnero.StatusWaiting},
		closed.Sequence:  {position: 2, status: turnero.StatusWaiting},
		halfway.Sequence: {appts: 1, kind: turnero.EventNoShow, place: turnero.PlaceSecondDose, status: turnero.StatusWaiting},
	}
	groups := map[string]turnero.GroupState{}
	states, err := f.s.GroupStates(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range states {
		groups[g.Group] = g
	}
	for seq, w := range wants {
		v, err := f.s.StatusView(f.ctx, seq)
		if err != nil {
			t.Fatalf("status view of %d: %v", seq, err)
		}
		r, err := f.s.RegistrationBySequence(f.ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(v.Registration, r) {
			t.Fatalf("registration %d: view %+v, read %+v", seq, v.Registration, r)
		}
		as, err := f.s.AppointmentsOf(f.ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != w.appts || len(v.Appointments) != w.appts || (len(as) > 0 && !reflect.DeepEqual(as, v.Appointments)) {
			t.Fatalf("registration %d: view appointments %+v, read %+v, want %d", seq, v.Appointments, as, w.appts)
		}
		if w.appts > 0 && !reflect.DeepEqual(v.Center, center) {
			t.Fatalf("registration %d: view center %+v, want %+v", seq, v.Center, center)
		}
		if w.appts == 0 && v.Center.ID != "" {
			t.Fatalf("registration %d without appointments shows center %+v", seq, v.Center)
		}
		g := groups[r.Group]
		g.Group = r.Group
		if !sameGroup(v.Group, g) {
			t.Fatalf("registration %d: view group %+v, read %+v", seq, v.Group, g)
		}
		events, err := f.s.EventsOf(f.ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		var last *turnero.AppointmentEvent
		for i := range events {
			if events[i].Dose == 0 || events[i].Place != "" { // the booking, or dose 2 alone released
				last = &turnero.AppointmentEvent{Registration: seq, Kind: events[i].Kind, Place: events[i].Place, At: events[i].At}
			}
		}
		if !reflect.DeepEqual(last, v.LastChange) {
			t.Fatalf("registration %d: view last change %+v, read %+v", seq, v.LastChange, last)
		}
		if (last == nil) != (w.kind == "") || (last != nil && (last.Kind != w.kind || last.Place != w.place)) {
			t.Fatalf("registration %d: last change %+v, want %q %q", seq, last, w.kind, w.place)
		}
		if v.Position != w.position || r.Status != w.status {
			t.Fatalf("registration %d (%s ordinal %d): position %d, status %s; want %d, %s",
				seq, r.Group, r.GroupOrdinal, v.Position, r.Status, w.position, w.status)
		}
		if w.position > 0 {
			pos, err := f.s.WaitingPosition(f.ctx, r.Group, r.GroupOrdinal)
			if err != nil || pos != v.Position {
				t.Fatalf("registration %d: view position %d, read %d (%v)", seq, v.Position, pos, err)
			}
		}
	}
	if _, err := f.s.StatusView(f.ctx, 1_000_000); !errors.Is(err, turnero.ErrNotFound) {
		t.Fatalf("status view of an unknown sequence: %v, want not found", err)
	}
}

// testChangeStamp: the stamp moves with every change a status answer shows
// (bookings, external bookings, releases, check-ins, doses, no-shows,
// cancellations, centers, groups opened or closed), never with a new
// registration, and comes with every group's state.
func testChangeStamp(t *testing.T, open Opener) {
	s, another := open(t)
	f := newFixture(t, s)
	// Read from another store, as another node's status cache would.
	other := another(t)
	rs := f.register("g1", 6)
	stamp := func() (string, []turnero.GroupState) {
		t.Helper()
		st, gs, err := other.ChangeStamp(f.ctx)
		if err != nil {
			t.Fatalf("change stamp: %v", err)
		}
		return st, gs
	}
	last, groups := stamp()
	if last == "" || len(groups) != 0 {
		t.Fatalf("first stamp %q with groups %+v, want a stamp and no groups", last, groups)
	}
	due := slot(0, 0)
	steps := []struct {
		what  string
		moves bool
		fn    func()
	}{
		{"a new registration", false, func() { f.register("g1", 2) }},
		{"a group opened", true, func() { f.open("g1", true) }},
		{"an allocation", true, func() {
			f.book(booking(rs[0], due, false), booking(rs[1], due, false), booking(rs[2], slot(0, 1), true))
		}},
		{"another new registration", false, func() { f.register("g2", 3) }},
		{"a check-in", true, func() {
			f.change(rs[0].Sequence, turnero.BookingChange{Doses: []turnero.DoseChange{{Dose: 1, State: turnero.AppointmentCheckedIn}}})
		}},
		{"a dose given", true, func() {
			f.change(rs[0].Sequence, turnero.BookingChange{Doses: []turnero.DoseChange{{Dose: 1, State: turnero.AppointmentGiven, Lot: "L1"}}})
		}},
		{"a second dose missed", true, func() {
			f.change(rs[0].Sequence, turnero.BookingChange{Doses: []turnero.DoseChange{{Dose: 2, State: turnero.AppointmentNoShow}},
				Notify: turnero.NotifyMissed})
		}},
		{"a second dose given up", true, func() {
			f.releaseDose2(rs[0].Sequence, turnero.EventReschedule, slot(interval+1, 0))
		}},
		{"a second dose booked again", true, func() {
			start := slot(interval+2, 0)
			f.commit(turnero.AllocationBatch{Version: f.version(), At: f.now(),
				SecondDoses: []turnero.SecondDoseBooking{{Sequence: rs[0].Sequence, Group: "g1", Ordinal: rs[0].GroupOrdinal,
					Vaccine: "pfizer", Center: "MO-A", Start: start}},
				Slots: []turnero.SlotBooking{{Center: "MO-A", Start: start, Capacity: 2, Booked: 1}}})
		}},
		{"another date", true, func() {
			f.change(rs[1].Sequence, turnero.BookingChange{Release: turnero.EventReschedule, Place: turnero.KeepPlace})
		}},
		{"a cancellation of a booking", true, func() {
			f.change(rs[2].Sequence, turnero.BookingChange{Release: turnero.EventCancel, Status: turnero.StatusCancelled})
		}},
		{"a cancellation while waiting", true, func() {
			f.change(rs[5].Sequence, turnero.BookingChange{Status: turnero.StatusCancelled})
		}},
		{"an external booking", true, func() {
			b := booking(rs[3], slot(1, 0), false)
			b.Source = turnero.SourceFeed
			if err := f.s.BookExternal(f.ctx, b, slotsOf(2, b), f.now()); err != nil {
				t.Fatal(err)
			}
		}},
		{"a center changed", true, func() {
			cs := centers()
			cs[0].PerSlot = 3
			if err := f.s.UpsertCenters(f.ctx, cs); err != nil {
				t.Fatal(err)
			}
		}},
		{"a group closed", true, func() { f.open("g1", false) }},
		{"a queue's claim and done", false, func() { f.done(f.claimAll("w", longLease)...) }},
		{"a last new registration", false, func() { f.register("g1", 1) }},
	}
	for _, st := range steps {
		st.fn()
		now, gs := stamp()
		if moved := now != last; moved != st.moves {
			t.Fatalf("after %s the stamp went from %q to %q; want moved=%v", st.what, last, now, st.moves)
		}
		last = now
		want, err := f.s.GroupStates(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(gs) != len(want) {
			t.Fatalf("after %s: stamp's groups %+v, group states %+v", st.what, gs, want)
		}
		for i := range gs {
			if !sameGroup(gs[i], want[i]) {
				t.Fatalf("after %s: stamp's groups %+v, group states %+v", st.what, gs, want)
			}
		}
	}
	if g := f.group("g1"); g.Open || g.ChangedAt.IsZero() {
		t.Fatalf("group g1 at the end: %+v, want closed", g)
	}
}
