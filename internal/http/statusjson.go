package http

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// The status answer is the most read answer of all: a country checking its
// place in line; the receipt is the answer of every registration.
// encoding/json spends more on them, through reflection, than the rest of a
// cached lookup together, so they are written out by hand here. The bytes
// are exactly those encoding/json gives (property tests hold them to it).

func (r *statusResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"tracking_code":`...)
	b = appendJSONString(b, r.TrackingCode)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, r.Status)
	b = append(b, `,"group":`...)
	b = appendJSONString(b, r.Group)
	b = append(b, `,"group_name":`...)
	b = appendJSONString(b, r.GroupName)
	b = append(b, `,"sequence":`...)
	b = strconv.AppendInt(b, r.Sequence, 10)
	if r.Position != 0 {
		b = append(b, `,"position":`...)
		b = strconv.AppendInt(b, r.Position, 10)
	}
	b = append(b, `,"name":`...)
	b = appendJSONString(b, r.Name)
	b = append(b, `,"document_type":`...)
	b = appendJSONString(b, r.DocumentType)
	b = append(b, `,"document":`...)
	b = appendJSONString(b, r.Document)
	b = append(b, `,"department":`...)
	b = appendJSONString(b, r.Department)
	b = append(b, `,"received_at":`...)
	b = appendJSONString(b, r.ReceivedAt)
	b = append(b, `,"appointments":`...)
	if r.Appointments == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Appointments {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Appointments[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	if r.NowServing != 0 {
		b = append(b, `,"now_serving":`...)
		b = strconv.AppendInt(b, r.NowServing, 10)
	}
	if r.Estimate != "" {
		b = append(b, `,"estimated_date":`...)
		b = appendJSONString(b, r.Estimate)
	}
	b = append(b, `,"place_in_line":{"order":`...)
	b = appendJSONString(b, r.PlaceInLine.Order)
	b = append(b, `,"after_cancel":`...)
	b = appendJSONString(b, r.PlaceInLine.AfterCancel)
	b = append(b, `,"after_no_show":`...)
	b = appendJSONString(b, r.PlaceInLine.AfterNoShow)
	b = append(b, '}')
	if r.LastChange != nil {
		// Rare: someone who cancelled or missed an appointment.
		b = append(b, `,"last_change":`...)
		lc, _ := json.Marshal(r.LastChange) // strings only: cannot fail
		b = append(b, lc...)
	}
	return append(b, '}')
}

func (a *appointmentResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"dose":`...)
	b = strconv.AppendInt(b, int64(a.Dose), 10)
	b = append(b, `,"center_id":`...)
	b = appendJSONString(b, a.CenterID)
	b = append(b, `,"center_name":`...)
	b = appendJSONString(b, a.CenterName)
	b = append(b, `,"address":`...)
	b = appendJSONString(b, a.Address)
	b = append(b, `,"start":`...)
	b = appendJSONString(b, a.Start)
	b = append(b, `,"vaccine":`...)
	b = appendJSONString(b, a.Vaccine)
	b = append(b, `,"state":`...)
	b = appendJSONString(b, a.State)
	return append(b, '}')
}

// appendJSONString appends s as encoding/json would: as is when every byte
// is one it leaves alone (printable ASCII other than the quote, the
// backslash and the HTML characters it escapes, and valid UTF-8 other than
// U+2028 and U+2029), else through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || escapedASCII(c) {
			if c >= utf8.RuneSelf && plainUTF8(s[i:]) {
				break
			}
			q, _ := json.Marshal(s) // a string: cannot fail
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// escapedASCII reports whether encoding/json escapes the ASCII byte c:
// control characters, the quote, the backslash and the HTML characters.
func escapedASCII(c byte) bool {
	return c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&'
}

// plainUTF8 reports whether s is valid UTF-8 with no byte encoding/json
// would escape.
func plainUTF8(s string) bool {
	for _, r := range s {
		switch {
		case r == utf8.RuneError, r == '\u2028', r == '\u2029':
			return false // RuneError: invalid UTF-8 (or U+FFFD itself: also fine to defer)
		case r < utf8.RuneSelf && escapedASCII(byte(r)):
			return false
		}
	}
	return true
}

func (r *receiptResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"tracking_code":`...)
	b = appendJSONString(b, r.TrackingCode)
	b = append(b, `,"sequence":`...)
	b = strconv.AppendInt(b, r.Sequence, 10)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, r.Status)
	b = append(b, `,"group":`...)
	b = appendJSONString(b, r.Group)
	b = append(b, `,"duplicate":`...)
	b = strconv.AppendBool(b, r.Duplicate)
	return append(b, '}')
}

// appendedJSON is an answer that writes its own JSON: the status answer and
// the registration receipt, the two answers of the hot paths.
type appendedJSON interface {
	appendJSON([]byte) []byte
}

// writeStatusJSON writes a status answer with a 200.
func writeStatusJSON(w http.ResponseWriter, r *statusResponse) {
	writeAppendedJSON(w, http.StatusOK, r)
}

// writeAppendedJSON writes v with the status, as writeJSON would.
func writeAppendedJSON(w http.ResponseWriter, status int, v appendedJSON) {
	bp := bufPool.Get().(*[]byte)
	b := append(v.appendJSON((*bp)[:0]), '\n')
	writeJSONBody(w, status, b)
	if cap(b) <= 64<<10 {
		*bp = b
		bufPool.Put(bp)
	}
}
