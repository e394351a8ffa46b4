package http_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/enginetest"

	"github.com/turnero/turnero/internal/turnero"
)

const (
	otherCenterSecret = "center-02-secret-token-for-tests-0123456"
	feedSecret        = "feed-secret-token-for-tests-0123456789ab"
)

func init() {
	// The field problems of changes, staff and the feed (messages_changes.go).
	fieldKeys = append(fieldKeys, "one_of_code_or_sequence", "vaccine_unknown", "lot_format", "cursor_format",
		"limit_range", "center_unknown", "vaccine_not_at_center", "vaccine_not_allowed", "datetime_format",
		"slot_past", "not_a_slot", "dose_count", "dose_interval", "tracking_code_format")
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

// Now is the time set, or the system's until one is.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// withChanges is withAllocation plus cancellations, center staff and the
// feed as serve wires them, on a clock the test sets; MO-02 and the feed get
// tokens too.
func withChanges(t *testing.T, eng enginetest.Engine) (*testServer, *testClock) {
	t.Helper()
	ts := withAllocation(t, eng)
	ctx := context.Background()
	for _, tok := range []turnero.Token{
		{Hash: turnero.HashToken(otherCenterSecret), Role: turnero.RoleCenter, Center: "MO-02"},
		{Hash: turnero.HashToken(feedSecret), Role: turnero.RoleFeed},
	} {
		if err := ts.db.PutToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	clk := ts.clock
	clk.Set(time.Now())
	return ts, clk
}

// call sends a JSON body (nil: none) with a token and a language.
func (s *testServer) call(t *testing.T, method, path, token, lang string, body any) response {
	t.Helper()
	h := map[string]string{}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	if lang != "" {
		h["Accept-Language"] = lang
	}
	var rd io.Reader
	if body != nil {
		h["Content-Type"] = "application/json"
		rd = strings.NewReader(string(mustJSON(t, body)))
	}
	return s.do(t, method, path, rd, h)
}

type changeStatus struct {
	Status       string `json:"status"`
	Position     int64  `json:"position"`
	Appointments []struct {
		Dose     int    `json:"dose"`
		CenterID string `json:"center_id"`
		Start    string `json:"start"`
		Vaccine  string `json:"vaccine"`
		State    string `json:"state"`
	} `json:"appointments"`
	LastChange *struct {
		Kind        string `json:"kind"`
		PlaceInLine string `json:"place_in_line"`
		Text        string `json:"text"`
	} `json:"last_change"`
}

func decodeStatus(t *testing.T, r response) changeStatus {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("want 200 with a status answer, got %s", r)
	}
	var st changeStatus
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func wantError(t *testing.T, r response, status int, code string, lang turnero.Lang) {
	t.Helper()
	if r.status != status {
		t.Fatalf("got %s, want %d %s", r, status, code)
	}
	if e := errorOf(t, r, lang); e.Error.Code != code {
		t.Fatalf("code %q, want %q (%s)", e.Error.Code, code, r)
	}
}

// scheduleThree registers three people of 60-69 in Montevideo, opens their
// group and allocates.
func scheduleThree(t *testing.T, ts *testServer) []string {
	t.Helper()
	var codes []string
	for i := 1; i <= 3; i++ {
		codes = append(codes, receiptOf(t, ts.register(t, person(i)), http.StatusAccepted).TrackingCode)
	}
	if r := ts.admin(t, "POST", "/v1/admin/groups/age-60-69/open", adminSecret, ""); r.status != 200 {
		t.Fatalf("open: %s", r)
	}
	if r := ts.admin(t, "POST", "/v1/admin/allocations", adminSecret, ""); !strings.Contains(string(r.body), `"scheduled":3`) {
		t.Fatalf("allocation: %s", r)
	}
	return codes
}

func bookedInSlots(t *testing.T, ts *testServer) int {
	t.Helper()
	slots, err := ts.db.SlotBookings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range slots {
		n += s.Booked
	}
	return n
}

func TestCancelAndAnotherDate(t *testing.T) { enginetest.Each(t, testCancelAndAnotherDate) }

func testCancelAndAnotherDate(t *testing.T, eng enginetest.Engine) {
	ts, _ := withChanges(t, eng)
	codes := scheduleThree(t, ts)
	birth := map[string]string{"birth_date": "1958-03-14"}

	// A wrong birth date is the same 404 as a code nobody has.
	wrong := ts.call(t, "POST", "/v1/registrations/"+codes[0]+"/reschedule", "", "", map[string]string{"birth_date": "1958-03-15"})
	unknown := ts.call(t, "POST", "/v1/registrations/"+turnero.FormatTrackingCode(ts.keys.TrackingCode(999_999))+"/reschedule", "", "", birth)
	wantError(t, wrong, 404, "not_found", turnero.Spanish)
	if string(wrong.body) != string(unknown.body) || wrong.status != unknown.status {
		t.Fatalf("wrong birth date %s, unknown code %s: must be indistinguishable", wrong, unknown)
	}
	wantError(t, ts.call(t, "POST", "/v1/registrations/"+codes[0]+"/cancel", "", "en", map[string]string{"birth_date": "14/03/1958"}),
		422, "invalid_request", turnero.English)
	if n := bookedInSlots(t, ts); n != 6 {
		t.Fatalf("%d doses booked in slots after refused changes, want 6", n)
	}

	// Another date: slots freed at once, back of the line (the sample's
	// rule), shown in the status answer, a notification written.
	st := decodeStatus(t, ts.call(t, "POST", "/v1/registrations/"+codes[0]+"/reschedule", "", "", birth))
	if st.Status != "waiting" || len(st.Appointments) != 0 || st.LastChange == nil ||
		st.LastChange.Kind != "reschedule" || st.LastChange.PlaceInLine != "back_of_line" || st.LastChange.Text == "" {
		t.Fatalf("after another date: %+v", st)
	}
	if st.Position != 1 {
		t.Fatalf("position %d after going to the back of a served line, want 1", st.Position)
	}
	if n := bookedInSlots(t, ts); n != 4 {
		t.Fatalf("%d doses booked in slots, want 4 (two freed)", n)
	}
	if n, _ := ts.db.OutboxCount(context.Background(), turnero.NotifyReleased); n != 1 {
		t.Fatalf("%d release notifications, want 1", n)
	}
	// A second request for another date while waiting: nothing to free.
	wantError(t, ts.call(t, "POST", "/v1/registrations/"+codes[0]+"/reschedule", "", "en", birth), 409, "not_scheduled", turnero.English)
	// The next run gives another date.
	if r := ts.admin(t, "POST", "/v1/admin/allocations", adminSecret, ""); !strings.Contains(string(r.body), `"scheduled":1`) {
		t.Fatalf("allocation after another date: %s", r)
	}
	if st := decodeStatus(t, ts.do(t, "GET", "/v1/registrations/"+codes[0], nil, nil)); st.Status != "scheduled" || len(st.Appointments) != 2 {
		t.Fatalf("after the next run: %+v", st)
	}

	// Cancel: off the list, slots freed; a second cancel is a clear 409.
	st = decodeStatus(t, ts.call(t, "POST", "/v1/registrations/"+codes[1]+"/cancel", "", "", birth))
	if st.Status != "cancelled" || len(st.Appointments) != 0 || st.LastChange == nil || st.LastChange.PlaceInLine != "left_the_list" {
		t.Fatalf("after cancel: %+v", st)
	}
	if n := bookedInSlots(t, ts); n != 4 {
		t.Fatalf("%d doses booked in slots after a cancel, want 4", n)
	}
	wantError(t, ts.call(t, "POST", "/v1/registrations/"+codes[1]+"/cancel", "", "", birth), 409, "already_cancelled", turnero.Spanish)
	wantError(t, ts.call(t, "POST", "/v1/registrations/"+codes[1]+"/reschedule", "", "en", birth), 409, "already_cancelled", turnero.English)
	// The cancelled person is not booked again.
	if r := ts.admin(t, "POST", "/v1/admin/allocations", adminSecret, ""); !strings.Contains(string(r.body), `"scheduled":0`) {
		t.Fatalf("allocation after cancel: %s", r)
	}
	if ts.logs.String() == "" || strings.Contains(ts.logs.String(), "1958-03-14") {
		t.Fatal("the birth date reached the logs")
	}
}

// firstAppointment reads a registration's dose 1 from the status answer.
func appointmentsOf(t *testing.T, ts *testServer, code string) changeStatus {
	t.Helper()
	return decodeStatus(t, ts.do(t, "GET", "/v1/registrations/"+code, nil, nil))
}

func TestCenterStaff(t *testing.T) { enginetest.Each(t, testCenterStaff) }

func testCenterStaff(t *testing.T, eng enginetest.Engine) {
	ts, clk := withChanges(t, eng)
	codes := scheduleThree(t, ts)
	st := appointmentsOf(t, ts, codes[0])
	center := st.Appointments[0].CenterID
	if center != "MO-01" {
		t.Fatalf("first in line at %s, want MO-01", center)
	}
	d1, _ := time.Parse(time.RFC3339, st.Appointments[0].Start)
	d2, _ := time.Parse(time.RFC3339, st.Appointments[1].Start)
	date := d1.Format("2006-01-02")
	clk.Set(d1.Add(time.Minute))
	base := "/v1/centers/" + center

	// The day's agenda: masked names, nothing more than check-in needs.
	r := ts.call(t, "GET", base+"/agenda?date="+date, centerSecret, "", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"name":"M*** J*** P*** N***"`) ||
		strings.Contains(string(r.body), "María") || strings.Contains(string(r.body), "1958") || strings.Contains(string(r.body), "99123456") {
		t.Fatalf("agenda: %s", r)
	}
	var agenda struct {
		Appointments []struct {
			Dose  int    `json:"dose"`
			State string `json:"state"`
		} `json:"appointments"`
	}
	json.Unmarshal(r.body, &agenda)
	if len(agenda.Appointments) != 3 {
		t.Fatalf("agenda of %s on %s: %d appointments, want 3: %s", center, date, len(agenda.Appointments), r)
	}
	// Another center's token, no token, a feed token: refused.
	wantError(t, ts.call(t, "GET", base+"/agenda?date="+date, otherCenterSecret, "en", nil), 403, "forbidden_center", turnero.English)
	wantError(t, ts.call(t, "GET", base+"/agenda?date="+date, "", "", nil), 401, "unauthorized", turnero.Spanish)
	wantError(t, ts.call(t, "GET", base+"/agenda?date="+date, feedSecret, "", nil), 403, "forbidden", turnero.Spanish)
	wantError(t, ts.call(t, "GET", base+"/agenda?date=mañana", centerSecret, "", nil), 422, "invalid_request", turnero.Spanish)

	// Check-in by document.
	doc := person(1)["document_number"]
	r = ts.call(t, "POST", base+"/checkin", centerSecret, "", map[string]any{"document_type": "CI", "document_number": doc})
	if r.status != 200 || !strings.Contains(string(r.body), `"state":"checked_in"`) || !strings.Contains(string(r.body), `"dose":1`) {
		t.Fatalf("check-in: %s", r)
	}
	wantError(t, ts.call(t, "POST", "/v1/centers/MO-02/checkin", otherCenterSecret, "en",
		map[string]any{"document_type": "CI", "document_number": doc}), 409, "wrong_center", turnero.English)
	wantError(t, ts.call(t, "POST", base+"/checkin", centerSecret, "",
		map[string]any{"document_type": "CI", "document_number": person(77)["document_number"]}), 404, "not_found", turnero.Spanish)
	// Someone checked in came: a no-show of that dose is refused, and
	// their appointments stay (checked below).
	wantError(t, ts.call(t, "POST", base+"/no-shows", centerSecret, "en", map[string]any{"tracking_code": codes[0], "dose": 1}),
		409, "checked_in_no_show", turnero.English)

	// Record dose 1: every mismatch is refused and changes nothing.
	dose := func(token, path string, d int, vaccine string) response {
		return ts.call(t, "POST", path, token, "en", map[string]any{"tracking_code": codes[0], "dose": d, "vaccine": vaccine, "lot": "AZ-1234"})
	}
	vac := "astrazeneca"
	if st.Appointments[0].Vaccine != "AstraZeneca" {
		t.Fatalf("vaccine %q", st.Appointments[0].Vaccine)
	}
	for _, tc := range []struct {
		name   string
		r      response
		status int
		code   string
	}{
		{"wrong vaccine", dose(centerSecret, base+"/doses", 1, "pfizer"), 409, "wrong_vaccine"},
		{"dose 2 before dose 1", dose(centerSecret, base+"/doses", 2, vac), 409, "wrong_dose"},
		{"dose 3", dose(centerSecret, base+"/doses", 3, vac), 409, "wrong_dose"},
		{"another center", dose(otherCenterSecret, "/v1/centers/MO-02/doses", 1, vac), 409, "wrong_center"},
		{"another center's token", dose(otherCenterSecret, base+"/doses", 1, vac), 403, "forbidden_center"},
		{"unknown vaccine", dose(centerSecret, base+"/doses", 1, "sputnik"), 422, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantError(t, tc.r, tc.status, tc.code, turnero.English) })
	}
	if st := appointmentsOf(t, ts, codes[0]); st.Appointments[0].State != "checked_in" || st.Appointments[1].State != "booked" {
		t.Fatalf("after refused doses: %+v", st.Appointments)
	}
	r = dose(centerSecret, base+"/doses", 1, vac)
	if r.status != 200 || !strings.Contains(string(r.body), `"state":"given"`) {
		t.Fatalf("dose 1: %s", r)
	}
	wantError(t, dose(centerSecret, base+"/doses", 1, vac), 409, "dose_already_given", turnero.English)
	// Dose 1 keeps dose 2; dose 2 is not due before its day.
	st = appointmentsOf(t, ts, codes[0])
	if st.Status != "scheduled" || len(st.Appointments) != 2 || st.Appointments[1].State != "booked" {
		t.Fatalf("after dose 1: %+v", st)
	}
	wantError(t, dose(centerSecret, base+"/doses", 2, vac), 409, "appointment_not_due", turnero.English)
	// A person whose first dose is given cancels at the center, not online.
	wantError(t, ts.call(t, "POST", "/v1/registrations/"+codes[0]+"/cancel", "", "", map[string]string{"birth_date": "1958-03-14"}),
		409, "dose_given_no_change", turnero.Spanish)

	// A no-show of dose 1 frees both slots; the person goes back in line.
	before := bookedInSlots(t, ts)
	r = ts.call(t, "POST", base+"/no-shows", centerSecret, "", map[string]any{"tracking_code": codes[1], "dose": 1})
	if r.status != 200 || !strings.Contains(string(r.body), `"place_in_line":"back_of_line"`) {
		t.Fatalf("no-show: %s", r)
	}
	if after := bookedInSlots(t, ts); after != before-2 {
		t.Fatalf("slots booked %d after a no-show, want %d", after, before-2)
	}
	if st := appointmentsOf(t, ts, codes[1]); st.Status != "waiting" || st.LastChange == nil || st.LastChange.Kind != "no_show" {
		t.Fatalf("after no-show: %+v", st)
	}
	// The same no-show again (a double click) says so.
	wantError(t, ts.call(t, "POST", base+"/no-shows", centerSecret, "", map[string]any{"tracking_code": codes[1], "dose": 1}),
		409, "already_no_show", turnero.Spanish)

	// Dose 2 on its day: vaccinated.
	clk.Set(d2.Add(time.Minute))
	r = dose(centerSecret, base+"/doses", 2, vac)
	if r.status != 200 {
		t.Fatalf("dose 2: %s", r)
	}
	if st := appointmentsOf(t, ts, codes[0]); st.Status != "vaccinated" || st.Appointments[1].State != "given" {
		t.Fatalf("after dose 2: %+v", st)
	}
	wantError(t, ts.call(t, "POST", "/v1/registrations/"+codes[0]+"/cancel", "", "en", map[string]string{"birth_date": "1958-03-14"}),
		409, "already_vaccinated", turnero.English)
}

// slotAfter finds a slot of center at least days after from, with a second
// dose interval days later on an open day.
func feedSlots(t *testing.T, c *turnero.Campaign, id string, from time.Time, interval int) (time.Time, time.Time) {
	t.Helper()
	var ct turnero.Center
	for _, x := range c.Centers {
		if x.ID == id {
			ct = x
		}
	}
	for d := 2; d < 30; d++ {
		day := from.In(c.Location).AddDate(0, 0, d)
		if ct.CapacityOn(day) == 0 {
			continue
		}
		for d2 := interval; d2 <= interval+c.Allocation.Dose2WindowDays; d2++ {
			day2 := day.AddDate(0, 0, d2)
			if ct.CapacityOn(day2) > 0 {
				return ct.SlotStart(day, 3, c.Location), ct.SlotStart(day2, 3, c.Location)
			}
		}
	}
	t.Fatal("no slot")
	return time.Time{}, time.Time{}
}

func TestFeed(t *testing.T) { enginetest.Each(t, testFeed) }

func testFeed(t *testing.T, eng enginetest.Engine) {
	ts, clk := withChanges(t, eng)
	var codes []string
	for i := 1; i <= 3; i++ {
		codes = append(codes, receiptOf(t, ts.register(t, person(i)), http.StatusAccepted).TrackingCode)
	}
	type page struct {
		Registrations []struct {
			Sequence       int64  `json:"sequence"`
			TrackingCode   string `json:"tracking_code"`
			DocumentNumber string `json:"document_number"`
			GivenNames     string `json:"given_names"`
			BirthDate      string `json:"birth_date"`
			Phone          string `json:"phone"`
			Department     string `json:"department"`
			Requeued       bool   `json:"requeued"`
		} `json:"registrations"`
		Next string `json:"next"`
	}
	pull := func(query string) page {
		t.Helper()
		r := ts.call(t, "GET", "/v1/feed/registrations"+query, feedSecret, "", nil)
		if r.status != 200 {
			t.Fatalf("feed %s: %s", query, r)
		}
		var p page
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := pull(""); len(p.Registrations) != 0 || p.Next == "" {
		t.Fatalf("feed with every group closed: %+v", p)
	}
	ts.admin(t, "POST", "/v1/admin/groups/age-60-69/open", adminSecret, "")
	p := pull("?limit=2")
	if len(p.Registrations) != 2 || p.Registrations[0].Sequence >= p.Registrations[1].Sequence ||
		p.Registrations[0].GivenNames != "María José" || p.Registrations[0].BirthDate != "1958-03-14" ||
		p.Registrations[0].Phone != "+59899123456" || p.Registrations[0].DocumentNumber == "" || p.Registrations[0].Department != "UY-MO" {
		t.Fatalf("first page: %+v", p)
	}
	p2 := pull("?limit=2&after=" + p.Next)
	if len(p2.Registrations) != 1 || p2.Registrations[0].Sequence <= p.Registrations[1].Sequence || p2.Registrations[0].Requeued {
		t.Fatalf("second page: %+v", p2)
	}
	consumer := p2.Next // the consumer has read everyone

	c := ts.campaign
	az, _ := c.Vaccine("astrazeneca")
	s1, s2 := feedSlots(t, c, "MO-02", clk.Now(), az.IntervalDays)
	post := func(body map[string]any, lang string) response {
		return ts.call(t, "POST", "/v1/feed/appointments", feedSecret, lang, body)
	}
	good := map[string]any{"tracking_code": codes[0], "center_id": "MO-02", "vaccine": "astrazeneca",
		"starts": []string{s1.Format(time.RFC3339), s2.Format(time.RFC3339)}}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
		field  string
	}{
		{"unknown center", with("center_id", "XX-99"), 422, "invalid_request", "center_id"},
		{"vaccine not allowed at 60-69", with("vaccine", "sinovac"), 422, "invalid_request", "vaccine"},
		{"slot in the past", with("starts", []string{clk.Now().Add(-48 * time.Hour).Format(time.RFC3339), s2.Format(time.RFC3339)}), 422, "invalid_request", "starts[0]"},
		{"not a slot", with("starts", []string{s1.Add(7 * time.Minute).Format(time.RFC3339), s2.Format(time.RFC3339)}), 422, "invalid_request", "starts[0]"},
		{"one dose of two", with("starts", []string{s1.Format(time.RFC3339)}), 422, "invalid_request", "starts"},
		{"dose 2 too soon", with("starts", []string{s1.Format(time.RFC3339), s1.AddDate(0, 0, 7).Format(time.RFC3339)}), 422, "invalid_request", "starts[1]"},
		{"unknown registration", with("tracking_code", turnero.FormatTrackingCode(ts.keys.TrackingCode(424242))), 404, "not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(tc.body, "en")
			wantError(t, r, tc.status, tc.code, turnero.English)
			if tc.field != "" && !strings.Contains(string(r.body), `"`+tc.field+`"`) {
				t.Fatalf("error does not name %s: %s", tc.field, r)
			}
		})
	}
	if n := bookedInSlots(t, ts); n != 0 {
		t.Fatalf("refused posts booked %d slots", n)
	}
	st := decodeStatus(t, post(good, ""))
	if st.Status != "scheduled" || len(st.Appointments) != 2 || st.Appointments[0].CenterID != "MO-02" {
		t.Fatalf("after the feed's appointment: %+v", st)
	}
	wantError(t, post(good, ""), 409, "already_scheduled", turnero.Spanish)
	if p := pull(""); len(p.Registrations) != 2 || p.Registrations[0].TrackingCode == codes[0] {
		t.Fatalf("the booked person is still in the feed: %+v", p)
	}
	// The allocator books the other two and leaves the feed's booking alone.
	if r := ts.admin(t, "POST", "/v1/admin/allocations", adminSecret, ""); !strings.Contains(string(r.body), `"scheduled":2`) {
		t.Fatalf("allocation after a feed booking: %s", r)
	}
	if st := appointmentsOf(t, ts, codes[0]); st.Appointments[0].CenterID != "MO-02" || st.Appointments[0].Start != s1.In(c.Location).Format(time.RFC3339) {
		t.Fatalf("feed booking changed: %+v", st)
	}

	// Someone the consumer read is given another date: waiting again, the
	// consumer's cursor offers them once more, and only once.
	if p := pull("?after=" + consumer); len(p.Registrations) != 0 || p.Next != consumer {
		t.Fatalf("feed with nothing new: %+v", p)
	}
	if st := decodeStatus(t, ts.call(t, "POST", "/v1/registrations/"+codes[1]+"/reschedule", "", "", map[string]string{"birth_date": "1958-03-14"})); st.Status != "waiting" {
		t.Fatalf("after another date: %+v", st)
	}
	again := pull("?after=" + consumer)
	if len(again.Registrations) != 1 || again.Registrations[0].TrackingCode != codes[1] || !again.Registrations[0].Requeued {
		t.Fatalf("after another date, the consumer got %+v", again)
	}
	if p := pull("?after=" + again.Next); len(p.Registrations) != 0 {
		t.Fatalf("offered twice: %+v", p)
	}
	// A cursor of the earlier format (sequence only) still reads.
	legacy := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "s1:%d", p2.Registrations[0].Sequence))
	if p := pull("?after=" + legacy); len(p.Registrations) != 1 || p.Registrations[0].TrackingCode != codes[1] {
		t.Fatalf("with a cursor of the earlier format: %+v", p)
	}

	for _, tc := range []struct {
		name, query, token string
		status             int
		code               string
	}{
		{"bad cursor", "?after=not-a-cursor", feedSecret, 422, "invalid_request"},
		{"forged cursor", "?after=" + "czE6LTU", feedSecret, 422, "invalid_request"},
		{"limit 0", "?limit=0", feedSecret, 422, "invalid_request"},
		{"limit 1001", "?limit=1001", feedSecret, 422, "invalid_request"},
		{"limit not a number", "?limit=many", feedSecret, 422, "invalid_request"},
		{"center token", "", centerSecret, 403, "forbidden"},
		{"no token", "", "", 401, "unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, ts.call(t, "GET", "/v1/feed/registrations"+tc.query, tc.token, "en", nil), tc.status, tc.code, turnero.English)
		})
	}
	wantError(t, ts.call(t, "POST", "/v1/feed/appointments", centerSecret, "", good), 403, "forbidden", turnero.Spanish)
}
