package turnero

import (
	"context"
	"time"
)

// What can happen to a booking after it is made, and to a person's place in
// line. The rules are here, as functions of what is stored; storage applies
// the change they return in the same transaction it read the booking in.

// Kinds of appointment events, kept for each change.
const (
	EventCheckedIn  = AppointmentCheckedIn
	EventGiven      = AppointmentGiven
	EventNoShow     = AppointmentNoShow
	EventCancel     = "cancel"     // the person cancelled and left the list
	EventReschedule = "reschedule" // the person asked for another date
)

// Notification kinds of changes (see also NotifyScheduled, NotifyCancelled).
const (
	NotifyReleased = "appointments_released" // another date will be given
	NotifyMissed   = "appointment_missed"
)

// ReasonRequeued: the person cancelled or missed an appointment and kept
// their place (campaign policy); they are placed again on the next run.
const ReasonRequeued = "requeued"

// PlaceSecondDose is the place in line after dose 2 alone was released (the
// person missed it, or asked for another date, after dose 1 was given): the
// queue of second doses, served before any first dose.
const PlaceSecondDose = "second_dose"

// BookingRecord is a registration with its booking as stored.
type BookingRecord struct {
	Registration Registration
	// Appointments by dose; empty when not booked.
	Appointments []Appointment
	// Pending: in the allocator's not-yet-placed list.
	Pending bool
	// FirstDoseGiven is when dose 1 was recorded as given, read by
	// ChangeBooking when dose 1 is given and dose 2 is not: staff may
	// record a dose on a later day than its appointment's. Zero otherwise.
	FirstDoseGiven time.Time
	// LastEvent is the registration's latest appointment event, read by
	// ChangeBooking when the booking lacks a dose (none is booked, or dose
	// 2 waits to be booked again): it tells a dose that a no-show released
	// from one never booked. Nil otherwise, or when there is none.
	LastEvent *AppointmentEvent
}

// DoseChange sets the state of one booked dose.
type DoseChange struct {
	Dose  int
	State string
	Lot   string
}

// BookingChange is what a decision does to a booking, applied atomically.
type BookingChange struct {
	Doses []DoseChange
	// Release names why the booking is dropped (EventCancel, EventReschedule,
	// EventNoShow): its row is deleted and every one of its slots freed.
	Release string
	// Place puts the person back in line after a release: KeepPlace (at
	// their ordinal, tried first on the next run) or BackOfLine (a new last
	// ordinal in their group; the sequence and tracking code never change).
	// Empty: they leave the list.
	Place string
	// SecondDose releases dose 2 alone (dose 1 was given): its slot is
	// freed and the person joins the queue of second doses (see SecondDose
	// in appointment.go). Its event has the place PlaceSecondDose.
	SecondDose *SecondDoseRelease
	// Status is the registration's new status; empty leaves it.
	Status string
	// Notify writes a notification request of this kind.
	Notify string
}

// SecondDoseRelease is why dose 2 is booked again, and from when.
type SecondDoseRelease struct {
	Kind     string // EventNoShow or EventReschedule
	Earliest time.Time
}

// AppointmentEvent is one recorded change of a booking. No personal data.
type AppointmentEvent struct {
	Registration int64
	Dose         int // 0: the whole booking
	Center       string
	Vaccine      string
	Kind         string
	Place        string // after a release: KeepPlace, BackOfLine, PlaceSecondDose or "" (left the list)
	Lot          string
	At           time.Time
}

// AgendaEntry is one appointment of a center's day with its registration
// (whose personal data stays sealed until the service masks it).
type AgendaEntry struct {
	Appointment  Appointment
	Registration Registration
}

