package campaign

import "github.com/turnero/turnero/internal/turnero"

// dashboardFile is the [dashboard] section: population by age band and
// unit prices.
type dashboardFile struct {
	PopulationSource string `toml:"population_source"`
	AgeBands         []struct {
		MinAge     int   `toml:"min_age"`
		MaxAge     int   `toml:"max_age"`
		Population int64 `toml:"population"`
	} `toml:"age_bands"`
	Costs struct {
		Currency           string  `toml:"currency"`
		PerMillionRequests float64 `toml:"per_million_requests"`
		PerCPUHour         float64 `toml:"per_cpu_hour"`
		PerGBMonth         float64 `toml:"per_gb_month"`
		PerSMS             float64 `toml:"per_sms"`
		PerEmail           float64 `toml:"per_email"`
		PerWhatsApp        float64 `toml:"per_whatsapp"`
	} `toml:"costs"`
}

func (f *file) convertDashboard(c *turnero.Campaign) error {
	if f.Dashboard == nil {
		return nil
	}
	d := f.Dashboard
	s := turnero.DashboardSettings{PopulationSource: d.PopulationSource, Costs: turnero.CostPrices{
		Currency: d.Costs.Currency, PerMillionRequests: d.Costs.PerMillionRequests, PerCPUHour: d.Costs.PerCPUHour,
		PerGBMonth: d.Costs.PerGBMonth, PerSMS: d.Costs.PerSMS, PerEmail: d.Costs.PerEmail, PerWhatsApp: d.Costs.PerWhatsApp,
	}}
	for _, b := range d.AgeBands {
		s.AgeBands = append(s.AgeBands, turnero.AgeBand{MinAge: b.MinAge, MaxAge: b.MaxAge, Population: b.Population})
	}
	if err := s.Validate(); err != nil {
		return err
	}
	c.Dashboard = s
	return nil
}
