package turnero

import (
	"context"
	"maps"
	"time"
)

// The feed offers each waiting registration of the open groups once, group
// by group: a consumer's cursor says how far it has read each group, so a
// group that opens after the consumer read others starts from its
// beginning, and a group closed and opened again continues where that
// consumer left it. Within a group the order is the group's waiting list
// (its ordinals: order of submission, and those sent to the back of the line
// at the back). A registration that becomes waiting again after it was
// booked (another date, a missed first dose) gets a feed position, from a
// counter of its own that only grows, in the order those changes commit:
// one the consumer has passed in its group is offered again at that
// position; one it has not reached yet is offered once, at its place.

// FeedCursor is how far a consumer of the feed has read, group by group.
type FeedCursor struct {
	// Groups holds a place for every group the consumer has read (absent:
	// not read at all), open or closed now.
	Groups map[string]FeedGroupCursor
	// Legacy is a cursor of the first formats, which read every open group
	// together by sequence. Each open group without a place in Groups is read
	// as far as it says; groups opened later start from their beginning.
	Legacy FeedLegacyCursor
}

// FeedGroupCursor is how far a consumer has read one group.
type FeedGroupCursor struct {
	// Ordinal: every registration of the group at or below this group
	// ordinal was offered, or passed over while booked or cancelled (it is
	// offered again only if it becomes waiting again, with a feed position).
	Ordinal int64
	// Requeued: every registration of the group re-queued at or below this
	// feed position was offered since, or passed over.
	Requeued int64
}

// FeedLegacyCursor is a cursor of the first formats: a sequence, and a
// feed position among those re-queued, across all open groups.
type FeedLegacyCursor struct {
	Sequence int64
	Requeued int64
}

// Equal reports whether c and o say the same.
func (c FeedCursor) Equal(o FeedCursor) bool {
	return c.Legacy == o.Legacy && maps.Equal(c.Groups, o.Groups)
}

// Clone returns a copy of c that shares nothing with it.
func (c FeedCursor) Clone() FeedCursor {
	c.Groups = maps.Clone(c.Groups)
	return c
}

// FeedEntry is a registration the feed offers, with its feed position (0
// when it was never re-queued).
type FeedEntry struct {
	Registration
	Requeued int64
}

// FeedPage is one read of the feed: what it offers, and the cursor after it.
type FeedPage struct {
	Entries []FeedEntry
	// Next is the cursor to read on from: places of closed groups and of
	// groups not asked for are kept as they were, and the Legacy part is
	// resolved into places of the groups asked for.
	Next FeedCursor
}

// FeedStore serves an external scheduling system: the waiting list to pull,
// and the appointments it made to post back.
type FeedStore interface {
	// FeedWaiting returns up to limit registrations of the groups (the open
	// ones, in the order to serve them), still waiting and not booked,
	// after the cursor, from one snapshot: first those of every group
	// re-queued at a feed position above the group's Requeued whose group
	// ordinal is at or below the group's Ordinal, by feed position; then,
	// if the limit allows, group after group in the order given, those of
	// the group with an ordinal above its Ordinal, by ordinal. Next also
	// moves past people read over and not offered (booked, cancelled), so
	// that a consumer never reads them again. It reads on the readers only:
	// a slow consumer never holds the writer that intake needs.
	FeedWaiting(ctx context.Context, groups []string, after FeedCursor, limit int) (FeedPage, error)
	// BookExternal stores the appointments an external system made for one
	// registration, with their slots (Capacity by the agenda), a
	// notification, and the allocation version moved, in one transaction.
	// The booking's Candidate is filled from the stored registration.
	BookExternal(ctx context.Context, b Booking, slots []SlotBooking, at time.Time) error
}

// Errors of the feed.
var (
	ErrAlreadyScheduled = Errorf(CodeConflict, "already_scheduled")
	ErrSlotFull         = Errorf(CodeConflict, "slot_full")
	ErrGroupClosed      = Errorf(CodeConflict, "group_closed")
)

// FeedSnapshot is what ReadFeed needs of a storage engine: reads of one
// snapshot, each driven by an index (a group's ordinals, a group's feed
// positions), so that a page costs about what it returns whatever the size
// of the registrations table.
type FeedSnapshot interface {
	// FeedRequeued returns up to limit registrations of the group, waiting
	// and not booked, re-queued at a feed position above after, with a group
	// ordinal at or below ordinal, by feed position.
	FeedRequeued(ctx context.Context, group string, after, ordinal int64, limit int) ([]FeedEntry, error)
	// FeedFresh returns up to limit registrations of the group, waiting and
	// not booked, with a group ordinal above after, by ordinal; and through,
	// the ordinal up to which it read every registration of the group: the
	// last one returned when there are limit, else the group's last.
	FeedFresh(ctx context.Context, group string, after int64, limit int) (entries []FeedEntry, through int64, err error)
	// LastFeedPosition returns the largest feed position of the group (0:
	// nobody of it was ever re-queued).
	LastFeedPosition(ctx context.Context, group string) (int64, error)
	// LastOrdinal returns the group's largest ordinal (0: nobody).
	LastOrdinal(ctx context.Context, group string) (int64, error)
	// FirstNotRequeued returns the ordinal and sequence of the group's first
	// registration never re-queued at ordinal or above; ok false if none.
	FirstNotRequeued(ctx context.Context, group string, ordinal int64) (ord, seq int64, ok bool, err error)
}

