package turnero

import (
	"testing"
	"time"
)

func TestBookingRowAppointments(t *testing.T) {
	d1 := time.Date(2021, 3, 1, 12, 0, 0, 0, time.FixedZone("UYT", -3*3600))
	d2 := d1.AddDate(0, 0, 28)
	base := BookingRow{Sequence: 7, Center: "c1", Vaccine: "sinovac", Source: "allocator",
		Dose1Start: d1, Dose1State: "given", Dose1Lot: "L1"}
	cases := []struct {
		name string
		row  func(BookingRow) BookingRow
		want []Appointment
	}{
		{"one dose, or dose 2 waiting to be booked again", func(b BookingRow) BookingRow { return b },
			[]Appointment{{7, 1, "c1", d1.UTC(), "sinovac", "given", "L1", "allocator"}}},
		{"both doses at dose 1's center", func(b BookingRow) BookingRow {
			b.Dose2Start, b.Dose2State = d2, "booked"
			return b
		}, []Appointment{{7, 1, "c1", d1.UTC(), "sinovac", "given", "L1", "allocator"},
			{7, 2, "c1", d2.UTC(), "sinovac", "booked", "", "allocator"}}},
		{"dose 2 booked again at another center", func(b BookingRow) BookingRow {
			b.Dose2Start, b.Dose2State, b.Dose2Center = d2, "booked", "c2"
			return b
		}, []Appointment{{7, 1, "c1", d1.UTC(), "sinovac", "given", "L1", "allocator"},
			{7, 2, "c2", d2.UTC(), "sinovac", "booked", "", "allocator"}}},
	}
	for _, c := range cases {
		got := c.row(base).Appointments()
		if len(got) != len(c.want) {
			t.Fatalf("%s: %+v", c.name, got)
		}
		for i := range got {
			if got[i] != c.want[i] || got[i].Start.Location() != time.UTC {
				t.Errorf("%s, dose %d: %+v, want %+v", c.name, i+1, got[i], c.want[i])
			}
		}
	}
}
