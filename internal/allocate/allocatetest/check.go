package allocatetest

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// Check asserts every invariant of the allocation on what is stored, and
// returns the number of people scheduled. since is the time of the first run
// (no first dose before since plus the notice period).
func (e *Env) Check(since time.Time) int {
	t := e.T
	t.Helper()
	ctx := context.Background()
	c := e.Campaign
	centers := map[string]turnero.Center{}
	for _, ct := range c.Centers {
		centers[ct.ID] = ct
	}
	appts := e.Appointments()
	// Slots: the stored count is the number of appointments, within the
	// agenda's capacity.
	count := map[string]int{}
	for _, as := range appts {
		for _, a := range as {
			count[a.Center+"@"+a.Start.Format(time.RFC3339)]++
		}
	}
	slots, err := e.Store.SlotBookings(ctx)
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
	queued, err := e.Store.SecondDosesAfter(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	waiting2 := map[int64]turnero.SecondDose{}
	for _, sd := range queued {
		waiting2[sd.Sequence] = sd
	}
	scheduled := 0
	var seqs []int64
	for seq := range e.Registrations {
		seqs = append(seqs, seq)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, seq := range seqs {
		reg := e.Registrations[seq]
		stored, err := e.Store.RegistrationBySequence(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		as := appts[seq]
		one, err := e.Store.AppointmentsOf(ctx, seq)
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
			sd.Center != as[0].Center || sd.Department != reg.Department || !e.SecondDose[seq]):
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
			if a.Dose != i+1 || a.Vaccine != v.ID || (a.Center != ct.ID && !e.SecondDose[seq]) {
				t.Fatalf("registration %d: dose %d at %s with %s; dose 1 at %s with %s", seq, a.Dose, a.Center, a.Vaccine, ct.ID, v.ID)
			}
			if ct2 := centers[a.Center]; ct2.Department != reg.Department || !ct2.Gives(v.ID) {
				t.Fatalf("registration %d of %s: dose %d at center %s (%s) with %s", seq, reg.Department, a.Dose, ct2.ID, ct2.Department, v.ID)
			}
		}
		if len(as) > 1 && e.SecondDose[seq] {
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
	n, err := e.Store.OutboxCount(ctx, turnero.NotifyScheduled)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(scheduled+e.Released) {
		t.Fatalf("%d notifications for %d scheduled registrations and %d released bookings", n, scheduled, e.Released)
	}
	// Every second dose released is booked again once, with its
	// notification, or still in the queue.
	if n, err = e.Store.OutboxCount(ctx, turnero.NotifySecondDose); err != nil {
		t.Fatal(err)
	}
	if n != int64(e.SecondDoses-len(queued)) {
		t.Fatalf("%d notifications of second doses booked again; %d released, %d still waiting", n, e.SecondDoses, len(queued))
	}
	return scheduled
}

// CheckOrder asserts that within a group and department, among people with
// the same allowed vaccines, nobody got a later first dose than someone after
// them in line, and nobody is left waiting for capacity while someone after
// them was placed. Valid for allocations made in one run.
func (e *Env) CheckOrder() {
	t := e.T
	t.Helper()
	appts := e.Appointments()
	type key struct{ group, dept, allowed string }
	last := map[key]time.Time{}
	blocked := map[key]int64{}
	var seqs []int64
	for seq := range e.Registrations {
		seqs = append(seqs, seq)
	}
	sort.Slice(seqs, func(i, j int) bool {
		a, b := e.Registrations[seqs[i]], e.Registrations[seqs[j]]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		return a.GroupOrdinal < b.GroupOrdinal
	})
	for _, seq := range seqs {
		r := e.Registrations[seq]
		k := key{r.Group, r.Department, fmt.Sprint(e.Campaign.AllowedVaccines(r.Group, r.Age))}
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

// CheckLine asserts that nobody is lost from the line: every waiting person
// of a group up to its cursor (passed by the allocator) is booked or in the
// pending list, never both, and each group's pending count is its list's
// length.
func (e *Env) CheckLine() {
	t := e.T
	ctx := context.Background()
	states, err := e.Store.GroupStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cursor := map[string]int64{}
	pending := map[int64]bool{}
	for _, g := range states {
		cursor[g.Group] = g.Cursor
		ps, err := e.Store.PendingAfter(ctx, g.Group, 0, 1<<20)
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
	appts := e.Appointments()
	for seq, r := range e.Registrations {
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

func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
