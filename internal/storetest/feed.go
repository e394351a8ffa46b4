package storetest

import (
	"errors"
	"testing"

	"github.com/turnero/turnero/internal/turnero"
)

// runFeed: an external scheduling system pulls the waiting list (the feed
// service asks for the open groups) and posts back the appointments it made.
func runFeed(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"WaitingInSequenceOrderPaged", testFeedWaiting},
		{"PostBack", testFeedPostBack},
	} {
		t.Run("Feed/"+tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// testFeedWaiting: pages of the waiting list, read with a small limit,
// return exactly the people of the asked groups who are waiting and not
// booked (by the allocator or the feed), each once, in order; someone the
// consumer passed who becomes waiting again is offered again.
func testFeedWaiting(t *testing.T, open Opener) {
	f := newFixture(t, fresh(t, open))
	var all []turnero.Registration
	for range 4 { // groups interleaved in sequence order
		all = append(all, f.register("a", 3)...)
		all = append(all, f.register("b", 2)...)
		all = append(all, f.register("c", 1)...)
	}
	f.open("a", true)
	f.open("b", true)
	byGroup := map[string][]turnero.Registration{}
	for _, r := range all {
		byGroup[r.Group] = append(byGroup[r.Group], r)
	}
	skip := map[int64]bool{}
	// The allocator booked a's first three.
	f.book(booking(byGroup["a"][0], slot(0, 0), false), booking(byGroup["a"][1], slot(0, 0), false),
		booking(byGroup["a"][2], slot(0, 1), false))
	for _, r := range byGroup["a"][:3] {
		skip[r.Sequence] = true
	}
	// The feed booked one of b, past the group's cursor.
	ext := booking(byGroup["b"][5], slot(1, 0), false)
	ext.Source = turnero.SourceFeed
	if err := f.s.BookExternal(f.ctx, ext, slotsOf(2, ext), f.now()); err != nil {
		t.Fatal(err)
	}
	skip[byGroup["b"][5].Sequence] = true
	// One of a cancelled, one of b given another date (back in line: waiting).
	f.change(byGroup["a"][7].Sequence, turnero.BookingChange{Status: turnero.StatusCancelled})
	skip[byGroup["a"][7].Sequence] = true
	f.book(booking(byGroup["b"][0], slot(1, 1), false))
	f.change(byGroup["b"][0].Sequence, turnero.BookingChange{Release: turnero.EventReschedule, Place: turnero.KeepPlace})

	want := map[int64]bool{}
	for _, r := range all {
		if r.Group != "c" && !skip[r.Sequence] {
			want[r.Sequence] = true
		}
	}
	cursor := f.pull(want, turnero.FeedCursor{})
	// Nothing new: an empty page, and the cursor stays.
	if again := f.pull(nil, cursor); again != cursor {
		t.Fatalf("an empty pull moved the cursor from %+v to %+v", cursor, again)
	}
	// Someone the consumer passed (booked then) becomes waiting again: they
	// are offered again, and only they.
	f.change(byGroup["a"][1].Sequence, turnero.BookingChange{Release: turnero.EventReschedule, Place: turnero.KeepPlace})
	f.pull(map[int64]bool{byGroup["a"][1].Sequence: true}, cursor)
	if page, err := f.s.FeedWaiting(f.ctx, nil, turnero.FeedCursor{}, 3); err != nil || len(page) != 0 {
		t.Fatalf("no groups: %d (%v), want none", len(page), err)
	}
	if page, err := f.s.FeedWaiting(f.ctx, []string{"c"}, turnero.FeedCursor{}, 0); err != nil || len(page) != 0 {
		t.Fatalf("limit 0: %d (%v), want none", len(page), err)
	}
}

// pull reads the feed of groups a and b from cursor in pages of 3 until a
// short page, asserting that it offers exactly want, each once, and each
// page in the documented order: first those re-queued that the cursor had
// passed by sequence, by feed position, then those past it, by sequence. It
// returns the cursor after the last entry.
func (f *fixture) pull(want map[int64]bool, cursor turnero.FeedCursor) turnero.FeedCursor {
	f.t.Helper()
	seen := map[int64]bool{}
	for pages := 0; ; pages++ {
		if pages > len(want)+1 {
			f.t.Fatalf("paging does not end: %d pages for %d people", pages, len(want))
		}
		page, err := f.s.FeedWaiting(f.ctx, []string{"a", "b"}, cursor, 3)
		if err != nil {
			f.t.Fatal(err)
		}
		if len(page) > 3 {
			f.t.Fatalf("a page of %d, limit 3", len(page))
		}
		lastSeq, lastPos, past := cursor.Sequence, cursor.Requeued, false
		for _, e := range page {
			r := e.Registration
			switch {
			case !want[r.Sequence]:
				f.t.Fatalf("feed offered %d (%s, %s), not waiting for the feed", r.Sequence, r.Group, r.Status)
			case seen[r.Sequence]:
				f.t.Fatalf("feed offered %d twice", r.Sequence)
			case r.Status != turnero.StatusWaiting || r.Sealed == nil:
				f.t.Fatalf("feed offered %+v", r)
			case r.Sequence <= cursor.Sequence && (past || e.Requeued <= lastPos):
				f.t.Fatalf("feed offered %d again at feed position %d, out of order (cursor %+v)", r.Sequence, e.Requeued, cursor)
			case r.Sequence > cursor.Sequence && r.Sequence <= lastSeq:
				f.t.Fatalf("feed offered %d after %d: out of sequence order", r.Sequence, lastSeq)
			}
			if r.Sequence <= cursor.Sequence {
				lastPos = e.Requeued
			} else {
				lastSeq, past = r.Sequence, true
			}
			seen[r.Sequence] = true
		}
		for _, e := range page {
			cursor = cursor.Next(e)
		}
		if len(page) < 3 {
			break
		}
	}
	if len(seen) != len(want) {
		var missing []int64
		for seq := range want {
			if !seen[seq] {
				missing = append(missing, seq)
			}
		}
		f.t.Fatalf("feed did not offer %v", missing)
	}
	return cursor
}

// testFeedPostBack: an appointment the external system made is stored as
// the allocator's are (slots under their capacity, a notification, the
// version moved) and shows in the person's status; what cannot be booked is
// refused and changes nothing.
func testFeedPostBack(t *testing.T, open Opener) {
	f := newFixture(t, fresh(t, open))
	rs := f.register("g1", 5)
	f.open("g1", true)
	// rs[0] is pending: the allocator passed it without a place.
	b := batch(f.version(), f.now(), 2)
	b.NewPending = []turnero.Pending{{Candidate: candidate(rs[0]), Reason: turnero.ReasonNoCapacity, Since: f.now()}}
	b.Cursors["g1"] = rs[0].GroupOrdinal
	f.commit(b)

	v := f.version()
	ext := booking(rs[0], slot(0, 0), false)
	ext.Source = turnero.SourceFeed
	ext.Candidate = turnero.Candidate{Sequence: rs[0].Sequence} // the store fills in the rest
	if err := f.s.BookExternal(f.ctx, ext, slotsOf(2, ext), f.now()); err != nil {
		t.Fatalf("external booking: %v", err)
	}
	view, err := f.s.StatusView(f.ctx, rs[0].Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Appointments) != 2 || view.Appointments[0].Source != turnero.SourceFeed || !view.Appointments[1].Start.Equal(slot(0, 0).AddDate(0, 0, interval)) ||
		view.Center.ID != "MO-A" || view.Center.Name != "Centro A" || view.Position != 0 {
		t.Fatalf("status after the post-back: %+v", view)
	}
	if g := f.group("g1"); g.Pending != 0 {
		t.Fatalf("a pending person booked by the feed is still counted pending: %+v", g)
	}
	if ps, err := f.s.PendingAfter(f.ctx, "g1", 0, 10); err != nil || len(ps) != 0 {
		t.Fatalf("pending list after the post-back: %+v (%v)", ps, err)
	}
	if page, err := f.s.FeedWaiting(f.ctx, []string{"g1"}, turnero.FeedCursor{}, 10); err != nil || len(page) != 4 || page[0].Sequence != rs[1].Sequence {
		t.Fatalf("feed after the post-back: %d people (%v), want the other 4", len(page), err)
	}
	before := f.state()
	f.refused("an allocation computed before the post-back",
		f.s.CommitAllocation(f.ctx, batch(v, f.now(), 2, booking(rs[1], slot(2, 0), false))), before)
	if before.outbox != 1 {
		t.Fatalf("%d notifications after one post-back, want 1", before.outbox)
	}

	// Refusals, each changing nothing.
	f.change(rs[2].Sequence, turnero.BookingChange{Status: turnero.StatusCancelled})
	full := booking(rs[1], slot(0, 0), false) // rs[0] and rs[3] fill the slot first
	f.book(booking(rs[3], slot(0, 0), true))
	fullSlots := slotsOf(2, full)
	cancelled := booking(rs[2], slot(1, 0), false)
	again := booking(rs[0], slot(1, 0), false)
	unknown := booking(rs[4], slot(1, 0), false)
	unknown.Sequence = 1_000_000
	for _, tc := range []struct {
		what  string
		b     turnero.Booking
		slots []turnero.SlotBooking
		want  error
	}{
		{"a full slot", full, fullSlots, turnero.ErrSlotFull},
		{"a cancelled registration", cancelled, slotsOf(2, cancelled), turnero.ErrAlreadyCancelled},
		{"a booked registration", again, slotsOf(2, again), turnero.ErrAlreadyScheduled},
		{"an unknown registration", unknown, slotsOf(2, unknown), turnero.ErrNotFound},
	} {
		before := f.state()
		tc.b.Source = turnero.SourceFeed
		if err := f.s.BookExternal(f.ctx, tc.b, tc.slots, f.now()); !errors.Is(err, tc.want) {
			t.Fatalf("post-back of %s: %v, want %v", tc.what, err, tc.want)
		}
		if !equalState(before, f.state()) {
			t.Fatalf("a refused post-back of %s changed what is stored", tc.what)
		}
	}
	f.checkSlots()
}
