package booking

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// centerDefinition is the JSON a center's row keeps on every engine:
// everything but the id and department, which are columns.
type centerDefinition struct {
	Name       string                    `json:"name"`
	Locality   string                    `json:"locality,omitempty"`
	Address    string                    `json:"address,omitempty"`
	Latitude   float64                   `json:"latitude"`
	Longitude  float64                   `json:"longitude"`
	Vaccines   []string                  `json:"vaccines"`
	Days       []time.Weekday            `json:"days"`
	Opens      int                       `json:"opens"`
	Closes     int                       `json:"closes"`
	SlotMin    int                       `json:"slot_minutes"`
	PerSlot    int                       `json:"people_per_slot"`
	Exceptions []turnero.CenterException `json:"exceptions,omitempty"`
}

// EncodeCenter is the definition column of a center's row.
func EncodeCenter(c turnero.Center) (string, error) {
	def, err := json.Marshal(centerDefinition{
		Name: c.Name, Locality: c.Locality, Address: c.Address, Latitude: c.Latitude, Longitude: c.Longitude,
		Vaccines: c.Vaccines, Days: c.Days, Opens: c.Opens, Closes: c.Closes, SlotMin: c.SlotMinutes,
		PerSlot: c.PerSlot, Exceptions: c.Exceptions,
	})
	if err != nil {
		return "", fmt.Errorf("encode center %s: %w", c.ID, err)
	}
	return string(def), nil
}

// DecodeCenter builds a center from its row.
func DecodeCenter(id, department, definition string) (turnero.Center, error) {
	c := turnero.Center{ID: id, Department: department}
	var d centerDefinition
	if err := json.Unmarshal([]byte(definition), &d); err != nil {
		return c, fmt.Errorf("decode center %s: %w", id, err)
	}
	c.Name, c.Locality, c.Address, c.Latitude, c.Longitude = d.Name, d.Locality, d.Address, d.Latitude, d.Longitude
	c.Vaccines, c.Days, c.Opens, c.Closes, c.SlotMinutes, c.PerSlot, c.Exceptions =
		d.Vaccines, d.Days, d.Opens, d.Closes, d.SlotMin, d.PerSlot, d.Exceptions
	return c, nil
}
