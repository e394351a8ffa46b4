package http_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/enginetest"

	"github.com/turnero/turnero/internal/turnero"
)

func TestRegisterReceipt(t *testing.T) {
	s := newTestServer(t, enginetest.SQLite)
	first := receiptOf(t, s.register(t, person(0)), http.StatusAccepted)
	if first.Sequence != 1 || first.Group != "age-60-69" || first.Duplicate {
		t.Fatalf("first receipt %+v", first)
	}
	// The code stands for the sequence under this installation's key.
	if seq, ok := s.keys.SequenceOf(first.TrackingCode); !ok || seq != first.Sequence {
		t.Fatalf("code %s stands for %d, %v", first.TrackingCode, seq, ok)
	}
	tests := []struct {
		p     map[string]any
		group string
	}{
		{with(person(1), "birth_date", "1930-06-01"), "age-80-plus"},
		{with(person(2), "birth_date", "1985-05-05", "groups", []string{"health-workers"}), "health-workers"},
		{with(person(3), "birth_date", "2005-01-01", "phone", "099 123 456"), "age-12-17"},
		{with(person(4), "document_type", "PASSPORT", "document_number", "ab-123.456"), "age-60-69"},
		{with(person(5), "phone", "", "email", "persona5@example.com"), "age-60-69"},
	}
	for i, tt := range tests {
		rc := receiptOf(t, s.register(t, tt.p), http.StatusAccepted)
		if rc.Group != tt.group || rc.Sequence != int64(i+2) {
			t.Errorf("person %d: receipt %+v, want group %s, sequence %d", i+1, rc, tt.group, i+2)
		}
	}
}

// TestRegisterSamePersonAgain: the same document, however written, and the
// same birth date is the same person: the first receipt back, never a second
// place in line.
func TestRegisterSamePersonAgain(t *testing.T) {
	s := newTestServer(t, enginetest.SQLite)
	first := receiptOf(t, s.register(t, person(0)), http.StatusAccepted)
	for _, p := range []map[string]any{
		person(0),
		with(person(0), "document_number", "12345672"),
		with(person(0), "document_number", "1234567-2"),
		with(person(0), "document_number", " 1 234 567 2 ", "document_type", "ci"),
		// Other contact details, another channel: still the same person.
		with(person(0), "document_number", "12345672", "phone", "099 123 456", "email", "otra@example.com", "channel", "whatsapp"),
		with(person(0), "given_names", "Maria Jose", "family_names", "Perez", "department", "Canelones"),
	} {
		again := receiptOf(t, s.register(t, p), http.StatusOK)
		if again.TrackingCode != first.TrackingCode || again.Sequence != first.Sequence || !again.Duplicate || again.Group != first.Group {
			t.Fatalf("again (%v): %+v, first %+v", p["document_number"], again, first)
		}
	}
	// The same number as a passport is another document.
	other := receiptOf(t, s.register(t, with(person(0), "document_type", "PASSPORT", "document_number", "12345672")), http.StatusAccepted)
	if other.Sequence != 2 {
		t.Fatalf("passport with the cédula's digits: %+v", other)
	}
}

// TestRegisterIdentityConflict: the same document with another birth date is
// someone else or a typo: 409, never the existing code (a cédula number is not
// a secret).
func TestRegisterIdentityConflict(t *testing.T) {
	s := newTestServer(t, enginetest.SQLite)
	first := receiptOf(t, s.register(t, person(0)), http.StatusAccepted)
	for _, lang := range []turnero.Lang{turnero.Spanish, turnero.English} {
		accept := ""
		if lang == turnero.English {
			accept = "en"
		}
		r := s.postJSON(t, "/v1/registrations", mustJSON(t, with(person(0), "document_number", "12345672", "birth_date", "1958-03-15")), accept)
		if r.status != http.StatusConflict {
			t.Fatalf("same document, other birth date: %s", r)
		}
		e := errorOf(t, r, lang)
		if e.Error.Code != "identity_conflict" {
			t.Fatalf("code %q", e.Error.Code)
		}
		compact := strings.ReplaceAll(first.TrackingCode, "-", "")
		for _, leak := range []string{first.TrackingCode, compact, strings.ToLower(compact), "sequence", "tracking_code"} {
			if bytes.Contains(r.body, []byte(leak)) {
				t.Fatalf("409 reveals %q: %s", leak, r.body)
			}
		}
		if r.header.Get("Location") != "" {
			t.Fatalf("409 with a Location: %s", r.header.Get("Location"))
		}
	}
	// The conflict took no place in line.
	if next := receiptOf(t, s.register(t, person(1)), http.StatusAccepted); next.Sequence != first.Sequence+1 {
		t.Fatalf("next person after a conflict: sequence %d, want %d", next.Sequence, first.Sequence+1)
	}
}

