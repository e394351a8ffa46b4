package turnero

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// RegistrationRequest is what a person (or someone on their behalf) submits,
// through any channel, exactly as they wrote it.
type RegistrationRequest struct {
	DocumentType   string   `json:"document_type"`
	DocumentNumber string   `json:"document_number"`
	GivenNames     string   `json:"given_names"`
	FamilyNames    string   `json:"family_names"`
	BirthDate      string   `json:"birth_date"`
	Phone          string   `json:"phone"`
	Email          string   `json:"email"`
	Department     string   `json:"department"`
	Locality       string   `json:"locality"`
	Groups         []string `json:"groups"`
	Channel        string   `json:"channel"`
	Consent        bool     `json:"consent"`
}

// PersonalData is everything about a person that identifies them. It is only
// ever stored sealed (see package pii) and never logged.
type PersonalData struct {
	DocumentType string
	Document     string // canonical form
	GivenNames   string
	FamilyNames  string
	BirthDate    string // YYYY-MM-DD
	Phone        string // E.164, or empty
	Email        string
	Locality     string
}

// Applicant is a request that passed validation: canonical, and placed in a
// group. Only Personal is personal data.
type Applicant struct {
	Personal   PersonalData
	Department string // department code
	Group      string
	Age        int // at the campaign's reference date
	Channel    string
}

// Limits of free text, in characters: a letter and the accents combined with
// it are one character, however they are encoded (the HTTP edge puts text in
// Unicode normalization form C, so "é" is one code point; an accent that has
// no precomposed letter is still not counted on its own). maxTextBytes only
// bounds the work on a string, far above any real name of that length.
const (
	maxTextBytes     = 16 * maxNameRunes
	maxNameRunes     = 80
	maxLocalityRunes = 80
	maxEmailBytes    = 254
	maxGroups        = 8
)

// ValidateRegistration checks a request against the campaign's rules and returns the
// applicant in canonical form, or an invalid-request error naming every wrong
// field. now is the current time, from the caller's clock.
func (c *Campaign) ValidateRegistration(req *RegistrationRequest, now time.Time) (Applicant, error) {
	fe := FieldErrors{}
	var a Applicant

	dt, doc := c.Document(req.DocumentType, req.DocumentNumber, fe)
	a.Personal.DocumentType, a.Personal.Document = dt.ID, doc

	a.Personal.GivenNames = cleanName(req.GivenNames, "given_names", fe)
	a.Personal.FamilyNames = cleanName(req.FamilyNames, "family_names", fe)

	if req.BirthDate == "" {
		fe.Add("birth_date", "required")
	} else if birth, err := time.ParseInLocation("2006-01-02", req.BirthDate, c.Location); err != nil || len(req.BirthDate) != 10 {
		fe.Add("birth_date", "date_format")
	} else {
		today := now.In(c.Location)
		switch {
		case birth.After(today):
			fe.Add("birth_date", "date_future")
		default:
			a.Age = AgeAt(birth, c.ReferenceDate)
			switch {
			case AgeAt(birth, today) > c.MaximumAge:
				fe.Add("birth_date", "age_too_old")
			case a.Age < c.MinimumAge:
				fe.Add("birth_date", "age_too_young")
			}
			a.Personal.BirthDate = req.BirthDate
		}
	}

	if strings.TrimSpace(req.Phone) != "" {
		p, problem := c.Phone.NormalizePhone(req.Phone)
		if problem != "" {
			fe.Add("phone", problem)
		}
		a.Personal.Phone = p
	}
	if e := strings.TrimSpace(req.Email); e != "" {
		if !validEmail(e) {
			fe.Add("email", "email_format")
		}
		a.Personal.Email = e
	}
	if strings.TrimSpace(req.Phone) == "" && strings.TrimSpace(req.Email) == "" {
		fe.Add("phone", "contact_required")
	}

	if strings.TrimSpace(req.Department) == "" {
		fe.Add("department", "required")
	} else if d, ok := c.Department(req.Department); !ok {
		fe.Add("department", "department_unknown")
	} else {
		a.Department = d.Code
	}
	a.Personal.Locality = cleanLocality(req.Locality, fe)

	if len(req.Groups) > maxGroups {
		fe.Add("groups", "group_unknown")
	}
	for _, id := range req.Groups {
		g, ok := c.Group(id)
		switch {
		case !ok:
			fe.Add("groups", "group_unknown")
		case g.Kind != GroupAttested:
			fe.Add("groups", "group_not_attested")
		case fe["birth_date"] == "" && !g.coversAge(a.Age):
			fe.Add("groups", "group_age")
		}
	}
	if fe["birth_date"] == "" && fe["groups"] == "" {
		g, problem := c.PlaceInGroup(a.Age, req.Groups)
		if problem != "" {
			fe.Add("birth_date", problem)
		}
		a.Group = g
	}

	a.Channel = req.Channel
	if a.Channel == "" {
		a.Channel = "web"
	}
	if !c.HasChannel(a.Channel) {
		fe.Add("channel", "channel_unknown")
	}
	if !req.Consent {
		fe.Add("consent", "consent_required")
	}
	if err := fe.Err(); err != nil {
		return Applicant{}, err
	}
	return a, nil
}

