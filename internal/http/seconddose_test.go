package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/enginetest"

	"github.com/turnero/turnero/internal/turnero"
)

// secondDoseStatus is the part of a status answer about second doses.
type secondDoseStatus struct {
	Status       string `json:"status"`
	Appointments []struct {
		Dose       int    `json:"dose"`
		CenterID   string `json:"center_id"`
		CenterName string `json:"center_name"`
		Start      string `json:"start"`
		Vaccine    string `json:"vaccine"`
		State      string `json:"state"`
	} `json:"appointments"`
	LastChange *struct {
		Kind        string `json:"kind"`
		PlaceInLine string `json:"place_in_line"`
		Text        string `json:"text"`
	} `json:"last_change"`
}

func decodeSecondDose(t *testing.T, r response) secondDoseStatus {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("want 200 with a status answer, got %s", r)
	}
	var st secondDoseStatus
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSecondDoseAgain: after dose 1, a missed dose 2 (staff) and another date
// for dose 2 (the citizen) are booked again by the next allocation, with the
// same vaccine, after the interval; the status answer says so at each step
// and then shows the new dose 2, at another center when dose 1's is closed;
// staff there give it and the course is complete.
func TestSecondDoseAgain(t *testing.T) { enginetest.Each(t, testSecondDoseAgain) }

