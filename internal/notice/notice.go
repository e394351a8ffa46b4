// Package notice renders what a person is told about their appointments:
// each kind of notice in Spanish or English, as an SMS, an email (text, HTML
// and calendar entries) or a WhatsApp template, from the texts shipped here
// and those the campaign file overrides. It also checks, when a campaign is
// loaded, that every text renders and that every SMS stays within the
// campaign's segment budget.
//
// It must not send anything nor read storage: the dispatcher opens the
// person's contact data, hands a turnero.Notice to Render, and the message
// to a provider.
package notice

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// Renderer renders notices for one campaign. It is safe for concurrent use.
type Renderer struct {
	campaign *turnero.Campaign
	texts    map[turnero.NoticeTextKey]*compiledText
}

// compiledText is one kind's texts in one language, parsed.
type compiledText struct {
	key            turnero.NoticeTextKey
	overridden     turnero.NoticeText // what the campaign file set, to say so in errors
	sms            *template.Template
	subject, email *template.Template
	waName, waLang string
	waParams       []*template.Template
}

// New parses the campaign's texts over the shipped ones and renders each
// with the campaign's longest values (see Check).
func New(c *turnero.Campaign) (*Renderer, error) {
	r := &Renderer{campaign: c, texts: make(map[turnero.NoticeTextKey]*compiledText)}
	for _, kind := range turnero.NoticeKinds {
		for _, lang := range turnero.Langs {
			key := turnero.NoticeTextKey{Kind: kind, Lang: lang}
			ct, err := compile(key, c.Notices.Texts[key])
			if err != nil {
				return nil, err
			}
			r.texts[key] = ct
		}
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return r, nil
}

// Check reports the first text of the campaign that does not render, or
// whose SMS would cost more than notifications.sms_max_segments, as a
// *turnero.CampaignError naming the text.
func Check(c *turnero.Campaign) error {
	_, err := New(c)
	return err
}

// textField names a text of the campaign file, as errors show it.
func textField(key turnero.NoticeTextKey, field string) string {
	return "notifications.texts." + key.Kind + "." + key.Lang.Code() + "." + field
}

func compile(key turnero.NoticeTextKey, over turnero.NoticeText) (*compiledText, error) {
	shipped := shippedTexts[key]
	waName, waParams := shippedWhatsApp(key.Kind)
	pick := func(over, shipped string) string {
		if strings.TrimSpace(over) != "" {
			return over
		}
		return shipped
	}
	ct := &compiledText{key: key, overridden: over,
		waName: pick(over.WhatsAppTemplate, waName), waLang: pick(over.WhatsAppLanguage, key.Lang.Code())}
	parse := func(field, text string) (*template.Template, error) {
		t, err := template.New(field).Option("missingkey=error").Parse(text)
		if err != nil {
			return nil, &turnero.CampaignError{Field: textField(key, field), Problem: err.Error()}
		}
		return t, nil
	}
	var err error
	if ct.sms, err = parse("sms", pick(over.SMS, shipped.SMS)); err != nil {
		return nil, err
	}
	if ct.subject, err = parse("subject", pick(over.Subject, shipped.Subject)); err != nil {
		return nil, err
	}
	if ct.email, err = parse("email", pick(over.Email, shipped.Email)); err != nil {
		return nil, err
	}
	if len(over.WhatsAppParameters) > 0 {
		waParams = over.WhatsAppParameters
	}
	for i, p := range waParams {
		t, err := parse(fmt.Sprintf("whatsapp_parameters[%d]", i), p)
		if err != nil {
			return nil, err
		}
		ct.waParams = append(ct.waParams, t)
	}
	if !validTemplateName(ct.waName) {
		return nil, &turnero.CampaignError{Field: textField(key, "whatsapp_template"),
			Problem: fmt.Sprintf("must be 1-512 lowercase letters, digits and '_', as WhatsApp names templates, got %q", ct.waName)}
	}
	return ct, nil
}

func validTemplateName(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// textData is what a text's template sees (docs/campaign.md lists it).
type textData struct {
	Campaign  string
	Code      string
	StatusURL string
	// Vaccine, Center, Address, Locality and Place are the first dose's.
	Vaccine, Center, Address, Locality, Place string
	Doses                                     []doseData
	// First and Second are the notice's first and second doses (nil when
	// it has fewer): for a reminder or a second dose booked again, First is
	// that one dose.
	First, Second *doseData
}

type doseData struct {
	Dose                  int
	Date, ShortDate, Time string
	// Place is the address with the locality when the address does not
	// name it already.
	Center, Address, Locality, Place string
	Vaccine                          string
	start, end                       time.Time
}

var (
	esWeekdays = [...]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}
	esMonths   = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
		"septiembre", "octubre", "noviembre", "diciembre"}
)

