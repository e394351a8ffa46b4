package feed_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/turnero/turnero/internal/allocate/allocatetest"
	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/turnero"
)

// These tests hold the feed to what the allocator, citizens and staff do
// to the waiting list, on every engine, in the allocation's test
// environment; rapid's checks are bounded as in the allocator's tests.
func TestMain(m *testing.M) { allocatetest.Main(m, 20) }

// feedConsumer pages through the feed as an external scheduling system
// does, with its cursor, asking for the open groups in priority order as
// the feed service does, and checks that a registration is offered once for
// each time it became waiting (registered, or re-queued after its booking
// was released) and reached by the consumer while its group was open, never
// twice for one, and each page in the documented order.
type feedConsumer struct {
	t      testing.TB
	e      *allocatetest.Env
	cursor turnero.FeedCursor
	// episode counts the times each registration became waiting again;
	// seen is the episode last offered (absent: never offered).
	episode map[int64]int
	seen    map[int64]int
	offers  map[int64]int
}

func newFeedConsumer(e *allocatetest.Env) *feedConsumer {
	return &feedConsumer{t: e.T, e: e, episode: map[int64]int{}, seen: map[int64]int{}, offers: map[int64]int{}}
}

// openGroups lists the open groups in the campaign's priority order, as the
// feed service asks for them.
func openGroups(e *allocatetest.Env) []string {
	e.T.Helper()
	states, err := e.Store.GroupStates(context.Background())
	if err != nil {
		e.T.Fatal(err)
	}
	open := map[string]bool{}
	for _, g := range states {
		open[g.Group] = g.Open
	}
	var out []string
	for _, g := range e.Campaign.Groups {
		if open[g.ID] {
			out = append(out, g.ID)
		}
	}
	return out
}

// requeued records that seq became waiting again.
func (f *feedConsumer) requeued(seq int64) { f.episode[seq]++ }

// reschedule gives seq another date now (the campaign's rule puts them back
// in line) and records that they became waiting again.
func (f *feedConsumer) reschedule(seq int64) {
	f.t.Helper()
	e := f.e
	if _, err := e.Store.ChangeBooking(context.Background(), seq, e.Clock.Now(), e.Campaign.DecideReschedule); err != nil {
		f.t.Fatal(err)
	}
	e.Released++
	f.requeued(seq)
}

// pull reads one page of up to limit and returns who it offered.
func (f *feedConsumer) pull(limit int) []int64 {
	f.t.Helper()
	groups := openGroups(f.e)
	page, err := f.e.Store.FeedWaiting(context.Background(), groups, f.cursor, limit)
	if err != nil {
		f.t.Fatal(err)
	}
	if len(page.Entries) > limit {
		f.t.Fatalf("a page of %d, limit %d", len(page.Entries), limit)
	}
	rank := map[string]int{}
	for i, g := range groups {
		rank[g] = i + 1
	}
	// Those re-queued behind the cursor first, by feed position; then the
	// others, group after group in priority order, each by ordinal.
	var lastPos, lastOrd int64
	lastRank := 0
	for _, en := range page.Entries {
		seq := en.Sequence
		switch {
		case rank[en.Group] == 0:
			f.t.Fatalf("feed offered %d of %s, a closed group", seq, en.Group)
		case en.Status != turnero.StatusWaiting:
			f.t.Fatalf("feed offered %d, %s", seq, en.Status)
		case (en.Requeued > 0) != (f.episode[seq] > 0):
			f.t.Fatalf("feed offered %d with feed position %d after %d re-queues", seq, en.Requeued, f.episode[seq])
		}
		if last, ok := f.seen[seq]; ok && last == f.episode[seq] {
			f.t.Fatalf("feed offered %d twice for one wait (re-queued %d times; cursor %+v)", seq, f.episode[seq], f.cursor)
		}
		if en.GroupOrdinal <= f.cursor.Groups[en.Group].Ordinal {
			if lastRank > 0 || en.Requeued <= lastPos {
				f.t.Fatalf("feed offered %d, re-queued at %d behind the cursor, out of order (cursor %+v)", seq, en.Requeued, f.cursor)
			}
			lastPos = en.Requeued
		} else {
			if rank[en.Group] < lastRank || rank[en.Group] == lastRank && en.GroupOrdinal <= lastOrd {
				f.t.Fatalf("feed offered %d (%s, ordinal %d) out of order", seq, en.Group, en.GroupOrdinal)
			}
			lastRank, lastOrd = rank[en.Group], en.GroupOrdinal
		}
		f.seen[seq] = f.episode[seq]
		f.offers[seq]++
	}
	f.cursor = page.Next
	out := make([]int64, len(page.Entries))
	for i, en := range page.Entries {
		out[i] = en.Sequence
	}
	return out
}

