package turnero

import "strings"

// DocumentType is a kind of identity document a campaign accepts. Its Format
// names the rule its numbers follow; the rules live here so that a campaign
// file only picks one.
type DocumentType struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Format string `json:"format"`
}

// Document number formats a campaign may choose.
const (
	// FormatUYCedula is Uruguay's cédula de identidad: 6 or 7 digits and a check
	// digit, often written 1.234.567-2.
	FormatUYCedula = "uy-cedula"
	// FormatAlphanumeric is a passport or foreign document: letters and digits
	// with no check digit.
	FormatAlphanumeric = "alphanumeric"
)

// KnownDocumentFormat reports whether f is a format this package can check.
func KnownDocumentFormat(f string) bool {
	return f == FormatUYCedula || f == FormatAlphanumeric
}

// Document reads a document type and number as a person typed them, adds
// what is wrong with them to fe, and returns the type and the canonical
// number. Registration, lookup and check-in all read documents this way.
func (c *Campaign) Document(typ, number string, fe FieldErrors) (DocumentType, string) {
	typ = strings.TrimSpace(typ)
	dt, ok := c.DocumentType(typ)
	switch {
	case typ == "":
		fe.Add("document_type", "required")
	case !ok:
		fe.Add("document_type", "document_type")
	}
	if strings.TrimSpace(number) == "" {
		fe.Add("document_number", "required")
		return dt, ""
	}
	if !ok {
		return dt, ""
	}
	doc, problem := CanonicalDocument(dt.Format, number)
	if problem != "" {
		fe.Add("document_number", problem)
	}
	return dt, doc
}

// CanonicalDocument returns the one way of writing a document number, so that
// "1.234.567-2", "1234567-2" and "12345672" are the same person. The error is a
// message key for the document_number field.
func CanonicalDocument(format, number string) (string, string) {
	switch format {
	case FormatUYCedula:
		return canonicalCedula(number)
	case FormatAlphanumeric:
		return canonicalAlphanumeric(number)
	}
	return "", "document_type"
}

// canonicalCedula accepts digits with the usual separators (dots, a dash,
// spaces) and returns 8 digits: the 7-digit number left-padded with zeros and
// the check digit.
func canonicalCedula(s string) (string, string) {
	if len(s) > 20 {
		return "", "document_format"
	}
	var digits [8]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(digits) {
				return "", "document_format"
			}
			digits[n] = c
			n++
		case c == '.' || c == '-' || c == ' ':
		default:
			return "", "document_format"
		}
	}
	if n < 7 { // 6 digits and the check digit at least
		return "", "document_format"
	}
	var out [8]byte
	pad := 8 - n
	for i := 0; i < pad; i++ {
		out[i] = '0'
	}
	copy(out[pad:], digits[:n])
	if out[0] == '0' && out[1] == '0' && out[2] == '0' && out[3] == '0' && out[4] == '0' && out[5] == '0' && out[6] == '0' {
		return "", "document_format"
	}
	if CedulaCheckDigit(string(out[:7])) != out[7]-'0' {
		return "", "document_check_digit"
	}
	return string(out[:]), ""
}

// CedulaCheckDigit computes the check digit of a 7-digit cédula number (digits
// only, left-padded with zeros): weights 2,9,8,7,6,3,4, check = (10 - sum mod 10) mod 10.
func CedulaCheckDigit(seven string) byte {
	weights := [7]int{2, 9, 8, 7, 6, 3, 4}
	sum := 0
	for i := 0; i < 7 && i < len(seven); i++ {
		sum += int(seven[i]-'0') * weights[i]
	}
	return byte((10 - sum%10) % 10)
}

// canonicalAlphanumeric upper-cases letters and drops spaces, dots and
// dashes; the length is that of what remains, however the number was spaced.
func canonicalAlphanumeric(s string) (string, string) {
	const maxLen = 20
	var out [maxLen]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'Z':
		case c >= 'a' && c <= 'z':
			c = c - 'a' + 'A'
		case c == '.' || c == '-' || c == ' ':
			continue
		default:
			return "", "document_format"
		}
		if n == maxLen {
			return "", "document_format"
		}
		out[n] = c
		n++
	}
	if n < 4 {
		return "", "document_format"
	}
	return string(out[:n]), ""
}

// MaskDocument shows only the last three characters of a canonical number, so
// a status page confirms whose it is without disclosing the number.
func MaskDocument(canonical string) string {
	if len(canonical) <= 3 {
		return "***"
	}
	return strings.Repeat("•", 5) + canonical[len(canonical)-3:]
}
