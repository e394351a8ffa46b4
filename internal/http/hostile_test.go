package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/enginetest"

	"github.com/turnero/turnero/internal/turnero"
)

type hostileCase struct {
	name        string
	method      string // POST when empty
	path        string // /v1/registrations when empty
	contentType string // application/json when empty; "-" for none
	body        []byte
	chunked     bool  // send without a Content-Length
	status      []int // acceptable statuses (a normal answer may be 200 or 202)
	code        string
	field       string // named in error.fields
}

// bodyWith returns a valid request of person i whose field has the raw JSON
// text value (already quoted if it is a string).
func bodyWith(t *testing.T, i int, field string, raw string) []byte {
	t.Helper()
	b := mustJSON(t, with(person(i), field, "@@VALUE@@"))
	out := bytes.Replace(b, []byte(`"@@VALUE@@"`), []byte(raw), 1)
	if bytes.Equal(out, b) {
		t.Fatalf("no placeholder in %s", b)
	}
	return out
}

// quoted makes a JSON string of raw bytes, escaping only what JSON must
// have escaped, so that invalid UTF-8 goes through as bytes.
func quoted(raw string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// hostileCases: each with its expected status.
func hostileCases(t *testing.T) []hostileCase {
	valid := mustJSON(t, person(900))
	pad := func(b []byte, n int) []byte { // b padded with spaces to n bytes
		return append(bytes.Clone(b), bytes.Repeat([]byte(" "), n-len(b))...)
	}
	cases := []hostileCase{
		// Not JSON, or not one JSON object.
		{name: "malformed JSON", body: []byte(`{"document_type":`), status: []int{400}, code: "malformed_json"},
		{name: "empty body", body: nil, status: []int{400}, code: "malformed_json"},
		{name: "only spaces", body: []byte("   \n"), status: []int{400}, code: "malformed_json"},
		{name: "single quotes", body: []byte(`{'consent': true}`), status: []int{400}, code: "malformed_json"},
		{name: "JSON array", body: []byte(`[` + string(valid) + `]`), status: []int{400}, code: "malformed_json"},
		{name: "empty array", body: []byte(`[]`), status: []int{400}, code: "malformed_json"},
		{name: "number", body: []byte(`42`), status: []int{400}, code: "malformed_json"},
		{name: "string", body: []byte(`"hola"`), status: []int{400}, code: "malformed_json"},
		{name: "true", body: []byte(`true`), status: []int{400}, code: "malformed_json"},
		{name: "null", body: []byte(`null`), status: []int{422}, code: "invalid_request", field: "document_number"},
		{name: "empty object", body: []byte(`{}`), status: []int{422}, code: "invalid_request", field: "consent"},
		{name: "trailing garbage", body: append(bytes.Clone(valid), "xyz"...), status: []int{400}, code: "malformed_json"},
		{name: "two objects", body: append(bytes.Clone(valid), valid...), status: []int{400}, code: "malformed_json"},
		{name: "trailing comma", body: append(bytes.Clone(valid[:len(valid)-1]), ",}"...), status: []int{400}, code: "malformed_json"},
		{name: "raw NUL outside strings", body: append([]byte{0}, valid...), status: []int{400}, code: "malformed_json"},
		{name: "raw NUL inside a string", body: bytes.Replace(valid, []byte("Pocitos"), []byte("Poci\x00tos"), 1), status: []int{400}, code: "malformed_json"},
		{name: "raw newline inside a string", body: bytes.Replace(valid, []byte("Pocitos"), []byte("Poci\ntos"), 1), status: []int{400}, code: "malformed_json"},
		{name: "BOM", body: append([]byte("\xef\xbb\xbf"), valid...), status: []int{400}, code: "malformed_json"},
		{name: "UTF-16", body: []byte("\xff\xfe{\x00}\x00"), status: []int{400}, code: "malformed_json"},
		{name: "bad escape", body: bytes.Replace(valid, []byte("Pocitos"), []byte(`Poci\xtos`), 1), status: []int{400}, code: "malformed_json"},
		{name: "lone surrogate escape", body: bytes.Replace(valid, []byte("Pocitos"), []byte(`Poci\ud800tos`), 1), status: []int{422}, code: "invalid_request", field: "locality"},
		{name: "huge number", body: bodyWith(t, 0, "consent", "1e999999"), status: []int{400, 422}},
		{name: "deeply nested arrays", body: bodyWith(t, 0, "groups", strings.Repeat("[", 5000)+strings.Repeat("]", 5000)), status: []int{422}, code: "invalid_request", field: "groups"},
		{name: "deeply nested in an unknown field", body: bodyWith(t, 903, "extra", strings.Repeat(`{"a":`, 2000)+"1"+strings.Repeat("}", 2000)), status: []int{422, 202, 200}},
		{name: "nested past the decoder's limit", body: []byte(`{"groups":` + strings.Repeat("[", 12000)), status: []int{400}, code: "malformed_json"},
		// Size.
		{name: "body over 16 KiB", body: pad(valid, 17<<10), status: []int{413}, code: "body_too_large"},
		{name: "body of 16 KiB + 1", body: pad(valid, 16<<10+1), status: []int{413}, code: "body_too_large"},
		{name: "body of exactly 16 KiB", body: pad(valid, 16<<10), status: []int{202, 200}},
		{name: "chunked body over 16 KiB", body: pad(valid, 20<<10), chunked: true, status: []int{413}, code: "body_too_large"},
		{name: "string over 16 KiB", body: bodyWith(t, 0, "given_names", quoted(strings.Repeat("a", 20<<10))), status: []int{413}, code: "body_too_large"},
		// Content types.
		{name: "no Content-Type", contentType: "-", body: valid, status: []int{415}, code: "unsupported_media"},
		{name: "text/plain", contentType: "text/plain", body: valid, status: []int{415}, code: "unsupported_media"},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: []byte("document_type=CI&consent=true"), status: []int{415}, code: "unsupported_media"},
		{name: "multipart", contentType: "multipart/form-data; boundary=x", body: []byte("--x\r\n\r\n--x--"), status: []int{415}, code: "unsupported_media"},
		{name: "application/xml", contentType: "application/xml", body: []byte("<a/>"), status: []int{415}, code: "unsupported_media"},
		{name: "unparsable Content-Type", contentType: "application/json; charset", body: valid, status: []int{415}, code: "unsupported_media"},
		{name: "json prefix", contentType: "application/jsonp", body: valid, status: []int{415}, code: "unsupported_media"},
		{name: "text/json", contentType: "text/json", body: valid, status: []int{415}, code: "unsupported_media"},
		{name: "JSON with charset", contentType: "application/json; charset=utf-8", body: valid, status: []int{202, 200}},
		{name: "JSON in capitals", contentType: "Application/JSON", body: valid, status: []int{202, 200}},
		{name: "a +json type", contentType: "application/vnd.turnero+json", body: valid, status: []int{202, 200}},
		// Wrong JSON types: 422 naming the field.
		{name: "consent as a string", body: bodyWith(t, 0, "consent", `"yes"`), status: []int{422}, code: "invalid_request", field: "consent"},
		{name: "consent as a number", body: bodyWith(t, 0, "consent", `1`), status: []int{422}, code: "invalid_request", field: "consent"},
		{name: "groups as a string", body: bodyWith(t, 0, "groups", `"x"`), status: []int{422}, code: "invalid_request", field: "groups"},
		{name: "groups of numbers", body: bodyWith(t, 0, "groups", `[1,2]`), status: []int{422}, code: "invalid_request", field: "groups"},
		{name: "groups as an object", body: bodyWith(t, 0, "groups", `{"a":"b"}`), status: []int{422}, code: "invalid_request", field: "groups"},
		{name: "document number as a number", body: bodyWith(t, 0, "document_number", `12345672`), status: []int{422}, code: "invalid_request", field: "document_number"},
		{name: "phone as a number", body: bodyWith(t, 0, "phone", `59899123456`), status: []int{422}, code: "invalid_request", field: "phone"},
		{name: "given names as an array", body: bodyWith(t, 0, "given_names", `["María"]`), status: []int{422}, code: "invalid_request", field: "given_names"},
		{name: "birth date as an object", body: bodyWith(t, 0, "birth_date", `{"year":1958}`), status: []int{422}, code: "invalid_request", field: "birth_date"},
		{name: "channel as a boolean", body: bodyWith(t, 0, "channel", `true`), status: []int{422}, code: "invalid_request", field: "channel"},
		{name: "null email is no email", body: bodyWith(t, 901, "email", `null`), status: []int{202, 200}},
		// SQL that must stay data.
		{name: "SQL in names", body: bodyWith(t, 0, "given_names", quoted("Robert'); DROP TABLE registrations;--")), status: []int{422}, code: "invalid_request", field: "given_names"},
		{name: "SQL in the document", body: bodyWith(t, 0, "document_number", quoted("1' OR '1'='1")), status: []int{422}, code: "invalid_request", field: "document_number"},
		{name: "SQL in the department", body: bodyWith(t, 0, "department", quoted("Montevideo' OR 1=1 --")), status: []int{422}, code: "invalid_request", field: "department"},
		{name: "SQL in the document type", body: bodyWith(t, 0, "document_type", quoted("CI' UNION SELECT * FROM registrations --")), status: []int{422}, code: "invalid_request", field: "document_type"},
		{name: "SQL-looking but valid", body: mustJSON(t, with(person(902), "given_names", "O'Drop-Table", "family_names", "D'Select",
			"email", "x'--@example.com", "locality", "Pocitos' OR 'a'-'a")), status: []int{202, 200}},
	}
	// Hostile values in every string field: each is refused naming that field.
	fields := []struct{ name, valid string }{
		{"document_type", "CI"}, {"document_number", "1.234.567-2"}, {"given_names", "María José"},
		{"family_names", "Pérez Núñez"}, {"birth_date", "1958-03-14"}, {"phone", "+59899123456"},
		{"email", "maria@example.com"}, {"department", "Montevideo"}, {"locality", "Pocitos"}, {"channel", "web"},
	}
	hostile := []struct{ name, value string }{
		{"NUL", "\x00"},
		{"control characters", "\x01\x1b[31m"},
		{"invalid UTF-8", "\xff\xfe\xc3"},
		{"RTL override", "\u202e"},
		{"zero-width space", "\u200b"},
		{"SQL", "' OR '1'='1'; DROP TABLE registrations; --"},
		{"HTML", "<script>alert(1)</script>"},
		{"very long", strings.Repeat("9", 10_000)},
	}
	for _, f := range fields {
		for _, h := range hostile {
			value := f.valid + h.value
			if f.name == "email" {
				value = "maria" + h.value + "@example.com"
			}
			cases = append(cases, hostileCase{
				name: h.name + " in " + f.name, body: bodyWith(t, 0, f.name, quoted(value)),
				status: []int{422}, code: "invalid_request", field: f.name,
			})
		}
		cases = append(cases, hostileCase{
			name: "very long value only in " + f.name, body: bodyWith(t, 0, f.name, quoted(strings.Repeat("a", 15_000))),
			status: []int{422}, code: "invalid_request", field: f.name,
		})
	}
	for _, h := range hostile {
		cases = append(cases, hostileCase{
			name: h.name + " in groups", body: bodyWith(t, 0, "groups", "["+quoted("health-workers"+h.value)+"]"),
			status: []int{422}, code: "invalid_request", field: "groups",
		})
	}
	cases = append(cases, hostileCase{
		name: "many groups", body: bodyWith(t, 0, "groups", "["+strings.Repeat(`"health-workers",`, 500)+`"health-workers"]`),
		status: []int{422}, code: "invalid_request", field: "groups",
	})
	// The other routes that read input.
	lookup := func(i int, kv ...any) []byte {
		p := person(i)
		return mustJSON(t, with(map[string]any{"document_type": p["document_type"], "document_number": p["document_number"], "birth_date": p["birth_date"]}, kv...))
	}
	cases = append(cases,
		hostileCase{name: "lookup: malformed", path: "/v1/registrations/lookup", body: []byte(`{"document_type"`), status: []int{400}, code: "malformed_json"},
		hostileCase{name: "lookup: too large", path: "/v1/registrations/lookup", body: pad(lookup(0), 17<<10), status: []int{413}, code: "body_too_large"},
		hostileCase{name: "lookup: text/plain", path: "/v1/registrations/lookup", contentType: "text/plain", body: lookup(0), status: []int{415}, code: "unsupported_media"},
		hostileCase{name: "lookup: number for a string", path: "/v1/registrations/lookup", body: []byte(`{"document_number":12345672}`), status: []int{422}, code: "invalid_request", field: "document_number"},
		hostileCase{name: "lookup: empty", path: "/v1/registrations/lookup", body: []byte(`{}`), status: []int{422}, code: "invalid_request", field: "birth_date"},
		hostileCase{name: "lookup: SQL", path: "/v1/registrations/lookup", body: lookup(0, "document_number", "' OR 1=1 --"), status: []int{422}, code: "invalid_request", field: "document_number"},
		hostileCase{name: "lookup: bad date", path: "/v1/registrations/lookup", body: lookup(0, "birth_date", "1958-02-30"), status: []int{422}, code: "invalid_request", field: "birth_date"},
		hostileCase{name: "lookup: unknown document type", path: "/v1/registrations/lookup", body: lookup(0, "document_type", "DNI"), status: []int{422}, code: "invalid_request", field: "document_type"},
		hostileCase{name: "lookup: nobody", path: "/v1/registrations/lookup", body: lookup(904), status: []int{404}, code: "not_found"},
		hostileCase{name: "status: garbage code", method: "GET", path: "/v1/registrations/hello", status: []int{404}, code: "not_found"},
		hostileCase{name: "status: NUL in the code", method: "GET", path: "/v1/registrations/%00", status: []int{404}, code: "not_found"},
		hostileCase{name: "status: SQL in the code", method: "GET", path: "/v1/registrations/1%27%20OR%20%271%27=%271", status: []int{404}, code: "not_found"},
		hostileCase{name: "status: long code", method: "GET", path: "/v1/registrations/" + strings.Repeat("A", 4000), status: []int{404}, code: "not_found"},
		hostileCase{name: "status: RTL in the code", method: "GET", path: "/v1/registrations/%E2%80%AEK7M2", status: []int{404}, code: "not_found"},
	)
	return cases
}

