package appointments_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/allocate/allocatetest"
	"github.com/turnero/turnero/internal/appointments"
	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/intake"
	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/turnero"
)

// The service is called directly, on every engine, over a real store booked
// by the real allocator (allocatetest), with people registered through the
// real intake (validated, sealed under a key file of the test's own).

// statusChanges counts what the service tells status answers: the edge of
// the service (turnero.StatusChanges), which package status implements.
type statusChanges struct{ n atomic.Int64 }

func (s *statusChanges) Changed() { s.n.Add(1) }

// person is someone registered, as they would type themselves at a desk.
type person struct {
	seq       int64
	code      string // the tracking code of the receipt
	document  string // the number as typed at registration: dots and a dash
	canonical string // the 8 digits stored
	birthDate string
}

const (
	givenNames  = "María José"
	familyNames = "Pérez Núñez"
	birthDate   = "1935-05-20" // 85 at the campaign's reference date: age-80-plus, Pfizer
)

type fixture struct {
	ctx    context.Context
	env    *allocatetest.Env
	keys   *pii.Keyring
	svc    *appointments.Service
	status *statusChanges
	logs   *bytes.Buffer
	people []person
	// since is the time of the allocation run that booked everyone.
	since time.Time
}

// newFixture registers n people of age-80-plus in Montevideo through the
// intake, opens their group and books them all (Pfizer, 28 days apart,
// at the test campaign's centers).
func newFixture(t *testing.T, eng enginetest.Engine, n int) *fixture {
	t.Helper()
	ctx := context.Background()
	env := allocatetest.New(t, eng, allocatetest.Campaign(t))
	keyFile := filepath.Join(t.TempDir(), "turnero.keys")
	if err := pii.WriteKeyFile(keyFile, "test-1"); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.LoadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	in, err := intake.New(intake.DefaultConfig, env.Campaign, keys, env.Store, nil, env.Clock, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	in.Start()
	f := &fixture{ctx: ctx, env: env, keys: keys, status: &statusChanges{}, logs: &bytes.Buffer{}}
	for i := 1; i <= n; i++ {
		seven := fmt.Sprintf("%07d", 3_000_000+i)
		check := turnero.CedulaCheckDigit(seven)
		p := person{document: fmt.Sprintf("%s.%s.%s-%d", seven[:1], seven[1:4], seven[4:], check),
			canonical: fmt.Sprintf("%s%d", seven, check), birthDate: birthDate}
		rc, err := in.Register(ctx, &turnero.RegistrationRequest{
			DocumentType: "CI", DocumentNumber: p.document, GivenNames: givenNames, FamilyNames: familyNames,
			BirthDate: p.birthDate, Phone: "+59899123456", Department: "Montevideo", Locality: "Pocitos",
			Channel: "web", Consent: true,
		})
		if err != nil {
			t.Fatalf("register person %d: %v", i, err)
		}
		p.seq, p.code = rc.Sequence, rc.TrackingCode
		f.people = append(f.people, p)
	}
	in.Close()
	for _, p := range f.people {
		r, err := env.Store.RegistrationBySequence(ctx, p.seq)
		if err != nil {
			t.Fatal(err)
		}
		env.Registrations[p.seq] = r
	}
	env.OpenGroups("age-80-plus")
	f.since = env.Clock.Now()
	if rep := env.Run(env.Allocator(env.Store, 10)); rep.Scheduled != n {
		t.Fatalf("allocation: %+v, want all %d scheduled", rep, n)
	}
	f.svc = appointments.New(env.Campaign, keys, env.Store, f.status, env.Clock, slog.New(slog.NewTextHandler(f.logs, nil)))
	return f
}

// appointments reads a person's booking.
func (f *fixture) appointments(t *testing.T, p person) []turnero.Appointment {
	t.Helper()
	as, err := f.env.Store.AppointmentsOf(context.Background(), p.seq)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// day is the civil date of t in the campaign's time zone, as staff ask.
func (f *fixture) day(t time.Time) string { return t.In(f.env.Campaign.Location).Format("2006-01-02") }

// stored describes everything a change can touch: bookings, slots, each
// person's status, place in line and events, the pending list, the queue
// of second doses and the notifications.
func (f *fixture) stored(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "appointments %v\n", f.env.Appointments())
	slots, err := f.env.Store.SlotBookings(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "slots %+v\n", slots)
	for _, p := range f.people {
		r, err := f.env.Store.RegistrationBySequence(f.ctx, p.seq)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := f.env.Store.EventsOf(f.ctx, p.seq)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "registration %d %s ordinal %d events %+v\n", p.seq, r.Status, r.GroupOrdinal, evs)
	}
	pending, err := f.env.Store.PendingAfter(f.ctx, "age-80-plus", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.env.Store.SecondDosesAfter(f.ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "pending %+v\nsecond doses %+v\n", pending, second)
	for _, kind := range []string{turnero.NotifyScheduled, turnero.NotifyReleased, turnero.NotifyMissed, turnero.NotifyCancelled} {
		n, err := f.env.Store.OutboxCount(f.ctx, kind)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "outbox %s %d\n", kind, n)
	}
	return b.String()
}

