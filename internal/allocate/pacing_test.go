package allocate_test

import (
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/allocate/allocatetest"
	"github.com/turnero/turnero/internal/enginetest"
)

// Pacing changes when a run works, never what it books: the same people on
// two databases, one allocated at full speed in one step, the other as serve
// does (small steps, yielding, resting half the time), get the same
// appointments. And a duty outside 0..1 is refused.
func TestPacedRunBooksTheSame(t *testing.T) {
	c := allocatetest.Campaign(t)
	book := func(cfg allocate.Config) map[int64][]string {
		e := allocatetest.New(t, enginetest.SQLite, c)
		e.Register(allocatetest.People(9, "age-80-plus", "UY-MO", 85)...)
		e.Register(allocatetest.People(7, "age-70-79", "UY-MO", 72)...)
		e.Register(allocatetest.People(5, "age-70-79", "UY-CA", 75)...)
		e.OpenGroups("age-80-plus", "age-70-79")
		a, err := allocate.New(cfg, e.Store, e.Campaign, e.Clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		rep := e.Run(a)
		if rep.Scheduled == 0 {
			t.Fatalf("nothing scheduled: %+v", rep)
		}
		e.CheckOrder()
		out := map[int64][]string{}
		for seq, as := range e.Appointments() {
			for _, ap := range as {
				out[seq] = append(out[seq], ap.Center+" "+ap.Vaccine+" "+ap.Start.String())
			}
		}
		return out
	}
	full := book(allocate.Config{Page: 50, Batch: 100})
	paced := book(allocate.Config{Page: 3, Batch: 2, Yield: true, Duty: 0.5})
	if !reflect.DeepEqual(full, paced) {
		t.Fatalf("a paced run booked otherwise:\n full %v\npaced %v", full, paced)
	}
	for _, duty := range []float64{-0.1, 1.5} {
		if _, err := allocate.New(allocate.Config{Page: 1, Batch: 1, Duty: duty}, nil, c, nil, nil); err == nil {
			t.Fatalf("duty %v accepted", duty)
		}
	}
}
