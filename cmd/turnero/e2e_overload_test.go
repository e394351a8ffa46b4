package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/loadtest"
)

// TestE2EOverload runs the server with a queue of one registration and
// commits of one, and fires a few hundred registrations at once. The queue
// overflows: those refused must get 503 at once with Retry-After and a JSON
// error in the language asked for (Spanish by default), nobody may hang or
// lose their connection, every 202 must be recorded, and every 503 must not
// be (the same person is new when retrying). /readyz keeps answering. The
// refusals are counted, and logged once a second at most.
func TestE2EOverload(t *testing.T) {
	const (
		burst     = 300
		maxBursts = 3
	)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	srv := startServer(t, t.TempDir(), "--queue", "1", "--batch", "1")
	began := time.Now()
	client := newClient(burst, 20*time.Second)
	defer client.CloseIdleConnections()

	// /readyz is polled all along: it must answer (200, or 503 while the
	// queue is full), never hang.
	stopPoll := make(chan struct{})
	var pollWG sync.WaitGroup
	var readyz []reply
	pollWG.Add(1)
	go func() {
		defer pollWG.Done()
		c := newClient(1, 5*time.Second)
		for {
			select {
			case <-stopPoll:
				return
			case <-time.After(10 * time.Millisecond):
			}
			readyz = append(readyz, do(c, http.MethodGet, srv.url+"/readyz", nil, ""))
		}
	}()

	acked := newLedger()
	var refused []int
	var slowest time.Duration
	sent := 0
	for b := 0; b < maxBursts && len(refused) == 0; b++ {
		outs := make([]outcome, burst)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for k := range outs {
			i := sent + k
			wg.Add(1)
			go func() {
				defer wg.Done()
				lang := ""
				if i%2 == 1 {
					lang = "en"
				}
				<-start
				outs[i-sent] = outcome{person: i, reply: register(client, srv.url, loadtest.Person(seed, i), lang)}
			}()
		}
		close(start)
		wg.Wait()
		sent += burst
		for _, o := range outs {
			slowest = max(slowest, o.end.Sub(o.start))
			lang := ""
			if o.person%2 == 1 {
				lang = "en"
			}
			switch {
			case o.err != nil:
				t.Errorf("person %d: %v (a hang or a dropped connection)", o.person, o.err)
			case o.status == http.StatusAccepted:
				rc := decode[receiptJSON](t, o.reply)
				if err := acked.add(rc.TrackingCode, rc.Sequence); err != nil {
					t.Error(err)
				}
			case o.status == http.StatusServiceUnavailable:
				if problem := checkRetryLater(o.reply, lang, "overloaded"); problem != "" {
					t.Errorf("person %d: %s", o.person, problem)
				}
				refused = append(refused, o.person)
			default:
				t.Errorf("person %d answered %s, want 202 or 503", o.person, o.reply)
			}
		}
	}
	close(stopPoll)
	pollWG.Wait()
	t.Logf("%d registrations in bursts of %d: %d acknowledged, %d refused with 503; slowest answer %s; /readyz polled %d times",
		sent, burst, len(acked.seqOf), len(refused), slowest.Round(time.Millisecond), len(readyz))
	if len(refused) == 0 {
		t.Fatalf("no 503 in %d bursts of %d registrations against a queue of 1", maxBursts, burst)
	}
	if len(acked.seqOf) == 0 {
		t.Fatal("every registration was refused")
	}
	for _, r := range readyz {
		switch {
		case r.err != nil:
			t.Errorf("/readyz under overload: %v", r.err)
		case r.status == http.StatusOK:
		default:
			if problem := checkRetryLater(r, "", "overloaded"); problem != "" {
				t.Errorf("/readyz under overload: %s", problem)
			}
		}
	}

	checkPresent(t, client, srv.url, acked.seqOf)
	// "Su solicitud no fue registrada": one at a time, the refused are new.
	for _, i := range refused {
		r := register(client, srv.url, loadtest.Person(seed, i), "")
		if r.status != http.StatusAccepted {
			t.Errorf("person %d, refused with 503, registered again: %s, want 202 (not recorded before)", i, r)
		}
	}
	if r := do(client, http.MethodGet, srv.url+"/readyz", nil, ""); r.status != http.StatusOK {
		t.Errorf("/readyz after the overload: %s", r)
	}
	// Every refusal is counted in the metric; the log has one WARN line a
	// second at most, whose counts add up to it, and no ERROR line about
	// them: an overload is not a fault.
	r := do(client, http.MethodGet, srv.url+"/metrics", nil, "")
	if got := metricValue(string(r.body), "turnero_http_overloaded_total"); got != float64(len(refused)) {
		t.Errorf("turnero_http_overloaded_total = %v, want %d", got, len(refused))
	}
	time.Sleep(1500 * time.Millisecond) // the refusals of the last second are logged a second later
	srv.stop(t, 30*time.Second)
	var lines, logged int
	for _, line := range strings.Split(srv.stderr.String(), "\n") {
		if !strings.Contains(line, "overloaded") {
			continue
		}
		var rec struct {
			Level   string `json:"level"`
			Msg     string `json:"msg"`
			Refused int    `json:"refused"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Level != "WARN" {
			t.Errorf("a log line about overload that is not a WARN with a count: %s", line)
			continue
		}
		lines++
		logged += rec.Refused
	}
	if logged != len(refused) {
		t.Errorf("the log counts %d refusals, want %d", logged, len(refused))
	}
	if most := int(time.Since(began)/time.Second) + 2; lines > most || lines == 0 {
		t.Errorf("%d log lines about overload in %s, want 1 to %d", lines, time.Since(began).Round(time.Millisecond), most)
	}
	assertNoPersonalData(t, "the server's log", srv.stderr.String(), people(seed, sent))
}