// changed runs a change the test expects to succeed, and checks that status
// answers were told of it, once.
func (f *fixture) changed(t *testing.T, what string, call func() error) {
	t.Helper()
	before := f.status.n.Load()
	if err := call(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got := f.status.n.Load(); got != before+1 {
		t.Fatalf("%s: status told %d times, want once", what, got-before)
	}
}

// refused runs a call the test expects to be refused with the error key
// (and, for an invalid request, the fields' problems, "field: problem"),
// and checks that nothing stored changed and status answers were not told.
func (f *fixture) refused(t *testing.T, what string, call func() error, key string, fields ...string) {
	t.Helper()
	before, told := f.stored(t), f.status.n.Load()
	wantError(t, what, call(), key, fields...)
	if after := f.stored(t); after != before {
		t.Fatalf("%s was refused but changed what is stored:\nbefore\n%s\nafter\n%s", what, before, after)
	}
	if got := f.status.n.Load(); got != told {
		t.Fatalf("%s was refused but status was told %d times", what, got-told)
	}
}

func wantError(t *testing.T, what string, err error, key string, fields ...string) {
	t.Helper()
	var e *turnero.Error
	if !errors.As(err, &e) || e.Key != key {
		t.Fatalf("%s: %v, want %s", what, err, key)
	}
	for _, fp := range fields {
		field, problem, _ := strings.Cut(fp, ": ")
		if e.Fields[field] != problem {
			t.Fatalf("%s: fields %v, want %s", what, e.Fields, fp)
		}
	}
}

// checkLogs asserts that the service logged what it did and no personal
// data.
func (f *fixture) checkLogs(t *testing.T) {
	t.Helper()
	logs := f.logs.String()
	if logs == "" {
		t.Fatal("the service logged nothing")
	}
	secrets := []string{"María", "Pérez", givenNames, familyNames, birthDate, "99123456", "Pocitos"}
	for _, p := range f.people {
		secrets = append(secrets, p.document, p.canonical, p.code)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Fatalf("personal data %q reached the logs:\n%s", s, logs)
		}
	}
}

func TestCancelAndAnotherDate(t *testing.T) { enginetest.Each(t, testCancelAndAnotherDate) }