// TestRegisterConcurrentSamePerson: 100 identical submissions at once (a
// person, their relatives and a flaky connection retrying) make exactly one
// registration.
func TestRegisterConcurrentSamePerson(t *testing.T) {
	enginetest.Each(t, testRegisterConcurrentSamePerson)
}

func testRegisterConcurrentSamePerson(t *testing.T, eng enginetest.Engine) {
	s := newTestServer(t, eng)
	before := receiptOf(t, s.register(t, person(1)), http.StatusAccepted)
	const n = 100
	bodies := [][]byte{
		mustJSON(t, person(0)),
		mustJSON(t, with(person(0), "document_number", "12345672")),
	}
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		mu       sync.Mutex
		receipts []receipt
		statuses = map[int]int{}
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(body []byte) {
			defer wg.Done()
			<-start
			r := s.postJSON(t, "/v1/registrations", body, "")
			var rc receipt
			json.Unmarshal(r.body, &rc)
			mu.Lock()
			defer mu.Unlock()
			statuses[r.status]++
			receipts = append(receipts, rc)
		}(bodies[i%2])
	}
	close(start)
	wg.Wait()
	if statuses[http.StatusAccepted] != 1 || statuses[http.StatusOK] != n-1 {
		t.Fatalf("statuses %v, want exactly one 202 and %d 200", statuses, n-1)
	}
	first := receipts[0]
	for _, rc := range receipts {
		if rc.TrackingCode != first.TrackingCode || rc.Sequence != first.Sequence || rc.Group != "age-60-69" {
			t.Fatalf("receipts differ: %+v and %+v", rc, first)
		}
	}
	if first.Sequence != before.Sequence+1 {
		t.Fatalf("sequence %d, want %d", first.Sequence, before.Sequence+1)
	}
	if next := receiptOf(t, s.register(t, person(2)), http.StatusAccepted); next.Sequence != first.Sequence+1 {
		t.Fatalf("the next new person got sequence %d, want %d", next.Sequence, first.Sequence+1)
	}
}

// TestRegisterConcurrentDifferentPeople: people registering at once get
// distinct, gap-free sequences and codes.
func TestRegisterConcurrentDifferentPeople(t *testing.T) {
	s := newTestServer(t, enginetest.SQLite)
	const n = 60
	var wg sync.WaitGroup
	start := make(chan struct{})
	out := make([]response, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			out[i] = s.register(t, person(100+i))
		}(i)
	}
	close(start)
	wg.Wait()
	seqs, codes := map[int64]bool{}, map[string]bool{}
	for _, r := range out {
		rc := receiptOf(t, r, http.StatusAccepted)
		if seqs[rc.Sequence] || codes[rc.TrackingCode] {
			t.Fatalf("sequence %d or code %s given twice", rc.Sequence, rc.TrackingCode)
		}
		seqs[rc.Sequence], codes[rc.TrackingCode] = true, true
	}
	for i := int64(1); i <= n; i++ {
		if !seqs[i] {
			t.Fatalf("sequence %d missing: %v", i, seqs)
		}
	}
}

type statusBody struct {
	TrackingCode string `json:"tracking_code"`
	Status       string `json:"status"`
	Group        string `json:"group"`
	GroupName    string `json:"group_name"`
	Sequence     int64  `json:"sequence"`
	Position     int64  `json:"position"`
	Name         string `json:"name"`
	DocumentType string `json:"document_type"`
	Document     string `json:"document"`
	Department   string `json:"department"`
	ReceivedAt   string `json:"received_at"`
	Appointments []any  `json:"appointments"`
}

