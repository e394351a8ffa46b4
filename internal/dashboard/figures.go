package dashboard

import (
	"context"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// FiguresStore is what the figures read: the counters, and the groups'
// states (a few rows).
type FiguresStore interface {
	turnero.DashboardStore
	GroupStates(ctx context.Context) ([]turnero.GroupState, error)
}

// Figures computes the dashboard's figures from the counters. Every figure
// reads small tables (counters, a capacity snapshot, the groups' rows) and
// one index probe per group: never the registrations.
type Figures struct {
	Store    FiguresStore
	Campaign *turnero.Campaign
	Clock    turnero.Clock
	// Messages counts the messages sent by channel, for the cost figures
	// (the notifications' states); nil: none counted yet.
	Messages func(ctx context.Context) (map[string]int64, error)
}

// AdultAge is the age from which the "adult population" counts.
const AdultAge = turnero.AdultAge

// Department is one row of willingness by place.
type Department struct {
	Code                string  `json:"code"`
	Name                string  `json:"name"`
	Population          int64   `json:"population"`
	AdultPopulation     int64   `json:"adult_population"`
	EligiblePopulation  int64   `json:"eligible_population"`
	Registrations       int64   `json:"registrations"`
	AdultRegistrations  int64   `json:"adult_registrations"`
	PercentOfAdults     float64 `json:"percent_of_adults"`
	PercentOfEligible   float64 `json:"percent_of_eligible"`
	CancelledOrLeftLine int64   `json:"cancelled"`
}

// Willingness is registrations by department against population.
type Willingness struct {
	AsOf             string       `json:"as_of"`
	PopulationSource string       `json:"population_source,omitempty"`
	AdultAge         int          `json:"adult_age"`
	EligibleAge      int          `json:"eligible_age"`
	Departments      []Department `json:"departments"`
	Total            Department   `json:"total"`
}

func (f *Figures) asOf(c turnero.DashboardCounts) string {
	if c.CaughtUpAt.IsZero() {
		return ""
	}
	return c.CaughtUpAt.In(f.Campaign.Location).Format(time.RFC3339)
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func percent(n, of int64) float64 {
	if of <= 0 {
		return 0
	}
	return round1(100 * float64(n) / float64(of))
}

// Willingness: registrations per department against its adult (18 and
// over) and eligible (the campaign's minimum age and over) population. A
// department's population by age is its total times the national share of
// that age (the campaign's age bands): each department is taken to have
// the national age structure.
func (f *Figures) Willingness(ctx context.Context) (Willingness, error) {
	c := f.Campaign
	counts, err := f.Store.DashboardCounts(ctx, turnero.CountsWanted{Registrations: true,
		RegistrationsBy: []string{"department", "adult"}, EventTotals: true})
	if err != nil {
		return Willingness{}, err
	}
	s := c.Dashboard
	adultShare, eligibleShare := s.ShareFrom(AdultAge), s.ShareFrom(c.MinimumAge)
	w := Willingness{AsOf: f.asOf(counts), PopulationSource: s.PopulationSource, AdultAge: AdultAge, EligibleAge: c.MinimumAge}
	idx := map[string]int{}
	for _, d := range c.Departments {
		idx[d.Code] = len(w.Departments)
		p := int64(d.Population)
		w.Departments = append(w.Departments, Department{Code: d.Code, Name: d.Name, Population: p,
			AdultPopulation: int64(math.Round(float64(p) * adultShare)), EligiblePopulation: int64(math.Round(float64(p) * eligibleShare))})
	}
	for _, r := range counts.Registrations {
		i, ok := idx[r.Department]
		if !ok {
			continue
		}
		w.Departments[i].Registrations += r.N
		if r.Age >= AdultAge {
			w.Departments[i].AdultRegistrations += r.N
		}
	}
	for _, e := range counts.EventTotals {
		if e.Kind == turnero.EventCancel && e.Dose == 0 {
			if i, ok := idx[e.Department]; ok {
				w.Departments[i].CancelledOrLeftLine += e.N
			}
		}
	}
	t := &w.Total
	t.Code, t.Name = "", "Total"
	for i := range w.Departments {
		d := &w.Departments[i]
		d.PercentOfAdults = percent(d.AdultRegistrations, d.AdultPopulation)
		d.PercentOfEligible = percent(d.Registrations, d.EligiblePopulation)
		t.Population += d.Population
		t.AdultPopulation += d.AdultPopulation
		t.EligiblePopulation += d.EligiblePopulation
		t.Registrations += d.Registrations
		t.AdultRegistrations += d.AdultRegistrations
		t.CancelledOrLeftLine += d.CancelledOrLeftLine
	}
	t.PercentOfAdults = percent(t.AdultRegistrations, t.AdultPopulation)
	t.PercentOfEligible = percent(t.Registrations, t.EligiblePopulation)
	return w, nil
}

// Locality is one locality's registrations.
type Locality struct {
	Locality      string `json:"locality"`
	Registrations int64  `json:"registrations"`
}

// Localities is registrations by locality within a department, the most
// frequent first (localities as people wrote them, folded: see
// FoldLocality; "" when none was given).
type Localities struct {
	Department string     `json:"department"`
	Name       string     `json:"name"`
	Localities []Locality `json:"localities"`
}

// ErrUnknownDepartment: the department asked for is not the campaign's.
var ErrUnknownDepartment = turnero.Errorf(turnero.CodeNotFound, "department_unknown")

// Localities reads a department's localities.
func (f *Figures) Localities(ctx context.Context, department string) (Localities, error) {
	d, ok := f.Campaign.Department(department)
	if !ok {
		return Localities{}, ErrUnknownDepartment
	}
	ls, err := f.Store.Localities(ctx, d.Code)
	if err != nil {
		return Localities{}, err
	}
	out := Localities{Department: d.Code, Name: d.Name, Localities: []Locality{}}
	for _, l := range ls {
		out.Localities = append(out.Localities, Locality{Locality: l.Locality, Registrations: l.N})
	}
	return out, nil
}

// Count is a labelled count.
type Count struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	N     int64  `json:"registrations"`
}

// Breakdown is registrations by group, by age band and by channel.
type Breakdown struct {
	AsOf     string  `json:"as_of"`
	Total    int64   `json:"total"`
	Groups   []Count `json:"groups"`
	AgeBands []Count `json:"age_bands"`
	Channels []Count `json:"channels"`
}

// Bands are the campaign's age bands, or decades when it has none.
func (f *Figures) Bands() []turnero.AgeBand {
	if b := f.Campaign.Dashboard.AgeBands; len(b) > 0 {
		return b
	}
	var out []turnero.AgeBand
	for a := 0; a < 80; a += 10 {
		out = append(out, turnero.AgeBand{MinAge: a, MaxAge: a + 9})
	}
	return append(out, turnero.AgeBand{MinAge: 80})
}

// Breakdown counts registrations by group, age band and channel.
func (f *Figures) Breakdown(ctx context.Context) (Breakdown, error) {
	c := f.Campaign
	counts, err := f.Store.DashboardCounts(ctx, turnero.CountsWanted{Registrations: true,
		RegistrationsBy: []string{"grp", "age", "channel"}})
	if err != nil {
		return Breakdown{}, err
	}
	b := Breakdown{AsOf: f.asOf(counts)}
	bands := f.Bands()
	byGroup, byBand, byChannel := map[string]int64{}, make([]int64, len(bands)), map[string]int64{}
	for _, r := range counts.Registrations {
		b.Total += r.N
		byGroup[r.Group] += r.N
		byChannel[r.Channel] += r.N
		for i, band := range bands {
			if band.Covers(r.Age) {
				byBand[i] += r.N
				break
			}
		}
	}
	for _, g := range c.Groups {
		b.Groups = append(b.Groups, Count{Key: g.ID, Label: g.Name, N: byGroup[g.ID]})
	}
	for i, band := range bands {
		b.AgeBands = append(b.AgeBands, Count{Key: band.Label(), Label: band.Label(), N: byBand[i]})
	}
	for _, ch := range c.Channels {
		b.Channels = append(b.Channels, Count{Key: ch, Label: ch, N: byChannel[ch]})
	}
	return b, nil
}

// Point is a count at a time.
type Point struct {
	At string `json:"at"`
	N  int64  `json:"registrations"`
}

// Series is registrations per step (minute, hour or day) over [From, To).
type Series struct {
	From   string  `json:"from"`
	To     string  `json:"to"`
	Step   string  `json:"step"`
	Total  int64   `json:"total"`
	Peak   Point   `json:"peak"`
	Points []Point `json:"points"`
}

// Steps of a series.
var steps = map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}