// TestHostileInput sends every case twice, in Spanish and in English, to the
// real server. No case gets a 5xx; every refusal is a JSON error with a code
// and a message in the person's language.
func TestHostileInput(t *testing.T) {
	s := newTestServer(t, enginetest.SQLite)
	for _, tc := range hostileCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			for _, lang := range []turnero.Lang{turnero.Spanish, turnero.English} {
				method, path := tc.method, tc.path
				if method == "" {
					method = http.MethodPost
				}
				if path == "" {
					path = "/v1/registrations"
				}
				h := map[string]string{"Content-Type": "application/json"}
				switch tc.contentType {
				case "":
				case "-":
					delete(h, "Content-Type")
				default:
					h["Content-Type"] = tc.contentType
				}
				if method == http.MethodGet {
					delete(h, "Content-Type")
				}
				if lang == turnero.English {
					h["Accept-Language"] = "en"
				}
				var body io.Reader
				if tc.body != nil || method != http.MethodGet {
					body = bytes.NewReader(tc.body)
					if tc.chunked {
						body = io.MultiReader(body) // hides the length: sent chunked
					}
				}
				r := s.do(t, method, path, body, h)
				if r.status >= 500 {
					t.Fatalf("5xx: %s", r)
				}
				ok := false
				for _, st := range tc.status {
					ok = ok || r.status == st
				}
				if !ok {
					t.Fatalf("status %s, want one of %v", r, tc.status)
				}
				if r.status < 300 {
					if path == "/v1/registrations" {
						receiptOf(t, r, r.status)
					}
					continue
				}
				e := errorOf(t, r, lang)
				if tc.code != "" && e.Error.Code != tc.code {
					t.Fatalf("code %q, want %q: %s", e.Error.Code, tc.code, r.body)
				}
				if tc.field != "" && e.Error.Fields[tc.field] == "" {
					t.Fatalf("field %s not named: %s", tc.field, r.body)
				}
			}
		})
	}
	// After all that, the database is intact and takes registrations.
	rc := receiptOf(t, s.register(t, person(999)), http.StatusAccepted)
	if r := s.do(t, "GET", "/v1/registrations/"+rc.TrackingCode, nil, nil); r.status != 200 {
		t.Fatalf("status after hostile input: %s", r)
	}
	var health map[string]any
	if r := s.do(t, "GET", "/readyz", nil, nil); r.status != 200 || json.Unmarshal(r.body, &health) != nil {
		t.Fatalf("readyz after hostile input: %s", r)
	}
}
