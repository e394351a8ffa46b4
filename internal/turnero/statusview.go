package turnero

import "context"

// StatusView is everything a status answer shows about one registration:
// the registration, its appointments and the center they are at, its
// group's state and the last change to its booking. Engines that can read
// it from one snapshot in one statement implement StatusViewer; a status
// lookup is then one query, which is what lets lookups keep pace with a
// country checking its place in line.
type StatusView struct {
	Registration Registration
	Appointments []Appointment
	// Center is where dose 1 is; zero when there are no appointments. A
	// second dose booked again may be at another center (its Center names
	// it).
	Center Center
	// Group is the registration's group state; zero before the group was
	// ever opened.
	Group GroupState
	// LastChange is the latest change to the booking as a whole (dose 0):
	// a cancellation, another date, a missed appointment; or to dose 2
	// alone, released to be booked again (its Place is PlaceSecondDose).
	// Nil when none.
	LastChange *AppointmentEvent
	// Position is the place among those still waiting in the group; zero
	// when the registration has appointments.
	Position int64
}

// StatusViewer reads a StatusView by sequence; ErrNotFound when there is no
// such registration.
type StatusViewer interface {
	StatusView(ctx context.Context, sequence int64) (StatusView, error)
}

// PositionInGroup computes a waiting registration's place in its group's
// line, itself included, from the group's state. Past the cursor it is its
// distance from "now serving", less the places between that nobody waits
// at any more (gapsAhead: people who cancelled, or were booked through the
// feed), plus those still pending, who are all ahead; at or before the
// cursor, pendingAhead (the pending registrations at or before its
// ordinal) is the answer.
func PositionInGroup(ordinal int64, g GroupState, gapsAhead, pendingAhead func() (int64, error)) (int64, error) {
	if ordinal > g.Cursor {
		gaps, err := gapsAhead()
		if err != nil {
			return 0, err
		}
		return ordinal - g.Cursor - gaps + g.Pending, nil
	}
	return pendingAhead()
}

// Known returns n, for PositionInGroup when the count is already read.
func Known(n int64) func() (int64, error) { return func() (int64, error) { return n, nil } }

// ChangeStamper is implemented by stores whose status answers can be cached:
// ChangeStamp returns a value that changes whenever anything a status answer
// shows changes, except new registrations (which only join the end of their
// group's line), together with every group's state.
type ChangeStamper interface {
	ChangeStamp(ctx context.Context) (stamp string, groups []GroupState, err error)
}

// StatusChanges is told that what status answers show may have changed:
// a booking made, changed or released, a group opened or closed. Answers
// kept in memory (package status) are dropped, so that whoever made the
// change reads it back at once.
type StatusChanges interface {
	Changed()
}