// MaxPoints bounds a series: a day by the minute, or a campaign by the hour.
const MaxPoints = 24 * 60 * 2

// ErrSeriesRange: from, to or step make no series (or one too long).
var ErrSeriesRange = turnero.Errorf(turnero.CodeInvalid, "series_range")

// PerMinute is registrations per step in [from, to): every step of the
// range, those without registrations at 0. The steps are the campaign's
// civil minutes, hours or days.
func (f *Figures) PerMinute(ctx context.Context, from, to time.Time, step string) (Series, error) {
	d, ok := steps[step]
	if !ok || !from.Before(to) || to.Sub(from)/d > MaxPoints {
		return Series{}, ErrSeriesRange
	}
	loc := f.Campaign.Location
	// Minutes for a series by the minute (two days at most); the hours'
	// counters otherwise: weeks by the minute would be tens of thousands
	// of rows. A day is made of whole hours: exact in time zones whose
	// offset is whole hours.
	var ms []turnero.MinuteCount
	if step == "minute" {
		var err error
		if ms, err = f.Store.Minutes(ctx, from, to); err != nil {
			return Series{}, err
		}
	} else {
		hs, err := f.Store.Hours(ctx, from, to)
		if err != nil {
			return Series{}, err
		}
		ms = make([]turnero.MinuteCount, len(hs))
		for i, h := range hs {
			ms[i] = turnero.MinuteCount{Minute: h.Hour * 60, N: h.N}
		}
	}
	start := truncate(from.In(loc), step)
	var points []Point
	var idx []time.Time
	for t := start; t.Before(to); t = next(t, step) {
		idx = append(idx, t)
		points = append(points, Point{At: t.Format(time.RFC3339)})
	}
	s := Series{From: start.Format(time.RFC3339), To: to.In(loc).Format(time.RFC3339), Step: step, Points: points}
	for _, m := range ms {
		t := time.Unix(m.Minute*60, 0).In(loc)
		i := sort.Search(len(idx), func(i int) bool { return idx[i].After(t) }) - 1
		if i < 0 {
			continue
		}
		s.Points[i].N += m.N
		s.Total += m.N
	}
	for _, p := range s.Points {
		if p.N > s.Peak.N {
			s.Peak = p
		}
	}
	return s, nil
}

