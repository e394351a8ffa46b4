package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	bookingrules "github.com/turnero/turnero/internal/booking"
	"github.com/turnero/turnero/internal/turnero"
)

// The booking rules (package booking) are written once over each engine's
// primitives; these tests hold every primitive of every engine to the same
// behaviour, one by one, as river's driver tests do. The rules as a whole
// are tested through the stores' methods in the rest of the contract.

// Engine is implemented by stores whose booking rules run over primitives.
type Engine interface {
	BookingEngine() bookingrules.Engine
}

func runPrimitives(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *fixture, bookingrules.Engine)
	}{
		{"Registration", testPrimitiveRegistration},
		{"WriteRollsBackOnError", testPrimitiveRollback},
		{"Version", testPrimitiveVersion},
		{"Bookings", testPrimitiveBookings},
		{"Slots", testPrimitiveSlots},
		{"PendingAndGroups", testPrimitivePendingAndGroups},
		{"SecondDoses", testPrimitiveSecondDoses},
		{"EventsOutboxAndStatus", testPrimitiveEventsOutboxStatus},
		{"PlaceInLine", testPrimitivePlaceInLine},
		{"WaitingPages", testPrimitiveWaitingPages},
	} {
		t.Run("Primitive"+tc.name, func(t *testing.T) {
			s := fresh(t, open)
			e, ok := s.(Engine)
			if !ok {
				t.Fatalf("%T gives no booking engine", s)
			}
			tc.fn(t, newFixture(t, s), e.BookingEngine())
		})
	}
}

