package turnero

import (
	"fmt"
	"regexp"
)

// DashboardSettings are what the campaign dashboard needs besides the data:
// the population by age band (with the departments' totals, the population
// old enough to register in each department) and the unit prices of what
// the system uses, for the cost figures.
type DashboardSettings struct {
	// AgeBands are the national population by age, in order, without gaps;
	// MaxAge 0 is "and over". Empty: no band split, and each department's
	// whole population is taken as its adult population.
	AgeBands []AgeBand
	// PopulationSource says where the figures come from, for the page.
	PopulationSource string
	Costs            CostPrices
}

// AgeBand is the population of an age band.
type AgeBand struct {
	MinAge, MaxAge int
	Population     int64
}

// CostPrices are unit prices in one currency.
type CostPrices struct {
	Currency           string
	PerMillionRequests float64
	PerCPUHour         float64
	PerGBMonth         float64
	PerSMS             float64
	PerEmail           float64
	PerWhatsApp        float64
}

// Covers reports whether the band holds age.
func (b AgeBand) Covers(age int) bool { return age >= b.MinAge && (b.MaxAge == 0 || age <= b.MaxAge) }

// Label is the band as people read it: "18–29", "80+".
func (b AgeBand) Label() string {
	if b.MaxAge == 0 {
		return fmt.Sprintf("%d+", b.MinAge)
	}
	return fmt.Sprintf("%d–%d", b.MinAge, b.MaxAge)
}

// ShareFrom is the part of the population aged minAge or more, by the
// bands (a band that straddles minAge counts in proportion to its years).
// 1 when there are no bands.
func (s DashboardSettings) ShareFrom(minAge int) float64 {
	var total, from float64
	for _, b := range s.AgeBands {
		p := float64(b.Population)
		total += p
		switch {
		case b.MinAge >= minAge:
			from += p
		case b.MaxAge != 0 && b.MaxAge >= minAge:
			from += p * float64(b.MaxAge-minAge+1) / float64(b.MaxAge-b.MinAge+1)
		}
	}
	if total == 0 {
		return 1
	}
	return from / total
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// Validate checks the settings, naming the one that is wrong.
func (s DashboardSettings) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &CampaignError{Field: "dashboard." + field, Problem: fmt.Sprintf(format, args...)}
	}
	next := 0
	for i, b := range s.AgeBands {
		f := fmt.Sprintf("age_bands[%d]", i)
		switch {
		case b.MinAge != next:
			return bad(f+".min_age", "must be %d (bands start at 0, in order, without gaps), got %d", next, b.MinAge)
		case b.MaxAge != 0 && b.MaxAge < b.MinAge:
			return bad(f+".max_age", "must be at least min_age, or 0 for \"and over\", got %d", b.MaxAge)
		case b.MaxAge == 0 && i != len(s.AgeBands)-1:
			return bad(f+".max_age", "only the last band is open-ended (0)")
		case b.Population < 0:
			return bad(f+".population", "must not be negative")
		}
		next = b.MaxAge + 1
	}
	if n := len(s.AgeBands); n > 0 && s.AgeBands[n-1].MaxAge != 0 {
		return bad(fmt.Sprintf("age_bands[%d].max_age", n-1), "the last band must be open-ended (0)")
	}
	c := s.Costs
	if c.Currency != "" && !currencyCode.MatchString(c.Currency) {
		return bad("costs.currency", "must be an ISO 4217 code like USD or UYU, got %q", c.Currency)
	}
	for name, v := range map[string]float64{"per_million_requests": c.PerMillionRequests, "per_cpu_hour": c.PerCPUHour,
		"per_gb_month": c.PerGBMonth, "per_sms": c.PerSMS, "per_email": c.PerEmail, "per_whatsapp": c.PerWhatsApp} {
		if v < 0 {
			return bad("costs."+name, "must not be negative, got %v", v)
		}
	}
	return nil
}
