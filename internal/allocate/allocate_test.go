package allocate_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/allocate/allocatetest"
	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/turnero"
)

func TestAllocatesOpenGroupsInOrder(t *testing.T) { enginetest.Each(t, testAllocatesOpenGroupsInOrder) }

func testAllocatesOpenGroupsInOrder(t *testing.T, eng enginetest.Engine) {
	e := allocatetest.New(t, eng, allocatetest.Campaign(t))
	// 80+ get Pfizer; 70-79 Pfizer or AstraZeneca; 60-69 AstraZeneca first.
	old := e.Register(allocatetest.People(5, "age-80-plus", "UY-MO", 85)...)
	e.Register(allocatetest.People(4, "age-70-79", "UY-MO", 72)...)
	closed := e.Register(allocatetest.People(3, "age-60-69", "UY-MO", 65)...)
	e.Register(allocatetest.People(3, "age-70-79", "UY-CA", 75)...)
	e.OpenGroups("age-80-plus", "age-70-79")
	since := e.Clock.Now()
	rep := e.Run(e.Allocator(e.Store, 4))
	if rep.Scheduled != 12 || rep.Appointments != 24 {
		t.Fatalf("report %+v, want 12 scheduled, 24 appointments", rep)
	}
	if got := e.Check(since); got != 12 {
		t.Fatalf("%d scheduled, want 12", got)
	}
	e.CheckOrder()
	appts := e.Appointments()
	for _, r := range closed {
		if len(appts[r.Sequence]) != 0 {
			t.Fatalf("registration %d of a closed group was scheduled", r.Sequence)
		}
	}
	// The first in line gets the first slot after the notice period:
	// Tuesday 08:00 at MO-A (Monday 10:00 + 12 h is Monday 22:00).
	first := appts[old[0].Sequence]
	want := time.Date(2021, 3, 2, 8, 0, 0, 0, e.Campaign.Location)
	if !first[0].Start.Equal(want) || first[0].Center != "MO-A" || first[0].Vaccine != "pfizer" {
		t.Fatalf("first in line got %+v, want MO-A at %s with pfizer", first[0], want)
	}
	if !first[1].Start.Equal(want.AddDate(0, 0, 28)) {
		t.Fatalf("second dose at %s, want %s (same time, 28 days later)", first[1].Start, want.AddDate(0, 0, 28))
	}
	// Canelones has only AstraZeneca: 70-79 get it, 90 days apart.
	for seq, as := range appts {
		if e.Registrations[seq].Department == "UY-CA" && (as[0].Vaccine != "astrazeneca" || as[0].Center != "CA-A") {
			t.Fatalf("Canelones registration got %+v", as[0])
		}
	}
	// Idempotent: a second run at the same time changes nothing.
	rep = e.Run(e.Allocator(e.Store, 4))
	if rep.Scheduled != 0 || rep.NewPending != 0 || rep.Commits != 0 {
		t.Fatalf("second run %+v, want nothing done", rep)
	}
	if got := e.Check(since); got != 12 {
		t.Fatalf("after a second run %d scheduled, want 12", got)
	}
}

func TestCannotPlaceKeepsPlaceWithReason(t *testing.T) {
	enginetest.Each(t, testCannotPlaceKeepsPlaceWithReason)
}