// write runs fn in a write transaction of e and fails the test on error.
func write(t *testing.T, e bookingrules.Engine, fn func(ctx context.Context, tx bookingrules.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := e.Write(ctx, "test", func(tx bookingrules.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func read(t *testing.T, e bookingrules.Engine, fn func(ctx context.Context, rt bookingrules.ReadTx) error) {
	t.Helper()
	ctx := context.Background()
	if err := e.Read(ctx, "test", func(rt bookingrules.ReadTx) error { return fn(ctx, rt) }); err != nil {
		t.Fatalf("read: %v", err)
	}
}

func testPrimitiveRegistration(t *testing.T, f *fixture, e bookingrules.Engine) {
	r := f.register("age-80-plus", 1)[0]
	read(t, e, func(ctx context.Context, rt bookingrules.ReadTx) error {
		got, err := rt.Registration(ctx, r.Sequence)
		if err != nil || got.Sequence != r.Sequence || got.Group != r.Group || got.GroupOrdinal != r.GroupOrdinal ||
			string(got.Sealed) != string(r.Sealed) {
			t.Errorf("Registration: %+v, %v; want %+v", got, err, r)
		}
		if _, err := rt.Registration(ctx, r.Sequence+100); !errors.Is(err, turnero.ErrNotFound) {
			t.Errorf("Registration of an unknown sequence: %v, want ErrNotFound", err)
		}
		if _, ok, err := rt.Booking(ctx, r); ok || err != nil {
			t.Errorf("Booking of someone not booked: ok %v, %v", ok, err)
		}
		if p, err := rt.IsPending(ctx, r.Sequence); p || err != nil {
			t.Errorf("IsPending: %v, %v", p, err)
		}
		if at, err := rt.FirstDoseGiven(ctx, r.Sequence); !at.IsZero() || err != nil {
			t.Errorf("FirstDoseGiven with no dose: %v, %v", at, err)
		}
		if last, ok, err := rt.LastEvent(ctx, r.Sequence); ok || err != nil {
			t.Errorf("LastEvent with no event: %+v, %v, %v", last, ok, err)
		}
		return nil
	})
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		got, err := tx.LockRegistration(ctx, r.Sequence)
		if err != nil || got.Sequence != r.Sequence {
			t.Errorf("LockRegistration: %+v, %v", got, err)
		}
		if _, err := tx.LockRegistration(ctx, r.Sequence+100); !errors.Is(err, turnero.ErrNotFound) {
			t.Errorf("LockRegistration of an unknown sequence: %v, want ErrNotFound", err)
		}
		return nil
	})
}

// A write whose function fails leaves nothing behind.
func testPrimitiveRollback(t *testing.T, f *fixture, e bookingrules.Engine) {
	r := f.register("age-80-plus", 1)[0]
	v := f.version()
	boom := errors.New("boom")
	err := e.Write(f.ctx, "test", func(tx bookingrules.Tx) error {
		if err := tx.MoveVersion(f.ctx); err != nil {
			return err
		}
		if err := tx.SetStatus(f.ctx, r.Sequence, turnero.StatusCancelled); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write returned %v, want the function's error", err)
	}
	if got := f.version(); got != v {
		t.Errorf("version %d after a rolled-back write, want %d", got, v)
	}
	if got, _ := f.s.RegistrationBySequence(f.ctx, r.Sequence); got.Status != turnero.StatusWaiting {
		t.Errorf("status %q after a rolled-back write", got.Status)
	}
}

func testPrimitiveVersion(t *testing.T, f *fixture, e bookingrules.Engine) {
	v := f.version()
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		got, err := tx.LockVersion(ctx)
		if err != nil || got != v {
			t.Errorf("LockVersion: %d, %v; want %d", got, err, v)
		}
		if ok, err := tx.MoveVersionFrom(ctx, v+1); ok || err != nil {
			t.Errorf("MoveVersionFrom a stale version: %v, %v", ok, err)
		}
		if ok, err := tx.MoveVersionFrom(ctx, v); !ok || err != nil {
			t.Errorf("MoveVersionFrom the version: %v, %v", ok, err)
		}
		return tx.MoveVersion(ctx)
	})
	if got := f.version(); got != v+2 {
		t.Errorf("version %d, want %d", got, v+2)
	}
}

func testPrimitiveBookings(t *testing.T, f *fixture, e bookingrules.Engine) {
	rs := f.register("age-80-plus", 2)
	b := booking(rs[0], slot(0, 0), false)
	single := booking(rs[1], slot(0, 1), true)
	at := f.now()
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		return tx.InsertBookings(ctx, []turnero.Booking{b, single}, at)
	})
	err := e.Write(f.ctx, "test", func(tx bookingrules.Tx) error {
		return tx.InsertBookings(f.ctx, []turnero.Booking{b}, at)
	})
	if err == nil || !e.Conflict(err) {
		t.Errorf("a second booking of one person: %v, want a conflict", err)
	}
	read(t, e, func(ctx context.Context, rt bookingrules.ReadTx) error {
		row, ok, err := rt.Booking(ctx, rs[0])
		as := row.Appointments()
		if !ok || err != nil || len(as) != 2 || !as[0].Start.Equal(b.Starts[0]) || !as[1].Start.Equal(b.Starts[1]) ||
			as[0].State != turnero.AppointmentBooked || as[1].State != turnero.AppointmentBooked ||
			row.Center != b.Center || row.Vaccine != b.Vaccine || row.Source != b.Source {
			t.Errorf("Booking: %+v, %v, %v", row, ok, err)
		}
		row, ok, err = rt.Booking(ctx, rs[1])
		if !ok || err != nil || len(row.Appointments()) != 1 {
			t.Errorf("one-dose Booking: %+v, %v, %v", row, ok, err)
		}
		return nil
	})
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		if err := tx.SetDoseState(ctx, rs[0], 1, turnero.AppointmentGiven, "LOT-1"); err != nil {
			return err
		}
		// No lot: the one recorded stays.
		if err := tx.SetDoseState(ctx, rs[0], 1, turnero.AppointmentGiven, ""); err != nil {
			return err
		}
		return tx.SetDoseState(ctx, rs[0], 2, turnero.AppointmentNoShow, "")
	})
	read(t, e, func(ctx context.Context, rt bookingrules.ReadTx) error {
		row, _, err := rt.Booking(ctx, rs[0])
		if err != nil || row.Dose1State != turnero.AppointmentGiven || row.Dose1Lot != "LOT-1" ||
			row.Dose2State != turnero.AppointmentNoShow || row.Dose2Lot != "" {
			t.Errorf("after SetDoseState: %+v, %v", row, err)
		}
		return nil
	})
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		if err := tx.ClearSecondDose(ctx, rs[0]); err != nil {
			return err
		}
		return tx.DeleteBooking(ctx, rs[1])
	})
	read(t, e, func(ctx context.Context, rt bookingrules.ReadTx) error {
		row, ok, err := rt.Booking(ctx, rs[0])
		if !ok || err != nil || len(row.Appointments()) != 1 || row.Dose2State != "" {
			t.Errorf("after ClearSecondDose: %+v, %v, %v", row, ok, err)
		}
		if _, ok, err := rt.Booking(ctx, rs[1]); ok || err != nil {
			t.Errorf("after DeleteBooking: ok %v, %v", ok, err)
		}
		return nil
	})
}

