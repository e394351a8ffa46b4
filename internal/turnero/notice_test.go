package turnero_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/turnero"
)

func montevideo(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Montevideo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// quietCampaign has the default quiet hours (21:00 to 08:00) and reminder
// (24 h) in Montevideo.
func quietCampaign(t *testing.T) *turnero.Campaign {
	c := &turnero.Campaign{Location: montevideo(t), Notices: turnero.DefaultNoticePolicy}
	return c
}

func TestNoticeSendAt(t *testing.T) {
	c := quietCampaign(t)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, c.Location)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		channel, due, want string
	}{
		{turnero.ChannelSMS, "2021-04-05 12:00", "2021-04-05 12:00"},
		{turnero.ChannelSMS, "2021-04-05 20:59", "2021-04-05 20:59"},
		{turnero.ChannelSMS, "2021-04-05 21:00", "2021-04-06 08:00"}, // quiet starts
		{turnero.ChannelSMS, "2021-04-05 23:30", "2021-04-06 08:00"},
		{turnero.ChannelSMS, "2021-04-06 00:00", "2021-04-06 08:00"}, // after midnight: this morning
		{turnero.ChannelWhatsApp, "2021-04-06 07:59", "2021-04-06 08:00"},
		{turnero.ChannelWhatsApp, "2021-04-06 08:00", "2021-04-06 08:00"}, // quiet ends
		{turnero.ChannelSMS, "2021-12-31 22:00", "2022-01-01 08:00"},      // across a year
		{turnero.ChannelEmail, "2021-04-05 23:30", "2021-04-05 23:30"},    // email never waits
		{turnero.ChannelLog, "2021-04-06 03:00", "2021-04-06 03:00"},
	}
	for _, tt := range tests {
		got := c.NoticeSendAt(tt.channel, at(tt.due))
		if !got.Equal(at(tt.want)) {
			t.Errorf("%s due %s: sent at %s, want %s", tt.channel, tt.due, got.In(c.Location).Format("2006-01-02 15:04"), tt.want)
		}
	}
	// A message due at an instant given in UTC is judged by the campaign's
	// clock: 01:00 UTC is 22:00 in Montevideo.
	if got := c.NoticeSendAt(turnero.ChannelSMS, time.Date(2021, 4, 6, 1, 0, 0, 0, time.UTC)); !got.Equal(at("2021-04-06 08:00")) {
		t.Errorf("01:00 UTC: %s", got)
	}

	// Quiet hours within one day (13:00-15:00, a siesta), and none at all.
	c.Notices.QuietStart, c.Notices.QuietEnd = 13*60, 15*60
	if got := c.NoticeSendAt(turnero.ChannelSMS, at("2021-04-05 14:10")); !got.Equal(at("2021-04-05 15:00")) {
		t.Errorf("siesta: %s", got)
	}
	if got := c.NoticeSendAt(turnero.ChannelSMS, at("2021-04-05 23:10")); !got.Equal(at("2021-04-05 23:10")) {
		t.Errorf("evening with a siesta policy: %s", got)
	}
	c.Notices.QuietStart, c.Notices.QuietEnd = 0, 0
	if got := c.NoticeSendAt(turnero.ChannelSMS, at("2021-04-05 03:10")); !got.Equal(at("2021-04-05 03:10")) {
		t.Errorf("no quiet hours: %s", got)
	}
}

