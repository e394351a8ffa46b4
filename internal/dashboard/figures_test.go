package dashboard_test

import (
	"context"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/turnero"
)

// TestCapacityAndLineAfterAllocation: after a real allocation, the capacity
// snapshot equals a recount of the appointments booked (by center, day and
// dose) against the agendas, and the line's waiting equals a recount of the
// registrations without a booking; registrations after the run wait.
func TestCapacityAndLineAfterAllocation(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
		ctx := context.Background()
		f := newFixture(t, e, 100)
		f.clock.t = time.Date(2021, 3, 22, 13, 0, 0, 0, time.UTC)
		c := f.campaign
		if err := f.store.UpsertCenters(ctx, c.Centers); err != nil {
			t.Fatal(err)
		}
		var ps []person
		for i := 0; i < 40; i++ {
			ps = append(ps, person{department: []string{"UY-MO", "UY-CA", "UY-SA"}[i%3], group: "age-60-69", channel: "web", age: 65})
		}
		for i := 0; i < 5; i++ {
			ps = append(ps, person{department: "UY-MO", group: "age-50-59", channel: "web", age: 55})
		}
		f.register(t, ps)
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		a, err := allocate.New(allocate.Config{}, f.store, c, f.clock, quiet)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.SetGroupOpen(ctx, "age-60-69", true); err != nil {
			t.Fatal(err)
		}
		rep, err := a.RunOnce(ctx)
		if err != nil || rep.Scheduled == 0 {
			t.Fatalf("allocation: %+v, %v", rep, err)
		}
		f.register(t, []person{{department: "UY-MO", group: "age-60-69", channel: "web", age: 66},
			{department: "UY-MO", group: "age-60-69", channel: "web", age: 67}})
		if _, err := f.worker.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if err := f.worker.RefreshCapacity(ctx); err != nil {
			t.Fatal(err)
		}

		// The slow recount: every appointment, by center, day and dose.
		type key struct {
			day, center string
			dose        int
		}
		booked := map[key]int64{}
		scheduled := map[int64]bool{}
		if err := f.store.EachAppointment(ctx, func(ap turnero.Appointment) error {
			booked[key{ap.Start.In(c.Location).Format("2006-01-02"), ap.Center, ap.Dose}]++
			scheduled[ap.Registration] = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		capa, err := f.figures.Capacity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		centers := map[string]turnero.Center{}
		for _, ct := range c.Centers {
			centers[ct.ID] = ct
		}
		seen := map[key]int64{}
		for _, d := range capa.Centers {
			ct := centers[d.Center]
			day, _ := time.ParseInLocation("2006-01-02", d.Day, c.Location)
			if want := int64(ct.CapacityOn(day)) * int64(ct.SlotsPerDay()); d.Capacity != want {
				t.Fatalf("capacity of %s on %s: %d, the agenda gives %d", d.Center, d.Day, d.Capacity, want)
			}
			if d.Dose1 != booked[key{d.Day, d.Center, 1}] || d.Dose2 != booked[key{d.Day, d.Center, 2}] {
				t.Fatalf("%s on %s: dose 1 %d, dose 2 %d; recount %d, %d", d.Center, d.Day, d.Dose1, d.Dose2,
					booked[key{d.Day, d.Center, 1}], booked[key{d.Day, d.Center, 2}])
			}
			if d.Free != max(d.Capacity-d.Dose1-d.Dose2, 0) {
				t.Fatalf("free %d", d.Free)
			}
			seen[key{d.Day, d.Center, 1}] += d.Dose1
		}
		// Every first dose booked in the window is in the snapshot.
		today := f.clock.t.In(c.Location)
		first, last := today.AddDate(0, 0, -7).Format("2006-01-02"), today.AddDate(0, 0, 14).Format("2006-01-02")
		var inWindow, total int64
		for k, n := range booked {
			if k.dose == 1 && k.day >= first && k.day <= last {
				inWindow += n
				if seen[k] != n {
					t.Fatalf("%+v: %d booked, %d in the snapshot", k, n, seen[k])
				}
			}
			if k.dose == 1 {
				total += n
			}
		}
		if inWindow == 0 || total != int64(rep.Scheduled) {
			t.Fatalf("%d first doses in the window, %d in all, %d scheduled: the test books nothing it checks", inWindow, total, rep.Scheduled)
		}

		line, err := f.figures.Line(ctx)
		if err != nil {
			t.Fatal(err)
		}
		regs, err := f.store.RegistrationsAfter(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		waiting := map[string]int64{}
		for _, r := range regs {
			if !scheduled[r.Sequence] && r.Status == turnero.StatusWaiting {
				waiting[r.Group]++
			}
		}
		for _, g := range line.Groups {
			if g.Waiting != waiting[g.Group] {
				t.Fatalf("line of %s: %d waiting, recount %d", g.Group, g.Waiting, waiting[g.Group])
			}
			if g.Group == "age-60-69" && (!g.Open || g.NowServing == 0 || g.Waiting < 2) {
				t.Fatalf("line of age-60-69: %+v", g)
			}
		}
		if line.BookedPerDay <= 0 || line.FreeCapacityPerDay <= 0 {
			t.Fatalf("pace: %v booked, %v free per day", line.BookedPerDay, line.FreeCapacityPerDay)
		}

		// Costs: every node's usage, times the prices.
		for _, u := range []turnero.NodeUsage{{Node: "a/1", Requests: 2_000_000, CPUSeconds: 7200, UpdatedAt: f.clock.t},
			{Node: "b/2", Requests: 500_000, CPUSeconds: 3600, UpdatedAt: f.clock.t}} {
			if err := f.store.PutUsage(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		costs, err := f.figures.Costs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p := c.Dashboard.Costs
		lines := map[string]float64{}
		for _, l := range costs.Lines {
			lines[l.Item] = l.Cost
		}
		if lines["requests"] != math.Round(2.5*p.PerMillionRequests*100)/100 || lines["cpu"] != math.Round(3*p.PerCPUHour*100)/100 ||
			costs.Nodes != 2 || costs.Registrations != int64(len(ps)+2) || costs.PerThousandRegistrations == nil ||
			math.Abs(*costs.PerThousandRegistrations-math.Round(costs.Total/float64(costs.Registrations)*1000*100)/100) > 1e-9 {
			t.Fatalf("costs: %+v", costs)
		}
	})
}