func testCancelAndAnotherDate(t *testing.T, eng enginetest.Engine) {
	f := newFixture(t, eng, 3)
	p0, p1 := f.people[0], f.people[1]
	reschedule := func(code, birth string) func() error {
		return func() error { _, err := f.svc.Reschedule(f.ctx, code, birth); return err }
	}
	cancel := func(code, birth string) func() error {
		return func() error { _, err := f.svc.Cancel(f.ctx, code, birth); return err }
	}

	// A wrong birth date is the same not-found as a code nobody has.
	unknown := turnero.FormatTrackingCode(f.keys.TrackingCode(999_999))
	_, wrong := f.svc.Reschedule(f.ctx, p0.code, "1935-05-21")
	_, nobody := f.svc.Reschedule(f.ctx, unknown, p0.birthDate)
	if !errors.Is(wrong, turnero.ErrNotFound) || !errors.Is(nobody, turnero.ErrNotFound) || wrong.Error() != nobody.Error() {
		t.Fatalf("wrong birth date: %v; unknown code: %v; want the same not found", wrong, nobody)
	}
	for _, tc := range []struct {
		name   string
		call   func() error
		key    string
		fields []string
	}{
		{"another date, wrong birth date", reschedule(p0.code, "1935-05-21"), "not_found", nil},
		{"cancel, wrong birth date", cancel(p0.code, "1935-05-21"), "not_found", nil},
		{"cancel, unknown code", cancel(unknown, p0.birthDate), "not_found", nil},
		{"cancel, not a code", cancel("not-a-code", p0.birthDate), "not_found", nil},
		{"cancel, birth date in another format", cancel(p0.code, "20/05/1935"), "invalid_request", []string{"birth_date: date_format"}},
		{"another date, no birth date", reschedule(p0.code, ""), "invalid_request", []string{"birth_date: required"}},
	} {
		f.refused(t, tc.name, tc.call, tc.key, tc.fields...)
	}

	// Another date: the slots are free at once, the person goes to the back
	// of the line (the campaign's rule) and is told.
	slots := f.env.BookedSlots()
	var last int64 // the last place in line of the group
	for _, r := range f.env.Registrations {
		last = max(last, r.GroupOrdinal)
	}
	var rec turnero.BookingRecord
	f.changed(t, "another date", func() (err error) { rec, err = f.svc.Reschedule(f.ctx, p0.code, p0.birthDate); return err })
	f.env.Released++
	if rec.Registration.Status != turnero.StatusWaiting || len(rec.Appointments) != 0 ||
		rec.Registration.GroupOrdinal != last+1 {
		t.Fatalf("after another date: %+v", rec)
	}
	if got := f.env.BookedSlots(); got != slots-2 {
		t.Fatalf("%d doses in slots after another date, want %d", got, slots-2)
	}
	if n, err := f.env.Store.OutboxCount(f.ctx, turnero.NotifyReleased); n != 1 || err != nil {
		t.Fatalf("%d notifications of another date (%v), want 1", n, err)
	}
	f.refused(t, "another date again", reschedule(p0.code, p0.birthDate), "not_scheduled")

	// Cancel: off the list, slots free; then nothing more to cancel or move.
	f.changed(t, "cancel", func() (err error) { rec, err = f.svc.Cancel(f.ctx, p1.code, p1.birthDate); return err })
	f.env.Released++
	if rec.Registration.Status != turnero.StatusCancelled || len(rec.Appointments) != 0 {
		t.Fatalf("after cancel: %+v", rec)
	}
	if got := f.env.BookedSlots(); got != slots-4 {
		t.Fatalf("%d doses in slots after a cancel, want %d", got, slots-4)
	}
	f.refused(t, "cancel again", cancel(p1.code, p1.birthDate), "already_cancelled")
	f.refused(t, "another date after cancelling", reschedule(p1.code, p1.birthDate), "already_cancelled")

	// The next run books the one who asked for another date, not the one
	// who cancelled.
	rep := f.env.Run(f.env.Allocator(f.env.Store, 10))
	if rep.Scheduled != 1 || len(f.appointments(t, p0)) != 2 || len(f.appointments(t, p1)) != 0 {
		t.Fatalf("run after the changes: %+v", rep)
	}
	f.env.Refresh()
	f.env.Check(f.since)
	f.env.CheckLine()
	f.checkLogs(t)
}

// TestAnotherDateOfDose2: once dose 1 is given the course is not cancelled
// online, and another date gives up dose 2 alone, which the allocator
// books again with the same vaccine.
func TestAnotherDateOfDose2(t *testing.T) { enginetest.Each(t, testAnotherDateOfDose2) }

func testAnotherDateOfDose2(t *testing.T, eng enginetest.Engine) {
	f := newFixture(t, eng, 1)
	p := f.people[0]
	as := f.appointments(t, p)
	f.env.Clock.Set(as[0].Start.Add(time.Minute))
	f.changed(t, "dose 1", func() error {
		_, err := f.svc.RecordDose(f.ctx, as[0].Center, &appointments.DoseRequest{TrackingCode: p.code, Dose: 1, Vaccine: as[0].Vaccine, Lot: "PF-1"})
		return err
	})
	f.refused(t, "cancel after dose 1", func() error { _, err := f.svc.Cancel(f.ctx, p.code, p.birthDate); return err }, "dose_given_no_change")
	var rec turnero.BookingRecord
	f.changed(t, "another date for dose 2", func() (err error) { rec, err = f.svc.Reschedule(f.ctx, p.code, p.birthDate); return err })
	f.env.SecondDoses++
	f.env.SecondDose[p.seq] = true
	if len(rec.Appointments) != 1 || rec.Appointments[0].State != turnero.AppointmentGiven {
		t.Fatalf("after another date for dose 2: %+v", rec.Appointments)
	}
	queued, err := f.env.Store.SecondDosesAfter(f.ctx, 0, 10)
	if err != nil || len(queued) != 1 || queued[0].Sequence != p.seq || queued[0].Reason != turnero.EventReschedule ||
		queued[0].Vaccine != as[0].Vaccine {
		t.Fatalf("queue of second doses: %+v (%v)", queued, err)
	}
	f.refused(t, "another date for dose 2 again", func() error { _, err := f.svc.Reschedule(f.ctx, p.code, p.birthDate); return err },
		"not_scheduled")
	if rep := f.env.Run(f.env.Allocator(f.env.Store, 10)); rep.SecondDoses != 1 {
		t.Fatalf("run after another date for dose 2: %+v", rep)
	}
	if got := f.appointments(t, p); len(got) != 2 || got[1].Vaccine != as[0].Vaccine || !got[1].Start.After(as[1].Start) {
		t.Fatalf("dose 2 booked again: %+v (given up: %+v)", got, as[1])
	}
	f.env.Check(f.since)
	f.checkLogs(t)
}

