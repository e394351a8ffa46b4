package sentlog_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/sentlog"
	"github.com/turnero/turnero/internal/turnero"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSentLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox-sent.log")
	var logs lockedBuffer
	w, err := sentlog.Open(path, slog.New(slog.NewJSONHandler(&logs, nil)), fixedClock{time.Date(2021, 4, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	sms := turnero.NoticeMessage{Kind: turnero.NotifyScheduled, Channel: turnero.ChannelSMS, Lang: turnero.Spanish,
		To: "+59899123456", Segments: 2,
		Text: "Su turno: dosis 1 el 05/04/2021 10:30 en Vacunatorio Centro. Codigo de seguimiento: K7M2-Q9XP-4TZ"}
	email := turnero.NoticeMessage{Kind: turnero.NotifyReminder, Channel: turnero.ChannelEmail, Lang: turnero.English,
		To: "maria.perez@example.org", Subject: "Reminder of your vaccination appointment",
		Text: "Hello,\n\nDose 2: Monday 3 May 2021 at 10:30\n\nYour tracking code is K7M2-Q9XP-4TZ.\n",
		Events: []turnero.CalendarEvent{{UID: "u", Summary: "Vaccination, dose 2: Pfizer/BioNTech",
			Start: time.Date(2021, 5, 3, 13, 30, 0, 0, time.UTC), End: time.Date(2021, 5, 3, 13, 45, 0, 0, time.UTC), Location: "Av. España 1234"}}}
	wa := turnero.NoticeMessage{Kind: turnero.NotifyCancelled, Channel: turnero.ChannelWhatsApp, Lang: turnero.Spanish,
		To: "+59899765432", Text: "Su registro fue cancelado. Codigo: K7M2-Q9XP-4TZ",
		WhatsApp: &turnero.WhatsAppTemplate{Name: "turnero_appointments_cancelled", Language: "es", Parameters: []string{"K7M2-Q9XP-4TZ", "-"}}}

	// Many at once: each is one whole block.
	const each = 20
	var wg sync.WaitGroup
	ids := make(chan string, 3*each)
	for i := range 3 * each {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := w.Send(context.Background(), []turnero.NoticeMessage{sms, email, wa}[i%3])
			if err != nil {
				t.Error(err)
			}
			ids <- id
		}()
	}
	wg.Wait()
	close(ids)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] || !strings.HasPrefix(id, "log-") {
			t.Errorf("id %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	file := string(b)
	// The file holds exactly what the person receives, whole.
	blocks := strings.Split(strings.TrimSpace(file), "\n=== ")
	if len(blocks) != 3*each {
		t.Fatalf("%d blocks, want %d:\n%s", len(blocks), 3*each, file)
	}
	counts := map[string]int{}
	for _, bl := range blocks {
		bl += "\n" // TrimSpace took the last block's end of line
		switch {
		case strings.Contains(bl, "appointments_scheduled sms es to +59899123456 (2 SMS segments)\n"+sms.Text+"\n"):
			counts["sms"]++
		case strings.Contains(bl, "appointment_reminder email en to maria.perez@example.org\nSubject: Reminder of your vaccination appointment\n\n"+strings.TrimSpace(email.Text)+"\n") &&
			strings.Contains(bl, "[calendar: Vaccination, dose 2: Pfizer/BioNTech, 2021-05-03 13:30 to 13:45 UTC, Av. España 1234]"):
			counts["email"]++
		case strings.Contains(bl, "appointments_cancelled whatsapp es to +59899765432\n") &&
			strings.Contains(bl, "[WhatsApp template turnero_appointments_cancelled (es): K7M2-Q9XP-4TZ | -]"):
			counts["whatsapp"]++
		default:
			t.Errorf("a block that is none of the messages:\n%s", bl)
		}
	}
	if counts["sms"] != each || counts["email"] != each || counts["whatsapp"] != each {
		t.Errorf("blocks %v, want %d of each", counts, each)
	}

	// The log says what was written, masked: no number, address or code.
	out := logs.String()
	if n := strings.Count(out, `"msg":"notice written to the log, not sent"`); n != 3*each {
		t.Errorf("%d log lines, want %d", n, 3*each)
	}
	for _, secret := range []string{"99123456", "99765432", "maria.perez", "K7M2-Q9XP-4TZ"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q:\n%s", secret, out[:min(len(out), 2000)])
		}
	}
	for _, want := range []string{`"to":"+598 *** *56"`, `"to":"m***@example.org"`, `"segments":2`, `"whatsapp_template":"turnero_appointments_cancelled"`,
		`Codigo de seguimiento: ****-****-***`, `"file":"` + path + `"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s", want)
		}
	}

	// Appending: opening again keeps what was written.
	w2, err := sentlog.Open(path, slog.New(slog.NewJSONHandler(&logs, nil)), fixedClock{time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Send(context.Background(), sms); err != nil {
		t.Fatal(err)
	}
	w2.Close()
	b2, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b2), file) || len(b2) <= len(b) {
		t.Error("reopening did not append")
	}
}

func TestSentLogErrors(t *testing.T) {
	if _, err := sentlog.Open(filepath.Join(t.TempDir(), "no", "such", "dir", "x.log"), slog.Default(), fixedClock{}); err == nil {
		t.Error("opened a file in a missing directory")
	}
	path := filepath.Join(t.TempDir(), "x.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := sentlog.Open(path, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), fixedClock{})
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("an existing file kept mode %v", fi.Mode().Perm())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Send(ctx, turnero.NoticeMessage{Text: "x"}); err == nil {
		t.Error("wrote with a cancelled context")
	}
	w.Close()
	_, err = w.Send(context.Background(), turnero.NoticeMessage{Text: "x"})
	if err == nil || turnero.IsPermanentDelivery(err) {
		t.Errorf("a closed file: %v, want a transient failure", err)
	}
}
