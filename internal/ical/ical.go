// Package ical writes calendar files (RFC 5545, iCalendar): one VEVENT per
// dose, so that a person can put their appointments in their calendar. It
// writes what a notice says and nothing else; it never reads calendars.
package ical

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/turnero/turnero/internal/turnero"
)

// maxLine is the longest a content line may be, in octets, without its
// CRLF (RFC 5545 §3.1).
const maxLine = 75

// utcLayout is a DATE-TIME in UTC (RFC 5545 §3.3.5, form #2): calendars
// convert it to the reader's zone, so no VTIMEZONE is needed.
const utcLayout = "20060102T150405Z"

// Calendar writes a calendar of the events, published (METHOD:PUBLISH: it
// is information for the person, not an invitation to answer). stamp is
// when it was made (DTSTAMP); prodID names the product that made it.
func Calendar(prodID string, stamp time.Time, events []turnero.CalendarEvent) []byte {
	var b bytes.Buffer
	line := func(name, value string) { writeLine(&b, name+":"+value) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", escapeText(prodID))
	line("CALSCALE", "GREGORIAN")
	line("METHOD", "PUBLISH")
	for _, e := range events {
		line("BEGIN", "VEVENT")
		line("UID", e.UID)
		line("DTSTAMP", stamp.UTC().Format(utcLayout))
		line("DTSTART", e.Start.UTC().Format(utcLayout))
		line("DTEND", e.End.UTC().Format(utcLayout))
		line("SUMMARY", escapeText(e.Summary))
		if e.Location != "" {
			line("LOCATION", escapeText(e.Location))
		}
		if e.Description != "" {
			line("DESCRIPTION", escapeText(e.Description))
		}
		line("STATUS", "CONFIRMED")
		line("TRANSP", "OPAQUE")
		line("END", "VEVENT")
	}
	line("END", "VCALENDAR")
	return b.Bytes()
}

// textEscaper escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon,
// comma and new lines. Carriage returns are dropped: a line break is "\n".
var textEscaper = strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", "")

func escapeText(s string) string { return textEscaper.Replace(s) }

// writeLine writes a content line folded at 75 octets (RFC 5545 §3.1): a
// CRLF and a space before each continuation, never inside a UTF-8 sequence.
func writeLine(b *bytes.Buffer, s string) {
	limit := maxLine
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = maxLine - 1 // the space that starts a continuation counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
}
