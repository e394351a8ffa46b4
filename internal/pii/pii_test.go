package pii_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/turnero"
)

// newKeyring writes a fresh key file, as keygen and serve do, and loads it.
func newKeyring(t testing.TB) *pii.Keyring {
	t.Helper()
	path := filepath.Join(t.TempDir(), "turnero.key")
	if err := pii.WriteKeyFile(path, "test-1"); err != nil {
		t.Fatal(err)
	}
	k, err := pii.LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func key32(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }

func parse(t *testing.T, text string) *pii.Keyring {
	t.Helper()
	k, err := pii.ParseKeyFile(strings.NewReader(text))
	if err != nil {
		t.Fatalf("ParseKeyFile: %v", err)
	}
	return k
}

var person = turnero.PersonalData{
	DocumentType: "CI", Document: "12345672", GivenNames: "María José", FamilyNames: "Pérez Núñez",
	BirthDate: "1958-03-14", Phone: "+59899123456", Email: "maria@example.com", Locality: "Pocitos",
}

func TestSealOpen(t *testing.T) {
	k := newKeyring(t)
	binding := k.DocumentHash(person.DocumentType, person.Document)
	for _, p := range []turnero.PersonalData{person, {}, {GivenNames: strings.Repeat("ñ", 80), Email: strings.Repeat("a", 254)}} {
		id, sealed := k.Seal(&p, binding)
		if id != "test-1" || id != k.ActiveKeyID() {
			t.Fatalf("key id %q", id)
		}
		for _, field := range []string{p.Document, p.GivenNames, p.FamilyNames, p.BirthDate, p.Phone, p.Email, p.Locality} {
			if len(field) >= 4 && bytes.Contains(sealed, []byte(field)) {
				t.Fatalf("sealed value contains %q in clear", field)
			}
		}
		got, err := k.Open(id, sealed, binding)
		if err != nil {
			t.Fatal(err)
		}
		if got != p {
			t.Fatalf("opened %+v, sealed %+v", got, p)
		}
	}
	// The same data sealed twice differs (a fresh nonce each time).
	_, a := k.Seal(&person, binding)
	_, b := k.Seal(&person, binding)
	if bytes.Equal(a, b) {
		t.Error("two seals of the same data are equal")
	}
}

func TestOpenFails(t *testing.T) {
	k := newKeyring(t)
	binding := k.DocumentHash("CI", "12345672")
	id, sealed := k.Seal(&person, binding)
	if _, err := k.Open(id, sealed, k.DocumentHash("CI", "44444444")); err == nil {
		t.Error("opened with another row's binding")
	}
	if _, err := k.Open(id, sealed, nil); err == nil {
		t.Error("opened without the binding")
	}
	if _, err := k.Open("other", sealed, binding); err == nil {
		t.Error("opened with an unknown key id")
	}
	for i := range sealed {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(sealed)
			bad[i] ^= bit
			if _, err := k.Open(id, bad, binding); err == nil {
				t.Fatalf("opened with byte %d flipped", i)
			}
		}
	}
	for _, bad := range [][]byte{nil, {}, sealed[:1], sealed[:len(sealed)-1], append(bytes.Clone(sealed), 0)} {
		if _, err := k.Open(id, bad, binding); err == nil {
			t.Errorf("opened %d bytes of %d", len(bad), len(sealed))
		}
	}
	// Another installation's keys open nothing of this one.
	if _, err := newKeyring(t).Open(id, sealed, binding); err == nil {
		t.Error("opened with another installation's key")
	}
}

