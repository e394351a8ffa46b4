package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/turnero"
)

// Issue 13's tests of roles and the audit trail, over every route.

const (
	analystSecret   = "analyst-secret-token-for-tests-01234567"
	supportSecret   = "support-secret-token-for-tests-01234567"
	operatorSecret  = "operator-secret-token-for-tests-0123456"
	revokedSecret   = "revoked-admin-secret-token-for-tests-00"
	expiredSecret   = "expired-admin-secret-token-for-tests-00"
	throwawaySecret = "throwaway-secret-token-for-tests-012345"
)

// ministry is a server with every role's token, three people booked at
// MO-01 (codes), a fourth waiting in an open group (for the feed), the
// clock at the first one's dose 1.
type ministry struct {
	ts      *testServer
	clk     *testClock
	codes   []string
	seqs    []int64
	date    string
	waiting string // the fourth person's code
	slots   [2]time.Time
	tokenID string // a token to revoke
}

func newMinistry(t *testing.T, eng enginetest.Engine) *ministry {
	t.Helper()
	ts, clk := withChanges(t, eng)
	ctx := context.Background()
	now := time.Now()
	for _, tok := range []turnero.Token{
		{Hash: turnero.HashToken(analystSecret), Role: turnero.RoleAnalyst, Label: "Planificación MSP"},
		{Hash: turnero.HashToken(supportSecret), Role: turnero.RoleSupport, Label: "Operadora 0800, turno noche"},
		{Hash: turnero.HashToken(operatorSecret), Role: turnero.RoleAdmin, Label: "Operaciones MSP"},
		{Hash: turnero.HashToken(revokedSecret), Role: turnero.RoleAdmin, Label: "revoked"},
		{Hash: turnero.HashToken(expiredSecret), Role: turnero.RoleAdmin, Label: "expired", ExpiresAt: now.Add(-time.Minute)},
		{Hash: turnero.HashToken(throwawaySecret), Role: turnero.RoleFeed, Label: "to revoke"},
	} {
		if err := ts.db.PutToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ts.db.RevokeToken(ctx, turnero.TokenID(turnero.HashToken(revokedSecret)), now); err != nil {
		t.Fatal(err)
	}
	m := &ministry{ts: ts, clk: clk, tokenID: turnero.TokenID(turnero.HashToken(throwawaySecret))}
	m.codes = scheduleThree(t, ts)
	for _, c := range m.codes {
		seq, ok := ts.keys.SequenceOf(c)
		if !ok {
			t.Fatalf("code %s", c)
		}
		m.seqs = append(m.seqs, seq)
	}
	st := appointmentsOf(t, ts, m.codes[0])
	d1, _ := time.Parse(time.RFC3339, st.Appointments[0].Start)
	m.date = d1.In(ts.campaign.Location).Format("2006-01-02")
	m.waiting = receiptOf(t, ts.register(t, person(4)), http.StatusAccepted).TrackingCode
	az, _ := ts.campaign.Vaccine("astrazeneca")
	m.slots[0], m.slots[1] = feedSlots(t, ts.campaign, "MO-02", d1, az.IntervalDays)
	clk.Set(d1.Add(time.Minute))
	return m
}

func doc(i int) string { return person(i)["document_number"].(string) }

// routeCase is one route: how to call it, and who it lets in.
type routeCase struct {
	method, path string
	body         any
	roles        []string // empty: public
	center       bool     // MO-01's: a center token of another center is refused
	audit        string   // the audit action written when it succeeds
}

func (m *ministry) routes() map[string]routeCase {
	admin := []string{turnero.RoleAdmin}
	center := []string{turnero.RoleCenter, turnero.RoleAdmin}
	support := []string{turnero.RoleSupport, turnero.RoleAdmin}
	figures := []string{turnero.RoleAnalyst, turnero.RoleAdmin}
	base := "/v1/centers/MO-01"
	wrongBirth := map[string]string{"birth_date": "1999-01-01"}
	return map[string]routeCase{
		"POST /v1/registrations":                                {"POST", "/v1/registrations", person(10), nil, false, ""},
		"POST /v1/registrations/lookup":                         {"POST", "/v1/registrations/lookup", map[string]any{"document_type": "CI", "document_number": doc(1), "birth_date": "1958-03-14"}, nil, false, ""},
		"GET /v1/registrations/{code}":                          {"GET", "/v1/registrations/" + m.codes[2], nil, nil, false, ""},
		"POST /v1/registrations/{code}/cancel":                  {"POST", "/v1/registrations/" + m.codes[2] + "/cancel", wrongBirth, nil, false, ""},
		"POST /v1/registrations/{code}/reschedule":              {"POST", "/v1/registrations/" + m.codes[2] + "/reschedule", wrongBirth, nil, false, ""},
		"GET /healthz":                                          {"GET", "/healthz", nil, nil, false, ""},
		"GET /readyz":                                           {"GET", "/readyz", nil, nil, false, ""},
		"GET /v1/admin/groups":                                  {"GET", "/v1/admin/groups", nil, []string{turnero.RoleAdmin, turnero.RoleAnalyst}, false, ""},
		"POST /v1/admin/groups/{group}/open":                    {"POST", "/v1/admin/groups/age-70-79/open", nil, admin, false, turnero.AuditGroupOpen},
		"POST /v1/admin/groups/{group}/close":                   {"POST", "/v1/admin/groups/age-70-79/close", nil, admin, false, turnero.AuditGroupClose},
		"GET /v1/admin/groups/{group}/pending":                  {"GET", "/v1/admin/groups/age-60-69/pending", nil, admin, false, ""},
		"POST /v1/admin/allocations":                            {"POST", "/v1/admin/allocations", nil, admin, false, turnero.AuditAllocate},
		"GET /v1/centers/{id}/agenda":                           {"GET", base + "/agenda?date=" + m.date, nil, center, true, turnero.AuditAgendaRead},
		"POST /v1/centers/{id}/checkin":                         {"POST", base + "/checkin", map[string]any{"document_type": "CI", "document_number": doc(1)}, center, true, turnero.AuditCheckIn},
		"POST /v1/centers/{id}/doses":                           {"POST", base + "/doses", map[string]any{"tracking_code": m.codes[0], "dose": 1, "vaccine": "astrazeneca", "lot": "AZ-1"}, center, true, turnero.AuditDose},
		"POST /v1/centers/{id}/no-shows":                        {"POST", base + "/no-shows", map[string]any{"tracking_code": m.codes[1], "dose": 1}, center, true, turnero.AuditNoShow},
		"GET /v1/feed/registrations":                            {"GET", "/v1/feed/registrations", nil, []string{turnero.RoleFeed}, false, turnero.AuditFeedRead},
		"POST /v1/feed/appointments":                            {"POST", "/v1/feed/appointments", map[string]any{"tracking_code": m.waiting, "center_id": "MO-02", "vaccine": "astrazeneca", "starts": []string{m.slots[0].Format(time.RFC3339), m.slots[1].Format(time.RFC3339)}}, []string{turnero.RoleFeed}, false, turnero.AuditFeedBook},
		"POST /v1/support/registrations":                        {"POST", "/v1/support/registrations", person(11), support, false, turnero.AuditRegisterFor},
		"POST /v1/support/lookup":                               {"POST", "/v1/support/lookup", map[string]any{"document_type": "CI", "document_number": doc(2), "birth_date": "1958-03-14"}, support, false, turnero.AuditLookup},
		"GET /v1/support/registrations/{code}":                  {"GET", "/v1/support/registrations/" + m.codes[2], nil, support, false, turnero.AuditStatusRead},
		"GET /v1/admin/audit":                                   {"GET", "/v1/admin/audit?limit=5", nil, admin, false, turnero.AuditAuditRead},
		"POST /v1/admin/audit/person":                           {"POST", "/v1/admin/audit/person", map[string]any{"tracking_code": m.codes[0]}, admin, false, turnero.AuditWhoSawRead},
		"GET /v1/admin/tokens":                                  {"GET", "/v1/admin/tokens", nil, admin, false, ""},
		"POST /v1/admin/tokens":                                 {"POST", "/v1/admin/tokens", map[string]any{"role": "analyst", "label": "Nueva analista"}, admin, false, turnero.AuditTokenCreate},
		"POST /v1/admin/tokens/{id}/revoke":                     {"POST", "/v1/admin/tokens/" + m.tokenID + "/revoke", nil, admin, false, turnero.AuditTokenRevoke},
		"GET /v1/dashboard/willingness":                         {"GET", "/v1/dashboard/willingness", nil, figures, false, ""},
		"GET /v1/dashboard/departments/{department}/localities": {"GET", "/v1/dashboard/departments/UY-MO/localities?format=csv", nil, figures, false, ""},
		"GET /v1/dashboard/registrations":                       {"GET", "/v1/dashboard/registrations", nil, figures, false, ""},
		"GET /v1/dashboard/registrations/series":                {"GET", "/v1/dashboard/registrations/series", nil, figures, false, ""},
		"GET /v1/dashboard/line":                                {"GET", "/v1/dashboard/line", nil, figures, false, ""},
		"GET /v1/dashboard/capacity":                            {"GET", "/v1/dashboard/capacity?format=csv", nil, figures, false, ""},
		"GET /v1/dashboard/costs":                               {"GET", "/v1/dashboard/costs", nil, figures, false, ""},
	}
}

// TestEveryRouteHasARoleCase: a route added without saying who it lets in
// fails here, so that the tests below try it.
func TestEveryRouteHasARoleCase(t *testing.T) {
	m := newMinistry(t, enginetest.SQLite)
	cases := m.routes()
	for _, p := range m.ts.handler.(interface{ Routes() []string }).Routes() {
		if _, ok := cases[p]; !ok {
			t.Errorf("route %q has no case in roles_test.go", p)
		}
	}
	for p := range cases {
		if !slices.Contains(m.ts.handler.(interface{ Routes() []string }).Routes(), p) {
			t.Errorf("case %q is no route", p)
		}
	}
}

// personal are the values of the people's personal data (and their
// codes), which an analyst must never read.
func (m *ministry) personal() []string {
	out := []string{"María", "Maria", "Pérez", "Núñez", "M***", "P***", "1958-03-14", "+59899123456", "99123456", "099 123 456"}
	for i := 0; i <= 11; i++ {
		d := strings.NewReplacer(".", "", "-", "").Replace(doc(i))
		out = append(out, d, doc(i), d[len(d)-3:]+`"`)
	}
	out = append(out, m.codes...)
	out = append(out, m.waiting)
	for _, c := range m.codes {
		out = append(out, strings.ReplaceAll(c, "-", ""))
	}
	return out
}

var tokensByName = []struct {
	name, secret, role string
}{
	{"admin", operatorSecret, turnero.RoleAdmin},
	{"center MO-01", centerSecret, turnero.RoleCenter},
	{"center MO-02", otherCenterSecret, turnero.RoleCenter},
	{"feed", feedSecret, turnero.RoleFeed},
	{"analyst", analystSecret, turnero.RoleAnalyst},
	{"support", supportSecret, turnero.RoleSupport},
	{"revoked", revokedSecret, ""},
	{"expired", expiredSecret, ""},
	{"none", "", ""},
}

// TestRolesOnEveryRoute: on every route, every kind of token: none, a
// revoked or an expired one get 401; a role the route does not let in gets
// 403 (an admin token on the feed, a feed token opening groups, a center's
// token on another center); a role it lets in passes. An analyst reads
// every figure and no personal field anywhere.
func TestRolesOnEveryRoute(t *testing.T) { enginetest.Each(t, testRolesOnEveryRoute) }

func testRolesOnEveryRoute(t *testing.T, eng enginetest.Engine) {
	m := newMinistry(t, eng)
	personal := m.personal()
	cases := m.routes()
	patterns := make([]string, 0, len(cases))
	for p := range cases {
		patterns = append(patterns, p)
	}
	slices.Sort(patterns)
	for _, p := range patterns {
		rc := cases[p]
		t.Run(p, func(t *testing.T) {
			// Those refused first: a refusal changes nothing.
			order := slices.Clone(tokensByName)
			slices.SortStableFunc(order, func(a, b struct{ name, secret, role string }) int {
				ai, bi := slices.Contains(rc.roles, a.role), slices.Contains(rc.roles, b.role)
				switch {
				case ai == bi:
					return 0
				case bi:
					return -1
				}
				return 1
			})
			for _, tok := range order {
				r := m.ts.call(t, rc.method, rc.path, tok.secret, "en", rc.body)
				allowed := len(rc.roles) == 0 || slices.Contains(rc.roles, tok.role)
				switch {
				case len(rc.roles) == 0:
					if r.status == 401 || r.status == 403 {
						t.Errorf("public route with the %s token: %s", tok.name, r)
					}
				case tok.role == "":
					if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("%s token: %s, want 401 with WWW-Authenticate", tok.name, r)
					}
				case !allowed:
					if r.status != 403 {
						t.Errorf("%s token: %s, want 403", tok.name, r)
					}
				case rc.center && tok.name == "center MO-02":
					if r.status != 403 || !strings.Contains(string(r.body), "forbidden_center") {
						t.Errorf("another center's token: %s, want 403 forbidden_center", r)
					}
				default:
					if r.status == 401 || r.status == 403 || r.status >= 500 {
						t.Errorf("%s token, let in: %s", tok.name, r)
					}
				}
				if tok.role == turnero.RoleAnalyst && len(rc.roles) > 0 {
					for _, v := range personal {
						if strings.Contains(string(r.body), v) {
							t.Errorf("the analyst read %q on %s: %s", v, p, r)
						}
					}
					if slices.Contains(rc.roles, turnero.RoleAnalyst) && r.status != 200 {
						t.Errorf("the analyst cannot read the figure: %s", r)
					}
				}
			}
		})
	}
}

