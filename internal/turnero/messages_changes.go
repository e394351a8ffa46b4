package turnero

// changeMessages are the texts of cancellations, another date, center staff
// and the pull feed; merged into the catalogue at start.
var changeMessages = map[string]message{
	"already_cancelled":  {"Este registro ya fue cancelado.", "This registration was already cancelled."},
	"already_vaccinated": {"Esta persona ya recibió todas las dosis.", "This person has already received every dose."},
	"not_scheduled": {
		"Esta persona no tiene una cita agendada.",
		"This person has no appointment booked.",
	},
	"dose_given_no_change": {
		"Ya recibió la primera dosis: no se puede cancelar en línea. Puede pedir otra fecha para la segunda dosis o consultar en su vacunatorio.",
		"The first dose was already given: it cannot be cancelled online. You can ask for another date for the second dose, or ask at your vaccination center.",
	},
	"dose_already_given": {"Esa dosis ya fue registrada como aplicada.", "That dose was already recorded as given."},
	"already_no_show":    {"Esa dosis ya fue registrada como inasistencia.", "That dose was already recorded as missed."},
	"checked_in_no_show": {
		"Esta persona ya registró su llegada para esa dosis: no se puede marcar como inasistencia.",
		"This person has already checked in for that dose: it cannot be recorded as missed.",
	},
	"wrong_center": {
		"La cita de esta persona es en otro vacunatorio.",
		"This person's appointment is at another vaccination center.",
	},
	"wrong_vaccine": {
		"La vacuna no es la agendada para esta persona; la segunda dosis es siempre la misma vacuna que la primera.",
		"The vaccine is not the one booked for this person; the second dose is always the vaccine of the first.",
	},
	"wrong_dose": {
		"Ese número de dosis no corresponde: no está agendada o la dosis anterior no fue aplicada.",
		"That dose number does not match: it is not booked, or the previous dose was not given.",
	},
	"dose_too_early": {
		"Todavía no pasó el intervalo de la vacuna desde la dosis anterior.",
		"The vaccine's interval since the previous dose has not passed yet.",
	},
	"appointment_not_due": {
		"La cita todavía no llegó: es en un día posterior.",
		"The appointment is not due yet: it is on a later day.",
	},
	"no_appointment_today": {
		"Esta persona no tiene cita hoy en este vacunatorio.",
		"This person has no appointment today at this center.",
	},
	"already_scheduled": {"Esta persona ya tiene citas agendadas.", "This person already has appointments booked."},
	"slot_full":         {"Ese horario ya está completo.", "That time slot is already full."},
	"group_closed": {
		"El grupo de esta persona no está habilitado para agendar.",
		"This person's group is not open for booking.",
	},
	"forbidden_center": {
		"Esta credencial es de otro vacunatorio.",
		"This credential belongs to another vaccination center.",
	},
	"one_of_code_or_sequence": {
		"Indique el código de seguimiento o el número de orden, no ambos.",
		"Give the tracking code or the sequence number, not both.",
	},
	"vaccine_unknown": {"Vacuna no reconocida en esta campaña.", "Unknown vaccine for this campaign."},
	"lot_format": {
		"El lote debe tener hasta 64 letras, dígitos, guiones, puntos o barras.",
		"The lot must have up to 64 letters, digits, hyphens, dots or slashes.",
	},
	"cursor_format": {
		"El cursor no es válido; use el valor «next» de la página anterior.",
		"The cursor is not valid; use the \"next\" value of the previous page.",
	},
	"limit_range":    {"El límite debe estar entre 1 y 1000.", "The limit must be between 1 and 1000."},
	"center_unknown": {"No existe un vacunatorio con ese identificador.", "There is no vaccination center with that id."},
	"vaccine_not_at_center": {
		"Ese vacunatorio no aplica esa vacuna.",
		"That center does not give that vaccine.",
	},
	"vaccine_not_allowed": {
		"Esa vacuna no está permitida para el grupo y la edad de esta persona.",
		"That vaccine is not allowed for this person's group and age.",
	},
	"datetime_format": {
		"La fecha y hora debe tener el formato RFC 3339, por ejemplo 2021-04-01T09:30:00-03:00.",
		"The date and time must be RFC 3339, for example 2021-04-01T09:30:00-03:00.",
	},
	"slot_past":  {"Ese horario ya pasó.", "That time is in the past."},
	"not_a_slot": {"Ese horario no es un turno de la agenda del vacunatorio.", "That time is not a slot of the center's agenda."},
	"dose_count": {"La cantidad de horarios no coincide con las dosis de la vacuna.", "The number of times does not match the vaccine's doses."},
	"dose_interval": {
		"La segunda dosis no respeta el intervalo de la vacuna (ni antes, ni más allá de la ventana).",
		"The second dose does not keep the vaccine's interval (not earlier, not beyond the window).",
	},
	"place_" + KeepPlace: {
		"Conserva su lugar en la fila: se le asignará una nueva fecha antes que a quienes se registraron después.",
		"You keep your place in line: you will get a new date before those who registered after you.",
	},
	"place_" + BackOfLine: {
		"Según la política de la campaña, vuelve al final de la fila de su grupo.",
		"By the campaign's policy, you go back to the end of your group's line.",
	},
	"place_" + PlaceSecondDose: {
		"Se le dará una nueva fecha para la segunda dosis, con la misma vacuna, antes que a quienes esperan la primera.",
		"You will get a new date for your second dose, with the same vaccine, before those waiting for a first dose.",
	},
	"place_left_the_list": {
		"Salió de la lista de espera.",
		"You left the waiting list.",
	},
	"reason_" + ReasonRequeued: {
		"Canceló o faltó y conserva su lugar: se le asigna de nuevo en la próxima ejecución.",
		"Cancelled or missed an appointment and kept their place: placed again on the next run.",
	},
}

func init() {
	for k, m := range changeMessages {
		messages[k] = m
	}
}
