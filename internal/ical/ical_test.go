package ical_test

import (
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/ical"
	"github.com/turnero/turnero/internal/ical/icaltest"
	"github.com/turnero/turnero/internal/turnero"
)

func TestCalendar(t *testing.T) {
	mvd := time.FixedZone("UYT", -3*3600)
	stamp := time.Date(2021, 4, 1, 9, 0, 0, 0, mvd)
	events := []turnero.CalendarEvent{
		{UID: "uy-1-42-dose1@turnero", Start: time.Date(2021, 4, 5, 10, 30, 0, 0, mvd), End: time.Date(2021, 4, 5, 10, 45, 0, 0, mvd),
			Summary: "Vacunación, dosis 1: Pfizer/BioNTech", Location: "Av. España 1234, Paysandú",
			// Every character TEXT escapes, and a description long enough
			// to fold several times with accents at the fold.
			Description: "Centro; \"Norte\", sala 2\\B.\nCódigo de seguimiento: K7M2-Q9XP-4TZ\r\n" + strings.Repeat("áéíóú ñ ", 30)},
		{UID: "uy-1-42-dose2@turnero", Start: time.Date(2021, 5, 3, 10, 30, 0, 0, mvd), End: time.Date(2021, 5, 3, 10, 45, 0, 0, mvd),
			Summary: "Vacunación, dosis 2: Pfizer/BioNTech", Location: "Av. España 1234, Paysandú"},
	}
	b := ical.Calendar("-//turnero//notice//ES", stamp, events)
	cal, got, err := icaltest.Parse(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if cal["METHOD"] != "PUBLISH" || cal["PRODID"] != "-//turnero//notice//ES" {
		t.Errorf("calendar %v", cal)
	}
	if len(got) != 2 {
		t.Fatalf("%d events", len(got))
	}
	for i, e := range got {
		want := events[i]
		start, _ := e.Time("DTSTART")
		end, _ := e.Time("DTEND")
		st, _ := e.Time("DTSTAMP")
		if e["UID"] != want.UID || !start.Equal(want.Start) || !end.Equal(want.End) || !st.Equal(stamp) ||
			e["SUMMARY"] != want.Summary || e["LOCATION"] != want.Location {
			t.Errorf("event %d: %v, want %+v", i, e, want)
		}
	}
	if want := strings.ReplaceAll(events[0].Description, "\r\n", "\n"); got[0]["DESCRIPTION"] != want {
		t.Errorf("description %q, want %q", got[0]["DESCRIPTION"], want)
	}
	// Times are written in UTC: 10:30 in Montevideo is 13:30Z.
	if !strings.Contains(string(b), "DTSTART:20210405T133000Z\r\n") {
		t.Errorf("no UTC DTSTART:\n%s", b)
	}
	// It folded (the description is ~400 octets) and escaped.
	if !strings.Contains(string(b), "\r\n ") || !strings.Contains(string(b), `Centro\; "Norte"\, sala 2\\B.\nC`) {
		t.Errorf("not folded or not escaped:\n%s", b)
	}
}

// TestFoldBoundaries folds values of every length around the limit, with
// two-, three- and four-octet characters at every position: each physical
// line stays within 75 octets and the value reads back whole.
func TestFoldBoundaries(t *testing.T) {
	for _, ch := range []string{"a", "ñ", "€", "😀"} {
		for n := 60; n < 170; n++ {
			summary := strings.Repeat("x", n%7) + strings.Repeat(ch, n/len(ch))
			b := ical.Calendar("-//t//t//EN", time.Unix(0, 0), []turnero.CalendarEvent{{UID: "u", Summary: summary,
				Start: time.Unix(3600, 0), End: time.Unix(7200, 0)}})
			_, ev, err := icaltest.Parse(b)
			if err != nil {
				t.Fatalf("%q ×%d: %v", ch, n, err)
			}
			if ev[0]["SUMMARY"] != summary {
				t.Fatalf("%q ×%d: read back %q", ch, n, ev[0]["SUMMARY"])
			}
		}
	}
}

// TestStrictParser: the test's parser refuses what a calendar program
// would, so that the tests above could fail.
func TestStrictParser(t *testing.T) {
	good := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTAMP:20210101T000000Z\r\n" +
		"DTSTART:20210101T000000Z\r\nDTEND:20210101T001500Z\r\nSUMMARY:s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if _, _, err := icaltest.Parse([]byte(good)); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"LF line ends":    strings.ReplaceAll(good, "\r\n", "\n"),
		"a long line":     strings.Replace(good, "SUMMARY:s", "SUMMARY:"+strings.Repeat("s", 70), 1),
		"unescaped comma": strings.Replace(good, "SUMMARY:s", "SUMMARY:a,b", 1),
		"no UID":          strings.Replace(good, "UID:u\r\n", "", 1),
		"local time":      strings.Replace(good, "DTSTART:20210101T000000Z", "DTSTART:20210101T000000", 1),
		"unclosed event":  strings.Replace(good, "END:VEVENT\r\n", "", 1),
		"bad escape":      strings.Replace(good, "SUMMARY:s", `SUMMARY:a\b`, 1),
	} {
		if _, _, err := icaltest.Parse([]byte(bad)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