func truncate(t time.Time, step string) time.Time {
	switch step {
	case "day":
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	case "hour":
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, t.Location())
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, t.Location())
}

func next(t time.Time, step string) time.Time {
	switch step {
	case "day":
		return t.AddDate(0, 0, 1)
	case "hour":
		return t.Add(time.Hour)
	}
	return t.Add(time.Minute)
}

// GroupLine is one group's line.
type GroupLine struct {
	Group         string `json:"group"`
	Name          string `json:"name"`
	Priority      int    `json:"priority"`
	Open          bool   `json:"open"`
	Registrations int64  `json:"registrations"`
	Waiting       int64  `json:"waiting"`
	NowServing    int64  `json:"now_serving"`
	Pending       int64  `json:"pending"`
	// DaysAtBookedPace: days to serve everyone waiting in this group and
	// those before it, at the first doses booked per day in the next two
	// weeks; nil when nothing is booked.
	DaysAtBookedPace *float64 `json:"days_at_booked_pace"`
	// DaysAtCapacity: the same at the free capacity of the next two weeks
	// (the capacity no dose takes yet).
	DaysAtCapacity *float64 `json:"days_at_capacity"`
}

// Line is the waiting line of every group, in priority order.
type Line struct {
	AsOf               string      `json:"as_of"`
	BookedPerDay       float64     `json:"first_doses_booked_per_day"`
	FreeCapacityPerDay float64     `json:"free_capacity_per_day"`
	Groups             []GroupLine `json:"groups"`
}

