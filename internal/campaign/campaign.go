// Package campaign reads campaign files (TOML) into the domain's Campaign and
// holds the bundled sample. It only parses and reports which setting is wrong;
// the rules themselves are checked by turnero.Campaign.Validate.
package campaign

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/turnero/turnero/internal/notice"
	"github.com/turnero/turnero/internal/turnero"
)

//go:embed uy-2021.toml
var sampleUY2021 []byte

// Sample returns the bundled sample campaign (Uruguay 2021).
func Sample() *turnero.Campaign {
	c, err := Parse(bytes.NewReader(sampleUY2021))
	if err != nil {
		panic("bundled sample campaign is invalid: " + err.Error())
	}
	return c
}

// SampleFile returns the text of the bundled sample, to start a new campaign from.
func SampleFile() []byte { return sampleUY2021 }

// Load reads and validates a campaign file.
func Load(path string) (*turnero.Campaign, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read campaign file: %w", err)
	}
	c, err := Parse(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("campaign file %s: %w", path, err)
	}
	return c, nil
}

type file struct {
	ID            string   `toml:"id"`
	Name          string   `toml:"name"`
	Country       string   `toml:"country"`
	Timezone      string   `toml:"timezone"`
	ReferenceDate string   `toml:"reference_date"`
	MinimumAge    int      `toml:"minimum_age"`
	MaximumAge    int      `toml:"maximum_age"`
	Channels      []string `toml:"channels"`
	Phone         struct {
		CountryCode    string `toml:"country_code"`
		TrunkPrefix    string `toml:"trunk_prefix"`
		NationalDigits []int  `toml:"national_digits"`
	} `toml:"phone"`
	PlaceInLine struct {
		AfterCancel string `toml:"after_cancel"`
		AfterNoShow string `toml:"after_no_show"`
	} `toml:"place_in_line"`
	DocumentTypes []struct {
		ID     string `toml:"id"`
		Name   string `toml:"name"`
		Format string `toml:"format"`
	} `toml:"document_types"`
	Departments []struct {
		Code       string `toml:"code"`
		Name       string `toml:"name"`
		Capital    string `toml:"capital"`
		Population int    `toml:"population"`
	} `toml:"departments"`
	Vaccines []struct {
		ID           string `toml:"id"`
		Name         string `toml:"name"`
		Doses        int    `toml:"doses"`
		IntervalDays int    `toml:"interval_days"`
		MinAge       int    `toml:"min_age"`
		MaxAge       int    `toml:"max_age"`
	} `toml:"vaccines"`
	Groups []struct {
		ID       string   `toml:"id"`
		Name     string   `toml:"name"`
		NameEN   string   `toml:"name_en"`
		Kind     string   `toml:"kind"`
		MinAge   int      `toml:"min_age"`
		MaxAge   int      `toml:"max_age"`
		Vaccines []string `toml:"vaccines"`
	} `toml:"groups"`
	Allocation    *allocationFile `toml:"allocation"`
	Centers       []centerFile    `toml:"centers"`
	Notifications *noticesFile    `toml:"notifications"`
	Dashboard     *dashboardFile  `toml:"dashboard"`
}

// Parse reads a campaign from TOML. Unknown settings are errors: a misspelt
// setting silently ignored is a campaign that does not do what its author meant.
func Parse(r io.Reader) (*turnero.Campaign, error) {
	var f file
	md, err := toml.NewDecoder(r).Decode(&f)
	if err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, &turnero.CampaignError{Field: keys[0], Problem: "unknown setting (all unknown: " + strings.Join(keys, ", ") + ")"}
	}
	c := &turnero.Campaign{
		ID: f.ID, Name: f.Name, Country: f.Country,
		MinimumAge: f.MinimumAge, MaximumAge: f.MaximumAge,
		Channels: f.Channels,
		Phone: turnero.PhonePlan{
			CountryCode: f.Phone.CountryCode, TrunkPrefix: f.Phone.TrunkPrefix, NationalDigits: f.Phone.NationalDigits,
		},
		PlaceInLine: turnero.PlaceInLinePolicy{AfterCancel: f.PlaceInLine.AfterCancel, AfterNoShow: f.PlaceInLine.AfterNoShow},
	}
	if f.Timezone != "" {
		loc, err := time.LoadLocation(f.Timezone)
		if err != nil {
			return nil, &turnero.CampaignError{Field: "timezone", Problem: fmt.Sprintf("unknown time zone %q", f.Timezone)}
		}
		c.Location = loc
	}
	if f.ReferenceDate != "" {
		loc := c.Location
		if loc == nil {
			loc = time.UTC
		}
		d, err := time.ParseInLocation("2006-01-02", f.ReferenceDate, loc)
		if err != nil {
			return nil, &turnero.CampaignError{Field: "reference_date", Problem: fmt.Sprintf("must be a date YYYY-MM-DD, got %q", f.ReferenceDate)}
		}
		c.ReferenceDate = d
	}
	for _, d := range f.DocumentTypes {
		c.DocumentTypes = append(c.DocumentTypes, turnero.DocumentType{ID: d.ID, Name: d.Name, Format: d.Format})
	}
	for _, d := range f.Departments {
		c.Departments = append(c.Departments, turnero.Department{Code: d.Code, Name: d.Name, Population: d.Population})
	}
	for _, v := range f.Vaccines {
		c.Vaccines = append(c.Vaccines, turnero.Vaccine{
			ID: v.ID, Name: v.Name, Doses: v.Doses, IntervalDays: v.IntervalDays, MinAge: v.MinAge, MaxAge: v.MaxAge,
		})
	}
	for _, g := range f.Groups {
		c.Groups = append(c.Groups, turnero.Group{
			ID: g.ID, Name: g.Name, NameEN: g.NameEN, Kind: g.Kind, MinAge: g.MinAge, MaxAge: g.MaxAge, Vaccines: g.Vaccines,
		})
	}
	if err := f.convertAllocation(c); err != nil {
		return nil, err
	}
	if err := f.convertNotices(c); err != nil {
		return nil, err
	}
	if err := f.convertDashboard(c); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	// The texts are checked here, by rendering them, rather than in
	// Validate: rendering is package notice's, not the domain's.
	if err := notice.Check(c); err != nil {
		return nil, err
	}
	return c, nil
}