func TestKeyRotation(t *testing.T) {
	index := "index " + key32(1) + "\n"
	old := parse(t, "turnero-keys v1\n"+index+"data k2021 "+key32(2)+"\n")
	binding := old.DocumentHash("CI", "12345672")
	oldID, sealed := old.Seal(&person, binding)
	if oldID != "k2021" {
		t.Fatalf("old key id %q", oldID)
	}
	// Rotation: a new data key is put first; the old one stays to open old records.
	rotated := parse(t, "# rotated\nturnero-keys v1\n"+index+"data k2022 "+key32(3)+"\ndata k2021 "+key32(2)+"\n")
	if rotated.ActiveKeyID() != "k2022" {
		t.Fatalf("active key %q, want the first data line", rotated.ActiveKeyID())
	}
	got, err := rotated.Open(oldID, sealed, binding)
	if err != nil || got != person {
		t.Fatalf("old record after rotation: %+v, %v", got, err)
	}
	newID, newSealed := rotated.Seal(&person, binding)
	if newID != "k2022" {
		t.Fatalf("new records sealed with %q, want k2022", newID)
	}
	if _, err := old.Open(newID, newSealed, binding); err == nil {
		t.Error("the old keyring opened a record of the new key")
	}
	// A record is bound to its key id: claiming another id fails.
	if _, err := rotated.Open("k2021", newSealed, binding); err == nil {
		t.Error("opened a record under the wrong key id")
	}
	// The index key did not change: lookups and tracking codes still match.
	if !bytes.Equal(old.DocumentHash("CI", "12345672"), rotated.DocumentHash("CI", "12345672")) {
		t.Error("document hash changed with the data key")
	}
	if old.TrackingCode(42) != rotated.TrackingCode(42) {
		t.Error("tracking code changed with the data key")
	}
}

func TestBlindIndexes(t *testing.T) {
	k := newKeyring(t)
	h := k.DocumentHash("CI", "12345672")
	if len(h) != 16 {
		t.Fatalf("hash of %d bytes", len(h))
	}
	if !bytes.Equal(h, k.DocumentHash("CI", "12345672")) {
		t.Error("the same document hashes differently")
	}
	if bytes.Contains(h, []byte("12345672")) {
		t.Error("hash contains the document")
	}
	seen := map[string]string{string(h): "CI 12345672"}
	for _, d := range [][2]string{
		{"CI", "44444444"}, {"PASSPORT", "12345672"}, {"FOREIGN", "12345672"}, {"CI", "12345673"},
		{"CI1", "2345672"}, {"C", "I12345672"}, {"", "CI12345672"}, // boundaries between fields matter
	} {
		got := k.DocumentHash(d[0], d[1])
		if prev, dup := seen[string(got)]; dup {
			t.Errorf("%s %s hashes like %s", d[0], d[1], prev)
		}
		seen[string(got)] = d[0] + " " + d[1]
	}
	// Another installation's index key gives other hashes.
	if bytes.Equal(h, newKeyring(t).DocumentHash("CI", "12345672")) {
		t.Error("document hash does not depend on the key")
	}

	id := k.IdentityHash("CI", "12345672", "1958-03-14")
	if !bytes.Equal(id, k.IdentityHash("CI", "12345672", "1958-03-14")) {
		t.Error("identity hash not stable")
	}
	for _, other := range [][]byte{
		k.IdentityHash("CI", "12345672", "1958-03-15"),
		k.IdentityHash("CI", "44444444", "1958-03-14"),
		k.IdentityHash("PASSPORT", "12345672", "1958-03-14"),
		h, // an identity hash is never a document hash
	} {
		if bytes.Equal(id, other) {
			t.Error("identity hash collides")
		}
	}
}