func testSecondDoseAgain(t *testing.T, eng enginetest.Engine) {
	ts, clk := withChanges(t, eng)
	codes := scheduleThree(t, ts)
	c := ts.campaign
	ctx := context.Background()
	birth := map[string]string{"birth_date": "1958-03-14"}
	status := func(code, lang string) secondDoseStatus {
		h := map[string]string{}
		if lang != "" {
			h["Accept-Language"] = lang
		}
		return decodeSecondDose(t, ts.do(t, "GET", "/v1/registrations/"+code, nil, h))
	}
	allocateNow := func(want string) {
		t.Helper()
		if r := ts.admin(t, "POST", "/v1/admin/allocations", adminSecret, ""); r.status != 200 || !strings.Contains(string(r.body), want) {
			t.Fatalf("allocation: %s, want %s", r, want)
		}
	}
	first := status(codes[0], "")
	d1, _ := time.Parse(time.RFC3339, first.Appointments[0].Start)
	d2, _ := time.Parse(time.RFC3339, first.Appointments[1].Start)
	clk.Set(d1.Add(time.Minute))
	for _, code := range codes[:2] {
		if r := ts.call(t, "POST", "/v1/centers/MO-01/doses", centerSecret, "", map[string]any{"tracking_code": code, "dose": 1,
			"vaccine": "astrazeneca", "lot": "AZ-1"}); r.status != 200 {
			t.Fatalf("dose 1: %s", r)
		}
	}

	// The citizen asks for another date for dose 2 (cancelling is refused).
	wantError(t, ts.call(t, "POST", "/v1/registrations/"+codes[1]+"/cancel", "", "", birth), 409, "dose_given_no_change", turnero.Spanish)
	r := ts.call(t, "POST", "/v1/registrations/"+codes[1]+"/reschedule", "", "en", birth)
	st := decodeSecondDose(t, r)
	if st.Status != "scheduled" || len(st.Appointments) != 1 || st.Appointments[0].State != "given" || st.LastChange == nil ||
		st.LastChange.Kind != "reschedule" || st.LastChange.PlaceInLine != "second_dose" || !strings.Contains(st.LastChange.Text, "second dose") {
		t.Fatalf("after another date for dose 2: %s", r)
	}
	wantError(t, ts.call(t, "POST", "/v1/registrations/"+codes[1]+"/reschedule", "", "", birth), 409, "not_scheduled", turnero.Spanish)

	// Staff: dose 2 missed on its day.
	clk.Set(d2.Add(time.Minute))
	r = ts.call(t, "POST", "/v1/centers/MO-01/no-shows", centerSecret, "", map[string]any{"tracking_code": codes[0], "dose": 2})
	if r.status != 200 || !strings.Contains(string(r.body), `"place_in_line":"second_dose"`) || !strings.Contains(string(r.body), `"appointments_left":1`) {
		t.Fatalf("no-show of dose 2: %s", r)
	}
	st = status(codes[0], "")
	if st.Status != "scheduled" || len(st.Appointments) != 1 || st.LastChange == nil || st.LastChange.Kind != "no_show" ||
		st.LastChange.PlaceInLine != "second_dose" || !strings.Contains(st.LastChange.Text, "segunda dosis") {
		t.Fatalf("after dose 2 was missed: %+v", st)
	}
	for kind, want := range map[string]int64{turnero.NotifyMissed: 1, turnero.NotifyReleased: 1, turnero.NotifySecondDose: 0} {
		if n, err := ts.db.OutboxCount(ctx, kind); err != nil || n != want {
			t.Fatalf("%d notifications %s (%v), want %d", n, kind, err, want)
		}
	}

	// Dose 1's center closes for the weeks ahead: both are booked again,
	// before anyone else, at another center of Montevideo giving AstraZeneca.
	mo1 := c.Centers[0]
	for _, ct := range c.Centers {
		if ct.ID == "MO-01" {
			mo1 = ct
		}
	}
	for d := range 60 {
		mo1.Exceptions = append(mo1.Exceptions, turnero.CenterException{Date: clk.Now().In(c.Location).AddDate(0, 0, d).Format("2006-01-02"), Closed: true})
	}
	if err := ts.db.UpsertCenters(ctx, []turnero.Center{mo1}); err != nil {
		t.Fatal(err)
	}
	allocateNow(`"second_doses":2`)
	if n, err := ts.db.OutboxCount(ctx, turnero.NotifySecondDose); err != nil || n != 2 {
		t.Fatalf("%d notifications of second doses booked again (%v), want 2", n, err)
	}
	for _, code := range codes[:2] {
		st := status(code, "")
		if st.Status != "scheduled" || len(st.Appointments) != 2 {
			t.Fatalf("%s after the allocation: %+v", code, st)
		}
		a1, a2 := st.Appointments[0], st.Appointments[1]
		start, _ := time.Parse(time.RFC3339, a2.Start)
		var ct turnero.Center
		for _, x := range c.Centers {
			if x.ID == a2.CenterID {
				ct = x
			}
		}
		if a2.Dose != 2 || a2.State != "booked" || a2.Vaccine != a1.Vaccine || ct.Department != "UY-MO" || a2.CenterID == "MO-01" ||
			a2.CenterName != ct.Name || a1.CenterName != mo1.Name || !start.After(d2) ||
			!start.After(clk.Now().Add(c.Allocation.Notice)) {
			t.Fatalf("%s: dose 2 booked again %+v after dose 1 %+v", code, a2, a1)
		}
	}

	// Staff of that center give it on its day: vaccinated.
	st = status(codes[0], "")
	a2 := st.Appointments[1]
	start, _ := time.Parse(time.RFC3339, a2.Start)
	clk.Set(start.Add(time.Minute))
	wantError(t, ts.call(t, "POST", "/v1/centers/MO-01/doses", centerSecret, "", map[string]any{"tracking_code": codes[0], "dose": 2,
		"vaccine": "astrazeneca", "lot": "AZ-2"}), 409, "wrong_center", turnero.Spanish)
	if err := ts.db.PutToken(ctx, turnero.Token{Hash: turnero.HashToken("dose-two-center-secret-token-0123456789"), Role: turnero.RoleCenter,
		Center: a2.CenterID}); err != nil {
		t.Fatal(err)
	}
	if r := ts.call(t, "POST", "/v1/centers/"+a2.CenterID+"/doses", "dose-two-center-secret-token-0123456789", "",
		map[string]any{"tracking_code": codes[0], "dose": 2, "vaccine": "astrazeneca", "lot": "AZ-2"}); r.status != 200 {
		t.Fatalf("dose 2 at %s: %s", a2.CenterID, r)
	}
	if st := status(codes[0], ""); st.Status != "vaccinated" || st.Appointments[1].State != "given" {
		t.Fatalf("after dose 2: %+v", st)
	}
}

// TestPendingListsSecondDoses: operators' pending list of a group shows,
// merged in group order, the people the allocator could not place (first
// doses) and the second doses waiting to be booked again, with their
// reason and nothing personal; paged by group ordinal.
func TestPendingListsSecondDoses(t *testing.T) { enginetest.Each(t, testPendingListsSecondDoses) }

