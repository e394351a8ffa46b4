package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// What a database says about itself (turnero.Deployment): its identity,
// its campaign pinned once, its restores; and a waiting person's position
// moving when someone ahead leaves the line.
func runDeployment(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"NewDatabaseHasAnIdentity", testNewDatabaseIdentity},
		{"CampaignPinnedOnce", testCampaignPinnedOnce},
		{"ApplyCampaignChecksTheRules", testApplyCampaign},
		{"EpochAfterRestore", testEpoch},
		{"RemoveCenter", testRemoveCenter},
		{"PositionMovesWhenSomeoneAheadLeaves", testPositionGaps},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

func testNewDatabaseIdentity(t *testing.T, open Opener) {
	a, b := fresh(t, open), fresh(t, open)
	da, err := a.Deployment(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	db, err := b.Deployment(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if da.DatabaseID == "" || da.CodeSalt == "" || da.Epoch != 0 || da.CampaignID != "" || len(da.Restores) != 0 {
		t.Fatalf("a new database: %+v; want an id, a code salt, epoch 0, no campaign", da)
	}
	if da.DatabaseID == db.DatabaseID || da.CodeSalt == db.CodeSalt {
		t.Fatalf("two databases share an identity: %+v and %+v", da, db)
	}
}

func pin(id, hash, source string) turnero.CampaignPin {
	return turnero.CampaignPin{ID: id, RulesHash: hash, Source: []byte(source), At: time.Date(2021, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func testCampaignPinnedOnce(t *testing.T, open Opener) {
	s, other := open(t)
	s2 := other(t)
	d, err := s.PinCampaign(t.Context(), pin("uy-2021", "h1", "file one"), centers()[:1])
	if err != nil {
		t.Fatal(err)
	}
	if d.CampaignID != "uy-2021" || d.RulesHash != "h1" || string(d.CampaignSource) != "file one" ||
		!d.CampaignAppliedAt.Equal(time.Date(2021, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("pinned: %+v", d)
	}
	// Another node (or a node started with another file) pins nothing more,
	// and stores none of its centers.
	d2, err := s2.PinCampaign(t.Context(), pin("other", "h2", "file two"), centers())
	if err != nil {
		t.Fatal(err)
	}
	if d2.CampaignID != "uy-2021" || d2.RulesHash != "h1" || string(d2.CampaignSource) != "file one" {
		t.Fatalf("a second pin changed the campaign: %+v", d2)
	}
	cs, err := s.Centers(t.Context())
	if err != nil || len(cs) != 1 || cs[0].ID != centers()[0].ID {
		t.Fatalf("centers after two pins: %+v, %v; want the first pin's only", cs, err)
	}
}

func testApplyCampaign(t *testing.T, open Opener) {
	s := fresh(t, open)
	if _, err := s.PinCampaign(t.Context(), pin("uy-2021", "h1", "v1"), centers()[:1]); err != nil {
		t.Fatal(err)
	}
	v, _, err := s.AllocationState(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyCampaign(t.Context(), "h0", pin("uy-2021", "h2", "v2"), centers()); !errors.Is(err, turnero.ErrCampaignChanged) {
		t.Fatalf("apply against other rules than the stored ones: %v, want ErrCampaignChanged", err)
	}
	if err := s.ApplyCampaign(t.Context(), "h1", pin("uy-2021", "h2", "v2"), centers()); err != nil {
		t.Fatal(err)
	}
	d, _ := s.Deployment(t.Context())
	if d.RulesHash != "h2" || string(d.CampaignSource) != "v2" {
		t.Fatalf("after apply: %+v", d)
	}
	cs, _ := s.Centers(t.Context())
	if len(cs) != len(centers()) {
		t.Fatalf("%d centers after apply, want %d", len(cs), len(centers()))
	}
	if got, _, _ := s.AllocationState(t.Context()); got <= v {
		t.Fatalf("version %d after new centers, was %d: an allocator would use the old agenda", got, v)
	}
}

func testEpoch(t *testing.T, open Opener) {
	s := fresh(t, open)
	f := newFixture(t, s)
	before := f.register("age-80-plus", 3)
	r, err := s.StartEpoch(t.Context(), time.Date(2021, 3, 22, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	floor := turnero.EpochSequenceFloor(1)
	if r.Epoch != 1 || r.After != before[2].Sequence || r.Floor != floor {
		t.Fatalf("restore %+v, want epoch 1 after %d, floor %d", r, before[2].Sequence, floor)
	}
	after := f.register("age-80-plus", 2)
	if after[0].Sequence != floor+1 || after[1].Sequence != floor+2 {
		t.Fatalf("sequences after the restore: %d, %d; want %d, %d", after[0].Sequence, after[1].Sequence, floor+1, floor+2)
	}
	if after[0].GroupOrdinal != before[2].GroupOrdinal+1 {
		t.Fatalf("group ordinal %d after the restore, want %d: the line goes on", after[0].GroupOrdinal, before[2].GroupOrdinal+1)
	}
	d, err := s.Deployment(t.Context())
	if err != nil || d.Epoch != 1 || len(d.Restores) != 1 || d.Restores[0] != r {
		t.Fatalf("deployment after a restore: %+v, %v", d, err)
	}
	for seq, lost := range map[int64]bool{before[2].Sequence: false, before[2].Sequence + 1: true, floor: true, floor + 1: false} {
		if _, got := d.LostIn(seq); got != lost {
			t.Errorf("LostIn(%d) = %v, want %v", seq, got, lost)
		}
	}
	if r2, err := s.StartEpoch(t.Context(), time.Now()); err != nil || r2.Epoch != 2 || r2.After != floor+2 {
		t.Fatalf("second restore: %+v, %v", r2, err)
	}
}

func testRemoveCenter(t *testing.T, open Opener) {
	s := fresh(t, open)
	f := newFixture(t, s)
	// Booked from now on: refused.
	r := f.register("age-80-plus", 1)[0]
	f.book(booking(r, slot(3, 0), false))
	if err := s.RemoveCenter(f.ctx, "MO-A", slot(1, 0)); !errors.Is(err, turnero.ErrCenterInUse) {
		t.Fatalf("remove a center with doses booked ahead: %v, want ErrCenterInUse", err)
	}
	if err := s.RemoveCenter(f.ctx, "XX-9", slot(1, 0)); !errors.Is(err, turnero.ErrCenterNotFound) {
		t.Fatalf("remove an unknown center: %v", err)
	}
	// Only past appointments: retired, out of the agenda, still readable.
	v := f.version()
	if err := s.RemoveCenter(f.ctx, "MO-A", slot(40, 0)); err != nil {
		t.Fatal(err)
	}
	cs, _ := s.Centers(f.ctx)
	for _, c := range cs {
		if c.ID == "MO-A" {
			t.Fatal("a retired center is still in the agenda")
		}
	}
	if c, err := s.Center(f.ctx, "MO-A"); err != nil || c.Name != "Centro A" {
		t.Fatalf("a retired center for the history: %+v, %v", c, err)
	}
	if f.version() <= v {
		t.Fatal("removing a center did not move the version")
	}
	// Never booked: gone. Imported again: back.
	if err := s.RemoveCenter(f.ctx, "CA-A", slot(0, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Center(f.ctx, "CA-A"); !errors.Is(err, turnero.ErrCenterNotFound) {
		t.Fatalf("a center never booked, removed: %v", err)
	}
	if err := s.UpsertCenters(f.ctx, centers()); err != nil {
		t.Fatal(err)
	}
	if cs, _ := s.Centers(f.ctx); len(cs) != 2 {
		t.Fatalf("%d centers after importing them again, want 2", len(cs))
	}
}

// A waiting person's position counts the people still in line ahead: it
// moves as soon as someone ahead cancels or is booked through the feed, and
// back when a feed booking is released with the person keeping their place.
func testPositionGaps(t *testing.T, open Opener) {
	s := fresh(t, open)
	f := newFixture(t, s)
	rs := f.register("age-80-plus", 6)
	f.open("age-80-plus", true)
	// The allocator passed the first: now serving 1, nobody pending.
	f.book(booking(rs[0], slot(0, 0), false))
	last := rs[5]
	position := func() int64 {
		t.Helper()
		v, err := s.StatusView(f.ctx, last.Sequence)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.WaitingPosition(f.ctx, last.Group, last.GroupOrdinal)
		if err != nil {
			t.Fatal(err)
		}
		if p != v.Position {
			t.Fatalf("WaitingPosition %d, status view %d", p, v.Position)
		}
		return p
	}
	if p := position(); p != 5 {
		t.Fatalf("position %d, want 5", p)
	}
	// Someone ahead cancels.
	f.change(rs[2].Sequence, turnero.BookingChange{Status: turnero.StatusCancelled})
	if p := position(); p != 4 {
		t.Fatalf("position %d after someone ahead cancelled, want 4", p)
	}
	if g := f.group("age-80-plus"); g.Left != 1 {
		t.Fatalf("group %+v: one place left empty past the cursor", g)
	}
	// Someone ahead is booked by an external system.
	b := booking(rs[3], slot(0, 1), false)
	b.Source = turnero.SourceFeed
	if err := s.BookExternal(f.ctx, b, slotsOf(2, b), f.now()); err != nil {
		t.Fatal(err)
	}
	if p := position(); p != 3 {
		t.Fatalf("position %d after someone ahead was booked through the feed, want 3", p)
	}
	// Their booking is released and they keep their place: back ahead.
	f.change(rs[3].Sequence, turnero.BookingChange{Release: turnero.EventReschedule, Place: turnero.KeepPlace})
	if p := position(); p != 4 {
		t.Fatalf("position %d after someone ahead came back to their place, want 4", p)
	}
	// Someone behind cancels: nothing changes.
	late := f.register("age-80-plus", 1)[0]
	f.change(late.Sequence, turnero.BookingChange{Status: turnero.StatusCancelled})
	if p := position(); p != 4 {
		t.Fatalf("position %d after someone behind cancelled, want 4", p)
	}
	// The allocator passes them all: the places left empty are forgotten.
	bk := []turnero.Booking{booking(rs[1], slot(1, 0), false), booking(rs[3], slot(1, 0), false), booking(rs[4], slot(1, 1), false)}
	f.book(bk...)
	if g := f.group("age-80-plus"); g.Cursor != rs[4].GroupOrdinal || g.Left != 1 {
		t.Fatalf("group %+v after the allocator passed the cancelled one: want cursor %d, one place left (behind)", g, rs[4].GroupOrdinal)
	}
	if p := position(); p != 1 {
		t.Fatalf("position %d, want 1: first in line", p)
	}
}
