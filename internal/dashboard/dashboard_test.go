package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/turnero/turnero/internal/booking"
	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/dashboard"
	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/turnero"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

var t0 = time.Date(2021, 3, 21, 22, 0, 0, 0, time.UTC) // the launch evening, 19:00 in Montevideo

func keys(t *testing.T) *pii.Keyring {
	t.Helper()
	path := filepath.Join(t.TempDir(), "turnero.keys")
	if err := pii.WriteKeyFile(path, "k1"); err != nil {
		t.Fatal(err)
	}
	k, err := pii.LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type bookingEngine interface{ BookingEngine() booking.Engine }

// fixture is a store with what the property needs: a way to write
// registrations sealed as intake seals them, and events as the booking
// rules write them.
type fixture struct {
	store    turnero.Store
	keys     *pii.Keyring
	campaign *turnero.Campaign
	clock    *clock
	worker   *dashboard.Worker
	figures  *dashboard.Figures
	docs     atomic.Int64
}

func newFixture(t *testing.T, e enginetest.Engine, chunk int) *fixture {
	t.Helper()
	return newFixtureOn(t, e.New(t), chunk)
}

func newFixtureOn(t *testing.T, store turnero.Store, chunk int) *fixture {
	t.Helper()
	f := &fixture{store: store, keys: keys(t), campaign: campaign.Sample(), clock: &clock{t: t0}}
	open := func(r turnero.Registration) (turnero.PersonalData, error) {
		return f.keys.Open(r.KeyID, r.Sealed, r.DocumentHash)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.worker = dashboard.NewWorker(dashboard.Config{Chunk: chunk}, f.store, f.campaign, open, f.clock, quiet)
	f.figures = &dashboard.Figures{Store: f.store, Campaign: f.campaign, Clock: f.clock}
	return f
}

// person is what the property draws for one registration.
type person struct {
	department, group, channel, locality string
	age                                  int
	at                                   time.Duration // after t0
}

var localities = []string{"", "Pocitos", "pocitos", "POCITOS ", "Ciudad de la Costa", "ciudad  de la costa", "Paysandú", "Paysandu", "Las Piedras"}

func drawPerson(t *rapid.T, c *turnero.Campaign) person {
	return person{
		department: rapid.SampledFrom(c.Departments).Draw(t, "department").Code,
		group:      rapid.SampledFrom(c.Groups).Draw(t, "group").ID,
		channel:    rapid.SampledFrom(c.Channels).Draw(t, "channel"),
		locality:   rapid.SampledFrom(localities).Draw(t, "locality"),
		age:        rapid.IntRange(12, 100).Draw(t, "age"),
		at:         time.Duration(rapid.IntRange(0, 6*3600).Draw(t, "second")) * time.Second,
	}
}

func (f *fixture) register(t testing.TB, ps []person) []int64 {
	t.Helper()
	batch := make([]turnero.NewRegistration, len(ps))
	for i, p := range ps {
		doc := fmt.Sprintf("P%07d", f.docs.Add(1))
		data := turnero.PersonalData{DocumentType: "PASSPORT", Document: doc, GivenNames: "Ana", FamilyNames: "Pérez",
			BirthDate: "1950-01-01", Phone: "+59899123456", Locality: p.locality}
		dh := f.keys.DocumentHash("PASSPORT", doc)
		kid, sealed := f.keys.Seal(&data, dh)
		batch[i] = turnero.NewRegistration{DocumentHash: dh, IdentityHash: f.keys.IdentityHash("PASSPORT", doc, data.BirthDate),
			Group: p.group, Department: p.department, Age: p.age, Channel: p.channel, KeyID: kid, Sealed: sealed,
			ReceivedAt: t0.Add(p.at)}
	}
	out, err := f.store.InsertRegistrations(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	seqs := make([]int64, len(out))
	for i, o := range out {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		seqs[i] = o.Registration.Sequence
	}
	return seqs
}

var eventKinds = []struct {
	kind string
	dose int
}{
	{turnero.AppointmentCheckedIn, 1}, {turnero.AppointmentGiven, 1}, {turnero.AppointmentGiven, 2},
	{turnero.AppointmentNoShow, 1}, {turnero.AppointmentNoShow, 2}, {turnero.EventCancel, 0}, {turnero.EventReschedule, 0},
}

func (f *fixture) event(t testing.TB, e turnero.AppointmentEvent) {
	t.Helper()
	eng := f.store.(bookingEngine).BookingEngine()
	if err := eng.Write(context.Background(), "test event", func(tx booking.Tx) error { return tx.InsertEvent(context.Background(), e) }); err != nil {
		t.Fatal(err)
	}
}

// TestFiguresEqualASlowRecount: whatever was registered and happened, in
// whatever order with catch-ups in between (chunks of 7, so every catch-up
// takes several passes), every figure read from the counters equals a
// recount from the registrations and their events, read whole.
func TestFiguresEqualASlowRecount(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
		f := newFixture(t, e, 7)
		var seqs []int64
		rapid.Check(t, func(rt *rapid.T) {
			steps := rapid.IntRange(1, 6).Draw(rt, "steps")
			for s := 0; s < steps; s++ {
				switch rapid.IntRange(0, 2).Draw(rt, "op") {
				case 0:
					n := rapid.IntRange(1, 20).Draw(rt, "batch")
					ps := make([]person, n)
					for i := range ps {
						ps[i] = drawPerson(rt, f.campaign)
					}
					seqs = append(seqs, f.register(t, ps)...)
				case 1:
					if len(seqs) == 0 {
						continue
					}
					k := rapid.SampledFrom(eventKinds).Draw(rt, "event")
					center := rapid.SampledFrom(f.campaign.Centers).Draw(rt, "center")
					if k.kind == turnero.EventCancel && rapid.Bool().Draw(rt, "waiting") {
						center = turnero.Center{} // a cancellation while waiting has no center
					}
					f.event(t, turnero.AppointmentEvent{Registration: rapid.SampledFrom(seqs).Draw(rt, "who"), Dose: k.dose,
						Center: center.ID, Vaccine: rapid.SampledFrom(f.campaign.Vaccines).Draw(rt, "vaccine").ID, Kind: k.kind,
						At: t0.Add(time.Duration(rapid.IntRange(0, 40*24).Draw(rt, "hour")) * time.Hour)})
				case 2:
					if _, err := f.worker.CatchUp(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
			}
			f.settle(t)
			f.compare(rt)
		})
	})
}

// settle catches up until no committed event is left behind: on
// PostgreSQL another test's transaction, in another schema of the server,
// may hold the event cursor back for a moment (by design: see EventsAfter).
func (f *fixture) settle(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := f.worker.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		m, err := f.store.DashboardMarks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n, err := f.store.EventsBehind(ctx, m.Events)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still behind the dashboard's cursor %+v after 30 s", n, m.Events)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recount is the slow way: every registration, opened, and its events.
type recount struct {
	byDepartment, adultByDepartment, cancelledByDepartment map[string]int64
	byGroup, byChannel                                     map[string]int64
	byAge                                                  map[int]int64
	localities                                             map[string]map[string]int64
	minutes                                                map[int64]int64
	given, noShows                                         map[string]int64
	checkIns, cancellations, fully                         int64
	days                                                   map[string]int64 // day|center|dose|kind
}

func (f *fixture) recount(t interface{ Fatal(...any) }) recount {
	ctx := context.Background()
	r := recount{byDepartment: map[string]int64{}, adultByDepartment: map[string]int64{}, cancelledByDepartment: map[string]int64{},
		byGroup: map[string]int64{}, byChannel: map[string]int64{}, byAge: map[int]int64{}, localities: map[string]map[string]int64{},
		minutes: map[int64]int64{}, given: map[string]int64{}, noShows: map[string]int64{}, days: map[string]int64{}}
	regs, err := f.store.RegistrationsAfter(ctx, 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	doses := map[string]int{}
	for _, v := range f.campaign.Vaccines {
		doses[v.ID] = v.Doses
	}
	for _, reg := range regs {
		r.byDepartment[reg.Department]++
		if reg.Age >= dashboard.AdultAge {
			r.adultByDepartment[reg.Department]++
		}
		r.byGroup[reg.Group]++
		r.byChannel[reg.Channel]++
		r.byAge[reg.Age]++
		r.minutes[reg.ReceivedAt.Unix()/60]++
		p, err := f.keys.Open(reg.KeyID, reg.Sealed, reg.DocumentHash)
		if err != nil {
			t.Fatal(err)
		}
		if r.localities[reg.Department] == nil {
			r.localities[reg.Department] = map[string]int64{}
		}
		r.localities[reg.Department][dashboard.FoldLocality(p.Locality)]++
		evs, err := f.store.EventsOf(ctx, reg.Sequence)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			d := strconv.Itoa(e.Dose)
			switch e.Kind {
			case turnero.AppointmentGiven:
				r.given[d]++
				if e.Dose == doses[e.Vaccine] {
					r.fully++
				}
			case turnero.AppointmentNoShow:
				r.noShows[d]++
			case turnero.AppointmentCheckedIn:
				r.checkIns++
			case turnero.EventCancel:
				r.cancellations++
				if e.Dose == 0 {
					r.cancelledByDepartment[reg.Department]++
				}
			}
			r.days[fmt.Sprintf("%s|%s|%d|%s", e.At.In(f.campaign.Location).Format("2006-01-02"), e.Center, e.Dose, e.Kind)]++
		}
	}
	return r
}

func (f *fixture) compare(t *rapid.T) {
	ctx := context.Background()
	want := f.recount(t)
	w, err := f.figures.Willingness(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, d := range w.Departments {
		if d.Registrations != want.byDepartment[d.Code] || d.AdultRegistrations != want.adultByDepartment[d.Code] ||
			d.CancelledOrLeftLine != want.cancelledByDepartment[d.Code] {
			t.Fatalf("willingness of %s: %d registrations, %d adults, %d cancelled; recount %d, %d, %d", d.Code, d.Registrations,
				d.AdultRegistrations, d.CancelledOrLeftLine, want.byDepartment[d.Code], want.adultByDepartment[d.Code],
				want.cancelledByDepartment[d.Code])
		}
		total += d.Registrations
	}
	if w.Total.Registrations != total {
		t.Fatalf("total %d, sum of departments %d", w.Total.Registrations, total)
	}
	b, err := f.figures.Breakdown(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range b.Groups {
		if g.N != want.byGroup[g.Key] {
			t.Fatalf("group %s: %d, recount %d", g.Key, g.N, want.byGroup[g.Key])
		}
	}
	for _, c := range b.Channels {
		if c.N != want.byChannel[c.Key] {
			t.Fatalf("channel %s: %d, recount %d", c.Key, c.N, want.byChannel[c.Key])
		}
	}
	for i, band := range f.figures.Bands() {
		var n int64
		for age, k := range want.byAge {
			if band.Covers(age) {
				n += k
			}
		}
		if b.AgeBands[i].N != n {
			t.Fatalf("age band %s: %d, recount %d", band.Label(), b.AgeBands[i].N, n)
		}
	}
	for _, d := range f.campaign.Departments {
		ls, err := f.figures.Localities(ctx, d.Code)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, l := range ls.Localities {
			got[l.Locality] = l.Registrations
		}
		if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want.localities[d.Code])) {
			t.Fatalf("localities of %s: %v, recount %v", d.Code, got, want.localities[d.Code])
		}
	}
	s, err := f.figures.PerMinute(ctx, t0, t0.Add(6*time.Hour+time.Minute), "minute")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Points {
		at, _ := time.Parse(time.RFC3339, p.At)
		if n := want.minutes[at.Unix()/60]; p.N != n {
			t.Fatalf("minute %s: %d, recount %d", p.At, p.N, n)
		}
	}
	hours, err := f.figures.PerMinute(ctx, t0, t0.Add(7*time.Hour), "hour")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range hours.Points {
		at, _ := time.Parse(time.RFC3339, p.At)
		var n int64
		for m, k := range want.minutes {
			if m >= at.Unix()/60 && m < at.Unix()/60+60 {
				n += k
			}
		}
		if p.N != n {
			t.Fatalf("hour %s: %d, recount %d", p.At, p.N, n)
		}
	}
	capa, err := f.figures.Capacity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sorted(capa.DosesGiven)) != fmt.Sprint(sorted(want.given)) || fmt.Sprint(sorted(capa.NoShows)) != fmt.Sprint(sorted(want.noShows)) ||
		capa.CheckIns != want.checkIns || capa.Cancellations != want.cancellations || capa.FullyVaccinated != want.fully {
		t.Fatalf("capacity: given %v, no-shows %v, check-ins %d, cancellations %d, fully %d; recount %v %v %d %d %d",
			capa.DosesGiven, capa.NoShows, capa.CheckIns, capa.Cancellations, capa.FullyVaccinated,
			want.given, want.noShows, want.checkIns, want.cancellations, want.fully)
	}
	days, err := f.store.EventDays(ctx, "2000-01-01", "2100-01-01")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, d := range days {
		got[fmt.Sprintf("%s|%s|%d|%s", d.Day, d.Center, d.Dose, d.Kind)] += d.N
	}
	if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want.days)) {
		t.Fatalf("events by day: %v, recount %v", got, want.days)
	}
	line, err := f.figures.Line(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range line.Groups {
		if g.Registrations != want.byGroup[g.Group] {
			t.Fatalf("line of %s: %d registrations, recount %d", g.Group, g.Registrations, want.byGroup[g.Group])
		}
	}
}

func sorted[K comparable](m map[K]int64) []string {
	var out []string
	for k, v := range m {
		if v != 0 {
			out = append(out, fmt.Sprintf("%v=%d", k, v))
		}
	}
	sort.Strings(out)
	return out
}

// TestEventCommittedLateIsCounted: on PostgreSQL two nodes write events at
// once, and an event whose transaction began first may commit last, with
// the smaller ID. A catch-up between the two commits must not pass over it.
// (SQLite has one writer: its events commit in ID order.)
func TestEventCommittedLateIsCounted(t *testing.T) {
	e := enginetest.Postgres
	where := e.Fresh(t)
	f := newFixtureOn(t, e.Open(t, where), 100)
	nodeB := e.Open(t, where)
	ctx := context.Background()
	seq := f.register(t, []person{{department: "UY-MO", group: "age-60-69", channel: "web", age: 65}})[0]
	ev := turnero.AppointmentEvent{Registration: seq, Dose: 1, Center: "MO-01", Vaccine: "astrazeneca",
		Kind: turnero.AppointmentGiven, At: t0}
	inserted, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- nodeB.(bookingEngine).BookingEngine().Write(ctx, "late event", func(tx booking.Tx) error {
			if err := tx.InsertEvent(ctx, ev); err != nil {
				return err
			}
			close(inserted)
			<-release
			return nil
		})
	}()
	<-inserted
	f.event(t, ev) // begins after, commits first, with a larger ID
	if _, err := f.worker.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.settle(t)
	c, err := f.figures.Capacity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.DosesGiven["1"] != 2 {
		t.Fatalf("doses given %v, want both events counted once", c.DosesGiven)
	}
}
