package http

import (
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"
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

// unstorableFields returns, for each field of the request v points to that
// holds a string that is not storable, the key of the message that says so.
// Only the slow decoding path calls it (decodeRegistration declines escapes
// and such bytes).
func unstorableFields(v any) map[string]string {
	var fields map[string]string
	eachString(reflect.ValueOf(v), "", func(name string, s *string) {
		if !storable(*s) {
			if fields == nil {
				fields = map[string]string{}
			}
			fields[name] = "text_encoding"
		}
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
