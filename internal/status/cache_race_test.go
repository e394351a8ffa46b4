package status

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/turnero"
)

// gatedStamp holds ChangeStamp until released, after it has read.
type gatedStamp struct {
	*sqlite.DB
	entered, release chan struct{}
}

func (g *gatedStamp) ChangeStamp(ctx context.Context) (string, []turnero.GroupState, error) {
	stamp, groups, err := g.DB.ChangeStamp(ctx)
	if g.entered != nil {
		g.entered <- struct{}{}
		<-g.release
	}
	return stamp, groups, err
}

// A poll that read the stamp before a change was reported must not be taken:
// it would bring back the groups' states from before the change (a cursor
// not yet moved), and answers cached under it would show them until the
// next change.
func TestPollBeforeChangeIsNotTaken(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "turnero.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := &gatedStamp{DB: db, entered: make(chan struct{}), release: make(chan struct{})}
	c := newStatusCache(store, campaign.Sample())
	done := make(chan struct{})
	go func() { c.poll(); close(done) }()
	<-store.entered
	c.changed()
	close(store.release)
	<-done
	c.mu.Lock()
	stamp := c.stamp
	c.mu.Unlock()
	if stamp != "" {
		t.Fatalf("the cache took stamp %q, read before the change it was told of", stamp)
	}
	store.entered = nil
	c.poll()
	c.mu.Lock()
	stamp = c.stamp
	c.mu.Unlock()
	if stamp == "" {
		t.Fatal("the next poll was not taken")
	}
}