func statusOf(t *testing.T, r response) statusBody {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status: %s", r)
	}
	var st statusBody
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatalf("status body %s: %v", r.body, err)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", r.header.Get("Cache-Control"))
	}
	return st
}

// clearForms are ways the personal data of person(0) could appear in clear.
var clearForms = []string{
	"1.234.567-2", "12345672", "1234567", "María", "José", "Pérez", "Núñez", "Maria", "Perez",
	"1958-03-14", "+59899123456", "59899123456", "99123456", "099 123 456", "Pocitos",
}

func TestStatus(t *testing.T) { enginetest.Each(t, testStatus) }

func testStatus(t *testing.T, eng enginetest.Engine) {
	s := newTestServer(t, eng)
	a := receiptOf(t, s.register(t, person(0)), http.StatusAccepted)                                             // age-60-69, 1st
	b := receiptOf(t, s.register(t, with(person(1), "birth_date", "1930-06-01")), http.StatusAccepted)           // age-80-plus, 1st
	c := receiptOf(t, s.register(t, with(person(2), "birth_date", "1961-01-01")), http.StatusAccepted)           // age-60-69, 2nd
	d := receiptOf(t, s.register(t, with(person(3), "department", "paysandu")), http.StatusAccepted)             // age-60-69, 3rd
	e := receiptOf(t, s.register(t, with(person(4), "groups", []string{"health-workers"})), http.StatusAccepted) // health-workers, 1st

	for _, tt := range []struct {
		rc       receipt
		group    string
		position int64
		dept     string
	}{
		{a, "age-60-69", 1, "Montevideo"},
		{b, "age-80-plus", 1, "Montevideo"},
		{c, "age-60-69", 2, "Montevideo"},
		{d, "age-60-69", 3, "Paysandú"},
		{e, "health-workers", 1, "Montevideo"},
	} {
		r := s.do(t, "GET", "/v1/registrations/"+tt.rc.TrackingCode, nil, nil)
		st := statusOf(t, r)
		if st.TrackingCode != tt.rc.TrackingCode || st.Sequence != tt.rc.Sequence || st.Status != "waiting" ||
			st.Group != tt.group || st.Position != tt.position || st.Department != tt.dept {
			t.Errorf("status of %s: %s; want group %s position %d", tt.rc.TrackingCode, r.body, tt.group, tt.position)
		}
		if st.Name != "M*** J*** P*** N***" || st.DocumentType != "CI" || !strings.HasPrefix(st.Document, "•") ||
			len(st.Appointments) != 0 || st.Appointments == nil {
			t.Errorf("status of %s: %s", tt.rc.TrackingCode, r.body)
		}
		if _, err := time.Parse(time.RFC3339, st.ReceivedAt); err != nil {
			t.Errorf("received_at %q", st.ReceivedAt)
		}
	}
	r := s.do(t, "GET", "/v1/registrations/"+a.TrackingCode, nil, nil)
	if st := statusOf(t, r); st.Document != "•••••672" || st.GroupName != "Personas de 60 a 69 años" {
		t.Errorf("status: %s", r.body)
	}
	for _, leak := range clearForms {
		if bytes.Contains(r.body, []byte(leak)) {
			t.Errorf("status shows %q: %s", leak, r.body)
		}
	}
	// In English, the group's English name.
	r = s.do(t, "GET", "/v1/registrations/"+a.TrackingCode, nil, map[string]string{"Accept-Language": "en"})
	if st := statusOf(t, r); st.GroupName != "People aged 60 to 69" {
		t.Errorf("English group name %q", st.GroupName)
	}
	// Typed the way people type codes.
	for _, typed := range []string{strings.ToLower(a.TrackingCode), strings.ReplaceAll(a.TrackingCode, "-", ""),
		strings.NewReplacer("0", "O", "1", "I").Replace(a.TrackingCode)} {
		if st := statusOf(t, s.do(t, "GET", "/v1/registrations/"+typed, nil, nil)); st.Sequence != a.Sequence {
			t.Errorf("GET %s: sequence %d", typed, st.Sequence)
		}
	}

	// Not found: a code never issued, a code with a typo, garbage.
	notFound := []string{
		strings.ReplaceAll(turnero.FormatTrackingCode(s.keys.TrackingCode(99)), "-", ""),
		turnero.FormatTrackingCode(s.keys.TrackingCode(0)),
		"hello", "K7M2-Q9XP-4TZ",
	}
	code := []byte(strings.ReplaceAll(a.TrackingCode, "-", ""))
	for i := range code {
		typo := bytes.Clone(code)
		typo[i] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"[(strings.IndexByte("0123456789ABCDEFGHJKMNPQRSTVWXYZ", typo[i])+7)%32]
		notFound = append(notFound, string(typo))
		if i+1 < len(code) && code[i] != code[i+1] {
			swap := bytes.Clone(code)
			swap[i], swap[i+1] = swap[i+1], swap[i]
			notFound = append(notFound, string(swap))
		}
	}
	var first []byte
	for _, typed := range notFound {
		r := s.do(t, "GET", "/v1/registrations/"+typed, nil, nil)
		if r.status != http.StatusNotFound {
			t.Fatalf("GET %s: %s, want 404", typed, r)
		}
		if e := errorOf(t, r, turnero.Spanish); e.Error.Code != "not_found" {
			t.Fatalf("GET %s: %s", typed, r.body)
		}
		if first == nil {
			first = r.body
		} else if !bytes.Equal(first, r.body) {
			t.Fatalf("404 bodies differ: %s and %s", first, r.body)
		}
	}
}

