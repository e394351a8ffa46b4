package turnero

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// NoticePolicy is how a campaign tells people of their appointments: the
// campaign file's [notifications] section.
type NoticePolicy struct {
	// StatusURL is the page where a person checks their status. It goes in
	// messages as it is: the tracking code is written in the text, never
	// added to the URL. Empty: messages give the code without a link.
	StatusURL string
	// QuietStart and QuietEnd bound the quiet hours, in minutes after
	// midnight in the campaign's time zone: no SMS or WhatsApp message is
	// sent from QuietStart until QuietEnd (wrapping midnight when QuietStart
	// is later). Equal values: no quiet hours.
	QuietStart, QuietEnd int
	// Reminder is how long before each booked dose a reminder is sent; 0:
	// no reminders.
	Reminder time.Duration
	// SMSMaxSegments is the most segments an SMS text may cost: every text
	// is rendered at start-up with the campaign's longest values and
	// refused when it would cost more.
	SMSMaxSegments int
	// SMSUnicode keeps characters outside GSM-7 (á, í, ó, ú, …) in SMS,
	// which makes the whole message UCS-2: 70 characters a segment instead
	// of 160. Off by default: they are replaced by the nearest GSM-7 letter.
	SMSUnicode bool
	// Texts override the shipped texts, by kind and language; what a text
	// leaves empty keeps the shipped value.
	Texts map[NoticeTextKey]NoticeText
}

// NoticeTextKey names one text of the campaign: a kind of notice in one
// language.
type NoticeTextKey struct {
	Kind string
	Lang Lang
}

// NoticeText is what one kind of notice says in one language, in each
// channel's form. Each is a Go text/template over the data package notice
// documents (docs/campaign.md lists the fields).
type NoticeText struct {
	SMS string
	// Subject and Email are the email's subject and text; the HTML part is
	// made from the text.
	Subject, Email string
	// WhatsAppTemplate and WhatsAppLanguage name the template approved in
	// the WhatsApp Business account; WhatsAppParameters are its body
	// parameters, in order, each a text/template.
	WhatsAppTemplate   string
	WhatsAppLanguage   string
	WhatsAppParameters []string
}

// DefaultNoticePolicy is used when a campaign file has no [notifications],
// and for each setting it leaves out.
var DefaultNoticePolicy = NoticePolicy{
	QuietStart:     21 * 60,
	QuietEnd:       8 * 60,
	Reminder:       24 * time.Hour,
	SMSMaxSegments: 3,
}

// Limits of the notice policy.
const (
	MaxSMSSegments = 10
	maxReminder    = 30 * 24 * time.Hour
	maxStatusURL   = 200
)

// ValidateNotices checks the notice policy's settings. The texts themselves
// (templates that parse, SMS within SMSMaxSegments) are checked by package
// notice, which renders them.
func (c *Campaign) ValidateNotices() error {
	p := &c.Notices
	bad := func(field, format string, args ...any) error {
		return &CampaignError{Field: "notifications." + field, Problem: fmt.Sprintf(format, args...)}
	}
	if p.StatusURL != "" {
		u, err := url.Parse(p.StatusURL)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			return bad("status_url", "must be an http or https URL, got %q", p.StatusURL)
		case u.User != nil:
			return bad("status_url", "must not hold a user or password")
		case len(p.StatusURL) > maxStatusURL:
			return bad("status_url", "must be at most %d characters: it is in every SMS", maxStatusURL)
		}
	}
	if p.QuietStart < 0 || p.QuietStart >= minutesInADay {
		return bad("quiet_hours.start", "must be a time HH:MM")
	}
	if p.QuietEnd < 0 || p.QuietEnd >= minutesInADay {
		return bad("quiet_hours.end", "must be a time HH:MM")
	}
	if p.Reminder < 0 || p.Reminder > maxReminder {
		return bad("reminder", "must be between 0 (no reminders) and 720h, got %s", p.Reminder)
	}
	if p.SMSMaxSegments == 0 {
		p.SMSMaxSegments = DefaultNoticePolicy.SMSMaxSegments
	}
	if p.SMSMaxSegments < 1 || p.SMSMaxSegments > MaxSMSSegments {
		return bad("sms_max_segments", "must be between 1 and %d, got %d", MaxSMSSegments, p.SMSMaxSegments)
	}
	for k := range p.Texts {
		if !KnownNoticeKind(k.Kind) {
			return bad("texts."+k.Kind, "unknown kind of notice (known: %s)", strings.Join(NoticeKinds, ", "))
		}
	}
	return nil
}

// quietChannel reports whether quiet hours hold back messages of channel:
// those that make a phone ring or buzz.
func quietChannel(channel string) bool {
	return channel == ChannelSMS || channel == ChannelWhatsApp
}

// quietAt reports whether local is within the quiet hours.
func (p *NoticePolicy) quietAt(local time.Time) bool {
	if p.QuietStart == p.QuietEnd {
		return false
	}
	m := local.Hour()*60 + local.Minute()
	if p.QuietStart < p.QuietEnd {
		return m >= p.QuietStart && m < p.QuietEnd
	}
	return m >= p.QuietStart || m < p.QuietEnd
}

// clockOn returns the time at minute m after midnight of local's civil date,
// offset by days, in local's zone (time.Date settles a clock time that a
// daylight-saving change skips).
func clockOn(local time.Time, days, m int) time.Time {
	y, mo, d := local.Date()
	return time.Date(y, mo, d+days, m/60, m%60, 0, 0, local.Location())
}

// NoticeSendAt returns when a message of channel that is due at t may be
// sent: t itself, or the end of the quiet hours t falls in.
func (c *Campaign) NoticeSendAt(channel string, t time.Time) time.Time {
	p := &c.Notices
	local := t.In(c.Location)
	if !quietChannel(channel) || !p.quietAt(local) {
		return t
	}
	m := local.Hour()*60 + local.Minute()
	if p.QuietStart > p.QuietEnd && m >= p.QuietStart {
		return clockOn(local, 1, p.QuietEnd) // quiet until tomorrow morning
	}
	return clockOn(local, 0, p.QuietEnd)
}

// ReminderAt returns when the reminder of a dose starting at start goes out
// by channel, for a dose booked at bookedAt; false when none is due:
// reminders are off, or the reminder's time is not after the booking (the
// appointment's own message is then recent enough). A reminder whose time
// falls in quiet hours goes the minute before they begin, early rather than
// late; if that is not after the booking either, at their end, when that is
// still before the dose.
func (c *Campaign) ReminderAt(channel string, start, bookedAt time.Time) (time.Time, bool) {
	p := &c.Notices
	if p.Reminder <= 0 {
		return time.Time{}, false
	}
	t := start.Add(-p.Reminder)
	if !t.After(bookedAt) {
		return time.Time{}, false
	}
	local := t.In(c.Location)
	if !quietChannel(channel) || !p.quietAt(local) {
		return t, true
	}
	m := local.Hour()*60 + local.Minute()
	began := clockOn(local, 0, p.QuietStart)
	if p.QuietStart > p.QuietEnd && m < p.QuietEnd {
		began = clockOn(local, -1, p.QuietStart) // quiet since last evening
	}
	if early := began.Add(-time.Minute); early.After(bookedAt) {
		return early, true
	}
	if late := c.NoticeSendAt(channel, t); late.Before(start) {
		return late, true
	}
	return time.Time{}, false
}
