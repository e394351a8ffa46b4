package notice

import (
	"strings"
	"unicode/utf16"
)

// What an SMS costs. A gateway bills by segment: 160 GSM-7 characters fit in
// one, or 153 a segment when the message is split (each part carries a
// header to put the parts together again). One character outside the GSM-7
// alphabet (an á, an emoji) sends the whole message as UCS-2: 70 characters
// in one segment, 67 a segment when split. The characters of GSM-7's
// extension table (€ [ ] { } \ ^ ~ | and form feed) take two septets each.

// SMS encodings.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// Segments is what one SMS text costs.
type Segments struct {
	Encoding string // GSM7 or UCS2
	// Units are septets for GSM-7 (an extension character counts 2) and
	// UTF-16 code units for UCS-2 (a character beyond the BMP counts 2).
	Units int
	// Parts is the number of segments billed; 0 for an empty text.
	Parts int
}

// gsm7Basic is GSM 03.38's default alphabet; gsm7Extension the characters
// reached through its escape, two septets each.
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Extension = "\f^{}\\[~]|€"
)

// Segment sizes.
const (
	gsm7Single, gsm7Part = 160, 153
	ucs2Single, ucs2Part = 70, 67
)

var gsm7Septets = func() map[rune]int {
	m := make(map[rune]int, 140)
	for _, r := range gsm7Basic {
		m[r] = 1
	}
	for _, r := range gsm7Extension {
		m[r] = 2
	}
	return m
}()

// SMSSegments counts what s costs as one SMS.
func SMSSegments(s string) Segments {
	if s == "" {
		return Segments{Encoding: GSM7}
	}
	var sizes []int // of each character, in septets or code units
	gsm := true
	for _, r := range s {
		n, ok := gsm7Septets[r]
		if !ok {
			gsm = false
			break
		}
		sizes = append(sizes, n)
	}
	enc, single, part := GSM7, gsm7Single, gsm7Part
	if !gsm {
		enc, single, part = UCS2, ucs2Single, ucs2Part
		sizes = sizes[:0]
		for _, r := range s {
			sizes = append(sizes, utf16.RuneLen(r))
		}
	}
	units := 0
	for _, n := range sizes {
		units += n
	}
	if units <= single {
		return Segments{Encoding: enc, Units: units, Parts: 1}
	}
	// Split: a character is never cut between two parts (an escape and its
	// septet, or a surrogate pair, travel together), so a part may carry
	// one unit less than it could.
	parts, used := 1, 0
	for _, n := range sizes {
		if used+n > part {
			parts++
			used = 0
		}
		used += n
	}
	return Segments{Encoding: enc, Units: units, Parts: parts}
}

// gsm7Replacements are the nearest GSM-7 characters of letters and marks
// that Spanish, Portuguese and English texts use and GSM-7 lacks. The
// accents GSM-7 has (é, ñ, ü, à, è, ù, ì, ò, Ä, Ö, Ü, É, Ç) are kept.
var gsm7Replacements = strings.NewReplacer(
	"á", "a", "í", "i", "ó", "o", "ú", "u", "Á", "A", "Í", "I", "Ó", "O", "Ú", "U",
	"â", "a", "ã", "a", "ê", "e", "ë", "e", "î", "i", "ï", "i", "ô", "o", "õ", "o", "û", "u",
	"À", "A", "Â", "A", "Ã", "A", "È", "E", "Ê", "E", "Ë", "E", "Ì", "I", "Î", "I", "Ï", "I",
	"Ò", "O", "Ô", "O", "Õ", "O", "Ù", "U", "Û", "U", "ç", "Ç", "ý", "y", "ÿ", "y", "Ý", "Y",
	"‘", "'", "’", "'", "´", "'", "`", "'", "“", "\"", "”", "\"", "«", "\"", "»", "\"",
	"–", "-", "—", "-", "‒", "-", "―", "-", "…", "...", "•", "-", "ª", "a", "º", "o", "°", "o",
	"\u00a0", " ", "\t", " ",
)

// ToGSM7 replaces the characters of s that GSM-7 lacks by their nearest
// GSM-7 letters where there is one (á → a, — → -): a center called
// "Paysandú" must not double the cost of every message that names it.
// Characters with no near letter (an emoji, a Chinese name) are kept, and
// make the message UCS-2.
func ToGSM7(s string) string {
	for _, r := range s {
		if _, ok := gsm7Septets[r]; !ok {
			return gsm7Replacements.Replace(s)
		}
	}
	return s
}