// AppointmentStore changes bookings after they are made and reads a center's
// day. Every change bumps nothing but what it touches, except a release,
// which also changes the allocation version so that an allocator computing
// against the freed slots' old counts is refused and starts again.
type AppointmentStore interface {
	// ChangeBooking reads a registration's booking in a write transaction,
	// asks decide what to do, applies it with its events and notification,
	// and returns the record as it is after the change. An error from
	// decide is returned as is and nothing changes.
	ChangeBooking(ctx context.Context, sequence int64, at time.Time,
		decide func(BookingRecord) (BookingChange, error)) (BookingRecord, error)
	// DayAgenda lists a center's appointments starting in [from, to), by
	// time.
	DayAgenda(ctx context.Context, center string, from, to time.Time) ([]AgendaEntry, error)
	// EventsOf lists a registration's appointment events, oldest first.
	EventsOf(ctx context.Context, sequence int64) ([]AppointmentEvent, error)
	// AppointmentsOf lists a registration's appointments by dose.
	AppointmentsOf(ctx context.Context, sequence int64) ([]Appointment, error)
}

// Errors of changing appointments.
var (
	ErrAlreadyCancelled  = Errorf(CodeConflict, "already_cancelled")
	ErrAlreadyVaccinated = Errorf(CodeConflict, "already_vaccinated")
	ErrNotScheduled      = Errorf(CodeConflict, "not_scheduled")
	ErrDoseGivenNoChange = Errorf(CodeConflict, "dose_given_no_change")
	ErrDoseAlreadyGiven  = Errorf(CodeConflict, "dose_already_given")
	ErrAlreadyNoShow     = Errorf(CodeConflict, "already_no_show")
	ErrCheckedInNoShow   = Errorf(CodeConflict, "checked_in_no_show")
	ErrWrongCenter       = Errorf(CodeConflict, "wrong_center")
	ErrWrongVaccine      = Errorf(CodeConflict, "wrong_vaccine")
	ErrWrongDose         = Errorf(CodeConflict, "wrong_dose")
	ErrDoseTooEarly      = Errorf(CodeConflict, "dose_too_early")
	ErrNotDue            = Errorf(CodeConflict, "appointment_not_due")
	ErrNoAppointmentDay  = Errorf(CodeNotFound, "no_appointment_today")
)

// Vaccinated reports whether every dose of the vaccine booked was given: a
// booking whose dose 2 waits to be booked again is not complete.
func (c *Campaign) Vaccinated(as []Appointment) bool {
	if len(as) == 0 {
		return false
	}
	if v, ok := c.Vaccine(as[0].Vaccine); ok && len(as) < v.Doses {
		return false
	}
	for _, a := range as {
		if a.State != AppointmentGiven {
			return false
		}
	}
	return true
}

func anyGiven(as []Appointment) bool {
	for _, a := range as {
		if a.State == AppointmentGiven {
			return true
		}
	}
	return false
}

// refuseChange is what cancel and another date have in common: nothing to
// do for someone cancelled or vaccinated.
func (c *Campaign) refuseChange(rec BookingRecord) error {
	switch {
	case rec.Registration.Status == StatusCancelled:
		return ErrAlreadyCancelled
	case c.Vaccinated(rec.Appointments):
		return ErrAlreadyVaccinated
	}
	return nil
}

// DecideCancel: the person leaves the list; their slots go back to the pool.
// Once dose 1 is given the course is not cancelled online (the person may
// ask for another date for dose 2).
func (c *Campaign) DecideCancel(rec BookingRecord) (BookingChange, error) {
	if err := c.refuseChange(rec); err != nil {
		return BookingChange{}, err
	}
	if anyGiven(rec.Appointments) {
		return BookingChange{}, ErrDoseGivenNoChange
	}
	ch := BookingChange{Status: StatusCancelled, Notify: NotifyCancelled}
	if len(rec.Appointments) > 0 {
		ch.Release = EventCancel
	}
	return ch, nil
}

