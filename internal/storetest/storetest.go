// Package storetest is the contract every storage engine of turnero must
// pass. Engines call Run from their own tests with a function that opens a
// fresh, empty store; the same assertions then hold for SQLite and
// PostgreSQL: registrations (idempotency, sequence order, positions),
// allocation (no overbooking, both doses or neither, one booking per person,
// version-checked commits, also from two stores on one database), the
// outbox and its work queue, the feed, the status view and the change
// stamp. It tests storage only: the allocator's choices (which vaccine,
// which center, in what order) are package allocate's, on both engines too.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// Store is what the contract exercises: a whole storage engine.
type Store = turnero.Store

// Opener opens a store on a fresh, empty database, closed when the test
// ends. It returns with it a function that opens another store on the same
// database with connections of its own, closed when the test ends too: as
// another process would on SQLite, another node on PostgreSQL.
type Opener func(t *testing.T) (Store, func(t *testing.T) Store)

// Run runs the whole contract.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"SequencesIncreaseInOrder", testSequences},
		{"DuplicateGetsSameRegistration", testDuplicate},
		{"SameDocumentOtherBirthDateConflicts", testIdentityClash},
		{"DuplicateWithinOneBatch", testDuplicateInBatch},
		{"ConcurrentBatchesOfSamePerson", testConcurrentSamePerson},
		{"ReadsBySequenceAndDocument", testReads},
		{"WaitingPosition", testPosition},
		{"GroupOrdinalsPerGroup", testGroupOrdinals},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
	runPrimitives(t, open)
	runAllocation(t, open)
	runOutbox(t, open)
	runFeed(t, open)
	runStatus(t, open)
	runDeployment(t, open)
	runAudit(t, open)
	runTokens(t, open)
}

// fresh opens a store on a fresh database.
func fresh(t *testing.T, open Opener) Store {
	t.Helper()
	s, _ := open(t)
	return s
}

// NewRegistration returns a registration of the synthetic person i with
// birth date b (hashes stand in for the keyed ones intake computes).
func NewRegistration(i int, birth string, group string) turnero.NewRegistration {
	doc := sha256.Sum256([]byte(fmt.Sprintf("doc-%d", i)))
	id := sha256.Sum256([]byte(fmt.Sprintf("doc-%d|%s", i, birth)))
	return turnero.NewRegistration{
		DocumentHash: doc[:16],
		IdentityHash: id[:16],
		Group:        group,
		Department:   "UY-MO",
		Age:          60,
		Channel:      "web",
		KeyID:        "k1",
		Sealed:       []byte(fmt.Sprintf("sealed-%d", i)),
		ReceivedAt:   time.UnixMilli(1_700_000_000_000 + int64(i)).UTC(),
	}
}

func insert(t *testing.T, s turnero.RegistrationStore, batch ...turnero.NewRegistration) []turnero.InsertOutcome {
	t.Helper()
	out, err := s.InsertRegistrations(context.Background(), batch)
	if err != nil {
		t.Fatalf("InsertRegistrations: %v", err)
	}
	if len(out) != len(batch) {
		t.Fatalf("got %d outcomes for %d registrations", len(out), len(batch))
	}
	return out
}

func testSequences(t *testing.T, open Opener) {
	s := fresh(t, open)
	var last int64
	for b := 0; b < 5; b++ {
		batch := make([]turnero.NewRegistration, 7)
		for i := range batch {
			batch[i] = NewRegistration(b*100+i, "1960-01-01", "g1")
		}
		for _, o := range insert(t, s, batch...) {
			if o.Err != nil || o.Duplicate {
				t.Fatalf("new registration: err %v duplicate %v", o.Err, o.Duplicate)
			}
			if o.Registration.Sequence <= last {
				t.Fatalf("sequence %d after %d: must increase", o.Registration.Sequence, last)
			}
			last = o.Registration.Sequence
			if o.Registration.Status != turnero.StatusWaiting {
				t.Fatalf("status %q, want waiting", o.Registration.Status)
			}
		}
	}
}

func testDuplicate(t *testing.T, open Opener) {
	s := fresh(t, open)
	first := insert(t, s, NewRegistration(1, "1960-01-01", "g1"))[0]
	insert(t, s, NewRegistration(2, "1960-01-01", "g1"))
	again := insert(t, s, NewRegistration(1, "1960-01-01", "g1"))[0]
	if !again.Duplicate || again.Err != nil {
		t.Fatalf("same person again: duplicate=%v err=%v, want duplicate", again.Duplicate, again.Err)
	}
	if again.Registration.Sequence != first.Registration.Sequence {
		t.Fatalf("duplicate got sequence %d, first had %d", again.Registration.Sequence, first.Registration.Sequence)
	}
}

func testIdentityClash(t *testing.T, open Opener) {
	s := fresh(t, open)
	insert(t, s, NewRegistration(1, "1960-01-01", "g1"))
	o := insert(t, s, NewRegistration(1, "1961-01-01", "g1"))[0]
	if !errors.Is(o.Err, turnero.ErrIdentityClash) {
		t.Fatalf("same document, other birth date: err %v, want identity clash", o.Err)
	}
	if o.Registration.Sequence != 0 {
		t.Fatalf("a clash must not reveal the existing registration, got sequence %d", o.Registration.Sequence)
	}
}

