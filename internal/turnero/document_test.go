package turnero_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/turnero"
)

func TestCedulaCheckDigit(t *testing.T) {
	// Worked by hand with weights 2,9,8,7,6,3,4 and (10 - sum mod 10) mod 10.
	tests := []struct {
		seven string
		want  byte
	}{
		{"1234567", 2}, // 148
		{"0123456", 1}, // 109
		{"4444444", 4}, // 156
		{"1111111", 1}, // 39
		{"9999999", 9}, // 351
		{"0000001", 6}, // 4
		{"3000000", 4}, // 6
		{"0000005", 0}, // 20: a sum that is a multiple of 10 gives 0, not 10
	}
	for _, tt := range tests {
		if got := turnero.CedulaCheckDigit(tt.seven); got != tt.want {
			t.Errorf("CedulaCheckDigit(%q) = %d, want %d", tt.seven, got, tt.want)
		}
	}
}

func TestCanonicalDocumentCedula(t *testing.T) {
	tests := []struct {
		in, want, problem string
	}{
		{"1.234.567-2", "12345672", ""},
		{"12345672", "12345672", ""},
		{"1234567-2", "12345672", ""},
		{"1 234 567 2", "12345672", ""},
		{" 1.234.567-2 ", "12345672", ""},
		{"12.345.672", "12345672", ""}, // separators are ignored wherever they are
		{"4.444.444-4", "44444444", ""},
		// Six-digit numbers are left-padded to seven before the check digit.
		{"123.456-1", "01234561", ""},
		{"123456-1", "01234561", ""},
		{"1234561", "01234561", ""},
		{"0.123.456-1", "01234561", ""},
		{"000.001-6", "00000016", ""},
		// Wrong check digit.
		{"1.234.567-3", "", "document_check_digit"},
		{"12345670", "", "document_check_digit"},
		{"123.456-2", "", "document_check_digit"},
		{"1234567", "", "document_check_digit"}, // read as 123.456-7
		// Not a cédula at all.
		{"", "", "document_format"},
		{"123456", "", "document_format"},       // too short: 5 digits and a check digit
		{"1.234.567-22", "", "document_format"}, // too long
		{"123456789", "", "document_format"},
		{"1234567-A", "", "document_format"},
		{"AB123456", "", "document_format"},
		{"1_234_567-2", "", "document_format"},
		{"1/234/567-2", "", "document_format"},
		{"0.000.000-0", "", "document_format"},
		{"00000000", "", "document_format"},
		{"0000000-0", "", "document_format"},
		{"١٢٣٤٥٦٧٢", "", "document_format"}, // Arabic-Indic digits
		{"１２３４５６７２", "", "document_format"}, // full-width digits
		{"1234567\x002", "", "document_format"},
		{"1.234.567-2' OR '1'='1", "", "document_format"},
		{"1 . 2 . 3 . 4 . 5 . 6 . 7 - 2 -", "", "document_format"}, // over 20 bytes
	}
	for _, tt := range tests {
		got, problem := turnero.CanonicalDocument(turnero.FormatUYCedula, tt.in)
		if got != tt.want || problem != tt.problem {
			t.Errorf("CanonicalDocument(cedula, %q) = %q, %q; want %q, %q", tt.in, got, problem, tt.want, tt.problem)
		}
	}
}

