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
		{"WaitingGroupByGroupPaged", testFeedWaiting},
		{"GroupAskedForLater", testFeedGroupLater},
		{"LegacyCursor", testFeedLegacyCursor},
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
	ab := []string{"a", "b"}
	cursor := f.pull(ab, want, turnero.FeedCursor{})
	// Nothing new: an empty page, and the cursor stays.
	if again := f.pull(ab, nil, cursor); !again.Equal(cursor) {
		t.Fatalf("an empty pull moved the cursor from %+v to %+v", cursor, again)
	}
	// Someone the consumer passed (booked then) becomes waiting again: they
	// are offered again, and only they.
	f.change(byGroup["a"][1].Sequence, turnero.BookingChange{Release: turnero.EventReschedule, Place: turnero.KeepPlace})
	f.pull(ab, map[int64]bool{byGroup["a"][1].Sequence: true}, cursor)
	if page, err := f.s.FeedWaiting(f.ctx, nil, cursor, 3); err != nil || len(page.Entries) != 0 || !page.Next.Equal(cursor) {
		t.Fatalf("no groups: %d (%v), cursor %+v; want none, and the cursor as it was", len(page.Entries), err, page.Next)
	}
	if page, err := f.s.FeedWaiting(f.ctx, []string{"c"}, cursor, 0); err != nil || len(page.Entries) != 0 || !page.Next.Equal(cursor) {
		t.Fatalf("limit 0: %d (%v), cursor %+v; want none, and the cursor as it was", len(page.Entries), err, page.Next)
	}
}

// testFeedGroupLater: a group asked for after the consumer read others
// (opened later) is read from its beginning, although its people's
// sequences are behind everyone read; a group no longer asked for (closed)
// keeps its place, and people of it re-queued meanwhile are offered when it
// is asked for again, however far the consumer read other groups.
func testFeedGroupLater(t *testing.T, open Opener) {
	f := newFixture(t, fresh(t, open))
	var a, b []turnero.Registration
	for range 3 {
		b = append(b, f.register("b", 2)...)
		a = append(a, f.register("a", 2)...)
	}
	seqs := func(rs ...turnero.Registration) map[int64]bool {
		m := map[int64]bool{}
		for _, r := range rs {
			m[r.Sequence] = true
		}
		return m
	}
	cursor := f.pull([]string{"a"}, seqs(a...), turnero.FeedCursor{})
	b = append(b, f.register("b", 1)...)
	// b opens: all of b, from its start; a has nothing new.
	cursor = f.pull([]string{"a", "b"}, seqs(b...), cursor)
	// b is booked in part and closed; meanwhile two of b are released (one
	// keeps its place, one goes to the back of the line), a grows and is
	// read on.
	f.book(booking(b[0], slot(0, 0), false), booking(b[1], slot(0, 0), false), booking(b[2], slot(0, 1), false))
	f.change(b[0].Sequence, turnero.BookingChange{Release: turnero.EventReschedule, Place: turnero.KeepPlace})
	f.change(b[1].Sequence, turnero.BookingChange{Release: turnero.EventReschedule, Place: turnero.BackOfLine})
	more := f.register("a", 2)
	f.book(booking(more[0], slot(1, 0), false))
	f.change(more[0].Sequence, turnero.BookingChange{Release: turnero.EventReschedule, Place: turnero.KeepPlace})
	cursor = f.pull([]string{"a"}, seqs(more...), cursor)
	late := f.register("b", 1)
	// b opens again: its two released and its new one, nobody of b twice.
	cursor = f.pull([]string{"a", "b"}, seqs(b[0], b[1], late[0]), cursor)
	if again := f.pull([]string{"b", "a"}, nil, cursor); !again.Equal(cursor) {
		t.Fatalf("an empty pull moved the cursor from %+v to %+v", cursor, again)
	}
}