func testPendingListsSecondDoses(t *testing.T, eng enginetest.Engine) {
	ts, clk := withChanges(t, eng)
	c := ts.campaign
	// Rivera's center closed for months: pending for a first dose, first in
	// the group.
	for _, ct := range c.Centers {
		if ct.Department == "UY-RV" {
			for d := range 240 {
				ct.Exceptions = append(ct.Exceptions, turnero.CenterException{Date: clk.Now().In(c.Location).AddDate(0, 0, d).Format("2006-01-02"), Closed: true})
			}
			if err := ts.db.UpsertCenters(context.Background(), []turnero.Center{ct}); err != nil {
				t.Fatal(err)
			}
		}
	}
	rivera := receiptOf(t, ts.register(t, with(person(9), "department", "Rivera")), 202).TrackingCode
	codes := scheduleThree(t, ts)
	birth := map[string]string{"birth_date": "1958-03-14"}
	first := decodeSecondDose(t, ts.do(t, "GET", "/v1/registrations/"+codes[0], nil, nil))
	d1, _ := time.Parse(time.RFC3339, first.Appointments[0].Start)
	d2, _ := time.Parse(time.RFC3339, first.Appointments[1].Start)
	clk.Set(d1.Add(time.Minute))
	for _, code := range codes[:2] {
		if r := ts.call(t, "POST", "/v1/centers/MO-01/doses", centerSecret, "", map[string]any{"tracking_code": code, "dose": 1,
			"vaccine": "astrazeneca", "lot": "AZ-1"}); r.status != 200 {
			t.Fatalf("dose 1: %s", r)
		}
	}
	if r := ts.call(t, "POST", "/v1/registrations/"+codes[1]+"/reschedule", "", "", birth); r.status != 200 {
		t.Fatalf("another date for dose 2: %s", r)
	}
	clk.Set(d2.Add(time.Minute))
	if r := ts.call(t, "POST", "/v1/centers/MO-01/no-shows", centerSecret, "", map[string]any{"tracking_code": codes[0], "dose": 2}); r.status != 200 {
		t.Fatalf("no-show of dose 2: %s", r)
	}

	type entry struct {
		Sequence   int64  `json:"sequence"`
		Ordinal    int64  `json:"group_ordinal"`
		Dose       int    `json:"dose"`
		Department string `json:"department"`
		Reason     string `json:"reason"`
		ReasonText string `json:"reason_text"`
		Since      string `json:"since"`
	}
	list := func(query string) []entry {
		t.Helper()
		r := ts.call(t, "GET", "/v1/admin/groups/age-60-69/pending"+query, adminSecret, "en", nil)
		if r.status != 200 {
			t.Fatalf("pending%s: %s", query, r)
		}
		for _, personal := range []string{"María", "Pérez", "1958", "5989", "Pocitos", "tracking_code"} {
			if strings.Contains(string(r.body), personal) {
				t.Fatalf("the pending list shows %q: %s", personal, r)
			}
		}
		var out struct{ Pending []entry }
		if err := json.Unmarshal(r.body, &out); err != nil {
			t.Fatal(err)
		}
		return out.Pending
	}
	seq := func(code string) int64 {
		n, ok := ts.keys.SequenceOf(code)
		if !ok {
			t.Fatalf("tracking code %s", code)
		}
		return n
	}
	got := list("")
	if len(got) != 3 {
		t.Fatalf("pending: %+v, want the first dose of Rivera and two second doses", got)
	}
	if e := got[0]; e.Sequence != seq(rivera) || e.Dose != 1 || e.Department != "UY-RV" || e.Reason != turnero.ReasonNoCapacity || e.Since == "" {
		t.Fatalf("first dose pending: %+v", e)
	}
	for i, want := range []struct {
		code, reason, text string
	}{{codes[0], turnero.ReasonSecondDoseMissed, "missed the second"}, {codes[1], turnero.ReasonSecondDoseMoved, "another date for the second"}} {
		e := got[1+i]
		if e.Sequence != seq(want.code) || e.Dose != 2 || e.Reason != want.reason || !strings.Contains(e.ReasonText, want.text) ||
			e.Department != "" || e.Since != "" || e.Ordinal <= got[i].Ordinal {
			t.Fatalf("second dose %d in the pending list: %+v", i, e)
		}
	}
	// Paged by group ordinal, across both kinds.
	page1 := list("?limit=2")
	page2 := list(fmt.Sprintf("?limit=2&after=%d", page1[1].Ordinal))
	if len(page1) != 2 || len(page2) != 1 || page1[1] != got[1] || page2[0] != got[2] {
		t.Fatalf("pages %+v and %+v, want %+v", page1, page2, got)
	}
	// Booked again, they leave the list; the first dose waits on.
	if r := ts.admin(t, "POST", "/v1/admin/allocations", adminSecret, ""); !strings.Contains(string(r.body), `"second_doses":2`) {
		t.Fatalf("allocation: %s", r)
	}
	if got := list(""); len(got) != 1 || got[0].Dose != 1 {
		t.Fatalf("pending after the second doses were booked again: %+v", got)
	}
}
