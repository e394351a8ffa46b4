package turnero

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Center is a vaccination center and its agenda: on which days it opens, at
// what hours, how long a slot is and how many people are seen in each. Slots
// are derived from the agenda in the campaign's time zone; they are never
// stored one by one (only the bookings of each slot are).
type Center struct {
	ID         string
	Name       string
	Department string // department code
	Locality   string
	Address    string
	Latitude   float64
	Longitude  float64
	Vaccines   []string // vaccine ids given here
	// Days are the weekdays the center opens.
	Days []time.Weekday
	// Opens and Closes are minutes after midnight, local time; the last slot
	// starts at Closes minus SlotMinutes at the latest.
	Opens, Closes int
	SlotMinutes   int
	PerSlot       int // people per slot
	Exceptions    []CenterException
}

// CenterException changes the agenda on one civil date: the center is closed,
// or sees more (or fewer) people per slot.
type CenterException struct {
	Date         string // YYYY-MM-DD in the campaign's time zone
	Closed       bool
	ExtraPerSlot int // added to PerSlot that day; may be negative
}

// Limits of a center's agenda.
const (
	MaxPerSlot      = 10_000
	MinSlotMinutes  = 5
	MaxSlotMinutes  = 240
	maxCenterIDLen  = 64
	maxCenterText   = 200
	maxExceptions   = 1000
	minutesInADay   = 24 * 60
	maxSlotsInADay  = minutesInADay / MinSlotMinutes
	dateLayout      = "2006-01-02"
	clockTimeLayout = "15:04"
)

// Gives reports whether the center gives vaccine v.
func (c *Center) Gives(v string) bool {
	for _, x := range c.Vaccines {
		if x == v {
			return true
		}
	}
	return false
}

// SlotsPerDay is the number of slots on a normal open day.
func (c *Center) SlotsPerDay() int {
	if c.SlotMinutes <= 0 || c.Closes <= c.Opens {
		return 0
	}
	return (c.Closes - c.Opens) / c.SlotMinutes
}

// CapacityOn returns the people per slot on the civil date day (any time of
// that day, in the campaign's time zone): 0 when the center is closed.
func (c *Center) CapacityOn(day time.Time) int {
	open := false
	for _, d := range c.Days {
		if d == day.Weekday() {
			open = true
			break
		}
	}
	per := c.PerSlot
	if len(c.Exceptions) > 0 {
		date := day.Format(dateLayout)
		for _, e := range c.Exceptions {
			if e.Date != date {
				continue
			}
			if e.Closed {
				return 0
			}
			// An extra-capacity day opens the center even on a day it is
			// usually closed.
			open = true
			per += e.ExtraPerSlot
		}
	}
	if !open || per < 0 {
		return 0
	}
	return per
}

// SlotStart returns the start of slot i of the civil date day in loc.
func (c *Center) SlotStart(day time.Time, i int, loc *time.Location) time.Time {
	y, m, d := day.Date()
	minute := c.Opens + i*c.SlotMinutes
	return time.Date(y, m, d, minute/60, minute%60, 0, 0, loc)
}

// SlotIndex returns which slot of its day t starts, or false when t is not
// the start of a slot of this center's agenda.
func (c *Center) SlotIndex(t time.Time, loc *time.Location) (int, bool) {
	t = t.In(loc)
	minute := t.Hour()*60 + t.Minute()
	if t.Second() != 0 || t.Nanosecond() != 0 || minute < c.Opens || c.SlotMinutes <= 0 {
		return 0, false
	}
	off := minute - c.Opens
	if off%c.SlotMinutes != 0 || off/c.SlotMinutes >= c.SlotsPerDay() {
		return 0, false
	}
	return off / c.SlotMinutes, true
}

// Slot is one slot of a center's agenda.
type Slot struct {
	Center   string
	Start    time.Time
	Capacity int
}

