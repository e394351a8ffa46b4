package smtp_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/ical/icaltest"
	"github.com/turnero/turnero/internal/notice"
	"github.com/turnero/turnero/internal/smtp"
	"github.com/turnero/turnero/internal/turnero"
)

// A real SMTP server in the test process (emersion/go-smtp), on loopback.

type received struct {
	from     string
	to       []string
	data     []byte
	tls      bool
	authUser string
}

type server struct {
	addr      string
	mu        sync.Mutex
	mails     []received
	user      string // "" accepts mail without authentication
	pass      string
	rejectRcp map[string]*gosmtp.SMTPError // by recipient
}

func (s *server) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{s: s, tls: isTLS}, nil
}

type session struct {
	s    *server
	tls  bool
	user string
	cur  received
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.user || pass != ss.s.pass {
			return &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		ss.user = user
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if ss.s.user != "" && ss.user == "" {
		return gosmtp.ErrAuthRequired
	}
	ss.cur = received{from: from, tls: ss.tls, authUser: ss.user}
	return nil
}

func (ss *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if e := ss.s.rejectRcp[to]; e != nil {
		return e
	}
	ss.cur.to = append(ss.cur.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.cur.data = b
	ss.s.mu.Lock()
	ss.s.mails = append(ss.s.mails, ss.cur)
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        {}
func (ss *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// startServer serves SMTP on loopback: STARTTLS offered when cert is given,
// or TLS from the first byte when implicit.
func startServer(t *testing.T, s *server, cert *tls.Certificate, implicit bool) {
	t.Helper()
	srv := gosmtp.NewServer(s)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	var ln net.Listener
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
		if implicit {
			ln = tls.NewListener(ln, srv.TLSConfig)
		}
	}
	s.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var now = time.Date(2021, 4, 1, 12, 0, 0, 0, time.UTC)

func sender(t *testing.T, env map[string]string, roots *x509.CertPool) *smtp.Sender {
	t.Helper()
	cfg, ok, err := smtp.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || !ok {
		t.Fatalf("config: %v %v", ok, err)
	}
	cfg.Timeout = 10 * time.Second
	if roots != nil {
		cfg.TLSConfig = &tls.Config{RootCAs: roots}
	}
	s, err := smtp.New(cfg, fixedClock{now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const code = "K7M2-Q9XP-4TZ"

// rendered is an appointment notice rendered by package notice for the
// sample campaign: Pfizer at a center whose name HTML must escape.
func rendered(t *testing.T, lang turnero.Lang, to string) turnero.NoticeMessage {
	t.Helper()
	c := campaign.Sample()
	c.Notices.StatusURL = "https://vacunacion.example/estado"
	r, err := notice.New(c)
	if err != nil {
		t.Fatal(err)
	}
	center := turnero.Center{ID: "PA-01", Name: "Vacunatorio <Norte> & Sur", Address: "Av. España 1234", Locality: "Paysandú", SlotMinutes: 15}
	dose := func(n int, at time.Time) turnero.NoticeDose {
		return turnero.NoticeDose{Appointment: turnero.Appointment{Registration: 42, Dose: n, Center: center.ID, Start: at,
			Vaccine: "pfizer", State: turnero.AppointmentBooked}, Center: center}
	}
	m, err := r.Render(turnero.Notice{Kind: turnero.NotifyScheduled, Registration: 42, TrackingCode: code, Lang: lang,
		Channel: turnero.ChannelEmail, To: to, Doses: []turnero.NoticeDose{
			dose(1, time.Date(2021, 4, 5, 13, 30, 0, 0, time.UTC)), dose(2, time.Date(2021, 5, 3, 13, 30, 0, 0, time.UTC))}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// parsedMail is a received mail taken apart with net/mail and
// mime/multipart, as a mail program would.
type parsedMail struct {
	header   mail.Header
	subject  string
	text     string
	html     string
	calendar []byte
	calName  string
}

func decodePart(t *testing.T, p *multipart.Part) []byte {
	t.Helper()
	var r io.Reader = p
	switch strings.ToLower(p.Header.Get("Content-Transfer-Encoding")) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, p)
	case "quoted-printable":
		r = quotedprintable.NewReader(p)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var pm parsedMail
	pm.header = msg.Header
	if pm.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	var walk func(contentType string, body io.Reader, part *multipart.Part)
	walk = func(contentType string, body io.Reader, part *multipart.Part) {
		mt, params, err := mime.ParseMediaType(contentType)
		if err != nil {
			t.Fatalf("content type %q: %v", contentType, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header.Get("Content-Type"), p, p)
			}
		}
		if part == nil {
			t.Fatalf("a %s mail that is not multipart", mt)
		}
		b := decodePart(t, part)
		switch mt {
		case "text/plain":
			pm.text = string(b)
		case "text/html":
			pm.html = string(b)
		case "text/calendar":
			pm.calendar = b
			if params["method"] != "PUBLISH" || params["charset"] != "utf-8" {
				t.Errorf("calendar part %q", contentType)
			}
			_, dp, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			pm.calName = dp["filename"]
		default:
			t.Errorf("unexpected part %s", mt)
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Body, nil)
	return pm
}

// TestSendBothLanguages sends an appointment in Spanish and in English over
// STARTTLS with authentication, and reads what the server received.
func TestSendBothLanguages(t *testing.T) {
	cert, roots := selfSigned(t)
	srv := &server{user: "turnero", pass: "s3cr3t;/@"}
	startServer(t, srv, &cert, false)
	s := sender(t, map[string]string{
		smtp.EnvURL:  "smtp://turnero:" + "s3cr3t%3B%2F%40" + "@" + srv.addr,
		smtp.EnvFrom: "Vacunación COVID-19 <no-reply@vacunacion.example>",
	}, roots)

	for _, tt := range []struct {
		lang             turnero.Lang
		to, subject      string
		textHas, htmlHas []string
		attachment       string
		summary          string
	}{
		{turnero.Spanish, "maria@example.org", "Su turno de vacunación",
			[]string{"Dosis 1: lunes 5 de abril de 2021 a las 10:30", "Dosis 2: lunes 3 de mayo de 2021 a las 10:30", "Vacunatorio <Norte> & Sur", code},
			[]string{"Vacunatorio &lt;Norte&gt; &amp; Sur", `<a href="https://vacunacion.example/estado">`, `lang="es"`}, "turno.ics", "Vacunación, dosis 1: Pfizer/BioNTech"},
		{turnero.English, "john@example.org", "Your vaccination appointment",
			[]string{"Dose 1: Monday 5 April 2021 at 10:30", "Dose 2: Monday 3 May 2021 at 10:30", code},
			[]string{"Dose 2: Monday 3 May 2021 at 10:30", `lang="en"`}, "appointment.ics", "Vaccination, dose 1: Pfizer/BioNTech"},
	} {
		id, err := s.Send(context.Background(), rendered(t, tt.lang, tt.to))
		if err != nil {
			t.Fatalf("%s: %v", tt.lang.Code(), err)
		}
		srv.mu.Lock()
		got := srv.mails[len(srv.mails)-1]
		srv.mu.Unlock()
		if !got.tls || got.authUser != "turnero" || got.from != "no-reply@vacunacion.example" || len(got.to) != 1 || got.to[0] != tt.to {
			t.Errorf("envelope: tls %v, user %q, from %q, to %v", got.tls, got.authUser, got.from, got.to)
		}
		pm := parseMail(t, got.data)
		if pm.subject != tt.subject || pm.header.Get("Message-Id") != "<"+id+">" || !strings.HasSuffix(id, "@vacunacion.example") ||
			pm.header.Get("Content-Language") != tt.lang.Code() || pm.header.Get("Auto-Submitted") != "auto-generated" {
			t.Errorf("headers: subject %q, id %q (sent %q), %v", pm.subject, pm.header.Get("Message-Id"), id, pm.header)
		}
		if from, err := pm.header.AddressList("From"); err != nil || from[0].Name != "Vacunación COVID-19" || from[0].Address != "no-reply@vacunacion.example" {
			t.Errorf("From %v %v", from, err)
		}
		if d, err := pm.header.Date(); err != nil || !d.Equal(now) {
			t.Errorf("Date %v %v", d, err)
		}
		for _, p := range tt.textHas {
			if !strings.Contains(pm.text, p) {
				t.Errorf("%s text lacks %q:\n%s", tt.lang.Code(), p, pm.text)
			}
		}
		for _, p := range tt.htmlHas {
			if !strings.Contains(pm.html, p) {
				t.Errorf("%s HTML lacks %q:\n%s", tt.lang.Code(), p, pm.html)
			}
		}
		if strings.Contains(pm.html, "<Norte>") {
			t.Error("the HTML part is not escaped")
		}
		if pm.calName != tt.attachment {
			t.Errorf("calendar file named %q, want %q", pm.calName, tt.attachment)
		}
		_, events, err := icaltest.Parse(pm.calendar)
		if err != nil {
			t.Fatalf("the .ics does not parse: %v\n%s", err, pm.calendar)
		}
		if len(events) != 2 {
			t.Fatalf("%d events, want both doses", len(events))
		}
		for i, want := range []time.Time{time.Date(2021, 4, 5, 13, 30, 0, 0, time.UTC), time.Date(2021, 5, 3, 13, 30, 0, 0, time.UTC)} {
			e := events[i]
			start, _ := e.Time("DTSTART")
			end, _ := e.Time("DTEND")
			stamp, _ := e.Time("DTSTAMP")
			if !start.Equal(want) || end.Sub(start) != 15*time.Minute || !stamp.Equal(now) ||
				e["LOCATION"] != "Av. España 1234, Paysandú" || e["UID"] != fmt.Sprintf("uy-covid19-2021-42-dose%d@turnero", i+1) {
				t.Errorf("dose %d: %v", i+1, e)
			}
		}
		if events[0]["SUMMARY"] != tt.summary {
			t.Errorf("summary %q, want %q", events[0]["SUMMARY"], tt.summary)
		}
	}
}

// TestImplicitTLS: smtps:// speaks TLS from the first byte, and a server
// the configured roots do not trust is refused (transiently: fix the
// configuration, and the message goes).
func TestImplicitTLS(t *testing.T) {
	cert, roots := selfSigned(t)
	srv := &server{}
	startServer(t, srv, &cert, true)
	env := map[string]string{smtp.EnvURL: "smtps://" + srv.addr, smtp.EnvFrom: "no-reply@vacunacion.example"}
	if _, err := sender(t, env, roots).Send(context.Background(), rendered(t, turnero.Spanish, "ana@example.org")); err != nil {
		t.Fatal(err)
	}
	if len(srv.mails) != 1 || !srv.mails[0].tls {
		t.Errorf("received %d mails, TLS %v", len(srv.mails), len(srv.mails) == 1 && srv.mails[0].tls)
	}
	_, otherRoots := selfSigned(t)
	_, err := sender(t, env, otherRoots).Send(context.Background(), rendered(t, turnero.Spanish, "ana@example.org"))
	if err == nil || turnero.IsPermanentDelivery(err) {
		t.Errorf("untrusted server: %v, want a transient failure", err)
	}
}

// TestCredentialsNeverInClear: a server that does not offer TLS gets no
// password (the mail is not sent, and may be once the server is fixed).
func TestCredentialsNeverInClear(t *testing.T) {
	srv := &server{user: "turnero", pass: "pw"}
	startServer(t, srv, nil, false)
	s := sender(t, map[string]string{smtp.EnvURL: "smtp://turnero:pw@" + srv.addr, smtp.EnvFrom: "no-reply@vacunacion.example"}, nil)
	_, err := s.Send(context.Background(), rendered(t, turnero.Spanish, "ana@example.org"))
	if err == nil || turnero.IsPermanentDelivery(err) || len(srv.mails) != 0 {
		t.Errorf("%v, %d mails: want a transient failure and none sent", err, len(srv.mails))
	}
}

func TestFailures(t *testing.T) {
	srv := &server{rejectRcp: map[string]*gosmtp.SMTPError{
		"nobody@example.org": {Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "<nobody@example.org>: Recipient address rejected"},
		"full@example.org":   {Code: 452, EnhancedCode: gosmtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full, try again later"},
	}}
	startServer(t, srv, nil, false)
	s := sender(t, map[string]string{smtp.EnvURL: "smtp://" + srv.addr, smtp.EnvFrom: "no-reply@vacunacion.example"}, nil)

	// A refused address: permanent, with the server's reason, and without
	// the address.
	_, err := s.Send(context.Background(), rendered(t, turnero.Spanish, "nobody@example.org"))
	var de *turnero.DeliveryError
	if !errors.As(err, &de) || !de.Permanent || de.Code != "550 5.1.1" || !strings.Contains(de.Reason, "Recipient address rejected") {
		t.Errorf("550: %v", err)
	}
	if strings.Contains(err.Error(), "nobody") {
		t.Errorf("the address is in the error: %v", err)
	}

	// A full mailbox: 4xx, transient.
	_, err = s.Send(context.Background(), rendered(t, turnero.Spanish, "full@example.org"))
	if !errors.As(err, &de) || de.Permanent || de.Code != "452 4.2.2" || strings.Contains(err.Error(), "full@") {
		t.Errorf("452: %v", err)
	}

	// An address that is not one: permanent, without talking to the server.
	_, err = s.Send(context.Background(), rendered(t, turnero.Spanish, "not an address"))
	if !turnero.IsPermanentDelivery(err) || strings.Contains(err.Error(), "not an address") {
		t.Errorf("bad address: %v", err)
	}

	// Nobody listening: transient.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	down := sender(t, map[string]string{smtp.EnvURL: "smtp://" + closed, smtp.EnvFrom: "no-reply@vacunacion.example"}, nil)
	_, err = down.Send(context.Background(), rendered(t, turnero.Spanish, "ana@example.org"))
	if !errors.As(err, &de) || de.Permanent || de.Code != "connection" {
		t.Errorf("connection refused: %v", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.mails) != 0 {
		t.Errorf("%d mails delivered", len(srv.mails))
	}
}

func TestConfigFromEnv(t *testing.T) {
	if _, ok, err := smtp.ConfigFromEnv(func(string) string { return "" }); ok || err != nil {
		t.Errorf("nothing set: %v %v", ok, err)
	}
	cfg, ok, err := smtp.ConfigFromEnv(func(k string) string {
		return map[string]string{smtp.EnvURL: "smtps://u%40x:p%3Aw@mail.example.org", smtp.EnvFrom: "Vacunas <no-reply@example.org>"}[k]
	})
	if err != nil || !ok || cfg.Host != "mail.example.org" || cfg.Port != 465 || !cfg.ImplicitTLS || cfg.Username != "u@x" ||
		cfg.Password != "p:w" || cfg.From.Address != "no-reply@example.org" || cfg.From.Name != "Vacunas" {
		t.Errorf("smtps: %+v %v %v", cfg, ok, err)
	}
	if cfg, _, _ := smtp.ConfigFromEnv(func(k string) string {
		return map[string]string{smtp.EnvURL: "smtp://mail.example.org", smtp.EnvFrom: "a@example.org"}[k]
	}); cfg.Port != 587 || cfg.ImplicitTLS || cfg.Username != "" {
		t.Errorf("smtp: %+v", cfg)
	}
	for _, tt := range []struct {
		url, from, setting string
	}{
		{"http://mail.example.org", "a@example.org", smtp.EnvURL},
		{"smtp://", "a@example.org", smtp.EnvURL},
		{"smtp://mail.example.org:99999", "a@example.org", smtp.EnvURL},
		{"smtp://mail.example.org/inbox", "a@example.org", smtp.EnvURL},
		{"smtp://user@mail.example.org", "a@example.org", smtp.EnvURL},
		{"smtp://mail.example.org", "", smtp.EnvFrom},
		{"smtp://mail.example.org", "not an address", smtp.EnvFrom},
		{"", "a@example.org", smtp.EnvURL},
	} {
		_, _, err := smtp.ConfigFromEnv(func(k string) string {
			return map[string]string{smtp.EnvURL: tt.url, smtp.EnvFrom: tt.from}[k]
		})
		var se *turnero.SettingError
		if !errors.As(err, &se) || se.Setting != tt.setting || !strings.Contains(err.Error(), tt.setting) {
			t.Errorf("%q %q: %v, want an error naming %s", tt.url, tt.from, err, tt.setting)
		}
	}
	// The password is never repeated in an error.
	_, _, err = smtp.ConfigFromEnv(func(k string) string {
		return map[string]string{smtp.EnvURL: "smtpx://user:hunter2@mail.example.org", smtp.EnvFrom: "a@example.org"}[k]
	})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v", err)
	}
}
