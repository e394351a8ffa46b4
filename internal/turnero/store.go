package turnero

import (
	"context"
	"log/slog"
)

// Store is a storage engine: everything turnero keeps, on one database.
// There are two, SQLite (one node, embedded) and PostgreSQL (several
// nodes); both implement all of it, with the booking rules written once
// above them (package booking), and pass one contract (package storetest).
// Only cmd/turnero knows which one it opened.
type Store interface {
	RegistrationStore
	CenterStore
	GroupStore
	AllocationStore
	AppointmentStore
	FeedStore
	TokenStore
	SessionStore
	OutboxQueue
	StatusViewer
	ChangeStamper
	DeploymentStore
	Leadership
	AuditStore
	DashboardStore

	// EachAppointment calls fn with every appointment, by registration and
	// dose: for exports and for checking invariants.
	EachAppointment(ctx context.Context, fn func(Appointment) error) error
	// SlotBookings lists every booked slot.
	SlotBookings(ctx context.Context) ([]SlotBooking, error)
	// OutboxCount counts the notification requests of a kind.
	OutboxCount(ctx context.Context, kind string) (int64, error)
}

// Leadership runs work that must not run on two nodes at once (the
// allocator) on one node at a time.
type Leadership interface {
	// Lead runs fn whenever this node leads the election called name, until
	// ctx ends: fn's context ends when leadership is lost, and fn is run
	// again once it is regained. On an engine of one node (SQLite), the
	// node always leads. It returns ctx's error.
	Lead(ctx context.Context, name string, log *slog.Logger, fn func(ctx context.Context)) error
}
