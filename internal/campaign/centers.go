package campaign

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// allocationFile is the [allocation] section.
type allocationFile struct {
	Interval        string `toml:"interval"`
	Notice          string `toml:"notice"`
	HorizonDays     int    `toml:"horizon_days"`
	Dose2WindowDays *int   `toml:"dose2_window_days"`
}

// centerFile is one [[centers]] entry.
type centerFile struct {
	ID            string   `toml:"id"`
	Name          string   `toml:"name"`
	Department    string   `toml:"department"`
	Locality      string   `toml:"locality"`
	Address       string   `toml:"address"`
	Latitude      float64  `toml:"latitude"`
	Longitude     float64  `toml:"longitude"`
	Vaccines      []string `toml:"vaccines"`
	Days          []string `toml:"days"`
	Opens         string   `toml:"opens"`
	Closes        string   `toml:"closes"`
	SlotMinutes   int      `toml:"slot_minutes"`
	PeoplePerSlot int      `toml:"people_per_slot"`
	Exceptions    []struct {
		Date         string `toml:"date"`
		Closed       bool   `toml:"closed"`
		ExtraPerSlot int    `toml:"extra_per_slot"`
	} `toml:"exceptions"`
}

func (f *file) convertAllocation(c *turnero.Campaign) error {
	c.Allocation = turnero.DefaultAllocationPolicy
	if a := f.Allocation; a != nil {
		if a.Interval != "" {
			d, err := time.ParseDuration(a.Interval)
			if err != nil {
				return &turnero.CampaignError{Field: "allocation.interval", Problem: fmt.Sprintf("must be a duration such as \"1m\", got %q", a.Interval)}
			}
			c.Allocation.Every = d
		}
		if a.Notice != "" {
			d, err := time.ParseDuration(a.Notice)
			if err != nil {
				return &turnero.CampaignError{Field: "allocation.notice", Problem: fmt.Sprintf("must be a duration such as \"24h\", got %q", a.Notice)}
			}
			c.Allocation.Notice = d
		}
		if a.HorizonDays != 0 {
			c.Allocation.HorizonDays = a.HorizonDays
		}
		if a.Dose2WindowDays != nil {
			c.Allocation.Dose2WindowDays = *a.Dose2WindowDays
		}
	}
	for i, cf := range f.Centers {
		ct, err := cf.center(fmt.Sprintf("centers[%d]", i))
		if err != nil {
			return err
		}
		c.Centers = append(c.Centers, ct)
	}
	return nil
}

func (cf *centerFile) center(where string) (turnero.Center, error) {
	ct := turnero.Center{
		ID: strings.TrimSpace(cf.ID), Name: strings.TrimSpace(cf.Name), Department: strings.TrimSpace(cf.Department),
		Locality: strings.TrimSpace(cf.Locality), Address: strings.TrimSpace(cf.Address),
		Latitude: cf.Latitude, Longitude: cf.Longitude, Vaccines: cf.Vaccines,
		SlotMinutes: cf.SlotMinutes, PerSlot: cf.PeoplePerSlot,
	}
	var err error
	if ct.Days, err = parseDays(cf.Days); err != nil {
		return ct, &turnero.CampaignError{Field: where + ".days", Problem: err.Error()}
	}
	var ok bool
	if ct.Opens, ok = turnero.ParseClockTime(cf.Opens); !ok {
		return ct, &turnero.CampaignError{Field: where + ".opens", Problem: fmt.Sprintf("must be a time HH:MM, got %q", cf.Opens)}
	}
	if ct.Closes, ok = turnero.ParseClockTime(cf.Closes); !ok {
		return ct, &turnero.CampaignError{Field: where + ".closes", Problem: fmt.Sprintf("must be a time HH:MM, got %q", cf.Closes)}
	}
	for _, e := range cf.Exceptions {
		ct.Exceptions = append(ct.Exceptions, turnero.CenterException{Date: e.Date, Closed: e.Closed, ExtraPerSlot: e.ExtraPerSlot})
	}
	return ct, nil
}