func testPrimitiveSlots(t *testing.T, f *fixture, e bookingrules.Engine) {
	start := slot(0, 0)
	entries := []bookingrules.SlotEntry{{Sequence: 7, Dose: 1}, {Sequence: 3, Dose: 2}}
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		return tx.AddToSlots(ctx, []bookingrules.SlotAdd{{Center: "MO-A", Start: start, Capacity: 3, Entries: entries}})
	})
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		return tx.AddToSlots(ctx, []bookingrules.SlotAdd{
			{Center: "MO-A", Start: start, Capacity: 3, Entries: []bookingrules.SlotEntry{{Sequence: 5, Dose: 1}}},
			{Center: "MO-A", Start: slot(0, 1), Capacity: 2, Entries: []bookingrules.SlotEntry{{Sequence: 9, Dose: 1}}},
		})
	})
	err := e.Write(f.ctx, "test", func(tx bookingrules.Tx) error {
		return tx.AddToSlots(f.ctx, []bookingrules.SlotAdd{{Center: "MO-A", Start: start, Capacity: 3,
			Entries: []bookingrules.SlotEntry{{Sequence: 11, Dose: 1}}}})
	})
	if err == nil || !e.Conflict(err) {
		t.Errorf("a slot booked beyond its capacity: %v, want a conflict", err)
	}
	read(t, e, func(ctx context.Context, rt bookingrules.ReadTx) error {
		n, err := rt.SlotBooked(ctx, "MO-A", start)
		if err != nil || n != 3 {
			t.Errorf("SlotBooked: %d, %v; want 3", n, err)
		}
		if n, err := rt.SlotBooked(ctx, "CA-A", start); err != nil || n != 0 {
			t.Errorf("SlotBooked of a slot never booked: %d, %v", n, err)
		}
		got, err := rt.SlotEntries(ctx, "MO-A", start, start.Add(24*time.Hour))
		want := []bookingrules.SlotEntry{entry(7, 1), entry(3, 2), entry(5, 1), entry(9, 1)}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("SlotEntries: %v, %v; want %v by slot, in the order booked", got, err, want)
		}
		return nil
	})
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		if ok, err := tx.FreeSlot(ctx, "MO-A", start, bookingrules.SlotEntry{Sequence: 3, Dose: 2}); !ok || err != nil {
			t.Errorf("FreeSlot of a listed entry: %v, %v", ok, err)
		}
		// "3.1" is not listed, though "3.2" was and 7.1 ends in "1".
		if ok, err := tx.FreeSlot(ctx, "MO-A", start, bookingrules.SlotEntry{Sequence: 3, Dose: 1}); ok || err != nil {
			t.Errorf("FreeSlot of an entry not listed: %v, %v", ok, err)
		}
		if ok, err := tx.FreeSlot(ctx, "MO-A", start, bookingrules.SlotEntry{Sequence: 7, Dose: 2}); ok || err != nil {
			t.Errorf("FreeSlot of another dose: %v, %v", ok, err)
		}
		return nil
	})
	read(t, e, func(ctx context.Context, rt bookingrules.ReadTx) error {
		got, err := rt.SlotEntries(ctx, "MO-A", start, start.Add(time.Minute))
		if want := []bookingrules.SlotEntry{entry(7, 1), entry(5, 1)}; err != nil || !slices.Equal(got, want) {
			t.Errorf("SlotEntries after FreeSlot: %v, %v; want %v", got, err, want)
		}
		if n, err := rt.SlotBooked(ctx, "MO-A", start); err != nil || n != 2 {
			t.Errorf("SlotBooked after FreeSlot: %d, %v", n, err)
		}
		return nil
	})
}

