package allocate

import (
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// plan is the agenda of every center over the days an allocation run can
// book, with the bookings already made, held in memory for the length of a
// run: placing a person touches a few integers, not the database.
//
// A slot is addressed by its center and a "flat" index, day*perDay+slot,
// where day 0 is the civil date of the earliest time a first dose may be
// booked (now plus the notice period).
type plan struct {
	campaign *turnero.Campaign
	loc      *time.Location
	dates    []time.Time // civil date of each day, midnight in loc
	earliest time.Time
	centers  []*centerPlan
	byID     map[string]*centerPlan
	byDept   map[string][]*centerPlan
	vaccines []turnero.Vaccine // index = bit in masks
	vacBit   map[string]int

	allowed   map[allowedKey]*allowance
	exhausted map[exhaustKey]string // reason, for the rest of the run

	// touched is the booking added to each slot since the last commit.
	touched map[slotRef]int32
}

type centerPlan struct {
	c       *turnero.Center
	perDay  int
	vacMask uint64
	caps    []int32 // people per slot, per day
	booked  []int32 // per flat slot
	next1   int     // no free first-dose slot before this flat index
	end1    int     // first-dose slots end here (the horizon)
}

type slotRef struct {
	c    *centerPlan
	flat int
}

type allowedKey struct {
	group string
	age   int
}

// allowance is what a person of one group and age may receive: vaccine
// indexes in the group's order of preference.
type allowance struct {
	id    int
	mask  uint64
	order []int
}

type exhaustKey struct {
	dept      string
	allowance int
}

func newPlan(c *turnero.Campaign, centers []turnero.Center, bookings []turnero.SlotBooking, now time.Time) *plan {
	p := &plan{
		campaign: c, loc: c.Location,
		byID:      make(map[string]*centerPlan, len(centers)),
		byDept:    make(map[string][]*centerPlan),
		vacBit:    make(map[string]int, len(c.Vaccines)),
		allowed:   make(map[allowedKey]*allowance),
		exhausted: make(map[exhaustKey]string),
		touched:   make(map[slotRef]int32),
	}
	maxInterval := 0
	for i, v := range c.Vaccines {
		if i < 64 {
			p.vaccines = append(p.vaccines, v)
			p.vacBit[v.ID] = i
		}
		if v.Doses > 1 && v.IntervalDays > maxInterval {
			maxInterval = v.IntervalDays
		}
	}
	pol := c.Allocation
	p.earliest = now.Add(pol.Notice).In(p.loc)
	y, m, d := p.earliest.Date()
	day0 := time.Date(y, m, d, 0, 0, 0, 0, p.loc)
	days := pol.HorizonDays + maxInterval + pol.Dose2WindowDays + 1
	p.dates = make([]time.Time, days)
	for i := range p.dates {
		p.dates[i] = day0.AddDate(0, 0, i)
	}
	for i := range centers {
		ct := &centers[i]
		cp := &centerPlan{c: ct, perDay: ct.SlotsPerDay()}
		if cp.perDay == 0 {
			continue
		}
		for _, v := range ct.Vaccines {
			if b, ok := p.vacBit[v]; ok {
				cp.vacMask |= 1 << b
			}
		}
		cp.caps = make([]int32, days)
		for d, date := range p.dates {
			cp.caps[d] = int32(ct.CapacityOn(date))
		}
		cp.booked = make([]int32, days*cp.perDay)
		cp.end1 = pol.HorizonDays * cp.perDay
		// Slots of day 0 that start before the notice period ends.
		for cp.next1 < cp.perDay && ct.SlotStart(p.dates[0], cp.next1, p.loc).Before(p.earliest) {
			cp.next1++
		}
		p.centers = append(p.centers, cp)
		p.byID[ct.ID] = cp
		p.byDept[ct.Department] = append(p.byDept[ct.Department], cp)
	}
	for _, b := range bookings {
		cp, ok := p.byID[b.Center]
		if !ok {
			continue
		}
		if flat, ok := p.flatOf(cp, b.Start); ok {
			cp.booked[flat] += int32(b.Booked)
		}
	}
	return p
}

// advance moves a plan kept from an earlier run to now: the earliest first
// dose moves later within day 0. False when the civil date of the earliest
// first dose changed: the horizon moved and the plan must be built again.
func (p *plan) advance(now time.Time) bool {
	earliest := now.Add(p.campaign.Allocation.Notice).In(p.loc)
	if d, ok := p.dayOf(earliest); !ok || d != 0 || earliest.Before(p.earliest) {
		return false
	}
	p.earliest = earliest
	for _, cp := range p.centers {
		for cp.next1 < cp.perDay && cp.c.SlotStart(p.dates[0], cp.next1, p.loc).Before(earliest) {
			cp.next1++
		}
	}
	clear(p.exhausted)
	clear(p.touched)
	return true
}

// dayOf returns the day index of t's civil date.
func (p *plan) dayOf(t time.Time) (int, bool) {
	t = t.In(p.loc)
	y, m, d := t.Date()
	y0, m0, d0 := p.dates[0].Date()
	days := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(time.Date(y0, m0, d0, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
	return days, days >= 0 && days < len(p.dates)
}

func (p *plan) flatOf(cp *centerPlan, t time.Time) (int, bool) {
	d, ok := p.dayOf(t)
	if !ok {
		return 0, false
	}
	i, ok := cp.c.SlotIndex(t, p.loc)
	if !ok {
		return 0, false
	}
	return d*cp.perDay + i, true
}

func (cp *centerPlan) free(flat int) int32 {
	return cp.caps[flat/cp.perDay] - cp.booked[flat]
}

// minuteOf orders slots of different centers in time: civil minutes since
// day 0.
func (cp *centerPlan) minuteOf(flat int) int {
	return (flat/cp.perDay)*24*60 + cp.c.Opens + (flat%cp.perDay)*cp.c.SlotMinutes
}

func (p *plan) start(cp *centerPlan, flat int) time.Time {
	return cp.c.SlotStart(p.dates[flat/cp.perDay], flat%cp.perDay, p.loc)
}

func (p *plan) allowance(group string, age int) *allowance {
	k := allowedKey{group, age}
	if a, ok := p.allowed[k]; ok {
		return a
	}
	a := &allowance{id: len(p.allowed)}
	for _, id := range p.campaign.AllowedVaccines(group, age) {
		if b, ok := p.vacBit[id]; ok {
			a.mask |= 1 << b
			a.order = append(a.order, b)
		}
	}
	p.allowed[k] = a
	return a
}

// placement is where a person's doses go.
type placement struct {
	center  *centerPlan
	vaccine int
	flats   [2]int
	doses   int
}

// place finds the earliest first-dose slot in the person's department, with
// a vaccine they are allowed, for which the second dose also fits; and books
// both in memory. It returns a reason when it cannot.
func (p *plan) place(cand *turnero.Candidate) (placement, string) {
	a := p.allowance(cand.Group, cand.Age)
	ek := exhaustKey{cand.Department, a.id}
	if r, ok := p.exhausted[ek]; ok {
		return placement{}, r
	}
	var best placement
	bestMinute := -1
	reason := turnero.ReasonNoCenter
	for _, cp := range p.byDept[cand.Department] {
		common := cp.vacMask & a.mask
		if common == 0 {
			continue
		}
		if reason == turnero.ReasonNoCenter {
			reason = turnero.ReasonNoCapacity
		}
		vi := -1
		for _, b := range a.order {
			if common&(1<<b) != 0 {
				vi = b
				break
			}
		}
		v := &p.vaccines[vi]
		for cp.next1 < cp.end1 && cp.free(cp.next1) <= 0 {
			cp.next1++
		}
		for f := cp.next1; f < cp.end1; f++ {
			if bestMinute >= 0 && cp.minuteOf(f) >= bestMinute {
				break
			}
			if cp.free(f) <= 0 {
				continue
			}
			if v.Doses < 2 {
				best, bestMinute = placement{center: cp, vaccine: vi, flats: [2]int{f}, doses: 1}, cp.minuteOf(f)
				break
			}
			if f2 := p.secondDose(cp, f, v.IntervalDays); f2 >= 0 {
				best, bestMinute = placement{center: cp, vaccine: vi, flats: [2]int{f, f2}, doses: 2}, cp.minuteOf(f)
				break
			}
			reason = turnero.ReasonNoSecondDose
		}
	}
	if bestMinute < 0 {
		p.exhausted[ek] = reason
		return placement{}, reason
	}
	for i := 0; i < best.doses; i++ {
		best.center.booked[best.flats[i]]++
		p.touched[slotRef{best.center, best.flats[i]}]++
	}
	return best, ""
}

// secondDose returns the slot for a second dose: the same time interval days
// later, else the nearest later free slot within the window; or -1.
func (p *plan) secondDose(cp *centerPlan, f, interval int) int {
	day := f/cp.perDay + interval
	from := day*cp.perDay + f%cp.perDay
	to := min((day+p.campaign.Allocation.Dose2WindowDays+1)*cp.perDay, len(cp.booked))
	for f2 := from; f2 < to; f2++ {
		if cp.free(f2) > 0 {
			return f2
		}
	}
	return -1
}

// placeSecondDose books a second dose again: the booking's vaccine, from the
// later of sd.Earliest and the earliest time a dose may be booked, within
// the booking horizon from that day; at dose 1's center if it has room,
// else at the earliest slot of another center of the department that gives
// the vaccine. It returns a reason when it cannot.
func (p *plan) placeSecondDose(sd *turnero.SecondDose) (*centerPlan, int, string) {
	bit, ok := p.vacBit[sd.Vaccine]
	if !ok {
		return nil, 0, turnero.ReasonNoCenter
	}
	from := p.earliest
	if sd.Earliest.After(from) {
		from = sd.Earliest
	}
	day, ok := p.dayOf(from)
	if !ok {
		return nil, 0, turnero.ReasonNoCapacity
	}
	last := min(day+p.campaign.Allocation.HorizonDays, len(p.dates))
	reason := turnero.ReasonNoCenter
	first := func(cp *centerPlan) int {
		f := day * cp.perDay
		for f < (day+1)*cp.perDay && p.start(cp, f).Before(from) {
			f++
		}
		for ; f < last*cp.perDay; f++ {
			if cp.free(f) > 0 {
				return f
			}
		}
		return -1
	}
	var best *centerPlan
	bestFlat, bestMinute := -1, -1
	if cp := p.byID[sd.Center]; cp != nil && cp.c.Department == sd.Department && cp.vacMask&(1<<bit) != 0 {
		reason = turnero.ReasonNoCapacity
		if f := first(cp); f >= 0 {
			best, bestFlat = cp, f
		}
	}
	if best == nil {
		for _, cp := range p.byDept[sd.Department] {
			if cp.c.ID == sd.Center || cp.vacMask&(1<<bit) == 0 {
				continue
			}
			reason = turnero.ReasonNoCapacity
			if f := first(cp); f >= 0 && (bestMinute < 0 || cp.minuteOf(f) < bestMinute) {
				best, bestFlat, bestMinute = cp, f, cp.minuteOf(f)
			}
		}
	}
	if best == nil {
		return nil, 0, reason
	}
	best.booked[bestFlat]++
	p.touched[slotRef{best, bestFlat}]++
	return best, bestFlat, ""
}

// takeTouched returns the bookings added since the last call, as slot rows.
func (p *plan) takeTouched() []turnero.SlotBooking {
	out := make([]turnero.SlotBooking, 0, len(p.touched))
	for r, n := range p.touched {
		out = append(out, turnero.SlotBooking{
			Center: r.c.c.ID, Start: p.start(r.c, r.flat), Capacity: int(r.c.caps[r.flat/r.c.perDay]), Booked: int(n),
		})
	}
	clear(p.touched)
	return out
}

// dailyCapacity is the first doses a department can give on an ordinary day
// of the horizon: half its slots' capacity, the other half going to second
// doses.
func (p *plan) dailyCapacity(dept string) int {
	total := 0
	h := p.campaign.Allocation.HorizonDays
	for _, cp := range p.byDept[dept] {
		for d := 0; d < h && d < len(cp.caps); d++ {
			total += int(cp.caps[d]) * cp.perDay
		}
	}
	return total / h / 2
}
