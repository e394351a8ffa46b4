package turnero

// Tracking codes are 10 Crockford base32 characters (50 bits) and a check
// character: short enough to read aloud or type on a phone, and a mistyped
// character or two swapped neighbours are caught before any lookup.
// Written with dashes (K7M2-Q9XP-4TW) for people; compared without them. The
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
	out[trackingDataLen] = crockford[checkValue(vals[:])]
	return string(out[:])
}

// checkValue computes the check character: the sum over GF(32) of each data
// value times α^k, k = 1 for the last data character, 2 for the one before it,
// and so on; the check character itself has weight 1. The weights are
// distinct and non-zero, so every single substitution and every swap of two
// different neighbours (the check character included) changes the sum. Luhn
// mod 32, used before, let the swap of 0 and Z through.
func checkValue(vals []int) int {
	sum := 0
	for i, v := range vals {
		sum ^= checkTable[len(vals)-1-i][v]
	}
	return sum
}

// checkTable[k][v] is α^(k+1)·v in GF(32) = GF(2)[x]/(x⁵+x²+1), α = x.
var checkTable [trackingDataLen][32]int

func init() {
	gfMul := func(a, b int) int {
		p := 0
		for ; b > 0; b >>= 1 {
			if b&1 != 0 {
				p ^= a
			}
			a <<= 1
			if a&32 != 0 {
				a ^= 0b100101
			}
		}
		return p
	}
	w := 2 // α
	for k := range checkTable {
		for v := range checkTable[k] {
			checkTable[k][v] = gfMul(w, v)
		}
		w = gfMul(w, 2)
	}
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
	if n != TrackingCodeLen || checkValue(vals[:trackingDataLen]) != vals[trackingDataLen] {
		return 0, false
	}
	var v uint64
	for _, x := range vals[:trackingDataLen] {
		v = v<<5 | uint64(x)
	}
	return v, true
}

// FormatTrackingCode writes a canonical code in groups for people: K7M2-Q9XP-4TW.
func FormatTrackingCode(code string) string {
	if len(code) != TrackingCodeLen {
		return code
	}
	return code[:4] + "-" + code[4:8] + "-" + code[8:]
}
