package main

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/loadtest"
	"github.com/turnero/turnero/internal/turnero"
)

// TestE2EOperations checks what operations see of a running server: health,
// readiness and metrics answer, metrics count what happened, and neither the
// log nor the metrics hold any of the personal data sent, whatever the answer
// to it was (recorded, duplicate, conflict, invalid, looked up, read back).
func TestE2EOperations(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	srv := startServer(t, t.TempDir())
	client := newClient(10, 20*time.Second)
	defer client.CloseIdleConnections()

	r := do(client, http.MethodGet, srv.url+"/healthz", nil, "")
	if r.status != http.StatusOK || decode[map[string]any](t, r)["status"] != "ok" {
		t.Errorf("/healthz: %s", r)
	}
	r = do(client, http.MethodGet, srv.url+"/readyz", nil, "")
	ready := decode[map[string]any](t, r)
	if r.status != http.StatusOK || ready["status"] != "ready" || ready["queue_capacity"] == float64(0) {
		t.Errorf("/readyz: %s", r)
	}

	// Synthetic people, with data that cannot appear in a log by chance.
	zoraida := turnero.RegistrationRequest{
		DocumentType: "CI", DocumentNumber: loadtest.Cedula(4_321_987), GivenNames: "Zoraida Eulalia",
		FamilyNames: "Quintanilla-Ybarra Oyarzábal", BirthDate: "1969-07-21", Phone: "098 765 432",
		Email: "zoraida.quintanilla@example.org", Department: "paysandu", Locality: "Guichón",
		Groups: []string{"health-workers"}, Channel: "whatsapp", Consent: true,
	}
	ximena := turnero.RegistrationRequest{
		DocumentType: "PASSPORT", DocumentNumber: "xq 771 2049", GivenNames: "Ximena", FamilyNames: "Ulloa-Pradenas",
		BirthDate: "2005-02-03", Phone: "+598 94 555 666", Department: "Rocha", Consent: true,
	}
	impostor := zoraida
	impostor.BirthDate = "1969-07-22"
	invalid := turnero.RegistrationRequest{
		DocumentType: "CI", DocumentNumber: loadtest.Cedula(4_400_001), GivenNames: "Wenceslao",
		FamilyNames: "Arrizabalaga Goicoechea", BirthDate: "1950-11-30", Phone: "12", Department: "Salto", Consent: true,
	}
	sent := []turnero.RegistrationRequest{zoraida, ximena, impostor, invalid}

	r = register(client, srv.url, zoraida, "")
	rc := decode[receiptJSON](t, r)
	if r.status != http.StatusAccepted || rc.Group != "health-workers" || rc.Status != "waiting" || rc.Duplicate {
		t.Fatalf("a health worker registering: %s", r)
	}
	if loc := r.header.Get("Location"); loc != "/v1/registrations/"+rc.TrackingCode {
		t.Errorf("Location %q for %s", loc, rc.TrackingCode)
	}
	if r := register(client, srv.url, zoraida, ""); r.status != http.StatusOK || decode[receiptJSON](t, r) != (receiptJSON{
		TrackingCode: rc.TrackingCode, Sequence: rc.Sequence, Status: rc.Status, Group: rc.Group, Duplicate: true}) {
		t.Errorf("the same person again: %s", r)
	}
	r = register(client, srv.url, impostor, "en")
	if e := decode[errorJSON](t, r); r.status != http.StatusConflict || e.Error.Code != "identity_conflict" ||
		e.Error.Message != turnero.Message("identity_conflict", turnero.English) || strings.Contains(string(r.body), rc.TrackingCode) {
		t.Errorf("the same document with another birth date: %s", r)
	}
	if r := register(client, srv.url, ximena, ""); r.status != http.StatusAccepted || decode[receiptJSON](t, r).Group != "age-12-17" {
		t.Errorf("an adolescent with a passport: %s", r)
	}
	r = register(client, srv.url, invalid, "")
	if e := decode[errorJSON](t, r); r.status != http.StatusUnprocessableEntity || e.Error.Fields["phone"] != turnero.Message("phone_format", turnero.Spanish) {
		t.Errorf("a wrong phone: %s", r)
	}

	// The status shows masked data only, by code and by lookup.
	for _, r := range []reply{
		do(client, http.MethodGet, srv.url+"/v1/registrations/"+strings.ToLower(rc.TrackingCode), nil, ""),
		do(client, http.MethodPost, srv.url+"/v1/registrations/lookup", []byte(`{"document_type":"ci","document_number":"`+
			onlyDigits(zoraida.DocumentNumber)+`","birth_date":"1969-07-21"}`), ""),
	} {
		st := decode[statusJSON](t, r)
		want := statusJSON{TrackingCode: rc.TrackingCode, Status: "waiting", Group: "health-workers", Sequence: rc.Sequence,
			Position: 1, Name: "Z*** E*** Q*** O***", DocumentType: "CI", Document: "•••••" + onlyDigits(zoraida.DocumentNumber)[5:],
			Department: "Paysandú"}
		st.GroupName, st.ReceivedAt = "", ""
		if r.status != http.StatusOK || st != want || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("status of a registration: %s\nwant %+v", r, want)
		}
		assertNoPersonalData(t, "a status answer", string(r.body), sent)
	}
	if r := do(client, http.MethodPost, srv.url+"/v1/registrations/lookup", []byte(`{"document_type":"CI","document_number":"`+
		zoraida.DocumentNumber+`","birth_date":"1969-07-22"}`), ""); r.status != http.StatusNotFound {
		t.Errorf("lookup with another birth date: %s", r)
	}

	// And a crowd of synthetic people.
	const crowd = 200
	var wg sync.WaitGroup
	var failures sync.Map
	for w := 0; w < 10; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < crowd; i += 10 {
				if r := register(client, srv.url, loadtest.Person(seed, i), ""); r.status != http.StatusAccepted {
					failures.Store(i, r.String())
				}
			}
		}()
	}
	wg.Wait()
	failures.Range(func(k, v any) bool {
		t.Errorf("person %d: %s", k, v)
		return true
	})
	sent = append(sent, people(seed, crowd)...)

	r = do(client, http.MethodGet, srv.url+"/metrics", nil, "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", r.status, r.header.Get("Content-Type"))
	}
	metrics := string(r.body)
	for _, name := range []string{
		"turnero_http_requests_total", "turnero_http_request_duration_seconds",
		"turnero_intake_commit_batch_size", "turnero_intake_queue_depth",
	} {
		if !strings.Contains(metrics, "# TYPE "+name+" ") {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if n := metricValue(metrics, "turnero_http_requests_total", `code="202"`, `route="POST /v1/registrations"`); n < crowd+2 {
		t.Errorf("turnero_http_requests_total of 202 registrations is %v, want at least %d", n, crowd+2)
	}
	if n := metricValue(metrics, "turnero_http_requests_total", `code="409"`); n != 1 {
		t.Errorf("turnero_http_requests_total of 409 is %v, want 1", n)
	}
	if n := metricValue(metrics, "turnero_http_request_duration_seconds_count", `route="POST /v1/registrations"`); n < crowd+5 {
		t.Errorf("turnero_http_request_duration_seconds_count of registrations is %v, want at least %d", n, crowd+5)
	}
	// Every registration that reached the writer was in a committed batch:
	// the 202s, the duplicate and the conflict.
	if n := metricValue(metrics, "turnero_intake_commit_batch_size_sum"); n < crowd+4 {
		t.Errorf("turnero_intake_commit_batch_size_sum is %v, want at least %d", n, crowd+4)
	}
	if n := metricValue(metrics, "turnero_intake_queue_depth"); n != 0 {
		t.Errorf("turnero_intake_queue_depth is %v on an idle server", n)
	}
	if strings.Contains(metrics, rc.TrackingCode) {
		t.Error("/metrics holds a tracking code")
	}
	assertNoPersonalData(t, "/metrics", metrics, sent)

	srv.stop(t, 30*time.Second)
	assertNoPersonalData(t, "the server's log", srv.stderr.String(), sent)
}

// metricValue returns the value of the first sample of a metric whose labels
// include all of labels, or -1.
func metricValue(text, name string, labels ...string) float64 {
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(rest, l)
		}
		if !all {
			continue
		}
		f := strings.Fields(rest)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			return v
		}
	}
	return -1
}
