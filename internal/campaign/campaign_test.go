package campaign_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/turnero"
)

func TestSample(t *testing.T) {
	c := campaign.Sample()
	if c.ID != "uy-covid19-2021" || c.Location.String() != "America/Montevideo" || c.ReferenceDate.Format("2006-01-02") != "2021-03-01" {
		t.Errorf("sample: id %q, timezone %v, reference date %v", c.ID, c.Location, c.ReferenceDate)
	}
	if len(c.Departments) != 19 {
		t.Errorf("%d departments, want 19", len(c.Departments))
	}
	total := 0
	for _, d := range c.Departments {
		total += d.Population
	}
	if total != 3_499_451 {
		t.Errorf("population %d, want 3,499,451 (2023 census)", total)
	}
	if d, ok := c.Department("Montevideo"); !ok || d.Population != 1_302_954 {
		t.Errorf("Montevideo: %+v", d)
	}
	if c.MinimumAge != 12 || c.MaximumAge != 120 {
		t.Errorf("ages %d-%d", c.MinimumAge, c.MaximumAge)
	}
	if g := c.Groups[0]; g.ID != "essential-workers" || g.Kind != turnero.GroupAttested {
		t.Errorf("first group %+v", g)
	}
	for _, id := range []string{"pfizer", "sinovac", "astrazeneca"} {
		if _, ok := c.Vaccine(id); !ok {
			t.Errorf("vaccine %s missing", id)
		}
	}
	if d, ok := c.DocumentType("CI"); !ok || d.Format != turnero.FormatUYCedula {
		t.Errorf("CI: %+v", d)
	}
	if c.Phone.CountryCode != "598" {
		t.Errorf("phone plan %+v", c.Phone)
	}
	// Sample returns a fresh copy: a caller changing it changes no one else's.
	c.Departments[0].Name = "changed"
	if campaign.Sample().Departments[0].Name == "changed" {
		t.Error("Sample shares its campaign between callers")
	}
	// SampleFile is what Sample parses.
	if !strings.Contains(string(campaign.SampleFile()), `id = "uy-covid19-2021"`) {
		t.Error("SampleFile is not the sample")
	}
}

// minimal is a small valid campaign the broken files below are made from, so
// that these tests do not depend on the sample's later additions.
const minimal = `
id = "test-campaign"
name = "Campaña de prueba"
country = "UY"
timezone = "America/Montevideo"
reference_date = "2021-03-01"
minimum_age = 12
maximum_age = 120
channels = ["web"]

[phone]
country_code = "598"
trunk_prefix = "0"
national_digits = [8]

[place_in_line]
after_cancel = "back_of_line"
after_no_show = "keep_place"

[[document_types]]
id = "CI"
name = "Cédula"
format = "uy-cedula"

[[vaccines]]
id = "pfizer"
name = "Pfizer"
doses = 2
interval_days = 28
min_age = 12

[[groups]]
id = "health-workers"
name = "Personal de salud"
kind = "attested"
min_age = 18
vaccines = ["pfizer"]

[[groups]]
id = "everyone"
name = "Todos"
kind = "age"
min_age = 12

[[departments]]
code = "D1"
name = "Uno"
population = 10

[[departments]]
code = "D2"
name = "Dos"
population = 20
`

func TestParseMinimal(t *testing.T) {
	c, err := campaign.Parse(strings.NewReader(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "test-campaign" || len(c.Groups) != 2 || len(c.Departments) != 2 || c.PlaceInLine.AfterNoShow != turnero.KeepPlace {
		t.Errorf("parsed %+v", c)
	}
}

func TestParseBrokenFiles(t *testing.T) {
	tests := []struct {
		name, old, new string
		field          string // the error must name this
	}{
		{"unknown setting", `id = "test-campaign"`, "id = \"test-campaign\"\ncolour = \"red\"", "colour"},
		{"misspelt nested setting", `country_code = "598"`, `contry_code = "598"`, "phone.contry_code"},
		{"unknown setting of a group", `kind = "age"`, "kind = \"age\"\nmax_agee = 3", "groups.max_agee"},
		{"bad timezone", `timezone = "America/Montevideo"`, `timezone = "Mars/Olympus_Mons"`, "timezone"},
		{"no timezone", `timezone = "America/Montevideo"`, ``, "timezone"},
		{"bad reference_date", `reference_date = "2021-03-01"`, `reference_date = "2021-02-30"`, "reference_date"},
		{"reference_date not a date", `reference_date = "2021-03-01"`, `reference_date = "1 March 2021"`, "reference_date"},
		{"no reference_date", `reference_date = "2021-03-01"`, ``, "reference_date"},
		{"duplicate group id", `id = "everyone"`, `id = "health-workers"`, "groups[1].id"},
		{"bad group id", `id = "everyone"`, `id = "Every One"`, "groups[1].id"},
		{"unknown vaccine in a group", `vaccines = ["pfizer"]`, `vaccines = ["sputnik"]`, "groups[0].vaccines[0]"},
		{"bad group kind", `kind = "age"`, `kind = "by-age"`, "groups[1].kind"},
		{"bad document format", `format = "uy-cedula"`, `format = "uy-cedulla"`, "document_types[0].format"},
		{"no document types", "[[document_types]]\nid = \"CI\"\nname = \"Cédula\"\nformat = \"uy-cedula\"", ``, "document_types"},
		{"empty departments", "[[departments]]\ncode = \"D1\"\nname = \"Uno\"\npopulation = 10\n\n[[departments]]\ncode = \"D2\"\nname = \"Dos\"\npopulation = 20", ``, "departments"},
		{"duplicate department", `code = "D2"`, `code = "D1"`, "departments[1].code"},
		{"negative population", `population = 20`, `population = -20`, "departments[1].population"},
		{"bad place_in_line", `after_cancel = "back_of_line"`, `after_cancel = "back_of_the_line"`, "place_in_line.after_cancel"},
		{"bad place_in_line no-show", `after_no_show = "keep_place"`, `after_no_show = ""`, "place_in_line.after_no_show"},
		{"bad minimum_age", `minimum_age = 12`, `minimum_age = -1`, "minimum_age"},
		{"bad country code", `country_code = "598"`, `country_code = "+598"`, "phone.country_code"},
		{"bad doses", `doses = 2`, `doses = 0`, "vaccines[0].doses"},
		{"wrong type", `minimum_age = 12`, `minimum_age = "twelve"`, "minimum_age"},
		{"not TOML", `name = "Campaña de prueba"`, `name = "Campaña de prueba`, "line 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(minimal, tt.old) {
				t.Fatalf("the minimal campaign has no %q", tt.old)
			}
			text := strings.Replace(minimal, tt.old, tt.new, 1)
			c, err := campaign.Parse(strings.NewReader(text))
			if err == nil {
				t.Fatalf("parsed: %+v", c)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %q", err, tt.field)
			}
			var ce *turnero.CampaignError
			if errors.As(err, &ce) && ce.Field != tt.field {
				t.Errorf("CampaignError field %q, want %q", ce.Field, tt.field)
			}
			// The same through Load, which adds the file's path.
			path := filepath.Join(t.TempDir(), "campaign.toml")
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = campaign.Load(path)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Load: error %v, want the path and %q", err, tt.field)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "campaign.toml")
	if _, err := campaign.Load(path); err == nil {
		t.Error("loaded a missing file")
	}
	if err := os.WriteFile(path, campaign.SampleFile(), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := campaign.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != campaign.Sample().ID {
		t.Errorf("loaded %q", c.ID)
	}
}
