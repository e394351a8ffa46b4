package status_test

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
	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/status"
	"github.com/turnero/turnero/internal/turnero"
)

// Status answers are cached; a change made elsewhere (another process on
// the same data, here the store used directly) shows within the poll
// interval, and one reported with Changed shows at once.
func TestStatusCacheFollowsChanges(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "turnero.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, keys := campaign.Sample(), keyring(t)
	st := status.New(c, keys, db, nil)
	st.Start()
	defer st.Close()
	in, err := intake.New(intake.DefaultConfig, c, keys, db, st, turnero.SystemClock{}, nil, log)
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
		a, err := st.ByCode(ctx, rc.TrackingCode)
		if err != nil {
			t.Fatal(err)
		}
		if a.Sequence != rc.Sequence || a.Position != 1 {
			t.Fatalf("status %+v, want sequence %d at position 1", a, rc.Sequence)
		}
		return a.GroupOpen
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
	st.Changed()
	if groupOpen() {
		t.Fatal("after Changed the status still shows the group open")
	}
}

func keyring(t *testing.T) *pii.Keyring {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys")
	if err := pii.WriteKeyFile(path, "k1"); err != nil {
		t.Fatal(err)
	}
	k, err := pii.LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
