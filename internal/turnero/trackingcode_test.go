package turnero_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/turnero"
)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// sampleCodeValues are edge values and a seeded random sample of 50-bit values.
func sampleCodeValues(n int) []uint64 {
	vs := []uint64{0, 1, 31, 32, 1<<25 - 1, 1 << 25, 1<<50 - 2, 1<<50 - 1}
	rng := rand.New(rand.NewPCG(1, 2))
	for len(vs) < n {
		vs = append(vs, rng.Uint64()&(1<<50-1))
	}
	return vs
}

func TestTrackingCodeRoundTrip(t *testing.T) {
	for _, v := range sampleCodeValues(5000) {
		code := turnero.EncodeTrackingCode(v)
		if len(code) != turnero.TrackingCodeLen || strings.Trim(code, crockford) != "" {
			t.Fatalf("EncodeTrackingCode(%d) = %q: want %d Crockford characters", v, code, turnero.TrackingCodeLen)
		}
		formatted := turnero.FormatTrackingCode(code)
		if len(formatted) != 13 || formatted[4] != '-' || formatted[9] != '-' || strings.ReplaceAll(formatted, "-", "") != code {
			t.Fatalf("FormatTrackingCode(%q) = %q", code, formatted)
		}
		for _, typed := range []string{
			code, formatted, strings.ToLower(code), strings.ToLower(formatted),
			strings.ReplaceAll(formatted, "-", " "), " " + formatted + " ",
			strings.NewReplacer("0", "O", "1", "I").Replace(code),
			strings.NewReplacer("0", "o", "1", "l").Replace(formatted),
			strings.NewReplacer("1", "L").Replace(strings.ToLower(code)),
			strings.NewReplacer("1", "i").Replace(code),
		} {
			got, ok := turnero.DecodeTrackingCode(typed)
			if !ok || got != v {
				t.Fatalf("DecodeTrackingCode(%q) = %d, %v; want %d (code %s)", typed, got, ok, v, code)
			}
		}
	}
	// Only the low 50 bits are encoded.
	if a, b := turnero.EncodeTrackingCode(1<<50|7), turnero.EncodeTrackingCode(7); a != b {
		t.Errorf("high bits leak into the code: %s vs %s", a, b)
	}
}

func TestDecodeTrackingCodeMalformed(t *testing.T) {
	code := turnero.EncodeTrackingCode(123456789)
	for _, typed := range []string{
		"", "-", code[:10], code + "0", code + code, "U" + code[1:], // U is not in Crockford's alphabet
		code[:5] + "*" + code[6:], code[:5] + "\x00" + code[6:], code[:5] + "é" + code[6:],
		code[:5] + "_" + code[6:], code[:5] + "." + code[6:],
		strings.Repeat("-", 40) + code, // over the length limit
		"K7M2-Q9XP-4TZ' OR '1'='1",
	} {
		if v, ok := turnero.DecodeTrackingCode(typed); ok {
			t.Errorf("DecodeTrackingCode(%q) = %d, accepted", typed, v)
		}
	}
}

// TestTrackingCodeCheckCharacter: a person who mistypes one character, or
// swaps two neighbours, is told the code is wrong rather than shown someone
// else's registration.
func TestTrackingCodeCheckCharacter(t *testing.T) {
	for _, v := range sampleCodeValues(2000) {
		code := turnero.EncodeTrackingCode(v)
		b := []byte(code)
		for i := range b {
			orig := b[i]
			for j := 0; j < len(crockford); j++ {
				if crockford[j] == orig {
					continue
				}
				b[i] = crockford[j]
				if got, ok := turnero.DecodeTrackingCode(string(b)); ok {
					t.Fatalf("substitution %s -> %s at %d not detected (decodes to %d)", code, b, i, got)
				}
			}
			b[i] = orig
		}
		for i := 0; i+1 < len(b); i++ {
			if b[i] == b[i+1] {
				continue
			}
			b[i], b[i+1] = b[i+1], b[i]
			if got, ok := turnero.DecodeTrackingCode(string(b)); ok {
				t.Fatalf("transposition %s -> %s at %d not detected (decodes to %d)", code, b, i, got)
			}
			b[i], b[i+1] = b[i+1], b[i]
		}
	}
}

// Codes with every pair of neighbouring values, so that the transposition
// check is not left to the luck of a random sample.
func TestTrackingCodeCheckCharacterAllPairs(t *testing.T) {
	for x := 0; x < 32; x++ {
		for y := 0; y < 32; y++ {
			if x == y {
				continue
			}
			for pos := 0; pos < 9; pos++ {
				shift := uint(5 * (8 - pos)) // pos is the character index from the left
				v := uint64(x)<<(shift+5) | uint64(y)<<shift
				code := turnero.EncodeTrackingCode(v)
				b := []byte(code)
				b[pos], b[pos+1] = b[pos+1], b[pos]
				if got, ok := turnero.DecodeTrackingCode(string(b)); ok {
					t.Errorf("transposition %s -> %s not detected (decodes to %d)", code, b, got)
				}
			}
			// The last data character and the check character.
			code := []byte(turnero.EncodeTrackingCode(uint64(x)))
			if code[9] != code[10] {
				code[9], code[10] = code[10], code[9]
				if _, ok := turnero.DecodeTrackingCode(string(code)); ok {
					t.Errorf("transposition of the check character in %s not detected", code)
				}
			}
		}
	}
}

// TestDocumentedCodes: every tracking code written in the documentation is
// a valid code (its check character right), as a reader will try them.
func TestDocumentedCodes(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	shape := regexp.MustCompile(`\b[0-9A-Z]{4}[- ][0-9A-Z]{4}[- ][0-9A-Z]{3}\b|\b[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{3}\b`)
	found := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, code := range shape.FindAllString(string(b), -1) {
			found++
			if _, ok := turnero.DecodeTrackingCode(code); !ok {
				t.Errorf("%s: %s is not a valid tracking code", filepath.Base(f), code)
			}
		}
	}
	if found < 3 {
		t.Fatalf("%d codes found in the documentation; the pattern is broken", found)
	}
}