// Line: per group, how many wait (its last place in line, less the cursor
// and the places left empty past it, plus those passed and not placed),
// the number served up to, and the days to serve it.
func (f *Figures) Line(ctx context.Context) (Line, error) {
	c := f.Campaign
	counts, err := f.Store.DashboardCounts(ctx, turnero.CountsWanted{Registrations: true,
		RegistrationsBy: []string{"grp"}, Capacity: true})
	if err != nil {
		return Line{}, err
	}
	states, err := f.Store.GroupStates(ctx)
	if err != nil {
		return Line{}, err
	}
	byGroup := map[string]turnero.GroupState{}
	for _, g := range states {
		byGroup[g.Group] = g
	}
	regs := map[string]int64{}
	for _, r := range counts.Registrations {
		regs[r.Group] += r.N
	}
	l := Line{AsOf: f.asOf(counts)}
	booked, free := f.pace(counts)
	l.BookedPerDay, l.FreeCapacityPerDay = round1(booked), round1(free)
	var ahead int64
	for i, g := range c.Groups {
		st := byGroup[g.ID]
		last, err := f.Store.LastOrdinal(ctx, g.ID)
		if err != nil {
			return Line{}, err
		}
		waiting := max(last-st.Cursor-st.Left, 0) + st.Pending
		ahead += waiting
		gl := GroupLine{Group: g.ID, Name: g.Name, Priority: i + 1, Open: st.Open, Registrations: regs[g.ID],
			Waiting: waiting, NowServing: st.Cursor, Pending: st.Pending}
		if booked > 0 {
			d := round1(float64(ahead) / booked)
			gl.DaysAtBookedPace = &d
		}
		if free > 0 {
			d := round1(float64(ahead) / free)
			gl.DaysAtCapacity = &d
		}
		l.Groups = append(l.Groups, gl)
	}
	return l, nil
}

// pace is the first doses booked per day, and the capacity left free per
// day, over the next two weeks (from tomorrow) of the capacity snapshot.
func (f *Figures) pace(counts turnero.DashboardCounts) (booked, free float64) {
	now := f.Clock.Now().In(f.Campaign.Location)
	from := now.AddDate(0, 0, 1).Format("2006-01-02")
	to := now.AddDate(0, 0, 14).Format("2006-01-02")
	var b, fr int64
	for _, d := range counts.Capacity {
		if d.Day < from || d.Day > to {
			continue
		}
		b += d.Dose1
		fr += max(d.Capacity-d.Dose1-d.Dose2, 0)
	}
	return float64(b) / 14, float64(fr) / 14
}

// CenterDay is a center's day, or a department's, or the whole country's.
type CenterDay struct {
	Day        string `json:"day"`
	Center     string `json:"center,omitempty"`
	Department string `json:"department,omitempty"`
	Capacity   int64  `json:"capacity"`
	Dose1      int64  `json:"dose1_booked"`
	Dose2      int64  `json:"dose2_booked"`
	Free       int64  `json:"free"`
	Given      int64  `json:"doses_given"`
	NoShows    int64  `json:"no_shows"`
}

// Capacity is bookings against capacity by center and department, and the
// campaign's doses so far.
type Capacity struct {
	AsOf          string           `json:"as_of"`
	From          string           `json:"from"`
	To            string           `json:"to"`
	Centers       []CenterDay      `json:"centers"`
	Departments   []CenterDay      `json:"departments"`
	Days          []CenterDay      `json:"days"`
	DosesGiven    map[string]int64 `json:"doses_given"`
	NoShows       map[string]int64 `json:"no_shows"`
	CheckIns      int64            `json:"check_ins"`
	Cancellations int64            `json:"cancellations"`
	// SecondDosesDue are second doses booked from today to the end of the
	// window.
	SecondDosesDue  int64 `json:"second_doses_due"`
	FullyVaccinated int64 `json:"fully_vaccinated"`
}

