package postgres_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/turnero/turnero/internal/postgres/pgtest"
	"github.com/turnero/turnero/internal/storetest"
	"github.com/turnero/turnero/internal/turnero"
)

// TestTwoEnginesOneDatabase is the cross-node contract in one process: two
// engines (two nodes' pools) on one schema, writing overlapping batches at the
// same time. Each person gets exactly one registration, the other submissions
// are duplicates with the same sequence or clashes, and the sequences are
// 1..N with no gap and no repeat. The real multi-process tests are in
// multinode_test.go.
func TestTwoEnginesOneDatabase(t *testing.T) {
	pgtest.BaseURL(t)
	t.Parallel()
	url := pgtest.URL(t)
	nodes := []*struct {
		outs  map[int][]turnero.InsertOutcome
		store turnero.RegistrationStore
	}{{store: openDB(t, url)}, {store: openDB(t, url)}}
	const people, batchSize = 600, 40
	var wg sync.WaitGroup
	for n, node := range nodes {
		node.outs = map[int][]turnero.InsertOutcome{}
		order := rand.Perm(people)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := 0; start < people; start += batchSize {
				ids := order[start : start+batchSize]
				batch := make([]turnero.NewRegistration, len(ids))
				for i, id := range ids {
					birth := "1960-01-01"
					if n == 1 && id%50 == 0 {
						birth = "1970-01-01" // same document, someone else
					}
					batch[i] = storetest.NewRegistration(id, birth, []string{"a", "b"}[id%2])
				}
				out, err := node.store.InsertRegistrations(context.Background(), batch)
				if err != nil {
					t.Errorf("node %d: %v", n, err)
					return
				}
				for i, id := range ids {
					node.outs[id] = append(node.outs[id], out[i])
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	seqs := map[int64]int{}
	ordinals := map[string]map[int64]bool{"a": {}, "b": {}}
	for id := range people {
		var fresh []turnero.InsertOutcome
		var all []turnero.InsertOutcome
		for _, node := range nodes {
			all = append(all, node.outs[id]...)
		}
		for _, o := range all {
			if o.Err == nil && !o.Duplicate {
				fresh = append(fresh, o)
			}
		}
		if len(fresh) != 1 {
			t.Fatalf("person %d: %d new registrations across nodes, want 1: %+v", id, len(fresh), all)
		}
		r := fresh[0].Registration
		for _, o := range all {
			switch {
			case o.Err != nil:
				if !errors.Is(o.Err, turnero.ErrIdentityClash) || id%50 != 0 {
					t.Fatalf("person %d: unexpected %v", id, o.Err)
				}
			case o.Registration.Sequence != r.Sequence:
				t.Fatalf("person %d: sequences %d and %d", id, o.Registration.Sequence, r.Sequence)
			}
		}
		if other, ok := seqs[r.Sequence]; ok {
			t.Fatalf("sequence %d given to persons %d and %d", r.Sequence, other, id)
		}
		seqs[r.Sequence] = id
		if ordinals[r.Group][r.GroupOrdinal] {
			t.Fatalf("group %s ordinal %d given twice", r.Group, r.GroupOrdinal)
		}
		ordinals[r.Group][r.GroupOrdinal] = true
	}
	for s := int64(1); s <= people; s++ {
		if _, ok := seqs[s]; !ok {
			t.Fatalf("sequence %d missing: sequences must be 1..%d", s, people)
		}
	}
}
