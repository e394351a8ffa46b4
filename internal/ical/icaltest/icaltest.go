// Package icaltest reads calendar files strictly, for tests: what a
// calendar program would refuse, it refuses.
package icaltest

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is a VEVENT's properties, unescaped, by name.
type Event map[string]string

// Time reads a DATE-TIME property in UTC.
func (e Event) Time(name string) (time.Time, error) {
	return time.Parse("20060102T150405Z", e[name])
}

// Parse checks a calendar file against RFC 5545's rules for what package
// ical writes (CRLF line ends, lines of at most 75 octets, folding,
// escaped text, one VCALENDAR of VEVENTs with their required properties)
// and returns its events, and the calendar's own properties.
func Parse(b []byte) (calendar map[string]string, events []Event, err error) {
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		return nil, nil, fmt.Errorf("does not end with CRLF")
	}
	physical := strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n")
	var lines []string
	for i, l := range physical {
		if strings.ContainsAny(l, "\r\n") {
			return nil, nil, fmt.Errorf("line %d: a bare CR or LF", i+1)
		}
		if len(l) > 75 {
			return nil, nil, fmt.Errorf("line %d: %d octets, more than 75", i+1, len(l))
		}
		if !utf8.ValidString(l) {
			return nil, nil, fmt.Errorf("line %d: not UTF-8 (a sequence cut by folding?)", i+1)
		}
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			if len(lines) == 0 {
				return nil, nil, fmt.Errorf("line %d: continues nothing", i+1)
			}
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
	}
	calendar = map[string]string{}
	var stack []string
	var ev Event
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if !ok || name == "" {
			return nil, nil, fmt.Errorf("no property name in %q", l)
		}
		if strings.Contains(name, ";") {
			return nil, nil, fmt.Errorf("unexpected parameters in %q", l)
		}
		switch name {
		case "BEGIN":
			stack = append(stack, value)
			switch {
			case len(stack) == 1 && value == "VCALENDAR":
			case len(stack) == 2 && value == "VEVENT":
				ev = Event{}
			default:
				return nil, nil, fmt.Errorf("unexpected BEGIN:%s", value)
			}
			continue
		case "END":
			if len(stack) == 0 || stack[len(stack)-1] != value {
				return nil, nil, fmt.Errorf("END:%s does not close %v", value, stack)
			}
			stack = stack[:len(stack)-1]
			if value == "VEVENT" {
				for _, req := range []string{"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"} {
					if ev[req] == "" {
						return nil, nil, fmt.Errorf("an event without %s", req)
					}
				}
				for _, t := range []string{"DTSTAMP", "DTSTART", "DTEND"} {
					if _, err := ev.Time(t); err != nil {
						return nil, nil, fmt.Errorf("event %s: %s is not a UTC DATE-TIME: %q", ev["UID"], t, ev[t])
					}
				}
				events = append(events, ev)
				ev = nil
			}
			continue
		}
		text, err := unescape(value)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		switch len(stack) {
		case 1:
			calendar[name] = text
		case 2:
			if _, dup := ev[name]; dup {
				return nil, nil, fmt.Errorf("event property %s twice", name)
			}
			ev[name] = text
		default:
			return nil, nil, fmt.Errorf("property %s outside VCALENDAR", name)
		}
	}
	if len(stack) != 0 {
		return nil, nil, fmt.Errorf("unclosed %v", stack)
	}
	if calendar["VERSION"] != "2.0" || calendar["PRODID"] == "" {
		return nil, nil, fmt.Errorf("VERSION 2.0 and PRODID are required, got %v", calendar)
	}
	return calendar, events, nil
}

// unescape reads a TEXT value: a comma or semicolon must be escaped, and a
// backslash escapes only \ ; , n N.
func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 == len(s) {
				return "", fmt.Errorf("a trailing backslash")
			}
			i++
			switch s[i] {
			case '\\', ';', ',':
				b.WriteByte(s[i])
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				return "", fmt.Errorf("unknown escape \\%c", s[i])
			}
		case ';', ',':
			return "", fmt.Errorf("an unescaped %q", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
