package turnero

import (
	"crypto/rand"
	"encoding/binary"
)

// Tracking codes are 10 random Crockford base32 characters (50 bits) and a
// Luhn mod 32 check character: short enough to read aloud or type on a phone,
// unguessable, and not derived from any personal data. A mistyped character or
// two swapped neighbours are caught before any lookup. Written with dashes
// (K7M2-Q9XP-4TZ) for people; stored and compared without them.
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
	for _, a := range []struct {
		from byte
		to   byte
	}{{'O', '0'}, {'o', '0'}, {'I', '1'}, {'i', '1'}, {'L', '1'}, {'l', '1'}} {
		crockfordValue[a.from] = crockfordValue[a.to]
	}
}

// NewTrackingCode returns a fresh random code in canonical form.
func NewTrackingCode() string {
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // cannot happen on supported systems
	}
	v := binary.LittleEndian.Uint64(raw[:])
	var out [TrackingCodeLen]byte
	var vals [trackingDataLen]int
	for i := 0; i < trackingDataLen; i++ {
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
		addend = addend/32 + addend%32
		sum += addend
		if factor == 2 {
			factor = 1
		} else {
			factor = 2
		}
	}
	return (32 - sum%32) % 32
}

// ParseTrackingCode accepts a code as a person may type it (any case, with
// dashes or spaces, O for 0 and I or L for 1) and returns its canonical form,
// or false when it is not a well-formed code.
func ParseTrackingCode(s string) (string, bool) {
	if len(s) > 32 {
		return "", false
	}
	var out [TrackingCodeLen]byte
	var vals [TrackingCodeLen]int
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' || c == ' ' {
			continue
		}
		v := crockfordValue[c]
		if v < 0 || n == TrackingCodeLen {
			return "", false
		}
		vals[n] = int(v)
		out[n] = crockford[v]
		n++
	}
	if n != TrackingCodeLen || luhn32(vals[:trackingDataLen]) != vals[trackingDataLen] {
		return "", false
	}
	return string(out[:]), true
}

// FormatTrackingCode writes a canonical code in groups for people: K7M2-Q9XP-4TZ.
func FormatTrackingCode(code string) string {
	if len(code) != TrackingCodeLen {
		return code
	}
	return code[:4] + "-" + code[4:8] + "-" + code[8:]
}
