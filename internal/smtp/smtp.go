// Package smtp sends notices by email through an SMTP server, with
// github.com/wneessen/go-mail: a text part, an HTML part and the
// appointments as a calendar file (.ics). It says whether a failure is
// permanent (the server refused the address or the message: 5xx) or
// transient (4xx, a connection that failed); it does not decide what a
// message says (package notice does) nor when to try again (the
// dispatcher does), and never logs.
package smtp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/turnero/turnero/internal/ical"
	"github.com/turnero/turnero/internal/turnero"
)

// The environment variables that configure email.
const (
	EnvURL  = "TURNERO_SMTP_URL"
	EnvFrom = "TURNERO_SMTP_FROM"
)

// Config is how to reach the SMTP server and whom mail comes from.
type Config struct {
	Host string
	Port int
	// Username and Password authenticate; both empty: no authentication.
	// They are only ever sent over TLS (or to a server on loopback).
	Username, Password string
	// ImplicitTLS is smtps://: TLS from the first byte. Otherwise STARTTLS
	// is used whenever the server offers it.
	ImplicitTLS bool
	From        mail.Address
	// TLSConfig verifies the server; nil: the system's roots for Host.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each command.
	Timeout time.Duration
}

// DefaultTimeout bounds a connection and each SMTP command.
const DefaultTimeout = 30 * time.Second

// EnvRate sets the mails per second sent to the server (see package
// ratelimit); DefaultRate suits a relay's usual quota.
const (
	EnvRate     = "TURNERO_SMTP_RATE"
	DefaultRate = 10
)

// ConfigFromEnv reads the email settings. ok is false when TURNERO_SMTP_URL
// is not set (no email provider); an error names the setting that is wrong.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	raw := strings.TrimSpace(getenv(EnvURL))
	from := strings.TrimSpace(getenv(EnvFrom))
	if raw == "" {
		if from != "" {
			return Config{}, false, &turnero.SettingError{Setting: EnvURL, Problem: "is required when " + EnvFrom + " is set"}
		}
		return Config{}, false, nil
	}
	if cfg, err = parseURL(raw); err != nil {
		return Config{}, false, err
	}
	if from == "" {
		return Config{}, false, &turnero.SettingError{Setting: EnvFrom, Problem: "is required with " + EnvURL + ` (an address such as "Vacunación <no-reply@example.org>")`}
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return Config{}, false, &turnero.SettingError{Setting: EnvFrom, Problem: fmt.Sprintf("not an email address: %v", err)}
	}
	cfg.From = *addr
	cfg.Timeout = DefaultTimeout
	return cfg, true, nil
}

func parseURL(raw string) (Config, error) {
	bad := func(format string, args ...any) error {
		// Never repeat the URL: it may hold the password.
		return &turnero.SettingError{Setting: EnvURL, Problem: fmt.Sprintf(format, args...)}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, bad("not a URL smtp://USER:PASSWORD@HOST:PORT")
	}
	var cfg Config
	switch u.Scheme {
	case "smtp":
		cfg.Port = 587
	case "smtps":
		cfg.Port, cfg.ImplicitTLS = 465, true
	default:
		return Config{}, bad("the scheme must be smtp:// (STARTTLS when the server offers it) or smtps:// (TLS), got %q", u.Scheme)
	}
	cfg.Host = u.Hostname()
	if cfg.Host == "" {
		return Config{}, bad("a host is required: smtp://USER:PASSWORD@HOST:PORT")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, bad("the port must be 1-65535, got %q", p)
		}
		cfg.Port = n
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return Config{}, bad("must be smtp://USER:PASSWORD@HOST:PORT, with no path or query")
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		if cfg.Username == "" || cfg.Password == "" {
			return Config{}, bad("give both a user and a password (percent-encoded), or neither")
		}
	}
	return cfg, nil
}

// Sender sends rendered notices by email. It is safe for concurrent use:
// each Send has a connection of its own.
type Sender struct {
	cfg    Config
	client *gomail.Client
	clock  turnero.Clock
	domain string // of From: the right side of Message-IDs
}

