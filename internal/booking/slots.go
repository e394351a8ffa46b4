package booking

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// SlotEntry is one dose booked in a slot: what a slot's list holds, so that
// a center's day is read from its slots without a scan of bookings.
type SlotEntry struct {
	Sequence int64
	Dose     int
}

// AppendText writes the entry as both engines store it: "SEQUENCE.DOSE".
// How a list of entries is kept is each engine's (an array on PostgreSQL,
// space-separated text on SQLite), never the entry.
func (e SlotEntry) AppendText(dst []byte) []byte {
	dst = strconv.AppendInt(dst, e.Sequence, 10)
	dst = append(dst, '.')
	return strconv.AppendInt(dst, int64(e.Dose), 10)
}

// String is AppendText as a string.
func (e SlotEntry) String() string { return string(e.AppendText(nil)) }

// ParseSlotEntry reads an entry written by AppendText.
func ParseSlotEntry(s string) (SlotEntry, error) {
	a, b, ok := strings.Cut(s, ".")
	seq, err1 := strconv.ParseInt(a, 10, 64)
	dose, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || seq < 1 || dose < 1 {
		return SlotEntry{}, fmt.Errorf("bad slot entry %q", s)
	}
	return SlotEntry{Sequence: seq, Dose: dose}, nil
}

type slotKey struct {
	start  int64
	center string
}

// slotAdds gathers a batch's doses by slot, in the order first met, with
// each slot's capacity by the agenda the allocator computed against; every
// dose must come with its slot's capacity.
func slotAdds(b *turnero.AllocationBatch) ([]SlotAdd, error) {
	capacity := make(map[slotKey]int, len(b.Slots))
	for _, s := range b.Slots {
		capacity[slotKey{s.Start.Unix(), s.Center}] = s.Capacity
	}
	index := make(map[slotKey]int, len(b.Slots))
	var adds []SlotAdd
	add := func(t time.Time, center string, seq int64, dose int) {
		k := slotKey{t.Unix(), center}
		i, ok := index[k]
		if !ok {
			i = len(adds)
			index[k] = i
			adds = append(adds, SlotAdd{Center: center, Start: t, Capacity: capacity[k]})
		}
		adds[i].Entries = append(adds[i].Entries, SlotEntry{Sequence: seq, Dose: dose})
	}
	for i := range b.Bookings {
		bk := &b.Bookings[i]
		for d, t := range bk.Starts {
			add(t, bk.Center, bk.Sequence, d+1)
		}
	}
	for _, sd := range b.SecondDoses {
		add(sd.Start, sd.Center, sd.Sequence, 2)
	}
	for k := range index {
		if _, ok := capacity[k]; !ok {
			return nil, &turnero.Error{Code: turnero.CodeInvalid, Key: "invalid_request",
				Err: fmt.Errorf("appointment at %s %d without its slot's capacity", k.center, k.start)}
		}
	}
	return adds, nil
}