// ReadFeed is FeedStore.FeedWaiting over one snapshot: the one rule of the
// feed's order and of its cursor, for every engine.
//
// Why the cursor may move as it does. A group's Ordinal moves past everyone
// read, offered or not: someone passed over while booked comes back only
// through a release, which gives a new feed position, above every position
// visible now (positions become visible in the order given). A group's
// Requeued moves to the feed position of every entry offered, which is
// sound because all re-queued entries behind the cursor, of every group, are
// offered first, by position; once a group has none left behind its
// Ordinal, its Requeued moves to its last feed position, so that those
// re-queued and then booked again are not read again on every page.
func ReadFeed(ctx context.Context, s FeedSnapshot, groups []string, after FeedCursor, limit int) (FeedPage, error) {
	page := FeedPage{Next: after.Clone()}
	if len(groups) == 0 || limit < 1 {
		return page, nil // nothing read: a legacy cursor waits to be resolved
	}
	next := page.Next.Groups
	if next == nil {
		next = map[string]FeedGroupCursor{}
	}
	legacy := page.Next.Legacy
	page.Next.Legacy = FeedLegacyCursor{}
	for _, g := range groups {
		if _, ok := next[g]; ok || legacy == (FeedLegacyCursor{}) {
			continue
		}
		c := FeedGroupCursor{Requeued: legacy.Requeued}
		if legacy.Sequence > 0 {
			last, err := s.LastOrdinal(ctx, g)
			if err != nil {
				return FeedPage{}, err
			}
			c.Ordinal, err = FeedLegacyOrdinal(legacy.Sequence, last, func(o int64) (int64, int64, bool, error) {
				return s.FirstNotRequeued(ctx, g, o)
			})
			if err != nil {
				return FeedPage{}, err
			}
		}
		next[g] = c
	}

	// Re-queued behind the cursor, of every group, by feed position: each
	// group's in order, merged.
	type stream struct {
		group   string
		entries []FeedEntry
		taken   int
	}
	var streams []*stream
	for _, g := range groups {
		c := next[g]
		if c.Ordinal == 0 {
			continue // nothing behind
		}
		es, err := s.FeedRequeued(ctx, g, c.Requeued, c.Ordinal, limit)
		if err != nil {
			return FeedPage{}, err
		}
		streams = append(streams, &stream{group: g, entries: es})
	}
	for len(page.Entries) < limit {
		var first *stream
		for _, st := range streams {
			if st.taken < len(st.entries) && (first == nil || st.entries[st.taken].Requeued < first.entries[first.taken].Requeued) {
				first = st
			}
		}
		if first == nil {
			break
		}
		page.Entries = append(page.Entries, first.entries[first.taken])
		first.taken++
	}
	for _, st := range streams {
		c := next[st.group]
		switch {
		case st.taken == len(st.entries) && len(st.entries) < limit:
			// None left behind: past the group's last position.
			last, err := s.LastFeedPosition(ctx, st.group)
			if err != nil {
				return FeedPage{}, err
			}
			c.Requeued = max(c.Requeued, last)
		case st.taken > 0:
			c.Requeued = st.entries[st.taken-1].Requeued
		}
		next[st.group] = c
	}

	// Then those not reached yet, group after group, by ordinal.
	for _, g := range groups {
		if len(page.Entries) == limit {
			break
		}
		c := next[g]
		es, through, err := s.FeedFresh(ctx, g, c.Ordinal, limit-len(page.Entries))
		if err != nil {
			return FeedPage{}, err
		}
		for _, e := range es {
			c.Requeued = max(c.Requeued, e.Requeued)
		}
		c.Ordinal = max(c.Ordinal, through)
		page.Entries = append(page.Entries, es...)
		next[g] = c
	}
	for g, c := range next {
		if c == (FeedGroupCursor{}) {
			delete(next, g)
		}
	}
	if len(next) > 0 {
		page.Next.Groups = next
	} else {
		page.Next.Groups = nil
	}
	return page, nil
}

// FeedLegacyOrdinal resolves a cursor of the first formats for one group:
// the largest group ordinal of a registration never re-queued whose
// sequence is at or below seq (0: none). Registrations never re-queued keep
// the ordinal they were given with their sequence, in the same order, so
// the search is a binary one over ordinals up to last (the group's largest).
// first(o) returns the first registration of the group never re-queued at
// ordinal o or above: its ordinal and sequence, or ok false when there is
// none. Those re-queued are left out because a move to the back of the line
// gives them a new, larger ordinal: they carry a feed position, and the
// legacy cursor's Requeued decides for them. The result never makes a
// consumer miss anyone; it may offer once more someone re-queued that it
// had been offered already.
func FeedLegacyOrdinal(seq, last int64, first func(o int64) (ord, seq int64, ok bool, err error)) (int64, error) {
	var found int64
	lo, hi := int64(1), last
	for lo <= hi {
		mid := lo + (hi-lo)/2
		ord, s, ok, err := first(mid)
		if err != nil {
			return 0, err
		}
		if ok && s <= seq {
			found, lo = ord, ord+1
		} else {
			hi = mid - 1
		}
	}
	return found, nil
}