// drain pulls until a page is empty and returns who it offered, then checks
// that everyone waiting and unbooked in the open groups was offered since
// they last became waiting.
func (f *feedConsumer) drain(limit int) []int64 {
	f.t.Helper()
	var all []int64
	for pages := 0; ; pages++ {
		if pages > len(f.e.Registrations)+1 {
			f.t.Fatalf("paging does not end (cursor %+v)", f.cursor)
		}
		got := f.pull(limit)
		if len(got) == 0 {
			break
		}
		all = append(all, got...)
	}
	appts := f.e.Appointments()
	in := map[string]bool{}
	for _, g := range openGroups(f.e) {
		in[g] = true
	}
	for seq := range f.e.Registrations {
		r, err := f.e.Store.RegistrationBySequence(context.Background(), seq)
		if err != nil {
			f.t.Fatal(err)
		}
		if r.Status != turnero.StatusWaiting || !in[r.Group] || len(appts[seq]) > 0 {
			continue
		}
		if last, ok := f.seen[seq]; !ok || last != f.episode[seq] {
			f.t.Fatalf("registration %d of %s waits (re-queued %d times) but the feed did not offer it since (last offered: %d, %v; cursor %+v)",
				seq, r.Group, f.episode[seq], last, ok, f.cursor)
		}
	}
	return all
}

// TestFeedGroupOpenedLater: a group that opens after a consumer has read
// past its people's sequences (they registered among those of a group open
// before) is offered whole, from its start, each once; its people come
// before those of groups after it in priority order.
func TestFeedGroupOpenedLater(t *testing.T) { enginetest.Each(t, testFeedGroupOpenedLater) }

func testFeedGroupOpenedLater(t *testing.T, eng enginetest.Engine) {
	e := allocatetest.New(t, eng, allocatetest.Campaign(t))
	f := newFeedConsumer(e)
	var a, b []int64 // age-70-79 opens first; age-80-plus, before it in priority, later
	for range 15 {
		for _, r := range e.Register(allocatetest.People(3, "age-80-plus", "UY-MO", 85)...) {
			b = append(b, r.Sequence)
		}
		for _, r := range e.Register(allocatetest.People(2, "age-70-79", "UY-MO", 72)...) {
			a = append(a, r.Sequence)
		}
	}
	e.OpenGroups("age-70-79")
	if got := f.drain(4); fmt.Sprint(got) != fmt.Sprint(a) {
		t.Fatalf("offered %v, want %v", got, a)
	}
	more := e.Register(allocatetest.People(2, "age-70-79", "UY-MO", 72)...)
	e.OpenGroups("age-80-plus")
	// Everyone of the group opened later, behind every sequence read; then
	// the new ones of the group open before.
	want := append(b, more[0].Sequence, more[1].Sequence)
	if got := f.drain(4); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the second group opened, offered %v, want %v", got, want)
	}
	if got := f.drain(4); len(got) != 0 {
		t.Fatalf("offered again: %v", got)
	}
}

// TestFeedGroupClosedAndReopened: closing a group stops offering it;
// opening it again continues where the consumer left it: people it was
// offered are not offered again, those released while it was closed are
// (however far the consumer read other groups meanwhile), and so are new
// ones; under either place-in-line rule.
func TestFeedGroupClosedAndReopened(t *testing.T) { enginetest.Each(t, testFeedGroupClosedAndReopened) }