// New checks the configuration and prepares the client; it does not connect.
func New(cfg Config, clock turnero.Clock) (*Sender, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	tlsConfig := cfg.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{}
	}
	tlsConfig = tlsConfig.Clone()
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = cfg.Host
	}
	tlsConfig.MinVersion = max(tlsConfig.MinVersion, tls.VersionTLS12)
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port), gomail.WithTimeout(cfg.Timeout), gomail.WithTLSConfig(tlsConfig),
		// A server that offers STARTTLS gets it; credentials never go in
		// clear: auto-discovery picks only challenge-response mechanisms on
		// a connection without TLS.
		gomail.WithTLSPolicy(gomail.TLSOpportunistic),
	}
	if cfg.ImplicitTLS {
		opts = append(opts, gomail.WithSSL())
	}
	if cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	client, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, &turnero.SettingError{Setting: EnvURL, Problem: err.Error()}
	}
	_, domain, _ := strings.Cut(cfg.From.Address, "@")
	return &Sender{cfg: cfg, client: client, clock: clock, domain: domain}, nil
}

// Send sends one message and returns its Message-ID.
func (s *Sender) Send(ctx context.Context, m turnero.NoticeMessage) (string, error) {
	msg, id, err := s.build(m)
	if err != nil {
		return "", err
	}
	if err := s.client.DialAndSendWithContext(ctx, msg); err != nil {
		return "", classify(err)
	}
	return id, nil
}

// attachmentName is the calendar file's name, in the person's language.
func attachmentName(l turnero.Lang) string {
	if l == turnero.English {
		return "appointment.ics"
	}
	return "turno.ics"
}

func (s *Sender) build(m turnero.NoticeMessage) (*gomail.Msg, string, error) {
	msg := gomail.NewMsg()
	if err := msg.FromFormat(s.cfg.From.Name, s.cfg.From.Address); err != nil {
		return nil, "", &turnero.SettingError{Setting: EnvFrom, Problem: err.Error()}
	}
	if err := msg.To(m.To); err != nil {
		// Registration checked the address; one that still does not parse
		// never will.
		return nil, "", turnero.PermanentDelivery("address", "the address is not valid")
	}
	id, err := messageID(s.domain)
	if err != nil {
		return nil, "", fmt.Errorf("message id: %w", err)
	}
	now := s.clock.Now()
	msg.SetMessageIDWithValue(id)
	msg.SetDateWithValue(now)
	msg.Subject(m.Subject)
	msg.SetGenHeader(gomail.Header("Content-Language"), m.Lang.Code())
	// RFC 3834: out-of-office robots must not answer a notice.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	if len(m.Events) > 0 {
		cal := ical.Calendar("-//turnero//notice//"+strings.ToUpper(m.Lang.Code()), now, m.Events)
		if err := msg.AttachReader(attachmentName(m.Lang), bytes.NewReader(cal),
			gomail.WithFileContentType("text/calendar; charset=utf-8; method=PUBLISH")); err != nil {
			return nil, "", fmt.Errorf("attach calendar: %w", err)
		}
	}
	return msg, id, nil
}

func messageID(domain string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	if domain == "" {
		domain = "turnero.invalid"
	}
	return hex.EncodeToString(b[:]) + "@" + domain, nil
}

// classify turns what go-mail returned into a delivery failure. A 5xx reply
// to the recipient or the message is permanent: that address or that
// message will never be taken. A 5xx to MAIL FROM refuses our sender (a
// configuration to fix, not this person's fault), and 4xx, TLS and
// connection errors pass: all transient. The reason has addresses and
// numbers redacted.
func classify(err error) error {
	reason := turnero.RedactContact(err.Error())
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		label := strconv.Itoa(code)
		if esc := se.EnhancedStatusCode(); esc != "" {
			label += " " + esc
		}
		if code >= 500 && code < 600 && se.Reason != gomail.ErrSMTPMailFrom {
			return turnero.PermanentDelivery(label, reason)
		}
		if code == 0 {
			label = "smtp"
		}
		return turnero.TransientDelivery(label, reason, 0)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return turnero.TransientDelivery("timeout", reason, 0)
	}
	return turnero.TransientDelivery("connection", reason, 0)
}
