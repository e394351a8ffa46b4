package intake_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/intake"
	"github.com/turnero/turnero/internal/loadtest"
	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/turnero"
)

// Status answers are cached; a change made elsewhere (another process on
// the same data, here the store used directly) shows within the poll
// interval, and one reported with StatusChanged shows at once.
func TestStatusCacheFollowsChanges(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "turnero.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in, err := intake.New(intake.DefaultConfig, campaign.Sample(), keyring(t, "keys"), db, turnero.SystemClock{}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	in.Start()
	defer in.Close()

	p := loadtest.Person(5, 0)
	rc, err := in.Register(ctx, &p)
	if err != nil {
		t.Fatal(err)
	}
	groupOpen := func() bool {
		st, err := in.StatusByCode(ctx, rc.TrackingCode)
		if err != nil {
			t.Fatal(err)
		}
		if st.Sequence != rc.Sequence || st.View == nil || st.Position != 1 {
			t.Fatalf("status %+v, want sequence %d at position 1 with a view", st, rc.Sequence)
		}
		return st.View.Group.Open
	}
	if groupOpen() {
		t.Fatal("group open before anyone opened it")
	}
	if _, err := db.SetGroupOpen(ctx, rc.Group, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !groupOpen() {
		if time.Now().After(deadline) {
			t.Fatal("a group opened by another process never showed in the status")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := db.SetGroupOpen(ctx, rc.Group, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	in.StatusChanged()
	if groupOpen() {
		t.Fatal("after StatusChanged the status still shows the group open")
	}
}
