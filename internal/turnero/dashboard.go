package turnero

import (
	"context"
	"time"
)

// The campaign dashboard's aggregates: counters kept up to date by a
// background worker that reads what was written since its high-water marks
// (registrations by sequence, appointment events in commit order), so that
// no figure ever scans the registrations and intake writes nothing more.
// They hold no personal data: places, groups, ages, channels, days and
// counts.

// ErrDashboardMoved: another worker (another node that led a moment ago)
// moved the dashboard's marks first; the catch-up starts again from them.
var ErrDashboardMoved = Errorf(CodeConflict, "dashboard_moved")

// DashboardMarks say how far the counters have read.
type DashboardMarks struct {
	// Registrations is the last sequence counted: sequences become visible
	// in increasing order on both engines (one writer, or an advisory lock
	// held to the commit), so everything up to it is counted.
	Registrations int64
	Events        EventCursor
}

// EventCursor is how far appointment events were read, in each engine's
// terms: SQLite's IDs commit in order (ID alone); PostgreSQL's identity
// values do not, so it reads by transaction id up to the oldest one still
// running (Mark and Upper), then by ID within that range.
type EventCursor struct {
	Mark, Upper, ID int64
}

// DashboardEvent is an appointment event with what the counters need of
// its registration.
type DashboardEvent struct {
	AppointmentEvent
	Department string
	Group      string
}

// Counter rows. N is a count; in a DashboardDelta, what to add.
type (
	RegistrationCount struct {
		Department, Group, Channel string
		Age                        int
		N                          int64
	}
	LocalityCount struct {
		Department, Locality string
		N                    int64
	}
	MinuteCount struct {
		Minute int64 // Unix time / 60
		N      int64
	}
	HourCount struct {
		Hour int64 // Unix time / 3600
		N    int64
	}
	// EventTotal counts events of a kind by center and the person's
	// department (a cancellation while waiting has no center).
	EventTotal struct {
		Center, Department, Vaccine, Kind string
		Dose                              int
		N                                 int64
	}
	// EventDay counts events by civil day of the campaign and center.
	EventDay struct {
		Day, Center, Kind string
		Dose              int
		N                 int64
	}
)

// DashboardDelta is what one catch-up adds, with the marks it reached.
type DashboardDelta struct {
	To            DashboardMarks
	Registrations []RegistrationCount
	Localities    []LocalityCount
	Minutes       []MinuteCount
	Hours         []HourCount
	EventTotals   []EventTotal
	EventDays     []EventDay
}

// CapacityDay is a center's day: the people its agenda takes, and those
// booked for dose 1 and for dose 2.
type CapacityDay struct {
	Day          string // YYYY-MM-DD, the campaign's time zone
	Center       string
	Capacity     int64
	Dose1, Dose2 int64
}

// SlotUse is one booked slot with its doses.
type SlotUse struct {
	Center       string
	Start        time.Time
	Dose1, Dose2 int64
}

// NodeUsage is what one node has served since it started: its requests and
// its process's CPU time, for the cost figures.
type NodeUsage struct {
	Node       string
	Requests   int64
	CPUSeconds float64
	UpdatedAt  time.Time
}

// CountsWanted says which counters a figure reads: each figure reads only
// what it shows, already summed by the database.
type CountsWanted struct {
	// Registrations reads the registration counters summed by
	// RegistrationsBy, columns among "department", "grp", "age" and
	// "channel" (none: one row, the total).
	Registrations   bool
	RegistrationsBy []string
	EventTotals     bool
	Capacity        bool
	Usage           bool
}

// DashboardCounts are the counters a figure reads (CountsWanted), with the
// marks and times every figure shows.
type DashboardCounts struct {
	Marks         DashboardMarks
	CaughtUpAt    time.Time
	Registrations []RegistrationCount
	EventTotals   []EventTotal
	Capacity      []CapacityDay
	CapacityAt    time.Time
	Usage         []NodeUsage
	// FirstMinute is the minute of the first registration counted (Unix
	// time / 60); 0 when none is.
	FirstMinute int64
}

// RegistrationDimensions are the columns registration counters may be
// summed by. "adult" is whether the age is AdultAge or over: summed by
// it, a row's Age is AdultAge for adults and 0 for the others.
var RegistrationDimensions = []string{"department", "grp", "age", "channel", "adult"}

// AdultAge is the age from which the dashboard counts adults.
const AdultAge = 18

// DashboardStore keeps the aggregates.
type DashboardStore interface {
	// DashboardMarks reads how far the counters have read.
	DashboardMarks(ctx context.Context) (DashboardMarks, error)
	// RegistrationsAfter reads up to limit registrations after a sequence,
	// in order (sealed: the worker opens what it needs).
	RegistrationsAfter(ctx context.Context, after int64, limit int) ([]Registration, error)
	// EventsAfter reads up to limit appointment events after c, in an
	// order that misses none, and the cursor after them.
	EventsAfter(ctx context.Context, c EventCursor, limit int) ([]DashboardEvent, EventCursor, error)
	// EventsBehind counts the committed events the cursor has not passed
	// yet: on PostgreSQL those of transactions at or after the oldest one
	// running when the cursor last moved (any transaction of the server,
	// another schema's too, holds it back for as long as it runs).
	EventsBehind(ctx context.Context, c EventCursor) (int64, error)
	// ApplyDashboard adds d to the counters and moves the marks to d.To,
	// in one transaction, if the marks are still from; ErrDashboardMoved when
	// another worker moved them first (nothing is added).
	ApplyDashboard(ctx context.Context, from DashboardMarks, d DashboardDelta, at time.Time) error
	// DashboardCounts reads the counters asked for (small tables: no
	// registration).
	DashboardCounts(ctx context.Context, want CountsWanted) (DashboardCounts, error)
	// Localities reads a department's localities.
	Localities(ctx context.Context, department string) ([]LocalityCount, error)
	// Minutes reads the registrations per minute in [from, to).
	Minutes(ctx context.Context, from, to time.Time) ([]MinuteCount, error)
	// Hours reads the registrations per hour in [from, to).
	Hours(ctx context.Context, from, to time.Time) ([]HourCount, error)
	// EventDays reads events per day and center for days in [from, to].
	EventDays(ctx context.Context, from, to string) ([]EventDay, error)
	// SlotsBetween reads the booked slots starting in [from, to).
	SlotsBetween(ctx context.Context, from, to time.Time) ([]SlotUse, error)
	// PutCapacity replaces the capacity snapshot.
	PutCapacity(ctx context.Context, days []CapacityDay, at time.Time) error
	// LastOrdinal reads the last place given in a group's line (0 when
	// none): with its cursor, pending and gaps, how many wait.
	LastOrdinal(ctx context.Context, group string) (int64, error)
	// PutUsage records a node's usage.
	PutUsage(ctx context.Context, u NodeUsage) error
	// StorageBytes is the size of the data on disk.
	StorageBytes(ctx context.Context) (int64, error)
}