// Capacity reads the snapshot and the events' counters.
func (f *Figures) Capacity(ctx context.Context) (Capacity, error) {
	c := f.Campaign
	counts, err := f.Store.DashboardCounts(ctx, turnero.CountsWanted{EventTotals: true, Capacity: true})
	if err != nil {
		return Capacity{}, err
	}
	centers, err := f.centerDepartments(ctx)
	if err != nil {
		return Capacity{}, err
	}
	out := Capacity{AsOf: f.asOf(counts), DosesGiven: map[string]int64{}, NoShows: map[string]int64{},
		Centers: []CenterDay{}, Departments: []CenterDay{}, Days: []CenterDay{}}
	if !counts.CapacityAt.IsZero() {
		out.AsOf = counts.CapacityAt.In(c.Location).Format(time.RFC3339)
	}
	today := f.Clock.Now().In(c.Location).Format("2006-01-02")
	from, to := "", ""
	for _, d := range counts.Capacity {
		if from == "" || d.Day < from {
			from = d.Day
		}
		if d.Day > to {
			to = d.Day
		}
	}
	out.From, out.To = from, to
	var evDays []turnero.EventDay
	if from != "" {
		if evDays, err = f.Store.EventDays(ctx, from, to); err != nil {
			return Capacity{}, err
		}
	}
	type key struct{ day, center string }
	given, noShow := map[key]int64{}, map[key]int64{}
	for _, e := range evDays {
		switch e.Kind {
		case turnero.AppointmentGiven:
			given[key{e.Day, e.Center}] += e.N
		case turnero.AppointmentNoShow:
			noShow[key{e.Day, e.Center}] += e.N
		}
	}
	deps, days := map[key]*CenterDay{}, map[string]*CenterDay{}
	var depOrder []key
	var dayOrder []string
	for _, d := range counts.Capacity {
		k := key{d.Day, d.Center}
		cd := CenterDay{Day: d.Day, Center: d.Center, Department: centers[d.Center], Capacity: d.Capacity, Dose1: d.Dose1,
			Dose2: d.Dose2, Free: max(d.Capacity-d.Dose1-d.Dose2, 0), Given: given[k], NoShows: noShow[k]}
		out.Centers = append(out.Centers, cd)
		if d.Day >= today {
			out.SecondDosesDue += d.Dose2
		}
		dk := key{d.Day, cd.Department}
		if deps[dk] == nil {
			deps[dk] = &CenterDay{Day: d.Day, Department: cd.Department}
			depOrder = append(depOrder, dk)
		}
		if days[d.Day] == nil {
			days[d.Day] = &CenterDay{Day: d.Day}
			dayOrder = append(dayOrder, d.Day)
		}
		for _, agg := range []*CenterDay{deps[dk], days[d.Day]} {
			agg.Capacity += cd.Capacity
			agg.Dose1 += cd.Dose1
			agg.Dose2 += cd.Dose2
			agg.Free += cd.Free
			agg.Given += cd.Given
			agg.NoShows += cd.NoShows
		}
	}
	sort.Slice(depOrder, func(i, j int) bool {
		if depOrder[i].day != depOrder[j].day {
			return depOrder[i].day < depOrder[j].day
		}
		return depOrder[i].center < depOrder[j].center
	})
	for _, k := range depOrder {
		out.Departments = append(out.Departments, *deps[k])
	}
	sort.Strings(dayOrder)
	for _, d := range dayOrder {
		out.Days = append(out.Days, *days[d])
	}
	doses := map[string]int{}
	for _, v := range c.Vaccines {
		doses[v.ID] = v.Doses
	}
	for _, e := range counts.EventTotals {
		dose := strconv.Itoa(e.Dose)
		switch e.Kind {
		case turnero.AppointmentGiven:
			out.DosesGiven[dose] += e.N
			if e.Dose == doses[e.Vaccine] {
				out.FullyVaccinated += e.N
			}
		case turnero.AppointmentNoShow:
			out.NoShows[dose] += e.N
		case turnero.AppointmentCheckedIn:
			out.CheckIns += e.N
		case turnero.EventCancel:
			out.Cancellations += e.N
		}
	}
	return out, nil
}

// centerDepartments maps each center to its department.
func (f *Figures) centerDepartments(ctx context.Context) (map[string]string, error) {
	s, ok := f.Store.(interface {
		Centers(ctx context.Context) ([]turnero.Center, error)
	})
	out := map[string]string{}
	for _, ct := range f.Campaign.Centers {
		out[ct.ID] = ct.Department
	}
	if !ok {
		return out, nil
	}
	cs, err := s.Centers(ctx)
	if err != nil {
		return nil, err
	}
	for _, ct := range cs {
		out[ct.ID] = ct.Department
	}
	return out, nil
}