func testPrimitivePendingAndGroups(t *testing.T, f *fixture, e bookingrules.Engine) {
	rs := f.register("age-80-plus", 3)
	ps := make([]turnero.Pending, len(rs))
	for i, r := range rs {
		ps[i] = turnero.Pending{Candidate: candidate(r), Reason: turnero.ReasonNoCapacity, Since: f.now()}
	}
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		if c, err := tx.GroupCursor(ctx, "age-80-plus"); c != 0 || err != nil {
			t.Errorf("GroupCursor of a group never opened: %d, %v", c, err)
		}
		if err := tx.InsertPending(ctx, ps); err != nil {
			return err
		}
		if err := tx.AdvanceGroup(ctx, "age-80-plus", 3, 3); err != nil {
			return err
		}
		// Never back; the count moves by the delta.
		return tx.AdvanceGroup(ctx, "age-80-plus", 1, -1)
	})
	g := f.group("age-80-plus")
	if g.Cursor != 3 || g.Pending != 2 {
		t.Errorf("group after AdvanceGroup: %+v, want cursor 3, pending 2", g)
	}
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		if c, err := tx.GroupCursor(ctx, "age-80-plus"); c != 3 || err != nil {
			t.Errorf("GroupCursor: %d, %v", c, err)
		}
		if p, err := tx.IsPending(ctx, rs[1].Sequence); !p || err != nil {
			t.Errorf("IsPending of a pending registration: %v, %v", p, err)
		}
		n, err := tx.DeletePending(ctx, []int64{rs[0].Sequence, rs[1].Sequence, rs[2].Sequence + 100})
		if n != 2 || err != nil {
			t.Errorf("DeletePending: %d, %v; want 2", n, err)
		}
		return nil
	})
	got, err := f.s.PendingAfter(f.ctx, "age-80-plus", 0, 10)
	if err != nil || len(got) != 1 || got[0].Sequence != rs[2].Sequence || got[0].Reason != turnero.ReasonNoCapacity {
		t.Errorf("pending after DeletePending: %+v, %v", got, err)
	}
}

func testPrimitiveSecondDoses(t *testing.T, f *fixture, e bookingrules.Engine) {
	rs := f.register("age-80-plus", 2)
	b0, b1 := booking(rs[0], slot(0, 0), false), booking(rs[1], slot(0, 1), false)
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		if err := tx.InsertBookings(ctx, []turnero.Booking{b0, b1}, f.now()); err != nil {
			return err
		}
		for _, r := range rs {
			if err := tx.SetDoseState(ctx, r, 1, turnero.AppointmentGiven, "L1"); err != nil {
				return err
			}
			if err := tx.ClearSecondDose(ctx, r); err != nil {
				return err
			}
			if err := tx.QueueSecondDose(ctx, turnero.SecondDose{Sequence: r.Sequence, Group: r.Group, Ordinal: r.GroupOrdinal,
				Department: r.Department, Vaccine: b0.Vaccine, Center: b0.Center, Earliest: slot(28, 0),
				Reason: turnero.EventNoShow, Since: f.now()}); err != nil {
				return err
			}
		}
		return nil
	})
	sds, err := f.s.SecondDosesAfter(f.ctx, 0, 10)
	if err != nil || len(sds) != 2 || sds[0].Sequence != rs[0].Sequence || !sds[0].Earliest.Equal(slot(28, 0)) {
		t.Fatalf("queue of second doses: %+v, %v", sds, err)
	}
	again := slot(30, 0)
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		n, err := tx.BookSecondDoses(ctx, []turnero.SecondDoseBooking{
			{Sequence: rs[0].Sequence, Group: rs[0].Group, Ordinal: rs[0].GroupOrdinal, Vaccine: b0.Vaccine, Center: "CA-A", Start: again},
			// Another vaccine than dose 1's: not booked.
			{Sequence: rs[1].Sequence, Group: rs[1].Group, Ordinal: rs[1].GroupOrdinal, Vaccine: "astrazeneca", Center: "CA-A", Start: again},
		})
		if n != 1 || err != nil {
			t.Errorf("BookSecondDoses: %d, %v; want 1", n, err)
		}
		// Dose 2 is booked now: not again.
		n, err = tx.BookSecondDoses(ctx, []turnero.SecondDoseBooking{
			{Sequence: rs[0].Sequence, Group: rs[0].Group, Ordinal: rs[0].GroupOrdinal, Vaccine: b0.Vaccine, Center: "MO-A", Start: again},
		})
		if n != 0 || err != nil {
			t.Errorf("BookSecondDoses of a dose 2 already booked: %d, %v", n, err)
		}
		if n, err := tx.DeleteSecondDoses(ctx, []int64{rs[0].Sequence, rs[0].Sequence + 100}); n != 1 || err != nil {
			t.Errorf("DeleteSecondDoses: %d, %v; want 1", n, err)
		}
		return nil
	})
	read(t, e, func(ctx context.Context, rt bookingrules.ReadTx) error {
		row, _, err := rt.Booking(ctx, rs[0])
		as := row.Appointments()
		if err != nil || len(as) != 2 || as[1].Center != "CA-A" || !as[1].Start.Equal(again) || as[1].State != turnero.AppointmentBooked ||
			as[0].Center != b0.Center {
			t.Errorf("dose 2 booked again: %+v, %v", as, err)
		}
		return nil
	})
}

