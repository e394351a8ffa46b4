package turnero_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/turnero"
)

// now is a fixed day of the sample campaign (reference date 2021-03-01), at
// noon in Montevideo.
var now = time.Date(2021, 3, 20, 15, 0, 0, 0, time.UTC)

func validRequest() turnero.RegistrationRequest {
	return turnero.RegistrationRequest{
		DocumentType: "CI", DocumentNumber: "1.234.567-2",
		GivenNames: "María José", FamilyNames: "Pérez Núñez",
		BirthDate: "1958-03-14", Phone: "099 123 456", Email: "",
		Department: "Montevideo", Locality: "Pocitos",
		Groups: []string{}, Channel: "web", Consent: true,
	}
}

// fieldErrors returns the field errors of err, failing the test when err is
// not an invalid-request error.
func fieldErrors(t *testing.T, err error) map[string]string {
	t.Helper()
	var de *turnero.Error
	if !errors.As(err, &de) || de.Code != turnero.CodeInvalid || de.Key != "invalid_request" {
		t.Fatalf("error %v, want an invalid_request error", err)
	}
	return de.Fields
}

func TestValidateRegistrationValid(t *testing.T) {
	c := campaign.Sample()
	req := validRequest()
	req.DocumentType = "ci"
	req.GivenNames = "  María   José "
	req.Email = " maria@example.com "
	req.Channel = ""
	req.Department = "montevideo"
	a, err := c.ValidateRegistration(&req, now)
	if err != nil {
		t.Fatal(err)
	}
	want := turnero.Applicant{
		Personal: turnero.PersonalData{
			DocumentType: "CI", Document: "12345672", GivenNames: "María José", FamilyNames: "Pérez Núñez",
			BirthDate: "1958-03-14", Phone: "+59899123456", Email: "maria@example.com", Locality: "Pocitos",
		},
		Department: "UY-MO", Group: "age-60-69", Age: 62, Channel: "web",
	}
	if a != want {
		t.Errorf("applicant\n got %+v\nwant %+v", a, want)
	}
}

func TestValidateRegistrationNames(t *testing.T) {
	c := campaign.Sample()
	tests := []struct {
		in, want, problem string
	}{
		{"María José", "María José", ""},
		{"Ñandú", "Ñandú", ""},
		{"Günther", "Günther", ""},
		{"O'Neill", "O'Neill", ""},
		{"D’Alessandro", "D'Alessandro", ""}, // typographic apostrophe, as phones type it
		{"Pérez-Reverte", "Pérez-Reverte", ""},
		{"  Ana   Inés  ", "Ana Inés", ""},
		{"Jose\u0301", "Jose\u0301", ""}, // a combining accent
		{"Zoë", "Zoë", ""},
		{"Дмитрий", "Дмитрий", ""},
		{strings.Repeat("a", 80), strings.Repeat("a", 80), ""},
		{strings.Repeat("ñ", 80), strings.Repeat("ñ", 80), ""},
		{"", "", "required"},
		{"   ", "", "required"},
		{strings.Repeat("a", 81), "", "name_length"},
		{strings.Repeat("ñ", 81), "", "name_length"},
		{strings.Repeat("a", 400), "", "name_length"},
		{"'-", "", "name_length"}, // no letter at all
		{"Ana2", "", "name_characters"},
		{"Ana 😀", "", "name_characters"},
		{"Ana\x00", "", "name_characters"},
		{"Ana\tInés", "", "name_characters"},
		{"Ana\nInés", "", "name_characters"},
		{"Ana\u202eInés", "", "name_characters"}, // right-to-left override
		{"Ana\u200bInés", "", "name_characters"}, // zero-width space
		{"Ana.", "", "name_characters"},
		{"Robert'); DROP TABLE registrations;--", "", "name_characters"},
		{"<script>alert(1)</script>", "", "name_characters"},
		{"Ana\xffInés", "", "name_length"}, // invalid UTF-8
	}
	for _, tt := range tests {
		for _, field := range []string{"given_names", "family_names"} {
			req := validRequest()
			if field == "given_names" {
				req.GivenNames = tt.in
			} else {
				req.FamilyNames = tt.in
			}
			a, err := c.ValidateRegistration(&req, now)
			if tt.problem == "" {
				if err != nil {
					t.Errorf("%s %q: %v", field, tt.in, err)
					continue
				}
				got := a.Personal.GivenNames
				if field == "family_names" {
					got = a.Personal.FamilyNames
				}
				if got != tt.want {
					t.Errorf("%s %q: cleaned to %q, want %q", field, tt.in, got, tt.want)
				}
				continue
			}
			fe := fieldErrors(t, err)
			if fe[field] != tt.problem || len(fe) != 1 {
				t.Errorf("%s %q: fields %v, want only %s: %s", field, tt.in, fe, field, tt.problem)
			}
		}
	}
}

