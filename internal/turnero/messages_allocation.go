package turnero

// allocationMessages are the texts of centers, groups, appointments and
// access tokens; merged into the catalogue at start.
var allocationMessages = map[string]message{
	"center_not_found": {"No existe un vacunatorio con ese identificador.", "There is no vaccination center with that id."},
	"group_not_found":  {"No existe un grupo con ese identificador en esta campaña.", "There is no group with that id in this campaign."},
	"unauthorized": {
		"Falta una credencial válida (Authorization: Bearer …).",
		"A valid credential is required (Authorization: Bearer …).",
	},
	"forbidden": {"Esta credencial no permite esta operación.", "This credential does not allow this operation."},
	"allocation_conflict": {
		"Otra asignación modificó la agenda al mismo tiempo. Inténtelo de nuevo.",
		"Another allocation changed the agenda at the same time. Please try again.",
	},
	"allocation_not_configured": {
		"La asignación de turnos no está habilitada en este servidor.",
		"Appointment allocation is not enabled on this server.",
	},
	"reason_" + ReasonNoCenter: {
		"Ningún vacunatorio del departamento da una vacuna permitida para su grupo y edad.",
		"No center in the department gives a vaccine allowed for the person's group and age.",
	},
	"reason_" + ReasonNoCapacity: {
		"No quedan lugares libres en el departamento dentro del horizonte de agenda.",
		"No free places are left in the department within the booking horizon.",
	},
	"reason_" + ReasonNoSecondDose: {
		"Hay lugar para la primera dosis pero no para la segunda dentro de la ventana.",
		"There is room for the first dose but not for the second within the window.",
	},
	"reason_" + ReasonSecondDoseMissed: {
		"Recibió la primera dosis y faltó a la segunda: se agenda de nuevo, antes que toda primera dosis, cuando haya lugar.",
		"Had the first dose and missed the second: it is booked again, before any first dose, when a place is free.",
	},
	"reason_" + ReasonSecondDoseMoved: {
		"Recibió la primera dosis y pidió otra fecha para la segunda: se agenda de nuevo, antes que toda primera dosis, cuando haya lugar.",
		"Had the first dose and asked for another date for the second: it is booked again, before any first dose, when a place is free.",
	},
}
