package notice

import "github.com/turnero/turnero/internal/turnero"

// The texts shipped with turnero, by kind and language. A campaign file
// overrides any of them (docs/campaign.md, [notifications.texts]). SMS texts
// keep to GSM-7 where Spanish allows ("Codigo", not "Código"), and are
// replaced into GSM-7 anyway unless the campaign sets sms_unicode: every
// accent outside GSM-7 would halve what a segment carries.

// Shared pieces of the shipped texts.
const (
	esCode  = `Codigo de seguimiento: {{.Code}}{{with .StatusURL}}. Consulte en {{.}}{{end}}`
	enCode  = `Tracking code: {{.Code}}{{with .StatusURL}}. Status: {{.}}{{end}}`
	esWhere = `en {{.Center}} ({{.Address}})`
	enWhere = `at {{.Center}} ({{.Address}})`

	esDosesList = `{{range .Doses}}Dosis {{.Dose}}: {{.Date}} a las {{.Time}}
  {{.Center}}, {{.Place}}
  Vacuna: {{.Vaccine}}
{{end}}`
	enDosesList = `{{range .Doses}}Dose {{.Dose}}: {{.Date}} at {{.Time}}
  {{.Center}}, {{.Place}}
  Vaccine: {{.Vaccine}}
{{end}}`
	esKeepCode = `Su código de seguimiento es {{.Code}}. Guárdelo y no lo comparta: con él puede consultar su estado{{with .StatusURL}} en {{.}}{{end}}, cancelar o pedir otra fecha.`
	enKeepCode = `Your tracking code is {{.Code}}. Keep it and do not share it: with it you can check your status{{with .StatusURL}} at {{.}}{{end}}, cancel or ask for another date.`
	esBring    = `Lleve su documento de identidad. Las citas van adjuntas como archivo de calendario.`
	enBring    = `Bring your identity document. The appointments are attached as a calendar file.`
	signature  = `{{.Campaign}}`
)

// Parameters of the shipped WhatsApp templates. Each template must be
// approved in the WhatsApp Business account with this many body
// parameters, in this order (docs/notifications.md lists them).
var (
	waBooked = []string{
		`{{.First.Date}} {{.First.Time}}`,
		`{{with .Second}}{{.Date}} {{.Time}}{{end}}`,
		`{{.Center}}`, `{{.Address}}`, `{{.Vaccine}}`, `{{.Code}}`, `{{.StatusURL}}`,
	}
	waOneDose = []string{
		`{{.First.Dose}}`, `{{.First.Date}} {{.First.Time}}`,
		`{{.Center}}`, `{{.Address}}`, `{{.Vaccine}}`, `{{.Code}}`, `{{.StatusURL}}`,
	}
	waNoDose = []string{`{{.Code}}`, `{{.StatusURL}}`}
)

