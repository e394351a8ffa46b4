package http_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/enginetest"

	"github.com/turnero/turnero/internal/turnero"
)

// snapshot is everything a refused request must leave as it was.
func snapshot(t *testing.T, ts *testServer, seqs []int64) string {
	t.Helper()
	ctx := context.Background()
	slots, err := ts.db.SlotBookings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var appts []turnero.Appointment
	if err := ts.db.EachAppointment(ctx, func(a turnero.Appointment) error { appts = append(appts, a); return nil }); err != nil {
		t.Fatal(err)
	}
	groups, err := ts.db.GroupStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprint(slots, appts, groups)
	for _, k := range []string{turnero.NotifyScheduled, turnero.NotifyCancelled, turnero.NotifyReleased, turnero.NotifyMissed} {
		n, _ := ts.db.OutboxCount(ctx, k)
		out += fmt.Sprint(k, n)
	}
	for _, s := range seqs {
		r, err := ts.db.RegistrationBySequence(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := ts.db.EventsOf(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprint(r.Status, r.GroupOrdinal, ev)
	}
	return out
}

// TestBadInputChangesNothing: admin, staff, feed and citizens' requests that
// are wrong get a clear 4xx in Spanish and in English, and leave storage as
// it was.
func TestBadInputChangesNothing(t *testing.T) { enginetest.Each(t, testBadInputChangesNothing) }

func testBadInputChangesNothing(t *testing.T, eng enginetest.Engine) {
	ts, clk := withChanges(t, eng)
	codes := scheduleThree(t, ts)
	st := appointmentsOf(t, ts, codes[0])
	d1, _ := time.Parse(time.RFC3339, st.Appointments[0].Start)
	clk.Set(d1.Add(time.Minute))
	// Dose 1 of the first person is given: giving it again is refused.
	if r := ts.call(t, "POST", "/v1/centers/MO-01/doses", centerSecret, "", map[string]any{"tracking_code": codes[0], "dose": 1, "vaccine": "astrazeneca", "lot": "L-1"}); r.status != 200 {
		t.Fatalf("dose 1: %s", r)
	}
	seqs := []int64{1, 2, 3}
	before := snapshot(t, ts, seqs)
	birth := map[string]string{"birth_date": "1958-03-14"}
	c := ts.campaign
	past := clk.Now().Add(-24 * time.Hour).In(c.Location).Format(time.RFC3339)
	s1, s2 := feedSlots(t, c, "MO-01", clk.Now(), 90)
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		status                    int
		code                      string
	}{
		{"agenda of an unknown center", "GET", "/v1/centers/XX-99/agenda?date=2021-03-02", adminSecret, nil, 404, "center_not_found"},
		{"check-in at an unknown center", "POST", "/v1/centers/XX-99/checkin", adminSecret, map[string]any{"document_type": "CI", "document_number": person(1)["document_number"]}, 404, "center_not_found"},
		{"agenda without a date", "GET", "/v1/centers/MO-01/agenda", centerSecret, nil, 422, "invalid_request"},
		{"dose recorded twice", "POST", "/v1/centers/MO-01/doses", centerSecret, map[string]any{"tracking_code": codes[0], "dose": 1, "vaccine": "astrazeneca", "lot": "L-1"}, 409, "dose_already_given"},
		{"dose without a lot", "POST", "/v1/centers/MO-01/doses", centerSecret, map[string]any{"tracking_code": codes[1], "dose": 1, "vaccine": "astrazeneca"}, 422, "invalid_request"},
		{"lot with odd characters", "POST", "/v1/centers/MO-01/doses", centerSecret, map[string]any{"tracking_code": codes[1], "dose": 1, "vaccine": "astrazeneca", "lot": "<script>"}, 422, "invalid_request"},
		{"code and sequence", "POST", "/v1/centers/MO-01/doses", centerSecret, map[string]any{"tracking_code": codes[1], "sequence": 2, "dose": 1, "vaccine": "astrazeneca", "lot": "L"}, 422, "invalid_request"},
		{"dose 0", "POST", "/v1/centers/MO-01/no-shows", centerSecret, map[string]any{"tracking_code": codes[1], "dose": 0}, 422, "invalid_request"},
		{"no-show of a future dose 2", "POST", "/v1/centers/MO-01/no-shows", centerSecret, map[string]any{"tracking_code": codes[0], "dose": 2}, 409, "appointment_not_due"},
		{"staff of another center", "POST", "/v1/centers/MO-01/no-shows", otherCenterSecret, map[string]any{"tracking_code": codes[1], "dose": 1}, 403, "forbidden_center"},
		{"feed token at a center", "POST", "/v1/centers/MO-01/no-shows", feedSecret, map[string]any{"tracking_code": codes[1], "dose": 1}, 403, "forbidden"},
		{"center token on the feed", "GET", "/v1/feed/registrations", centerSecret, nil, 403, "forbidden"},
		{"feed bad cursor", "GET", "/v1/feed/registrations?after=zz", feedSecret, nil, 422, "invalid_request"},
		{"feed limit too large", "GET", "/v1/feed/registrations?limit=5000", feedSecret, nil, 422, "invalid_request"},
		{"feed slot in the past", "POST", "/v1/feed/appointments", feedSecret, map[string]any{"sequence": 2, "center_id": "MO-01", "vaccine": "astrazeneca", "starts": []string{past, past}}, 422, "invalid_request"},
		{"feed for someone booked", "POST", "/v1/feed/appointments", feedSecret, map[string]any{"sequence": 2, "center_id": "MO-01", "vaccine": "astrazeneca",
			"starts": []string{s1.Format(time.RFC3339), s2.Format(time.RFC3339)}}, 409, "already_scheduled"},
		{"feed starts not a list", "POST", "/v1/feed/appointments", feedSecret, map[string]any{"starts": "tomorrow"}, 422, "invalid_request"},
		{"admin token missing", "POST", "/v1/admin/groups/age-60-69/close", "", nil, 401, "unauthorized"},
		{"center token on admin", "POST", "/v1/admin/allocations", centerSecret, nil, 403, "forbidden"},
		{"cancel without birth date", "POST", "/v1/registrations/" + codes[1] + "/cancel", "", map[string]string{}, 422, "invalid_request"},
		{"cancel with a wrong birth date", "POST", "/v1/registrations/" + codes[1] + "/cancel", "", map[string]string{"birth_date": "1960-01-01"}, 404, "not_found"},
		{"cancel a malformed code", "POST", "/v1/registrations/NOT-A-CODE/cancel", "", birth, 404, "not_found"},
		{"cancel after dose 1", "POST", "/v1/registrations/" + codes[0] + "/cancel", "", birth, 409, "dose_given_no_change"},
		{"dose 2 before it is due", "POST", "/v1/centers/MO-01/doses", centerSecret, map[string]any{"tracking_code": codes[0], "dose": 2, "vaccine": "astrazeneca", "lot": "L-2"}, 409, "appointment_not_due"},
	} {
		for _, lang := range []turnero.Lang{turnero.Spanish, turnero.English} {
			name := tc.name
			hdr := ""
			if lang == turnero.English {
				name, hdr = name+", English", "en"
			}
			t.Run(name, func(t *testing.T) {
				wantError(t, ts.call(t, tc.method, tc.path, tc.token, hdr, tc.body), tc.status, tc.code, lang)
			})
		}
	}
	if after := snapshot(t, ts, seqs); !reflect.DeepEqual(before, after) {
		t.Fatalf("refused requests changed storage:\nbefore %s\nafter  %s", before, after)
	}
}
