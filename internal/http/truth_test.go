package http_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/turnero"
)

// warmStatus reads a status until it is answered from the cache: the cache
// polled the store's change stamp at least once since the last change, and
// the answer was put in it.
func warmStatus(t *testing.T, ts *testServer, code string) changeStatus {
	t.Helper()
	time.Sleep(300 * time.Millisecond) // a poll (every 200 ms) after the last change
	decodeStatus(t, ts.call(t, "GET", "/v1/registrations/"+code, "", "", nil))
	return decodeStatus(t, ts.call(t, "GET", "/v1/registrations/"+code, "", "", nil))
}

// Issue 15 item 1: a change answered with the status from before it when
// the status was cached: cancel said "scheduled" with the released
// appointments; the feed's booking said "waiting" with none, so a consumer
// could book the person again elsewhere.
func TestChangeAnswersTheStatusAfterIt(t *testing.T) {
	enginetest.Each(t, testChangeAnswersTheStatusAfterIt)
}

func testChangeAnswersTheStatusAfterIt(t *testing.T, eng enginetest.Engine) {
	ts, clk := withChanges(t, eng)
	codes := scheduleThree(t, ts)
	birth := map[string]string{"birth_date": "1958-03-14"}

	if st := warmStatus(t, ts, codes[0]); st.Status != "scheduled" {
		t.Fatalf("before the cancel: %+v", st)
	}
	st := decodeStatus(t, ts.call(t, "POST", "/v1/registrations/"+codes[0]+"/cancel", "", "", birth))
	if st.Status != "cancelled" || len(st.Appointments) != 0 || st.LastChange == nil {
		t.Fatalf("the answer to a cancel of a cached status: %+v", st)
	}

	if st := warmStatus(t, ts, codes[1]); st.Status != "scheduled" {
		t.Fatalf("before another date: %+v", st)
	}
	st = decodeStatus(t, ts.call(t, "POST", "/v1/registrations/"+codes[1]+"/reschedule", "", "", birth))
	if st.Status != "waiting" || len(st.Appointments) != 0 || st.LastChange == nil {
		t.Fatalf("the answer to another date of a cached status: %+v", st)
	}

	// A newcomer, waiting and cached, booked through the feed.
	code := receiptOf(t, ts.register(t, person(7)), http.StatusAccepted).TrackingCode
	if st := warmStatus(t, ts, code); st.Status != "waiting" {
		t.Fatalf("before the feed's booking: %+v", st)
	}
	az, _ := ts.campaign.Vaccine("astrazeneca")
	s1, s2 := feedSlots(t, ts.campaign, "MO-02", clk.Now(), az.IntervalDays)
	r := ts.call(t, "POST", "/v1/feed/appointments", feedSecret, "", map[string]any{"tracking_code": code,
		"center_id": "MO-02", "vaccine": "astrazeneca", "starts": []string{s1.Format(time.RFC3339), s2.Format(time.RFC3339)}})
	if st := decodeStatus(t, r); r.status != http.StatusOK || st.Status != "scheduled" || len(st.Appointments) != 2 {
		t.Fatalf("the answer to the feed's booking of a cached status: %s", r)
	}
}

// Issue 15 item 2: registering again answered "waiting" for a person who
// is scheduled or vaccinated; the receipt and the status agree now.
func TestRegisterAgainSaysTheStatusNow(t *testing.T) {
	enginetest.Each(t, testRegisterAgainSaysTheStatusNow)
}

func testRegisterAgainSaysTheStatusNow(t *testing.T, eng enginetest.Engine) {
	ts, _ := withChanges(t, eng)
	scheduleThree(t, ts)
	r := ts.register(t, person(1))
	if rc := receiptOf(t, r, http.StatusOK); rc.Status != "scheduled" {
		t.Fatalf("a scheduled person registering again: %s", r)
	}
	birth := map[string]string{"birth_date": "1958-03-14"}
	code := receiptOf(t, r, http.StatusOK).TrackingCode
	if st := decodeStatus(t, ts.call(t, "POST", "/v1/registrations/"+code+"/cancel", "", "", birth)); st.Status != "cancelled" {
		t.Fatalf("cancel: %+v", st)
	}
	if rc := receiptOf(t, ts.register(t, person(1)), http.StatusOK); rc.Status != "cancelled" {
		t.Fatalf("a cancelled person registering again: %+v", rc)
	}
}

// failingStore is the store of a test server, made to fail as a database
// that cannot be reached does: every read of a status, a token, a group.
type failingStore struct {
	turnero.Store
	down atomic.Bool
}

var errUnreachable = errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")

func (f *failingStore) StatusView(ctx context.Context, seq int64) (turnero.StatusView, error) {
	if f.down.Load() {
		return turnero.StatusView{}, errUnreachable
	}
	return f.Store.StatusView(ctx, seq)
}

func (f *failingStore) ChangeStamp(ctx context.Context) (string, []turnero.GroupState, error) {
	if f.down.Load() {
		return "", nil, errUnreachable
	}
	return f.Store.ChangeStamp(ctx)
}

func (f *failingStore) TokenByHash(ctx context.Context, hash []byte) (turnero.Token, error) {
	if f.down.Load() {
		return turnero.Token{}, errUnreachable
	}
	return f.Store.TokenByHash(ctx, hash)
}

func (f *failingStore) RegistrationByDocument(ctx context.Context, h []byte) (turnero.Registration, error) {
	if f.down.Load() {
		return turnero.Registration{}, errUnreachable
	}
	return f.Store.RegistrationByDocument(ctx, h)
}

// Issue 15 item 7: while the database was unreachable, status, lookup and
// admin routes answered 500 internal, even for a status in the cache. Every
// answer caused by the store being unavailable is a 503 with Retry-After,
// and a cached status is still served.
func TestStoreDownAnswers503(t *testing.T) {
	fs := &failingStore{}
	ts := newTestServerOn(t, enginetest.SQLite, func(s turnero.Store) turnero.Store { fs.Store = s; return fs })
	cached := receiptOf(t, ts.register(t, person(1)), http.StatusAccepted).TrackingCode
	other := receiptOf(t, ts.register(t, person(2)), http.StatusAccepted).TrackingCode
	ts.st.Changed() // empties the cache: registrations went in at once
	warmStatus(t, ts, cached)
	fs.down.Store(true)
	time.Sleep(1200 * time.Millisecond) // past the age at which the cache trusts itself

	if st := decodeStatus(t, ts.call(t, "GET", "/v1/registrations/"+cached, "", "", nil)); st.Status != "waiting" {
		t.Fatalf("a cached status while the store is down: %+v", st)
	}
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
	}{
		{"status not cached", "GET", "/v1/registrations/" + other, "", nil},
		{"lookup", "POST", "/v1/registrations/lookup", "", map[string]string{"document_type": "CI",
			"document_number": person(2)["document_number"].(string), "birth_date": "1958-03-14"}},
		{"admin", "GET", "/v1/admin/groups", adminSecret, nil},
	} {
		r := ts.call(t, tc.method, tc.path, tc.token, "en", tc.body)
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
			t.Errorf("%s while the store is down: %s (Retry-After %q), want 503 with Retry-After", tc.name, r, r.header.Get("Retry-After"))
		}
	}
}
