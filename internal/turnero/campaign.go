package turnero

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Campaign is everything that makes one vaccination campaign different from
// another: who may register, how they are grouped and in what order, which
// vaccines there are. No rule of a particular country is written in code;
// Uruguay 2021 is only the bundled sample.
type Campaign struct {
	ID      string
	Name    string
	Country string // ISO 3166-1 alpha-2
	// Location is the campaign's time zone: dates a person types are civil
	// dates there.
	Location *time.Location
	// ReferenceDate is the day at which ages are computed for groups and limits.
	ReferenceDate time.Time
	MinimumAge    int
	MaximumAge    int
	DocumentTypes []DocumentType
	Phone         PhonePlan
	Departments   []Department
	Vaccines      []Vaccine
	// Groups are in priority order: a person is placed in the first one they
	// qualify for.
	Groups      []Group
	Channels    []string
	PlaceInLine PlaceInLinePolicy
	// Centers are the vaccination centers the campaign file lists; more may
	// be imported into storage.
	Centers    []Center
	Allocation AllocationPolicy
	// Notices is how people are told of their appointments.
	Notices NoticePolicy
	// Dashboard is population by age and unit prices, for the ministry's
	// figures (dashboardsettings.go).
	Dashboard DashboardSettings
}

// Department is a first-level administrative division.
type Department struct {
	Code       string
	Name       string
	Population int
}

// Vaccine is a product the campaign gives, with its schedule and age limits.
type Vaccine struct {
	ID           string
	Name         string
	Doses        int
	IntervalDays int
	MinAge       int
	MaxAge       int // 0: no upper limit
}

// Group kinds.
const (
	// GroupByAge is assigned from the birth date alone.
	GroupByAge = "age"
	// GroupAttested is declared by the person and verified at the center
	// (health workers, teachers).
	GroupAttested = "attested"
)

// Group is a priority group. Its place in Campaign.Groups is its priority.
type Group struct {
	ID       string
	Name     string // Spanish
	NameEN   string
	Kind     string
	MinAge   int
	MaxAge   int      // 0: no upper limit
	Vaccines []string // allowed vaccines; empty means any allowed by age
}

// Place-in-line rules after a cancellation or a missed appointment.
const (
	KeepPlace  = "keep_place"
	BackOfLine = "back_of_line"
)

// PlaceInLinePolicy says how the order of the waiting list is kept. Within a
// group, people are always served in order of submission.
type PlaceInLinePolicy struct {
	AfterCancel string
	AfterNoShow string
}

// CampaignError names the setting of a campaign that is wrong.
type CampaignError struct {
	Field   string
	Problem string
}

func (e *CampaignError) Error() string {
	return fmt.Sprintf("campaign: %s: %s", e.Field, e.Problem)
}

