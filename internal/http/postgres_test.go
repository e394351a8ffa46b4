package http_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/postgres/pgtest"
	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/turnero"
)

// testStore is what the API tests need of a storage engine: every store of
// the domain and the reads that tests use to check what was stored.
type testStore interface {
	turnero.RegistrationStore
	turnero.AllocationStore
	turnero.AppointmentStore
	turnero.FeedStore
	turnero.TokenStore
	EachAppointment(ctx context.Context, fn func(turnero.Appointment) error) error
	SlotBookings(ctx context.Context) ([]turnero.SlotBooking, error)
	OutboxCount(ctx context.Context, kind string) (int64, error)
	Close() error
}

// onPostgres holds the names of the tests that opened a PostgreSQL store.
var onPostgres sync.Map

// openTestStore opens SQLite at path, or, for a test running under
// TestPostgres, a fresh PostgreSQL schema.
func openTestStore(t testing.TB, path string) (testStore, error) {
	if strings.HasPrefix(t.Name(), "TestPostgres/") {
		onPostgres.Store(t.Name(), true)
		return postgres.Open(context.Background(), pgtest.URL(t))
	}
	return sqlite.Open(context.Background(), path)
}

// TestPostgres runs the API tests of allocation, appointment changes,
// center staff and the feed on PostgreSQL: the same requests, answers and
// checks of what is stored as on SQLite. It is skipped, saying so, only when
// TURNERO_TEST_PG is not set; .ci/run sets it.
func TestPostgres(t *testing.T) {
	pgtest.BaseURL(t)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"AdminNeedsAToken", TestAdminNeedsAToken},
		{"OpenAllocateAndSeeAppointments", TestOpenAllocateAndSeeAppointments},
		{"CancelAndAnotherDate", TestCancelAndAnotherDate},
		{"CenterStaff", TestCenterStaff},
		{"Feed", TestFeed},
		{"FeedGroupOpenedLater", TestFeedGroupOpenedLater},
		{"SecondDoseAgain", TestSecondDoseAgain},
		{"PendingListsSecondDoses", TestPendingListsSecondDoses},
		{"BadInputChangesNothing", TestBadInputChangesNothing},
		{"Status", TestStatus},
		{"Lookup", TestLookup},
		{"RegisterConcurrentSamePerson", TestRegisterConcurrentSamePerson},
		{"UnstorableText", TestUnstorableText},
		{"TextNormalized", TestTextNormalized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t)
			ran := false
			onPostgres.Range(func(k, _ any) bool {
				ran = ran || strings.HasPrefix(k.(string), t.Name())
				return !ran
			})
			if !ran {
				t.Fatal("the test opened no PostgreSQL store")
			}
		})
	}
}
