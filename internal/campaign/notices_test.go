package campaign_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/turnero"
)

const notifications = `
[notifications]
status_url = "https://vacunacion.example/estado"
quiet_hours = { start = "22:30", end = "07:00" }
reminder = "36h"
sms_max_segments = 2
sms_unicode = false

[notifications.texts.appointments_scheduled.es]
sms = "Turno {{.First.ShortDate}} {{.First.Time}} en {{.Center}}. Codigo {{.Code}}"
whatsapp_template = "turno_agendado"
whatsapp_language = "es_UY"
whatsapp_parameters = ["{{.First.Date}}", "{{.Code}}"]

[notifications.texts.appointment_reminder.en]
subject = "See you soon"
`

func TestParseNotifications(t *testing.T) {
	// Without the section: the defaults.
	c, err := campaign.Parse(strings.NewReader(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Notices.QuietStart != 21*60 || c.Notices.QuietEnd != 8*60 || c.Notices.Reminder != 24*time.Hour ||
		c.Notices.SMSMaxSegments != 3 || c.Notices.StatusURL != "" || len(c.Notices.Texts) != 0 {
		t.Errorf("defaults: %+v", c.Notices)
	}

	c, err = campaign.Parse(strings.NewReader(minimal + notifications))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notices
	if n.StatusURL != "https://vacunacion.example/estado" || n.QuietStart != 22*60+30 || n.QuietEnd != 7*60 ||
		n.Reminder != 36*time.Hour || n.SMSMaxSegments != 2 || len(n.Texts) != 2 {
		t.Errorf("parsed %+v", n)
	}
	es := n.Texts[turnero.NoticeTextKey{Kind: turnero.NotifyScheduled, Lang: turnero.Spanish}]
	if !strings.HasPrefix(es.SMS, "Turno {{") || es.WhatsAppTemplate != "turno_agendado" || es.WhatsAppLanguage != "es_UY" ||
		len(es.WhatsAppParameters) != 2 || es.Email != "" {
		t.Errorf("Spanish appointment text %+v", es)
	}
	if en := n.Texts[turnero.NoticeTextKey{Kind: turnero.NotifyReminder, Lang: turnero.English}]; en.Subject != "See you soon" {
		t.Errorf("English reminder %+v", en)
	}

	// No quiet hours, no reminders.
	off := strings.Replace(strings.Replace(notifications, `end = "07:00"`, `end = "22:30"`, 1), `"36h"`, `"0s"`, 1)
	if c, err = campaign.Parse(strings.NewReader(minimal + off)); err != nil {
		t.Fatal(err)
	}
	if c.Notices.QuietStart != c.Notices.QuietEnd || c.Notices.Reminder != 0 {
		t.Errorf("turned off: %+v", c.Notices)
	}
}

func TestParseBrokenNotifications(t *testing.T) {
	tests := []struct {
		name, old, new string
		field          string
	}{
		{"status_url not a URL", `status_url = "https://vacunacion.example/estado"`, `status_url = "vacunacion/estado"`, "notifications.status_url"},
		{"quiet hours start", `start = "22:30"`, `start = "10pm"`, "notifications.quiet_hours.start"},
		{"quiet hours end", `end = "07:00"`, `end = "24:00"`, "notifications.quiet_hours.end"},
		{"reminder", `reminder = "36h"`, `reminder = "a day"`, "notifications.reminder"},
		{"negative reminder", `reminder = "36h"`, `reminder = "-1h"`, "notifications.reminder"},
		{"sms_max_segments", `sms_max_segments = 2`, `sms_max_segments = 11`, "notifications.sms_max_segments"},
		{"unknown kind", `[notifications.texts.appointment_reminder.en]`, `[notifications.texts.appointment_made.en]`, "notifications.texts.appointment_made"},
		{"unknown language", `[notifications.texts.appointment_reminder.en]`, `[notifications.texts.appointment_reminder.pt]`, "notifications.texts.appointment_reminder.pt"},
		{"misspelt text setting", `subject = "See you soon"`, `subjet = "See you soon"`, "notifications.texts.appointment_reminder.en.subjet"},
		{"misspelt setting", `sms_unicode = false`, `sms_unicod = false`, "notifications.sms_unicod"},
		{"an SMS over budget", `sms = "Turno `, `sms = "` + strings.Repeat("Turno de vacunacion. ", 16), "notifications.texts.appointments_scheduled.es.sms"},
		{"a text that does not render", `subject = "See you soon"`, `subject = "See you {{.Soon}}"`, "notifications.texts.appointment_reminder.en.subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := minimal + notifications
			if !strings.Contains(text, tt.old) {
				t.Fatalf("no %q", tt.old)
			}
			_, err := campaign.Parse(strings.NewReader(strings.Replace(text, tt.old, tt.new, 1)))
			var ce *turnero.CampaignError
			if !errors.As(err, &ce) || ce.Field != tt.field {
				t.Errorf("error %v, want one on %s", err, tt.field)
			}
		})
	}
}
