package allocate_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/postgres/pgtest"
	"github.com/turnero/turnero/internal/turnero"
)

// The allocation tests run on both storage engines: as written, on SQLite in
// a temporary file; under TestPostgres, the same test functions on a fresh
// PostgreSQL schema each (newEnv asks onPostgres). Every invariant the
// checker asserts (env.check, checkOrder, checkLine) thus holds on both.

// store is what the tests need of an engine: the domain's stores and the
// few reads that only tests and exports use.
type store interface {
	turnero.RegistrationStore
	turnero.AllocationStore
	turnero.AppointmentStore
	turnero.StatusViewer
	turnero.FeedStore
	EachAppointment(ctx context.Context, fn func(turnero.Appointment) error) error
	SlotBookings(ctx context.Context) ([]turnero.SlotBooking, error)
	OutboxCount(ctx context.Context, kind string) (int64, error)
	Close() error
}

// onPostgres reports whether t runs under TestPostgres.
func onPostgres(t testing.TB) bool {
	return strings.HasPrefix(t.Name(), "TestPostgres/")
}

func isURL(path string) bool { return strings.HasPrefix(path, "postgres://") }

// openPostgres opens another engine (another node's pools) on the schema at
// url: for two allocators at once, each as on its own node.
func openPostgres(t testing.TB, url string) store {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestPostgres runs the allocation tests on PostgreSQL. It is skipped, saying
// so, only when TURNERO_TEST_PG is not set; .ci/run sets it.
func TestPostgres(t *testing.T) {
	pgtest.BaseURL(t)
	t.Parallel()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"AllocatesOpenGroupsInOrder", TestAllocatesOpenGroupsInOrder},
		{"CannotPlaceKeepsPlaceWithReason", TestCannotPlaceKeepsPlaceWithReason},
		{"TwoAllocatorsNeverDoubleBook", TestTwoAllocatorsOnOneFileNeverDoubleBook},
		{"TwoAllocatorsManyTimes", testTwoAllocatorsManyTimes},
		{"PropertyInvariantsUnderChanges", TestPropertyInvariantsUnderChanges},
		{"PropertyOrderInOneRun", TestPropertyOrderInOneRun},
		{"PropertyTwoAllocatorsAndChanges", TestPropertyTwoAllocatorsAndChanges},
		{"Rollout2021", TestRollout2021},
		{"FeedOffersRequeuedAgain", TestFeedOffersRequeuedAgain},
		{"FeedGroupOpenedLater", TestFeedGroupOpenedLater},
		{"FeedGroupClosedAndReopened", TestFeedGroupClosedAndReopened},
		{"PropertyFeedOffersEachWaitOnce", TestPropertyFeedOffersEachWaitOnce},
		{"FeedRequeuesFromTwoWriters", TestFeedRequeuesFromTwoWriters},
		{"SecondDoseBookedAgain", TestSecondDoseBookedAgain},
		{"SecondDoseWaitsForItsVaccine", TestSecondDoseWaitsForItsVaccine},
		{"SecondDoseBeforeFirstDoses", TestSecondDoseBeforeFirstDoses},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t)
		})
	}
}

// testTwoAllocatorsManyTimes races two allocators on two engines (two
// nodes' pools) over one schema again and again, with people arriving and
// bookings released in between: no slot is ever overbooked, nobody is
// booked twice, and what the allocators report is what is stored.
func testTwoAllocatorsManyTimes(t *testing.T) {
	e := newEnv(t, testCampaign(t))
	if !isURL(e.path) {
		t.Fatalf("running on %s, want a PostgreSQL schema", e.path)
	}
	other := openDB(t, e.path)
	e.open("age-80-plus", "age-70-79", "age-60-69")
	since := e.clock.Now()
	total := 0
	for round := range 6 {
		e.register(people(12, "age-80-plus", "UY-MO", 85)...)
		e.register(people(8, "age-70-79", "UY-MO", 71)...)
		e.register(people(6, "age-60-69", "UY-CA", 65)...)
		a1, a2 := e.allocator(e.db, 1+round%4), e.allocator(other, 2+round%3)
		done := make(chan int, 2)
		for i, a := range []*allocate.Allocator{a1, a2} {
			go func() {
				rep, err := a.RunOnce(context.Background())
				if err != nil {
					t.Errorf("round %d allocator %d: %v", round, i, err)
				}
				done <- rep.Scheduled
			}()
		}
		total += <-done + <-done
		// A day passes: the horizon moves and more capacity opens.
		e.clock.Add(24 * time.Hour)
	}
	if t.Failed() {
		return
	}
	placed := e.check(since)
	if placed != total || placed == 0 {
		t.Fatalf("allocators report %d scheduled in all, storage has %d", total, placed)
	}
}
