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
	case turnero.CodeGone:
		return http.StatusGone
	}
	return http.StatusInternalServerError
}

// writeError is the one place where an error becomes a response, and where
// our own faults are logged (without personal data: errors never carry it).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var de *turnero.Error
	if !errors.As(err, &de) {
		// Not the domain's: an error of what is below the services, the
		// store (unreachable, restarting, full, read-only). Nothing was
		// acknowledged; the honest answer is "not now, try again", with
		// Retry-After. Logged, in case it is a fault of ours.
		s.log.Error("request failed", "route", r.Pattern, "err", err)
		writeJSONError(w, r, http.StatusServiceUnavailable, "store_unavailable", nil)
		return
	}
	status := statusOf(de.Code)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="turnero"`)
	}
	switch {
	case de.Code == turnero.CodeUnavailable && de.Key == turnero.ErrOverloaded.Key:
		s.metrics.Overloaded()
		s.overloads.refused()
	case status >= 500:
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
	// The quality of each language turnero speaks: named (with or without
	// a region), or through "*", which stands for every language not named.
	// q=0 means "not this one" (RFC 9110, 12.4.2).
	named := [2]float64{-1, -1}
	star := -1.0
	for part := range strings.SplitSeq(al, ",") {
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		q, ok := quality(params)
		if !ok {
			continue
		}
		primary, _, _ := strings.Cut(tag, "-")
		switch primary {
		case "es":
			named[turnero.Spanish] = max(named[turnero.Spanish], q)
		case "en":
			named[turnero.English] = max(named[turnero.English], q)
		case "*":
			star = max(star, q)
		}
	}
	for l := range named {
		if named[l] < 0 {
			named[l] = star
		}
	}
	if named[turnero.English] > 0 && named[turnero.English] > named[turnero.Spanish] {
		return turnero.English
	}
	return turnero.Spanish
}

// quality reads the q parameter of one Accept-Language entry: 1 when absent,
// not ok when unreadable (the entry is then ignored).
func quality(params string) (float64, bool) {
	q := 1.0
	for p := range strings.SplitSeq(params, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		if !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || v < 0 || v > 1 {
			return 0, false
		}
		q = v
	}
	return q, true
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
	if r.ContentLength > MaxBodyBytes {
		// Refused before the first read: a client that sent
		// "Expect: 100-continue" is told at once, without "100 Continue",
		// and never sends the body.
		return http.StatusRequestEntityTooLarge, "body_too_large", nil
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
	if fields := cleanText(v); fields != nil {
		return http.StatusUnprocessableEntity, "invalid_request", fields
	}
	return 0, "", nil
}
