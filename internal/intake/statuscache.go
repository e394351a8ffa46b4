package intake

import (
	"context"
	"sync"
	"time"

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
//     (Service.StatusChanged), so whoever made a change reads it back;
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
	store interface {
		turnero.StatusViewer
		turnero.ChangeStamper
	}
	campaign *turnero.Campaign
	mu       sync.Mutex
	answers  map[int64]cachedStatus
	ring     []int64 // insertion order, for eviction
	next     int
	stamp    string
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

func newStatusCache(store turnero.RegistrationStore, c *turnero.Campaign) *statusCache {
	s, ok := store.(interface {
		turnero.StatusViewer
		turnero.ChangeStamper
	})
	if !ok {
		return nil
	}
	return &statusCache{
		store:    s,
		campaign: c,
		answers:  make(map[int64]cachedStatus),
		ring:     make([]int64, statusCacheEntries),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
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
	if stamp != c.stamp {
		clear(c.answers)
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
	clear(c.answers)
	c.stamp = ""
}

// get returns a cached answer and the stamp to store a fresh read under.
func (c *statusCache) get(seq int64) (Status, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.freshAt) > statusMaxAge {
		return Status{}, "", false
	}
	a, ok := c.answers[seq]
	if !ok {
		return Status{}, c.stamp, false
	}
	return c.status(seq, a), c.stamp, true
}

// put stores an answer built from a store read made while the stamp was
// stamp.
func (c *statusCache) put(st Status, stamp string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stamp == "" || stamp != c.stamp {
		return // something changed since the read began
	}
	c.insert(st)
}

// added records a registration just committed: it waits at the end of its
// group's line, with no appointments. maskedName and maskedDocument are what
// its answer shows.
func (c *statusCache) added(r turnero.Registration, maskedName, maskedDocument, documentType string) {
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
	st := Status{
		Status: r.Status, Sequence: r.Sequence, Position: r.GroupOrdinal - g.Cursor + g.Pending,
		MaskedName: maskedName, MaskedDocument: maskedDocument, DocumentType: documentType,
		ReceivedAt: r.ReceivedAt,
	}
	st.Group, _ = c.campaign.Group(r.Group)
	st.Department, _ = c.campaign.Department(r.Department)
	c.insert(st)
}

func (c *statusCache) insert(st Status) {
	seq := st.Sequence
	if _, ok := c.answers[seq]; !ok {
		if old := c.ring[c.next]; old != 0 {
			delete(c.answers, old)
		}
		c.ring[c.next] = seq
		c.next = (c.next + 1) % len(c.ring)
	}
	c.answers[seq] = c.compact(st)
}

// cachedStatus is a Status in little memory: the masked name and document in
// one string, the campaign's own strings for group, department and document
// type, and a view of its own only when there is more to show than the
// group's state (appointments, a last change).
type cachedStatus struct {
	masked       string // masked name, then masked document
	nameLen      int32
	status       string
	group        string
	department   string
	documentType string
	receivedAt   int64 // Unix nanoseconds
	position     int64
	view         *turnero.StatusView // nil: the group's shared view
}

func (c *statusCache) compact(st Status) cachedStatus {
	a := cachedStatus{
		masked: st.MaskedName + st.MaskedDocument, nameLen: int32(len(st.MaskedName)),
		status: st.Status, group: st.Group.ID, department: st.Department.Code,
		receivedAt: st.ReceivedAt.UnixNano(), position: st.Position,
		documentType: st.DocumentType,
	}
	if dt, ok := c.campaign.DocumentType(st.DocumentType); ok {
		a.documentType = dt.ID // the campaign's string, not a copy per answer
	}
	if v := st.View; v != nil && (len(v.Appointments) > 0 || v.LastChange != nil) {
		own := turnero.StatusView{Appointments: v.Appointments, Center: v.Center, Group: v.Group, LastChange: v.LastChange, Position: v.Position}
		a.view = &own
	}
	return a
}

// status rebuilds the answer; c.mu is held.
func (c *statusCache) status(seq int64, a cachedStatus) Status {
	st := Status{
		Status: a.status, Sequence: seq, Position: a.position,
		MaskedName: a.masked[:a.nameLen], MaskedDocument: a.masked[a.nameLen:], DocumentType: a.documentType,
		ReceivedAt: time.Unix(0, a.receivedAt), View: a.view,
	}
	st.Group, _ = c.campaign.Group(a.group)
	st.Department, _ = c.campaign.Department(a.department)
	if st.View == nil {
		st.View = c.groups[a.group]
		if st.View == nil {
			st.View = &noGroupState
		}
	}
	return st
}

// noGroupState is the view of a group never opened.
var noGroupState turnero.StatusView
