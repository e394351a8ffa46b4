package turnero

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Notices: what a person is told about their appointments, by which channel,
// and how a provider that carries the message reports that it could not.
// Texts are rendered by package notice; providers live in one package each
// (smtp, twilio, whatsapp, sentlog). Nothing here does I/O.

// NotifyReminder is the kind of the reminder sent before each booked dose
// (see NoticePolicy.Reminder). The other kinds are the outbox's: see
// NotifyScheduled, NotifyCancelled, NotifySecondDose in appointment.go and
// NotifyReleased, NotifyMissed in change.go.
const NotifyReminder = "appointment_reminder"

// NoticeKinds lists every kind of notice, in the order the documentation
// gives them.
var NoticeKinds = []string{
	NotifyScheduled, NotifySecondDose, NotifyReminder, NotifyReleased, NotifyMissed, NotifyCancelled,
}

// KnownNoticeKind reports whether kind is one of NoticeKinds.
func KnownNoticeKind(kind string) bool {
	for _, k := range NoticeKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// Channels a notice is delivered by. These are not the channels a
// registration arrives by (Campaign.Channels): a person who registered on
// the web is told by SMS or email.
const (
	ChannelSMS      = "sms"
	ChannelEmail    = "email"
	ChannelWhatsApp = "whatsapp"
	// ChannelLog writes the message to the log and a file instead of
	// sending it: the demo's channel, and the default when no provider is
	// configured.
	ChannelLog = "log"
)

// Code returns the language's ISO 639-1 code.
func (l Lang) Code() string {
	if l == English {
		return "en"
	}
	return "es"
}

// ParseLang reads an ISO 639-1 code ("es", "en"), ignoring case.
func ParseLang(s string) (Lang, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "es":
		return Spanish, true
	case "en":
		return English, true
	}
	return Spanish, false
}

// Langs lists the languages turnero speaks.
var Langs = []Lang{Spanish, English}

// NoticeDose is one booked dose as a notice tells it, with the center it is
// at (centers may be imported, so the caller resolves them).
type NoticeDose struct {
	Appointment
	Center Center
}

// Notice is one thing to tell one person: what the dispatcher hands the
// renderer after opening the person's sealed contact data.
type Notice struct {
	Kind string
	// Registration is the registration's sequence: it makes calendar
	// entries stable across messages (a reminder updates the entry the
	// appointment's message made).
	Registration int64
	// TrackingCode is the person's secret: it goes in the text, never in a
	// URL.
	TrackingCode string
	Lang         Lang
	Channel      string
	// To is an E.164 number for SMS and WhatsApp, an address for email.
	// Personal data.
	To string
	// Doses are the doses the notice is about, dose 1 first: both for an
	// appointment made, the one dose for a reminder or a second dose booked
	// again; none when the booking was released or cancelled.
	Doses []NoticeDose
}

// NoticeMessage is a notice rendered for one channel in one language: exactly what
// the person receives. It holds personal data (To) and the tracking code:
// providers send it, and never log it in clear.
type NoticeMessage struct {
	Kind    string
	Channel string
	Lang    Lang
	To      string
	// Subject is the email's subject.
	Subject string
	// Text is the whole message as plain text: the SMS body, the email's
	// text part, what the log provider writes.
	Text string
	// HTML is the email's HTML part (escaped by html/template).
	HTML string
	// Segments is what an SMS costs (see notice.SMSSegments); 0 for other
	// channels.
	Segments int
	// WhatsApp is the approved template a WhatsApp notice is sent as: the
	// Cloud API allows free text only within 24 hours of the person's last
	// message.
	WhatsApp *WhatsAppTemplate
	// Events are the doses as calendar entries, for the email's .ics file;
	// empty when the notice tells of no booked dose.
	Events []CalendarEvent
}

// WhatsAppTemplate is a message template approved in the WhatsApp Business
// account, with the values of its body's parameters in order.
type WhatsAppTemplate struct {
	Name string
	// Language is the template's language code as approved ("es",
	// "en_US").
	Language   string
	Parameters []string
}

// CalendarEvent is one dose as an entry of the person's calendar.
type CalendarEvent struct {
	// UID is stable for a registration's dose, so that a later message
	// updates the entry rather than adding another.
	UID        string
	Start, End time.Time
	Summary    string
	Location   string
	// Description is free text; the tracking code may be in it (never in a
	// URL).
	Description string
}

