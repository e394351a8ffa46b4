package http_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/appointments"
	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/feed"
	"github.com/turnero/turnero/internal/status"

	"github.com/turnero/turnero/internal/campaign"
	turnerohttp "github.com/turnero/turnero/internal/http"
	"github.com/turnero/turnero/internal/intake"
	"github.com/turnero/turnero/internal/metrics"
	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/turnero"
)

// testServer is the API wired as cmd/turnero's serve wires it — the sample
// campaign, a key file, SQLite in a data directory, the intake writer — on a
// real HTTP listener.
type testServer struct {
	*httptest.Server
	handler  http.Handler
	dataDir  string
	keys     *pii.Keyring
	in       *intake.Service
	st       *status.Service
	alloc    *allocate.Allocator
	clock    *testClock // allocation, changes and the feed; intake keeps the system's
	campaign *turnero.Campaign
	db       turnero.Store
	logs     *lockedBuffer
	client   *http.Client

	closeOnce sync.Once
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newTestServer wires the API on eng as cmd/turnero's serve does (every
// service, one clock for allocation and changes that the test may set).
func newTestServer(t testing.TB, eng enginetest.Engine) *testServer {
	t.Helper()
	return newTestServerOn(t, eng, nil)
}

// newTestServerOn is newTestServer with the store as wrap makes it (fault
// injection at the store's edge); nil: the store as opened.
func newTestServerOn(t testing.TB, eng enginetest.Engine, wrap func(turnero.Store) turnero.Store) *testServer {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "turnero.key") // kept apart from the data, as in production
	if err := pii.WriteKeyFile(keyFile, "test-1"); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.LoadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	where := eng.Fresh(t)
	if eng.Name == enginetest.SQLite.Name {
		where = filepath.Join(dataDir, "turnero.db")
	}
	opened, err := eng.OpenErr(where)
	if err != nil {
		t.Fatal(err)
	}
	db := opened
	if wrap != nil {
		db = wrap(opened)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := metrics.New()
	c := campaign.Sample()
	clk := &testClock{}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := allocate.New(allocate.Config{}, db, c, clk, quiet)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	st := status.New(c, keys, db, a)
	a.Changes = st
	in, err := intake.New(intake.DefaultConfig, c, keys, db, st, turnero.SystemClock{}, m, log.With("component", "intake"))
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	h, err := turnerohttp.NewServer(turnerohttp.Services{
		Campaign: c, Intake: in, Status: st, Allocator: a,
		Appointments: appointments.New(c, keys, db, st, clk, log.With("component", "appointments")),
		Feed:         feed.New(c, keys, db, st, clk, log.With("component", "feed")),
		Store:        db,
	}, m, log.With("component", "http"))
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	st.Start()
	in.Start()
	s := &testServer{
		Server: httptest.NewServer(h), handler: h, dataDir: dataDir, keys: keys, in: in, st: st, alloc: a, clock: clk,
		campaign: c, db: db, logs: logs,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}},
	}
	t.Cleanup(func() {
		s.shutdown(t)
		// Whatever a test did, nothing may have panicked or logged personal data.
		if l := logs.String(); strings.Contains(l, "panic") {
			t.Errorf("the server logged a panic:\n%s", l)
		}
	})
	return s
}

