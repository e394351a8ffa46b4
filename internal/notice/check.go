package notice

import (
	"fmt"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// Stand-ins for a campaign whose file lists no centers (they are imported
// later): a name and an address as long as most real ones.
const (
	standInCenter  = "Centro de Vacunación Municipal Nº 12"
	standInAddress = "Avenida General Rivera 3245 esq. Soca"
)

// longestDate is a day whose weekday and month have the longest names in
// both languages (miércoles/septiembre, Wednesday/September), at a time
// with two digits on each side.
var longestDate = time.Date(2021, time.September, 29, 20, 45, 0, 0, time.UTC)

// sampleNotice is a notice of kind with the campaign's longest values: what
// an SMS costs at most, as far as the campaign file can tell (centers
// imported later may have longer names; docs/notifications.md says so).
func (r *Renderer) sampleNotice(kind string, lang turnero.Lang) turnero.Notice {
	c := r.campaign
	center := turnero.Center{ID: "stand-in", Name: standInCenter, Address: standInAddress, SlotMinutes: 15}
	if len(c.Centers) > 0 {
		center = c.Centers[0]
		for _, ct := range c.Centers {
			if len(ct.Name) > len(center.Name) {
				center.Name = ct.Name
			}
			if len(ct.Address) > len(center.Address) {
				center.Address = ct.Address
			}
			if len(ct.Locality) > len(center.Locality) {
				center.Locality = ct.Locality
			}
		}
	}
	vaccine := c.Vaccines[0]
	for _, v := range c.Vaccines {
		if len(v.Name) > len(vaccine.Name) {
			vaccine = v
		}
	}
	start := time.Date(longestDate.Year(), longestDate.Month(), longestDate.Day(),
		longestDate.Hour(), longestDate.Minute(), 0, 0, c.Location)
	dose := func(n int, at time.Time) turnero.NoticeDose {
		return turnero.NoticeDose{Appointment: turnero.Appointment{Dose: n, Center: center.ID, Start: at,
			Vaccine: vaccine.ID, State: turnero.AppointmentBooked}, Center: center}
	}
	n := turnero.Notice{Kind: kind, Registration: 999_999_999, TrackingCode: "XXXX-XXXX-XXX", Lang: lang}
	switch kind {
	case turnero.NotifyScheduled:
		// Both doses on the longest date: a real second dose is four or
		// more weeks later, on a date that may be as long.
		n.Doses = []turnero.NoticeDose{dose(1, start), dose(2, start)}
	case turnero.NotifySecondDose, turnero.NotifyReminder:
		n.Doses = []turnero.NoticeDose{dose(2, start)}
	}
	return n
}

// check renders every text of every kind in every language with the
// campaign's longest values, so that a text that cannot render, or an SMS
// over budget, stops the campaign from loading rather than a message from
// going out.
func (r *Renderer) check() error {
	max := r.campaign.Notices.SMSMaxSegments
	for _, kind := range turnero.NoticeKinds {
		for _, lang := range turnero.Langs {
			ct := r.texts[turnero.NoticeTextKey{Kind: kind, Lang: lang}]
			n := r.sampleNotice(kind, lang)
			d := r.data(&n)
			named := func(field string, err error) error {
				origin := "the campaign's text"
				if !ct.set(field) {
					origin = "the shipped text"
				}
				return &turnero.CampaignError{Field: textField(ct.key, field), Problem: origin + ": " + err.Error()}
			}
			sms, err := r.sms(ct, &d)
			if err != nil {
				return named("sms", err)
			}
			if seg := SMSSegments(sms); seg.Parts > max {
				return named("sms", fmt.Errorf("renders to %d SMS segments (%s, %d units) with the campaign's longest center name, address and vaccine; notifications.sms_max_segments allows %d",
					seg.Parts, seg.Encoding, seg.Units, max))
			}
			if _, err := execute(ct.subject, &d); err != nil {
				return named("subject", err)
			}
			if _, err := execute(ct.email, &d); err != nil {
				return named("email", err)
			}
			for i, t := range ct.waParams {
				if _, err := execute(t, &d); err != nil {
					return named(fmt.Sprintf("whatsapp_parameters[%d]", i), err)
				}
			}
		}
	}
	return nil
}

// set reports whether the campaign file set a text's field.
func (ct *compiledText) set(field string) bool {
	o := ct.overridden
	switch field {
	case "sms":
		return o.SMS != ""
	case "subject":
		return o.Subject != ""
	case "email":
		return o.Email != ""
	}
	return len(o.WhatsAppParameters) > 0
}
