package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// The audit trail: what is appended is read back as it was, in order, by
// every filter; IDs increase in commit order across stores on one database.
// That the database itself refuses updates and deletes is tested in each
// engine's package, with its own SQL.
func runAudit(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"AuditReadsBackWhatWasAppended", testAuditReadBack},
		{"AuditFilters", testAuditFilters},
		{"AuditPagesMissNothingAcrossStores", testAuditPages},
		{"AuditRefusesBadEntries", testAuditRefuses},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

var auditT0 = time.Date(2021, 3, 21, 19, 0, 0, 0, time.UTC)

func auditEntry(i int, action string, regs ...int64) turnero.AuditEntry {
	return turnero.AuditEntry{
		At: auditT0.Add(time.Duration(i) * time.Minute), Actor: fmt.Sprintf("staff %d", i%3), Role: turnero.RoleCenter,
		TokenID: fmt.Sprintf("tok%d", i%3), Action: action, Registrations: regs, Address: "192.0.2.7",
		Detail: fmt.Sprintf("center MO-0%d", i%2),
	}
}

func appendAudit(t *testing.T, s turnero.AuditStore, es ...turnero.AuditEntry) []turnero.AuditEntry {
	t.Helper()
	out, err := s.AppendAudit(context.Background(), es)
	if err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	return out
}

func auditQuery(t *testing.T, s turnero.AuditStore, q turnero.AuditQuery) []turnero.AuditEntry {
	t.Helper()
	out, err := s.AuditEntries(context.Background(), q)
	if err != nil {
		t.Fatalf("AuditEntries(%+v): %v", q, err)
	}
	return out
}

func sameEntry(a, b turnero.AuditEntry) bool {
	return a.ID == b.ID && a.At.Equal(b.At) && a.Actor == b.Actor && a.Role == b.Role && a.TokenID == b.TokenID &&
		a.Action == b.Action && slices.Equal(a.Registrations, b.Registrations) && a.Address == b.Address && a.Detail == b.Detail
}

func testAuditReadBack(t *testing.T, open Opener) {
	s := fresh(t, open)
	in := []turnero.AuditEntry{
		auditEntry(0, turnero.AuditAgendaRead, 5, 3, 9),
		auditEntry(1, turnero.AuditCheckIn, 3),
		auditEntry(2, turnero.AuditGroupOpen),
	}
	in[0].At = in[0].At.Add(123 * time.Millisecond)
	got := appendAudit(t, s, in...)
	for i := range got {
		if got[i].ID <= 0 || i > 0 && got[i].ID <= got[i-1].ID {
			t.Fatalf("IDs %d, %d: must be positive and increase", got[max(i-1, 0)].ID, got[i].ID)
		}
	}
	many := make([]int64, 1500) // a feed page names up to a thousand; more fit
	for i := range many {
		many[i] = int64(1000 + i)
	}
	got = append(got, appendAudit(t, s, auditEntry(3, turnero.AuditFeedRead, many...))...)
	read := auditQuery(t, s, turnero.AuditQuery{})
	if len(read) != len(got) {
		t.Fatalf("read %d entries, appended %d", len(read), len(got))
	}
	for i := range read {
		if !sameEntry(read[i], got[i]) {
			t.Fatalf("entry %d read back as\n%+v\nappended as\n%+v", i, read[i], got[i])
		}
	}
	if !read[0].At.Equal(auditT0.Add(123 * time.Millisecond)) {
		t.Fatalf("time read back %v, want milliseconds kept", read[0].At)
	}
	if len(read[2].Registrations) != 0 {
		t.Fatalf("an entry that names no registration read back with %v", read[2].Registrations)
	}
}

