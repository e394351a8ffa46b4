package turnero

// Tracking codes are 10 Crockford base32 characters (50 bits) and a Luhn mod
// 32 check character: short enough to read aloud or type on a phone, and a
// mistyped character or two swapped neighbours are caught before any lookup.
// Written with dashes (K7M2-Q9XP-4TZ) for people; compared without them. The
// 50 bits are a keyed permutation of the sequence number (package pii), not
// derived from any personal data.
const (
	crockford       = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	trackingDataLen = 10
	TrackingCodeLen = trackingDataLen + 1
)

var crockfordValue [256]int8

func init() {
	for i := range crockfordValue {
		crockfordValue[i] = -1
	}
	for i := 0; i < len(crockford); i++ {
		c := crockford[i]
		crockfordValue[c] = int8(i)
		if c >= 'A' && c <= 'Z' {
			crockfordValue[c-'A'+'a'] = int8(i)
		}
	}
	// Crockford's aliases for characters people confuse.
	for _, a := range []struct{ from, to byte }{{'O', '0'}, {'o', '0'}, {'I', '1'}, {'i', '1'}, {'L', '1'}, {'l', '1'}} {
		crockfordValue[a.from] = crockfordValue[a.to]
	}
}

// EncodeTrackingCode writes the low 50 bits of v as a canonical code.
func EncodeTrackingCode(v uint64) string {
	var out [TrackingCodeLen]byte
	var vals [trackingDataLen]int
	for i := trackingDataLen - 1; i >= 0; i-- {
		vals[i] = int(v & 31)
		out[i] = crockford[vals[i]]
		v >>= 5
	}
	out[trackingDataLen] = crockford[luhn32(vals[:])]
	return string(out[:])
}

// luhn32 computes the Luhn mod N check value with N = 32.
func luhn32(vals []int) int {
	factor, sum := 2, 0
	for i := len(vals) - 1; i >= 0; i-- {
		addend := factor * vals[i]
		sum += addend/32 + addend%32
		factor = 3 - factor
	}
	return (32 - sum%32) % 32
}

// DecodeTrackingCode reads a code as a person may type it (any case, with
// dashes or spaces, O for 0 and I or L for 1) and returns its 50 bits, or
// false when it is malformed or its check character does not match.
func DecodeTrackingCode(s string) (uint64, bool) {
	if len(s) > 32 {
		return 0, false
	}
	var vals [TrackingCodeLen]int
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' || c == ' ' {
			continue
		}
		v := crockfordValue[c]
		if v < 0 || n == TrackingCodeLen {
			return 0, false
		}
		vals[n] = int(v)
		n++
	}
	if n != TrackingCodeLen || luhn32(vals[:trackingDataLen]) != vals[trackingDataLen] {
		return 0, false
	}
	var v uint64
	for _, x := range vals[:trackingDataLen] {
		v = v<<5 | uint64(x)
	}
	return v, true
}

// FormatTrackingCode writes a canonical code in groups for people: K7M2-Q9XP-4TZ.
func FormatTrackingCode(code string) string {
	if len(code) != TrackingCodeLen {
		return code
	}
	return code[:4] + "-" + code[4:8] + "-" + code[8:]
}
