package allocate_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// TestStatusViewAgreesWithReads: the one-statement status view of every
// registration says what the separate reads say (appointments, center,
// group state, last change, position), for people scheduled, pending,
// waiting in a closed group, given another date, cancelled, and waiting for
// dose 2 to be booked again.
func TestStatusViewAgreesWithReads(t *testing.T) {
	e := newEnv(t, testCampaign(t))
	ctx := context.Background()
	e.register(people(2, "age-80-plus", "UY-CA", 90)...) // no Pfizer in Canelones: pending
	e.register(people(60, "age-80-plus", "UY-MO", 81)...)
	e.register(people(3, "age-60-69", "UY-MO", 65)...) // a closed group
	e.open("age-80-plus")
	e.run(e.allocator(e.db, 10))
	booked := e.booked()
	if len(booked) < 3 {
		t.Fatalf("%d booked, want at least 3", len(booked))
	}
	if _, err := e.db.ChangeBooking(ctx, booked[0], e.clock.Now(), e.c.DecideReschedule); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ChangeBooking(ctx, booked[1], e.clock.Now(), e.c.DecideCancel); err != nil {
		t.Fatal(err)
	}
	// Dose 1 given, then another date for dose 2 alone.
	d1 := e.appointments()[booked[2]][0]
	if _, err := e.db.ChangeBooking(ctx, booked[2], d1.Start, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
		return e.c.DecideDose(rec, d1.Center, 1, d1.Vaccine, "L1", d1.Start)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ChangeBooking(ctx, booked[2], d1.Start.Add(time.Hour), e.c.DecideReschedule); err != nil {
		t.Fatal(err)
	}
	states, err := e.db.GroupStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]turnero.GroupState{}
	for _, g := range states {
		groups[g.Group] = g
	}
	kinds := map[string]int{}
	for seq := range e.regs {
		v, err := e.db.StatusView(ctx, seq)
		if err != nil {
			t.Fatalf("status view of %d: %v", seq, err)
		}
		r, err := e.db.RegistrationBySequence(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(v.Registration, r) {
			t.Fatalf("registration %d: view %+v, read %+v", seq, v.Registration, r)
		}
		as, err := e.db.AppointmentsOf(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != len(v.Appointments) || (len(as) > 0 && !reflect.DeepEqual(as, v.Appointments)) {
			t.Fatalf("registration %d: view appointments %+v, read %+v", seq, v.Appointments, as)
		}
		if len(as) > 0 {
			ct, err := e.db.Center(ctx, as[0].Center)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ct, v.Center) {
				t.Fatalf("registration %d: view center %+v, read %+v", seq, v.Center, ct)
			}
			kinds["scheduled"]++
		}
		g := groups[r.Group]
		g.Group = r.Group
		if v.Group != g {
			t.Fatalf("registration %d: view group %+v, read %+v", seq, v.Group, g)
		}
		events, err := e.db.EventsOf(ctx, seq)
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
		if last != nil {
			kinds[last.Kind+" "+last.Place]++
		}
		if len(as) == 0 && r.Status == turnero.StatusWaiting {
			pos, err := e.db.WaitingPosition(ctx, r.Group, r.GroupOrdinal)
			if err != nil {
				t.Fatal(err)
			}
			if pos != v.Position || pos < 1 {
				t.Fatalf("registration %d: view position %d, read %d", seq, v.Position, pos)
			}
			kinds["waiting"]++
		}
	}
	if kinds["scheduled"] == 0 || kinds["waiting"] < 5 || kinds[turnero.EventReschedule+" "+e.c.PlaceInLine.AfterCancel] != 1 ||
		kinds[turnero.EventCancel+" "] != 1 || kinds[turnero.EventReschedule+" "+turnero.PlaceSecondDose] != 1 {
		t.Fatalf("cases covered %v, want scheduled, waiting, one reschedule, one cancel and one second dose moved", kinds)
	}
	if _, err := e.db.StatusView(ctx, 10_000); !errors.Is(err, turnero.ErrNotFound) {
		t.Fatalf("status view of an unknown sequence: %v, want not found", err)
	}
}
