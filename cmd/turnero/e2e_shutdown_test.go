package main

import (
	"bufio"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/loadtest"
)

// TestE2EGracefulShutdown sends SIGTERM to a server under concurrent load.
//
// What a client can observe, and so what is asserted:
//   - every answer is honest: 202 (recorded), or 503 with Retry-After saying
//     the request was not recorded;
//   - a request that the server was already reading when SIGTERM came (here,
//     one whose body was half sent) is answered, and its registration kept;
//   - a request that got no answer at all (its connection was refused or
//     closed before the server read it) was not recorded either: the same
//     person registering again after the restart is new (202), not a duplicate;
//     the same holds for every 503;
//   - the process exits 0 within its shutdown timeout, and after a restart
//     every acknowledged code is there with its sequence.
func TestE2EGracefulShutdown(t *testing.T) {
	const (
		workers         = 50
		shutdownTimeout = 10 * time.Second
	)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	data := t.TempDir()
	client := newClient(workers, 30*time.Second)
	defer client.CloseIdleConnections()

	srv := startServer(t, data, "--shutdown-timeout", shutdownTimeout.String())
	termAfter := int64(1000 + rng.IntN(1500))
	// The slow request is a person of its own, after every person of the load.
	slowPerson := loadtest.Person(seed, 1_000_000)
	var (
		next        atomic.Int64
		slowOnce    sync.Once
		slowStarted = make(chan *slowRegistration, 1)
		termOnce    sync.Once
		termed      = make(chan struct{})
		termAt      time.Time
		slowReply   = reply{err: errors.New("the request was never started")}
		slowDone    sync.WaitGroup
		slowAt      atomic.Int64 // when the slow request was opened, Unix ns
	)
	slowDone.Add(1)
	go func() {
		defer slowDone.Done()
		slow := <-slowStarted
		<-termed
		if slow == nil {
			return
		}
		// SIGTERM is on its way; let the server begin its shutdown with this
		// request half read, then send the rest.
		time.Sleep(300 * time.Millisecond)
		slowReply = slow.finish()
	}()

	outs := load{client: client, srv: srv, seed: seed, next: &next, workers: workers,
		onReply: func(o outcome, acks int64) bool {
			// The slow request is opened shortly before SIGTERM, and SIGTERM
			// waits until the server has had time to accept it and start
			// reading it.
			if acks >= termAfter-100 {
				slowOnce.Do(func() {
					slow, err := startSlowRegistration(srv.addr, slowPerson)
					if err != nil {
						slowReply.err = err
					}
					slowAt.Store(time.Now().UnixNano())
					slowStarted <- slow
				})
			}
			if at := slowAt.Load(); acks >= termAfter && at != 0 && time.Since(time.Unix(0, at)) > 300*time.Millisecond {
				termOnce.Do(func() {
					termAt = time.Now()
					srv.cmd.Process.Signal(syscall.SIGTERM)
					close(termed)
				})
			}
			// Keep sending until the server stops taking connections.
			return o.err == nil
		}}.run()
	// Should the load end early, the slow request's goroutine must not wait forever.
	slowOnce.Do(func() { slowStarted <- nil })
	termOnce.Do(func() { close(termed) })
	slowDone.Wait()
	if termAt.IsZero() {
		t.Fatalf("the load ended before %d acknowledgements; stderr:\n%s", termAfter, srv.stderr.String())
	}
	if !srv.waitExit(shutdownTimeout + 5*time.Second) {
		t.Fatalf("the server did not exit within %s of SIGTERM\nstderr:\n%s", shutdownTimeout+5*time.Second, srv.stderr.String())
	}
	took := time.Since(termAt)
	if code := srv.exitCode(); code != 0 {
		t.Fatalf("the server exited with status %d after SIGTERM, want 0\nstderr:\n%s", code, srv.stderr.String())
	}
	// The load itself ends only once the server is gone, so this bounds the
	// shutdown from above.
	if took > shutdownTimeout {
		t.Errorf("the server took %s to exit after SIGTERM, more than its shutdown timeout %s", took, shutdownTimeout)
	}
	logs := []string{srv.stderr.String()}

	acked := newLedger()
	byPerson := map[int]string{} // acknowledged people → their code
	var notRecorded []int        // people told 503, or never answered
	inFlight, refused, unanswered := 0, 0, 0
	for _, o := range outs {
		if o.start.Before(termAt) && o.end.After(termAt) {
			inFlight++
		}
		switch {
		case o.err != nil:
			if o.end.Before(termAt) {
				t.Errorf("person %d: %v before SIGTERM", o.person, o.err)
			}
			unanswered++
			notRecorded = append(notRecorded, o.person)
		case o.status == http.StatusAccepted:
			rc := decode[receiptJSON](t, o.reply)
			if err := acked.add(rc.TrackingCode, rc.Sequence); err != nil {
				t.Error(err)
			}
			byPerson[o.person] = rc.TrackingCode
		case o.status == http.StatusServiceUnavailable:
			if problem := checkRetryLater(o.reply, "", "shutting_down", "overloaded"); problem != "" {
				t.Errorf("person %d: %s", o.person, problem)
			}
			refused++
			notRecorded = append(notRecorded, o.person)
		default:
			t.Errorf("person %d answered %s, want 202 or 503", o.person, o.reply)
		}
	}
	t.Logf("SIGTERM after %d acknowledgements; %d requests in flight then; %d refused with 503, %d unanswered; exit after %s",
		termAfter, inFlight, refused, unanswered, took.Round(time.Millisecond))

	// The request half read at SIGTERM was answered and recorded.
	if slowReply.err != nil || slowReply.status != http.StatusAccepted {
		t.Fatalf("a request in flight at SIGTERM was answered %s, want 202", slowReply)
	}
	slowRC := decode[receiptJSON](t, slowReply)
	if err := acked.add(slowRC.TrackingCode, slowRC.Sequence); err != nil {
		t.Error(err)
	}

	srv = startServer(t, data)
	checkPresent(t, client, srv.url, acked.seqOf)
	for _, i := range notRecorded {
		r := register(client, srv.url, loadtest.Person(seed, i), "")
		if r.status != http.StatusAccepted {
			t.Errorf("person %d, refused or unanswered at shutdown, registered again after the restart: %s, want 202 (not recorded before)", i, r)
		}
	}
	// Acknowledged people asking again keep their place.
	checked := 0
	for i, code := range byPerson {
		if checked == 20 {
			break
		}
		checked++
		r := register(client, srv.url, loadtest.Person(seed, i), "")
		rc := decode[receiptJSON](t, r)
		if r.status != http.StatusOK || !rc.Duplicate || rc.TrackingCode != code || rc.Sequence != acked.seqOf[code] {
			t.Errorf("person %d, acknowledged with %s/%d, registered again after the restart: %s", i, code, acked.seqOf[code], r)
		}
	}
	srv.stop(t, 30*time.Second)
	logs = append(logs, srv.stderr.String())

	sent := append(people(seed, int(next.Load())), slowPerson)
	for _, l := range logs {
		assertNoPersonalData(t, "the server's log", l, sent)
	}
}

