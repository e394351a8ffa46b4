package http

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"
)

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the "refused" count of every line written so far.
func (l *lockedLog) lines(t *testing.T) []int64 {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int64
	for _, line := range bytes.Split(bytes.TrimSpace(l.b.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var rec struct {
			Level   string `json:"level"`
			Refused int64  `json:"refused"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Level != "WARN" {
			t.Fatalf("level %s, want WARN: an overload is not a fault: %s", rec.Level, line)
		}
		out = append(out, rec.Refused)
	}
	return out
}

// TestOverloadLogOncePerSecond: a thousand refusals at once make one line at
// once and one a second later with the rest; none is lost, and a refusal
// after a quiet second is reported at once.
func TestOverloadLogOncePerSecond(t *testing.T) {
	var buf lockedLog
	o := newOverloadLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				o.refused()
			}
		}()
	}
	wg.Wait()
	if got := buf.lines(t); len(got) != 1 || got[0] != 1 {
		t.Fatalf("lines at once %v, want one for the first refusal", got)
	}
	time.Sleep(overloadLogEvery + 300*time.Millisecond)
	if got := buf.lines(t); len(got) != 2 || got[1] != 999 {
		t.Fatalf("lines after a second %v, want a second line with the 999 others", got)
	}
	time.Sleep(overloadLogEvery)
	o.refused()
	if got := buf.lines(t); len(got) != 3 || got[2] != 1 {
		t.Fatalf("lines after a quiet second and a refusal %v, want a third line at once", got)
	}
}
