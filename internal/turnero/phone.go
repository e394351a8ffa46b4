package turnero

import "strconv"

// PhonePlan describes how people of the campaign's country write their phone
// numbers, so that a local "099 123 456" becomes "+59899123456".
type PhonePlan struct {
	CountryCode    string `json:"country_code"`    // "598"
	TrunkPrefix    string `json:"trunk_prefix"`    // "0"
	NationalDigits []int  `json:"national_digits"` // lengths of a national significant number: [8]
}

// NormalizePhone returns the E.164 form of a phone number, or a message key.
// Spaces, dots, dashes and parentheses are ignored. Numbers written with "+" or
// "00" are international; anything else is read with the campaign's plan.
func (p PhonePlan) NormalizePhone(s string) (string, string) {
	if len(s) > 32 {
		return "", "phone_format"
	}
	digits := make([]byte, 0, 16)
	plus := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '+' && len(digits) == 0 && !plus:
			plus = true
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", "phone_format"
		}
	}
	if !plus && len(digits) > 2 && digits[0] == '0' && digits[1] == '0' {
		plus, digits = true, digits[2:]
	}
	if plus {
		if len(digits) < 8 || len(digits) > 15 || digits[0] == '0' {
			return "", "phone_format"
		}
		// A number of our own country must also be a valid national number.
		cc := p.CountryCode
		if cc != "" && len(digits) > len(cc) && string(digits[:len(cc)]) == cc {
			if !p.nationalLengthOK(len(digits) - len(cc)) {
				return "", "phone_format"
			}
		}
		return "+" + string(digits), ""
	}
	national := digits
	if p.TrunkPrefix != "" && len(national) > len(p.TrunkPrefix) && string(national[:len(p.TrunkPrefix)]) == p.TrunkPrefix {
		national = national[len(p.TrunkPrefix):]
	}
	if p.CountryCode == "" || !p.nationalLengthOK(len(national)) || national[0] == '0' {
		return "", "phone_format"
	}
	return "+" + p.CountryCode + string(national), ""
}

func (p PhonePlan) nationalLengthOK(n int) bool {
	if len(p.NationalDigits) == 0 {
		return n >= 4 && n <= 14
	}
	for _, l := range p.NationalDigits {
		if n == l {
			return true
		}
	}
	return false
}

// MaskPhone keeps the country code and the last two digits.
func MaskPhone(e164 string) string {
	if len(e164) < 6 {
		return "***"
	}
	return e164[:4] + " *** *" + e164[len(e164)-2:]
}

// validCountryCode reports whether s is 1 to 3 digits not starting with 0.
func validCountryCode(s string) bool {
	if len(s) < 1 || len(s) > 3 || s[0] == '0' {
		return false
	}
	_, err := strconv.Atoi(s)
	return err == nil
}