// shutdown stops the server in serve's order: HTTP, the writer, the database.
func (s *testServer) shutdown(t testing.TB) {
	s.closeOnce.Do(func() {
		s.client.CloseIdleConnections()
		s.Server.Close()
		s.in.Close()
		s.st.Close()
		if err := s.db.Close(); err != nil {
			t.Errorf("close database: %v", err)
		}
	})
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// do sends a request; header holds extra headers ("Content-Type" included).
func (s *testServer) do(t testing.TB, method, path string, body io.Reader, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (s *testServer) postJSON(t testing.TB, path string, body []byte, lang string) response {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	if lang != "" {
		h["Accept-Language"] = lang
	}
	return s.do(t, http.MethodPost, path, bytes.NewReader(body), h)
}

func (s *testServer) register(t testing.TB, p map[string]any) response {
	t.Helper()
	return s.postJSON(t, "/v1/registrations", mustJSON(t, p), "")
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// person returns the request of a synthetic person, the one of the issue's
// example for i = 0 and a different valid cédula for every other i.
func person(i int) map[string]any {
	doc := "1.234.567-2"
	if i != 0 {
		n := 3_000_000 + i
		seven := fmt.Sprintf("%07d", n)
		doc = fmt.Sprintf("%s.%s.%s-%d", seven[:1], seven[1:4], seven[4:], turnero.CedulaCheckDigit(seven))
	}
	return map[string]any{
		"document_type": "CI", "document_number": doc,
		"given_names": "María José", "family_names": "Pérez Núñez",
		"birth_date": "1958-03-14", "phone": "+59899123456", "email": "",
		"department": "Montevideo", "locality": "Pocitos",
		"groups": []string{}, "channel": "web", "consent": true,
	}
}

func with(p map[string]any, kv ...any) map[string]any {
	q := make(map[string]any, len(p))
	for k, v := range p {
		q[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		q[kv[i].(string)] = kv[i+1]
	}
	return q
}

type receipt struct {
	TrackingCode string `json:"tracking_code"`
	Sequence     int64  `json:"sequence"`
	Status       string `json:"status"`
	Group        string `json:"group"`
	Duplicate    bool   `json:"duplicate"`
}

// receiptOf checks that r is a receipt with the given status and returns it.
func receiptOf(t testing.TB, r response, status int) receipt {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %s, want %d", r, status)
	}
	var shape map[string]any
	if err := json.Unmarshal(r.body, &shape); err != nil {
		t.Fatalf("receipt is not JSON: %s", r.body)
	}
	for _, k := range []string{"tracking_code", "sequence", "status", "group", "duplicate"} {
		if _, ok := shape[k]; !ok {
			t.Fatalf("receipt without %q: %s", k, r.body)
		}
	}
	if len(shape) != 5 {
		t.Fatalf("receipt has other fields: %s", r.body)
	}
	var rc receipt
	if err := json.Unmarshal(r.body, &rc); err != nil {
		t.Fatalf("receipt %s: %v", r.body, err)
	}
	// A new registration waits; the same person again is told the status
	// they have now.
	statusOK := rc.Status == "waiting" || (status == http.StatusOK && (rc.Status == "scheduled" ||
		rc.Status == "cancelled" || rc.Status == "vaccinated"))
	if !trackingCodeShape(rc.TrackingCode) || rc.Sequence < 1 || !statusOK || rc.Group == "" ||
		rc.Duplicate != (status == http.StatusOK) {
		t.Fatalf("receipt %s", r.body)
	}
	if loc := r.header.Get("Location"); loc != "/v1/registrations/"+rc.TrackingCode {
		t.Fatalf("Location %q for code %s", loc, rc.TrackingCode)
	}
	return rc
}

func trackingCodeShape(s string) bool {
	if len(s) != 13 || s[4] != '-' || s[9] != '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i != 4 && i != 9 && !strings.ContainsRune("0123456789ABCDEFGHJKMNPQRSTVWXYZ", rune(s[i])) {
			return false
		}
	}
	return true
}

type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// errorOf checks that r is a JSON error in lang and returns it.
func errorOf(t testing.TB, r response, lang turnero.Lang) errorBody {
	t.Helper()
	if r.status < 400 || r.status >= 500 {
		t.Fatalf("status %s, want a 4xx", r)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q: %s", ct, r.body)
	}
	var e errorBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error without code or message: %s", r.body)
	}
	if !turnero.HasMessage(e.Error.Code) {
		t.Fatalf("error code %q is not in the catalogue", e.Error.Code)
	}
	if want := turnero.Message(e.Error.Code, lang); e.Error.Message != want {
		t.Fatalf("message %q, want %q", e.Error.Message, want)
	}
	for f, m := range e.Error.Fields {
		if !isMessageIn(m, lang) {
			t.Fatalf("field %s: message %q is not a catalogue text in language %d", f, m, lang)
		}
	}
	if bytes.Contains(r.body, []byte("goroutine")) || bytes.Contains(r.body, []byte(".go:")) {
		t.Fatalf("a stack trace in the answer: %s", r.body)
	}
	return e
}

// fieldKeys are the catalogue keys a field may be wrong by.
var fieldKeys = []string{
	"required", "too_long", "document_type", "document_format", "document_check_digit", "name_characters",
	"name_length", "date_format", "date_future", "age_too_young", "age_too_old", "phone_format", "email_format",
	"contact_required", "department_unknown", "group_unknown", "group_not_attested", "group_age", "no_group",
	"consent_required", "channel_unknown", "invalid_value", "locality_characters", "text_encoding",
}

