package turnero_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/turnero"
)

// FuzzCanonicalDocument: whatever is typed, the parser answers a canonical
// number or a known problem, never panics, and a canonical number is a fixed
// point of itself and of the usual ways of writing it.
func FuzzCanonicalDocument(f *testing.F) {
	for _, s := range []string{
		"1.234.567-2", "12345672", "1234567-2", "123.456-1", "0.000.000-0", "1.234.567-3", "AB123456",
		"ab-123.456", "", " ", "-", "١٢٣٤٥٦٧٢", "1234567\x002", "\xff\xfe", "99999999999999999999",
		"1.234.567-2' OR '1'='1", strings.Repeat("1", 41),
	} {
		f.Add(false, s)
		f.Add(true, s)
	}
	f.Fuzz(func(t *testing.T, passport bool, s string) {
		format := turnero.FormatUYCedula
		if passport {
			format = turnero.FormatAlphanumeric
		}
		canon, problem := turnero.CanonicalDocument(format, s)
		if problem != "" {
			if canon != "" {
				t.Fatalf("%q: problem %q with a canonical form %q", s, problem, canon)
			}
			if problem != "document_format" && problem != "document_check_digit" {
				t.Fatalf("%q: unexpected problem %q", s, problem)
			}
			return
		}
		if passport {
			if !regexp.MustCompile(`^[0-9A-Z]{4,20}$`).MatchString(canon) {
				t.Fatalf("%q: canonical %q", s, canon)
			}
		} else {
			if !regexp.MustCompile(`^[0-9]{8}$`).MatchString(canon) || canon[:7] == "0000000" {
				t.Fatalf("%q: canonical %q", s, canon)
			}
			if turnero.CedulaCheckDigit(canon[:7]) != canon[7]-'0' {
				t.Fatalf("%q: canonical %q has a wrong check digit", s, canon)
			}
			dotted := canon[:1] + "." + canon[1:4] + "." + canon[4:7] + "-" + canon[7:]
			if again, p := turnero.CanonicalDocument(format, dotted); again != canon || p != "" {
				t.Fatalf("%q → %q, but %q → %q, %q", s, canon, dotted, again, p)
			}
		}
		if again, p := turnero.CanonicalDocument(format, canon); again != canon || p != "" {
			t.Fatalf("%q → %q, not a fixed point: %q, %q", s, canon, again, p)
		}
	})
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// FuzzNormalizePhone: an accepted number is E.164 and normalises to itself.
func FuzzNormalizePhone(f *testing.F) {
	plan := campaign.Sample().Phone
	for _, s := range []string{
		"099 123 456", "+598 99 123 456", "0059899123456", "+5491123456789", "(099) 123-456", "2 901 2345",
		"+", "00", "0", "", "++1", "099+123456", "+0598", "0000000000", "０９９", "\x00", "\xff",
		strings.Repeat("9", 33),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, problem := plan.NormalizePhone(s)
		if problem != "" {
			if p != "" || problem != "phone_format" {
				t.Fatalf("%q: %q, %q", s, p, problem)
			}
			return
		}
		if !e164.MatchString(p) {
			t.Fatalf("%q → %q: not E.164", s, p)
		}
		if again, problem := plan.NormalizePhone(p); again != p || problem != "" {
			t.Fatalf("%q → %q → %q, %q: not a fixed point", s, p, again, problem)
		}
	})
}

// FuzzValidateRegistrationBirthDate: an accepted birth date is a real date
// written YYYY-MM-DD, not in the future, of someone between the campaign's
// minimum age and 120, placed in a group that covers their age.
func FuzzValidateRegistrationBirthDate(f *testing.F) {
	c := campaign.Sample()
	for _, s := range []string{
		"1958-03-14", "2021-02-30", "2020-02-29", "1900-03-20", "1900-03-21", "2009-03-01", "2009-03-02",
		"2099-01-01", "0000-01-01", "9999-12-31", "1958-3-14", " 1958-03-14", "1958-03-14\x00", "+958-03-14",
		"1958-03-14T00:00:00Z", "", "--", "\xff",
	} {
		f.Add(s, int64(0))
		f.Add(s, int64(-3*3600))
	}
	f.Fuzz(func(t *testing.T, birth string, offset int64) {
		at := now.Add(time.Duration(offset%(48*3600)) * time.Second)
		req := validRequest()
		req.BirthDate = birth
		a, err := c.ValidateRegistration(&req, at)
		if err != nil {
			fe := fieldErrors(t, err)
			if len(fe) != 1 || fe["birth_date"] == "" {
				t.Fatalf("%q: fields %v, want only birth_date", birth, fe)
			}
			if !turnero.HasMessage(fe["birth_date"]) {
				t.Fatalf("%q: problem %q has no message", birth, fe["birth_date"])
			}
			return
		}
		d, perr := time.ParseInLocation("2006-01-02", birth, c.Location)
		if perr != nil || d.Format("2006-01-02") != birth || a.Personal.BirthDate != birth {
			t.Fatalf("accepted %q, which is not a date written YYYY-MM-DD", birth)
		}
		today := at.In(c.Location)
		if d.After(today) {
			t.Fatalf("accepted %q, after today %s", birth, today)
		}
		if age := turnero.AgeAt(d, today); age > 120 {
			t.Fatalf("accepted %q: %d years old", birth, age)
		}
		if a.Age != turnero.AgeAt(d, c.ReferenceDate) || a.Age < c.MinimumAge {
			t.Fatalf("accepted %q: age %d", birth, a.Age)
		}
		g, ok := c.Group(a.Group)
		if !ok || g.Kind != turnero.GroupByAge || a.Age < g.MinAge || (g.MaxAge != 0 && a.Age > g.MaxAge) {
			t.Fatalf("accepted %q: age %d placed in %+v", birth, a.Age, g)
		}
	})
}

// FuzzDecodeTrackingCode: what decodes is the code of its value, read the
// way a person may type it.
func FuzzDecodeTrackingCode(f *testing.F) {
	for _, v := range []uint64{0, 1, 992, 123456789, 1<<50 - 1} {
		code := turnero.EncodeTrackingCode(v)
		f.Add(code)
		f.Add(turnero.FormatTrackingCode(code))
		f.Add(strings.ToLower(code))
	}
	for _, s := range []string{"", "-", "OIL-oil-ilo-00", "UUUUUUUUUUU", "K7M2-Q9XP-4TZ", "\x00", strings.Repeat("-", 33)} {
		f.Add(s)
	}
	normalize := strings.NewReplacer("-", "", " ", "", "O", "0", "I", "1", "L", "1")
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := turnero.DecodeTrackingCode(s)
		if !ok {
			if v != 0 {
				t.Fatalf("%q: rejected with value %d", s, v)
			}
			return
		}
		if v >= 1<<50 {
			t.Fatalf("%q: %d is over 50 bits", s, v)
		}
		code := turnero.EncodeTrackingCode(v)
		if got := normalize.Replace(strings.ToUpper(s)); got != code {
			t.Fatalf("%q decodes to %d, whose code is %q, not %q", s, v, code, got)
		}
	})
}