// SlotsOn lists the slots of the civil date day, in the campaign's time zone.
func (c *Center) SlotsOn(day time.Time, loc *time.Location) []Slot {
	capacity := c.CapacityOn(day)
	if capacity == 0 {
		return nil
	}
	n := c.SlotsPerDay()
	out := make([]Slot, n)
	for i := range out {
		out[i] = Slot{Center: c.ID, Start: c.SlotStart(day, i, loc), Capacity: capacity}
	}
	return out
}

// ParseClockTime reads "HH:MM" as minutes after midnight; "24:00" is the end
// of the day.
func ParseClockTime(s string) (int, bool) {
	if s == "24:00" {
		return minutesInADay, true
	}
	t, err := time.Parse(clockTimeLayout, s)
	if err != nil || len(s) != 5 {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// FormatClockTime writes minutes after midnight as "HH:MM".
func FormatClockTime(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"dom": time.Sunday, "lun": time.Monday, "mar": time.Tuesday, "mie": time.Wednesday, "mié": time.Wednesday,
	"jue": time.Thursday, "vie": time.Friday, "sab": time.Saturday, "sáb": time.Saturday,
}

// ParseWeekday reads a three-letter weekday in English or Spanish ("mon",
// "lun"), ignoring case.
func ParseWeekday(s string) (time.Weekday, bool) {
	d, ok := weekdayNames[strings.ToLower(strings.TrimSpace(s))]
	return d, ok
}

// WeekdayCode writes a weekday as its three-letter English code.
func WeekdayCode(d time.Weekday) string {
	return strings.ToLower(d.String()[:3])
}

// ValidateCenter checks a center against the campaign: a known department,
// vaccines the campaign has, a sensible agenda. The error names the field,
// prefixed with where the center came from (a file setting or a CSV row).
func (c *Campaign) ValidateCenter(ct *Center, where string) error {
	bad := func(field, format string, args ...any) error {
		return &CampaignError{Field: where + "." + field, Problem: fmt.Sprintf(format, args...)}
	}
	if ct.ID == "" || len(ct.ID) > maxCenterIDLen || strings.ContainsAny(ct.ID, " \t\r\n/?#%") {
		return bad("id", "must be 1-%d characters without spaces or / ? # %%, got %q", maxCenterIDLen, ct.ID)
	}
	if strings.TrimSpace(ct.Name) == "" || len(ct.Name) > maxCenterText {
		return bad("name", "is required (at most %d bytes)", maxCenterText)
	}
	d, ok := c.Department(ct.Department)
	if !ok {
		return bad("department", "unknown department %q", ct.Department)
	}
	ct.Department = d.Code
	if len(ct.Locality) > maxCenterText || len(ct.Address) > maxCenterText {
		return bad("address", "locality and address must be at most %d bytes", maxCenterText)
	}
	if math.IsNaN(ct.Latitude) || ct.Latitude < -90 || ct.Latitude > 90 {
		return bad("latitude", "must be between -90 and 90, got %v", ct.Latitude)
	}
	if math.IsNaN(ct.Longitude) || ct.Longitude < -180 || ct.Longitude > 180 {
		return bad("longitude", "must be between -180 and 180, got %v", ct.Longitude)
	}
	if len(ct.Vaccines) == 0 {
		return bad("vaccines", "at least one is required")
	}
	for i, v := range ct.Vaccines {
		if _, ok := c.Vaccine(v); !ok {
			return bad(fmt.Sprintf("vaccines[%d]", i), "unknown vaccine %q", v)
		}
	}
	if len(ct.Days) == 0 {
		return bad("days", "at least one opening day is required")
	}
	if ct.Opens < 0 || ct.Closes > minutesInADay || ct.Closes <= ct.Opens {
		return bad("closes", "must be after opens, within the day (opens %s, closes %s)",
			FormatClockTime(ct.Opens), FormatClockTime(ct.Closes))
	}
	if ct.SlotMinutes < MinSlotMinutes || ct.SlotMinutes > MaxSlotMinutes {
		return bad("slot_minutes", "must be between %d and %d, got %d", MinSlotMinutes, MaxSlotMinutes, ct.SlotMinutes)
	}
	if ct.SlotsPerDay() < 1 {
		return bad("slot_minutes", "no slot fits between opens and closes")
	}
	if ct.PerSlot < 1 || ct.PerSlot > MaxPerSlot {
		return bad("people_per_slot", "must be between 1 and %d, got %d", MaxPerSlot, ct.PerSlot)
	}
	if len(ct.Exceptions) > maxExceptions {
		return bad("exceptions", "at most %d", maxExceptions)
	}
	for i, e := range ct.Exceptions {
		f := fmt.Sprintf("exceptions[%d]", i)
		if _, err := time.Parse(dateLayout, e.Date); err != nil || len(e.Date) != 10 {
			return bad(f+".date", "must be a date YYYY-MM-DD, got %q", e.Date)
		}
		if e.Closed && e.ExtraPerSlot != 0 {
			return bad(f+".extra_per_slot", "a closed day has no capacity")
		}
		if !e.Closed && (e.ExtraPerSlot == 0 || ct.PerSlot+e.ExtraPerSlot < 0 || ct.PerSlot+e.ExtraPerSlot > MaxPerSlot) {
			return bad(f+".extra_per_slot", "must change people_per_slot to between 0 and %d", MaxPerSlot)
		}
	}
	return nil
}

// AllocationPolicy is how the allocator turns the waiting list into
// appointments.
type AllocationPolicy struct {
	// Every is how often serve runs the allocator.
	Every time.Duration
	// Notice is the least time between the allocation and a first dose, so
	// that the person can be told and can arrange to go.
	Notice time.Duration
	// HorizonDays bounds how far ahead a first dose is booked.
	HorizonDays int
	// Dose2WindowDays is how many days after the vaccine's interval a second
	// dose may be booked when the same time is full. A second dose is never
	// earlier than the interval.
	Dose2WindowDays int
}

// DefaultAllocationPolicy is used when a campaign file has no [allocation].
var DefaultAllocationPolicy = AllocationPolicy{
	Every: time.Minute, Notice: 24 * time.Hour, HorizonDays: 28, Dose2WindowDays: 7,
}

// ValidateAllocation checks the allocation policy and the centers.
func (c *Campaign) ValidateAllocation() error {
	p := c.Allocation
	bad := func(field, format string, args ...any) error {
		return &CampaignError{Field: "allocation." + field, Problem: fmt.Sprintf(format, args...)}
	}
	if p.Every < time.Second || p.Every > 24*time.Hour {
		return bad("interval", "must be between 1s and 24h, got %s", p.Every)
	}
	if p.Notice < 0 || p.Notice > 30*24*time.Hour {
		return bad("notice", "must be between 0 and 720h, got %s", p.Notice)
	}
	if p.HorizonDays < 1 || p.HorizonDays > 366 {
		return bad("horizon_days", "must be between 1 and 366, got %d", p.HorizonDays)
	}
	if p.Dose2WindowDays < 0 || p.Dose2WindowDays > 90 {
		return bad("dose2_window_days", "must be between 0 and 90, got %d", p.Dose2WindowDays)
	}
	seen := make(map[string]bool, len(c.Centers))
	for i := range c.Centers {
		where := fmt.Sprintf("centers[%d]", i)
		if err := c.ValidateCenter(&c.Centers[i], where); err != nil {
			return err
		}
		if seen[c.Centers[i].ID] {
			return &CampaignError{Field: where + ".id", Problem: fmt.Sprintf("duplicate center %q", c.Centers[i].ID)}
		}
		seen[c.Centers[i].ID] = true
	}
	return nil
}

// AllowedVaccines returns, in the group's order of preference, the vaccines
// a person of that group and age may receive.
func (c *Campaign) AllowedVaccines(group string, age int) []string {
	g, _ := c.Group(group)
	ids := g.Vaccines
	if len(ids) == 0 {
		ids = make([]string, len(c.Vaccines))
		for i, v := range c.Vaccines {
			ids[i] = v.ID
		}
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		v, ok := c.Vaccine(id)
		if ok && age >= v.MinAge && (v.MaxAge == 0 || age <= v.MaxAge) {
			out = append(out, id)
		}
	}
	return out
}
