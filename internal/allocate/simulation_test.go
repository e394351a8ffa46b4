package allocate_test

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/allocate/allocatetest"
	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/turnero"
)

// The 2021 rollout with the sample campaign, day by day on a fake clock:
// groups open week by week in the 2021 order, their people register in the
// days after, the allocator runs every morning, the staff of every center
// record the doses due that day (about one in ten does not come: a missed
// first dose puts the person back in line, a missed second dose is booked
// again by the next morning's run, before any first dose), and every
// invariant is checked every simulated day. Each day's figures are logged
// (go test -v): scheduled, first doses, second doses, no-shows, second doses
// booked again.
//
// The agenda is the sample's, scaled to the number of people so that demand
// and capacity keep the proportion of 2.8 million people to ~60,000 doses a
// day. Small in CI; TURNERO_SIM_PEOPLE and TURNERO_SIM_DAYS set the size:
//
//	TURNERO_SIM_PEOPLE=20000 TURNERO_SIM_DAYS=61 go test -run TestRollout -v -timeout 60m ./internal/allocate
func TestRollout2021(t *testing.T) { enginetest.Each(t, testRollout2021) }

func testRollout2021(t *testing.T, eng enginetest.Engine) {
	people := envInt(t, "TURNERO_SIM_PEOPLE", 400)
	days := envInt(t, "TURNERO_SIM_DAYS", 42)
	c := campaign.Sample()
	scale := float64(people) / 2_800_000
	for i := range c.Centers {
		ct := &c.Centers[i]
		perDay := max(1, int(float64(ct.PerSlot*ct.SlotsPerDay())*scale+0.5))
		if perDay <= ct.SlotsPerDay() {
			ct.PerSlot, ct.Closes = 1, ct.Opens+perDay*ct.SlotMinutes
		} else {
			ct.PerSlot = (perDay + ct.SlotsPerDay() - 1) / ct.SlotsPerDay()
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	e := allocatetest.New(t, eng, c)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(2021, 3))
	// Opening order and share of the eligible population, as in 2021.
	waves := []struct {
		group string
		age   [2]int
		share float64
	}{
		{"essential-workers", [2]int{25, 59}, 0.04}, {"health-workers", [2]int{25, 64}, 0.03},
		{"age-80-plus", [2]int{80, 95}, 0.06}, {"age-70-79", [2]int{70, 79}, 0.10},
		{"age-60-69", [2]int{60, 69}, 0.14}, {"age-50-59", [2]int{50, 59}, 0.15},
		{"age-40-49", [2]int{40, 49}, 0.16}, {"age-30-39", [2]int{30, 39}, 0.16},
		{"age-18-29", [2]int{18, 29}, 0.16},
	}
	var deptWeights []int
	total := 0
	for _, d := range c.Departments {
		deptWeights = append(deptWeights, d.Population)
		total += d.Population
	}
	dept := func() string {
		n := rng.IntN(total)
		for i, w := range deptWeights {
			if n < w {
				return c.Departments[i].Code
			}
			n -= w
		}
		return c.Departments[0].Code
	}
	a := e.Allocator(e.Store, 5000)
	// Monday 1 March 2021, 07:00.
	day0 := time.Date(2021, 3, 1, 7, 0, 0, 0, c.Location)
	e.Clock.Add(day0.Sub(e.Clock.Now()))
	since := e.Clock.Now()
	var given1, given2, noShows, noShows2, rebooked, givenAgain int
	for d := 0; d < days; d++ {
		today := day0.AddDate(0, 0, d)
		e.Clock.Add(today.Sub(e.Clock.Now()))
		// Two waves a week at first, then one: each wave's people register
		// over the four days after it opens.
		for w, wave := range waves {
			opens := w * 5
			if d == opens {
				e.OpenGroups(wave.group)
			}
			if d >= opens && d < opens+4 {
				n := int(float64(people) * wave.share / 4)
				batch := make([]turnero.Candidate, n)
				for i := range batch {
					batch[i] = turnero.Candidate{Group: wave.group, Department: dept(), Age: wave.age[0] + rng.IntN(wave.age[1]-wave.age[0]+1)}
				}
				if n > 0 {
					e.Register(batch...)
				}
			}
		}
		rep := e.Run(a)
		rebooked += rep.SecondDoses
		// The staff of every center, through the day.
		for _, ct := range c.Centers {
			entries, err := e.Store.DayAgenda(ctx, ct.ID, today.Add(-7*time.Hour), today.Add(17*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range entries {
				ap := en.Appointment
				if ap.State != turnero.AppointmentBooked {
					continue
				}
				now := ap.Start.Add(5 * time.Minute)
				var decide func(turnero.BookingRecord) (turnero.BookingChange, error)
				if rng.IntN(10) == 0 {
					decide = func(r turnero.BookingRecord) (turnero.BookingChange, error) {
						return c.DecideNoShow(r, ct.ID, ap.Dose, now)
					}
					noShows++
					if ap.Dose == 1 {
						e.Released++
					} else {
						noShows2++
						e.SecondDoses++
						e.SecondDose[ap.Registration] = true
					}
				} else {
					decide = func(r turnero.BookingRecord) (turnero.BookingChange, error) {
						return c.DecideDose(r, ct.ID, ap.Dose, ap.Vaccine, "LOT-"+strconv.Itoa(d), now)
					}
					if ap.Dose == 1 {
						given1++
					} else {
						given2++
						if e.SecondDose[ap.Registration] {
							givenAgain++
						}
					}
				}
				if _, err := e.Store.ChangeBooking(ctx, ap.Registration, now, decide); err != nil {
					t.Fatalf("day %d, %s, registration %d dose %d: %v", d, ct.ID, ap.Registration, ap.Dose, err)
				}
			}
		}
		e.Refresh()
		scheduled := e.Check(since)
		e.CheckLine()
		t.Logf("day %2d %s: registered %7d  scheduled %7d  first doses %7d  second doses %7d  no-shows %6d  booked again %5d",
			d, today.Format("Mon 02 Jan"), len(e.Registrations), scheduled, given1, given2, noShows, rebooked)
	}
	if given1 == 0 || given2 == 0 || noShows == 0 {
		t.Fatalf("after %d days: %d first doses, %d second doses, %d no-shows: the simulation did not exercise the staff", days, given1, given2, noShows)
	}
	// Missed second doses were booked again (e.check holds them to the
	// vaccine of dose 1, the interval, the department and the slots'
	// capacity, and counts their notifications), and some were given.
	if noShows2 == 0 || rebooked == 0 || rebooked > noShows2 || givenAgain == 0 {
		t.Fatalf("after %d days: %d second doses missed, %d booked again, %d of those given: the simulation did not exercise booking second doses again",
			days, noShows2, rebooked, givenAgain)
	}
	// Staff figures agree with storage: a dose counted as given is given.
	var stored1, stored2 int
	for _, as := range e.Appointments() {
		for _, ap := range as {
			if ap.State == turnero.AppointmentGiven {
				if ap.Dose == 1 {
					stored1++
				} else {
					stored2++
				}
			}
		}
	}
	if stored1 != given1 || stored2 != given2 {
		t.Fatalf("storage has %d first and %d second doses given, the staff recorded %d and %d", stored1, stored2, given1, given2)
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("setting %s: want a positive number, got %q", name, v)
	}
	return n
}