// TestE2EShutdownIdle: SIGTERM on an idle server exits 0 at once, and so does
// SIGINT (Ctrl-C on "turnero demo" or a terminal).
func TestE2EShutdownIdle(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		srv := startServer(t, t.TempDir())
		start := time.Now()
		srv.signal(t, sig)
		if !srv.waitExit(5 * time.Second) {
			t.Fatalf("%v: the idle server did not exit within 5s", sig)
		}
		if code := srv.exitCode(); code != 0 {
			t.Errorf("%v: exit status %d, want 0\nstderr:\n%s", sig, code, srv.stderr.String())
		}
		t.Logf("%v: exited in %s", sig, time.Since(start).Round(time.Millisecond))
	}
}

// TestE2EDrainBeforeShutdown: after SIGTERM, for the drain delay, /readyz
// answers 503 shutting_down (what a load balancer must see, rather than
// "connection refused") while registrations, status and /healthz are still
// served, each answer closing its connection; then the listener closes and
// the process exits 0.
func TestE2EDrainBeforeShutdown(t *testing.T) {
	const drainDelay = 2 * time.Second
	srv := startServer(t, t.TempDir(), "--drain-delay", drainDelay.String())
	client := newClient(1, 5*time.Second)
	defer client.CloseIdleConnections()
	seed := time.Now().UnixNano()
	if r := do(client, http.MethodGet, srv.url+"/readyz", nil, ""); r.status != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %s", r)
	}
	start := time.Now()
	srv.signal(t, syscall.SIGTERM)
	for i := 0; time.Since(start) < drainDelay*3/4; i++ {
		r := do(client, http.MethodGet, srv.url+"/readyz", nil, "en")
		if r.err != nil {
			t.Fatalf("/readyz %s after SIGTERM, within the drain delay: %v", time.Since(start).Round(time.Millisecond), r.err)
		}
		if i == 0 {
			// The first probe may come before the signal is handled.
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if problem := checkRetryLater(r, "en", "shutting_down"); problem != "" {
			t.Fatalf("/readyz %s after SIGTERM: %s", time.Since(start).Round(time.Millisecond), problem)
		}
		if !answerClosesConnection(t, srv.addr) {
			t.Errorf("an answer during the drain keeps its connection open")
		}
		if r := do(client, http.MethodGet, srv.url+"/healthz", nil, ""); r.status != http.StatusOK {
			t.Fatalf("/healthz during the drain: %s", r)
		}
		rr := register(client, srv.url, loadtest.Person(seed, i), "")
		if rr.status != http.StatusAccepted {
			t.Fatalf("a registration during the drain: %s, want 202", rr)
		}
		rc := decode[receiptJSON](t, rr)
		if r := do(client, http.MethodGet, srv.url+"/v1/registrations/"+rc.TrackingCode, nil, ""); r.status != http.StatusOK {
			t.Fatalf("status during the drain: %s", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !srv.waitExit(drainDelay + 10*time.Second) {
		t.Fatalf("the server did not exit after its drain delay\nstderr:\n%s", srv.stderr.String())
	}
	if took := time.Since(start); took < drainDelay {
		t.Errorf("the server exited %s after SIGTERM, before its drain delay of %s", took, drainDelay)
	}
	if code := srv.exitCode(); code != 0 {
		t.Fatalf("exit status %d, want 0\nstderr:\n%s", code, srv.stderr.String())
	}
	if !strings.Contains(srv.stderr.String(), `"msg":"draining`) {
		t.Errorf("no log line says the server is draining:\n%s", srv.stderr.String())
	}
}

// answerClosesConnection sends GET /healthz on a connection of its own and
// reports whether the answer says the server closes it.
func answerClosesConnection(t *testing.T, addr string) bool {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial during the drain: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET /healthz during the drain: %v", err)
	}
	resp.Body.Close()
	return resp.Close
}