func isMessageIn(m string, lang turnero.Lang) bool {
	for _, k := range fieldKeys {
		if turnero.Message(k, lang) == m {
			return true
		}
	}
	return false
}

func TestRoutes(t *testing.T) {
	s := newTestServer(t, enginetest.SQLite)
	tests := []struct {
		method, path string
		status       int
		code         string
		allow        string
	}{
		{"GET", "/", 404, "route_not_found", ""},
		{"GET", "/v2/registrations", 404, "route_not_found", ""},
		{"GET", "/admin", 404, "route_not_found", ""},
		{"GET", "/v1/registrations/", 404, "", ""},
		{"GET", "/../../etc/passwd", 404, "", ""},
		{"DELETE", "/v1/registrations", 405, "method_not_allowed", "POST"},
		{"GET", "/v1/registrations", 405, "method_not_allowed", "POST"},
		{"PUT", "/v1/registrations/K7M2-Q9XP-4TZ", 405, "method_not_allowed", "GET"},
		{"DELETE", "/v1/registrations/K7M2-Q9XP-4TZ", 405, "method_not_allowed", "GET"},
		{"POST", "/healthz", 405, "method_not_allowed", "GET"},
		{"PATCH", "/readyz", 405, "method_not_allowed", "GET"},
	}
	for _, tt := range tests {
		for _, lang := range []turnero.Lang{turnero.Spanish, turnero.English} {
			h := map[string]string{}
			if lang == turnero.English {
				h["Accept-Language"] = "en"
			}
			r := s.do(t, tt.method, tt.path, nil, h)
			if r.status != tt.status {
				t.Errorf("%s %s: %s, want %d", tt.method, tt.path, r, tt.status)
				continue
			}
			e := errorOf(t, r, lang)
			if tt.code != "" && e.Error.Code != tt.code {
				t.Errorf("%s %s: code %q, want %q", tt.method, tt.path, e.Error.Code, tt.code)
			}
			if tt.allow != "" && !strings.Contains(r.header.Get("Allow"), tt.allow) {
				t.Errorf("%s %s: Allow %q, want %s", tt.method, tt.path, r.header.Get("Allow"), tt.allow)
			}
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := s.do(t, "GET", path, nil, nil); r.status != 200 || !json.Valid(r.body) {
			t.Errorf("GET %s: %s", path, r)
		}
	}
	if r := s.do(t, "GET", "/metrics", nil, nil); r.status != 200 || !bytes.Contains(r.body, []byte("turnero_http_requests_total")) {
		t.Errorf("GET /metrics: %d", r.status)
	}
}

func TestLanguage(t *testing.T) {
	s := newTestServer(t, enginetest.SQLite)
	es := "La solicitud no es un JSON válido."
	en := "The request body is not valid JSON."
	for _, tt := range []struct{ accept, want string }{
		{"", es},
		{"es", es},
		{"es-UY,es;q=0.9", es},
		{"en", en},
		{"EN-gb", en},
		{"en-US,en;q=0.9,es;q=0.1", en},
		{"es;q=0.1, en;q=0.9", en},
		{"en;q=0.1, es", es},
		{"fr-FR", es},
		{"fr, en;q=0.5", en},
		{"*", es},
		{";;;,,,q=", es},
	} {
		r := s.postJSON(t, "/v1/registrations", []byte("{"), tt.accept)
		var e errorBody
		if err := json.Unmarshal(r.body, &e); err != nil || r.status != 400 {
			t.Fatalf("Accept-Language %q: %s", tt.accept, r)
		}
		if e.Error.Message != tt.want {
			t.Errorf("Accept-Language %q: %q, want %q", tt.accept, e.Error.Message, tt.want)
		}
	}
	// A field's message is in the person's language too.
	r := s.postJSON(t, "/v1/registrations", mustJSON(t, with(person(0), "consent", false)), "en")
	if e := errorOf(t, r, turnero.English); e.Error.Fields["consent"] != "You must accept the processing of your data to register." {
		t.Errorf("English field message: %s", r.body)
	}
	r = s.postJSON(t, "/v1/registrations", mustJSON(t, with(person(0), "consent", false)), "")
	if e := errorOf(t, r, turnero.Spanish); e.Error.Fields["consent"] != "Debe aceptar el tratamiento de sus datos para registrarse." ||
		e.Error.Message != "Hay datos que corregir en la solicitud." {
		t.Errorf("Spanish field message: %s", r.body)
	}
}

// rawRequest sends text as it is on a new connection (no client cleans the
// path or handles Expect) and returns what the server answers first, read
// until the end of the headers and Content-Length bytes of body.
func (s *testServer) rawRequest(t *testing.T, text string) (status int, header http.Header, body []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, text); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%q: reading the answer: %v", text, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%q: reading the body: %v", text, err)
	}
	return resp.StatusCode, resp.Header, b
}

