package http

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/turnero/turnero/internal/dashboard"
	"github.com/turnero/turnero/internal/turnero"
)

// dashboardRoutes are the ministry's figures (issue 13), for analysts and
// operators: aggregates only, never a name, document, contact or code. Each
// is JSON, or CSV with ?format=csv (or Accept: text/csv).
func (s *Server) dashboardRoutes() {
	s.handle("GET /v1/dashboard/willingness", s.dashWillingness)
	s.handle("GET /v1/dashboard/departments/{department}/localities", s.dashLocalities)
	s.handle("GET /v1/dashboard/registrations", s.dashBreakdown)
	s.handle("GET /v1/dashboard/registrations/series", s.dashSeries)
	s.handle("GET /v1/dashboard/line", s.dashLine)
	s.handle("GET /v1/dashboard/capacity", s.dashCapacity)
	s.handle("GET /v1/dashboard/costs", s.dashCosts)
}

// figure answers one figure: JSON, or CSV rows made by rows.
func figure[T any](s *Server, w http.ResponseWriter, r *http.Request, get func() (T, error),
	header []string, rows func(T) [][]string) {
	if _, err := s.authorize(r, turnero.RoleAnalyst, turnero.RoleAdmin); err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := get()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if !wantsCSV(r) {
		writeJSON(w, http.StatusOK, v)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	cw.Write(header)
	for _, row := range rows(v) {
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		cw.Write(row)
	}
	cw.Flush()
}

func i64(n int64) string   { return strconv.FormatInt(n, 10) }
func f64(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
func optf(x *float64) string {
	if x == nil {
		return ""
	}
	return f64(*x)
}

func (s *Server) dashWillingness(w http.ResponseWriter, r *http.Request) {
	figure(s, w, r, func() (dashboard.Willingness, error) { return s.Figures.Willingness(r.Context()) },
		[]string{"department", "name", "population", "adult_population", "eligible_population", "registrations",
			"adult_registrations", "percent_of_adults", "percent_of_eligible", "cancelled"},
		func(v dashboard.Willingness) [][]string {
			var out [][]string
			for _, d := range append(v.Departments, v.Total) {
				out = append(out, []string{d.Code, d.Name, i64(d.Population), i64(d.AdultPopulation), i64(d.EligiblePopulation),
					i64(d.Registrations), i64(d.AdultRegistrations), f64(d.PercentOfAdults), f64(d.PercentOfEligible),
					i64(d.CancelledOrLeftLine)})
			}
			return out
		})
}

func (s *Server) dashLocalities(w http.ResponseWriter, r *http.Request) {
	figure(s, w, r, func() (dashboard.Localities, error) {
		dep, err := pathValue(r, "department", dashboard.ErrUnknownDepartment)
		if err != nil {
			return dashboard.Localities{}, err
		}
		return s.Figures.Localities(r.Context(), dep)
	}, []string{"department", "locality", "registrations"}, func(v dashboard.Localities) [][]string {
		var out [][]string
		for _, l := range v.Localities {
			out = append(out, []string{v.Department, l.Locality, i64(l.Registrations)})
		}
		return out
	})
}

func (s *Server) dashBreakdown(w http.ResponseWriter, r *http.Request) {
	figure(s, w, r, func() (dashboard.Breakdown, error) { return s.Figures.Breakdown(r.Context()) },
		[]string{"by", "key", "label", "registrations"}, func(v dashboard.Breakdown) [][]string {
			var out [][]string
			for _, part := range []struct {
				by string
				cs []dashboard.Count
			}{{"group", v.Groups}, {"age_band", v.AgeBands}, {"channel", v.Channels}} {
				for _, c := range part.cs {
					out = append(out, []string{part.by, c.Key, c.Label, i64(c.N)})
				}
			}
			return append(out, []string{"total", "", "", i64(v.Total)})
		})
}

// dashSeries: registrations per step over [from, to). Without from, the
// first minute counted; without to, now; without step, by the minute up
// to two days, by the hour up to 120 days, by the day beyond.
func (s *Server) dashSeries(w http.ResponseWriter, r *http.Request) {
	figure(s, w, r, func() (dashboard.Series, error) {
		q := r.URL.Query()
		fe := turnero.FieldErrors{}
		now := s.clock.Now()
		to := now.Add(time.Minute)
		var from time.Time
		if v := q.Get("from"); v != "" {
			t, ok := s.parseTime(v)
			if !ok {
				fe.Add("from", "date_range")
			}
			from = t
		}
		if v := q.Get("to"); v != "" {
			t, ok := s.parseTime(v)
			if !ok {
				fe.Add("to", "date_range")
			}
			to = t
		}
		if err := fe.Err(); err != nil {
			return dashboard.Series{}, err
		}
		if from.IsZero() {
			counts, err := s.Store.DashboardCounts(r.Context(), turnero.CountsWanted{})
			if err != nil {
				return dashboard.Series{}, err
			}
			from = now.Add(-time.Hour)
			if counts.FirstMinute != 0 {
				from = time.Unix(counts.FirstMinute*60, 0)
			}
		}
		step := q.Get("step")
		if step == "" {
			switch span := to.Sub(from); {
			case span <= 48*time.Hour:
				step = "minute"
			case span <= 120*24*time.Hour:
				step = "hour"
			default:
				step = "day"
			}
		}
		return s.Figures.PerMinute(r.Context(), from, to, step)
	}, []string{"at", "registrations"}, func(v dashboard.Series) [][]string {
		var out [][]string
		for _, p := range v.Points {
			out = append(out, []string{p.At, i64(p.N)})
		}
		return out
	})
}

func (s *Server) dashLine(w http.ResponseWriter, r *http.Request) {
	figure(s, w, r, func() (dashboard.Line, error) { return s.Figures.Line(r.Context()) },
		[]string{"priority", "group", "name", "open", "registrations", "waiting", "now_serving", "pending",
			"days_at_booked_pace", "days_at_capacity"}, func(v dashboard.Line) [][]string {
			var out [][]string
			for _, g := range v.Groups {
				out = append(out, []string{strconv.Itoa(g.Priority), g.Group, g.Name, strconv.FormatBool(g.Open),
					i64(g.Registrations), i64(g.Waiting), i64(g.NowServing), i64(g.Pending), optf(g.DaysAtBookedPace),
					optf(g.DaysAtCapacity)})
			}
			return out
		})
}

func (s *Server) dashCapacity(w http.ResponseWriter, r *http.Request) {
	figure(s, w, r, func() (dashboard.Capacity, error) { return s.Figures.Capacity(r.Context()) },
		[]string{"level", "day", "department", "center", "capacity", "dose1_booked", "dose2_booked", "free", "doses_given", "no_shows"},
		func(v dashboard.Capacity) [][]string {
			var out [][]string
			for _, part := range []struct {
				level string
				ds    []dashboard.CenterDay
			}{{"center", v.Centers}, {"department", v.Departments}, {"country", v.Days}} {
				for _, d := range part.ds {
					out = append(out, []string{part.level, d.Day, d.Department, d.Center, i64(d.Capacity), i64(d.Dose1),
						i64(d.Dose2), i64(d.Free), i64(d.Given), i64(d.NoShows)})
				}
			}
			return out
		})
}

func (s *Server) dashCosts(w http.ResponseWriter, r *http.Request) {
	figure(s, w, r, func() (dashboard.Costs, error) { return s.Figures.Costs(r.Context()) },
		[]string{"item", "used", "unit", "unit_price", "cost", "currency"}, func(v dashboard.Costs) [][]string {
			var out [][]string
			for _, l := range v.Lines {
				out = append(out, []string{l.Item, f64(l.Used), l.Unit, f64(l.UnitPrice), f64(l.Cost), v.Currency})
			}
			out = append(out, []string{"total", "", "", "", f64(v.Total), v.Currency})
			out = append(out, []string{"per_1000_registrations", i64(v.Registrations), "registrations", "", optf(v.PerThousandRegistrations), v.Currency})
			return append(out, []string{"per_fully_vaccinated", i64(v.FullyVaccinated), "people", "", optf(v.PerFullyVaccinated), v.Currency})
		})
}
