package postgres_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/postgres/pgtest"
)

// TestNodeKilledMidLoad: two nodes take registrations; one is killed with
// SIGKILL in the middle and started again. Every registration either node
// acknowledged is then present, from both, with its sequence; people whose
// request died with the node can register on the other and get one place.
func TestNodeKilledMidLoad(t *testing.T) {
	pgtest.BaseURL(t)
	t.Parallel()
	db, keys := pgtest.URL(t), keyFile(t)
	var mu sync.Mutex
	nodes := []*node{startNode(t, "A", db, keys), startNode(t, "B", db, keys)}
	current := func() []*node { mu.Lock(); defer mu.Unlock(); return nodes }
	c := newClient()

	l := startLoad(c, current, 24, 0)
	waitUntil(t, 20*time.Second, "registrations before the kill", func() bool {
		return l.count(func(r reply) bool { return r.acknowledged() }) >= 300
	})
	nodes[0].kill()
	killedAt := time.Now()
	waitUntil(t, 20*time.Second, "registrations on B after the kill", func() bool {
		return l.count(func(r reply) bool { return r.node == 1 && r.acknowledged() && r.at.After(killedAt) }) >= 200
	})
	restarted := startNode(t, "A2", db, keys)
	mu.Lock()
	nodes = []*node{restarted, nodes[1]}
	mu.Unlock()
	restartedAt := time.Now()
	waitUntil(t, 20*time.Second, "registrations on the restarted node", func() bool {
		return l.count(func(r reply) bool { return r.node == 0 && r.acknowledged() && r.at.After(restartedAt) }) >= 100
	})
	replies := l.finish()

	var lost []reply
	for _, r := range replies {
		switch {
		case r.acknowledged():
		case r.node == 0 && r.err != nil:
			lost = append(lost, r) // died with node A: not acknowledged
		default:
			t.Fatalf("person %d on node %d: status %d, %v", r.person, r.node, r.status, r.err)
		}
	}
	t.Logf("%d requests died with the killed node", len(lost))
	checkAcknowledged(t, c, replies, nodes...)

	// Their retries get one place each: 202 if the batch died uncommitted,
	// 200 with the registration if it had committed.
	for _, r := range lost {
		again := register(c, nodes[1], 1, r.person)
		if again.err != nil || (again.status != http.StatusAccepted && again.status != http.StatusOK) {
			t.Fatalf("retry of person %d: %d %v", r.person, again.status, again.err)
		}
		replies = append(replies, again)
	}
	checkAcknowledged(t, c, replies, nodes...)
}