// CostLine is one resource: how much was used and what it cost.
type CostLine struct {
	Item      string  `json:"item"`
	Used      float64 `json:"used"`
	Unit      string  `json:"unit"`
	UnitPrice float64 `json:"unit_price"`
	Cost      float64 `json:"cost"`
}

// Costs is what the campaign has cost so far, per resource, and per 1,000
// registrations and per person fully vaccinated.
type Costs struct {
	AsOf                     string     `json:"as_of"`
	Currency                 string     `json:"currency"`
	Lines                    []CostLine `json:"lines"`
	Total                    float64    `json:"total"`
	Registrations            int64      `json:"registrations"`
	FullyVaccinated          int64      `json:"fully_vaccinated"`
	PerThousandRegistrations *float64   `json:"per_1000_registrations"`
	PerFullyVaccinated       *float64   `json:"per_fully_vaccinated"`
	Nodes                    int        `json:"nodes"`
	// Storage is priced for the days since the first registration.
	StorageDays float64 `json:"storage_days"`
}

// Costs prices requests, CPU time, storage and messages.
func (f *Figures) Costs(ctx context.Context) (Costs, error) {
	c := f.Campaign
	p := c.Dashboard.Costs
	counts, err := f.Store.DashboardCounts(ctx, turnero.CountsWanted{Registrations: true, EventTotals: true, Usage: true})
	if err != nil {
		return Costs{}, err
	}
	bytes, err := f.Store.StorageBytes(ctx)
	if err != nil {
		return Costs{}, err
	}
	var requests int64
	var cpu float64
	for _, u := range counts.Usage {
		requests += u.Requests
		cpu += u.CPUSeconds
	}
	out := Costs{AsOf: f.asOf(counts), Currency: p.Currency, Nodes: len(counts.Usage)}
	for _, r := range counts.Registrations {
		out.Registrations += r.N
	}
	doses := map[string]int{}
	for _, v := range c.Vaccines {
		doses[v.ID] = v.Doses
	}
	for _, e := range counts.EventTotals {
		if e.Kind == turnero.AppointmentGiven && e.Dose == doses[e.Vaccine] {
			out.FullyVaccinated += e.N
		}
	}
	// Storage is billed by the month: the size now, over the days since
	// the first registration counted.
	days := 0.0
	if counts.FirstMinute != 0 {
		days = math.Max(f.Clock.Now().Sub(time.Unix(counts.FirstMinute*60, 0)).Hours()/24, 0)
	}
	out.StorageDays = round1(days)
	gb := float64(bytes) / 1e9
	add := func(item string, used float64, unit string, price, cost float64) {
		out.Lines = append(out.Lines, CostLine{Item: item, Used: used, Unit: unit, UnitPrice: price, Cost: cost})
		out.Total += cost
	}
	add("requests", float64(requests), "requests", p.PerMillionRequests/1e6, float64(requests)*p.PerMillionRequests/1e6)
	add("cpu", cpu/3600, "CPU hours", p.PerCPUHour, cpu/3600*p.PerCPUHour)
	add("storage", gb, "GB", p.PerGBMonth, gb*p.PerGBMonth*days/30)
	var msgs map[string]int64
	if f.Messages != nil {
		if msgs, err = f.Messages(ctx); err != nil {
			return Costs{}, err
		}
	}
	for _, ch := range []struct {
		name  string
		price float64
	}{{"sms", p.PerSMS}, {"email", p.PerEmail}, {"whatsapp", p.PerWhatsApp}} {
		n := float64(msgs[ch.name])
		add("messages_"+ch.name, n, "messages", ch.price, n*ch.price)
	}
	out.Total = roundCents(out.Total)
	for i := range out.Lines {
		out.Lines[i].Cost = roundCents(out.Lines[i].Cost)
	}
	if out.Registrations > 0 {
		v := roundCents(out.Total / float64(out.Registrations) * 1000)
		out.PerThousandRegistrations = &v
	}
	if out.FullyVaccinated > 0 {
		v := math.Round(out.Total/float64(out.FullyVaccinated)*1e4) / 1e4
		out.PerFullyVaccinated = &v
	}
	return out, nil
}

func roundCents(x float64) float64 { return math.Round(x*100) / 100 }