// TestAgendaShowsOnlyWhatCheckInNeeds: a center's day lists its
// appointments by time, with names and documents masked and the tracking
// code; another day, another center and malformed dates.
func TestAgendaShowsOnlyWhatCheckInNeeds(t *testing.T) {
	enginetest.Each(t, testAgendaShowsOnlyWhatCheckInNeeds)
}

func testAgendaShowsOnlyWhatCheckInNeeds(t *testing.T, eng enginetest.Engine) {
	f := newFixture(t, eng, 3)
	first := f.appointments(t, f.people[0])[0]
	date := f.day(first.Start)
	// What the agenda must show: every dose 1 at that center that day.
	byPerson := map[int64]person{}
	want := map[int64]turnero.Appointment{}
	for _, p := range f.people {
		byPerson[p.seq] = p
		if a := f.appointments(t, p)[0]; a.Center == first.Center && f.day(a.Start) == date {
			want[p.seq] = a
		}
	}
	lines, err := f.svc.Agenda(f.ctx, first.Center, date)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(want) || len(want) == 0 {
		t.Fatalf("agenda of %s on %s: %d lines, want %d", first.Center, date, len(lines), len(want))
	}
	for i, l := range lines {
		p, a := byPerson[l.Sequence], want[l.Sequence]
		if i > 0 && l.Start.Before(lines[i-1].Start) {
			t.Fatalf("agenda not by time: %+v", lines)
		}
		if !l.Start.Equal(a.Start) || l.Dose != 1 || l.State != turnero.AppointmentBooked || l.Vaccine.ID != a.Vaccine ||
			l.TrackingCode != f.keys.TrackingCode(p.seq) || l.DocumentType != "CI" {
			t.Fatalf("agenda line %+v, want %+v of %d", l, a, p.seq)
		}
		if l.MaskedName != "M*** J*** P*** N***" || l.MaskedDocument != "•••••"+p.canonical[5:] {
			t.Fatalf("agenda line shows %q, %q: want the name and document masked", l.MaskedName, l.MaskedDocument)
		}
	}
	shown := fmt.Sprintf("%+v", lines)
	for _, s := range []string{"María", "Pérez", birthDate, "99123456", "Pocitos", f.people[0].canonical, f.people[0].document} {
		if strings.Contains(shown, s) {
			t.Fatalf("the agenda shows %q: %s", s, shown)
		}
	}
	dayBefore := f.day(first.Start.AddDate(0, 0, -1))
	if lines, err := f.svc.Agenda(f.ctx, first.Center, dayBefore); err != nil || len(lines) != 0 {
		t.Fatalf("agenda of the day before: %+v, %v", lines, err)
	}
	_, err = f.svc.Agenda(f.ctx, "XX-99", date)
	wantError(t, "agenda of an unknown center", err, "center_not_found")
	for _, bad := range []string{"mañana", "2021-3-2", "2021-03-02T08:00:00Z", ""} {
		_, err := f.svc.Agenda(f.ctx, first.Center, bad)
		wantError(t, "agenda of "+bad, err, "invalid_request", "date: date_format")
	}
	if n := f.status.n.Load(); n != 0 {
		t.Fatalf("reading agendas told status %d times", n)
	}
}

// TestCheckInByDocument: staff find the person by their document, however
// it is typed, and mark today's dose arrived; everything else is refused and
// changes nothing.
func TestCheckInByDocument(t *testing.T) { enginetest.Each(t, testCheckInByDocument) }

