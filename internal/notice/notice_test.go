package notice_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/notice"
	"github.com/turnero/turnero/internal/turnero"
)

const (
	statusURL = "https://vacunacion.example/estado"
	code      = "K7M2-Q9XP-4TZ"
)

// paysandu is a center whose name needs an accent outside GSM-7, and whose
// name and address carry characters HTML must escape.
var paysandu = turnero.Center{ID: "PA-01", Name: "Vacunatorio Paysandú <Norte> & Sur", Department: "UY-PA",
	Locality: "Paysandú", Address: "Av. España 1234", SlotMinutes: 20}

func newRenderer(t *testing.T, change func(c *turnero.Campaign)) (*notice.Renderer, *turnero.Campaign) {
	t.Helper()
	c := campaign.Sample()
	c.Notices.StatusURL = statusURL
	if change != nil {
		change(c)
	}
	r, err := notice.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return r, c
}

// twoDoses are Pfizer on 5 April and 3 May 2021 at 13:30 UTC: 10:30 in
// Montevideo.
func twoDoses() []turnero.NoticeDose {
	d := func(n int, day int, month time.Month) turnero.NoticeDose {
		return turnero.NoticeDose{Appointment: turnero.Appointment{Registration: 42, Dose: n, Center: paysandu.ID,
			Start: time.Date(2021, month, day, 13, 30, 0, 0, time.UTC), Vaccine: "pfizer", State: turnero.AppointmentBooked},
			Center: paysandu}
	}
	return []turnero.NoticeDose{d(1, 5, time.April), d(2, 3, time.May)}
}

func scheduled(channel string, lang turnero.Lang) turnero.Notice {
	return turnero.Notice{Kind: turnero.NotifyScheduled, Registration: 42, TrackingCode: code, Lang: lang,
		Channel: channel, To: "+59899123456", Doses: twoDoses()}
}

func mustContain(t *testing.T, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("%s lacks %q:\n%s", what, p, text)
		}
	}
}

func TestRenderSMS(t *testing.T) {
	r, _ := newRenderer(t, nil)
	for _, tt := range []struct {
		lang  turnero.Lang
		parts []string
	}{
		{turnero.Spanish, []string{"dosis 1 el 05/04/2021 10:30", "dosis 2 el 03/05/2021 10:30", "Vacuna Pfizer/BioNTech",
			"Vacunatorio Paysandu <Norte> & Sur", "Av. España 1234", "Codigo de seguimiento: " + code, statusURL}},
		{turnero.English, []string{"dose 1 on 5 Apr 2021 10:30", "dose 2 on 3 May 2021 10:30", "Vaccine Pfizer/BioNTech",
			"Vacunatorio Paysandu <Norte> & Sur", "Tracking code: " + code, statusURL}},
	} {
		m, err := r.Render(scheduled(turnero.ChannelSMS, tt.lang))
		if err != nil {
			t.Fatal(err)
		}
		mustContain(t, "SMS in "+tt.lang.Code(), m.Text, tt.parts...)
		if m.Kind != turnero.NotifyScheduled || m.Channel != turnero.ChannelSMS || m.Lang != tt.lang || m.To != "+59899123456" {
			t.Errorf("message %+v", m)
		}
		// The accent of Paysandú was replaced, so the message is GSM-7
		// (Ñ and ñ are GSM-7 and stay), and its cost is counted.
		if seg := notice.SMSSegments(m.Text); seg.Encoding != notice.GSM7 || m.Segments != seg.Parts || seg.Parts != 2 {
			t.Errorf("%s: %+v, message says %d segments", tt.lang.Code(), seg, m.Segments)
		}
		// The code is in the text and never in a URL: the link is the
		// campaign's, as it is.
		for _, w := range strings.Fields(m.Text) {
			if strings.HasPrefix(w, "http") && strings.Contains(w, strings.ReplaceAll(code, "-", "")[:4]) {
				t.Errorf("the tracking code is in a link: %s", w)
			}
		}
		if m.Subject != "" || m.HTML != "" || m.WhatsApp != nil || len(m.Events) != 0 {
			t.Errorf("an SMS with email or WhatsApp parts: %+v", m)
		}
	}

	// A campaign that pays for UCS-2 keeps its accents, and a segment
	// carries 67 characters instead of 153.
	r, _ = newRenderer(t, func(c *turnero.Campaign) { c.Notices.SMSUnicode = true; c.Notices.SMSMaxSegments = 10 })
	m, err := r.Render(scheduled(turnero.ChannelSMS, turnero.Spanish))
	if err != nil {
		t.Fatal(err)
	}
	if seg := notice.SMSSegments(m.Text); !strings.Contains(m.Text, "Paysandú") || seg.Encoding != notice.UCS2 || seg.Parts != 4 || m.Segments != 4 {
		t.Errorf("with sms_unicode: %+v, %d segments: %s", seg, m.Segments, m.Text)
	}
}