// TestPostgresRestartMidLoad stops PostgreSQL under load and starts it again.
// During the outage the nodes answer 503 with Retry-After (never a hang or a
// dropped connection) and /readyz says 503; afterwards they recover by
// themselves, and every registration acknowledged before, during or after is
// present with its sequence.
//
// It stops the server between "stop" and "start" rather than with one
// "restart" so that the outage lasts long enough to be observed. It holds the
// test server exclusively (pgtest.Exclusive), so PostgreSQL tests of other
// packages wait, and starts PostgreSQL again however it ends.
func TestPostgresRestartMidLoad(t *testing.T) {
	pgtest.BaseURL(t)
	ctl := postgresControl(t)
	pgtest.Exclusive(t)
	db, keys := pgtest.URL(t), keyFile(t)
	nodes := []*node{startNode(t, "A", db, keys), startNode(t, "B", db, keys)}
	t.Cleanup(func() { ctl("start") }) // runs first: the schema is dropped after
	c := newClient()

	l := startLoad(c, func() []*node { return nodes }, 24, 0)
	waitUntil(t, 20*time.Second, "registrations before the outage", func() bool {
		return l.count(func(r reply) bool { return r.acknowledged() }) >= 300
	})
	if out, err := ctl("stop"); err != nil {
		t.Fatalf("stop PostgreSQL: %v\n%s", err, out)
	}
	stoppedAt := time.Now()
	for i, n := range nodes {
		waitUntil(t, 15*time.Second, fmt.Sprintf("node %s /readyz to answer 503", n.name), func() bool {
			return readyz(c, n) == http.StatusServiceUnavailable
		})
		waitUntil(t, 15*time.Second, fmt.Sprintf("node %s to answer registrations 503", n.name), func() bool {
			return l.count(func(r reply) bool {
				return r.node == i && r.status == http.StatusServiceUnavailable && r.at.After(stoppedAt)
			}) >= 10
		})
	}
	if out, err := ctl("start"); err != nil {
		t.Fatalf("start PostgreSQL: %v\n%s", err, out)
	}
	startedAt := time.Now()
	for i, n := range nodes {
		waitUntil(t, 30*time.Second, fmt.Sprintf("node %s /readyz to answer 200", n.name), func() bool {
			return readyz(c, n) == http.StatusOK
		})
		waitUntil(t, 30*time.Second, fmt.Sprintf("node %s to acknowledge registrations again", n.name), func() bool {
			return l.count(func(r reply) bool { return r.node == i && r.acknowledged() && r.at.After(startedAt) }) >= 100
		})
	}
	t.Logf("outage seen by the nodes from stop to recovery: %s", time.Since(stoppedAt).Round(time.Millisecond))
	replies := l.finish()

	var refused []reply
	var slowest time.Duration
	for _, r := range replies {
		slowest = max(slowest, r.took)
		switch {
		case r.err != nil:
			t.Fatalf("person %d on node %d: transport error %v (a node must answer, not drop or hang)", r.person, r.node, r.err)
		case r.acknowledged():
		case r.status == http.StatusServiceUnavailable:
			if r.retryAfter == "" {
				t.Fatalf("person %d on node %d: 503 without Retry-After", r.person, r.node)
			}
			refused = append(refused, r)
		default:
			t.Fatalf("person %d on node %d: status %d", r.person, r.node, r.status)
		}
	}
	// The engine bounds a batch at 10 s; anything longer is a hang.
	if slowest > 12*time.Second {
		t.Errorf("slowest answer took %s", slowest)
	}
	t.Logf("%d requests, %d refused with 503 during the outage, slowest answer %s",
		len(replies), len(refused), slowest.Round(time.Millisecond))
	checkAcknowledged(t, c, replies, nodes...)

	// The refused try again and each gets one place.
	for _, r := range refused {
		again := register(c, nodes[r.node], r.node, r.person)
		if again.err != nil || (again.status != http.StatusAccepted && again.status != http.StatusOK) {
			t.Fatalf("retry of person %d after recovery: %d %v", r.person, again.status, again.err)
		}
		replies = append(replies, again)
	}
	checkAcknowledged(t, c, replies, nodes...)
}

// postgresControl returns a function that runs pg_ctlcluster on the local
// cluster (stop, start), or skips the test saying why it cannot.
func postgresControl(t *testing.T) func(action string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("pg_ctlcluster"); err != nil {
		t.Skip("PostgreSQL restart test SKIPPED: pg_ctlcluster not found; it restarts the local Debian cluster of " + pgtest.EnvURL)
	}
	if os.Geteuid() != 0 {
		t.Skip("PostgreSQL restart test SKIPPED: it must run as root to run pg_ctlcluster")
	}
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) != 1 {
		t.Skipf("PostgreSQL restart test SKIPPED: want exactly one cluster version in /etc/postgresql (%d, %v)", len(versions), err)
	}
	version := versions[0].Name()
	return func(action string) (string, error) {
		args := []string{"--skip-systemctl-redirect", version, "main", action}
		if action == "stop" {
			args = append(args, "-m", "fast")
		}
		out, err := exec.Command("pg_ctlcluster", args...).CombinedOutput()
		if action == "start" && err != nil && strings.Contains(string(out), "already running") {
			err = nil
		}
		if action == "start" && err == nil {
			waitReady(pgtest.BaseURL(t))
		}
		return string(out), err
	}
}

func waitReady(url string) {
	for range 60 {
		if exec.Command("pg_isready", "-q", "-d", url).Run() == nil {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
