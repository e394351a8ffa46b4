// Package sentlog is the log provider: instead of sending a notice it
// appends the whole message, exactly as the person would receive it, to a
// file of the caller's (DATA/outbox-sent.log, readable by its owner only),
// and writes a line to the log with the recipient masked and the tracking
// code and contact details redacted. It is what `turnero demo` uses, and
// the default when no provider is configured for a channel.
package sentlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// Writer writes messages to the log and the file. It is safe for
// concurrent use; each message is one block of the file, never interleaved.
type Writer struct {
	logger *slog.Logger
	clock  turnero.Clock
	path   string
	mu     sync.Mutex
	f      *os.File
}

// Open opens (or creates, 0600) the file to append to.
func Open(path string, logger *slog.Logger, clock turnero.Clock) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sent-messages log: %w", err)
	}
	// A file made earlier with wider permissions holds tracking codes too.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("sent-messages log: %w", err)
	}
	return &Writer{logger: logger, clock: clock, path: path, f: f}, nil
}

// Path is the file messages are appended to (the demo prints it).
func (w *Writer) Path() string { return w.path }

// Close closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.f.Close()
}

// trackingCodes finds codes as people read them (K7M2-Q9XP-4TW).
var trackingCodes = regexp.MustCompile(`\b[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{3}\b`)

// redact keeps a log line free of what identifies a person or lets someone
// act for them: contact details, and the tracking code, which is the
// credential to cancel an appointment.
func redact(s string) string {
	return turnero.RedactContact(trackingCodes.ReplaceAllString(s, "****-****-***"))
}

// Send appends the message to the file and logs it; the id it returns
// names the file's block.
func (w *Writer) Send(ctx context.Context, m turnero.NoticeMessage) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sent-messages log id: %w", err)
	}
	id := "log-" + hex.EncodeToString(b[:])
	block := format(id, w.clock.Now(), &m)
	w.mu.Lock()
	_, err := w.f.WriteString(block)
	w.mu.Unlock()
	if err != nil {
		// The disk is full or gone: transient, the message waits.
		return "", turnero.TransientDelivery("log_file", err.Error(), 0)
	}
	attrs := []any{"id", id, "kind", m.Kind, "channel", m.Channel, "lang", m.Lang.Code(),
		"to", turnero.MaskContact(m.To), "file", w.path}
	if m.Subject != "" {
		attrs = append(attrs, "subject", redact(m.Subject))
	}
	if m.Segments > 0 {
		attrs = append(attrs, "segments", m.Segments)
	}
	if m.WhatsApp != nil {
		attrs = append(attrs, "whatsapp_template", m.WhatsApp.Name)
	}
	attrs = append(attrs, "text", redact(m.Text))
	w.logger.InfoContext(ctx, "notice written to the log, not sent", attrs...)
	return id, nil
}

// format writes a message as a block of the file: a header line, then what
// the person would read.
func format(id string, at time.Time, m *turnero.NoticeMessage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "=== %s %s %s %s %s to %s", at.UTC().Format(time.RFC3339), id, m.Kind, m.Channel, m.Lang.Code(), m.To)
	if m.Segments > 0 {
		fmt.Fprintf(&b, " (%d SMS segments)", m.Segments)
	}
	b.WriteString("\n")
	if m.Subject != "" {
		fmt.Fprintf(&b, "Subject: %s\n\n", m.Subject)
	}
	b.WriteString(strings.TrimRight(m.Text, "\n"))
	b.WriteString("\n")
	if t := m.WhatsApp; t != nil {
		fmt.Fprintf(&b, "\n[WhatsApp template %s (%s): %s]\n", t.Name, t.Language, strings.Join(t.Parameters, " | "))
	}
	for _, e := range m.Events {
		fmt.Fprintf(&b, "[calendar: %s, %s to %s UTC, %s]\n", e.Summary, e.Start.UTC().Format("2006-01-02 15:04"),
			e.End.UTC().Format("15:04"), e.Location)
	}
	b.WriteString("\n")
	return b.String()
}