// cleanName trims and collapses spaces and checks that a name is made of
// letters (with their accents), spaces, apostrophes and hyphens.
func cleanName(s, field string, fe FieldErrors) string {
	s = strings.TrimSpace(s)
	if s == "" {
		fe.Add(field, "required")
		return ""
	}
	if len(s) > maxTextBytes || !utf8.ValidString(s) {
		fe.Add(field, "name_length")
		return ""
	}
	var b strings.Builder
	b.Grow(len(s))
	letters, runes := 0, 0
	space := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.Is(unicode.Mn, r): // combining accents: part of the letter before
			space = false
			b.WriteRune(r)
			continue
		case r == ' ':
			if space {
				continue
			}
			space = true
			b.WriteByte(' ')
			runes++
			continue
		case r == '\'' || r == '’':
			r = '\''
		case r == '-':
		default:
			fe.Add(field, "name_characters")
			return ""
		}
		space = false
		runes++
		b.WriteRune(r)
	}
	if letters == 0 || runes > maxNameRunes {
		fe.Add(field, "name_length")
		return ""
	}
	return b.String()
}

func cleanLocality(s string, fe FieldErrors) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if len(s) > maxTextBytes || !utf8.ValidString(s) {
		fe.Add("locality", "too_long")
		return ""
	}
	chars := 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r): // combining accents: part of the letter before
		case unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" '’-.,/()º°", r):
			chars++
		default:
			fe.Add("locality", "locality_characters")
			return ""
		}
	}
	if chars > maxLocalityRunes {
		fe.Add("locality", "too_long")
		return ""
	}
	return s
}

// validEmail accepts what a person would type as an address: one @, a local
// part and a domain with a dot, no spaces or control characters.
func validEmail(s string) bool {
	if len(s) > maxEmailBytes {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at > 64 || at == len(s)-1 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if strings.ContainsAny(local, "@ \t\r\n<>()[],;:\"\\") {
		return false
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return false
	}
	for _, r := range domain {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '.') {
			return false
		}
	}
	for _, r := range local {
		// Control, format (bidi overrides, zero-width) and space characters
		// beyond ASCII too: an address that displays unlike what it is.
		if r < 0x21 || r == 0x7f || r == utf8.RuneError ||
			unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// MaskName keeps the first letter of each word: "María José" → "M*** J***".
func MaskName(s string) string {
	var b strings.Builder
	for i, w := range strings.Fields(s) {
		if i > 0 {
			b.WriteByte(' ')
		}
		r, _ := utf8.DecodeRuneInString(w)
		b.WriteRune(r)
		b.WriteString("***")
	}
	return b.String()
}

// Registration statuses.
const (
	StatusWaiting = "waiting"
)

// NewRegistration is a validated registration ready to be stored: personal
// data sealed, document reduced to keyed hashes.
type NewRegistration struct {
	// DocumentHash is the blind index of the document (type and number): one
	// registration per value.
	DocumentHash []byte
	// IdentityHash is a keyed hash of document and birth date, which tells the
	// same person retrying from someone else with the same document.
	IdentityHash []byte
	Group        string
	Department   string
	Age          int
	Channel      string
	KeyID        string
	Sealed       []byte // personal data, encrypted
	ReceivedAt   time.Time
}

// Registration is a stored registration.
type Registration struct {
	NewRegistration
	// Sequence is the order of submission: unique, increasing in the order
	// of durable acceptance, never reused, and never changed: the tracking
	// code is a keyed permutation of it (package pii).
	Sequence int64
	// GroupOrdinal is the place in the group's line. Sending someone to the
	// back of the line (a campaign's policy after a cancellation) gives them a
	// new, last ordinal; their sequence and tracking code stay.
	GroupOrdinal int64
	Status       string
}

// InsertOutcome is what became of one registration of a batch.
type InsertOutcome struct {
	Registration Registration
	// Duplicate is true when the same person was already registered; the
	// stored registration is returned unchanged.
	Duplicate bool
	// Err is ErrIdentityClash when the document is registered with another
	// birth date.
	Err error
}

// RegistrationStore is the storage of registrations. Every engine (SQLite,
// PostgreSQL) must pass the same contract tests (package storetest).
type RegistrationStore interface {
	// InsertRegistrations stores a batch in one durable transaction, in order,
	// and returns one outcome per input. When it returns an error nothing of
	// the batch was stored.
	InsertRegistrations(ctx context.Context, batch []NewRegistration) ([]InsertOutcome, error)
	// RegistrationBySequence returns ErrNotFound for an unknown sequence.
	RegistrationBySequence(ctx context.Context, sequence int64) (Registration, error)
	// RegistrationByDocument looks a registration up by its blind index.
	RegistrationByDocument(ctx context.Context, documentHash []byte) (Registration, error)
	// WaitingPosition returns how many waiting registrations of the group are
	// at or before the given group ordinal.
	WaitingPosition(ctx context.Context, group string, ordinal int64) (int64, error)
	// Ping reports whether the store can take writes.
	Ping(ctx context.Context) error
	Close() error
}