func TestRenderEmail(t *testing.T) {
	r, c := newRenderer(t, nil)
	for _, tt := range []struct {
		lang    turnero.Lang
		subject string
		parts   []string
		summary string
	}{
		{turnero.Spanish, "Su turno de vacunación", []string{"Dosis 1: lunes 5 de abril de 2021 a las 10:30", "Dosis 2: lunes 3 de mayo de 2021 a las 10:30",
			"Vacunatorio Paysandú <Norte> & Sur, Av. España 1234, Paysandú", "Vacuna: Pfizer/BioNTech", "Su código de seguimiento es " + code, statusURL}, "Vacunación, dosis 2: Pfizer/BioNTech"},
		{turnero.English, "Your vaccination appointment", []string{"Dose 1: Monday 5 April 2021 at 10:30", "Dose 2: Monday 3 May 2021 at 10:30",
			"Vaccine: Pfizer/BioNTech", "Your tracking code is " + code, statusURL}, "Vaccination, dose 2: Pfizer/BioNTech"},
	} {
		m, err := r.Render(scheduled(turnero.ChannelEmail, tt.lang))
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != tt.subject {
			t.Errorf("subject %q, want %q", m.Subject, tt.subject)
		}
		mustContain(t, "email text", m.Text, tt.parts...)
		// The HTML part says the same, escaped, with the status page as
		// the only link.
		mustContain(t, "email HTML", m.HTML, `<html lang="`+tt.lang.Code()+`">`, "Vacunatorio Paysandú &lt;Norte&gt; &amp; Sur",
			`<a href="`+statusURL+`">`+statusURL+`</a>`, code)
		if strings.Contains(m.HTML, "<Norte>") || strings.Count(m.HTML, "<a ") != 1 {
			t.Errorf("HTML not escaped, or with other links:\n%s", m.HTML)
		}
		if len(m.Events) != 2 {
			t.Fatalf("%d calendar events, want one per dose", len(m.Events))
		}
		e := m.Events[1]
		if e.UID != c.ID+"-42-dose2@turnero" || !e.Start.Equal(time.Date(2021, 5, 3, 13, 30, 0, 0, time.UTC)) ||
			e.End.Sub(e.Start) != 20*time.Minute || e.Location != "Av. España 1234, Paysandú" || e.Summary != tt.summary ||
			!strings.Contains(e.Description, code) || e.Start.Location() != time.UTC {
			t.Errorf("dose 2's event %+v", e)
		}
	}

	// A cancellation has nothing to put in a calendar.
	n := scheduled(turnero.ChannelEmail, turnero.Spanish)
	n.Kind, n.Doses = turnero.NotifyCancelled, nil
	m, err := r.Render(n)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Events) != 0 || !strings.Contains(m.Text, "cancelado") {
		t.Errorf("cancellation: %+v", m)
	}
}