// Every number has exactly one check digit, and a cédula written in any of
// the usual ways reads back to the same canonical form.
func TestCanonicalDocumentCedulaOneCheckDigit(t *testing.T) {
	for _, n := range []int{1, 99_999, 100_000, 123_456, 999_999, 1_000_000, 1_234_567, 4_720_543, 9_999_999} {
		seven := fmt.Sprintf("%07d", n)
		accepted := 0
		for d := 0; d < 10; d++ {
			canon, problem := turnero.CanonicalDocument(turnero.FormatUYCedula, fmt.Sprintf("%s%d", seven, d))
			switch problem {
			case "":
				accepted++
				if canon != fmt.Sprintf("%s%d", seven, d) {
					t.Errorf("%s-%d: canonical %q", seven, d, canon)
				}
				if byte(d) != turnero.CedulaCheckDigit(seven) {
					t.Errorf("%s-%d accepted, check digit is %d", seven, d, turnero.CedulaCheckDigit(seven))
				}
			case "document_check_digit":
			default:
				t.Errorf("%s-%d: problem %q", seven, d, problem)
			}
		}
		if accepted != 1 {
			t.Errorf("%s: %d check digits accepted, want exactly 1", seven, accepted)
		}
		check := turnero.CedulaCheckDigit(seven)
		if n < 100_000 {
			// Cédulas have 6 or 7 digits: written without its leading zeros,
			// a shorter number is not one.
			short := fmt.Sprintf("%d-%d", n, check)
			if _, problem := turnero.CanonicalDocument(turnero.FormatUYCedula, short); problem != "document_format" {
				t.Errorf("CanonicalDocument(%q): problem %q, want document_format", short, problem)
			}
			continue
		}
		dotted := fmt.Sprintf("%d.%s.%s-%d", n/1_000_000, seven[1:4], seven[4:], check)
		if n < 1_000_000 {
			dotted = fmt.Sprintf("%s.%s-%d", fmt.Sprint(n/1000), seven[4:], check)
		}
		canon, problem := turnero.CanonicalDocument(turnero.FormatUYCedula, dotted)
		if problem != "" || canon != fmt.Sprintf("%s%d", seven, check) {
			t.Errorf("CanonicalDocument(%q) = %q, %q; want %s%d", dotted, canon, problem, seven, check)
		}
	}
}

func TestCanonicalDocumentAlphanumeric(t *testing.T) {
	tests := []struct {
		in, want, problem string
	}{
		{"AB123456", "AB123456", ""},
		{"ab123456", "AB123456", ""},
		{"ab-123.456", "AB123456", ""},
		{" X 1234 ", "X1234", ""},
		{"123456789", "123456789", ""},
		{"A123", "A123", ""},
		{"ABCDEFGHIJ0123456789", "ABCDEFGHIJ0123456789", ""},
		{"A12", "", "document_format"},                   // under 4 characters
		{"A-1-2", "", "document_format"},                 // 3 characters once separators go
		{"ABCDEFGHIJ01234567890", "", "document_format"}, // 21 characters
		{"", "", "document_format"},
		{"ÁB12345", "", "document_format"},
		{"AB_12345", "", "document_format"},
		{"AB12345\x00", "", "document_format"},
		{"AB12345'; DROP TABLE registrations;--", "", "document_format"},
		{"AB\u202e12345", "", "document_format"},
		// Separators are dropped before the length is checked: 20 characters
		// written in groups are a valid number however long the writing.
		{"ABCD - EFGH - IJ01 - 2345 - 6789", "ABCDEFGHIJ0123456789", ""},
		{"A B . 1 2 . 3 4 . 5 6 . 7 8 . 9 0 . 1 2 . 3 4", "AB12345678901234", ""},
		{"AB-" + strings.Repeat(" ", 100) + "123456", "AB123456", ""},
		{"ABCD - EFGH - IJ01 - 2345 - 6789 - 0", "", "document_format"}, // 21 characters
	}
	for _, tt := range tests {
		got, problem := turnero.CanonicalDocument(turnero.FormatAlphanumeric, tt.in)
		if got != tt.want || problem != tt.problem {
			t.Errorf("CanonicalDocument(alphanumeric, %q) = %q, %q; want %q, %q", tt.in, got, problem, tt.want, tt.problem)
		}
	}
	if _, problem := turnero.CanonicalDocument("dni-ar", "12345678"); problem != "document_type" {
		t.Errorf("unknown format: problem %q, want document_type", problem)
	}
}

func TestMaskDocument(t *testing.T) {
	if got := turnero.MaskDocument("12345672"); got != "•••••672" {
		t.Errorf("MaskDocument = %q", got)
	}
	if got := turnero.MaskDocument("AB1"); got != "***" {
		t.Errorf("MaskDocument(short) = %q", got)
	}
}