// testFeedLegacyCursor: a cursor of the earlier format (a sequence and a
// feed position across all open groups) reads each asked group as far as
// its sequence: nobody after it is missed and nobody before it offered
// again, but those re-queued after its feed position.
func testFeedLegacyCursor(t *testing.T, open Opener) {
	f := newFixture(t, fresh(t, open))
	var all []turnero.Registration
	for range 3 {
		all = append(all, f.register("a", 2)...)
		all = append(all, f.register("b", 1)...)
	}
	// Read up to all[4] by the earlier format; then all[1] (behind it) and
	// all[6] (after it) are released, keeping their places.
	f.book(booking(all[1], slot(0, 0), false), booking(all[6], slot(0, 0), false))
	f.change(all[1].Sequence, turnero.BookingChange{Release: turnero.EventReschedule, Place: turnero.KeepPlace})
	f.change(all[6].Sequence, turnero.BookingChange{Release: turnero.EventReschedule, Place: turnero.KeepPlace})
	legacy := turnero.FeedCursor{Legacy: turnero.FeedLegacyCursor{Sequence: all[4].Sequence}}
	want := map[int64]bool{all[1].Sequence: true}
	for _, r := range all[5:] {
		want[r.Sequence] = true
	}
	cursor := f.pull([]string{"a", "b"}, want, legacy)
	if cursor.Legacy != (turnero.FeedLegacyCursor{}) || len(cursor.Groups) != 2 {
		t.Fatalf("the earlier cursor was not resolved into places of groups: %+v", cursor)
	}
	// Asked for no group yet, it is kept as it is.
	if page, err := f.s.FeedWaiting(f.ctx, nil, legacy, 3); err != nil || !page.Next.Equal(legacy) {
		t.Fatalf("no groups: %+v (%v), want the earlier cursor as it was", page.Next, err)
	}
}

// pull reads the feed of groups from cursor in pages of 3 until a short
// page, asserting that it offers exactly want, each once, and each page in
// the documented order: first those re-queued that the cursor had passed in
// their group, by feed position; then the others, group after group in the
// order asked, each group by ordinal. It returns the cursor after the last
// page.
func (f *fixture) pull(groups []string, want map[int64]bool, cursor turnero.FeedCursor) turnero.FeedCursor {
	f.t.Helper()
	seen := map[int64]bool{}
	rank := map[string]int{}
	for i, g := range groups {
		rank[g] = i
	}
	for pages := 0; ; pages++ {
		if pages > len(want)+1 {
			f.t.Fatalf("paging does not end: %d pages for %d people", pages, len(want))
		}
		page, err := f.s.FeedWaiting(f.ctx, groups, cursor, 3)
		if err != nil {
			f.t.Fatal(err)
		}
		if len(page.Entries) > 3 {
			f.t.Fatalf("a page of %d, limit 3", len(page.Entries))
		}
		var lastPos, lastOrd int64
		lastGroup, past := -1, false
		for _, e := range page.Entries {
			r := e.Registration
			behind := r.GroupOrdinal <= cursor.Groups[r.Group].Ordinal
			if cursor.Legacy.Sequence > 0 {
				behind = r.Sequence <= cursor.Legacy.Sequence
			}
			switch {
			case !want[r.Sequence]:
				f.t.Fatalf("feed offered %d (%s, %s), not waiting for the feed", r.Sequence, r.Group, r.Status)
			case seen[r.Sequence]:
				f.t.Fatalf("feed offered %d twice", r.Sequence)
			case r.Status != turnero.StatusWaiting || r.Sealed == nil:
				f.t.Fatalf("feed offered %+v", r)
			case behind && (past || e.Requeued <= lastPos):
				f.t.Fatalf("feed offered %d again at feed position %d, out of order (cursor %+v)", r.Sequence, e.Requeued, cursor)
			case !behind && (rank[r.Group] < lastGroup || rank[r.Group] == lastGroup && r.GroupOrdinal <= lastOrd):
				f.t.Fatalf("feed offered %d (%s, ordinal %d) after %s's %d: out of order", r.Sequence, r.Group, r.GroupOrdinal,
					groups[lastGroup], lastOrd)
			}
			if behind {
				lastPos = e.Requeued
			} else {
				lastGroup, lastOrd, past = rank[r.Group], r.GroupOrdinal, true
			}
			seen[r.Sequence] = true
		}
		cursor = page.Next
		if len(page.Entries) < 3 {
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
	if page, err := f.s.FeedWaiting(f.ctx, []string{"g1"}, turnero.FeedCursor{}, 10); err != nil || len(page.Entries) != 4 || page.Entries[0].Sequence != rs[1].Sequence {
		t.Fatalf("feed after the post-back: %d people (%v), want the other 4", len(page.Entries), err)
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
