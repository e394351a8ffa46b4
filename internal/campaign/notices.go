package campaign

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// noticesFile is the [notifications] section.
type noticesFile struct {
	StatusURL  string `toml:"status_url"`
	QuietHours *struct {
		Start string `toml:"start"`
		End   string `toml:"end"`
	} `toml:"quiet_hours"`
	Reminder       string `toml:"reminder"`
	SMSMaxSegments int    `toml:"sms_max_segments"`
	SMSUnicode     bool   `toml:"sms_unicode"`
	// Texts are by kind, then language.
	Texts map[string]map[string]noticeTextFile `toml:"texts"`
}

// noticeTextFile is one [notifications.texts.KIND.LANG] table.
type noticeTextFile struct {
	SMS                string   `toml:"sms"`
	Subject            string   `toml:"subject"`
	Email              string   `toml:"email"`
	WhatsAppTemplate   string   `toml:"whatsapp_template"`
	WhatsAppLanguage   string   `toml:"whatsapp_language"`
	WhatsAppParameters []string `toml:"whatsapp_parameters"`
}

// convertNotices sets the campaign's notice policy: the defaults, then what
// the file says.
func (f *file) convertNotices(c *turnero.Campaign) error {
	c.Notices = turnero.DefaultNoticePolicy
	n := f.Notifications
	if n == nil {
		return nil
	}
	bad := func(field, format string, args ...any) error {
		return &turnero.CampaignError{Field: "notifications." + field, Problem: fmt.Sprintf(format, args...)}
	}
	c.Notices.StatusURL = n.StatusURL
	if q := n.QuietHours; q != nil {
		var ok bool
		// 24:00 is a closing time of centers, not a clock time quiet hours
		// can start or end at.
		if c.Notices.QuietStart, ok = turnero.ParseClockTime(q.Start); !ok || q.Start == "24:00" {
			return bad("quiet_hours.start", "must be a time HH:MM, got %q", q.Start)
		}
		if c.Notices.QuietEnd, ok = turnero.ParseClockTime(q.End); !ok || q.End == "24:00" {
			return bad("quiet_hours.end", "must be a time HH:MM, got %q", q.End)
		}
	}
	if n.Reminder != "" {
		d, err := time.ParseDuration(n.Reminder)
		if err != nil {
			return bad("reminder", "must be a duration such as \"24h\" (\"0s\": no reminders), got %q", n.Reminder)
		}
		c.Notices.Reminder = d
	}
	if n.SMSMaxSegments != 0 {
		c.Notices.SMSMaxSegments = n.SMSMaxSegments
	}
	c.Notices.SMSUnicode = n.SMSUnicode
	// In order, so that of several wrong texts the same one is reported
	// every time.
	for _, kind := range slices.Sorted(maps.Keys(n.Texts)) {
		byLang := n.Texts[kind]
		for _, code := range slices.Sorted(maps.Keys(byLang)) {
			t := byLang[code]
			lang, ok := turnero.ParseLang(code)
			if !ok || code != lang.Code() {
				return bad("texts."+kind+"."+code, "unknown language: \"es\" or \"en\"")
			}
			if c.Notices.Texts == nil {
				c.Notices.Texts = map[turnero.NoticeTextKey]turnero.NoticeText{}
			}
			c.Notices.Texts[turnero.NoticeTextKey{Kind: kind, Lang: lang}] = turnero.NoticeText{
				SMS: t.SMS, Subject: t.Subject, Email: t.Email,
				WhatsAppTemplate: t.WhatsAppTemplate, WhatsAppLanguage: t.WhatsAppLanguage,
				WhatsAppParameters: t.WhatsAppParameters,
			}
		}
	}
	return nil
}