func testPrimitiveEventsOutboxStatus(t *testing.T, f *fixture, e bookingrules.Engine) {
	r := f.register("age-80-plus", 1)[0]
	given := f.now()
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		for _, ev := range []turnero.AppointmentEvent{
			{Registration: r.Sequence, Dose: 1, Center: "MO-A", Vaccine: "pfizer", Kind: turnero.EventGiven, Lot: "L", At: given.Add(-time.Hour)},
			{Registration: r.Sequence, Dose: 1, Center: "MO-A", Vaccine: "pfizer", Kind: turnero.EventGiven, Lot: "L", At: given},
			{Registration: r.Sequence, Dose: 2, Center: "MO-A", Vaccine: "pfizer", Kind: turnero.EventNoShow, At: given.Add(time.Hour)},
			{Registration: r.Sequence, Dose: 2, Center: "MO-A", Vaccine: "pfizer", Kind: turnero.EventNoShow,
				Place: turnero.PlaceSecondDose, At: given.Add(-2 * time.Hour)},
		} {
			if err := tx.InsertEvent(ctx, ev); err != nil {
				return err
			}
		}
		if err := tx.InsertOutbox(ctx, []bookingrules.OutboxRow{{Registration: r.Sequence, Kind: turnero.NotifyMissed}, {Registration: r.Sequence, Kind: turnero.NotifyMissed}}, given); err != nil {
			return err
		}
		return tx.SetStatus(ctx, r.Sequence, turnero.StatusCancelled)
	})
	read(t, e, func(ctx context.Context, rt bookingrules.ReadTx) error {
		if at, err := rt.FirstDoseGiven(ctx, r.Sequence); !at.Equal(given) || err != nil {
			t.Errorf("FirstDoseGiven: %v, %v; want the latest, %v", at, err, given)
		}
		// The latest by the order recorded, whatever its time says.
		want := turnero.AppointmentEvent{Registration: r.Sequence, Dose: 2, Center: "MO-A", Vaccine: "pfizer",
			Kind: turnero.EventNoShow, Place: turnero.PlaceSecondDose, At: given.Add(-2 * time.Hour)}
		last, ok, err := rt.LastEvent(ctx, r.Sequence)
		at := last.At
		last.At = want.At // the time is compared with Equal: engines keep their own zone
		if !ok || err != nil || last != want || !at.Equal(want.At) {
			t.Errorf("LastEvent: %+v at %v, %v, %v; want %+v", last, at, ok, err, want)
		}
		return nil
	})
	evs, err := f.s.EventsOf(f.ctx, r.Sequence)
	if err != nil || len(evs) != 4 || evs[2].Kind != turnero.EventNoShow || evs[0].Lot != "L" {
		t.Errorf("events: %+v, %v", evs, err)
	}
	if n, err := f.s.OutboxCount(f.ctx, turnero.NotifyMissed); n != 2 || err != nil {
		t.Errorf("outbox: %d, %v; want 2", n, err)
	}
	if got, _ := f.s.RegistrationBySequence(f.ctx, r.Sequence); got.Status != turnero.StatusCancelled {
		t.Errorf("status after SetStatus: %q", got.Status)
	}
}

