package http_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/turnero"
)

// FuzzRegistrationDecoder posts arbitrary bytes to /v1/registrations through
// the real handler, wired to real SQLite: never a 5xx, always a JSON receipt
// or a JSON error with a code and a message from the catalogue.
func FuzzRegistrationDecoder(f *testing.F) {
	s := newTestServer(f, enginetest.SQLite)
	valid := func(i int) []byte {
		b, _ := json.Marshal(person(i))
		return b
	}
	seeds := [][]byte{
		valid(0), valid(1), valid(0), // a duplicate
		[]byte(`{}`), []byte(`null`), []byte(`[]`), []byte(`42`), []byte(`"x"`), []byte(``), []byte(`{`),
		[]byte(`{"consent":"yes"}`), []byte(`{"groups":"x"}`), []byte(`{"document_number":12345672}`),
		append(valid(2), "garbage"...), append(valid(3), valid(3)...),
		bytes.Replace(valid(4), []byte("1958-03-14"), []byte("1958-03-15"), 1),
		bytes.Replace(valid(0), []byte("1958-03-14"), []byte("1958-03-15"), 1), // a clash with person 0
		bytes.Replace(valid(5), []byte("Pocitos"), []byte("Poci\\u0000tos"), 1),
		bytes.Replace(valid(6), []byte("María"), []byte("Mar\xffía"), 1),
		bytes.Replace(valid(7), []byte("María"), []byte("\u202eMaría"), 1),
		bytes.Replace(valid(8), []byte(`"groups":[]`), []byte(`"groups":["health-workers"]`), 1),
		[]byte(`{"groups":` + strings.Repeat("[", 3000) + strings.Repeat("]", 3000) + `}`),
		[]byte(`{"given_names":"` + strings.Repeat("a", 17<<10) + `"}`),
		[]byte(`{"document_type":"CI","document_number":"1' OR '1'='1"}`),
	}
	for _, b := range seeds {
		f.Add("application/json", b)
	}
	f.Add("text/plain", valid(9))
	f.Add("application/vnd.x+json; charset=utf-8", valid(10))
	f.Add("", []byte(`{}`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/registrations", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, req)
		r := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		switch r.status {
		case http.StatusOK, http.StatusAccepted:
			receiptOf(t, r, r.status)
		case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge,
			http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
			errorOf(t, r, turnero.Spanish)
		default:
			t.Fatalf("status %s", r)
		}
	})
}
