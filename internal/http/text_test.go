package http_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/enginetest"

	"github.com/turnero/turnero/internal/turnero"
)

// TestUnstorableText: a NUL or bytes that are not UTF-8, in a path value or
// in a JSON string, cannot be stored by every engine (PostgreSQL refuses
// both). They are refused at the edge with the answer an unknown id or a
// wrong field gets, the same on every engine, and nothing is stored.
func TestUnstorableText(t *testing.T) { enginetest.Each(t, testUnstorableText) }

func testUnstorableText(t *testing.T, eng enginetest.Engine) {
	ts, clk := withChanges(t, eng)
	codes := scheduleThree(t, ts)
	waiting := receiptOf(t, ts.register(t, person(4)), http.StatusAccepted)
	c := ts.in.Campaign()
	s1, s2 := feedSlots(t, c, "MO-01", clk.Now(), 90)
	start1, start2 := s1.Format(time.RFC3339), s2.Format(time.RFC3339)
	seqs := []int64{1, 2, 3, waiting.Sequence}
	before := snapshot(t, ts, seqs)
	const jsonType = "application/json"
	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
		code, field                     string
	}{
		// Path values that cannot be any id: the route's 404.
		{"agenda, NUL in the center", "GET", "/v1/centers/MO-01%00/agenda?date=2021-03-02", adminSecret, "", 404, "center_not_found", ""},
		{"agenda, not UTF-8 in the center", "GET", "/v1/centers/MO-01%FF/agenda?date=2021-03-02", adminSecret, "", 404, "center_not_found", ""},
		{"check-in, NUL in the center", "POST", "/v1/centers/MO-01%00/checkin", adminSecret, `{"document_type":"CI","document_number":"1.234.567-2"}`, 404, "center_not_found", ""},
		{"dose, broken UTF-8 in the center", "POST", "/v1/centers/%C3%28/doses", adminSecret, `{"tracking_code":"` + codes[1] + `","dose":1,"vaccine":"astrazeneca","lot":"L-1"}`, 404, "center_not_found", ""},
		{"no-show, NUL in the center", "POST", "/v1/centers/%00/no-shows", adminSecret, `{"tracking_code":"` + codes[1] + `","dose":1}`, 404, "center_not_found", ""},
		{"status, NUL in the code", "GET", "/v1/registrations/" + codes[1] + "%00", "", "", 404, "not_found", ""},
		{"cancel, not UTF-8 in the code", "POST", "/v1/registrations/" + codes[1] + "%FF/cancel", "", `{"birth_date":"1958-03-14"}`, 404, "not_found", ""},
		{"another date, NUL in the code", "POST", "/v1/registrations/%00/reschedule", "", `{"birth_date":"1958-03-14"}`, 404, "not_found", ""},
		{"open, NUL in the group", "POST", "/v1/admin/groups/age-60-69%00/open", adminSecret, "", 404, "group_not_found", ""},
		{"pending, not UTF-8 in the group", "GET", "/v1/admin/groups/%FF/pending", adminSecret, "", 404, "group_not_found", ""},
		// JSON strings: 422 naming the field.
		{"feed, NUL in the center", "POST", "/v1/feed/appointments", feedSecret,
			`{"tracking_code":"` + waiting.TrackingCode + `","center_id":"MO-01\u0000","vaccine":"astrazeneca","starts":["` + start1 + `","` + start2 + `"]}`, 422, "invalid_request", "center_id"},
		{"feed, not UTF-8 in the center", "POST", "/v1/feed/appointments", feedSecret,
			`{"tracking_code":"` + waiting.TrackingCode + `","center_id":"MO-01` + "\xff" + `","vaccine":"astrazeneca","starts":["` + start1 + `","` + start2 + `"]}`, 422, "invalid_request", "center_id"},
		{"feed, NUL in the vaccine", "POST", "/v1/feed/appointments", feedSecret,
			`{"tracking_code":"` + waiting.TrackingCode + `","center_id":"MO-01","vaccine":"astrazeneca\u0000","starts":["` + start1 + `","` + start2 + `"]}`, 422, "invalid_request", "vaccine"},
		{"feed, NUL in a start", "POST", "/v1/feed/appointments", feedSecret,
			`{"tracking_code":"` + waiting.TrackingCode + `","center_id":"MO-01","vaccine":"astrazeneca","starts":["` + start1 + `\u0000","` + start2 + `"]}`, 422, "invalid_request", "starts"},
		{"feed, NUL in the code", "POST", "/v1/feed/appointments", feedSecret,
			`{"tracking_code":"` + waiting.TrackingCode + `\u0000","center_id":"MO-01","vaccine":"astrazeneca","starts":["` + start1 + `","` + start2 + `"]}`, 422, "invalid_request", "tracking_code"},
		{"check-in, NUL in the document", "POST", "/v1/centers/MO-01/checkin", adminSecret, `{"document_type":"CI","document_number":"1.234.567-2\u0000"}`, 422, "invalid_request", "document_number"},
		{"check-in, not UTF-8 in the document type", "POST", "/v1/centers/MO-01/checkin", adminSecret, `{"document_type":"CI` + "\xc3" + `","document_number":"1.234.567-2"}`, 422, "invalid_request", "document_type"},
		{"dose, NUL in the lot", "POST", "/v1/centers/MO-01/doses", adminSecret, `{"tracking_code":"` + codes[1] + `","dose":1,"vaccine":"astrazeneca","lot":"L-1\u0000"}`, 422, "invalid_request", "lot"},
		{"cancel, NUL in the birth date", "POST", "/v1/registrations/" + codes[1] + "/cancel", "", `{"birth_date":"1958-03-14\u0000"}`, 422, "invalid_request", "birth_date"},
		{"lookup, NUL in the document", "POST", "/v1/registrations/lookup", "", `{"document_type":"CI","document_number":"\u0000","birth_date":"1958-03-14"}`, 422, "invalid_request", "document_number"},
		{"register, NUL in a name", "POST", "/v1/registrations", "", strings.Replace(string(mustJSON(t, person(5))), "María José", `María\u0000José`, 1), 422, "invalid_request", "given_names"},
		{"register, NUL in a group", "POST", "/v1/registrations", "", strings.Replace(string(mustJSON(t, person(5))), `"groups":[]`, `"groups":["health-workers\u0000"]`, 1), 422, "invalid_request", "groups"},
	} {
		for _, lang := range []turnero.Lang{turnero.Spanish, turnero.English} {
			name, accept := tc.name, ""
			if lang == turnero.English {
				name, accept = name+", English", "en"
			}
			t.Run(name, func(t *testing.T) {
				h := map[string]string{}
				if tc.token != "" {
					h["Authorization"] = "Bearer " + tc.token
				}
				if accept != "" {
					h["Accept-Language"] = accept
				}
				var r response
				if tc.body != "" {
					h["Content-Type"] = jsonType
					r = ts.do(t, tc.method, tc.path, strings.NewReader(tc.body), h)
				} else {
					r = ts.do(t, tc.method, tc.path, nil, h)
				}
				wantError(t, r, tc.status, tc.code, lang)
				if tc.field != "" {
					e := errorOf(t, r, lang)
					if want := turnero.Message("text_encoding", lang); e.Error.Fields[tc.field] != want {
						t.Fatalf("field %s: %q, want %q (%s)", tc.field, e.Error.Fields[tc.field], want, r)
					}
				}
			})
		}
	}
	if after := snapshot(t, ts, seqs); !reflect.DeepEqual(before, after) {
		t.Fatalf("refused requests changed storage:\nbefore %s\nafter  %s", before, after)
	}
}

