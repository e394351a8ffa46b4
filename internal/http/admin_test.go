package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/enginetest"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/turnero"
)

const (
	adminSecret  = "admin-secret-token-for-tests-0123456789"
	centerSecret = "center-secret-token-for-tests-012345678"
)

// withAllocation wires centers, tokens and an allocator into a test server
// as serve does.
func withAllocation(t *testing.T, eng enginetest.Engine) *testServer {
	t.Helper()
	ts := newTestServer(t, eng)
	ctx := context.Background()
	c := campaign.Sample()
	if err := ts.db.UpsertCenters(ctx, c.Centers); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []turnero.Token{
		{Hash: turnero.HashToken(adminSecret), Role: turnero.RoleAdmin},
		{Hash: turnero.HashToken(centerSecret), Role: turnero.RoleCenter, Center: "MO-01"},
	} {
		if err := ts.db.PutToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	return ts
}

func (s *testServer) admin(t *testing.T, method, path, token, lang string) response {
	t.Helper()
	h := map[string]string{}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	if lang != "" {
		h["Accept-Language"] = lang
	}
	return s.do(t, method, path, nil, h)
}

func TestAdminNeedsAToken(t *testing.T) { enginetest.Each(t, testAdminNeedsAToken) }

func testAdminNeedsAToken(t *testing.T, eng enginetest.Engine) {
	ts := withAllocation(t, eng)
	for _, tc := range []struct {
		name, method, path, token, lang string
		status                          int
		code                            string
	}{
		{"no token", "POST", "/v1/admin/groups/age-60-69/open", "", "", 401, "unauthorized"},
		{"no token, English", "POST", "/v1/admin/allocations", "", "en", 401, "unauthorized"},
		{"unknown token", "POST", "/v1/admin/groups/age-60-69/open", "not-a-token-of-ours-at-all-000000", "", 401, "unauthorized"},
		{"center token", "POST", "/v1/admin/groups/age-60-69/open", centerSecret, "", 403, "forbidden"},
		{"center token, English", "GET", "/v1/admin/groups", centerSecret, "en", 403, "forbidden"},
		{"unknown group", "POST", "/v1/admin/groups/martians/open", adminSecret, "", 404, "group_not_found"},
		{"bad limit", "GET", "/v1/admin/groups/age-60-69/pending?limit=0", adminSecret, "", 422, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.admin(t, tc.method, tc.path, tc.token, tc.lang)
			if r.status != tc.status {
				t.Fatalf("%s %s: %s, want %d", tc.method, tc.path, r, tc.status)
			}
			lang := turnero.Spanish
			if tc.lang == "en" {
				lang = turnero.English
			}
			e := errorOf(t, r, lang)
			if e.Error.Code != tc.code {
				t.Fatalf("code %q, want %q", e.Error.Code, tc.code)
			}
			if tc.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
	// Nothing was opened by any of these.
	r := ts.admin(t, "GET", "/v1/admin/groups", adminSecret, "")
	if r.status != 200 || strings.Contains(string(r.body), `"open":true`) {
		t.Fatalf("groups after refused requests: %s", r)
	}
}

type allocStatusBody struct {
	Status       string `json:"status"`
	Position     int64  `json:"position"`
	NowServing   int64  `json:"now_serving"`
	Estimate     string `json:"estimated_date"`
	Appointments []struct {
		Dose       int    `json:"dose"`
		CenterID   string `json:"center_id"`
		CenterName string `json:"center_name"`
		Address    string `json:"address"`
		Start      string `json:"start"`
		Vaccine    string `json:"vaccine"`
	} `json:"appointments"`
}

func allocStatusOf(t *testing.T, ts *testServer, code string) allocStatusBody {
	t.Helper()
	r := ts.do(t, "GET", "/v1/registrations/"+code, nil, nil)
	if r.status != 200 {
		t.Fatalf("status: %s", r)
	}
	var st allocStatusBody
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestOpenAllocateAndSeeAppointments(t *testing.T) {
	enginetest.Each(t, testOpenAllocateAndSeeAppointments)
}

func testOpenAllocateAndSeeAppointments(t *testing.T, eng enginetest.Engine) {
	ts := withAllocation(t, eng)
	var codes []string
	for i := 1; i <= 3; i++ {
		codes = append(codes, receiptOf(t, ts.register(t, person(i)), http.StatusAccepted).TrackingCode)
	}
	if st := allocStatusOf(t, ts, codes[2]); st.Status != "waiting" || st.Position != 3 || len(st.Appointments) != 0 {
		t.Fatalf("before allocation: %+v", st)
	}
	// A closed group is not served.
	r := ts.admin(t, "POST", "/v1/admin/allocations", adminSecret, "")
	if r.status != 200 || !strings.Contains(string(r.body), `"scheduled":0`) {
		t.Fatalf("allocation with no open group: %s", r)
	}
	r = ts.admin(t, "POST", "/v1/admin/groups/age-60-69/open", adminSecret, "")
	if r.status != 200 || !strings.Contains(string(r.body), `"open":true`) {
		t.Fatalf("open: %s", r)
	}
	r = ts.admin(t, "POST", "/v1/admin/allocations", adminSecret, "")
	if r.status != 200 || !strings.Contains(string(r.body), `"scheduled":3`) {
		t.Fatalf("allocation: %s", r)
	}
	c := ts.campaign
	for _, code := range codes {
		st := allocStatusOf(t, ts, code)
		if st.Status != "scheduled" || len(st.Appointments) != 2 || st.Position != 0 {
			t.Fatalf("after allocation: %+v", st)
		}
		d1, err1 := time.Parse(time.RFC3339, st.Appointments[0].Start)
		d2, err2 := time.Parse(time.RFC3339, st.Appointments[1].Start)
		if err1 != nil || err2 != nil || !strings.HasSuffix(st.Appointments[0].Start, "-03:00") {
			t.Fatalf("starts %q %q: want RFC 3339 with the campaign's offset", st.Appointments[0].Start, st.Appointments[1].Start)
		}
		a := st.Appointments
		if a[0].Dose != 1 || a[1].Dose != 2 || a[0].CenterID != a[1].CenterID || !strings.HasPrefix(a[0].CenterID, "MO-") ||
			a[0].CenterName == "" || a[0].Address == "" || a[0].Vaccine != "AstraZeneca" || a[1].Vaccine != a[0].Vaccine {
			t.Fatalf("appointments %+v", a)
		}
		if d2.Sub(d1) < 89*24*time.Hour || d1.Before(time.Now().Add(c.Allocation.Notice)) {
			t.Fatalf("dose 1 %s, dose 2 %s: want the notice period and 90 days between", d1, d2)
		}
	}
	// The group now serves up to the third; a newcomer is first in line.
	code := receiptOf(t, ts.register(t, person(4)), http.StatusAccepted).TrackingCode
	st := allocStatusOf(t, ts, code)
	if st.Status != "waiting" || st.NowServing != 3 || st.Position != 1 || st.Estimate == "" {
		t.Fatalf("newcomer: %+v, want waiting at position 1 behind now serving 3 with an estimate", st)
	}
	r = ts.admin(t, "POST", "/v1/admin/groups/age-60-69/close", adminSecret, "en")
	if r.status != 200 || !strings.Contains(string(r.body), `"open":false`) || !strings.Contains(string(r.body), `"now_serving":3`) {
		t.Fatalf("close: %s", r)
	}
}