func TestReminderAt(t *testing.T) {
	c := quietCampaign(t)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, c.Location)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name          string
		reminder      time.Duration
		channel       string
		start, booked string
		want          string // "" when no reminder is due
	}{
		{"a day before", 24 * time.Hour, turnero.ChannelSMS, "2021-04-10 10:15", "2021-04-01 12:00", "2021-04-09 10:15"},
		{"booked within the day: no reminder", 24 * time.Hour, turnero.ChannelSMS, "2021-04-10 10:15", "2021-04-09 11:00", ""},
		{"booked at the reminder's time: no reminder", 24 * time.Hour, turnero.ChannelSMS, "2021-04-10 10:15", "2021-04-09 10:15", ""},
		{"reminders off", 0, turnero.ChannelSMS, "2021-04-10 10:15", "2021-04-01 12:00", ""},
		{"in quiet hours: the minute before they begin", 12 * time.Hour, turnero.ChannelSMS, "2021-04-10 10:00", "2021-04-01 12:00", "2021-04-09 20:59"},
		{"after midnight: before last evening's quiet", 4 * time.Hour, turnero.ChannelWhatsApp, "2021-04-10 09:00", "2021-04-01 12:00", "2021-04-09 20:59"},
		{"email is never held", 12 * time.Hour, turnero.ChannelEmail, "2021-04-10 10:00", "2021-04-01 12:00", "2021-04-09 22:00"},
		{"booked during quiet hours: at their end", 3 * time.Hour, turnero.ChannelSMS, "2021-04-10 09:30", "2021-04-09 22:00", "2021-04-10 08:00"},
		{"booked during quiet hours for a dose at their end: none", 3 * time.Hour, turnero.ChannelSMS, "2021-04-10 08:00", "2021-04-09 22:00", ""},
	}
	for _, tt := range tests {
		c.Notices.Reminder = tt.reminder
		got, ok := c.ReminderAt(tt.channel, at(tt.start), at(tt.booked))
		switch {
		case tt.want == "" && ok:
			t.Errorf("%s: reminder at %s, want none", tt.name, got.In(c.Location).Format("2006-01-02 15:04"))
		case tt.want != "" && (!ok || !got.Equal(at(tt.want))):
			t.Errorf("%s: reminder at %s (%v), want %s", tt.name, got.In(c.Location).Format("2006-01-02 15:04"), ok, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	base, cap := 30*time.Second, time.Hour
	for attempt := 1; attempt <= 12; attempt++ {
		full := base << (attempt - 1)
		if full > cap {
			full = cap
		}
		seen := map[time.Duration]bool{}
		for range 200 {
			d := turnero.Backoff(base, cap, attempt, rnd)
			if d < full/2 || d > full {
				t.Fatalf("attempt %d: %s outside [%s, %s]", attempt, d, full/2, full)
			}
			seen[d] = true
		}
		if len(seen) < 100 {
			t.Errorf("attempt %d: only %d distinct delays in 200: no jitter", attempt, len(seen))
		}
	}
	// The same seed gives the same delays: tests and replays can rely on it.
	a, b := rand.New(rand.NewPCG(7, 7)), rand.New(rand.NewPCG(7, 7))
	for attempt := range 10 {
		if x, y := turnero.Backoff(base, cap, attempt, a), turnero.Backoff(base, cap, attempt, b); x != y {
			t.Fatalf("attempt %d: %s and %s from one seed", attempt, x, y)
		}
	}
	// A huge attempt count does not overflow past the cap.
	if d := turnero.Backoff(base, cap, 1000, rnd); d < cap/2 || d > cap {
		t.Errorf("attempt 1000: %s", d)
	}
}

func TestRetryDecide(t *testing.T) {
	p := turnero.RetryPolicy{Base: time.Second, Cap: time.Minute, MaxAttempts: 5}
	rnd := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name      string
		err       error
		attempt   int
		retry     bool
		minAfter  time.Duration
		maxAfter  time.Duration
		reasonHas string
	}{
		{"permanent: never", turnero.PermanentDelivery("21211", "invalid 'To' number"), 1, false, 0, 0, "21211"},
		{"transient: backoff", turnero.TransientDelivery("http_503", "service unavailable", 0), 3, true, 2 * time.Second, 4 * time.Second, "http_503"},
		{"a connection error is transient", fmt.Errorf("post: %w", errors.New("connection refused")), 1, true, time.Second / 2, time.Second, "connection refused"},
		{"Retry-After longer than the backoff wins", turnero.TransientDelivery("20429", "too many requests", 45*time.Second), 1, true, 45 * time.Second, 45 * time.Second, "20429"},
		{"Retry-After shorter than the backoff loses", turnero.TransientDelivery("20429", "too many requests", time.Millisecond), 4, true, 4 * time.Second, 8 * time.Second, "20429"},
		{"a Retry-After of a year is bounded", turnero.TransientDelivery("20429", "too many requests", 365*24*time.Hour), 1, true, 24 * time.Hour, 24 * time.Hour, ""},
		{"transient at the last attempt: gives up", turnero.TransientDelivery("http_500", "internal error", 0), 5, false, 0, 0, "gave up after 5 attempts"},
		{"wrapped permanent is still permanent", fmt.Errorf("send: %w", turnero.PermanentDelivery("550", "mailbox unavailable")), 1, false, 0, 0, "550"},
	}
	for _, tt := range tests {
		d := p.Decide(tt.err, tt.attempt, rnd)
		if d.Retry != tt.retry || d.After < tt.minAfter || d.After > tt.maxAfter || !strings.Contains(d.Reason, tt.reasonHas) {
			t.Errorf("%s: %+v, want retry %v after %s-%s, reason with %q", tt.name, d, tt.retry, tt.minAfter, tt.maxAfter, tt.reasonHas)
		}
	}
	// A zero policy is the default one.
	if d := (turnero.RetryPolicy{}).Decide(turnero.TransientDelivery("http_500", "x", 0), 1, rnd); !d.Retry ||
		d.After < turnero.DefaultRetryPolicy.Base/2 || d.After > turnero.DefaultRetryPolicy.Base {
		t.Errorf("zero policy: %+v", d)
	}
	if !turnero.IsPermanentDelivery(fmt.Errorf("x: %w", turnero.PermanentDelivery("1", "r"))) ||
		turnero.IsPermanentDelivery(turnero.TransientDelivery("1", "r", 0)) || turnero.IsPermanentDelivery(errors.New("eof")) {
		t.Error("IsPermanentDelivery misclassifies")
	}
}

func TestNoticePolicyValidate(t *testing.T) {
	if c := campaign.Sample(); c.Notices.SMSMaxSegments == 0 || c.Notices.Reminder != 24*time.Hour ||
		c.Notices.QuietStart != 21*60 || c.Notices.QuietEnd != 8*60 {
		t.Errorf("sample's notice policy %+v, want the defaults", c.Notices)
	}
	tests := []struct {
		field  string
		change func(p *turnero.NoticePolicy)
	}{
		{"notifications.status_url", func(p *turnero.NoticePolicy) { p.StatusURL = "estado" }},
		{"notifications.status_url", func(p *turnero.NoticePolicy) { p.StatusURL = "ftp://x.example/estado" }},
		{"notifications.status_url", func(p *turnero.NoticePolicy) { p.StatusURL = "https://user:pw@x.example/" }},
		{"notifications.status_url", func(p *turnero.NoticePolicy) { p.StatusURL = "https://x.example/" + strings.Repeat("a", 200) }},
		{"notifications.quiet_hours.start", func(p *turnero.NoticePolicy) { p.QuietStart = 24 * 60 }},
		{"notifications.quiet_hours.end", func(p *turnero.NoticePolicy) { p.QuietEnd = -1 }},
		{"notifications.reminder", func(p *turnero.NoticePolicy) { p.Reminder = -time.Hour }},
		{"notifications.reminder", func(p *turnero.NoticePolicy) { p.Reminder = 31 * 24 * time.Hour }},
		{"notifications.sms_max_segments", func(p *turnero.NoticePolicy) { p.SMSMaxSegments = 11 }},
		{"notifications.texts.appointment_made", func(p *turnero.NoticePolicy) {
			p.Texts = map[turnero.NoticeTextKey]turnero.NoticeText{{Kind: "appointment_made"}: {SMS: "x"}}
		}},
	}
	for _, tt := range tests {
		c := campaign.Sample()
		tt.change(&c.Notices)
		var ce *turnero.CampaignError
		if err := c.Validate(); !errors.As(err, &ce) || ce.Field != tt.field {
			t.Errorf("want an error on %s, got %v", tt.field, err)
		}
	}
}

func TestLang(t *testing.T) {
	for _, l := range turnero.Langs {
		if got, ok := turnero.ParseLang(strings.ToUpper(l.Code())); !ok || got != l {
			t.Errorf("ParseLang(%q) = %v %v", l.Code(), got, ok)
		}
	}
	if _, ok := turnero.ParseLang("pt"); ok {
		t.Error("pt is not spoken")
	}
}

func TestRedactContact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"550 5.1.1 <maria.perez@example.com.uy>: Recipient address rejected", "550 5.1.1 <[address]>: Recipient address rejected"},
		{"The 'To' number +59899123456 is not a valid phone number.", "The 'To' number [number] is not a valid phone number."},
		{"Number 099 123 456 unreachable", "Number [number] unreachable"},
		{"affected recipient(s): a@b.example, c@d.example", "affected recipient(s): [address], [address]"},
		// Codes, dates and times stay: operators need them.
		{"error 21211 at 2021-04-05 10:30, see https://www.twilio.com/docs/errors/21211", "error 21211 at 2021-04-05 10:30, see https://www.twilio.com/docs/errors/21211"},
		{"4.2.2 mailbox full", "4.2.2 mailbox full"},
	}
	for _, tt := range tests {
		if got := turnero.RedactContact(tt.in); got != tt.want {
			t.Errorf("RedactContact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskContact(t *testing.T) {
	for in, want := range map[string]string{
		"+59899123456":      "+598 *** *56",
		"maria@example.org": "m***@example.org",
		"ñandú@example.org": "ñ***@example.org",
		"@example.org":      "***@example.org",
		"":                  "***",
	} {
		if got := turnero.MaskContact(in); got != want {
			t.Errorf("MaskContact(%q) = %q, want %q", in, got, want)
		}
	}
}