func formatDate(t time.Time, lang turnero.Lang) (long, short string) {
	if lang == turnero.English {
		return t.Format("Monday 2 January 2006"), t.Format("2 Jan 2006")
	}
	return fmt.Sprintf("%s %d de %s de %d", esWeekdays[t.Weekday()], t.Day(), esMonths[t.Month()-1], t.Year()),
		t.Format("02/01/2006")
}

// defaultSlot is the length of a calendar entry whose center names no slot
// length.
const defaultSlot = 15 * time.Minute

func (r *Renderer) data(n *turnero.Notice) textData {
	c := r.campaign
	d := textData{Campaign: c.Name, Code: n.TrackingCode, StatusURL: c.Notices.StatusURL}
	for _, nd := range n.Doses {
		local := nd.Start.In(c.Location)
		long, short := formatDate(local, n.Lang)
		vaccine := nd.Vaccine
		if v, ok := c.Vaccine(nd.Vaccine); ok && v.Name != "" {
			vaccine = v.Name
		}
		center := nd.Center.Name
		if center == "" {
			center = nd.Appointment.Center
		}
		slot := time.Duration(nd.Center.SlotMinutes) * time.Minute
		if slot <= 0 {
			slot = defaultSlot
		}
		d.Doses = append(d.Doses, doseData{Dose: nd.Dose, Date: long, ShortDate: short, Time: local.Format("15:04"),
			Center: center, Address: nd.Center.Address, Locality: nd.Center.Locality, Vaccine: vaccine,
			start: nd.Start, end: nd.Start.Add(slot)})
		last := &d.Doses[len(d.Doses)-1]
		last.Place = place(last.Address, last.Locality)
	}
	if len(d.Doses) > 0 {
		d.First = &d.Doses[0]
		d.Vaccine, d.Center, d.Address, d.Locality, d.Place = d.First.Vaccine, d.First.Center, d.First.Address, d.First.Locality, d.First.Place
	}
	if len(d.Doses) > 1 {
		d.Second = &d.Doses[1]
	}
	return d
}

func execute(t *template.Template, d *textData) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// ErrUnknownChannel: a notice names a channel no renderer knows.
var ErrUnknownChannel = errors.New("unknown notice channel")

// Render renders a notice for its channel in its language.
func (r *Renderer) Render(n turnero.Notice) (turnero.NoticeMessage, error) {
	ct, ok := r.texts[turnero.NoticeTextKey{Kind: n.Kind, Lang: n.Lang}]
	if !ok {
		return turnero.NoticeMessage{}, fmt.Errorf("render notice: unknown kind %q", n.Kind)
	}
	d := r.data(&n)
	m := turnero.NoticeMessage{Kind: n.Kind, Channel: n.Channel, Lang: n.Lang, To: n.To}
	var err error
	switch n.Channel {
	case turnero.ChannelSMS:
		m.Text, err = r.sms(ct, &d)
		m.Segments = SMSSegments(m.Text).Parts
	case turnero.ChannelWhatsApp:
		// The text goes with the template: it is what the log shows, and
		// what the chat may send as free text within the 24-hour window.
		if m.Text, err = r.sms(ct, &d); err == nil {
			m.WhatsApp, err = r.whatsApp(ct, &d)
		}
	case turnero.ChannelEmail, turnero.ChannelLog:
		err = r.email(ct, &d, &n, &m)
	default:
		err = fmt.Errorf("%w %q", ErrUnknownChannel, n.Channel)
	}
	if err != nil {
		return turnero.NoticeMessage{}, fmt.Errorf("render %s notice in %s for %s: %w", n.Kind, n.Lang.Code(), n.Channel, err)
	}
	return m, nil
}

func (r *Renderer) sms(ct *compiledText, d *textData) (string, error) {
	s, err := execute(ct.sms, d)
	if err != nil {
		return "", err
	}
	if !r.campaign.Notices.SMSUnicode {
		s = ToGSM7(s)
	}
	return strings.TrimSpace(s), nil
}

func (r *Renderer) whatsApp(ct *compiledText, d *textData) (*turnero.WhatsAppTemplate, error) {
	w := &turnero.WhatsAppTemplate{Name: ct.waName, Language: ct.waLang}
	for _, t := range ct.waParams {
		p, err := execute(t, d)
		if err != nil {
			return nil, err
		}
		w.Parameters = append(w.Parameters, whatsAppParameter(p))
	}
	return w, nil
}