type auditPage struct {
	Entries []struct {
		ID            int64   `json:"id"`
		Actor         string  `json:"actor"`
		Role          string  `json:"role"`
		TokenID       string  `json:"token_id"`
		Action        string  `json:"action"`
		Registrations []int64 `json:"registrations"`
		Address       string  `json:"address"`
		Detail        string  `json:"detail"`
	} `json:"entries"`
}

func (m *ministry) auditEntries(t *testing.T) []turnero.AuditEntry {
	t.Helper()
	var all []turnero.AuditEntry
	q := turnero.AuditQuery{Limit: turnero.MaxAuditPage}
	for {
		page, err := m.ts.db.AuditEntries(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < q.Limit {
			return all
		}
		q.After = page[len(page)-1].ID
	}
}

// TestEveryPersonalRouteIsAudited: each route that reads or changes
// personal data (or changes what operators control), called successfully,
// appends one entry naming the token's label, role and id, the action, the
// registrations and the client's address.
func TestEveryPersonalRouteIsAudited(t *testing.T) {
	enginetest.Each(t, testEveryPersonalRouteIsAudited)
}

func testEveryPersonalRouteIsAudited(t *testing.T, eng enginetest.Engine) {
	m := newMinistry(t, eng)
	cases := m.routes()
	secretOf := map[string]string{turnero.RoleAdmin: operatorSecret, turnero.RoleCenter: centerSecret,
		turnero.RoleFeed: feedSecret, turnero.RoleSupport: supportSecret, turnero.RoleAnalyst: analystSecret}
	labelOf := map[string]string{operatorSecret: "Operaciones MSP", supportSecret: "Operadora 0800, turno noche"}
	// In an order that makes each succeed: the feed is read before its
	// booking, the audit after the rest.
	order := []string{
		"GET /v1/centers/{id}/agenda", "POST /v1/centers/{id}/checkin", "POST /v1/centers/{id}/doses",
		"POST /v1/centers/{id}/no-shows", "GET /v1/feed/registrations", "POST /v1/feed/appointments",
		"POST /v1/support/registrations", "POST /v1/support/lookup", "GET /v1/support/registrations/{code}",
		"POST /v1/admin/groups/{group}/open", "POST /v1/admin/groups/{group}/close", "POST /v1/admin/allocations",
		"POST /v1/admin/tokens", "POST /v1/admin/tokens/{id}/revoke", "POST /v1/admin/audit/person", "GET /v1/admin/audit",
	}
	for p, rc := range cases {
		if rc.audit != "" && !slices.Contains(order, p) {
			t.Fatalf("%s is audited but not in the order of this test", p)
		}
	}
	for _, p := range order {
		rc := cases[p]
		secret := secretOf[rc.roles[0]]
		if rc.roles[0] == turnero.RoleCenter && p == "GET /v1/centers/{id}/agenda" {
			secret = operatorSecret // an operator reading a center's day is audited too
		}
		before := len(m.auditEntries(t))
		r := m.ts.call(t, rc.method, rc.path, secret, "", rc.body)
		if r.status != 200 && r.status != 201 && r.status != 202 {
			t.Fatalf("%s: %s", p, r)
		}
		after := m.auditEntries(t)
		if len(after) != before+1 {
			t.Fatalf("%s wrote %d audit entries, want 1", p, len(after)-before)
		}
		e := after[len(after)-1]
		tok, err := m.ts.db.TokenByHash(context.Background(), turnero.HashToken(secret))
		if err != nil {
			t.Fatal(err)
		}
		if e.Action != rc.audit || e.Role != tok.Role || e.TokenID != tok.ID() || e.Actor != tok.Label ||
			e.Address != "127.0.0.1" || e.At.IsZero() {
			t.Fatalf("%s: audit entry %+v, want action %s by %q (%s, %s) from 127.0.0.1", p, e, rc.audit, tok.Label, tok.Role, tok.ID())
		}
		if l, ok := labelOf[secret]; ok && e.Actor != l {
			t.Fatalf("%s: actor %q, want %q", p, e.Actor, l)
		}
		want := map[string]int64{
			"POST /v1/centers/{id}/checkin": m.seqs[0], "POST /v1/centers/{id}/doses": m.seqs[0],
			"POST /v1/centers/{id}/no-shows": m.seqs[1], "GET /v1/support/registrations/{code}": m.seqs[2],
			"POST /v1/admin/audit/person": m.seqs[0],
		}
		if seq, ok := want[p]; ok && !slices.Equal(e.Registrations, []int64{seq}) {
			t.Fatalf("%s: registrations %v, want [%d]", p, e.Registrations, seq)
		}
		if p == "GET /v1/centers/{id}/agenda" && (len(e.Registrations) != 3 || !slices.Contains(e.Registrations, m.seqs[0])) {
			t.Fatalf("agenda: registrations %v, want the day's three", e.Registrations)
		}
		if (p == "GET /v1/feed/registrations" || p == "POST /v1/support/registrations" || p == "POST /v1/support/lookup" ||
			p == "POST /v1/feed/appointments") && len(e.Registrations) == 0 {
			t.Fatalf("%s: the entry names no registration", p)
		}
	}
	// Who has seen person 1's data: the agenda, the check-in and the dose,
	// and the question itself, asked on their behalf.
	r := m.ts.call(t, "POST", "/v1/admin/audit/person", operatorSecret, "", map[string]any{
		"document_type": "CI", "document_number": doc(1), "birth_date": "1958-03-14"})
	var page auditPage
	if err := json.Unmarshal(r.body, &page); err != nil || r.status != 200 {
		t.Fatalf("who saw: %s", r)
	}
	var actions []string
	for _, e := range page.Entries {
		actions = append(actions, e.Action)
		if !slices.Equal(e.Registrations, []int64{m.seqs[0]}) {
			t.Fatalf("who saw shows other people's sequences: %+v", e)
		}
	}
	for _, a := range []string{turnero.AuditAgendaRead, turnero.AuditCheckIn, turnero.AuditDose, turnero.AuditWhoSawRead} {
		if !slices.Contains(actions, a) {
			t.Fatalf("who has seen person 1's data: %v, want %s among them", actions, a)
		}
	}
	// A support lookup that finds nobody is in the trail too.
	before := len(m.auditEntries(t))
	wantError(t, m.ts.call(t, "POST", "/v1/support/lookup", supportSecret, "", map[string]any{
		"document_type": "CI", "document_number": doc(77), "birth_date": "1958-03-14"}), 404, "not_found", turnero.Spanish)
	if after := m.auditEntries(t); len(after) != before+1 || after[len(after)-1].Detail != "not found" {
		t.Fatalf("a lookup that found nobody: %d entries more", len(after)-before)
	}
}

// TestAuditCannotBeChangedThroughAnyRoute: every route, every method, with
// an admin token and bodies that name entries: what was in the trail is
// still there as it was, and nothing is ever taken out.
func TestAuditCannotBeChangedThroughAnyRoute(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, eng enginetest.Engine) {
		m := newMinistry(t, eng)
		cases := m.routes()
		m.ts.call(t, "GET", cases["GET /v1/centers/{id}/agenda"].path, centerSecret, "", nil)
		before := m.auditEntries(t)
		if len(before) == 0 {
			t.Fatal("no entry to protect")
		}
		first := before[0]
		hostile := map[string]any{"id": first.ID, "action": "nothing", "actor": "nobody", "registrations": []int64{},
			"delete": true, "entries": []int64{first.ID}}
		paths := []string{"/v1/admin/audit", fmt.Sprintf("/v1/admin/audit/%d", first.ID), "/v1/admin/audit/person",
			fmt.Sprintf("/v1/admin/audit?after=0&id=%d", first.ID)}
		for _, rc := range cases {
			paths = append(paths, strings.SplitN(rc.path, "?", 2)[0])
		}
		for _, path := range paths {
			for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
				m.ts.call(t, method, path, operatorSecret, "", hostile)
			}
		}
		after := m.auditEntries(t)
		if len(after) < len(before) {
			t.Fatalf("%d entries after, %d before", len(after), len(before))
		}
		for i, e := range before {
			a := after[i]
			if a.ID != e.ID || a.Action != e.Action || a.Actor != e.Actor || a.Role != e.Role || !a.At.Equal(e.At) ||
				!slices.Equal(a.Registrations, e.Registrations) || a.Detail != e.Detail || a.Address != e.Address {
				t.Fatalf("entry %d changed:\n%+v\n%+v", e.ID, e, a)
			}
		}
	})
}