func parseDays(days []string) ([]time.Weekday, error) {
	var out []time.Weekday
	seen := map[time.Weekday]bool{}
	for _, s := range days {
		d, ok := turnero.ParseWeekday(s)
		if !ok {
			return nil, fmt.Errorf("unknown weekday %q (use mon, tue, wed, thu, fri, sat, sun)", s)
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out, nil
}

// CentersCSVColumns are the columns of a centers CSV file, in any order; the
// first row must name them. Lists inside a cell are separated by ';'.
//
//	id, name, department          required text; department by code or name
//	locality, address             optional text
//	latitude, longitude           decimal degrees
//	vaccines                      vaccine ids: pfizer;sinovac
//	days                          opening weekdays: mon;tue;wed;thu;fri
//	opens, closes                 HH:MM, local time
//	slot_minutes, people_per_slot integers
//	exceptions                    optional: 2021-04-01:closed;2021-04-02:+20
var CentersCSVColumns = []string{
	"id", "name", "department", "locality", "address", "latitude", "longitude",
	"vaccines", "days", "opens", "closes", "slot_minutes", "people_per_slot", "exceptions",
}

// RowError says which row of a CSV file is wrong. Row 1 is the header.
type RowError struct {
	Row int
	Err error
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %v", e.Row, e.Err) }
func (e *RowError) Unwrap() error { return e.Err }

// maxCSVRows bounds an import: a country has thousands of centers, not
// millions.
const maxCSVRows = 100_000

// ParseCentersCSV reads centers from CSV and checks every row against the
// campaign. It reports every bad row (up to 20) so that a file is fixed in
// one pass; it returns centers only when all rows are good.
func ParseCentersCSV(r io.Reader, c *turnero.Campaign) ([]turnero.Center, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &RowError{Row: 1, Err: errors.New("the file is empty: the first row must name the columns")}
	}
	if err != nil {
		return nil, &RowError{Row: 1, Err: err}
	}
	col := map[string]int{}
	known := map[string]bool{}
	for _, k := range CentersCSVColumns {
		known[k] = true
	}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !known[h] {
			return nil, &RowError{Row: 1, Err: fmt.Errorf("unknown column %q (columns: %s)", h, strings.Join(CentersCSVColumns, ", "))}
		}
		if _, dup := col[h]; dup {
			return nil, &RowError{Row: 1, Err: fmt.Errorf("column %q appears twice", h)}
		}
		col[h] = i
	}
	for _, k := range []string{"id", "name", "department", "vaccines", "days", "opens", "closes", "slot_minutes", "people_per_slot"} {
		if _, ok := col[k]; !ok {
			return nil, &RowError{Row: 1, Err: fmt.Errorf("missing column %q", k)}
		}
	}
	var out []turnero.Center
	var errs []error
	seen := map[string]int{}
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if row > maxCSVRows {
			return nil, &RowError{Row: row, Err: fmt.Errorf("more than %d rows", maxCSVRows)}
		}
		if err != nil {
			errs = append(errs, &RowError{Row: row, Err: err})
			break
		}
		if len(rec) != len(header) {
			errs = append(errs, &RowError{Row: row, Err: fmt.Errorf("%d cells, the header has %d", len(rec), len(header))})
			continue
		}
		get := func(k string) string {
			if i, ok := col[k]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		ct, err := centerFromRow(get)
		if err == nil {
			err = c.ValidateCenter(&ct, "center")
		}
		if err == nil {
			if first, dup := seen[ct.ID]; dup {
				err = fmt.Errorf("center %q is also on row %d", ct.ID, first)
			}
		}
		if err != nil {
			errs = append(errs, &RowError{Row: row, Err: err})
			if len(errs) == 20 {
				break
			}
			continue
		}
		seen[ct.ID] = row
		out = append(out, ct)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(out) == 0 {
		return nil, &RowError{Row: 2, Err: errors.New("no centers in the file")}
	}
	return out, nil
}

func centerFromRow(get func(string) string) (turnero.Center, error) {
	ct := turnero.Center{
		ID: get("id"), Name: get("name"), Department: get("department"), Locality: get("locality"), Address: get("address"),
	}
	num := func(k string) (float64, error) {
		s := get(k)
		if s == "" {
			return 0, nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: must be a decimal number, got %q", k, s)
		}
		return v, nil
	}
	integer := func(k string) (int, error) {
		v, err := strconv.Atoi(get(k))
		if err != nil {
			return 0, fmt.Errorf("%s: must be a whole number, got %q", k, get(k))
		}
		return v, nil
	}
	var err error
	if ct.Latitude, err = num("latitude"); err != nil {
		return ct, err
	}
	if ct.Longitude, err = num("longitude"); err != nil {
		return ct, err
	}
	ct.Vaccines = splitList(get("vaccines"))
	if ct.Days, err = parseDays(splitList(get("days"))); err != nil {
		return ct, fmt.Errorf("days: %w", err)
	}
	var ok bool
	if ct.Opens, ok = turnero.ParseClockTime(get("opens")); !ok {
		return ct, fmt.Errorf("opens: must be a time HH:MM, got %q", get("opens"))
	}
	if ct.Closes, ok = turnero.ParseClockTime(get("closes")); !ok {
		return ct, fmt.Errorf("closes: must be a time HH:MM, got %q", get("closes"))
	}
	if ct.SlotMinutes, err = integer("slot_minutes"); err != nil {
		return ct, err
	}
	if ct.PerSlot, err = integer("people_per_slot"); err != nil {
		return ct, err
	}
	for _, e := range splitList(get("exceptions")) {
		date, what, _ := strings.Cut(e, ":")
		ex := turnero.CenterException{Date: date}
		switch {
		case what == "closed":
			ex.Closed = true
		case strings.HasPrefix(what, "+") || strings.HasPrefix(what, "-"):
			n, err := strconv.Atoi(what)
			if err != nil {
				return ct, fmt.Errorf("exceptions: %q must be DATE:closed or DATE:+N", e)
			}
			ex.ExtraPerSlot = n
		default:
			return ct, fmt.Errorf("exceptions: %q must be DATE:closed or DATE:+N", e)
		}
		ct.Exceptions = append(ct.Exceptions, ex)
	}
	return ct, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