// Validate checks the campaign as a whole, so that a bad file fails at start-up
// with the name of the setting rather than at the first registration.
func (c *Campaign) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &CampaignError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	if !ValidID(c.ID) {
		return bad("id", "must be 1-64 lowercase letters, digits, '-' or '_', got %q", c.ID)
	}
	if strings.TrimSpace(c.Name) == "" {
		return bad("name", "is required")
	}
	if c.Location == nil {
		return bad("timezone", "is required")
	}
	if c.ReferenceDate.IsZero() {
		return bad("reference_date", "is required (YYYY-MM-DD)")
	}
	if c.MinimumAge < 0 || c.MinimumAge > 120 {
		return bad("minimum_age", "must be between 0 and 120, got %d", c.MinimumAge)
	}
	if c.MaximumAge == 0 {
		c.MaximumAge = 120
	}
	if c.MaximumAge < c.MinimumAge || c.MaximumAge > 130 {
		return bad("maximum_age", "must be between minimum_age and 130, got %d", c.MaximumAge)
	}
	if len(c.DocumentTypes) == 0 {
		return bad("document_types", "at least one is required")
	}
	seen := map[string]bool{}
	for i, d := range c.DocumentTypes {
		f := fmt.Sprintf("document_types[%d]", i)
		if d.ID == "" || len(d.ID) > 16 || seen["doc:"+d.ID] {
			return bad(f+".id", "must be present, short and unique, got %q", d.ID)
		}
		seen["doc:"+d.ID] = true
		if !KnownDocumentFormat(d.Format) {
			return bad(f+".format", "must be %q or %q, got %q", FormatUYCedula, FormatAlphanumeric, d.Format)
		}
	}
	if !validCountryCode(c.Phone.CountryCode) {
		return bad("phone.country_code", "must be 1-3 digits, got %q", c.Phone.CountryCode)
	}
	for _, n := range c.Phone.NationalDigits {
		if n < 4 || n > 14 {
			return bad("phone.national_digits", "lengths must be between 4 and 14, got %d", n)
		}
	}
	if len(c.Departments) == 0 {
		return bad("departments", "at least one is required")
	}
	for i, d := range c.Departments {
		f := fmt.Sprintf("departments[%d]", i)
		if d.Code == "" || seen["dep:"+d.Code] {
			return bad(f+".code", "must be present and unique, got %q", d.Code)
		}
		seen["dep:"+d.Code] = true
		if strings.TrimSpace(d.Name) == "" || seen["depname:"+fold(d.Name)] {
			return bad(f+".name", "must be present and unique, got %q", d.Name)
		}
		seen["depname:"+fold(d.Name)] = true
		if d.Population < 0 {
			return bad(f+".population", "must not be negative")
		}
	}
	if len(c.Vaccines) == 0 {
		return bad("vaccines", "at least one is required")
	}
	for i, v := range c.Vaccines {
		f := fmt.Sprintf("vaccines[%d]", i)
		if !ValidID(v.ID) || seen["vac:"+v.ID] {
			return bad(f+".id", "must be a unique lowercase identifier, got %q", v.ID)
		}
		seen["vac:"+v.ID] = true
		if v.Doses < 1 || v.Doses > 5 {
			return bad(f+".doses", "must be between 1 and 5, got %d", v.Doses)
		}
		if v.Doses > 1 && (v.IntervalDays < 1 || v.IntervalDays > 365) {
			return bad(f+".interval_days", "must be between 1 and 365 for a vaccine of several doses, got %d", v.IntervalDays)
		}
		if v.MinAge < 0 || (v.MaxAge != 0 && v.MaxAge < v.MinAge) {
			return bad(f+".max_age", "must be 0 (no limit) or at least min_age")
		}
	}
	if len(c.Groups) == 0 {
		return bad("groups", "at least one is required")
	}
	for i, g := range c.Groups {
		f := fmt.Sprintf("groups[%d]", i)
		if !ValidID(g.ID) || seen["grp:"+g.ID] {
			return bad(f+".id", "must be a unique lowercase identifier, got %q", g.ID)
		}
		seen["grp:"+g.ID] = true
		if strings.TrimSpace(g.Name) == "" {
			return bad(f+".name", "is required")
		}
		if g.Kind != GroupByAge && g.Kind != GroupAttested {
			return bad(f+".kind", "must be %q or %q, got %q", GroupByAge, GroupAttested, g.Kind)
		}
		if g.MinAge < 0 || (g.MaxAge != 0 && g.MaxAge < g.MinAge) {
			return bad(f+".max_age", "must be 0 (no limit) or at least min_age")
		}
		for j, v := range g.Vaccines {
			if !seen["vac:"+v] {
				return bad(fmt.Sprintf("%s.vaccines[%d]", f, j), "unknown vaccine %q", v)
			}
		}
	}
	if len(c.Channels) == 0 {
		c.Channels = []string{"web", "whatsapp", "app", "phone"}
	}
	for _, p := range []struct{ field, v string }{
		{"place_in_line.after_cancel", c.PlaceInLine.AfterCancel},
		{"place_in_line.after_no_show", c.PlaceInLine.AfterNoShow},
	} {
		if p.v != KeepPlace && p.v != BackOfLine {
			return bad(p.field, "must be %q or %q, got %q", KeepPlace, BackOfLine, p.v)
		}
	}
	if c.Allocation == (AllocationPolicy{}) {
		c.Allocation = DefaultAllocationPolicy
	}
	if err := c.ValidateAllocation(); err != nil {
		return err
	}
	return c.ValidateNotices()
}

