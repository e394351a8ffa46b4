package status

import (
	"context"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/turnero/turnero/internal/turnero"
)

// Status answers are read far more often than they change: people look at
// their place in line right after registering and again and again while they
// wait. statusCache keeps recent answers in memory so that a lookup costs
// neither a database query nor a decryption, with staleness bounded by the
// poll interval:
//   - a new registration's answer is put in at once (write-through);
//   - a poller asks the store, every statusPollEvery, for its change stamp
//     (which moves with every booking, release, dose, no-show, cancellation,
//     center change and group opening, by this process or another); when it
//     moves, the cache is emptied;
//   - a change made through this process's API empties it at once
//     (Service.Changed), so whoever made a change reads it back;
//   - if the poller has not succeeded for statusMaxAge, the cache is not used.
//
// What is kept is the answer itself, already masked (initials and the last
// digits of the document), never the sealed personal data: about 150 bytes
// an answer, so that the people of a whole launch evening's first hours fit.
const (
	statusPollEvery    = 200 * time.Millisecond
	statusMaxAge       = time.Second
	statusCacheEntries = 250_000 // ~40 MB of answers
)

type statusCache struct {
	store    Store
	campaign *turnero.Campaign
	// The index of each group, department and document type in the
	// campaign's lists, plus one: what an answer keeps instead of strings.
	groupIndex, departmentIndex, documentTypeIndex map[string]uint8

	mu sync.Mutex
	// slots is direct-mapped: sequence s lives in slots[s % len(slots)].
	// Sequences are dense, so the latest len(slots) registrations never
	// evict one another, and there is no hashing, no map growth and nothing
	// for the garbage collector to scan (a slot holds no pointers).
	slots []cachedStatus
	// views are the answers' appointments and last changes, for the few
	// that have more to show than their group's state.
	views map[int64]*turnero.StatusView
	// generation numbers the stamps: a slot of another generation is empty,
	// so that emptying the cache costs nothing.
	generation uint32
	stamp      string
	// changes counts the changes reported (changed), so that a poll that
	// read the stamp before one is not taken.
	changes uint64
	// groups holds, for each group, a view with only the group's state: the
	// View of every cached answer of someone plainly waiting in it. Replaced
	// (never changed) at each poll.
	groups   map[string]*turnero.StatusView
	freshAt  time.Time
	stop     chan struct{}
	done     chan struct{}
	started  sync.Once
	stopOnce sync.Once
	running  bool // guarded by mu
}

func newStatusCache(store Store, c *turnero.Campaign) *statusCache {
	cache := &statusCache{
		store:      store,
		campaign:   c,
		slots:      make([]cachedStatus, statusCacheEntries),
		views:      make(map[int64]*turnero.StatusView),
		generation: 1,
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	cache.index(c)
	return cache
}

// index numbers the campaign's groups, departments and document types.
func (c *statusCache) index(campaign *turnero.Campaign) {
	c.campaign = campaign
	c.groupIndex = make(map[string]uint8)
	c.departmentIndex = make(map[string]uint8)
	c.documentTypeIndex = make(map[string]uint8)
	for i, g := range campaign.Groups {
		if i < 255 {
			c.groupIndex[g.ID] = uint8(i + 1)
		}
	}
	for i, d := range campaign.Departments {
		if i < 255 {
			c.departmentIndex[d.Code] = uint8(i + 1)
		}
	}
	for i, d := range campaign.DocumentTypes {
		if i < 255 {
			c.documentTypeIndex[d.ID] = uint8(i + 1)
		}
	}
}

// start runs the poller, once.
func (c *statusCache) start() {
	c.started.Do(func() {
		c.mu.Lock()
		c.running = true
		c.mu.Unlock()
		go c.run()
	})
}

func (c *statusCache) run() {
	defer close(c.done)
	t := time.NewTicker(statusPollEvery)
	defer t.Stop()
	for {
		c.poll()
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
	}
}

// close stops the poller; it may be called more than once, and before start.
func (c *statusCache) close() {
	c.stopOnce.Do(func() { close(c.stop) })
	c.mu.Lock()
	running := c.running
	c.mu.Unlock()
	if running {
		<-c.done
	}
}

func (c *statusCache) poll() {
	ctx, cancel := context.WithTimeout(context.Background(), statusMaxAge)
	defer cancel()
	c.mu.Lock()
	changes := c.changes
	c.mu.Unlock()
	stamp, groups, err := c.store.ChangeStamp(ctx)
	if err != nil {
		return // the cache goes unused once statusMaxAge passes
	}
	byGroup := make(map[string]*turnero.StatusView, len(groups))
	for _, g := range groups {
		byGroup[g.Group] = &turnero.StatusView{Group: g}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changes != changes {
		// A change was reported while the stamp was read: the stamp and
		// the groups may be from before it. The next poll reads them again.
		return
	}
	if stamp != c.stamp {
		c.empty()
		c.stamp = stamp
	}
	c.groups = byGroup
	c.freshAt = time.Now()
}

// changed empties the cache at once, for changes made through this process:
// whoever made the change reads it back. Reads under way keep the old stamp
// and are not stored; caching resumes at the next poll.
func (c *statusCache) changed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.empty()
	c.stamp = ""
	c.changes++
}

// empty drops every answer; c.mu is held.
func (c *statusCache) empty() {
	c.generation++
	if c.generation == 0 { // wrapped: slots of generation 0 would come back
		clear(c.slots)
		c.generation = 1
	}
	clear(c.views)
}

// get returns a cached answer and the stamp to store a fresh read under.
func (c *statusCache) get(seq int64) (record, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.freshAt) > statusMaxAge {
		return record{}, "", false
	}
	a := &c.slots[uint64(seq)%uint64(len(c.slots))]
	if a.sequence != seq || a.generation != c.generation {
		return record{}, c.stamp, false
	}
	return c.status(a), c.stamp, true
}