func TestRenderWhatsApp(t *testing.T) {
	r, _ := newRenderer(t, nil)
	m, err := r.Render(scheduled(turnero.ChannelWhatsApp, turnero.English))
	if err != nil {
		t.Fatal(err)
	}
	w := m.WhatsApp
	want := []string{"Monday 5 April 2021 10:30", "Monday 3 May 2021 10:30", "Vacunatorio Paysandú <Norte> & Sur",
		"Av. España 1234", "Pfizer/BioNTech", code, statusURL}
	if w == nil || w.Name != "turnero_appointments_scheduled" || w.Language != "en" || strings.Join(w.Parameters, "|") != strings.Join(want, "|") {
		t.Fatalf("template %+v, want parameters %q", w, want)
	}
	if !strings.Contains(m.Text, code) {
		t.Errorf("the WhatsApp message carries no text: %+v", m)
	}

	// A parameter with nothing to say is "-": the Cloud API refuses empty
	// ones. One dose only, no status page.
	r, _ = newRenderer(t, func(c *turnero.Campaign) { c.Notices.StatusURL = "" })
	n := scheduled(turnero.ChannelWhatsApp, turnero.Spanish)
	n.Doses = n.Doses[:1]
	if m, err = r.Render(n); err != nil {
		t.Fatal(err)
	}
	if p := m.WhatsApp.Parameters; p[1] != "-" || p[6] != "-" || m.WhatsApp.Language != "es" {
		t.Errorf("parameters %q", p)
	}
}

func TestRenderEveryKind(t *testing.T) {
	r, _ := newRenderer(t, nil)
	for _, kind := range turnero.NoticeKinds {
		for _, lang := range turnero.Langs {
			for _, ch := range []string{turnero.ChannelSMS, turnero.ChannelEmail, turnero.ChannelWhatsApp, turnero.ChannelLog} {
				n := scheduled(ch, lang)
				n.Kind = kind
				switch kind {
				case turnero.NotifySecondDose, turnero.NotifyReminder:
					n.Doses = n.Doses[1:]
				case turnero.NotifyScheduled:
				default:
					n.Doses = nil
				}
				m, err := r.Render(n)
				if err != nil {
					t.Fatalf("%s %s %s: %v", kind, lang.Code(), ch, err)
				}
				if !strings.Contains(m.Text, code) {
					t.Errorf("%s %s %s: no tracking code in %q", kind, lang.Code(), ch, m.Text)
				}
				if n.Doses != nil && !strings.Contains(m.Text, "03/05/2021") && !strings.Contains(m.Text, "3 May 2021") && !strings.Contains(m.Text, "3 de mayo") {
					t.Errorf("%s %s %s: no date of dose 2 in %q", kind, lang.Code(), ch, m.Text)
				}
			}
		}
	}
	if _, err := r.Render(turnero.Notice{Kind: "appointment_made", Channel: turnero.ChannelSMS}); err == nil {
		t.Error("rendered an unknown kind")
	}
	if _, err := r.Render(turnero.Notice{Kind: turnero.NotifyCancelled, Channel: "pigeon"}); !errors.Is(err, notice.ErrUnknownChannel) {
		t.Errorf("unknown channel: %v", err)
	}
}