func testDuplicateInBatch(t *testing.T, open Opener) {
	s := fresh(t, open)
	out := insert(t, s, NewRegistration(1, "1960-01-01", "g1"), NewRegistration(2, "1960-01-01", "g1"),
		NewRegistration(1, "1960-01-01", "g1"), NewRegistration(1, "1970-01-01", "g1"))
	if out[0].Duplicate || out[1].Duplicate || !out[2].Duplicate {
		t.Fatalf("duplicates in a batch: %+v", out)
	}
	if out[2].Registration.Sequence != out[0].Registration.Sequence {
		t.Fatalf("in-batch duplicate got %d, want %d", out[2].Registration.Sequence, out[0].Registration.Sequence)
	}
	if !errors.Is(out[3].Err, turnero.ErrIdentityClash) {
		t.Fatalf("in-batch clash: %v", out[3].Err)
	}
}

func testConcurrentSamePerson(t *testing.T, open Opener) {
	s := fresh(t, open)
	const n = 16
	seqs := make([]int64, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := s.InsertRegistrations(context.Background(), []turnero.NewRegistration{NewRegistration(7, "1960-01-01", "g1")})
			if err != nil {
				t.Errorf("insert: %v", err)
				return
			}
			seqs[i] = out[0].Registration.Sequence
		}()
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if seqs[i] != seqs[0] || seqs[0] == 0 {
			t.Fatalf("concurrent submissions of one person got sequences %v, want one", seqs)
		}
	}
	// Exactly one place: the next new person comes right after it.
	o := insert(t, s, NewRegistration(8, "1960-01-01", "g1"))[0]
	if o.Registration.GroupOrdinal != 2 {
		t.Fatalf("next registration has group ordinal %d, want 2 (one registration before it)", o.Registration.GroupOrdinal)
	}
}

func testReads(t *testing.T, open Opener) {
	s := fresh(t, open)
	ctx := context.Background()
	nr := NewRegistration(3, "1960-01-01", "g2")
	o := insert(t, s, nr)[0]
	got, err := s.RegistrationBySequence(ctx, o.Registration.Sequence)
	if err != nil {
		t.Fatalf("by sequence: %v", err)
	}
	if !bytes.Equal(got.Sealed, nr.Sealed) || !bytes.Equal(got.DocumentHash, nr.DocumentHash) ||
		!bytes.Equal(got.IdentityHash, nr.IdentityHash) || got.Group != "g2" || got.KeyID != "k1" ||
		got.Department != nr.Department || got.Age != nr.Age || got.Channel != nr.Channel ||
		!got.ReceivedAt.Equal(nr.ReceivedAt) || got.GroupOrdinal != 1 {
		t.Fatalf("read back %+v, stored %+v", got, nr)
	}
	got2, err := s.RegistrationByDocument(ctx, nr.DocumentHash)
	if err != nil || got2.Sequence != o.Registration.Sequence {
		t.Fatalf("by document: %+v, %v", got2, err)
	}
	if _, err := s.RegistrationBySequence(ctx, o.Registration.Sequence+1000); !errors.Is(err, turnero.ErrNotFound) {
		t.Fatalf("unknown sequence: %v, want not found", err)
	}
	other := NewRegistration(99, "1960-01-01", "g2")
	if _, err := s.RegistrationByDocument(ctx, other.DocumentHash); !errors.Is(err, turnero.ErrNotFound) {
		t.Fatalf("unknown document: %v, want not found", err)
	}
}

func testPosition(t *testing.T, open Opener) {
	s := fresh(t, open)
	var batch []turnero.NewRegistration
	for i := 0; i < 10; i++ {
		g := "a"
		if i%2 == 1 {
			g = "b"
		}
		batch = append(batch, NewRegistration(i, "1960-01-01", g))
	}
	out := insert(t, s, batch...)
	for i, o := range out {
		pos, err := s.WaitingPosition(context.Background(), o.Registration.Group, o.Registration.GroupOrdinal)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(i/2 + 1); pos != want {
			t.Fatalf("registration %d of group %s: position %d, want %d", i, o.Registration.Group, pos, want)
		}
	}
}

func testGroupOrdinals(t *testing.T, open Opener) {
	s := fresh(t, open)
	a1 := insert(t, s, NewRegistration(1, "1960-01-01", "a"))[0]
	b1 := insert(t, s, NewRegistration(2, "1960-01-01", "b"))[0]
	a2 := insert(t, s, NewRegistration(3, "1960-01-01", "a"))[0]
	if a1.Registration.GroupOrdinal != 1 || b1.Registration.GroupOrdinal != 1 || a2.Registration.GroupOrdinal != 2 {
		t.Fatalf("group ordinals a1=%d b1=%d a2=%d, want 1 1 2",
			a1.Registration.GroupOrdinal, b1.Registration.GroupOrdinal, a2.Registration.GroupOrdinal)
	}
}
