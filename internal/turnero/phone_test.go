package turnero_test

import (
	"testing"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/turnero"
)

func TestNormalizePhone(t *testing.T) {
	plan := campaign.Sample().Phone
	tests := []struct {
		in, want, problem string
	}{
		{"099 123 456", "+59899123456", ""},
		{"099123456", "+59899123456", ""},
		{"99 123 456", "+59899123456", ""},
		{"(099) 123-456", "+59899123456", ""},
		{"099.123.456", "+59899123456", ""},
		{"+598 99 123 456", "+59899123456", ""},
		{"+59899123456", "+59899123456", ""},
		{"0059899123456", "+59899123456", ""},
		{"00 598 99 123 456", "+59899123456", ""},
		{"2 901 2345", "+59829012345", ""}, // a Montevideo landline is a national number too
		{"+5491123456789", "+5491123456789", ""},
		{"+54 9 11 2345-6789", "+5491123456789", ""},
		{"+1 (202) 555-0143", "+12025550143", ""},
		{"0054 9 11 2345 6789", "+5491123456789", ""},
		// Wrong.
		{"099 123 45", "", "phone_format"},        // 7 national digits
		{"099 123 4567", "", "phone_format"},      // 9 national digits
		{"+598 99 123 45", "", "phone_format"},    // ours, too short
		{"+598 99 123 4567", "", "phone_format"},  // ours, too long
		{"+598 099 123 456", "", "phone_format"},  // trunk prefix kept after the country code
		{"+0598 99 123 456", "", "phone_format"},  // a country code never starts with 0
		{"+1234567", "", "phone_format"},          // 7 digits
		{"+1234567890123456", "", "phone_format"}, // 16 digits: over E.164's 15
		{"099+123456", "", "phone_format"},
		{"++59899123456", "", "phone_format"},
		{"+598+99123456", "", "phone_format"},
		{"099 ABC 456", "", "phone_format"},
		{"099123456x", "", "phone_format"},
		{"099\x00123456", "", "phone_format"},
		{"099\u202e123456", "", "phone_format"},
		{"０９９１２３４５６", "", "phone_format"},
		{"0", "", "phone_format"},
		{"00", "", "phone_format"},
		{"000", "", "phone_format"},
		{"+", "", "phone_format"},
		{"", "", "phone_format"},
		{"---", "", "phone_format"},
		{"0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0", "", "phone_format"}, // over 32 bytes
		{"0000000000", "", "phone_format"},
		{"'; DROP TABLE registrations; --", "", "phone_format"},
	}
	for _, tt := range tests {
		got, problem := plan.NormalizePhone(tt.in)
		if got != tt.want || problem != tt.problem {
			t.Errorf("NormalizePhone(%q) = %q, %q; want %q, %q", tt.in, got, problem, tt.want, tt.problem)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	if got := turnero.MaskPhone("+59899123456"); got != "+598 *** *56" {
		t.Errorf("MaskPhone = %q", got)
	}
}