func testCheckInByDocument(t *testing.T, eng enginetest.Engine) {
	f := newFixture(t, eng, 2)
	p := f.people[0]
	as := f.appointments(t, p)
	other := "MO-B"
	if as[0].Center == other {
		other = "MO-A"
	}
	checkIn := func(center, docType, number string) func() error {
		return func() error {
			_, err := f.svc.CheckIn(f.ctx, center, &appointments.CheckInRequest{DocumentType: docType, DocumentNumber: number})
			return err
		}
	}
	f.env.Clock.Set(as[0].Start.Add(-24 * time.Hour))
	f.refused(t, "check-in the day before", checkIn(as[0].Center, "CI", p.document), "no_appointment_today")

	f.env.Clock.Set(as[0].Start.Add(-10 * time.Minute))
	unregistered := fmt.Sprintf("%07d", 4_000_000)
	unregistered += fmt.Sprint(turnero.CedulaCheckDigit(unregistered))
	badCheck := p.canonical[:7] + fmt.Sprint((p.canonical[7]-'0'+1)%10)
	for _, tc := range []struct {
		name   string
		call   func() error
		key    string
		fields []string
	}{
		{"at another center", checkIn(other, "CI", p.document), "wrong_center", nil},
		{"at an unknown center", checkIn("XX-99", "CI", p.document), "center_not_found", nil},
		{"a document nobody registered", checkIn(as[0].Center, "CI", unregistered), "not_found", nil},
		{"a wrong check digit", checkIn(as[0].Center, "CI", badCheck), "invalid_request", []string{"document_number: document_check_digit"}},
		{"an unknown document type", checkIn(as[0].Center, "DNI", p.document), "invalid_request", []string{"document_type: document_type"}},
		{"no document", checkIn(as[0].Center, "CI", " "), "invalid_request", []string{"document_number: required"}},
	} {
		f.refused(t, tc.name, tc.call, tc.key, tc.fields...)
	}

	// The document typed as digits only is the one registered with dots.
	var line appointments.AgendaLine
	f.changed(t, "check-in", func() (err error) {
		line, err = f.svc.CheckIn(f.ctx, as[0].Center, &appointments.CheckInRequest{DocumentType: "ci", DocumentNumber: p.canonical})
		return err
	})
	if line.Sequence != p.seq || line.Dose != 1 || line.State != turnero.AppointmentCheckedIn ||
		line.MaskedName != "M*** J*** P*** N***" || line.MaskedDocument != "•••••"+p.canonical[5:] {
		t.Fatalf("check-in answered %+v", line)
	}
	if got := f.appointments(t, p); got[0].State != turnero.AppointmentCheckedIn || got[1].State != turnero.AppointmentBooked {
		t.Fatalf("after check-in: %+v", got)
	}
	// Checking in again answers the same line.
	f.changed(t, "check-in again", func() (err error) {
		line, err = f.svc.CheckIn(f.ctx, as[0].Center, &appointments.CheckInRequest{DocumentType: "CI", DocumentNumber: p.document})
		return err
	})
	if line.Sequence != p.seq || line.Dose != 1 || line.State != turnero.AppointmentCheckedIn {
		t.Fatalf("check-in again answered %+v", line)
	}
	f.env.Check(f.since)
	if strings.Contains(f.logs.String(), p.canonical) {
		t.Fatal("the document reached the logs")
	}
}

// TestRecordDose: a dose is recorded with its lot only when everything
// matches the booking; each mismatch is refused and changes nothing.
func TestRecordDose(t *testing.T) { enginetest.Each(t, testRecordDose) }