// TestProtocolEdges: paths that ServeMux would redirect, the lookup path
// read with GET, and an announced body over the limit all get the API's own
// JSON answers.
func TestProtocolEdges(t *testing.T) {
	s := newTestServer(t, enginetest.SQLite)
	for _, tc := range []struct {
		name, request string
		status        int
		code, allow   string
	}{
		{"double slash", "POST //v1/registrations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 404, "route_not_found", ""},
		{"dot segment", "POST /v1/registrations/./lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 404, "route_not_found", ""},
		{"dot-dot segment", "GET /v1/registrations/../healthz HTTP/1.1\r\nHost: x\r\n\r\n", 404, "route_not_found", ""},
		{"dot-dot above the root", "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 404, "route_not_found", ""},
		{"double slash inside", "GET /v1//registrations/K7M2-Q9XP-4TZ HTTP/1.1\r\nHost: x\r\n\r\n", 404, "route_not_found", ""},
		{"GET of the lookup route", "GET /v1/registrations/lookup HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed", "POST"},
		{"PUT of the lookup route", "PUT /v1/registrations/lookup HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405, "method_not_allowed", "POST"},
		{"100 MB announced with Expect", "POST /v1/registrations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Content-Length: 104857600\r\nExpect: 100-continue\r\n\r\n", 413, "body_too_large", ""},
		{"100 MB announced, lookup", "POST /v1/registrations/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Content-Length: 104857600\r\nExpect: 100-continue\r\n\r\n", 413, "body_too_large", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, header, body := s.rawRequest(t, tc.request)
			r := response{status: status, header: header, body: body}
			if status != tc.status {
				t.Fatalf("got %s, want %d", r, tc.status)
			}
			if e := errorOf(t, r, turnero.Spanish); e.Error.Code != tc.code {
				t.Fatalf("code %q, want %q", e.Error.Code, tc.code)
			}
			if got := header.Get("Allow"); got != tc.allow {
				t.Fatalf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
	// An announced body within the limit still gets "100 Continue" and is read.
	status, _, body := s.rawRequest(t, "POST /v1/registrations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n{}")
	if status != http.StatusContinue {
		t.Fatalf("a small body with Expect: %d %s, want 100 Continue first", status, body)
	}
}

// TestLanguageQualityZero: q=0 refuses a language (RFC 9110), and "*" stands
// for the languages not named.
func TestLanguageQualityZero(t *testing.T) {
	s := newTestServer(t, enginetest.SQLite)
	es := "La solicitud no es un JSON válido."
	en := "The request body is not valid JSON."
	for _, tt := range []struct{ accept, want string }{
		{"en;q=0", es},
		{"en;q=0.0, fr", es},
		{"en-GB;q=0, en;q=0", es},
		{"es;q=0, en;q=0.1", en},
		{"es;q=0, *", en},
		{"es;q=0, *;q=0", es},
		{"en; q=0.8, es; q=0.9", es},
		{"en;Q=0.9, es;q=0.5", en},
		{"en;q=2, es;q=0.5", es},
		{"en;q=abc, es;q=0.5", es},
		{"es;q=0.5;x=1, en;level=1;q=0.6", en},
	} {
		r := s.postJSON(t, "/v1/registrations", []byte("{"), tt.accept)
		var e errorBody
		if err := json.Unmarshal(r.body, &e); err != nil || r.status != 400 {
			t.Fatalf("Accept-Language %q: %s", tt.accept, r)
		}
		if e.Error.Message != tt.want {
			t.Errorf("Accept-Language %q: %q, want %q", tt.accept, e.Error.Message, tt.want)
		}
	}
}