func TestParseKeyFileErrors(t *testing.T) {
	index, data := "index "+key32(1)+"\n", "data k1 "+key32(2)+"\n"
	tests := []struct {
		name, text, want string
	}{
		{"empty", "", "empty key file"},
		{"comments only", "# nothing\n\n", "empty key file"},
		{"no header", index + data, "turnero-keys v1"},
		{"other version", "turnero-keys v2\n" + index + data, "turnero-keys v1"},
		{"bad base64", "turnero-keys v1\nindex not*base64\n" + data, "base64"},
		{"bad base64 data", "turnero-keys v1\n" + index + "data k1 %%%%\n", "base64"},
		{"short index key", "turnero-keys v1\nindex " + base64.StdEncoding.EncodeToString(make([]byte, 16)) + "\n" + data, "32 bytes"},
		{"short data key", "turnero-keys v1\n" + index + "data k1 " + base64.StdEncoding.EncodeToString(make([]byte, 31)) + "\n", "32 bytes"},
		{"long data key", "turnero-keys v1\n" + index + "data k1 " + base64.StdEncoding.EncodeToString(make([]byte, 64)) + "\n", "32 bytes"},
		{"duplicate ids", "turnero-keys v1\n" + index + data + "data k1 " + key32(3) + "\n", "twice"},
		{"no index key", "turnero-keys v1\n" + data, "no index key"},
		{"two index keys", "turnero-keys v1\n" + index + index + data, "second index key"},
		{"no data key", "turnero-keys v1\n" + index, "no data key"},
		{"bad key id", "turnero-keys v1\n" + index + "data k/1 " + key32(2) + "\n", "key id"},
		{"unknown line", "turnero-keys v1\n" + index + data + "hmac " + key32(4) + "\n", "line 4"},
	}
	for _, tt := range tests {
		k, err := pii.ParseKeyFile(strings.NewReader(tt.text))
		if err == nil {
			t.Errorf("%s: parsed (active key %q)", tt.name, k.ActiveKeyID())
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q, want it to mention %q", tt.name, err, tt.want)
		}
		// Errors never show key material.
		for _, secret := range []string{key32(1), key32(2), key32(3), key32(4)} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error shows a key", tt.name)
			}
		}
	}
	if _, err := pii.LoadKeyFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("loaded a missing file")
	}
}

func TestWriteKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "turnero.key")
	if err := pii.WriteKeyFile(path, "k-2021_03"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	before, _ := os.ReadFile(path)
	if err := pii.WriteKeyFile(path, "k-2022"); err == nil {
		t.Error("overwrote an existing key file")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a refused overwrite changed the file")
	}
	k, err := pii.LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if k.ActiveKeyID() != "k-2021_03" {
		t.Errorf("active key %q", k.ActiveKeyID())
	}
	// Two key files never share keys.
	other := filepath.Join(dir, "other.key")
	if err := pii.WriteKeyFile(other, "k-2021_03"); err != nil {
		t.Fatal(err)
	}
	k2, _ := pii.LoadKeyFile(other)
	if bytes.Equal(k.DocumentHash("CI", "12345672"), k2.DocumentHash("CI", "12345672")) {
		t.Error("two new key files have the same index key")
	}
	for _, id := range []string{"", "a b", "k/1", strings.Repeat("k", 33), "clé"} {
		p := filepath.Join(dir, "bad.key")
		if err := pii.WriteKeyFile(p, id); err == nil {
			t.Errorf("key id %q accepted", id)
			os.Remove(p)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.key")); err == nil {
		t.Error("a refused key id left a file")
	}
}

func TestTrackingCodeSequences(t *testing.T) {
	k := newKeyring(t)
	seen := make(map[string]int64, 100_001)
	check := func(seq int64) {
		code := k.TrackingCode(seq)
		if len(code) != turnero.TrackingCodeLen {
			t.Fatalf("code %q of %d", code, seq)
		}
		if prev, dup := seen[code]; dup && prev != seq {
			t.Fatalf("sequences %d and %d share code %s", prev, seq, code)
		}
		seen[code] = seq
		got, ok := k.SequenceOf(code)
		if !ok || got != seq {
			t.Fatalf("SequenceOf(%s) = %d, %v; want %d", code, got, ok, seq)
		}
	}
	for seq := int64(0); seq <= 100_000; seq++ {
		check(seq)
	}
	var b [8]byte
	for i := 0; i < 20_000; i++ {
		rand.Read(b[:])
		check(int64(uint64(b[0])<<42|uint64(b[1])<<34|uint64(b[2])<<26|uint64(b[3])<<18|uint64(b[4])<<10|uint64(b[5])<<2) & pii.MaxSequence)
	}
	check(pii.MaxSequence)
	// Typed the way people type it.
	code := k.TrackingCode(12345)
	for _, typed := range []string{turnero.FormatTrackingCode(code), strings.ToLower(code), " " + turnero.FormatTrackingCode(code) + " "} {
		if got, ok := k.SequenceOf(typed); !ok || got != 12345 {
			t.Errorf("SequenceOf(%q) = %d, %v", typed, got, ok)
		}
	}
	// Consecutive sequences do not give similar codes.
	a, c := k.TrackingCode(1000), k.TrackingCode(1001)
	same := 0
	for i := 0; i < turnero.TrackingCodeLen-1; i++ {
		if a[i] == c[i] {
			same++
		}
	}
	if same > 5 {
		t.Errorf("codes of consecutive sequences look alike: %s %s", a, c)
	}
	// Another installation gives other codes for the same sequence.
	if newKeyring(t).TrackingCode(1) == k.TrackingCode(1) {
		t.Error("tracking codes do not depend on the key")
	}
}

func TestSequenceOfTypo(t *testing.T) {
	k := newKeyring(t)
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	for _, seq := range []int64{1, 2, 3, 100, 99_999, 1 << 40} {
		code := []byte(k.TrackingCode(seq))
		for i := range code {
			orig := code[i]
			for j := 0; j < len(alphabet); j++ {
				if alphabet[j] == orig {
					continue
				}
				code[i] = alphabet[j]
				if got, ok := k.SequenceOf(string(code)); ok {
					t.Fatalf("typo %s of sequence %d accepted as %d", code, seq, got)
				}
			}
			code[i] = orig
		}
		for i := 0; i+1 < len(code); i++ {
			if code[i] == code[i+1] {
				continue
			}
			code[i], code[i+1] = code[i+1], code[i]
			if got, ok := k.SequenceOf(string(code)); ok {
				t.Fatalf("swap %s of sequence %d accepted as %d", code, seq, got)
			}
			code[i], code[i+1] = code[i+1], code[i]
		}
	}
	for _, bad := range []string{"", "hello", "K7M2-Q9XP-4T", "K7M2-Q9XP-4TZZ"} {
		if _, ok := k.SequenceOf(bad); ok {
			t.Errorf("SequenceOf(%q) accepted", bad)
		}
	}
}

// Databases sharing one key file (one per region) draw their tracking codes
// from salts of their own: the same sequence is another code in each, and a
// code of one database reads as another sequence (or none) in another. An
// empty salt keeps the codes of databases made before salts existed.
func TestCodesDifferPerDatabase(t *testing.T) {
	k := newKeyring(t)
	a, err := k.WithCodeSalt("region-a-salt")
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.WithCodeSalt("region-b-salt")
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := k.WithCodeSalt("")
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for seq := int64(1); seq <= 1000; seq++ {
		ca, cb := a.TrackingCode(seq), b.TrackingCode(seq)
		if ca == cb {
			same++
		}
		if got, ok := a.SequenceOf(ca); !ok || got != seq {
			t.Fatalf("region a reads its own code %s as %d, %v", ca, got, ok)
		}
		if got, _ := b.SequenceOf(ca); got == seq {
			t.Fatalf("region b reads region a's code of %d as the same sequence", seq)
		}
		if legacy.TrackingCode(seq) != k.TrackingCode(seq) {
			t.Fatal("an empty salt changed the codes")
		}
		if a.TrackingCode(seq) == k.TrackingCode(seq) {
			t.Fatal("a salt gave the codes of no salt")
		}
	}
	if same != 0 {
		t.Fatalf("%d of 1000 sequences have the same code in two databases", same)
	}
	// Blind indexes stay the same: they find a person within one database.
	if !bytes.Equal(a.DocumentHash("CI", "12345672"), k.DocumentHash("CI", "12345672")) {
		t.Fatal("a code salt changed the document hash")
	}
}
