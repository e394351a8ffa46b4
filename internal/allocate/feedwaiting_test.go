package allocate_test

import (
	"context"
	"testing"
)

// TestFeedWaitingSkipsBooked: the feed's pages of the waiting list, read
// with a small limit, return exactly the people of the asked groups who
// are waiting and not booked, in sequence order, each once.
func TestFeedWaitingSkipsBooked(t *testing.T) {
	e := newEnv(t, testCampaign(t))
	ctx := context.Background()
	e.register(people(120, "age-80-plus", "UY-MO", 85)...) // more than five days of capacity
	e.register(people(5, "age-70-79", "UY-MO", 72)...)
	e.register(people(3, "age-60-69", "UY-MO", 65)...) // not asked for
	e.open("age-80-plus", "age-70-79")
	e.run(e.allocator(e.db, 4))
	appts := e.appointments()
	var want []int64
	for seq := int64(1); seq <= int64(len(e.regs)); seq++ {
		if r := e.regs[seq]; r.Group != "age-60-69" && len(appts[seq]) == 0 {
			want = append(want, seq)
		}
	}
	if len(want) == 0 || len(appts) == 0 {
		t.Fatalf("%d booked and %d waiting: the test needs both", len(appts), len(want))
	}
	var got []int64
	var after int64
	for {
		page, err := e.db.FeedWaiting(ctx, []string{"age-80-plus", "age-70-79"}, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 3 {
			t.Fatalf("a page of %d, limit 3", len(page))
		}
		for _, r := range page {
			got = append(got, r.Sequence)
		}
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].Sequence
	}
	if len(got) != len(want) {
		t.Fatalf("feed returned %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("feed returned %v, want %v", got, want)
		}
	}
}