// DecideReschedule: the person gives up their appointments for another date;
// their place in line is the campaign's rule after a cancellation. Once dose
// 1 is given, only dose 2 is given up: it is booked again with the same
// vaccine on a later day than the one given up, before any first dose.
func (c *Campaign) DecideReschedule(rec BookingRecord) (BookingChange, error) {
	if err := c.refuseChange(rec); err != nil {
		return BookingChange{}, err
	}
	if len(rec.Appointments) == 0 {
		return BookingChange{}, ErrNotScheduled
	}
	if rec.Appointments[0].State == AppointmentGiven {
		if len(rec.Appointments) < 2 {
			return BookingChange{}, ErrNotScheduled // dose 2 already waits for a new date
		}
		y, m, d := rec.Appointments[1].Start.In(c.Location).Date() // the day given up
		after := time.Date(y, m, d+1, 0, 0, 0, 0, c.Location)
		return c.releaseSecondDose(rec, EventReschedule, after, NotifyReleased), nil
	}
	return BookingChange{Release: EventReschedule, Place: c.PlaceInLine.AfterCancel, Notify: NotifyReleased}, nil
}

// releaseSecondDose frees dose 2 for booking again: not before the
// vaccine's interval after dose 1 (the later of its appointment and when it
// was recorded), nor before notBefore.
func (c *Campaign) releaseSecondDose(rec BookingRecord, kind string, notBefore time.Time, notify string) BookingChange {
	d1 := rec.Appointments[0]
	from := d1.Start
	if rec.FirstDoseGiven.After(from) {
		from = rec.FirstDoseGiven
	}
	v, _ := c.Vaccine(d1.Vaccine)
	y, m, d := from.In(c.Location).Date()
	earliest := time.Date(y, m, d+v.IntervalDays, 0, 0, 0, 0, c.Location)
	if notBefore.After(earliest) {
		earliest = notBefore
	}
	return BookingChange{SecondDose: &SecondDoseRelease{Kind: kind, Earliest: earliest}, Notify: notify}
}

