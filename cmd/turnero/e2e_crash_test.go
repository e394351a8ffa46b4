package main

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/loadtest"
)

// sample returns up to n entries of m, chosen at random.
func sample(rng *rand.Rand, m map[string]int64, n int) map[string]int64 {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // map order is random but not seeded: keep runs reproducible
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	out := make(map[string]int64, n)
	for _, k := range keys[:min(n, len(keys))] {
		out[k] = m[k]
	}
	return out
}

// TestE2ECrashSafety kills the server with SIGKILL in the middle of a load of
// concurrent registrations, several times on the same data directory. Every
// registration the server acknowledged must be there after the restart, with
// the sequence it was given; no sequence may be acknowledged for two codes;
// and registrations after a restart must be placed after every acknowledged
// one.
func TestE2ECrashSafety(t *testing.T) {
	const (
		rounds  = 3
		workers = 50
	)
	seed := time.Now().UnixNano()
	t.Logf("seed %d (synthetic people and kill points)", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	data := t.TempDir()
	client := newClient(workers, 30*time.Second)
	defer client.CloseIdleConnections()

	acked := newLedger()
	var next atomic.Int64 // next synthetic person, across rounds
	var lastRound map[string]int64
	byPerson := map[int]string{} // acknowledged people → their code
	var inFlightAtKill []int     // people whose request had no answer when the server died
	var logs []string
	for round := 1; round <= rounds; round++ {
		t0 := time.Now()
		srv := startServer(t, data)
		t1 := time.Now()
		if lastRound != nil {
			// The registrations at risk are those of the round just killed:
			// a sample of them now, all of every round after the last crash.
			checkPresent(t, client, srv.url, sample(rng, lastRound, 500))
		}
		t2 := time.Now()
		before := acked.max
		killAfter := int64(1000 + rng.IntN(1500))
		var (
			killOnce sync.Once
			killed   atomic.Bool
			killedAt time.Time
		)
		outs := load{client: client, srv: srv, seed: seed, next: &next, workers: workers,
			onReply: func(o outcome, acks int64) bool {
				if acks >= killAfter {
					killOnce.Do(func() {
						killedAt = time.Now()
						killed.Store(true)
						srv.cmd.Process.Signal(syscall.SIGKILL)
					})
				}
				return !killed.Load()
			}}.run()
		if !srv.waitExit(10 * time.Second) {
			t.Fatalf("round %d: the server did not die after SIGKILL", round)
		}
		logs = append(logs, srv.stderr.String())
		if !killed.Load() {
			t.Fatalf("round %d: the load ended before %d acknowledgements (server exited: %v)\nstderr:\n%s",
				round, killAfter, srv.exited(), srv.stderr.String())
		}
		if !srv.killedBy(syscall.SIGKILL) {
			t.Fatalf("round %d: the server ended with status %d before it was killed\nstderr:\n%s", round, srv.exitCode(), srv.stderr.String())
		}

		lastRound = map[string]int64{}
		for _, o := range outs {
			switch {
			case o.err != nil:
				if o.end.Before(killedAt) {
					t.Errorf("round %d: person %d: %v before the kill", round, o.person, o.err)
				}
				inFlightAtKill = append(inFlightAtKill, o.person)
			case o.status == http.StatusAccepted:
				var rc receiptJSON
				if err := json.Unmarshal(o.body, &rc); err != nil {
					t.Fatalf("round %d: 202 with body %q", round, o.body)
				}
				if err := acked.add(rc.TrackingCode, rc.Sequence); err != nil {
					t.Errorf("round %d: %v", round, err)
				}
				if rc.Sequence <= before {
					t.Errorf("round %d: new registration got sequence %d, not above %d acknowledged before the restart", round, rc.Sequence, before)
				}
				if rc.Duplicate || rc.Status != "waiting" {
					t.Errorf("round %d: receipt of a new person %+v", round, rc)
				}
				lastRound[rc.TrackingCode] = rc.Sequence
				byPerson[o.person] = rc.TrackingCode
			default:
				t.Errorf("round %d: person %d answered %s, want 202", round, o.person, o.reply)
			}
		}
		t.Logf("round %d: killed after %d acknowledgements (%d requests in flight); %d acknowledged in all; start %s, check %s, load %s",
			round, len(lastRound), len(outs)-len(lastRound), len(acked.seqOf),
			t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond), time.Since(t2).Round(time.Millisecond))
		if t.Failed() {
			return
		}
	}

	t0 := time.Now()
	srv := startServer(t, data)
	checkPresent(t, client, srv.url, acked.seqOf)
	t.Logf("final restart and check of %d registrations: %s", len(acked.seqOf), time.Since(t0).Round(time.Millisecond))

	// The people whose answer was lost in a crash retry: they get one place,
	// either their first (recorded before the crash) or a new one after every
	// acknowledged place; never someone else's.
	for _, i := range inFlightAtKill {
		r := register(client, srv.url, loadtest.Person(seed, i), "")
		switch r.status {
		case http.StatusOK, http.StatusAccepted:
			rc := decode[receiptJSON](t, r)
			if c, ok := acked.codeOf[rc.Sequence]; ok {
				t.Errorf("person %d, unanswered at a crash, retried and got sequence %d of %s", i, rc.Sequence, c)
			}
			if r.status == http.StatusAccepted && rc.Sequence <= acked.max {
				t.Errorf("person %d retried after the crash and got sequence %d, not above %d", i, rc.Sequence, acked.max)
			}
		default:
			t.Errorf("person %d retried after the crash: %s", i, r)
		}
	}
	// People acknowledged before a crash who register again keep their place.
	checked := 0
	for i, code := range byPerson {
		if checked == 20 {
			break
		}
		checked++
		r := register(client, srv.url, loadtest.Person(seed, i), "")
		if rc := decode[receiptJSON](t, r); r.status != http.StatusOK || !rc.Duplicate || rc.TrackingCode != code || rc.Sequence != acked.seqOf[code] {
			t.Errorf("person %d, acknowledged with %s/%d before a crash, registered again: %s", i, code, acked.seqOf[code], r)
		}
	}
	for k := 0; k < 20; k++ {
		i := int(next.Add(1) - 1)
		r := register(client, srv.url, loadtest.Person(seed, i), "")
		if r.status != http.StatusAccepted {
			t.Fatalf("new person after the restarts: %s", r)
		}
		if rc := decode[receiptJSON](t, r); rc.Sequence <= acked.max {
			t.Errorf("new person after the restarts got sequence %d, not above %d", rc.Sequence, acked.max)
		}
	}
	srv.stop(t, 30*time.Second)
	logs = append(logs, srv.stderr.String())
	sent := people(seed, int(next.Load()))
	for _, l := range logs {
		assertNoPersonalData(t, "the server's log", l, sent)
	}
}