// whatsAppParameter makes a value the Cloud API accepts as a body
// parameter: not empty, no new lines or tabs, no runs of more than four
// spaces.
func whatsAppParameter(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	return s
}

func (r *Renderer) email(ct *compiledText, d *textData, n *turnero.Notice, m *turnero.NoticeMessage) error {
	subject, err := execute(ct.subject, d)
	if err != nil {
		return err
	}
	m.Subject = strings.Join(strings.Fields(subject), " ") // one line: it is a header
	if m.Text, err = execute(ct.email, d); err != nil {
		return err
	}
	m.Text = strings.TrimSpace(m.Text) + "\n"
	if m.HTML, err = emailHTML(n.Lang, m.Subject, m.Text, r.campaign.Notices.StatusURL); err != nil {
		return err
	}
	if bookedKind(n.Kind) {
		m.Events = r.events(n, d)
	}
	return nil
}

// bookedKind reports whether a notice of kind tells of doses the person is
// to attend: those go in their calendar.
func bookedKind(kind string) bool {
	return kind == turnero.NotifyScheduled || kind == turnero.NotifySecondDose || kind == turnero.NotifyReminder
}

func (r *Renderer) events(n *turnero.Notice, d *textData) []turnero.CalendarEvent {
	var out []turnero.CalendarEvent
	for _, dose := range d.Doses {
		summary := fmt.Sprintf("Vacunación, dosis %d: %s", dose.Dose, dose.Vaccine)
		desc := fmt.Sprintf("%s. %s, %s.\nCódigo de seguimiento: %s", r.campaign.Name, dose.Center, dose.Address, d.Code)
		if n.Lang == turnero.English {
			summary = fmt.Sprintf("Vaccination, dose %d: %s", dose.Dose, dose.Vaccine)
			desc = fmt.Sprintf("%s. %s, %s.\nTracking code: %s", r.campaign.Name, dose.Center, dose.Address, d.Code)
		}
		if d.StatusURL != "" {
			desc += "\n" + d.StatusURL
		}
		out = append(out, turnero.CalendarEvent{
			UID:   r.campaign.ID + "-" + strconv.FormatInt(n.Registration, 10) + "-dose" + strconv.Itoa(dose.Dose) + "@turnero",
			Start: dose.start.UTC(), End: dose.end.UTC(),
			Summary: summary, Location: location(&dose), Description: desc,
		})
	}
	return out
}

// place is an address with its locality, unless the address names it.
func place(address, locality string) string {
	switch {
	case address == "":
		return locality
	case locality != "" && !strings.Contains(strings.ToLower(address), strings.ToLower(locality)):
		return address + ", " + locality
	}
	return address
}

// location is where a calendar sends the person: the center's address with
// its locality, or its name when it has no address.
func location(d *doseData) string {
	if d.Address == "" {
		return d.Center
	}
	return d.Place
}

// emailPage is the HTML part: the text's paragraphs, escaped by
// html/template, with the status page as a link.
var emailPage = htmltemplate.Must(htmltemplate.New("email").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.Subject}}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a;max-width:36em">
{{range .Paragraphs}}<p>{{range $i, $line := .}}{{if $i}}<br>
{{end}}{{range $line}}{{if .Link}}<a href="{{.Text}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}{{end}}</p>
{{end}}</body>
</html>
`))

type htmlSpan struct {
	Text string
	Link bool
}

func emailHTML(lang turnero.Lang, subject, text, link string) (string, error) {
	var paragraphs [][][]htmlSpan
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		var lines [][]htmlSpan
		for _, line := range strings.Split(strings.Trim(p, "\n"), "\n") {
			lines = append(lines, spans(strings.TrimSpace(line), link))
		}
		paragraphs = append(paragraphs, lines)
	}
	var b bytes.Buffer
	err := emailPage.Execute(&b, struct {
		Lang, Subject string
		Paragraphs    [][][]htmlSpan
	}{lang.Code(), subject, paragraphs})
	return b.String(), err
}

// spans cuts a line where the link appears, so that only the campaign's own
// status page becomes a link.
func spans(line, link string) []htmlSpan {
	var out []htmlSpan
	for link != "" {
		before, after, found := strings.Cut(line, link)
		if !found {
			break
		}
		if before != "" {
			out = append(out, htmlSpan{Text: before})
		}
		out = append(out, htmlSpan{Text: link, Link: true})
		line = after
	}
	if line != "" {
		out = append(out, htmlSpan{Text: line})
	}
	return out
}
