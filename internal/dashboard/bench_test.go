package dashboard_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/dashboard"
	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/turnero"
)

// BenchmarkFigures reads each figure from counters of a whole campaign. With
// TURNERO_DASH_DB=path/turnero.db (a database bench/dashboard.sh filled and
// served until the figures caught up) it reads that one, at 2.8 million
// registrations; otherwise it makes counters of the same size in a fresh
// one: every department, group, age and channel, 40,000 minutes (four
// weeks), 46 centers for 22 days.
//
//	go test -run '^$' -bench Figures -benchtime 200x ./internal/dashboard/
func BenchmarkFigures(b *testing.B) {
	ctx := context.Background()
	c := campaign.Sample()
	var store turnero.Store
	if path := os.Getenv("TURNERO_DASH_DB"); path != "" {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		store = db
	} else {
		store = enginetest.SQLite.New(b)
		fillCounters(b, store, c)
	}
	clk := &clock{t: time.Date(2021, 4, 10, 12, 0, 0, 0, time.UTC)}
	f := &dashboard.Figures{Store: store, Campaign: c, Clock: clk}
	launch := time.Date(2021, 3, 21, 22, 0, 0, 0, time.UTC)
	for _, fig := range []struct {
		name string
		fn   func() error
	}{
		{"willingness", func() error { _, err := f.Willingness(ctx); return err }},
		{"localities", func() error { _, err := f.Localities(ctx, "UY-MO"); return err }},
		{"registrations", func() error { _, err := f.Breakdown(ctx); return err }},
		{"series_launch_by_minute", func() error { _, err := f.PerMinute(ctx, launch, launch.Add(24*time.Hour), "minute"); return err }},
		{"series_campaign_by_hour", func() error {
			_, err := f.PerMinute(ctx, launch, launch.Add(28*24*time.Hour), "hour")
			return err
		}},
		{"line", func() error { _, err := f.Line(ctx); return err }},
		{"capacity", func() error { _, err := f.Capacity(ctx); return err }},
		{"costs", func() error { _, err := f.Costs(ctx); return err }},
	} {
		b.Run(fig.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := fig.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fillCounters adds counters of a whole campaign's size.
func fillCounters(b *testing.B, store turnero.Store, c *turnero.Campaign) {
	ctx := context.Background()
	var d turnero.DashboardDelta
	for _, dep := range c.Departments {
		for age := 12; age <= 100; age++ {
			g, _ := c.PlaceInGroup(age, nil)
			for _, ch := range c.Channels {
				d.Registrations = append(d.Registrations, turnero.RegistrationCount{Department: dep.Code, Group: g, Age: age, Channel: ch, N: 7})
			}
		}
		for i := 0; i < 9; i++ {
			d.Localities = append(d.Localities, turnero.LocalityCount{Department: dep.Code, Locality: string(rune('a' + i)), N: 11})
		}
	}
	launch := time.Date(2021, 3, 21, 22, 0, 0, 0, time.UTC).Unix() / 60
	for m := int64(0); m < 40_000; m++ {
		d.Minutes = append(d.Minutes, turnero.MinuteCount{Minute: launch + m, N: 3})
		if m%60 == 0 {
			d.Hours = append(d.Hours, turnero.HourCount{Hour: (launch + m) / 60, N: 180})
		}
	}
	for _, ct := range c.Centers {
		for _, k := range []string{turnero.AppointmentGiven, turnero.AppointmentNoShow, turnero.AppointmentCheckedIn} {
			for dose := 1; dose <= 2; dose++ {
				d.EventTotals = append(d.EventTotals, turnero.EventTotal{Center: ct.ID, Department: ct.Department, Vaccine: "pfizer", Dose: dose, Kind: k, N: 100})
				for day := 0; day < 22; day++ {
					d.EventDays = append(d.EventDays, turnero.EventDay{Day: time.Date(2021, 4, 1+day, 0, 0, 0, 0, time.UTC).Format("2006-01-02"),
						Center: ct.ID, Dose: dose, Kind: k, N: 5})
				}
			}
		}
	}
	d.To = turnero.DashboardMarks{Registrations: 2_800_000}
	if err := store.ApplyDashboard(ctx, turnero.DashboardMarks{}, d, time.Now()); err != nil {
		b.Fatal(err)
	}
	w := dashboard.NewWorker(dashboard.Config{}, store, c, nil, &clock{t: time.Date(2021, 4, 10, 12, 0, 0, 0, time.UTC)},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := w.RefreshCapacity(ctx); err != nil {
		b.Fatal(err)
	}
}
