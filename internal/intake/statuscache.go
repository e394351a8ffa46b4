package intake

import (
	"context"
	"sync"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// Status answers are read far more often than they change: people look at
// their place in line right after registering and again and again while they
// wait. statusCache keeps recent answers in memory so that a lookup does not
// cost a database query, with staleness bounded by the poll interval:
//   - a new registration's view is put in at once (write-through);
//   - a poller asks the store, every statusPollEvery, for its change stamp
//     (which moves with every booking, release, dose, no-show, cancellation,
//     center change and group opening, by this process or another); when it
//     moves, the cache is emptied;
//   - a change made through this process's API empties it at once
//     (Service.StatusChanged), so whoever made a change reads it back;
//   - if the poller has not succeeded for statusMaxAge, the cache is not used.
const (
	statusPollEvery    = 200 * time.Millisecond
	statusMaxAge       = time.Second
	statusCacheEntries = 70_000 // ~25 MB of answers
)

type statusCache struct {
	store interface {
		turnero.StatusViewer
		turnero.ChangeStamper
	}
	mu       sync.Mutex
	views    map[int64]cachedStatus
	ring     []int64 // insertion order, for eviction
	next     int
	stamp    string
	groups   map[string]turnero.GroupState
	freshAt  time.Time
	stop     chan struct{}
	done     chan struct{}
	started  sync.Once
	stopOnce sync.Once
	running  bool // guarded by mu
}

func newStatusCache(store turnero.RegistrationStore) *statusCache {
	s, ok := store.(interface {
		turnero.StatusViewer
		turnero.ChangeStamper
	})
	if !ok {
		return nil
	}
	return &statusCache{
		store: s,
		views: make(map[int64]cachedStatus),
		ring:  make([]int64, statusCacheEntries),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
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
	byGroup := make(map[string]turnero.GroupState, len(groups))
	for _, g := range groups {
		byGroup[g.Group] = g
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if stamp != c.stamp {
		clear(c.views)
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
	clear(c.views)
	c.stamp = ""
}

// get returns a cached view and the stamp to store a fresh read under.
func (c *statusCache) get(seq int64) (turnero.StatusView, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.freshAt) > statusMaxAge {
		return turnero.StatusView{}, "", false
	}
	v, ok := c.views[seq]
	if !ok {
		return turnero.StatusView{}, c.stamp, false
	}
	return v.view(), c.stamp, true
}

// put stores a view read from the store while the stamp was stamp.
func (c *statusCache) put(v turnero.StatusView, stamp string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stamp == "" || stamp != c.stamp {
		return // something changed since the read began
	}
	c.insert(v)
}

// added records a registration just committed: it waits at the end of its
// group's line, with no appointments.
func (c *statusCache) added(r turnero.Registration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stamp == "" || time.Since(c.freshAt) > statusMaxAge {
		return
	}
	g, ok := c.groups[r.Group]
	if !ok {
		g = turnero.GroupState{Group: r.Group}
	}
	if r.GroupOrdinal <= g.Cursor {
		return // not at the end of the line: let the store say where
	}
	v := turnero.StatusView{Registration: r, Group: g, Position: r.GroupOrdinal - g.Cursor + g.Pending}
	c.insert(v)
}

func (c *statusCache) insert(v turnero.StatusView) {
	seq := v.Registration.Sequence
	if _, ok := c.views[seq]; !ok {
		if old := c.ring[c.next]; old != 0 {
			delete(c.views, old)
		}
		c.ring[c.next] = seq
		c.next = (c.next + 1) % len(c.ring)
	}
	c.views[seq] = compact(v)
}

// cachedStatus is a StatusView without its center held inline: most cached
// answers are of people still waiting, and the center's fields would more
// than double the memory of each.
type cachedStatus struct {
	reg        turnero.Registration
	appts      []turnero.Appointment
	center     *turnero.Center
	group      turnero.GroupState
	lastChange *turnero.AppointmentEvent
	position   int64
}

func compact(v turnero.StatusView) cachedStatus {
	c := cachedStatus{reg: v.Registration, appts: v.Appointments, group: v.Group, lastChange: v.LastChange, position: v.Position}
	if v.Center.ID != "" {
		center := v.Center
		c.center = &center
	}
	return c
}

func (c cachedStatus) view() turnero.StatusView {
	v := turnero.StatusView{Registration: c.reg, Appointments: c.appts, Group: c.group, LastChange: c.lastChange, Position: c.position}
	if c.center != nil {
		v.Center = *c.center
	}
	return v
}
