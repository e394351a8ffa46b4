package turnero_test

import (
	"errors"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/turnero"
)

// TestDecideNoShow: what a no-show does to each state of a booking, as
// ChangeBooking reads it (the booking, and the latest event when a dose is
// missing from it).
func TestDecideNoShow(t *testing.T) {
	c := campaign.Sample()
	d1 := time.Date(2021, 3, 2, 8, 0, 0, 0, c.Location)
	d2 := d1.AddDate(0, 0, 28)
	appt := func(dose int, start time.Time, state string) turnero.Appointment {
		return turnero.Appointment{Registration: 1, Dose: dose, Center: "MO-01", Start: start, Vaccine: "pfizer", State: state}
	}
	event := func(kind string, dose int) *turnero.AppointmentEvent {
		return &turnero.AppointmentEvent{Registration: 1, Dose: dose, Center: "MO-01", Vaccine: "pfizer", Kind: kind}
	}
	record := func(status string, last *turnero.AppointmentEvent, as ...turnero.Appointment) turnero.BookingRecord {
		return turnero.BookingRecord{Registration: turnero.Registration{Sequence: 1, Status: status}, Appointments: as, LastEvent: last}
	}
	waiting, booked, checkedIn, given := turnero.StatusWaiting, turnero.AppointmentBooked, turnero.AppointmentCheckedIn, turnero.AppointmentGiven
	for _, tc := range []struct {
		name string
		rec  turnero.BookingRecord
		dose int
		now  time.Time
		// want is the error; with none, the dose is released.
		want error
	}{
		{"dose 1 missed", record(waiting, nil, appt(1, d1, booked), appt(2, d2, booked)), 1, d1.Add(time.Hour), nil},
		{"dose 1 before its day", record(waiting, nil, appt(1, d1, booked), appt(2, d2, booked)), 1, d1.Add(-24 * time.Hour), turnero.ErrNotDue},
		{"dose 1 checked in", record(waiting, nil, appt(1, d1, checkedIn), appt(2, d2, booked)), 1, d1.Add(time.Hour), turnero.ErrCheckedInNoShow},
		{"dose 1 given", record(waiting, nil, appt(1, d1, given), appt(2, d2, booked)), 1, d1.Add(time.Hour), turnero.ErrDoseAlreadyGiven},
		{"dose 1 released by a no-show", record(waiting, event(turnero.EventNoShow, 0)), 1, d1.Add(time.Hour), turnero.ErrAlreadyNoShow},
		{"dose 1 released for another date", record(waiting, event(turnero.EventReschedule, 0)), 1, d1.Add(time.Hour), turnero.ErrNotScheduled},
		{"never booked", record(waiting, nil), 1, d1, turnero.ErrNotScheduled},
		{"cancelled after a no-show", record(turnero.StatusCancelled, event(turnero.EventCancel, 0)), 1, d1, turnero.ErrAlreadyCancelled},
		{"booked again after a no-show of dose 1", record(waiting, event(turnero.EventNoShow, 0), appt(1, d2, booked), appt(2, d2.AddDate(0, 0, 28), booked)),
			1, d2.Add(time.Hour), nil},
		{"dose 2 missed", record(waiting, nil, appt(1, d1, given), appt(2, d2, booked)), 2, d2.Add(time.Hour), nil},
		{"dose 2 checked in", record(waiting, nil, appt(1, d1, given), appt(2, d2, checkedIn)), 2, d2.Add(time.Hour), turnero.ErrCheckedInNoShow},
		{"dose 2 released by a no-show", record(waiting, event(turnero.EventNoShow, 2), appt(1, d1, given)), 2, d2.Add(time.Hour), turnero.ErrAlreadyNoShow},
		{"dose 2 released for another date", record(waiting, event(turnero.EventReschedule, 2), appt(1, d1, given)), 2, d2.Add(time.Hour), turnero.ErrWrongDose},
		{"dose 2 booked again after a no-show", record(waiting, event(turnero.EventNoShow, 2), appt(1, d1, given), appt(2, d2.AddDate(0, 0, 3), booked)),
			2, d2.AddDate(0, 0, 3).Add(time.Hour), nil},
		{"dose 1 recorded missed after dose 2 was", record(waiting, event(turnero.EventNoShow, 2), appt(1, d1, given)), 1, d2.Add(time.Hour),
			turnero.ErrDoseAlreadyGiven},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := c.DecideNoShow(tc.rec, "MO-01", tc.dose, tc.now)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("DecideNoShow: %v, want %v", err, tc.want)
				}
				return
			}
			released := ch.Release == turnero.EventNoShow && ch.Place == c.PlaceInLine.AfterNoShow
			if tc.dose == 2 {
				released = ch.SecondDose != nil && ch.SecondDose.Kind == turnero.EventNoShow
			}
			if err != nil || !released || ch.Notify != turnero.NotifyMissed {
				t.Fatalf("DecideNoShow: %+v, %v; want dose %d released", ch, err, tc.dose)
			}
		})
	}
}