func testRecordDose(t *testing.T, eng enginetest.Engine) {
	f := newFixture(t, eng, 1)
	p := f.people[0]
	as := f.appointments(t, p)
	center, vaccine := as[0].Center, as[0].Vaccine
	other := "MO-B"
	if center == other {
		other = "MO-A"
	}
	dose := func(center string, req appointments.DoseRequest) func() error {
		return func() error { _, err := f.svc.RecordDose(f.ctx, center, &req); return err }
	}
	req := func(d int, vaccine, lot string) appointments.DoseRequest {
		return appointments.DoseRequest{TrackingCode: p.code, Dose: d, Vaccine: vaccine, Lot: lot}
	}
	f.env.Clock.Set(as[0].Start.Add(-24 * time.Hour))
	f.refused(t, "dose 1 the day before", dose(center, req(1, vaccine, "PF-1234")), "appointment_not_due")

	f.env.Clock.Set(as[0].Start.Add(5 * time.Minute))
	for _, tc := range []struct {
		name   string
		center string
		req    appointments.DoseRequest
		key    string
		fields []string
	}{
		{"another vaccine", center, req(1, "sinovac", "PF-1234"), "wrong_vaccine", nil},
		{"dose 2 before dose 1", center, req(2, vaccine, "PF-1234"), "wrong_dose", nil},
		{"dose 3", center, req(3, vaccine, "PF-1234"), "wrong_dose", nil},
		{"at another center", other, req(1, vaccine, "PF-1234"), "wrong_center", nil},
		{"at an unknown center", "XX-99", req(1, vaccine, "PF-1234"), "center_not_found", nil},
		{"a vaccine the campaign does not give", center, req(1, "sputnik", "PF-1234"), "invalid_request", []string{"vaccine: vaccine_unknown"}},
		{"no lot", center, req(1, vaccine, "  "), "invalid_request", []string{"lot: required"}},
		{"a lot with other characters", center, req(1, vaccine, "PF 12#4"), "invalid_request", []string{"lot: lot_format"}},
		{"dose 0", center, req(0, vaccine, "PF-1234"), "invalid_request", []string{"dose: invalid_value"}},
		{"code and sequence", center, appointments.DoseRequest{TrackingCode: p.code, Sequence: p.seq, Dose: 1, Vaccine: vaccine, Lot: "PF-1"},
			"invalid_request", []string{"sequence: one_of_code_or_sequence"}},
		{"not a code", center, appointments.DoseRequest{TrackingCode: "nonsense", Dose: 1, Vaccine: vaccine, Lot: "PF-1"},
			"invalid_request", []string{"tracking_code: tracking_code_format"}},
	} {
		f.refused(t, tc.name, dose(tc.center, tc.req), tc.key, tc.fields...)
	}

	var line appointments.AgendaLine
	f.changed(t, "dose 1", func() (err error) {
		line, err = f.svc.RecordDose(f.ctx, center, &appointments.DoseRequest{TrackingCode: p.code, Dose: 1, Vaccine: vaccine, Lot: " PF-1234 "})
		return err
	})
	if line.Sequence != p.seq || line.Dose != 1 || line.State != turnero.AppointmentGiven {
		t.Fatalf("dose 1 answered %+v", line)
	}
	got := f.appointments(t, p)
	if got[0].State != turnero.AppointmentGiven || got[0].Lot != "PF-1234" || got[1].State != turnero.AppointmentBooked {
		t.Fatalf("after dose 1: %+v", got)
	}
	evs, err := f.env.Store.EventsOf(f.ctx, p.seq)
	if err != nil || len(evs) != 1 || evs[0].Kind != turnero.EventGiven || evs[0].Dose != 1 || evs[0].Lot != "PF-1234" ||
		evs[0].Center != center || evs[0].Vaccine != vaccine {
		t.Fatalf("events after dose 1: %+v (%v)", evs, err)
	}
	f.refused(t, "dose 1 again", dose(center, req(1, vaccine, "PF-1234")), "dose_already_given")
	f.refused(t, "dose 2 before its day", dose(center, appointments.DoseRequest{Sequence: p.seq, Dose: 2, Vaccine: vaccine, Lot: "PF-2"}),
		"appointment_not_due")

	// Dose 2 on its day, named by sequence: the course is complete.
	f.env.Clock.Set(as[1].Start.Add(5 * time.Minute))
	f.changed(t, "dose 2", func() (err error) {
		line, err = f.svc.RecordDose(f.ctx, as[1].Center, &appointments.DoseRequest{Sequence: p.seq, Dose: 2, Vaccine: vaccine, Lot: "PF-5678"})
		return err
	})
	if got := f.appointments(t, p); !f.env.Campaign.Vaccinated(got) || got[1].Lot != "PF-5678" || line.Dose != 2 {
		t.Fatalf("after dose 2: %+v, answered %+v", got, line)
	}
	f.refused(t, "cancel when vaccinated", func() error { _, err := f.svc.Cancel(f.ctx, p.code, p.birthDate); return err },
		"already_vaccinated")
	f.refused(t, "a no-show when vaccinated", func() error {
		_, err := f.svc.NoShow(f.ctx, as[1].Center, &appointments.DoseRequest{TrackingCode: p.code, Dose: 2})
		return err
	}, "dose_already_given")
	f.env.Check(f.since)
	f.checkLogs(t)
}

// TestNoShows: a missed dose 1 frees both slots and puts the person back in
// line by the campaign's rule; a missed dose 2 frees its slot and the
// allocator books it again. Neither is recorded before its day.
func TestNoShows(t *testing.T) { enginetest.Each(t, testNoShows) }

