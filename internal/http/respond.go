package http

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/turnero/turnero/internal/turnero"
)

// retryAfterSeconds is what a refused request is told to wait: long enough
// for the queue to drain at the measured intake rate, short enough that a
// person retrying by hand is not kept waiting.
const retryAfterSeconds = 2

// statusOf maps a domain error code to an HTTP status.
func statusOf(code turnero.Code) int {
	switch code {
	case turnero.CodeInvalid:
		return http.StatusUnprocessableEntity
	case turnero.CodeMalformed:
		return http.StatusBadRequest
	case turnero.CodeNotFound:
		return http.StatusNotFound
	case turnero.CodeConflict:
		return http.StatusConflict
	case turnero.CodeUnavailable:
		return http.StatusServiceUnavailable
	case turnero.CodeUnauthorized:
		return http.StatusUnauthorized
	case turnero.CodeForbidden:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// writeError is the one place where an error becomes a response, and where
// our own faults are logged (without personal data: errors never carry it).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var de *turnero.Error
	if !errors.As(err, &de) {
		s.log.Error("request failed", "route", r.Pattern, "err", err)
		writeJSONError(w, r, http.StatusInternalServerError, "internal", nil)
		return
	}
	status := statusOf(de.Code)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="turnero"`)
	}
	if status >= 500 {
		s.log.Error("request failed", "route", r.Pattern, "err", err)
	}
	writeJSONError(w, r, status, de.Key, de.Fields)
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func writeJSONError(w http.ResponseWriter, r *http.Request, status int, key string, fields map[string]string) {
	lang := language(r)
	body := errorBody{Error: errorDetail{Code: key, Message: turnero.Message(key, lang)}}
	if len(fields) > 0 {
		body.Error.Fields = make(map[string]string, len(fields))
		for f, k := range fields {
			body.Error.Fields[f] = turnero.Message(k, lang)
		}
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	writeJSON(w, status, body)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own types are encoded; this is a programming error.
		http.Error(w, `{"error":{"code":"internal"}}`, http.StatusInternalServerError)
		return
	}
	writeJSONBody(w, status, append(b, '\n'))
}

// writeJSONBody writes b, a JSON answer and its newline, with the status.
func writeJSONBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// language picks Spanish or English from Accept-Language by quality; Spanish
// when nothing is said or neither is asked for.
func language(r *http.Request) turnero.Lang {
	al := r.Header.Get("Accept-Language")
	if al == "" {
		return turnero.Spanish
	}
	best, bestQ := turnero.Spanish, -1.0
	for _, part := range strings.Split(al, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if p, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(p, 64); err == nil {
				q = v
			}
		}
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		var l turnero.Lang
		switch primary {
		case "es":
			l = turnero.Spanish
		case "en":
			l = turnero.English
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

// isJSON accepts application/json and application/*+json, with parameters.
// The common exact forms are checked without parsing.
func isJSON(ct string) bool {
	if ct == "application/json" || ct == "application/json; charset=utf-8" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// decodeJSON reads a JSON body of at most MaxBodyBytes into v, or returns the
// domain error that says what is wrong with it: not JSON (415), too large
// (413), unreadable (400), a field of the wrong type (422).
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) (status int, key string, fields map[string]string) {
	if !isJSON(r.Header.Get("Content-Type")) {
		return http.StatusUnsupportedMediaType, "unsupported_media", nil
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := (*bp)[:0]
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				*bp = buf[:0]
				return http.StatusRequestEntityTooLarge, "body_too_large", nil
			}
			if err.Error() != "EOF" {
				*bp = buf[:0]
				return http.StatusBadRequest, "malformed_json", nil
			}
			break
		}
	}
	*bp = buf[:0]
	if req, ok := v.(*turnero.RegistrationRequest); ok && decodeRegistration(buf, req) {
		return 0, "", nil
	}
	if err := json.Unmarshal(buf, v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return http.StatusUnprocessableEntity, "invalid_request", map[string]string{ute.Field: "invalid_value"}
		}
		return http.StatusBadRequest, "malformed_json", nil
	}
	return 0, "", nil
}