// getStale returns the answer cached for seq whatever the cache's age, for
// when the store cannot be read.
func (c *statusCache) getStale(seq int64) (record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := &c.slots[uint64(seq)%uint64(len(c.slots))]
	if a.sequence != seq || a.generation != c.generation {
		return record{}, false
	}
	return c.status(a), true
}

// put stores an answer built from a store read made while the stamp was
// stamp.
func (c *statusCache) put(st record, stamp string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stamp == "" || stamp != c.stamp {
		return // something changed since the read began
	}
	c.insert(st)
}

// added records a registration just committed: it waits at the end of its
// group's line, with no appointments. name and document are the masked
// ones its answer shows.
func (c *statusCache) added(r turnero.Registration, name, document, documentType string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stamp == "" || time.Since(c.freshAt) > statusMaxAge {
		return
	}
	var g turnero.GroupState
	if v, ok := c.groups[r.Group]; ok {
		g = v.Group
	}
	if r.GroupOrdinal <= g.Cursor {
		return // not at the end of the line: let the store say where
	}
	c.insert(record{
		Status: r.Status, Sequence: r.Sequence, Position: r.GroupOrdinal - g.Cursor - g.Left + g.Pending,
		MaskedName: name, MaskedDocument: document, DocumentType: documentType,
		ReceivedAt: r.ReceivedAt,
		Group:      turnero.Group{ID: r.Group}, Department: turnero.Department{Code: r.Department},
	})
}

func (c *statusCache) insert(st record) {
	a, ok := c.compact(st)
	if !ok {
		return
	}
	slot := &c.slots[uint64(st.Sequence)%uint64(len(c.slots))]
	if slot.generation == c.generation && slot.sequence != st.Sequence {
		delete(c.views, slot.sequence)
	}
	*slot = a
	if v := st.View; v != nil && (len(v.Appointments) > 0 || v.LastChange != nil) {
		own := turnero.StatusView{Appointments: v.Appointments, Center: v.Center, Group: v.Group, LastChange: v.LastChange, Position: v.Position}
		c.views[st.Sequence] = &own
	} else {
		delete(c.views, st.Sequence)
	}
}

// cachedStatus is a record in 64 bytes and no pointers: the masked name as
// its initials, the masked document as its last characters, and indexes into
// the campaign's lists instead of strings.
type cachedStatus struct {
	sequence                        int64
	receivedAt                      int64 // Unix nanoseconds
	position                        int64
	generation                      uint32
	initials                        [maxInitials]rune
	words                           uint8
	docTail                         [3]byte // the document's last three characters
	docTailLen                      uint8   // 0: a document of three characters or fewer
	status                          uint8   // index in cachedStatuses
	group, department, documentType uint8   // campaign index + 1
}

const maxInitials = 6

var cachedStatuses = [...]string{turnero.StatusWaiting, turnero.StatusScheduled, turnero.StatusCancelled, turnero.StatusVaccinated}

// compact packs an answer; false when it does not fit (a name of more words
// than maxInitials, a status or name the campaign does not know), and the
// answer is not cached.
func (c *statusCache) compact(st record) (cachedStatus, bool) {
	a := cachedStatus{
		sequence: st.Sequence, receivedAt: st.ReceivedAt.UnixNano(), position: st.Position, generation: c.generation,
		group: c.groupIndex[st.Group.ID], department: c.departmentIndex[st.Department.Code],
		documentType: c.documentTypeIndex[st.DocumentType],
	}
	if a.group == 0 || a.department == 0 || a.documentType == 0 {
		return a, false
	}
	a.status = 255
	for i, s := range cachedStatuses {
		if s == st.Status {
			a.status = uint8(i)
		}
	}
	if a.status == 255 {
		return a, false
	}
	// MaskName writes each word as its first letter and "***".
	for _, w := range strings.Fields(st.MaskedName) {
		r, size := utf8.DecodeRuneInString(w)
		if int(a.words) == maxInitials || w[size:] != "***" {
			return a, false
		}
		a.initials[a.words] = r
		a.words++
	}
	if st.MaskedDocument != "***" {
		tail, ok := strings.CutPrefix(st.MaskedDocument, documentMask)
		if !ok || len(tail) != 3 {
			return a, false
		}
		copy(a.docTail[:], tail)
		a.docTailLen = 3
	}
	return a, true
}

const documentMask = "•••••"

func maskedName(a *cachedStatus) string {
	var b strings.Builder
	b.Grow(int(a.words) * 5)
	for i := range a.words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(a.initials[i])
		b.WriteString("***")
	}
	return b.String()
}

func maskedDocument(a *cachedStatus) string {
	if a.docTailLen == 0 {
		return "***"
	}
	return documentMask + string(a.docTail[:])
}

// status rebuilds the answer; c.mu is held.
func (c *statusCache) status(a *cachedStatus) record {
	st := record{
		Status: cachedStatuses[a.status], Sequence: a.sequence, Position: a.position,
		MaskedName: maskedName(a), MaskedDocument: maskedDocument(a),
		DocumentType: c.campaign.DocumentTypes[a.documentType-1].ID,
		Group:        c.campaign.Groups[a.group-1], Department: c.campaign.Departments[a.department-1],
		ReceivedAt: time.Unix(0, a.receivedAt),
	}
	if st.View = c.views[a.sequence]; st.View == nil {
		if st.View = c.groups[st.Group.ID]; st.View == nil {
			st.View = &noGroupState
		}
	}
	return st
}

// noGroupState is the view of a group never opened.
var noGroupState turnero.StatusView