// TestTextNormalized: text is put in NFC before it is checked or stored,
// whether it arrives as escapes (the encoding/json path) or as raw bytes (the
// registration's fast path): a department with a combining accent is the
// department, 41 decomposed "é" are 41 characters, and what is stored and
// handed to the feed is the composed form.
func TestTextNormalized(t *testing.T) { enginetest.Each(t, testTextNormalized) }

func testTextNormalized(t *testing.T, eng enginetest.Engine) {
	ts, _ := withChanges(t, eng)
	long := strings.Repeat("e\u0301", 41) // 82 code points
	for i, body := range []string{
		// Escapes: encoding/json decodes them.
		strings.NewReplacer(`"María José"`, `"Mari\u0301a Jose\u0301"`, `"Montevideo"`, `"Paysandu\u0301"`,
			`"Pocitos"`, `"Nuevo Paysandu\u0301"`).Replace(string(mustJSON(t, person(11)))),
		// Raw bytes: the fast path.
		strings.NewReplacer("María José", "Mari\u0301a Jose\u0301", "Montevideo", "Paysandu\u0301",
			"Pocitos", "Nuevo Paysandu\u0301").Replace(string(mustJSON(t, person(12)))),
		strings.Replace(string(mustJSON(t, person(13))), "Pérez Núñez", long, 1),
	} {
		if i < 2 && !strings.Contains(body, "u\u0301") && !strings.Contains(body, `u\u0301`) {
			t.Fatalf("case %d has no combining accent: %s", i, body)
		}
		receiptOf(t, ts.postJSON(t, "/v1/registrations", []byte(body), ""), http.StatusAccepted)
	}
	ts.admin(t, "POST", "/v1/admin/groups/age-60-69/open", adminSecret, "")
	r := ts.call(t, "GET", "/v1/feed/registrations", feedSecret, "", nil)
	var page struct {
		Registrations []struct {
			GivenNames  string `json:"given_names"`
			FamilyNames string `json:"family_names"`
			Department  string `json:"department"`
			Locality    string `json:"locality"`
		} `json:"registrations"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.Registrations) != 3 {
		t.Fatalf("feed: %s (%v)", r, err)
	}
	for i, p := range page.Registrations[:2] {
		if p.GivenNames != "María José" || p.Department != "UY-PA" || p.Locality != "Nuevo Paysandú" {
			t.Errorf("registration %d stored as %+q, want composed text in Paysandú", i+1, p)
		}
	}
	if p := page.Registrations[2]; p.FamilyNames != strings.Repeat("é", 41) {
		t.Errorf("41 decomposed é stored as %+q", p.FamilyNames)
	}
}
