package http

import (
	"strings"
	"unicode/utf8"

	"github.com/turnero/turnero/internal/turnero"
)

// Every registration of a launch evening arrives as the same small object.
// encoding/json decodes it through reflection, at several allocations a
// field; decodeRegistration reads that one shape directly, all its strings
// sharing one copy of the body. Anything it does not know for certain how
// encoding/json would read (escapes, null, unknown or differently cased
// keys, a key twice, numbers, invalid UTF-8, malformed JSON) makes it decline,
// and the caller decodes with encoding/json, which then gives the answer or
// the error. A fuzz test holds the two to the same result.

const (
	fieldDocumentType = iota
	fieldDocumentNumber
	fieldGivenNames
	fieldFamilyNames
	fieldBirthDate
	fieldPhone
	fieldEmail
	fieldDepartment
	fieldLocality
	fieldGroups
	fieldChannel
	fieldConsent
)

func registrationField(key string) int {
	switch key {
	case "document_type":
		return fieldDocumentType
	case "document_number":
		return fieldDocumentNumber
	case "given_names":
		return fieldGivenNames
	case "family_names":
		return fieldFamilyNames
	case "birth_date":
		return fieldBirthDate
	case "phone":
		return fieldPhone
	case "email":
		return fieldEmail
	case "department":
		return fieldDepartment
	case "locality":
		return fieldLocality
	case "groups":
		return fieldGroups
	case "channel":
		return fieldChannel
	case "consent":
		return fieldConsent
	}
	return -1
}

// decodeRegistration fills req from body and reports true, or reports false
// and leaves req as it was.
func decodeRegistration(body []byte, req *turnero.RegistrationRequest) bool {
	var out turnero.RegistrationRequest
	s := string(body)
	i := skipSpace(s, 0)
	if i == len(s) || s[i] != '{' {
		return false
	}
	i = skipSpace(s, i+1)
	var seen uint16
	if i < len(s) && s[i] == '}' {
		i++
	} else {
		for {
			key, next, ok := plainString(s, i)
			if !ok {
				return false
			}
			field := registrationField(key)
			if field < 0 || seen&(1<<field) != 0 {
				return false
			}
			seen |= 1 << field
			i = skipSpace(s, next)
			if i == len(s) || s[i] != ':' {
				return false
			}
			i = skipSpace(s, i+1)
			switch field {
			case fieldConsent:
				switch {
				case len(s)-i >= 4 && s[i:i+4] == "true":
					out.Consent, i = true, i+4
				case len(s)-i >= 5 && s[i:i+5] == "false":
					out.Consent, i = false, i+5
				default:
					return false
				}
			case fieldGroups:
				if i, ok = plainStrings(s, i, &out.Groups); !ok {
					return false
				}
			default:
				v, next, ok := plainString(s, i)
				if !ok {
					return false
				}
				*stringField(&out, field) = v
				i = next
			}
			i = skipSpace(s, i)
			if i == len(s) {
				return false
			}
			if s[i] == '}' {
				i++
				break
			}
			if s[i] != ',' {
				return false
			}
			i = skipSpace(s, i+1)
		}
	}
	if skipSpace(s, i) != len(s) {
		return false
	}
	*req = out
	return true
}

func stringField(r *turnero.RegistrationRequest, field int) *string {
	switch field {
	case fieldDocumentType:
		return &r.DocumentType
	case fieldDocumentNumber:
		return &r.DocumentNumber
	case fieldGivenNames:
		return &r.GivenNames
	case fieldFamilyNames:
		return &r.FamilyNames
	case fieldBirthDate:
		return &r.BirthDate
	case fieldPhone:
		return &r.Phone
	case fieldEmail:
		return &r.Email
	case fieldDepartment:
		return &r.Department
	case fieldLocality:
		return &r.Locality
	default: // fieldChannel
		return &r.Channel
	}
}

// plainStrings reads an array of plain strings at s[i]; [] gives an empty,
// non-nil slice, as encoding/json does.
func plainStrings(s string, i int, out *[]string) (int, bool) {
	if i == len(s) || s[i] != '[' {
		return i, false
	}
	list := []string{}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		*out = list
		return i + 1, true
	}
	for {
		v, next, ok := plainString(s, i)
		if !ok {
			return i, false
		}
		list = append(list, v)
		i = skipSpace(s, next)
		if i == len(s) {
			return i, false
		}
		if s[i] == ']' {
			*out = list
			return i + 1, true
		}
		if s[i] != ',' {
			return i, false
		}
		i = skipSpace(s, i+1)
	}
}

// plainString reads a string at s[i] with no escapes, no control characters
// and valid UTF-8: one that encoding/json would read as its bytes. It
// declines U+FFFD too, which the slow path refuses, and returns the string
// in NFC, as the slow path does (text.go).
func plainString(s string, i int) (string, int, bool) {
	if i == len(s) || s[i] != '"' {
		return "", i, false
	}
	ascii := true
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			v := s[i+1 : j]
			if !ascii {
				if !utf8.ValidString(v) || strings.ContainsRune(v, utf8.RuneError) {
					return "", i, false
				}
				v = nfc(v) // text.go
			}
			return v, j + 1, true
		case c == '\\' || c < 0x20:
			return "", i, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", i, false
}

func skipSpace(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
