package http

import (
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Text that no engine may be asked to store or compare is refused here, at
// the edge, so that every engine gives the same answer: PostgreSQL refuses a
// NUL and bytes that are not UTF-8 in any text value (500 before), where
// SQLite stores or compares them. A path value of that kind cannot be any
// id; a JSON string of that kind is a wrong field.

// storable reports whether s has no NUL, is valid UTF-8 and holds no
// U+FFFD: encoding/json turns bytes that are not UTF-8 (and lone surrogate
// escapes) into U+FFFD, which no one types, so it stands for them.
func storable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= utf8.RuneSelf {
			return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) && !strings.ContainsRune(s, utf8.RuneError)
		}
	}
	return true
}

// pathValue returns the path value name of r, or notFound when it cannot be
// any id.
func pathValue(r *http.Request, name string, notFound error) (string, error) {
	v := r.PathValue(name)
	if !storable(v) {
		return "", notFound
	}
	return v, nil
}

// Every text field is put in Unicode normalization form C before it is
// checked or stored: "Paysandu\u0301" (u and a combining acute accent, as
// some keyboards and apps send it) is "Paysandú", one character for the
// accented u when a length is counted, and the same bytes when a document
// or a name is compared. The domain (package turnero) stays on the standard
// library, which has no normalization; so this is done where text enters,
// for every route at once: here for bodies decoded by encoding/json, in
// decodeRegistration for the registration's fast path.

// nfc returns s in normalization form C. Text whose every code point is
// below U+0300 is in NFC already: ASCII (a launch evening's documents, dates
// and codes) and the precomposed letters of Latin-1 and Latin Extended (é, ñ,
// ç, ã), which are all of Spanish and Portuguese names; no code point there
// decomposes, has a combining class or composes with what follows
// (TestNFCBelowCombiningMarks holds this to the tables). That text is
// returned as it is, without norm's quick check, which costs 200 ns and an
// allocation a string; the rest goes through norm.
func nfc(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			// Code points up to U+02FF are encoded with a first byte up to 0xCB.
			if c > 0xCB {
				return norm.NFC.String(s)
			}
		}
	}
	return s
}

// cleanText puts every string of the request v points to in NFC, and
// returns, for each field that holds a string that is not storable, the key
// of the message that says so. Only the slow decoding path calls it
// (decodeRegistration declines escapes and such bytes).
func cleanText(v any) map[string]string {
	var fields map[string]string
	eachString(reflect.ValueOf(v), "", func(name string, s *string) {
		if !storable(*s) {
			if fields == nil {
				fields = map[string]string{}
			}
			fields[name] = "text_encoding"
			return
		}
		*s = nfc(*s)
	})
	return fields
}

// eachString calls fn with the JSON name and the address of every string in
// v: string fields of a struct, the elements of its []string fields, and
// those of nested structs. The requests of this API are made of those.
func eachString(v reflect.Value, name string, fn func(name string, s *string)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			eachString(v.Elem(), name, fn)
		}
	case reflect.String:
		if v.CanAddr() {
			fn(name, v.Addr().Interface().(*string))
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			eachString(v.Index(i), name, fn)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case tag == "-":
				continue
			case tag == "":
				tag = f.Name
			}
			eachString(v.Field(i), tag, fn)
		}
	}
}
