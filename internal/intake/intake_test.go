package intake_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/appointments"
	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/feed"
	turnerohttp "github.com/turnero/turnero/internal/http"
	"github.com/turnero/turnero/internal/intake"
	"github.com/turnero/turnero/internal/metrics"
	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/status"
	"github.com/turnero/turnero/internal/turnero"
)

// gatedStore is the real SQLite store with a gate in front of its writes, to
// hold the writer mid-commit or make a commit fail, as a slow or broken disk
// would.
type gatedStore struct {
	*sqlite.DB
	gate    chan struct{} // a commit waits for a value, when set
	entered chan struct{} // signalled when a commit starts waiting
	fail    atomic.Bool
	size    atomic.Int64 // registrations in the last commit
}

func (g *gatedStore) InsertRegistrations(ctx context.Context, batch []turnero.NewRegistration) ([]turnero.InsertOutcome, error) {
	g.size.Store(int64(len(batch)))
	if g.gate != nil {
		g.entered <- struct{}{}
		<-g.gate
	}
	if g.fail.Load() {
		return nil, errors.New("disk I/O error (simulated)")
	}
	return g.DB.InsertRegistrations(ctx, batch)
}

func newService(t *testing.T, cfg intake.Config, gated bool) (*intake.Service, *gatedStore, http.Handler) {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "turnero.key")
	if err := pii.WriteKeyFile(keyFile, "test-1"); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.LoadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "turnero.db"))
	if err != nil {
		t.Fatal(err)
	}
	store := &gatedStore{DB: db}
	if gated {
		store.gate, store.entered = make(chan struct{}), make(chan struct{}, 16)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := metrics.New()
	c, clock := campaign.Sample(), turnero.SystemClock{}
	a, err := allocate.New(allocate.Config{}, db, c, clock, log)
	if err != nil {
		t.Fatal(err)
	}
	st := status.New(c, keys, db, a)
	in, err := intake.New(cfg, c, keys, store, st, clock, m, log)
	if err != nil {
		t.Fatal(err)
	}
	h, err := turnerohttp.NewServer(turnerohttp.Services{Campaign: c, Intake: in, Status: st, Allocator: a,
		Appointments: appointments.New(c, keys, db, st, clock, log), Feed: feed.New(c, keys, db, st, clock, log),
		Store: db}, m, log)
	if err != nil {
		t.Fatal(err)
	}
	in.Start()
	t.Cleanup(func() {
		if store.gate != nil {
			close(store.gate) // let anything still held go
		}
		in.Close()
		db.Close()
	})
	return in, store, h
}

func request(i int) *turnero.RegistrationRequest {
	seven := fmt.Sprintf("%07d", 5_000_000+i)
	return &turnero.RegistrationRequest{
		DocumentType: "CI", DocumentNumber: fmt.Sprintf("%s%d", seven, turnero.CedulaCheckDigit(seven)),
		GivenNames: "Ana", FamilyNames: "Sintética", BirthDate: "1970-01-01", Phone: "099 000 001",
		Department: "Montevideo", Consent: true,
	}
}

type outcome struct {
	rc  intake.Receipt
	err error
}