// Provider delivers rendered messages through one channel: an SMS gateway,
// an SMTP server, the WhatsApp Cloud API, the log. Send returns the
// provider's id of the message (to match its delivery receipts), or an error:
// a *DeliveryError says whether trying again could help; any other error
// (a connection refused, a timeout, ctx ended) is transient.
type Provider interface {
	Send(ctx context.Context, m NoticeMessage) (providerID string, err error)
}

// DeliveryError is how a provider says why a message was not accepted.
// Permanent means that sending the same message again cannot succeed (an
// invalid number, an address the server rejects, a 4xx that retrying cannot
// fix): the dispatcher marks it failed and never retries it. Otherwise it is
// transient (a 5xx, a rate limit, a timeout) and is tried again later.
type DeliveryError struct {
	Permanent bool
	// Code is the provider's code: Twilio's "21211", an SMTP reply "550",
	// a Graph API "131026", or "http_503".
	Code string
	// Reason is for operators, without personal data (providers redact
	// numbers and addresses from what the far end said).
	Reason string
	// RetryAfter is how long the provider asked us to wait; 0 when it did
	// not say.
	RetryAfter time.Duration
}

func (e *DeliveryError) Error() string {
	class := "transient"
	if e.Permanent {
		class = "permanent"
	}
	return fmt.Sprintf("%s delivery failure %s: %s", class, e.Code, e.Reason)
}

// PermanentDelivery builds a permanent delivery failure.
func PermanentDelivery(code, reason string) *DeliveryError {
	return &DeliveryError{Permanent: true, Code: code, Reason: reason}
}

// TransientDelivery builds a transient delivery failure.
func TransientDelivery(code, reason string, retryAfter time.Duration) *DeliveryError {
	return &DeliveryError{Code: code, Reason: reason, RetryAfter: retryAfter}
}

// IsPermanentDelivery reports whether err says that the message can never be
// delivered. Errors that are not a *DeliveryError are transient: a network
// that fails now may work in a minute.
func IsPermanentDelivery(err error) bool {
	var d *DeliveryError
	return errors.As(err, &d) && d.Permanent
}

// Delivery states of a message, as receipts report them.
const (
	// DeliverySent: the provider accepted it (and may still be trying).
	DeliverySent = "sent"
	// DeliveryDelivered: it reached the person's phone or mailbox.
	DeliveryDelivered = "delivered"
	// DeliveryUndelivered: the carrier could not deliver it (phone off
	// too long, unreachable).
	DeliveryUndelivered = "undelivered"
	// DeliveryFailed: it was never sent to the carrier.
	DeliveryFailed = "failed"
)

// DeliveryReceipt is what a provider reports later about a message it
// accepted.
type DeliveryReceipt struct {
	ProviderID string
	State      string // DeliverySent, DeliveryDelivered, DeliveryUndelivered, DeliveryFailed
	// Code is the provider's error code for undelivered or failed; empty
	// otherwise.
	Code string
}

// SettingError names a setting of the environment (or the command line)
// that is wrong, so that start-up fails with the name of what to fix.
type SettingError struct {
	Setting string
	Problem string
}

func (e *SettingError) Error() string { return "setting " + e.Setting + ": " + e.Problem }

var (
	emailLike = regexp.MustCompile(`[^\s<>"'(),;:\[\]]+@[^\s<>"'(),;:\[\]]+`)
	phoneLike = regexp.MustCompile(`\+?\d[\d ().-]{5,}\d`)
	isoDate   = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)
)

// RedactContact removes from what a provider said (an SMTP reply, a
// gateway's error message) what could identify a person: email addresses,
// and numbers of 7 or more digits, which may be phone numbers. Providers
// put it in DeliveryError.Reason, which operators and logs see.
func RedactContact(s string) string {
	s = emailLike.ReplaceAllString(s, "[address]")
	return phoneLike.ReplaceAllStringFunc(s, func(m string) string {
		digits := 0
		for i := 0; i < len(m); i++ {
			if m[i] >= '0' && m[i] <= '9' {
				digits++
			}
		}
		if digits < 7 || isoDate.MatchString(m) {
			return m
		}
		return "[number]"
	})
}

// MaskContact shows enough of a phone number or an email address for an
// operator to tell two apart, and not enough to reach the person:
// "+598 *** *56", "m***@example.org".
func MaskContact(to string) string {
	if at := strings.LastIndexByte(to, '@'); at >= 0 {
		local := to[:at]
		if local == "" {
			return "***" + to[at:]
		}
		r, _ := utf8.DecodeRuneInString(local)
		return string(r) + "***" + to[at:]
	}
	return MaskPhone(to)
}