// civilDays is the number of civil days from a to b in loc.
func civilDays(a, b time.Time, loc *time.Location) int {
	ya, ma, da := a.In(loc).Date()
	yb, mb, db := b.In(loc).Date()
	return int(time.Date(yb, mb, db, 0, 0, 0, 0, time.UTC).Sub(time.Date(ya, ma, da, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
}

// staffAppointment finds the dose staff of center act on.
func staffAppointment(rec BookingRecord, center string, dose int) (Appointment, error) {
	if len(rec.Appointments) == 0 {
		if rec.Registration.Status == StatusCancelled {
			return Appointment{}, ErrAlreadyCancelled
		}
		return Appointment{}, ErrNotScheduled
	}
	if dose < 1 || dose > len(rec.Appointments) {
		if rec.Appointments[0].Center != center {
			return Appointment{}, ErrWrongCenter
		}
		return Appointment{}, ErrWrongDose
	}
	// A second dose booked again may be at another center than the first.
	if rec.Appointments[dose-1].Center != center {
		return Appointment{}, ErrWrongCenter
	}
	return rec.Appointments[dose-1], nil
}

// DecideNoShow: the person did not come for a dose due today or before. A
// missed first dose frees both slots and puts the person back in line by the
// campaign's rule after a no-show; a missed second dose frees its slot and
// is booked again (same vaccine, after the interval, before first doses):
// the person still needs it, and is told. A dose checked in is refused: the
// person came, and releasing it would book them again into the slot they
// are in. A no-show recorded again (a double click, two members of staff)
// is refused as such.
func (c *Campaign) DecideNoShow(rec BookingRecord, center string, dose int, now time.Time) (BookingChange, error) {
	if releasedByNoShow(rec, dose) {
		return BookingChange{}, ErrAlreadyNoShow
	}
	a, err := staffAppointment(rec, center, dose)
	if err != nil {
		return BookingChange{}, err
	}
	switch a.State {
	case AppointmentGiven:
		return BookingChange{}, ErrDoseAlreadyGiven
	case AppointmentCheckedIn:
		return BookingChange{}, ErrCheckedInNoShow
	case AppointmentNoShow:
		return BookingChange{}, ErrAlreadyNoShow
	}
	if civilDays(now, a.Start, c.Location) > 0 {
		return BookingChange{}, ErrNotDue
	}
	if dose > 1 && rec.Appointments[dose-2].State != AppointmentGiven {
		return BookingChange{}, ErrWrongDose
	}
	if dose == 1 {
		return BookingChange{Release: EventNoShow, Place: c.PlaceInLine.AfterNoShow, Notify: NotifyMissed}, nil
	}
	return c.releaseSecondDose(rec, EventNoShow, time.Time{}, NotifyMissed), nil
}

// releasedByNoShow reports whether dose is missing from the booking because
// a no-show released it and nothing happened to the booking since: the
// latest event is that no-show, of the whole booking for dose 1, of dose 2
// alone for dose 2. A no-show releases the dose it records (see apply in
// package booking), so its appointment is gone when it is recorded again.
func releasedByNoShow(rec BookingRecord, dose int) bool {
	e := rec.LastEvent
	if e == nil || e.Kind != EventNoShow {
		return false
	}
	switch dose {
	case 1:
		return len(rec.Appointments) == 0 && e.Dose == 0
	case 2:
		return len(rec.Appointments) == 1 && rec.Appointments[0].State == AppointmentGiven && e.Dose == 2
	}
	return false
}

// MaxLotLength bounds a vaccine lot as typed by staff.
const MaxLotLength = 64

// DecideDose: staff of center record dose given with vaccine and lot. A dose
// is refused, and nothing changes, when it is not this person's next dose,
// not the vaccine booked (dose 2 is always dose 1's vaccine), at another
// center, already given, before its day, or before the vaccine's interval.
func (c *Campaign) DecideDose(rec BookingRecord, center string, dose int, vaccine, lot string, now time.Time) (BookingChange, error) {
	a, err := staffAppointment(rec, center, dose)
	if err != nil {
		return BookingChange{}, err
	}
	if a.State == AppointmentGiven {
		return BookingChange{}, ErrDoseAlreadyGiven
	}
	if dose > 1 && rec.Appointments[dose-2].State != AppointmentGiven {
		return BookingChange{}, ErrWrongDose
	}
	if a.Vaccine != vaccine {
		return BookingChange{}, ErrWrongVaccine
	}
	if civilDays(now, a.Start, c.Location) > 0 {
		return BookingChange{}, ErrNotDue
	}
	if dose > 1 {
		v, _ := c.Vaccine(vaccine)
		if civilDays(rec.Appointments[dose-2].Start, now, c.Location) < v.IntervalDays {
			return BookingChange{}, ErrDoseTooEarly
		}
	}
	return BookingChange{Doses: []DoseChange{{Dose: dose, State: AppointmentGiven, Lot: lot}}}, nil
}

// DecideCheckIn: the person is at center today; the dose due today there is
// checked in. It returns which dose.
func (c *Campaign) DecideCheckIn(rec BookingRecord, center string, now time.Time) (BookingChange, int, error) {
	if len(rec.Appointments) == 0 {
		return BookingChange{}, 0, ErrNoAppointmentDay
	}
	for _, a := range rec.Appointments {
		if civilDays(now, a.Start, c.Location) != 0 {
			continue
		}
		if a.Center != center {
			return BookingChange{}, 0, ErrWrongCenter
		}
		switch a.State {
		case AppointmentGiven:
			return BookingChange{}, 0, ErrDoseAlreadyGiven
		case AppointmentCheckedIn:
			return BookingChange{}, a.Dose, nil
		}
		if a.Dose > 1 && rec.Appointments[a.Dose-2].State != AppointmentGiven {
			return BookingChange{}, 0, ErrWrongDose
		}
		return BookingChange{Doses: []DoseChange{{Dose: a.Dose, State: AppointmentCheckedIn}}}, a.Dose, nil
	}
	return BookingChange{}, 0, ErrNoAppointmentDay
}