// DocumentType returns the document type with that id.
func (c *Campaign) DocumentType(id string) (DocumentType, bool) {
	for _, d := range c.DocumentTypes {
		if strings.EqualFold(d.ID, id) {
			return d, true
		}
	}
	return DocumentType{}, false
}

// Department finds a department by its code or its name, ignoring case and
// accents, so that "paysandu" finds "Paysandú".
func (c *Campaign) Department(s string) (Department, bool) {
	// Codes first: stored registrations name their department by code, and
	// every status answer looks it up.
	for _, d := range c.Departments {
		if strings.EqualFold(d.Code, s) {
			return d, true
		}
	}
	// Then the name as written in the campaign, as forms and apps send it:
	// folding costs allocations on every registration.
	for _, d := range c.Departments {
		if d.Name == s {
			return d, true
		}
	}
	f := fold(s)
	for _, d := range c.Departments {
		if fold(d.Name) == f {
			return d, true
		}
	}
	return Department{}, false
}

// Group returns the group with that id.
func (c *Campaign) Group(id string) (Group, bool) {
	for _, g := range c.Groups {
		if g.ID == id {
			return g, true
		}
	}
	return Group{}, false
}

// GroupIndex returns a group's priority (0 is first), or -1.
func (c *Campaign) GroupIndex(id string) int {
	for i, g := range c.Groups {
		if g.ID == id {
			return i
		}
	}
	return -1
}

// Vaccine returns the vaccine with that id.
func (c *Campaign) Vaccine(id string) (Vaccine, bool) {
	for _, v := range c.Vaccines {
		if v.ID == id {
			return v, true
		}
	}
	return Vaccine{}, false
}

// HasChannel reports whether ch is one of the campaign's channels.
func (c *Campaign) HasChannel(ch string) bool {
	for _, x := range c.Channels {
		if x == ch {
			return true
		}
	}
	return false
}

func (g Group) coversAge(age int) bool {
	return age >= g.MinAge && (g.MaxAge == 0 || age <= g.MaxAge)
}

// PlaceInGroup returns the highest-priority group a person of that age, with
// those declared (attested) groups, belongs to; or a field-error key.
func (c *Campaign) PlaceInGroup(age int, declared []string) (string, string) {
	for _, g := range c.Groups {
		if !g.coversAge(age) {
			continue
		}
		if g.Kind == GroupByAge {
			return g.ID, ""
		}
		for _, d := range declared {
			if d == g.ID {
				return g.ID, ""
			}
		}
	}
	return "", "no_group"
}

// AgeAt returns the age in whole years of someone born on birth at day.
func AgeAt(birth, day time.Time) int {
	age := day.Year() - birth.Year()
	if day.Month() < birth.Month() || (day.Month() == birth.Month() && day.Day() < birth.Day()) {
		age--
	}
	return age
}

// ValidID reports whether s may be the id of a campaign, a vaccine or a
// group: 1 to 64 of a-z, 0-9, '-' and '_'.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// fold lower-cases s and removes the accents of Spanish and Portuguese letters,
// precomposed or combining, for forgiving matches of place names.
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		switch r {
		case 'á', 'à', 'â', 'ä', 'ã':
			r = 'a'
		case 'é', 'è', 'ê', 'ë':
			r = 'e'
		case 'í', 'ì', 'î', 'ï':
			r = 'i'
		case 'ó', 'ò', 'ô', 'ö', 'õ':
			r = 'o'
		case 'ú', 'ù', 'û', 'ü':
			r = 'u'
		}
		b.WriteRune(r)
	}
	return b.String()
}