func testFeedGroupClosedAndReopened(t *testing.T, eng enginetest.Engine) {
	for _, place := range []string{turnero.KeepPlace, turnero.BackOfLine} {
		t.Run(place, func(t *testing.T) {
			c := allocatetest.Campaign(t)
			c.PlaceInLine = turnero.PlaceInLinePolicy{AfterCancel: place, AfterNoShow: place}
			e := allocatetest.New(t, eng, c)
			f := newFeedConsumer(e)
			var b, a []turnero.Registration
			for range 3 {
				b = append(b, e.Register(allocatetest.People(2, "age-80-plus", "UY-MO", 85)...)...)
				a = append(a, e.Register(allocatetest.People(1, "age-70-79", "UY-MO", 72)...)...)
			}
			e.OpenGroups("age-80-plus", "age-70-79")
			e.Run(e.Allocator(e.Store, 5))
			if len(e.Appointments()) != 9 {
				t.Fatal("the test needs everyone booked")
			}
			f.drain(2)
			if len(f.offers) != 0 {
				t.Fatalf("offered %v while everyone was booked", f.offers)
			}
			f.reschedule(b[0].Sequence)
			b7 := e.Register(allocatetest.People(2, "age-80-plus", "UY-MO", 85)...)
			if got := f.pull(1); fmt.Sprint(got) != fmt.Sprint([]int64{b[0].Sequence}) {
				t.Fatalf("offered %v, want %d", got, b[0].Sequence)
			}
			e.CloseGroups("age-80-plus")
			f.reschedule(b[1].Sequence) // while closed, before a[0]
			f.reschedule(a[0].Sequence)
			b9 := e.Register(allocatetest.People(1, "age-80-plus", "UY-MO", 85)...)
			if got := f.drain(2); fmt.Sprint(got) != fmt.Sprint([]int64{a[0].Sequence}) {
				t.Fatalf("with age-80-plus closed, offered %v, want only %d", got, a[0].Sequence)
			}
			e.OpenGroups("age-80-plus")
			want := []int64{b[1].Sequence, b7[0].Sequence, b7[1].Sequence, b9[0].Sequence} // keep place: behind the cursor, first
			if place == turnero.BackOfLine {
				want = []int64{b7[0].Sequence, b7[1].Sequence, b[1].Sequence, b9[0].Sequence} // at the back, when released
			}
			if got := f.drain(2); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("after opening again, offered %v, want %v", got, want)
			}
			e.Refresh()
			e.CheckLine()
		})
	}
}

// TestFeedOffersRequeuedAgain: a consumer paging with its cursor gets a
// registration again after its booking is released (another date, back of
// the line; a missed first dose, keeping the place), once per release, and
// fresh registrations in order of submission; one re-queued before the
// consumer reached it is offered once; nobody is offered twice otherwise.
func TestFeedOffersRequeuedAgain(t *testing.T) { enginetest.Each(t, testFeedOffersRequeuedAgain) }

func testFeedOffersRequeuedAgain(t *testing.T, eng enginetest.Engine) {
	c := allocatetest.Campaign(t)
	c.PlaceInLine = turnero.PlaceInLinePolicy{AfterCancel: turnero.BackOfLine, AfterNoShow: turnero.KeepPlace}
	e := allocatetest.New(t, eng, c)
	ctx := context.Background()
	groups := []string{"age-80-plus", "age-70-79"}
	f := newFeedConsumer(e)
	first := e.Register(allocatetest.People(20, "age-80-plus", "UY-MO", 85)...)
	e.Register(allocatetest.People(4, "age-70-79", "UY-MO", 72)...)
	e.OpenGroups(groups...)
	f.drain(3)
	if len(f.offers) != 24 {
		t.Fatalf("%d offered, want 24", len(f.offers))
	}
	e.Run(e.Allocator(e.Store, 5))
	if got := f.pull(10); len(got) != 0 {
		t.Fatalf("%v offered after everyone was booked", got)
	}
	appts := e.Appointments()
	// Two ask for another date (back of the line); others register.
	a, b := first[0].Sequence, first[5].Sequence
	f.reschedule(a)
	f.reschedule(b)
	fresh := e.Register(allocatetest.People(3, "age-80-plus", "UY-MO", 90)...)
	var got []int64
	for page := f.pull(2); len(page) > 0; page = f.pull(2) {
		got = append(got, page...)
	}
	if want := []int64{a, b, fresh[0].Sequence, fresh[1].Sequence, fresh[2].Sequence}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("offered %v, want the two re-queued, then the new in order: %v", got, want)
	}
	// A missed first dose keeps the place (the campaign's rule): offered again.
	m := first[1].Sequence
	e.Clock.Set(appts[m][0].Start.Add(time.Minute))
	if _, err := e.Store.ChangeBooking(ctx, m, e.Clock.Now(), func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
		return c.DecideNoShow(rec, appts[m][0].Center, 1, e.Clock.Now())
	}); err != nil {
		t.Fatal(err)
	}
	e.Released++
	f.requeued(m)
	f.drain(2)
	// Registered, booked and re-queued before the consumer reaches them:
	// offered once; the same person re-queued a second time, after being
	// booked again: offered again.
	late := e.Register(allocatetest.People(2, "age-70-79", "UY-MO", 75)...)
	e.Run(e.Allocator(e.Store, 5))
	if appts := e.Appointments(); len(appts[a]) == 0 || len(appts[late[0].Sequence]) == 0 || len(appts[late[1].Sequence]) == 0 {
		t.Fatal("the test needs a and the late ones booked again")
	}
	f.reschedule(late[0].Sequence)
	f.reschedule(a)
	// A cancellation is not offered.
	if _, err := e.Store.ChangeBooking(ctx, b, e.Clock.Now(), c.DecideCancel); err != nil {
		t.Fatal(err)
	}
	f.drain(2)
	want := map[int64]int{a: 3, b: 2, m: 2, late[0].Sequence: 1, late[1].Sequence: 0, first[2].Sequence: 1, fresh[0].Sequence: 1}
	for seq, n := range want {
		if f.offers[seq] != n {
			t.Fatalf("registration %d offered %d times, want %d", seq, f.offers[seq], n)
		}
	}
	e.Refresh()
	e.CheckLine()
}

