package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/turnero/turnero/internal/turnero"
)

// A campaign's data depends on some of its settings (its rules: who is in
// which group and in what order, which vaccines and intervals, how a
// document is written, what happens to a place in line) and not on others
// (its centers, how often the allocator runs, what people are told). A
// database is pinned to its campaign's rules at its first start
// (turnero.Deployment); a campaign file whose rules differ is refused, and
// the other settings change only through `turnero campaign apply`, which
// shows what changes. Rules may only grow during a campaign: a group
// appended after the last, a vaccine or a channel added.

// rules is what RulesHash covers.
type rules struct {
	ID            string                    `json:"id"`
	Country       string                    `json:"country"`
	Location      string                    `json:"time_zone"`
	ReferenceDate string                    `json:"reference_date"`
	MinimumAge    int                       `json:"minimum_age"`
	MaximumAge    int                       `json:"maximum_age"`
	DocumentTypes []documentRules           `json:"document_types"`
	Phone         turnero.PhonePlan         `json:"phone"`
	Departments   []string                  `json:"departments"`
	Vaccines      []vaccineRules            `json:"vaccines"`
	Groups        []groupRules              `json:"groups"`
	Channels      []string                  `json:"channels"`
	PlaceInLine   turnero.PlaceInLinePolicy `json:"place_in_line"`
}

type documentRules struct {
	ID     string `json:"id"`
	Format string `json:"format"`
}

type vaccineRules struct {
	ID           string `json:"id"`
	Doses        int    `json:"doses"`
	IntervalDays int    `json:"interval_days"`
	MinAge       int    `json:"min_age"`
	MaxAge       int    `json:"max_age"`
}

type groupRules struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	MinAge   int      `json:"min_age"`
	MaxAge   int      `json:"max_age"`
	Vaccines []string `json:"vaccines"`
}

func rulesOf(c *turnero.Campaign) rules {
	r := rules{ID: c.ID, Country: c.Country, Location: c.Location.String(),
		ReferenceDate: c.ReferenceDate.Format("2006-01-02"), MinimumAge: c.MinimumAge, MaximumAge: c.MaximumAge,
		Phone: c.Phone, Channels: slices.Clone(c.Channels), PlaceInLine: c.PlaceInLine}
	for _, d := range c.DocumentTypes {
		r.DocumentTypes = append(r.DocumentTypes, documentRules{d.ID, d.Format})
	}
	for _, d := range c.Departments {
		r.Departments = append(r.Departments, d.Code)
	}
	for _, v := range c.Vaccines {
		r.Vaccines = append(r.Vaccines, vaccineRules{v.ID, v.Doses, v.IntervalDays, v.MinAge, v.MaxAge})
	}
	for _, g := range c.Groups {
		r.Groups = append(r.Groups, groupRules{g.ID, g.Kind, g.MinAge, g.MaxAge, slices.Clone(g.Vaccines)})
	}
	return r
}

