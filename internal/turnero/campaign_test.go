package turnero_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/turnero"
)

// TestCampaignValidate breaks one setting of the sample at a time: each must
// fail with an error that names that setting.
func TestCampaignValidate(t *testing.T) {
	if err := campaign.Sample().Validate(); err != nil {
		t.Fatalf("the sample is invalid: %v", err)
	}
	tests := []struct {
		field  string
		change func(c *turnero.Campaign)
	}{
		{"id", func(c *turnero.Campaign) { c.ID = "" }},
		{"id", func(c *turnero.Campaign) { c.ID = "UY 2021" }},
		{"name", func(c *turnero.Campaign) { c.Name = "  " }},
		{"timezone", func(c *turnero.Campaign) { c.Location = nil }},
		{"reference_date", func(c *turnero.Campaign) { c.ReferenceDate = time.Time{} }},
		{"minimum_age", func(c *turnero.Campaign) { c.MinimumAge = -1 }},
		{"minimum_age", func(c *turnero.Campaign) { c.MinimumAge = 121 }},
		{"maximum_age", func(c *turnero.Campaign) { c.MaximumAge = 10 }},
		{"maximum_age", func(c *turnero.Campaign) { c.MaximumAge = 200 }},
		{"document_types", func(c *turnero.Campaign) { c.DocumentTypes = nil }},
		{"document_types[0].id", func(c *turnero.Campaign) { c.DocumentTypes[0].ID = "" }},
		{"document_types[1].id", func(c *turnero.Campaign) { c.DocumentTypes[1].ID = c.DocumentTypes[0].ID }},
		{"document_types[0].format", func(c *turnero.Campaign) { c.DocumentTypes[0].Format = "dni-ar" }},
		{"phone.country_code", func(c *turnero.Campaign) { c.Phone.CountryCode = "0598" }},
		{"phone.country_code", func(c *turnero.Campaign) { c.Phone.CountryCode = "" }},
		{"phone.national_digits", func(c *turnero.Campaign) { c.Phone.NationalDigits = []int{3} }},
		{"departments", func(c *turnero.Campaign) { c.Departments = nil }},
		{"departments[1].code", func(c *turnero.Campaign) { c.Departments[1].Code = c.Departments[0].Code }},
		{"departments[1].name", func(c *turnero.Campaign) { c.Departments[1].Name = strings.ToUpper(c.Departments[0].Name) }},
		{"departments[2].population", func(c *turnero.Campaign) { c.Departments[2].Population = -1 }},
		{"vaccines", func(c *turnero.Campaign) { c.Vaccines = nil }},
		{"vaccines[1].id", func(c *turnero.Campaign) { c.Vaccines[1].ID = c.Vaccines[0].ID }},
		{"vaccines[0].doses", func(c *turnero.Campaign) { c.Vaccines[0].Doses = 0 }},
		{"vaccines[0].interval_days", func(c *turnero.Campaign) { c.Vaccines[0].IntervalDays = 0 }},
		{"vaccines[1].max_age", func(c *turnero.Campaign) { c.Vaccines[1].MaxAge = 10 }},
		{"groups", func(c *turnero.Campaign) { c.Groups = nil }},
		{"groups[3].id", func(c *turnero.Campaign) { c.Groups[3].ID = c.Groups[2].ID }},
		{"groups[0].name", func(c *turnero.Campaign) { c.Groups[0].Name = "" }},
		{"groups[0].kind", func(c *turnero.Campaign) { c.Groups[0].Kind = "declared" }},
		{"groups[3].max_age", func(c *turnero.Campaign) { c.Groups[3].MaxAge = 1 }},
		{"groups[0].vaccines[0]", func(c *turnero.Campaign) { c.Groups[0].Vaccines = []string{"sputnik"} }},
		{"place_in_line.after_cancel", func(c *turnero.Campaign) { c.PlaceInLine.AfterCancel = "" }},
		{"place_in_line.after_no_show", func(c *turnero.Campaign) { c.PlaceInLine.AfterNoShow = "front_of_line" }},
	}
	for _, tt := range tests {
		c := campaign.Sample()
		tt.change(c)
		err := c.Validate()
		var ce *turnero.CampaignError
		if !errors.As(err, &ce) {
			t.Errorf("%s: error %v, want a CampaignError", tt.field, err)
			continue
		}
		if ce.Field != tt.field || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("broken %s: error %q names %q", tt.field, err, ce.Field)
		}
	}
}

func TestCampaignLookups(t *testing.T) {
	c := campaign.Sample()
	for _, s := range []string{"Paysandú", "paysandu", "PAYSANDÚ", " Paysandu ", "UY-PA", "uy-pa"} {
		if d, ok := c.Department(s); !ok || d.Code != "UY-PA" {
			t.Errorf("Department(%q) = %+v, %v", s, d, ok)
		}
	}
	if _, ok := c.Department("Paysandúx"); ok {
		t.Error("Department found a name that is not one")
	}
	if d, ok := c.DocumentType("passport"); !ok || d.ID != "PASSPORT" {
		t.Errorf("DocumentType(passport) = %+v, %v", d, ok)
	}
	if c.GroupIndex("essential-workers") != 0 || c.GroupIndex("nope") != -1 {
		t.Error("GroupIndex")
	}
	if !c.HasChannel("whatsapp") || c.HasChannel("fax") {
		t.Error("HasChannel")
	}
}