func registerAsync(in *intake.Service, req *turnero.RegistrationRequest) chan outcome {
	c := make(chan outcome, 1)
	go func() {
		rc, err := in.Register(context.Background(), req)
		c <- outcome{rc, err}
	}()
	return c
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func get(h http.Handler, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

func post(h http.Handler, req *turnero.RegistrationRequest) *httptest.ResponseRecorder {
	body := fmt.Sprintf(`{"document_type":%q,"document_number":%q,"given_names":%q,"family_names":%q,"birth_date":%q,"phone":%q,"department":%q,"consent":true}`,
		req.DocumentType, req.DocumentNumber, req.GivenNames, req.FamilyNames, req.BirthDate, req.Phone, req.Department)
	r := httptest.NewRequest(http.MethodPost, "/v1/registrations", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestOverload: with the writer held and the queue full, a registration is
// refused at once with 503 and Retry-After, not kept waiting; what was
// queued is committed in order once the writer moves again.
func TestOverload(t *testing.T) {
	in, store, h := newService(t, intake.Config{QueueSize: 2, MaxBatch: 1}, true)
	a := registerAsync(in, request(1))
	<-store.entered // the writer holds A
	b := registerAsync(in, request(2))
	waitFor(t, "B queued", func() bool { return in.QueueDepth() == 1 })
	c := registerAsync(in, request(3))
	waitFor(t, "C queued", func() bool { return in.QueueDepth() == 2 })

	start := time.Now()
	_, err := in.Register(context.Background(), request(4))
	if !errors.Is(err, turnero.ErrOverloaded) {
		t.Fatalf("full queue: %v, want overloaded", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("refusal took %v: it must be immediate", took)
	}
	if err := in.Ready(context.Background()); !errors.Is(err, turnero.ErrOverloaded) {
		t.Fatalf("Ready with a full queue: %v", err)
	}
	w := post(h, request(4))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"code":"overloaded"`) {
		t.Fatalf("HTTP with a full queue: %d %s", w.Code, w.Body)
	}
	if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After %q", w.Header().Get("Retry-After"))
	}
	r := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, r)
	if rw.Code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with a full queue: %d", rw.Code)
	}

	for i, ch := range []chan outcome{a, b, c} {
		store.gate <- struct{}{}
		o := <-ch
		if o.err != nil || o.rc.Sequence != int64(i+1) || o.rc.Duplicate {
			t.Fatalf("queued registration %d: %+v, %v", i+1, o.rc, o.err)
		}
		if i < 2 {
			<-store.entered // the next one's commit
		}
	}
	d := registerAsync(in, request(4))
	<-store.entered
	store.gate <- struct{}{}
	if o := <-d; o.err != nil || o.rc.Sequence != 4 {
		t.Fatalf("retry after the overload: %+v, %v", o.rc, o.err)
	}
}

// TestStoreFailure: a registration whose commit fails gets a 503, never a
// receipt, and nothing of it is stored: retried later, it is new.
func TestStoreFailure(t *testing.T) {
	in, store, h := newService(t, intake.DefaultConfig, false)
	store.fail.Store(true)
	_, err := in.Register(context.Background(), request(1))
	var de *turnero.Error
	if !errors.As(err, &de) || de.Code != turnero.CodeUnavailable || de.Key != "store_unavailable" {
		t.Fatalf("failed commit: %v", err)
	}
	w := post(h, request(1))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" ||
		!strings.Contains(w.Body.String(), `"code":"store_unavailable"`) || strings.Contains(w.Body.String(), "disk") {
		t.Fatalf("HTTP on a failed commit: %d %v %s", w.Code, w.Header(), w.Body)
	}
	store.fail.Store(false)
	rc, err := in.Register(context.Background(), request(1))
	if err != nil || rc.Duplicate || rc.Sequence != 1 {
		t.Fatalf("after the store recovers: %+v, %v; want a new registration with sequence 1", rc, err)
	}
	w = get(h, "/v1/registrations/"+rc.TrackingCode)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"sequence":1,`) || !strings.Contains(w.Body.String(), `"name":"A*** S***"`) {
		t.Fatalf("status: %d %s", w.Code, w.Body)
	}
}

// TestCloseDrains: Close commits and answers what is queued, then refuses.
func TestCloseDrains(t *testing.T) {
	in, store, _ := newService(t, intake.Config{QueueSize: 8, MaxBatch: 8}, true)
	a := registerAsync(in, request(1))
	<-store.entered
	b := registerAsync(in, request(2))
	c := registerAsync(in, request(2)) // the same person, queued twice
	waitFor(t, "B and C queued", func() bool { return in.QueueDepth() == 2 })
	closed := make(chan struct{})
	go func() { in.Close(); close(closed) }()
	waitFor(t, "Close to refuse", func() bool { return errors.Is(in.Ready(context.Background()), turnero.ErrShuttingDown) })
	if _, err := in.Register(context.Background(), request(3)); !errors.Is(err, turnero.ErrShuttingDown) {
		t.Fatalf("register while closing: %v", err)
	}
	select {
	case <-closed:
		t.Fatal("Close returned with a commit in flight")
	default:
	}
	store.gate <- struct{}{} // A's commit
	<-store.entered
	store.gate <- struct{}{} // B and C, one batch
	oa, ob, oc := <-a, <-b, <-c
	if oa.err != nil || ob.err != nil || oc.err != nil {
		t.Fatalf("drained: %v %v %v", oa.err, ob.err, oc.err)
	}
	// B and C are the same person: whichever was queued first is new, the other its duplicate.
	if oa.rc.Sequence != 1 || ob.rc.Sequence != 2 || oc.rc.Sequence != 2 || ob.rc.Duplicate == oc.rc.Duplicate ||
		ob.rc.TrackingCode != oc.rc.TrackingCode {
		t.Fatalf("drained receipts: %+v %+v %+v", oa.rc, ob.rc, oc.rc)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after draining")
	}
	for _, seq := range []int64{1, 2} {
		if _, err := store.RegistrationBySequence(context.Background(), seq); err != nil {
			t.Fatalf("sequence %d after Close: %v", seq, err)
		}
	}
}

// TestCommitLinger: when several registrations are queued, the writer waits
// up to CommitLinger for more before committing, so one that arrives during
// the wait joins the same transaction.
func TestCommitLinger(t *testing.T) {
	in, store, _ := newService(t, intake.Config{QueueSize: 16, MaxBatch: 16, CommitLinger: time.Second}, true)
	a := registerAsync(in, request(1))
	<-store.entered
	if n := store.size.Load(); n != 1 {
		t.Fatalf("lone registration committed in a batch of %d", n)
	}
	b := registerAsync(in, request(2))
	c := registerAsync(in, request(3))
	waitFor(t, "B and C queued", func() bool { return in.QueueDepth() == 2 })
	store.gate <- struct{}{} // A commits; the writer takes B and C and waits
	if o := <-a; o.err != nil {
		t.Fatal(o.err)
	}
	waitFor(t, "the writer to take B and C", func() bool { return in.QueueDepth() == 0 })
	d := registerAsync(in, request(4))
	<-store.entered
	if n := store.size.Load(); n != 3 {
		t.Fatalf("B, C and D committed in a batch of %d, want 3", n)
	}
	store.gate <- struct{}{}
	for _, ch := range []chan outcome{b, c, d} {
		if o := <-ch; o.err != nil || o.rc.Duplicate {
			t.Fatalf("lingered registration: %+v, %v", o.rc, o.err)
		}
	}
}
