package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/postgres/pgtest"
)

// TestNodesAllocatorTakeover: two real nodes on one database allocate on
// one node only; when that node is killed with SIGKILL, the other takes the
// allocation over within seconds: people who register afterwards, on the
// survivor, get their appointments. Nobody is booked twice and the slots'
// counts are the appointments stored.
func TestNodesAllocatorTakeover(t *testing.T) {
	pgtest.BaseURL(t)
	t.Parallel()
	db, keys := pgtest.URL(t), keyFile(t)
	var b [16]byte
	rand.Read(b[:])
	token := "admin-" + hex.EncodeToString(b[:])
	env := []string{"TURNERO_ADMIN_TOKEN=" + token}
	nodes := []*node{
		startNodeWith(t, "A", db, keys, env, "--allocate-every", "300ms"),
		startNodeWith(t, "B", db, keys, env, "--allocate-every", "300ms"),
	}
	c := newClient()
	for _, g := range adminGroups(t, c, nodes[0], token) {
		adminPost(t, c, nodes[g.index%2], token, "/v1/admin/groups/"+g.id+"/open")
	}

	// Exactly one node leads the allocation.
	leader, follower := waitLeader(t, nodes, 20*time.Second)
	time.Sleep(500 * time.Millisecond)
	if n := leading(follower); n != 0 {
		t.Fatalf("both nodes lead the allocation:\n%s\n%s", leader.log(), follower.log())
	}

	// People registered on either node get appointments.
	before := registerAll(t, c, nodes, 0, 20)
	waitScheduled(t, c, follower, before, 30*time.Second)

	leader.kill()
	killed := time.Now()
	after := registerAll(t, c, []*node{follower}, 100, 20)
	waitScheduled(t, c, follower, after, 30*time.Second)
	took := time.Since(killed)
	if leading(follower) == 0 {
		t.Fatalf("people were scheduled after the leader died, but node %s never led:\n%s", follower.name, follower.log())
	}
	if took > 20*time.Second {
		t.Errorf("allocation taken over %s after the leader was killed, want within seconds", took)
	}
	t.Logf("node %s killed; node %s scheduled the 20 people registered after it within %s", leader.name, follower.name,
		took.Round(100*time.Millisecond))

	// What is stored agrees: one booking per person, every dose counted in
	// its slot, no slot over its capacity.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var bookings, people, doses, booked, over int64
	err = conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT sequence), count(*) + count(dose2_start) FROM bookings`).
		Scan(&bookings, &people, &doses)
	if err == nil {
		err = conn.QueryRow(ctx, `SELECT COALESCE(sum(booked), 0), count(*) FILTER (WHERE booked > capacity) FROM slots`).Scan(&booked, &over)
	}
	if err != nil {
		t.Fatal(err)
	}
	if bookings != 40 || people != 40 || doses != booked || over != 0 {
		t.Fatalf("%d bookings of %d people, %d doses, %d booked in slots, %d slots over capacity; want 40, 40, doses = booked, 0",
			bookings, people, doses, booked, over)
	}
}

type groupRef struct {
	id    string
	index int
}

// adminGroups lists the campaign's groups through the admin API.
func adminGroups(t *testing.T, c *http.Client, n *node, token string) []groupRef {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, n.url+"/v1/admin/groups", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Groups []struct {
			Group string `json:"group"`
		} `json:"groups"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list groups on %s: status %d", n.name, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	var out []groupRef
	for i, g := range body.Groups {
		out = append(out, groupRef{g.Group, i})
	}
	if len(out) == 0 {
		t.Fatal("the campaign has no groups")
	}
	return out
}

func adminPost(t *testing.T, c *http.Client, n *node, token, path string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, n.url+path, bytes.NewReader(nil))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s on %s: status %d", path, n.name, resp.StatusCode)
	}
}

// leading counts the times a node logged that it leads the allocation.
func leading(n *node) int {
	return strings.Count(n.log(), `"msg":"leading"`)
}

func waitLeader(t *testing.T, nodes []*node, d time.Duration) (leader, follower *node) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for i, n := range nodes {
			if leading(n) > 0 {
				return n, nodes[1-i]
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no node leads the allocation after %s:\n%s\n%s", d, nodes[0].log(), nodes[1].log())
	return nil, nil
}

// registerAll registers people first..first+n-1 on the nodes in turn and
// returns their tracking codes.
func registerAll(t *testing.T, c *http.Client, nodes []*node, first, n int) []string {
	t.Helper()
	codes := make([]string, 0, n)
	for i := first; i < first+n; i++ {
		k := i % len(nodes)
		r := register(c, nodes[k], k, i)
		if r.err != nil || r.status != http.StatusAccepted {
			t.Fatalf("person %d on node %s: %d %v", i, nodes[k].name, r.status, r.err)
		}
		codes = append(codes, r.code)
	}
	return codes
}

// waitScheduled waits until every code has its appointments, as a node
// answers its status.
func waitScheduled(t *testing.T, c *http.Client, n *node, codes []string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	left := codes
	for {
		var still []string
		for _, code := range left {
			k, err := appointmentsOf(c, n, code)
			if err != nil {
				t.Fatalf("status of %s on %s: %v", code, n.name, err)
			}
			if k == 0 {
				still = append(still, code)
			}
		}
		if left = still; len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d people without appointments after %s; node %s:\n%s", len(left), len(codes), d, n.name, n.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func appointmentsOf(c *http.Client, n *node, code string) (int, error) {
	resp, err := c.Get(n.url + "/v1/registrations/" + code)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	var body struct {
		Appointments []json.RawMessage `json:"appointments"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, err
	}
	return len(body.Appointments), nil
}