func testNoShows(t *testing.T, eng enginetest.Engine) {
	f := newFixture(t, eng, 3)
	p0, p1 := f.people[0], f.people[1]
	a0, a1 := f.appointments(t, p0), f.appointments(t, p1)
	noShow := func(center string, req appointments.DoseRequest) func() error {
		return func() error { _, err := f.svc.NoShow(f.ctx, center, &req); return err }
	}

	f.env.Clock.Set(a0[0].Start.Add(-24 * time.Hour))
	f.refused(t, "a no-show the day before", noShow(a0[0].Center, appointments.DoseRequest{TrackingCode: p0.code, Dose: 1}),
		"appointment_not_due")
	f.env.Clock.Set(laterOf(a0[0].Start, a1[0].Start).Add(30 * time.Minute))
	f.refused(t, "a no-show of dose 2 before dose 1", noShow(a0[1].Center, appointments.DoseRequest{TrackingCode: p0.code, Dose: 2}),
		"appointment_not_due")
	f.refused(t, "a no-show of dose 0", noShow(a0[0].Center, appointments.DoseRequest{TrackingCode: p0.code}),
		"invalid_request", "dose: invalid_value")
	f.refused(t, "a no-show without anyone", noShow(a0[0].Center, appointments.DoseRequest{Dose: 1}),
		"invalid_request", "tracking_code: required")

	// Dose 1 missed: both slots free, back of the line, a notification.
	slots := f.env.BookedSlots()
	var rec turnero.BookingRecord
	f.changed(t, "no-show of dose 1", func() (err error) {
		rec, err = f.svc.NoShow(f.ctx, a0[0].Center, &appointments.DoseRequest{TrackingCode: p0.code, Dose: 1})
		return err
	})
	f.env.Released++
	if rec.Registration.Status != turnero.StatusWaiting || len(rec.Appointments) != 0 {
		t.Fatalf("after a no-show of dose 1: %+v", rec)
	}
	if got := f.env.BookedSlots(); got != slots-2 {
		t.Fatalf("%d doses in slots after a no-show of dose 1, want %d", got, slots-2)
	}
	if n, err := f.env.Store.OutboxCount(f.ctx, turnero.NotifyMissed); n != 1 || err != nil {
		t.Fatalf("%d notifications of a missed dose (%v), want 1", n, err)
	}
	evs, err := f.env.Store.EventsOf(f.ctx, p0.seq)
	if err != nil || len(evs) != 1 || evs[0].Kind != turnero.EventNoShow || evs[0].Place != turnero.BackOfLine {
		t.Fatalf("events after a no-show of dose 1: %+v (%v)", evs, err)
	}

	// Dose 2 missed after dose 1 was given: its slot is free, and it waits
	// to be booked again with the same vaccine.
	f.changed(t, "dose 1 of another", func() error {
		_, err := f.svc.RecordDose(f.ctx, a1[0].Center, &appointments.DoseRequest{Sequence: p1.seq, Dose: 1, Vaccine: a1[0].Vaccine, Lot: "PF-1"})
		return err
	})
	f.env.Clock.Set(a1[1].Start.Add(30 * time.Minute))
	slots = f.env.BookedSlots()
	f.changed(t, "no-show of dose 2", func() (err error) {
		rec, err = f.svc.NoShow(f.ctx, a1[1].Center, &appointments.DoseRequest{TrackingCode: p1.code, Dose: 2})
		return err
	})
	f.env.SecondDoses++
	f.env.SecondDose[p1.seq] = true
	if len(rec.Appointments) != 1 || rec.Appointments[0].State != turnero.AppointmentGiven {
		t.Fatalf("after a no-show of dose 2: %+v", rec.Appointments)
	}
	if got := f.env.BookedSlots(); got != slots-1 {
		t.Fatalf("%d doses in slots after a no-show of dose 2, want %d", got, slots-1)
	}
	queued, err := f.env.Store.SecondDosesAfter(f.ctx, 0, 10)
	if err != nil || len(queued) != 1 || queued[0].Sequence != p1.seq || queued[0].Reason != turnero.EventNoShow {
		t.Fatalf("queue of second doses: %+v (%v)", queued, err)
	}

	// The next run books both again.
	rep := f.env.Run(f.env.Allocator(f.env.Store, 10))
	if rep.Scheduled != 1 || rep.SecondDoses != 1 {
		t.Fatalf("run after the no-shows: %+v", rep)
	}
	f.env.Refresh()
	f.env.Check(f.since)
	f.env.CheckLine()
	f.checkLogs(t)
}