func testCannotPlaceKeepsPlaceWithReason(t *testing.T, eng enginetest.Engine) {
	e := allocatetest.New(t, eng, allocatetest.Campaign(t))
	// Canelones has no Pfizer: people over 80 there cannot be placed at all.
	stuck := e.Register(allocatetest.People(2, "age-80-plus", "UY-CA", 90)...)
	// Montevideo: more 80+ than five days of capacity.
	e.Register(allocatetest.People(120, "age-80-plus", "UY-MO", 81)...)
	e.OpenGroups("age-80-plus")
	since := e.Clock.Now()
	a := e.Allocator(e.Store, 50)
	rep := e.Run(a)
	if rep.Reasons[turnero.ReasonNoCenter] != 2 || rep.Reasons[turnero.ReasonNoCapacity] == 0 {
		t.Fatalf("reasons %v, want 2 %s and some %s", rep.Reasons, turnero.ReasonNoCenter, turnero.ReasonNoCapacity)
	}
	placed := e.Check(since)
	e.CheckOrder()
	if placed+rep.NewPending != 122 || placed == 0 {
		t.Fatalf("%d placed + %d pending, want 122 in all", placed, rep.NewPending)
	}
	pend, err := e.Store.PendingAfter(context.Background(), "age-80-plus", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(pend) != rep.NewPending || pend[0].Sequence != stuck[0].Sequence || pend[0].Reason != turnero.ReasonNoCenter {
		t.Fatalf("pending list %d long, first %+v; want %d, first %d (%s)", len(pend), pend[0], rep.NewPending,
			stuck[0].Sequence, turnero.ReasonNoCenter)
	}
	states, err := e.Store.GroupStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if states[0].Pending != int64(rep.NewPending) || states[0].Cursor != 122 {
		t.Fatalf("group state %+v, want cursor 122 and %d pending", states[0], rep.NewPending)
	}
	// Positions: the pending are first in line, in order; a newcomer is
	// behind all of them.
	ctx := context.Background()
	if pos, err := e.Store.WaitingPosition(ctx, "age-80-plus", pend[1].Ordinal); err != nil || pos != 2 {
		t.Fatalf("second pending person at position %d (%v), want 2", pos, err)
	}
	newcomer := e.Register(allocatetest.People(1, "age-80-plus", "UY-MO", 88)...)[0]
	if pos, err := e.Store.WaitingPosition(ctx, "age-80-plus", newcomer.GroupOrdinal); err != nil || pos != int64(rep.NewPending)+1 {
		t.Fatalf("newcomer at position %d (%v), want %d", pos, err, rep.NewPending+1)
	}
	// A day later the horizon has one more day: the next in line (pending,
	// in order) are placed first, and nobody new jumps ahead of them.
	e.Clock.Add(24 * time.Hour)
	rep2 := e.Run(a)
	if rep2.Scheduled == 0 {
		t.Fatalf("a day later nobody was placed: %+v", rep2)
	}
	if as := e.Appointments()[newcomer.Sequence]; len(as) != 0 && rep2.StillPending > 2 {
		t.Fatalf("a newcomer was placed while %d before them still wait", rep2.StillPending)
	}
	e.Check(since)
}

func TestTwoAllocatorsOnOneFileNeverDoubleBook(t *testing.T) {
	enginetest.Each(t, testTwoAllocatorsOnOneFileNeverDoubleBook)
}

func testTwoAllocatorsOnOneFileNeverDoubleBook(t *testing.T, eng enginetest.Engine) {
	e := allocatetest.New(t, eng, allocatetest.Campaign(t))
	e.Register(allocatetest.People(60, "age-80-plus", "UY-MO", 85)...)
	e.Register(allocatetest.People(30, "age-70-79", "UY-MO", 71)...)
	e.OpenGroups("age-80-plus", "age-70-79")
	since := e.Clock.Now()
	// A second handle on the same file: its own connections and locks, as
	// another process would have.
	other := e.Engine.Open(t, e.Where)
	a1, a2 := e.Allocator(e.Store, 5), e.Allocator(other, 3)
	var wg sync.WaitGroup
	reps := make([]int, 2)
	for i, a := range []*allocate.Allocator{a1, a2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := a.RunOnce(context.Background())
			if err != nil {
				t.Errorf("allocator %d: %v", i, err)
			}
			reps[i] = rep.Scheduled
		}()
	}
	wg.Wait()
	placed := e.Check(since)
	if reps[0]+reps[1] != placed {
		t.Fatalf("allocators report %d + %d scheduled, storage has %d", reps[0], reps[1], placed)
	}
	if placed == 0 {
		t.Fatal("nobody placed")
	}
}

// TestTwoAllocatorsManyTimes races two allocators on two stores (two
// processes on one SQLite file, two nodes' pools on one PostgreSQL schema)
// again and again, with people arriving and
// bookings released in between: no slot is ever overbooked, nobody is
// booked twice, and what the allocators report is what is stored.
func TestTwoAllocatorsManyTimes(t *testing.T) { enginetest.Each(t, testTwoAllocatorsManyTimes) }

func testTwoAllocatorsManyTimes(t *testing.T, eng enginetest.Engine) {
	e := allocatetest.New(t, eng, allocatetest.Campaign(t))
	other := eng.Open(t, e.Where)
	e.OpenGroups("age-80-plus", "age-70-79", "age-60-69")
	since := e.Clock.Now()
	total := 0
	for round := range 6 {
		e.Register(allocatetest.People(12, "age-80-plus", "UY-MO", 85)...)
		e.Register(allocatetest.People(8, "age-70-79", "UY-MO", 71)...)
		e.Register(allocatetest.People(6, "age-60-69", "UY-CA", 65)...)
		a1, a2 := e.Allocator(e.Store, 1+round%4), e.Allocator(other, 2+round%3)
		done := make(chan int, 2)
		for i, a := range []*allocate.Allocator{a1, a2} {
			go func() {
				rep, err := a.RunOnce(context.Background())
				if err != nil {
					t.Errorf("round %d allocator %d: %v", round, i, err)
				}
				done <- rep.Scheduled
			}()
		}
		total += <-done + <-done
		// A day passes: the horizon moves and more capacity opens.
		e.Clock.Add(24 * time.Hour)
	}
	if t.Failed() {
		return
	}
	placed := e.Check(since)
	if placed != total || placed == 0 {
		t.Fatalf("allocators report %d scheduled in all, storage has %d", total, placed)
	}
}