// TestPropertyFeedOffersEachWaitOnce: whatever happens (registrations,
// runs, another date, cancellations, doses and no-shows, time passing,
// groups opened and closed, in any order) and however the consumer pages,
// it is offered every registration of an open group once for each time it
// became waiting and was still waiting when reached, never twice for one,
// nobody booked or cancelled and nobody of a closed group; at the end, with
// every group open, everyone waiting has been offered.
func TestPropertyFeedOffersEachWaitOnce(t *testing.T) {
	enginetest.Each(t, testPropertyFeedOffersEachWaitOnce)
}

func testPropertyFeedOffersEachWaitOnce(t *testing.T, eng enginetest.Engine) {
	allocatetest.Property(t, eng, func(rt *rapid.T, e *allocatetest.Env) {
		var groups []string
		for _, ga := range allocatetest.GroupAges {
			groups = append(groups, ga.Group)
			if rapid.Bool().Draw(rt, "open_"+ga.Group) {
				e.OpenGroups(ga.Group)
			}
		}
		f := newFeedConsumer(e)
		a := e.Allocator(e.Store, rapid.IntRange(1, 10).Draw(rt, "batch"))
		ctx := context.Background()
		change := func(seq int64, decide func(turnero.BookingRecord) (turnero.BookingChange, error)) {
			var ch turnero.BookingChange
			ok := false
			e.Release(seq, func(r turnero.BookingRecord) (turnero.BookingChange, error) {
				var err error
				ch, err = decide(r)
				ok = err == nil
				return ch, err
			})
			if ok && ch.Release != "" && ch.Place != "" {
				f.requeued(seq)
			}
		}
		steps := rapid.IntRange(5, 30).Draw(rt, "steps")
		for range steps {
			switch rapid.IntRange(0, 8).Draw(rt, "action") {
			case 0: // people register
				ps := make([]turnero.Candidate, rapid.IntRange(1, 6).Draw(rt, "people"))
				for j := range ps {
					ga := rapid.SampledFrom(allocatetest.GroupAges).Draw(rt, "group")
					ps[j] = turnero.Candidate{Group: ga.Group, Age: ga.Age, Department: rapid.SampledFrom(allocatetest.Departments).Draw(rt, "dept")}
				}
				e.Register(ps...)
			case 1: // the allocator runs
				e.Run(a)
			case 2: // time passes
				e.Clock.Add(time.Duration(rapid.IntRange(1, 72).Draw(rt, "hours")) * time.Hour)
			case 3: // a citizen asks for another date, or cancels
				booked := e.Booked()
				if len(booked) == 0 {
					continue
				}
				seq := rapid.SampledFrom(booked).Draw(rt, "who")
				if rapid.IntRange(0, 3).Draw(rt, "cancel") == 0 {
					change(seq, e.Campaign.DecideCancel)
				} else {
					change(seq, e.Campaign.DecideReschedule)
				}
			case 4: // staff: dose 1 given or missed, for someone due
				now := e.Clock.Now()
				var due []int64
				for _, seq := range e.Booked() {
					if as := e.Appointments()[seq]; !as[0].Start.After(now) && as[0].State == turnero.AppointmentBooked {
						due = append(due, seq)
					}
				}
				if len(due) == 0 {
					continue
				}
				seq := rapid.SampledFrom(due).Draw(rt, "due")
				d1 := e.Appointments()[seq][0]
				if rapid.Bool().Draw(rt, "no_show") {
					change(seq, func(r turnero.BookingRecord) (turnero.BookingChange, error) {
						return e.Campaign.DecideNoShow(r, d1.Center, 1, now)
					})
				} else if _, err := e.Store.ChangeBooking(ctx, seq, now, func(r turnero.BookingRecord) (turnero.BookingChange, error) {
					return e.Campaign.DecideDose(r, d1.Center, 1, d1.Vaccine, "L1", now)
				}); err != nil {
					rt.Fatal(err)
				}
			case 5, 6: // the consumer reads a page
				f.pull(rapid.IntRange(1, 5).Draw(rt, "limit"))
			case 7: // the consumer reads to the end
				f.drain(rapid.IntRange(1, 5).Draw(rt, "limit"))
			case 8: // an operator opens or closes a group
				g := rapid.SampledFrom(groups).Draw(rt, "group_to_switch")
				if rapid.Bool().Draw(rt, "open") {
					e.OpenGroups(g)
				} else {
					e.CloseGroups(g)
				}
			}
		}
		f.drain(rapid.IntRange(1, 5).Draw(rt, "limit"))
		e.OpenGroups(groups...)
		f.drain(rapid.IntRange(1, 5).Draw(rt, "limit"))
	})
}

