package pii_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/pii"
)

// TestAddDataKey: adding a data key keeps every key, the index key and the
// comments; the new key seals new records at once when current, only after
// SetCurrentKey otherwise; the old keys still open what they sealed; a
// keyring without the new key cannot open what it sealed (hence the
// rollout order of docs/operations.md).
func TestAddDataKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "turnero.keys")
	if err := pii.WriteKeyFile(path, "k1"); err != nil {
		t.Fatal(err)
	}
	load := func() *pii.Keyring {
		t.Helper()
		k, err := pii.LoadKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k1 := load()
	binding := k1.DocumentHash(person.DocumentType, person.Document)
	id1, sealed1 := k1.Seal(&person, binding)
	before, _ := os.ReadFile(path)

	if err := pii.AddDataKey(path, "k2", true); err != nil {
		t.Fatal(err)
	}
	k2 := load()
	if k2.ActiveKeyID() != "k2" {
		t.Fatalf("current key %s after adding k2 as current", k2.ActiveKeyID())
	}
	if p, err := k2.Open(id1, sealed1, binding); err != nil || p != person {
		t.Fatalf("k1's record with k2 added: %+v, %v", p, err)
	}
	if string(k2.DocumentHash("CI", "12345672")) != string(k1.DocumentHash("CI", "12345672")) || k2.TrackingCode(7) != k1.TrackingCode(7) {
		t.Fatal("adding a data key changed the blind indexes or the tracking codes")
	}
	id2, sealed2 := k2.Seal(&person, binding)
	if id2 != "k2" {
		t.Fatalf("sealed with %s", id2)
	}
	if _, err := k1.Open(id2, sealed2, binding); err == nil {
		t.Fatal("a keyring without k2 opened what k2 sealed")
	}
	after, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(after), strings.SplitN(string(before), "turnero-keys v1", 2)[0]) {
		t.Errorf("the comments changed:\n%s", after)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after rewriting, want 0600", st.Mode().Perm())
	}
	if err := pii.AddDataKey(path, "k1", true); err == nil || !strings.Contains(err.Error(), "k1") {
		t.Errorf("adding k1 twice: %v", err)
	}

	// Added for reading only, then made current.
	if err := pii.AddDataKey(path, "k3", false); err != nil {
		t.Fatal(err)
	}
	if ids, _ := pii.DataKeyIDs(path); strings.Join(ids, " ") != "k2 k1 k3" {
		t.Fatalf("keys %v, want k2 k1 k3", ids)
	}
	if k := load(); k.ActiveKeyID() != "k2" {
		t.Fatalf("current key %s after adding k3 not current", k.ActiveKeyID())
	}
	if err := pii.SetCurrentKey(path, "k3"); err != nil {
		t.Fatal(err)
	}
	k3 := load()
	if ids, _ := pii.DataKeyIDs(path); strings.Join(ids, " ") != "k3 k2 k1" || k3.ActiveKeyID() != "k3" {
		t.Fatalf("keys %v, current %s; want k3 k2 k1, current k3", ids, k3.ActiveKeyID())
	}
	for _, s := range []struct {
		id     string
		sealed []byte
	}{{id1, sealed1}, {id2, sealed2}} {
		if _, err := k3.Open(s.id, s.sealed, binding); err != nil {
			t.Errorf("%s's record after rotations: %v", s.id, err)
		}
	}
	if err := pii.SetCurrentKey(path, "k9"); err == nil {
		t.Error("made an unknown key current")
	}
	if err := pii.AddDataKey(filepath.Join(t.TempDir(), "none"), "k4", true); err == nil {
		t.Error("added a key to a file that does not exist")
	}
}