var shippedTexts = map[turnero.NoticeTextKey]turnero.NoticeText{
	{Kind: turnero.NotifyScheduled, Lang: turnero.Spanish}: {
		SMS: `{{.Campaign}}. Su turno: dosis 1 el {{.First.ShortDate}} {{.First.Time}}{{with .Second}}, dosis 2 el {{.ShortDate}} {{.Time}}{{end}}, ` +
			esWhere + `. Vacuna {{.Vaccine}}. ` + esCode,
		Subject: `Su turno de vacunación`,
		Email:   "Hola:\n\nLe asignamos turno para vacunarse.\n\n" + esDosesList + "\n" + esBring + "\n\n" + esKeepCode + "\n\n" + signature,
	},
	{Kind: turnero.NotifyScheduled, Lang: turnero.English}: {
		SMS: `{{.Campaign}}. Your appointment: dose 1 on {{.First.ShortDate}} {{.First.Time}}{{with .Second}}, dose 2 on {{.ShortDate}} {{.Time}}{{end}}, ` +
			enWhere + `. Vaccine {{.Vaccine}}. ` + enCode,
		Subject: `Your vaccination appointment`,
		Email:   "Hello,\n\nYou have an appointment to be vaccinated.\n\n" + enDosesList + "\n" + enBring + "\n\n" + enKeepCode + "\n\n" + signature,
	},
	{Kind: turnero.NotifySecondDose, Lang: turnero.Spanish}: {
		SMS: `{{.Campaign}}. Nueva cita para la dosis {{.First.Dose}}: {{.First.ShortDate}} {{.First.Time}} ` + esWhere +
			`. Vacuna {{.Vaccine}}. ` + esCode,
		Subject: `Nueva cita para su segunda dosis`,
		Email:   "Hola:\n\nLe asignamos una nueva cita para su segunda dosis.\n\n" + esDosesList + "\n" + esBring + "\n\n" + esKeepCode + "\n\n" + signature,
	},
	{Kind: turnero.NotifySecondDose, Lang: turnero.English}: {
		SMS: `{{.Campaign}}. New appointment for dose {{.First.Dose}}: {{.First.ShortDate}} {{.First.Time}} ` + enWhere +
			`. Vaccine {{.Vaccine}}. ` + enCode,
		Subject: `A new appointment for your second dose`,
		Email:   "Hello,\n\nYou have a new appointment for your second dose.\n\n" + enDosesList + "\n" + enBring + "\n\n" + enKeepCode + "\n\n" + signature,
	},
	{Kind: turnero.NotifyReminder, Lang: turnero.Spanish}: {
		SMS: `{{.Campaign}}. Recordatorio: dosis {{.First.Dose}} el {{.First.Date}} a las {{.First.Time}} ` + esWhere +
			`. Lleve su documento. ` + esCode,
		Subject: `Recordatorio de su cita de vacunación`,
		Email:   "Hola:\n\nLe recordamos su cita de vacunación.\n\n" + esDosesList + "\nLleve su documento de identidad.\n\n" + esKeepCode + "\n\n" + signature,
	},
	{Kind: turnero.NotifyReminder, Lang: turnero.English}: {
		SMS: `{{.Campaign}}. Reminder: dose {{.First.Dose}} on {{.First.Date}} at {{.First.Time}} ` + enWhere +
			`. Bring your ID document. ` + enCode,
		Subject: `Reminder of your vaccination appointment`,
		Email:   "Hello,\n\nThis is a reminder of your vaccination appointment.\n\n" + enDosesList + "\nBring your identity document.\n\n" + enKeepCode + "\n\n" + signature,
	},
	{Kind: turnero.NotifyReleased, Lang: turnero.Spanish}: {
		SMS:     `{{.Campaign}}. Su turno fue liberado, como pidió. Le avisaremos cuando tenga una nueva fecha. ` + esCode,
		Subject: `Su turno fue liberado`,
		Email:   "Hola:\n\nSu turno fue liberado, como lo pidió. Le avisaremos cuando tenga una nueva fecha.\n\n" + esKeepCode + "\n\n" + signature,
	},
	{Kind: turnero.NotifyReleased, Lang: turnero.English}: {
		SMS:     `{{.Campaign}}. Your appointment was released, as you asked. We will tell you your new date. ` + enCode,
		Subject: `Your appointment was released`,
		Email:   "Hello,\n\nYour appointment was released, as you asked. We will tell you when you have a new date.\n\n" + enKeepCode + "\n\n" + signature,
	},
	{Kind: turnero.NotifyMissed, Lang: turnero.Spanish}: {
		SMS:     `{{.Campaign}}. No registramos su asistencia a la cita de vacunacion. Le avisaremos cuando tenga una nueva fecha. ` + esCode,
		Subject: `No registramos su asistencia`,
		Email:   "Hola:\n\nNo registramos su asistencia a su cita de vacunación. Le avisaremos cuando tenga una nueva fecha.\n\n" + esKeepCode + "\n\n" + signature,
	},
	{Kind: turnero.NotifyMissed, Lang: turnero.English}: {
		SMS:     `{{.Campaign}}. You were not recorded at your vaccination appointment. We will tell you your new date. ` + enCode,
		Subject: `You missed your appointment`,
		Email:   "Hello,\n\nYou were not recorded at your vaccination appointment. We will tell you when you have a new date.\n\n" + enKeepCode + "\n\n" + signature,
	},
	{Kind: turnero.NotifyCancelled, Lang: turnero.Spanish}: {
		SMS:     `{{.Campaign}}. Su registro fue cancelado y ya no esta en la lista de espera. ` + esCode,
		Subject: `Su registro fue cancelado`,
		Email:   "Hola:\n\nSu registro fue cancelado y ya no está en la lista de espera.\n\nSu código de seguimiento era {{.Code}}.\n\n" + signature,
	},
	{Kind: turnero.NotifyCancelled, Lang: turnero.English}: {
		SMS:     `{{.Campaign}}. Your registration was cancelled and is no longer on the waiting list. ` + enCode,
		Subject: `Your registration was cancelled`,
		Email:   "Hello,\n\nYour registration was cancelled and is no longer on the waiting list.\n\nYour tracking code was {{.Code}}.\n\n" + signature,
	},
}

// shippedWhatsApp gives each kind its template's name and parameters;
// the language code is the text's language.
func shippedWhatsApp(kind string) (name string, params []string) {
	switch kind {
	case turnero.NotifyScheduled:
		params = waBooked
	case turnero.NotifySecondDose, turnero.NotifyReminder:
		params = waOneDose
	default:
		params = waNoDose
	}
	return "turnero_" + kind, params
}
