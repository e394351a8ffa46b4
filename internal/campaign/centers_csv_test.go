package campaign_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/campaign"
)

func TestCentersCSVBadInput(t *testing.T) {
	c := campaign.Sample()
	header := "id,name,department,vaccines,days,opens,closes,slot_minutes,people_per_slot\n"
	good := "X-1,Uno,UY-MO,pfizer,mon;tue,08:00,12:00,15,4\n"
	for _, tc := range []struct {
		name, csv string
		row       int
		says      string
	}{
		{"empty file", "", 1, "empty"},
		{"unknown column", "id,name,colour\n", 1, `unknown column "colour"`},
		{"missing column", "id,name,department,vaccines,days,opens,closes,slot_minutes\n", 1, `missing column "people_per_slot"`},
		{"column twice", "id,id,name,department,vaccines,days,opens,closes,slot_minutes,people_per_slot\n", 1, "twice"},
		{"unknown department, third row", header + good + "X-2,Dos,UY-XX,pfizer,mon,08:00,12:00,15,4\n", 3, "department"},
		{"unknown vaccine", header + "X-2,Dos,UY-MO,sputnik,mon,08:00,12:00,15,4\n", 2, "vaccine"},
		{"closes before opens", header + "X-2,Dos,UY-MO,pfizer,mon,12:00,08:00,15,4\n", 2, "closes"},
		{"bad weekday", header + "X-2,Dos,UY-MO,pfizer,someday,08:00,12:00,15,4\n", 2, "weekday"},
		{"duplicate id", header + good + good, 3, "X-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			centers, err := campaign.ParseCentersCSV(strings.NewReader(tc.csv), c)
			var re *campaign.RowError
			if !errors.As(err, &re) {
				t.Fatalf("got %v, want a row error", err)
			}
			if re.Row != tc.row || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %q, want row %d saying %q", err, tc.row, tc.says)
			}
			if len(centers) != 0 {
				t.Fatalf("%d centers returned with an error: nothing may be half-imported", len(centers))
			}
		})
	}
	centers, err := campaign.ParseCentersCSV(strings.NewReader(header+good), c)
	if err != nil || len(centers) != 1 || centers[0].PerSlot != 4 {
		t.Fatalf("good file: %v %+v", err, centers)
	}
}