// forEachDose runs test for dose 1 and for dose 2 of one person booked,
// each on a fixture of its own; for dose 2, dose 1 was given on its day.
func forEachDose(t *testing.T, eng enginetest.Engine, test func(t *testing.T, f *fixture, p person, a turnero.Appointment)) {
	for _, dose := range []int{1, 2} {
		t.Run(fmt.Sprint("dose ", dose), func(t *testing.T) {
			f := newFixture(t, eng, 1)
			p := f.people[0]
			as := f.appointments(t, p)
			if dose == 2 {
				f.env.Clock.Set(as[0].Start.Add(time.Minute))
				f.changed(t, "dose 1", func() error {
					_, err := f.svc.RecordDose(f.ctx, as[0].Center, &appointments.DoseRequest{TrackingCode: p.code, Dose: 1, Vaccine: as[0].Vaccine, Lot: "PF-1"})
					return err
				})
			}
			test(t, f, p, as[dose-1])
		})
	}
}

// TestNoShowOfACheckedInDoseIsRefused: someone who checked in came; a
// no-show of that dose is refused and changes nothing, so that the next run
// does not book them again into the slot they are in (issue 15, item 4).
func TestNoShowOfACheckedInDoseIsRefused(t *testing.T) {
	enginetest.Each(t, testNoShowOfACheckedInDoseIsRefused)
}

func testNoShowOfACheckedInDoseIsRefused(t *testing.T, eng enginetest.Engine) {
	forEachDose(t, eng, func(t *testing.T, f *fixture, p person, a turnero.Appointment) {
		f.env.Clock.Set(a.Start.Add(time.Minute))
		f.changed(t, "check-in", func() error {
			_, err := f.svc.CheckIn(f.ctx, a.Center, &appointments.CheckInRequest{DocumentType: "CI", DocumentNumber: p.document})
			return err
		})
		f.env.Clock.Set(a.Start.Add(3 * time.Hour))
		f.refused(t, "a no-show of a dose checked in", func() error {
			_, err := f.svc.NoShow(f.ctx, a.Center, &appointments.DoseRequest{TrackingCode: p.code, Dose: a.Dose})
			return err
		}, "checked_in_no_show")
		before := f.appointments(t, p)
		if rep := f.env.Run(f.env.Allocator(f.env.Store, 10)); rep.Scheduled != 0 || rep.SecondDoses != 0 {
			t.Fatalf("the run after a refused no-show booked again: %+v", rep)
		}
		if got := f.appointments(t, p); !slices.Equal(got, before) || got[a.Dose-1].State != turnero.AppointmentCheckedIn {
			t.Fatalf("appointments %+v after the run, want %+v", got, before)
		}
		// The dose is then given as usual.
		f.changed(t, "the dose given", func() error {
			_, err := f.svc.RecordDose(f.ctx, a.Center, &appointments.DoseRequest{TrackingCode: p.code, Dose: a.Dose, Vaccine: a.Vaccine, Lot: "PF-9"})
			return err
		})
		f.env.Check(f.since)
	})
}

// TestSecondNoShowAnswersAlreadyNoShow: recording a dose missed twice (a
// double click, two members of staff) answers already_no_show and changes
// nothing: not the not_scheduled or wrong_dose of a dose never booked
// (issue 15, item 4).
func TestSecondNoShowAnswersAlreadyNoShow(t *testing.T) {
	enginetest.Each(t, testSecondNoShowAnswersAlreadyNoShow)
}

func testSecondNoShowAnswersAlreadyNoShow(t *testing.T, eng enginetest.Engine) {
	forEachDose(t, eng, func(t *testing.T, f *fixture, p person, a turnero.Appointment) {
		f.env.Clock.Set(a.Start.Add(time.Hour))
		noShow := func() error {
			_, err := f.svc.NoShow(f.ctx, a.Center, &appointments.DoseRequest{TrackingCode: p.code, Dose: a.Dose})
			return err
		}
		f.changed(t, "a no-show", noShow)
		f.refused(t, "the same no-show again", noShow, "already_no_show")
		f.refused(t, "the same no-show again, by sequence", func() error {
			_, err := f.svc.NoShow(f.ctx, a.Center, &appointments.DoseRequest{Sequence: p.seq, Dose: a.Dose})
			return err
		}, "already_no_show")
		// Once booked again, the new appointment can be missed too.
		f.env.Run(f.env.Allocator(f.env.Store, 10))
		again := f.appointments(t, p)
		if len(again) != 2 || again[a.Dose-1].State != turnero.AppointmentBooked || again[a.Dose-1].Start.Equal(a.Start) {
			t.Fatalf("booked again: %+v", again)
		}
		f.env.Clock.Set(again[a.Dose-1].Start.Add(time.Hour))
		f.changed(t, "a no-show of the new appointment", func() error {
			_, err := f.svc.NoShow(f.ctx, again[a.Dose-1].Center, &appointments.DoseRequest{TrackingCode: p.code, Dose: a.Dose})
			return err
		})
	})
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