func testPrimitivePlaceInLine(t *testing.T, f *fixture, e bookingrules.Engine) {
	rs := f.register("age-80-plus", 3)
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		if err := tx.MoveToBackOfLine(ctx, rs[0]); err != nil {
			return err
		}
		if err := tx.GiveFeedPosition(ctx, rs[0].Sequence); err != nil {
			return err
		}
		return tx.GiveFeedPosition(ctx, rs[1].Sequence)
	})
	got, _ := f.s.RegistrationBySequence(f.ctx, rs[0].Sequence)
	if got.GroupOrdinal != rs[2].GroupOrdinal+1 || got.Sequence != rs[0].Sequence {
		t.Errorf("after MoveToBackOfLine: ordinal %d, want %d", got.GroupOrdinal, rs[2].GroupOrdinal+1)
	}
	// The feed offers both again, in the order their positions were given.
	page, err := f.s.FeedWaiting(f.ctx, []string{"age-80-plus"}, turnero.FeedCursor{Groups: map[string]turnero.FeedGroupCursor{
		"age-80-plus": {Ordinal: got.GroupOrdinal}}}, 10)
	if err != nil || len(page.Entries) != 2 || page.Entries[0].Sequence != rs[0].Sequence || page.Entries[1].Sequence != rs[1].Sequence ||
		page.Entries[0].Requeued >= page.Entries[1].Requeued {
		t.Errorf("feed after GiveFeedPosition: %+v, %v", page.Entries, err)
	}
}

func testPrimitiveWaitingPages(t *testing.T, f *fixture, e bookingrules.Engine) {
	rs := f.register("age-80-plus", 5)
	f.register("age-70-79", 2)
	write(t, e, func(ctx context.Context, tx bookingrules.Tx) error {
		if err := tx.InsertBookings(ctx, []turnero.Booking{booking(rs[1], slot(0, 0), false), booking(rs[3], slot(0, 1), false)}, f.now()); err != nil {
			return err
		}
		return tx.SetStatus(ctx, rs[4].Sequence, turnero.StatusCancelled)
	})
	page, err := e.WaitingPage(f.ctx, "age-80-plus", rs[0].GroupOrdinal, 10)
	var seqs []int64
	for _, c := range page {
		seqs = append(seqs, c.Sequence)
	}
	// Waiting: booked people still are (their status does not change), the
	// cancelled one is not.
	if want := []int64{rs[1].Sequence, rs[2].Sequence, rs[3].Sequence}; err != nil || !slices.Equal(seqs, want) {
		t.Errorf("WaitingPage: %v, %v; want %v", seqs, err, want)
	}
	if page, err := e.WaitingPage(f.ctx, "age-80-plus", 0, 2); err != nil || len(page) != 2 || page[0].Department != rs[0].Department {
		t.Errorf("WaitingPage with a limit: %+v, %v", page, err)
	}
	ords, err := e.BookedOrdinals(f.ctx, "age-80-plus", rs[1].GroupOrdinal, rs[4].GroupOrdinal)
	if err != nil || !slices.Equal(ords, []int64{rs[3].GroupOrdinal}) {
		t.Errorf("BookedOrdinals: %v, %v; want the ordinals in (after, through] booked", ords, err)
	}
}

func entry(seq int64, dose int) bookingrules.SlotEntry {
	return bookingrules.SlotEntry{Sequence: seq, Dose: dose}
}
