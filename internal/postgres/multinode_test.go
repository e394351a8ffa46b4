package postgres_test

import (
	"context"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/postgres/pgtest"
)

// startNodes starts n real "turnero serve" processes on one fresh schema,
// sharing one key file.
func startNodes(t *testing.T, n int) []*node {
	t.Helper()
	db, keys := pgtest.URL(t), keyFile(t)
	nodes := make([]*node, n)
	for i := range nodes {
		nodes[i] = startNode(t, string(rune('A'+i)), db, keys)
	}
	return nodes
}

// TestNodesSamePersonOnce: the same person submitted at the same moment to
// three nodes, twice to each, gets exactly one registration: one 202, and
// 200 with the same code and sequence for the five others.
func TestNodesSamePersonOnce(t *testing.T) {
	pgtest.BaseURL(t)
	t.Parallel()
	nodes := startNodes(t, 3)
	c := newClient()
	const people, perNode = 40, 2
	replies := make([][]reply, people)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for p := range people {
		replies[p] = make([]reply, len(nodes)*perNode)
		for k := range replies[p] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				replies[p][k] = register(c, nodes[k%len(nodes)], k%len(nodes), p)
			}()
		}
	}
	close(start)
	wg.Wait()
	for p, rs := range replies {
		created := 0
		for _, r := range rs {
			if r.err != nil {
				t.Fatalf("person %d on node %d: %v", p, r.node, r.err)
			}
			switch r.status {
			case http.StatusAccepted:
				created++
				if r.duplicate {
					t.Errorf("person %d: 202 marked duplicate", p)
				}
			case http.StatusOK:
				if !r.duplicate {
					t.Errorf("person %d: 200 not marked duplicate", p)
				}
			default:
				t.Fatalf("person %d on node %d: status %d", p, r.node, r.status)
			}
			if r.code != rs[0].code || r.sequence != rs[0].sequence {
				t.Fatalf("person %d got two places: %s/%d on node %d and %s/%d on node %d",
					p, rs[0].code, rs[0].sequence, rs[0].node, r.code, r.sequence, r.node)
			}
		}
		if created != 1 {
			t.Fatalf("person %d: %d answers 202 across nodes, want exactly 1", p, created)
		}
	}
	var all []reply
	for _, rs := range replies {
		all = append(all, rs...)
	}
	checkAcknowledged(t, c, all, nodes...)
}

// TestNodesSequences: sequences are unique across nodes, increase in the
// order in which registrations are acknowledged whichever node took them, and
// have no gaps; every acknowledged code reads back from every node.
func TestNodesSequences(t *testing.T) {
	pgtest.BaseURL(t)
	t.Parallel()
	nodes := startNodes(t, 3)
	c := newClient()

	// One after another, each on the next node: each answer comes before the
	// next request, so each sequence must exceed the one before.
	var last int64
	var all []reply
	for i := range 30 {
		r := register(c, nodes[i%3], i%3, i)
		if r.err != nil || r.status != http.StatusAccepted {
			t.Fatalf("person %d on node %d: %d %v", i, i%3, r.status, r.err)
		}
		if r.sequence <= last {
			t.Fatalf("node %d acknowledged sequence %d after sequence %d was acknowledged", i%3, r.sequence, last)
		}
		last = r.sequence
		all = append(all, r)
	}

	// Many at once, spread over the nodes.
	const people, workers = 900, 60
	jobs := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				r := register(c, nodes[i%3], i%3, i)
				mu.Lock()
				all = append(all, r)
				mu.Unlock()
			}
		}()
	}
	for i := 30; i < 30+people; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	seqs := map[int64]bool{}
	for _, r := range all {
		if r.err != nil || r.status != http.StatusAccepted {
			t.Fatalf("person %d on node %d: %d %v", r.person, r.node, r.status, r.err)
		}
		seqs[r.sequence] = true
	}
	for s := int64(1); s <= 30+people; s++ {
		if !seqs[s] {
			t.Fatalf("sequence %d missing: %d registrations must have sequences 1..%d", s, 30+people, 30+people)
		}
	}
	checkAcknowledged(t, c, all, nodes...)
}

// TestNodeWithOtherKeyFileRefused: a node started on a database with another
// key file than the nodes already there would not recognise their people
// (they could register again) nor read their codes; it must refuse to start,
// naming the setting.
func TestNodeWithOtherKeyFileRefused(t *testing.T) {
	pgtest.BaseURL(t)
	t.Parallel()
	db := pgtest.URL(t)
	a := startNode(t, "A", db, keyFile(t))
	if r := register(newClient(), a, 0, 1); r.err != nil || r.status != http.StatusAccepted {
		t.Fatalf("register on A: %d %v", r.status, r.err)
	}
	// Bounded: a node that wrongly starts would serve until killed.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, turneroBinary(t), "serve", "--addr", "127.0.0.1:0", "--db", db,
		"--key-file", keyFile(t)).CombinedOutput()
	if err == nil {
		t.Fatalf("a node with another key file started:\n%s", out)
	}
	if !strings.Contains(string(out), "setting key-file") {
		t.Fatalf("the refusal does not name the setting:\n%s", out)
	}
}
