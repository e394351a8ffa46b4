package turnero

// ministryMessages are the texts of tokens, staff sessions, the audit trail
// and the dashboard; merged into the catalogue at start.
var ministryMessages = map[string]message{
	"role_unknown": {
		"El rol debe ser admin, center, feed, analyst o support.",
		"The role must be admin, center, feed, analyst or support.",
	},
	"center_required": {
		"Una credencial de vacunatorio debe indicar su vacunatorio.",
		"A center credential must name its center.",
	},
	"center_not_allowed": {
		"Solo una credencial de vacunatorio indica un vacunatorio.",
		"Only a center credential names a center.",
	},
	"label_required": {
		"Indique de quién es la credencial (nombre y lugar): es lo que registra la auditoría.",
		"Say whose credential this is (name and place): it is what the audit trail records.",
	},
	"expiry_range": {
		"El vencimiento debe estar entre mañana y dentro de 400 días.",
		"The expiry must be between tomorrow and 400 days from now.",
	},
	"token_not_found": {
		"No existe una credencial con ese identificador.",
		"There is no credential with that identifier.",
	},
	"person_required": {
		"Indique el código de seguimiento, o el documento y la fecha de nacimiento.",
		"Give the tracking code, or the document and the birth date.",
	},
	"dashboard_moved": {
		"Otra copia actualizó las cifras al mismo tiempo. Inténtelo de nuevo.",
		"Another node updated the figures at the same time. Please try again.",
	},
	"series_range": {
		"El período pedido no es válido: desde antes que hasta, paso minute, hour o day, y no más de 2880 puntos.",
		"The period asked for is not valid: from before to, step minute, hour or day, and at most 2,880 points.",
	},
	"date_range": {
		"La fecha debe tener el formato AAAA-MM-DD o RFC 3339.",
		"The date must be written YYYY-MM-DD or RFC 3339.",
	},
}

func init() {
	for k, m := range ministryMessages {
		messages[k] = m
	}
}
