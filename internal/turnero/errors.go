package turnero

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Code classifies an error for the people and programs that receive it. One
// function at the edge (the HTTP layer) maps codes to statuses; the domain only
// says what went wrong.
type Code string

const (
	CodeInvalid     Code = "invalid"     // the request breaks a rule of the domain (422)
	CodeMalformed   Code = "malformed"   // the request cannot be read at all (400)
	CodeNotFound    Code = "not_found"   // no such thing (404)
	CodeConflict    Code = "conflict"    // contradicts what is stored (409)
	CodeUnavailable Code = "unavailable" // try again later (503)
	CodeInternal    Code = "internal"    // a fault of ours (500)
	// CodeUnauthorized: no credentials, or not valid ones (401).
	CodeUnauthorized Code = "unauthorized"
	// CodeForbidden: valid credentials that do not allow this (403).
	CodeForbidden Code = "forbidden"
	// CodeGone: it existed and is no more (410).
	CodeGone Code = "gone"
)

// Error is the one error type of the domain. Message keys are looked up in the
// message catalogue so that a person reads them in their language.
type Error struct {
	Code Code
	// Key names the message in the catalogue (see messages.go).
	Key string
	// Fields maps a request field to the key of what is wrong with it.
	Fields map[string]string
	// Err is the underlying cause, for logs; never shown to a person.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	b.WriteString(": ")
	b.WriteString(e.Key)
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s: %s", k, e.Fields[k])
		}
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a domain error with a message key.
func Errorf(code Code, key string) *Error { return &Error{Code: code, Key: key} }

// ErrorCode returns the code of the first domain error in err's chain, or
// CodeInternal when there is none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Common errors, compared with errors.Is through their keys.
var (
	ErrNotFound         = Errorf(CodeNotFound, "not_found")
	ErrIdentityClash    = Errorf(CodeConflict, "identity_conflict")
	ErrOverloaded       = Errorf(CodeUnavailable, "overloaded")
	ErrShuttingDown     = Errorf(CodeUnavailable, "shutting_down")
	ErrStoreUnavailable = Errorf(CodeUnavailable, "store_unavailable")
)

// Is lets errors.Is match domain errors by code and key.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && t.Key == e.Key
}

// FieldErrors collects per-field problems while validating a request.
type FieldErrors map[string]string

// Add records the first problem found for a field.
func (f FieldErrors) Add(field, key string) {
	if _, ok := f[field]; !ok {
		f[field] = key
	}
}

// Err returns an invalid-request error, or nil when no field is wrong.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: CodeInvalid, Key: "invalid_request", Fields: map[string]string(f)}
}