// TestCheck: a campaign's texts are rendered when it loads, and the first
// that cannot render or costs too much is named.
func TestCheck(t *testing.T) {
	key := turnero.NoticeTextKey{Kind: turnero.NotifyScheduled, Lang: turnero.Spanish}
	tests := []struct {
		name    string
		change  func(c *turnero.Campaign)
		field   string
		problem string
	}{
		{"an SMS over budget", func(c *turnero.Campaign) {
			c.Notices.Texts = map[turnero.NoticeTextKey]turnero.NoticeText{key: {SMS: strings.Repeat("Su turno. ", 50) + "{{.Code}}"}}
		}, "notifications.texts.appointments_scheduled.es.sms", "renders to 4 SMS segments"},
		{"a long center name makes the shipped text too long", func(c *turnero.Campaign) {
			c.Notices.SMSMaxSegments = 2
			c.Centers[3].Name = strings.Repeat("Centro de Salud ", 8)
		}, "notifications.texts.appointments_scheduled.es.sms", "the shipped text: renders to 3"},
		{"an accent costs double with sms_unicode", func(c *turnero.Campaign) {
			c.Notices.SMSUnicode = true
		}, "notifications.texts.appointments_scheduled.es.sms", "UCS-2"},
		{"a template that does not parse", func(c *turnero.Campaign) {
			c.Notices.Texts = map[turnero.NoticeTextKey]turnero.NoticeText{key: {Email: "Hola {{.Code"}}
		}, "notifications.texts.appointments_scheduled.es.email", "unclosed action"},
		{"a field that does not exist", func(c *turnero.Campaign) {
			c.Notices.Texts = map[turnero.NoticeTextKey]turnero.NoticeText{{Kind: turnero.NotifyReminder, Lang: turnero.English}: {Subject: "{{.Name}}"}}
		}, "notifications.texts.appointment_reminder.en.subject", "can't evaluate field Name"},
		{"a cancellation has no doses", func(c *turnero.Campaign) {
			c.Notices.Texts = map[turnero.NoticeTextKey]turnero.NoticeText{{Kind: turnero.NotifyCancelled, Lang: turnero.Spanish}: {SMS: "Turno {{.First.Date}}"}}
		}, "notifications.texts.appointments_cancelled.es.sms", "nil pointer"},
		{"a WhatsApp parameter", func(c *turnero.Campaign) {
			c.Notices.Texts = map[turnero.NoticeTextKey]turnero.NoticeText{key: {WhatsAppParameters: []string{"{{.Code}}", "{{.Nope}}"}}}
		}, "notifications.texts.appointments_scheduled.es.whatsapp_parameters[1]", "Nope"},
		{"a WhatsApp template name", func(c *turnero.Campaign) {
			c.Notices.Texts = map[turnero.NoticeTextKey]turnero.NoticeText{key: {WhatsAppTemplate: "Turno Agendado"}}
		}, "notifications.texts.appointments_scheduled.es.whatsapp_template", "lowercase"},
	}
	for _, tt := range tests {
		c := campaign.Sample()
		tt.change(c)
		err := notice.Check(c)
		var ce *turnero.CampaignError
		if !errors.As(err, &ce) || ce.Field != tt.field || !strings.Contains(ce.Problem, tt.problem) {
			t.Errorf("%s: %v, want an error on %s saying %q", tt.name, err, tt.field, tt.problem)
		}
	}
	// The texts shipped fit the sample campaign's budget, with and without
	// a status page.
	c := campaign.Sample()
	c.Notices.StatusURL = statusURL
	if err := notice.Check(c); err != nil {
		t.Errorf("the shipped texts: %v", err)
	}
}

// TestOverride: what a campaign sets replaces the shipped text; what it
// leaves empty keeps it.
func TestOverride(t *testing.T) {
	r, _ := newRenderer(t, func(c *turnero.Campaign) {
		c.Notices.Texts = map[turnero.NoticeTextKey]turnero.NoticeText{
			{Kind: turnero.NotifyScheduled, Lang: turnero.Spanish}: {
				SMS:              "Turno {{.First.ShortDate}} {{.First.Time}} en {{.Center}}. Código {{.Code}}",
				WhatsAppTemplate: "turno_agendado", WhatsAppLanguage: "es_UY",
			},
		}
	})
	m, err := r.Render(scheduled(turnero.ChannelSMS, turnero.Spanish))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Turno 05/04/2021 10:30 en Vacunatorio Paysandu <Norte> & Sur. Codigo " + code; m.Text != want {
		t.Errorf("overridden SMS %q, want %q", m.Text, want)
	}
	if m, err = r.Render(scheduled(turnero.ChannelWhatsApp, turnero.Spanish)); err != nil {
		t.Fatal(err)
	}
	if m.WhatsApp.Name != "turno_agendado" || m.WhatsApp.Language != "es_UY" || len(m.WhatsApp.Parameters) != 7 {
		t.Errorf("overridden template %+v", m.WhatsApp)
	}
	if m, err = r.Render(scheduled(turnero.ChannelEmail, turnero.Spanish)); err != nil || m.Subject != "Su turno de vacunación" {
		t.Errorf("the email kept the shipped text? %q %v", m.Subject, err)
	}
	if m, err = r.Render(scheduled(turnero.ChannelSMS, turnero.English)); err != nil || !strings.HasPrefix(m.Text, "Vacunacion COVID-19") {
		t.Errorf("the English SMS kept the shipped text? %q %v", m.Text, err)
	}
}