// RulesHash is the hash of the settings a campaign's data depends on, in
// hex; equal campaigns have equal hashes whatever their files look like.
func RulesHash(c *turnero.Campaign) string {
	b, err := json.Marshal(rulesOf(c))
	if err != nil {
		panic(err) // plain data
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Compare says how next differs from current: refused lists the changes
// that need a new database (the data depends on what they change), changes
// those `turnero campaign apply` may make. Both empty: the same campaign.
func Compare(current, next *turnero.Campaign) (refused, changes []string) {
	a, b := rulesOf(current), rulesOf(next)
	no := func(what string, x, y any) {
		if !reflect.DeepEqual(x, y) {
			refused = append(refused, fmt.Sprintf("%s: %v → %v", what, x, y))
		}
	}
	no("id", a.ID, b.ID)
	no("country", a.Country, b.Country)
	no("time_zone", a.Location, b.Location)
	no("reference_date", a.ReferenceDate, b.ReferenceDate)
	no("minimum_age", a.MinimumAge, b.MinimumAge)
	no("maximum_age", a.MaximumAge, b.MaximumAge)
	no("document_types", a.DocumentTypes, b.DocumentTypes)
	no("phone", a.Phone, b.Phone)
	no("departments", a.Departments, b.Departments)
	no("place_in_line", a.PlaceInLine, b.PlaceInLine)
	// Rules may grow: existing vaccines and groups unchanged, groups only
	// appended after the last (a group's place is its priority).
	for _, v := range a.Vaccines {
		i := slices.IndexFunc(b.Vaccines, func(w vaccineRules) bool { return w.ID == v.ID })
		switch {
		case i < 0:
			refused = append(refused, "vaccine "+v.ID+" removed")
		case !reflect.DeepEqual(v, b.Vaccines[i]):
			refused = append(refused, fmt.Sprintf("vaccine %s: %+v → %+v", v.ID, v, b.Vaccines[i]))
		}
	}
	for _, v := range b.Vaccines {
		if !slices.ContainsFunc(a.Vaccines, func(w vaccineRules) bool { return w.ID == v.ID }) {
			changes = append(changes, "vaccine "+v.ID+" added")
		}
	}
	for i, g := range a.Groups {
		if i >= len(b.Groups) || !reflect.DeepEqual(g, b.Groups[i]) {
			refused = append(refused, fmt.Sprintf("group %s (priority %d) changed, moved or removed: groups may only be appended", g.ID, i+1))
		}
	}
	for _, g := range b.Groups[min(len(a.Groups), len(b.Groups)):] {
		changes = append(changes, "group "+g.ID+" appended")
	}
	for _, ch := range a.Channels {
		if !slices.Contains(b.Channels, ch) {
			refused = append(refused, "channel "+ch+" removed")
		}
	}
	for _, ch := range b.Channels {
		if !slices.Contains(a.Channels, ch) {
			changes = append(changes, "channel "+ch+" added")
		}
	}

	// What the data does not depend on.
	if current.Name != next.Name {
		changes = append(changes, fmt.Sprintf("name: %q → %q", current.Name, next.Name))
	}
	for _, d := range next.Departments {
		if o, ok := current.Department(d.Code); ok && o != d {
			changes = append(changes, fmt.Sprintf("department %s: %+v → %+v", d.Code, o, d))
		}
	}
	for _, v := range next.Vaccines {
		if o, ok := current.Vaccine(v.ID); ok && o.Name != v.Name {
			changes = append(changes, fmt.Sprintf("vaccine %s name: %q → %q", v.ID, o.Name, v.Name))
		}
	}
	for _, g := range next.Groups {
		if o, ok := current.Group(g.ID); ok && (o.Name != g.Name || o.NameEN != g.NameEN) {
			changes = append(changes, fmt.Sprintf("group %s names: %q/%q → %q/%q", g.ID, o.Name, o.NameEN, g.Name, g.NameEN))
		}
	}
	for _, d := range next.DocumentTypes {
		for _, o := range current.DocumentTypes {
			if o.ID == d.ID && o.Name != d.Name {
				changes = append(changes, fmt.Sprintf("document type %s name: %q → %q", d.ID, o.Name, d.Name))
			}
		}
	}
	changes = append(changes, compareCenters(current.Centers, next.Centers)...)
	if !reflect.DeepEqual(current.Allocation, next.Allocation) {
		changes = append(changes, fmt.Sprintf("allocation: %+v → %+v", current.Allocation, next.Allocation))
	}
	if !reflect.DeepEqual(current.Notices, next.Notices) {
		changes = append(changes, "notifications: quiet hours, reminders, status link or texts")
	}
	return refused, changes
}

func compareCenters(current, next []turnero.Center) []string {
	var out []string
	byID := map[string]turnero.Center{}
	for _, c := range current {
		byID[c.ID] = c
	}
	seen := map[string]bool{}
	for _, c := range next {
		seen[c.ID] = true
		o, ok := byID[c.ID]
		switch {
		case !ok:
			out = append(out, "center "+c.ID+" added")
		case !reflect.DeepEqual(o, c):
			out = append(out, "center "+c.ID+" changed")
		}
	}
	for _, c := range current {
		if !seen[c.ID] {
			out = append(out, "center "+c.ID+" no longer in the file: it stays in the agenda until `turnero centers remove "+c.ID+"`")
		}
	}
	return out
}
