package http_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/turnero/turnero/internal/enginetest"
)

// TestFeedGroupOpenedLater: through the API, a group opened after the
// consumer read past its people's sequences is offered whole, in order;
// closing a group stops offering it and opening it again offers what came
// meanwhile, nobody twice.
func TestFeedGroupOpenedLater(t *testing.T) { enginetest.Each(t, testFeedGroupOpenedLater) }

func testFeedGroupOpenedLater(t *testing.T, eng enginetest.Engine) {
	ts, _ := withChanges(t, eng)
	born := map[string]string{"age-70-79": "1950-05-01", "age-60-69": "1958-03-14"}
	seqOf := map[string][]int64{}
	n := 0
	register := func(groups ...string) {
		t.Helper()
		for _, g := range groups {
			n++
			code := receiptOf(t, ts.register(t, with(person(n), "birth_date", born[g])), http.StatusAccepted).TrackingCode
			seq, ok := ts.keys.SequenceOf(code)
			if !ok {
				t.Fatalf("tracking code %s", code)
			}
			seqOf[g] = append(seqOf[g], seq)
		}
	}
	type page struct {
		Registrations []struct {
			Sequence int64  `json:"sequence"`
			Group    string `json:"group"`
		} `json:"registrations"`
		Next string `json:"next"`
	}
	cursor := ""
	drain := func() []int64 {
		t.Helper()
		var got []int64
		for range 10 {
			r := ts.call(t, "GET", "/v1/feed/registrations?limit=2&after="+cursor, feedSecret, "", nil)
			if r.status != 200 {
				t.Fatalf("feed: %s", r)
			}
			var p page
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			cursor = p.Next
			if len(p.Registrations) == 0 {
				return got
			}
			for _, e := range p.Registrations {
				got = append(got, e.Sequence)
			}
		}
		t.Fatal("paging does not end")
		return nil
	}
	register("age-70-79", "age-60-69", "age-70-79", "age-60-69", "age-70-79")
	ts.admin(t, "POST", "/v1/admin/groups/age-60-69/open", adminSecret, "")
	if got := drain(); fmt.Sprint(got) != fmt.Sprint(seqOf["age-60-69"]) {
		t.Fatalf("with age-60-69 open: %v, want %v", got, seqOf["age-60-69"])
	}
	// age-70-79 opens: its people are all behind the cursor's sequences.
	ts.admin(t, "POST", "/v1/admin/groups/age-70-79/open", adminSecret, "")
	if got := drain(); fmt.Sprint(got) != fmt.Sprint(seqOf["age-70-79"]) {
		t.Fatalf("after age-70-79 opened: %v, want %v", got, seqOf["age-70-79"])
	}
	ts.admin(t, "POST", "/v1/admin/groups/age-70-79/close", adminSecret, "")
	register("age-70-79", "age-60-69")
	if got, want := drain(), seqOf["age-60-69"][2:]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("with age-70-79 closed: %v, want %v", got, want)
	}
	ts.admin(t, "POST", "/v1/admin/groups/age-70-79/open", adminSecret, "")
	if got, want := drain(), seqOf["age-70-79"][3:]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after age-70-79 opened again: %v, want %v", got, want)
	}
}