// TestFeedRequeuesFromTwoWriters: people given another date through two
// stores at once (two processes on SQLite, two nodes on PostgreSQL) while a
// consumer pages: each is offered again exactly once, so feed positions
// become visible in the order they are given.
func TestFeedRequeuesFromTwoWriters(t *testing.T) { enginetest.Each(t, testFeedRequeuesFromTwoWriters) }

func testFeedRequeuesFromTwoWriters(t *testing.T, eng enginetest.Engine) {
	e := allocatetest.New(t, eng, allocatetest.Campaign(t))
	ctx := context.Background()
	groups := []string{"age-80-plus"}
	rs := e.Register(allocatetest.People(40, "age-80-plus", "UY-MO", 85)...)
	e.OpenGroups(groups...)
	offers := map[int64]int{}
	var cursor turnero.FeedCursor
	pull := func() int {
		page, err := e.Store.FeedWaiting(ctx, groups, cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range page.Entries {
			offers[en.Sequence]++
			if offers[en.Sequence] > 1 && en.Requeued == 0 {
				t.Fatalf("%d offered again without a feed position", en.Sequence)
			}
		}
		cursor = page.Next
		return len(page.Entries)
	}
	for pull() > 0 {
	}
	e.Run(e.Allocator(e.Store, 10))
	appts := e.Appointments()
	var booked []int64
	for _, r := range rs {
		if len(appts[r.Sequence]) > 0 {
			booked = append(booked, r.Sequence)
		}
	}
	if len(booked) < 20 {
		t.Fatalf("%d booked, the test needs 20", len(booked))
	}
	booked = booked[:20]
	other := e.Engine.Open(t, e.Where)
	done := make(chan error, 2)
	for i, db := range []turnero.Store{e.Store, other} {
		go func() {
			for j := i; j < len(booked); j += 2 {
				if _, err := db.ChangeBooking(ctx, booked[j], e.Clock.Now(), e.Campaign.DecideReschedule); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for running := 2; running > 0; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running--
		default:
			pull()
		}
	}
	for pull() > 0 {
	}
	again := map[int64]bool{}
	for _, seq := range booked {
		again[seq] = true
	}
	for _, r := range rs {
		want := 1 + boolInt(again[r.Sequence])
		if offers[r.Sequence] != want {
			t.Fatalf("registration %d offered %d times, want %d", r.Sequence, offers[r.Sequence], want)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