// TestLookup: someone who lost their code finds their status with their
// document and birth date; either wrong gives the same 404, with no hint of
// which.
func TestLookup(t *testing.T) { enginetest.Each(t, testLookup) }

func testLookup(t *testing.T, eng enginetest.Engine) {
	s := newTestServer(t, eng)
	rc := receiptOf(t, s.register(t, person(0)), http.StatusAccepted)
	receiptOf(t, s.register(t, person(1)), http.StatusAccepted)
	byCode := s.do(t, "GET", "/v1/registrations/"+rc.TrackingCode, nil, nil)
	var want map[string]any
	json.Unmarshal(byCode.body, &want)
	if byCode.status != 200 || want["sequence"] != float64(rc.Sequence) {
		t.Fatalf("status by code: %s", byCode)
	}
	lookup := func(docType, number, birth, lang string) response {
		return s.postJSON(t, "/v1/registrations/lookup", mustJSON(t, map[string]string{
			"document_type": docType, "document_number": number, "birth_date": birth,
		}), lang)
	}
	for _, number := range []string{"1.234.567-2", "12345672", "1234567-2"} {
		for _, docType := range []string{"CI", "ci"} {
			r := lookup(docType, number, "1958-03-14", "")
			var got map[string]any
			if r.status != 200 || json.Unmarshal(r.body, &got) != nil {
				t.Fatalf("lookup %s %s: %s", docType, number, r)
			}
			if !jsonEqual(got, want) {
				t.Fatalf("lookup %s %s:\n got %s\nwant %s", docType, number, r.body, byCode.body)
			}
		}
	}
	// Wrong birth date, unknown document, a document registered under another
	// type: the same 404, byte for byte, in each language.
	for _, lang := range []string{"", "en"} {
		l := turnero.Spanish
		if lang == "en" {
			l = turnero.English
		}
		misses := []response{
			lookup("CI", "1.234.567-2", "1958-03-15", lang),
			lookup("CI", "1.234.567-2", "1958-04-14", lang),
			lookup("CI", "4.444.444-4", "1958-03-14", lang),
			lookup("PASSPORT", "12345672", "1958-03-14", lang),
		}
		for i, r := range misses {
			if r.status != http.StatusNotFound {
				t.Fatalf("lookup miss %d: %s", i, r)
			}
			if e := errorOf(t, r, l); e.Error.Code != "not_found" {
				t.Fatalf("lookup miss %d: %s", i, r.body)
			}
			if !bytes.Equal(r.body, misses[0].body) {
				t.Fatalf("404 bodies differ, telling which detail is wrong:\n%s\n%s", misses[0].body, r.body)
			}
			for _, leak := range []string{rc.TrackingCode, "sequence"} {
				if bytes.Contains(r.body, []byte(leak)) {
					t.Fatalf("a miss reveals %q", leak)
				}
			}
		}
	}
}

func jsonEqual(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
