package turnero

// Lang is a language a person can read turnero's messages in. Spanish is the
// default: it is what the citizens of the sample campaign read first.
type Lang int

const (
	Spanish Lang = iota
	English
)

// message holds one text in every language turnero speaks.
type message struct{ es, en string }

// messages is the catalogue of everything a person may read in an error. Keys
// are stable: programs (the web page, the WhatsApp bot) may match on them.
var messages = map[string]message{
	// Request-level.
	"invalid_request":    {"Hay datos que corregir en la solicitud.", "Some fields of the request need to be corrected."},
	"malformed_json":     {"La solicitud no es un JSON válido.", "The request body is not valid JSON."},
	"body_too_large":     {"La solicitud es demasiado grande.", "The request body is too large."},
	"unsupported_media":  {"La solicitud debe enviarse como application/json.", "The request must be sent as application/json."},
	"not_found":          {"No encontramos un registro con esos datos.", "We found no registration with those details."},
	"route_not_found":    {"Esa dirección no existe.", "There is no such address."},
	"method_not_allowed": {"Ese método no está permitido en esta dirección.", "That method is not allowed at this address."},
	"identity_conflict": {
		"Ese documento ya está registrado con otra fecha de nacimiento. Revise los datos o consulte en un vacunatorio.",
		"That document is already registered with a different birth date. Check your details or ask at a vaccination center.",
	},
	"overloaded": {
		"Hay muchas solicitudes en este momento. Su solicitud no fue registrada: inténtelo de nuevo en unos segundos.",
		"We are receiving many requests right now. Your request was not recorded: please try again in a few seconds.",
	},
	"shutting_down": {
		"El servicio se está reiniciando. Su solicitud no fue registrada: inténtelo de nuevo en unos segundos.",
		"The service is restarting. Your request was not recorded: please try again in a few seconds.",
	},
	"store_unavailable": {
		"No pudimos guardar su solicitud. No fue registrada: inténtelo de nuevo en unos segundos.",
		"We could not store your request. It was not recorded: please try again in a few seconds.",
	},
	"internal": {"Ocurrió un error inesperado. Inténtelo de nuevo más tarde.", "Something unexpected went wrong. Please try again later."},

	// Answers of the reverse proxy in front, in the API's shape
	// (docs/nginx/turnero.conf; a test holds its bodies to these texts).
	"rate_limited": {
		"Demasiadas solicitudes desde su dirección. Su solicitud no fue registrada: espere un momento e inténtelo de nuevo.",
		"Too many requests from your address. Your request was not recorded: wait a moment and try again.",
	},
	"service_unavailable": {
		"El servicio no responde en este momento. Su solicitud no fue registrada: inténtelo de nuevo en unos segundos.",
		"The service is not answering right now. Your request was not recorded: please try again in a few seconds.",
	},
	"forbidden_address": {
		"Esta dirección no está abierta desde su red.",
		"This address is not open from your network.",
	},

	// Field-level.
	"required":             {"Este dato es obligatorio.", "This field is required."},
	"too_long":             {"Es demasiado largo.", "It is too long."},
	"document_type":        {"Tipo de documento no reconocido.", "Unknown document type."},
	"document_format":      {"El número de documento no tiene un formato válido.", "The document number is not in a valid format."},
	"document_check_digit": {"El dígito verificador de la cédula no es correcto.", "The check digit of the identity card is not correct."},
	"name_characters":      {"Solo se admiten letras, espacios, apóstrofos y guiones.", "Only letters, spaces, apostrophes and hyphens are allowed."},
	"name_length":          {"Debe tener entre 1 y 80 caracteres.", "It must have between 1 and 80 characters."},
	"locality_characters": {
		"Solo se admiten letras, dígitos, espacios y los signos ' ’ - . , / ( ) º °.",
		"Only letters, digits, spaces and the signs ' ’ - . , / ( ) º ° are allowed.",
	},
	"date_format":          {"La fecha debe tener el formato AAAA-MM-DD y ser una fecha real.", "The date must be written YYYY-MM-DD and be a real date."},
	"date_future":          {"La fecha de nacimiento no puede ser futura.", "The birth date cannot be in the future."},
	"age_too_young":        {"La persona no tiene la edad mínima para esta campaña.", "The person is below the minimum age for this campaign."},
	"age_too_old":          {"La fecha de nacimiento indica más de 120 años; revísela.", "The birth date gives an age over 120; please check it."},
	"phone_format":         {"El teléfono no es válido. Use el formato 099 123 456 o +598 99 123 456.", "The phone number is not valid. Use 099 123 456 or +598 99 123 456."},
	"email_format":         {"El correo electrónico no es válido.", "The email address is not valid."},
	"contact_required":     {"Indique un teléfono o un correo electrónico para avisarle.", "Give a phone number or an email address so that we can notify you."},
	"department_unknown":   {"El departamento no es uno de los de la campaña.", "The department is not one of the campaign's."},
	"group_unknown":        {"El grupo declarado no existe en esta campaña.", "The declared group does not exist in this campaign."},
	"group_not_attested":   {"Ese grupo se asigna por edad y no se declara.", "That group is given by age and cannot be declared."},
	"group_age":            {"La edad no corresponde a ese grupo.", "The age does not match that group."},
	"no_group":             {"No hay un grupo de la campaña para esa edad.", "No group of the campaign covers that age."},
	"consent_required":     {"Debe aceptar el tratamiento de sus datos para registrarse.", "You must accept the processing of your data to register."},
	"channel_unknown":      {"Canal no reconocido.", "Unknown channel."},
	"tracking_code_format": {"El código de seguimiento no es válido; revíselo.", "The tracking code is not valid; please check it."},
	"invalid_value":        {"El valor no es válido.", "The value is not valid."},
	"text_encoding": {
		"Contiene un carácter nulo o bytes que no son texto UTF-8 válido.",
		"It contains a NUL character or bytes that are not valid UTF-8 text.",
	},

	// Centers, groups, allocation (messages_allocation.go has the rest).
}

func init() {
	for k, m := range allocationMessages {
		messages[k] = m
	}
}

// Message returns the text for key in lang, falling back to Spanish and then
// to the generic "internal" message so a person never reads a bare key.
func Message(key string, lang Lang) string {
	m, ok := messages[key]
	if !ok {
		m = messages["internal"]
	}
	if lang == English && m.en != "" {
		return m.en
	}
	return m.es
}

// HasMessage reports whether the catalogue knows key.
func HasMessage(key string) bool {
	_, ok := messages[key]
	return ok
}