func testAuditFilters(t *testing.T, open Opener) {
	s := fresh(t, open)
	var all []turnero.AuditEntry
	for i := 0; i < 12; i++ {
		action := []string{turnero.AuditAgendaRead, turnero.AuditCheckIn, turnero.AuditFeedRead}[i%3]
		e := auditEntry(i, action, int64(i%4+1), int64(100+i))
		if i%5 == 0 {
			e.Role = turnero.RoleSupport
		}
		all = append(all, appendAudit(t, s, e)...)
	}
	want := func(keep func(turnero.AuditEntry) bool) []int64 {
		var ids []int64
		for _, e := range all {
			if keep(e) {
				ids = append(ids, e.ID)
			}
		}
		return ids
	}
	ids := func(es []turnero.AuditEntry) []int64 {
		var out []int64
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    turnero.AuditQuery
		keep func(turnero.AuditEntry) bool
	}{
		{"registration", turnero.AuditQuery{Registration: 2}, func(e turnero.AuditEntry) bool { return slices.Contains(e.Registrations, 2) }},
		{"unknown registration", turnero.AuditQuery{Registration: 999}, func(turnero.AuditEntry) bool { return false }},
		{"actor", turnero.AuditQuery{Actor: "staff 1"}, func(e turnero.AuditEntry) bool { return e.Actor == "staff 1" }},
		{"role", turnero.AuditQuery{Role: turnero.RoleSupport}, func(e turnero.AuditEntry) bool { return e.Role == turnero.RoleSupport }},
		{"action", turnero.AuditQuery{Action: turnero.AuditCheckIn}, func(e turnero.AuditEntry) bool { return e.Action == turnero.AuditCheckIn }},
		{"from and to", turnero.AuditQuery{From: auditT0.Add(3 * time.Minute), To: auditT0.Add(7 * time.Minute)},
			func(e turnero.AuditEntry) bool {
				return !e.At.Before(auditT0.Add(3*time.Minute)) && e.At.Before(auditT0.Add(7*time.Minute))
			}},
		{"after", turnero.AuditQuery{After: all[4].ID}, func(e turnero.AuditEntry) bool { return e.ID > all[4].ID }},
		{"limit", turnero.AuditQuery{Limit: 3}, func(e turnero.AuditEntry) bool { return e.ID <= all[2].ID }},
		{"combined", turnero.AuditQuery{Registration: 1, Action: turnero.AuditAgendaRead},
			func(e turnero.AuditEntry) bool {
				return slices.Contains(e.Registrations, 1) && e.Action == turnero.AuditAgendaRead
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(auditQuery(t, s, tc.q))
			if w := want(tc.keep); !slices.Equal(got, w) {
				t.Fatalf("query %+v: IDs %v, want %v", tc.q, got, w)
			}
		})
	}
}

// testAuditPages appends from two stores on one database at once (two
// nodes, or two processes): IDs are unique and a reader paging by ID, while
// they append, sees every entry exactly once.
func testAuditPages(t *testing.T, open Opener) {
	a, another := open(t)
	b := another(t)
	const per = 40
	var wg sync.WaitGroup
	for w, s := range []turnero.AuditStore{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if _, err := s.AppendAudit(context.Background(), []turnero.AuditEntry{auditEntry(w*per+i, turnero.AuditDose, int64(w*per+i+1))}); err != nil {
					t.Errorf("append: %v", err)
					return
				}
			}
		}()
	}
	seen := map[int64]bool{}
	var after int64
	page := func() {
		for _, e := range auditQuery(t, a, turnero.AuditQuery{After: after, Limit: 7}) {
			if seen[e.ID] {
				t.Fatalf("entry %d read twice", e.ID)
			}
			seen[e.ID] = true
			after = e.ID
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		page()
	}
	for n := -1; n != len(seen); {
		n = len(seen)
		page()
	}
	if len(seen) != 2*per {
		t.Fatalf("paged through %d entries, %d were appended", len(seen), 2*per)
	}
}

func testAuditRefuses(t *testing.T, open Opener) {
	s := fresh(t, open)
	bad := []turnero.AuditEntry{
		{Role: turnero.RoleAdmin, Action: turnero.AuditAllocate}, // no time
		{At: auditT0, Role: turnero.RoleAdmin},                   // no action
		{At: auditT0, Action: turnero.AuditAllocate},             // no role
		{At: auditT0, Role: turnero.RoleAdmin, Action: turnero.AuditFeedRead, // too many
			Registrations: make([]int64, turnero.MaxAuditRegistrations+1)},
	}
	for i, e := range bad {
		if _, err := s.AppendAudit(context.Background(), []turnero.AuditEntry{auditEntry(20, turnero.AuditDose, 1), e}); err == nil {
			t.Fatalf("bad entry %d appended", i)
		}
	}
	if got := auditQuery(t, s, turnero.AuditQuery{}); len(got) != 0 {
		t.Fatalf("a refused append left %d entries", len(got))
	}
}