func TestValidateRegistrationEmail(t *testing.T) {
	c := campaign.Sample()
	tests := []struct {
		in string
		ok bool
	}{
		{"maria@example.com", true},
		{"maria.perez+vacuna@correo.example.uy", true},
		{"MARIA@EXAMPLE.COM", true},
		{"maría@exámple.uy", true},
		{"x'--@example.com", true},
		{strings.Repeat("a", 64) + "@example.com", true},
		{"maria@example", false},
		{"maria@@example.com", false},
		{"maria@.example.com", false},
		{"maria@example.com.", false},
		{"maria@example..com", false},
		{"@example.com", false},
		{"maria@", false},
		{"maria", false},
		{"ma ria@example.com", false},
		{"maria@exa mple.com", false},
		{"maria@exa_mple.com", false},
		{"<maria@example.com>", false},
		{"maria\x00@example.com", false},
		{"maria\x7f@example.com", false},
		{"maria\u0085@example.com", false}, // a C1 control character
		{"maria\u202e@example.com", false}, // right-to-left override
		{"maria\u200b@example.com", false}, // zero-width space
		{"maria\u2028@example.com", false}, // line separator
		{"maria\xff@example.com", false},
		{strings.Repeat("a", 65) + "@example.com", false},
		{"a@" + strings.Repeat("b", 250) + ".com", false},
	}
	for _, tt := range tests {
		req := validRequest()
		req.Email = tt.in
		_, err := c.ValidateRegistration(&req, now)
		if tt.ok {
			if err != nil {
				t.Errorf("email %q: %v", tt.in, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("email %q: accepted", tt.in)
			continue
		}
		if fe := fieldErrors(t, err); fe["email"] != "email_format" || len(fe) != 1 {
			t.Errorf("email %q: fields %v, want only email: email_format", tt.in, fe)
		}
	}
}

// TestValidateRegistrationFieldErrors changes one field of a valid request
// at a time and expects exactly that field's error.
func TestValidateRegistrationFieldErrors(t *testing.T) {
	c := campaign.Sample()
	tests := []struct {
		name    string
		change  func(r *turnero.RegistrationRequest)
		field   string
		problem string
	}{
		{"no document type", func(r *turnero.RegistrationRequest) { r.DocumentType = "" }, "document_type", "required"},
		{"unknown document type", func(r *turnero.RegistrationRequest) { r.DocumentType = "DNI" }, "document_type", "document_type"},
		{"no document number", func(r *turnero.RegistrationRequest) { r.DocumentNumber = " " }, "document_number", "required"},
		{"bad cédula", func(r *turnero.RegistrationRequest) { r.DocumentNumber = "1.234.567-X" }, "document_number", "document_format"},
		{"wrong check digit", func(r *turnero.RegistrationRequest) { r.DocumentNumber = "1.234.567-3" }, "document_number", "document_check_digit"},
		{"bad passport", func(r *turnero.RegistrationRequest) { r.DocumentType, r.DocumentNumber = "PASSPORT", "A1" }, "document_number", "document_format"},
		{"no given names", func(r *turnero.RegistrationRequest) { r.GivenNames = "" }, "given_names", "required"},
		{"no family names", func(r *turnero.RegistrationRequest) { r.FamilyNames = "" }, "family_names", "required"},
		{"no birth date", func(r *turnero.RegistrationRequest) { r.BirthDate = "" }, "birth_date", "required"},
		{"bad phone", func(r *turnero.RegistrationRequest) { r.Phone = "12" }, "phone", "phone_format"},
		{"no contact", func(r *turnero.RegistrationRequest) { r.Phone, r.Email = " ", "" }, "phone", "contact_required"},
		{"bad email", func(r *turnero.RegistrationRequest) { r.Email = "maria" }, "email", "email_format"},
		{"no department", func(r *turnero.RegistrationRequest) { r.Department = "" }, "department", "required"},
		{"unknown department", func(r *turnero.RegistrationRequest) { r.Department = "Buenos Aires" }, "department", "department_unknown"},
		{"long locality", func(r *turnero.RegistrationRequest) { r.Locality = strings.Repeat("x", 81) }, "locality", "too_long"},
		{"odd locality", func(r *turnero.RegistrationRequest) { r.Locality = "Pocitos; DROP TABLE x" }, "locality", "locality_characters"},
		{"rtl locality", func(r *turnero.RegistrationRequest) { r.Locality = "Pocitos\u202e" }, "locality", "locality_characters"},
		{"unknown channel", func(r *turnero.RegistrationRequest) { r.Channel = "fax" }, "channel", "channel_unknown"},
		{"no consent", func(r *turnero.RegistrationRequest) { r.Consent = false }, "consent", "consent_required"},
		{"unknown group", func(r *turnero.RegistrationRequest) { r.Groups = []string{"astronauts"} }, "groups", "group_unknown"},
		{"too many groups", func(r *turnero.RegistrationRequest) {
			r.Groups = []string{"health-workers", "health-workers", "health-workers", "health-workers", "health-workers",
				"health-workers", "health-workers", "health-workers", "health-workers"}
		}, "groups", "group_unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := validRequest()
			tt.change(&req)
			a, err := c.ValidateRegistration(&req, now)
			if err == nil {
				t.Fatalf("accepted: %+v", a)
			}
			fe := fieldErrors(t, err)
			if fe[tt.field] != tt.problem || len(fe) != 1 {
				t.Errorf("fields %v, want only %s: %s", fe, tt.field, tt.problem)
			}
			if !turnero.HasMessage(tt.problem) {
				t.Errorf("problem %q has no message", tt.problem)
			}
		})
	}
}

// TestValidateRegistrationGroupsAndAges places people of the sample campaign
// (ages at 2021-03-01) in their groups.
func TestValidateRegistrationGroupsAndAges(t *testing.T) {
	c := campaign.Sample()
	tests := []struct {
		birth    string
		declared []string
		now      time.Time // zero: now
		group    string    // when accepted
		problem  string    // the birth_date or groups error otherwise
		field    string
	}{
		{birth: "1930-06-01", group: "age-80-plus"},
		{birth: "1941-03-01", group: "age-80-plus"}, // 80 on the reference day
		{birth: "1941-03-02", group: "age-70-79"},   // 80 the day after
		{birth: "1950-12-31", group: "age-70-79"},
		{birth: "1958-03-14", group: "age-60-69"},
		{birth: "1960-02-29", group: "age-60-69"}, // a leap day
		{birth: "1965-07-20", group: "age-50-59"},
		{birth: "1975-01-01", group: "age-40-49"},
		{birth: "1985-05-05", group: "age-30-39"},
		{birth: "2000-01-01", group: "age-18-29"},
		{birth: "2005-01-01", group: "age-12-17"},
		{birth: "2009-03-01", group: "age-12-17"}, // exactly the minimum age
		{birth: "2009-03-02", field: "birth_date", problem: "age_too_young"},
		{birth: "2020-02-29", field: "birth_date", problem: "age_too_young"},
		{birth: "1900-03-21", group: "age-80-plus"}, // 120 today
		{birth: "1900-03-20", field: "birth_date", problem: "age_too_old"},
		{birth: "1850-01-01", field: "birth_date", problem: "age_too_old"},
		// Attested groups: declared, and at an age the group covers.
		{birth: "1985-05-05", declared: []string{"health-workers"}, group: "health-workers"},
		{birth: "1945-05-05", declared: []string{"health-workers"}, group: "health-workers"}, // above age bands
		{birth: "1985-05-05", declared: []string{"essential-workers"}, group: "essential-workers"},
		{birth: "1985-05-05", declared: []string{"health-workers", "essential-workers"}, group: "essential-workers"},
		{birth: "1958-03-14", declared: []string{"essential-workers"}, field: "groups", problem: "group_age"},
		{birth: "2005-01-01", declared: []string{"health-workers"}, field: "groups", problem: "group_age"},
		{birth: "1958-03-14", declared: []string{"age-60-69"}, field: "groups", problem: "group_not_attested"},
		{birth: "1958-03-14", declared: []string{"age-80-plus"}, field: "groups", problem: "group_not_attested"},
		{birth: "1958-03-14", declared: []string{"Health-Workers"}, field: "groups", problem: "group_unknown"},
		// Dates.
		{birth: "2021-03-21", field: "birth_date", problem: "date_future"},
		{birth: "2099-01-01", field: "birth_date", problem: "date_future"},
		// 02:00 UTC on the 20th is still the 19th in Montevideo.
		{birth: "2021-03-20", now: time.Date(2021, 3, 20, 2, 0, 0, 0, time.UTC), field: "birth_date", problem: "date_future"},
		{birth: "2021-03-20", field: "birth_date", problem: "age_too_young"},
		{birth: "2021-02-30", field: "birth_date", problem: "date_format"},
		{birth: "2021-02-29", field: "birth_date", problem: "date_format"},
		{birth: "1958-04-31", field: "birth_date", problem: "date_format"},
		{birth: "1958-13-01", field: "birth_date", problem: "date_format"},
		{birth: "1958-00-10", field: "birth_date", problem: "date_format"},
		{birth: "1958-3-14", field: "birth_date", problem: "date_format"},
		{birth: "14/03/1958", field: "birth_date", problem: "date_format"},
		{birth: "19580314", field: "birth_date", problem: "date_format"},
		{birth: "1958-03-14T00:00:00Z", field: "birth_date", problem: "date_format"},
		{birth: " 1958-03-14", field: "birth_date", problem: "date_format"},
		{birth: "+1958-03-14", field: "birth_date", problem: "date_format"},
		{birth: "0000-00-00", field: "birth_date", problem: "date_format"},
		{birth: "yesterday", field: "birth_date", problem: "date_format"},
	}
	for _, tt := range tests {
		req := validRequest()
		req.BirthDate = tt.birth
		req.Groups = tt.declared
		at := now
		if !tt.now.IsZero() {
			at = tt.now
		}
		a, err := c.ValidateRegistration(&req, at)
		if tt.problem == "" {
			if err != nil {
				t.Errorf("born %s, declared %v: %v", tt.birth, tt.declared, err)
			} else if a.Group != tt.group || a.Personal.BirthDate != tt.birth {
				t.Errorf("born %s, declared %v: group %q birth %q, want %q", tt.birth, tt.declared, a.Group, a.Personal.BirthDate, tt.group)
			}
			continue
		}
		if err == nil {
			t.Errorf("born %s, declared %v: accepted in %s, want %s: %s", tt.birth, tt.declared, a.Group, tt.field, tt.problem)
			continue
		}
		fe := fieldErrors(t, err)
		if fe[tt.field] != tt.problem || len(fe) != 1 {
			t.Errorf("born %s, declared %v: fields %v, want only %s: %s", tt.birth, tt.declared, fe, tt.field, tt.problem)
		}
	}
}

// An empty request names every required field at once, so that a form can
// show all its mistakes together.
func TestValidateRegistrationEmpty(t *testing.T) {
	c := campaign.Sample()
	_, err := c.ValidateRegistration(&turnero.RegistrationRequest{}, now)
	fe := fieldErrors(t, err)
	want := map[string]string{
		"document_type": "required", "document_number": "required", "given_names": "required",
		"family_names": "required", "birth_date": "required", "phone": "contact_required",
		"department": "required", "consent": "consent_required",
	}
	for f, k := range want {
		if fe[f] != k {
			t.Errorf("field %s: %q, want %q", f, fe[f], k)
		}
	}
	if len(fe) != len(want) {
		t.Errorf("fields %v, want %v", fe, want)
	}
}

func TestMaskName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"María José Pérez Núñez", "M*** J*** P*** N***"},
		{"Ñandú", "Ñ***"},
		{" Ana  Inés ", "A*** I***"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := turnero.MaskName(tt.in); got != tt.want {
			t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLocalityMessageSaysWhatIsAllowed: the message of a refused locality
// names everything a locality may hold, in both languages, and what it names
// is accepted.
func TestLocalityMessageSaysWhatIsAllowed(t *testing.T) {
	c := campaign.Sample()
	req := validRequest()
	req.Locality = "Ruta 8, km 29 (Barros Blancos) Nº 3/4 - 12º 3° Pando.'’"
	if _, err := c.ValidateRegistration(&req, now); err != nil {
		t.Fatalf("a locality of every allowed sign: %v", err)
	}
	for _, tc := range []struct {
		lang  turnero.Lang
		words []string
	}{
		{turnero.Spanish, []string{"letras", "dígitos", "espacios"}},
		{turnero.English, []string{"letters", "digits", "spaces"}},
	} {
		m := turnero.Message("locality_characters", tc.lang)
		for _, w := range append(tc.words, "'", "’", "-", ".", ",", "/", "(", ")", "º", "°") {
			if !strings.Contains(m, w) {
				t.Errorf("message %q does not mention %q", m, w)
			}
		}
	}
}

// TestLengthsInCharacters: a letter and its combining accent are one
// character, however the text is encoded; a department written with a
// combining accent is the department.
func TestLengthsInCharacters(t *testing.T) {
	c := campaign.Sample()
	decomposed := strings.Repeat("e\u0301", 41) // 82 code points, 41 characters
	tests := []struct {
		name    string
		change  func(r *turnero.RegistrationRequest)
		field   string // "" when accepted
		problem string
	}{
		{"41 decomposed é in a name", func(r *turnero.RegistrationRequest) { r.GivenNames = decomposed }, "", ""},
		{"80 decomposed é in a name", func(r *turnero.RegistrationRequest) { r.GivenNames = strings.Repeat("e\u0301", 80) }, "", ""},
		{"81 decomposed é in a name", func(r *turnero.RegistrationRequest) { r.FamilyNames = strings.Repeat("e\u0301", 81) }, "family_names", "name_length"},
		{"81 é in a name", func(r *turnero.RegistrationRequest) { r.FamilyNames = strings.Repeat("é", 81) }, "family_names", "name_length"},
		{"only accents", func(r *turnero.RegistrationRequest) { r.GivenNames = "\u0301\u0301" }, "given_names", "name_length"},
		{"80 decomposed ñ in a locality", func(r *turnero.RegistrationRequest) { r.Locality = strings.Repeat("n\u0303", 80) }, "", ""},
		{"81 decomposed ñ in a locality", func(r *turnero.RegistrationRequest) { r.Locality = strings.Repeat("n\u0303", 81) }, "locality", "too_long"},
		{"department with a combining accent", func(r *turnero.RegistrationRequest) { r.Department = "Paysandu\u0301" }, "", ""},
		{"department in capitals with a combining accent", func(r *turnero.RegistrationRequest) { r.Department = "PAYSANDU\u0301" }, "", ""},
		{"passport spaced out", func(r *turnero.RegistrationRequest) {
			r.DocumentType, r.DocumentNumber = "PASSPORT", "AB - 12 - 34 - 56 - 78 - 90 - 12 - 34 - 56"
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := validRequest()
			tt.change(&req)
			a, err := c.ValidateRegistration(&req, now)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if req.Department != "Montevideo" && a.Department != "UY-PA" {
					t.Fatalf("department %q", a.Department)
				}
				return
			}
			if fe := fieldErrors(t, err); fe[tt.field] != tt.problem || len(fe) != 1 {
				t.Fatalf("fields %v, want only %s: %s", fe, tt.field, tt.problem)
			}
		})
	}
}
