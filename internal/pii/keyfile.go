package pii

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Rotating data keys. A key file holds one index key, which never changes
// (blind indexes and tracking codes must stay comparable), and data keys by
// id: the first seals new records, every one opens the records it sealed.
// These functions change a key file in place, keeping everything else in it
// (comments included) and every key: a data key removed would make the
// records it sealed unreadable.

// AddDataKey adds a new random data key with id to the key file at path. When
// current is true it goes first, and so seals new records on every node that
// loads the file; otherwise it goes last, and nodes can open what it seals
// before any node seals with it (see docs/operations.md for the order).
func AddDataKey(path, id string, current bool) error {
	lines, err := readKeyFile(path)
	if err != nil {
		return err
	}
	if !validKeyID(id) {
		return fmt.Errorf("key id %q: must be 1-32 letters, digits, '-' or '_'", id)
	}
	if i := dataLine(lines, id); i >= 0 {
		return fmt.Errorf("key file %s has a data key %s already; choose another id with --id", path, id)
	}
	var key [32]byte
	rand.Read(key[:])
	line := "data " + id + " " + base64.StdEncoding.EncodeToString(key[:])
	at := len(lines)
	for i, l := range lines {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "data" {
			if current {
				at = i
				break
			}
			at = i + 1
		}
	}
	lines = append(lines[:at], append([]string{line}, lines[at:]...)...)
	return replaceKeyFile(path, lines)
}

// SetCurrentKey makes the data key id of the key file at path the one that
// seals new records, by moving its line before the other data keys.
func SetCurrentKey(path, id string) error {
	lines, err := readKeyFile(path)
	if err != nil {
		return err
	}
	i := dataLine(lines, id)
	if i < 0 {
		return fmt.Errorf("key file %s has no data key %s", path, id)
	}
	first := -1
	for j, l := range lines {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "data" {
			first = j
			break
		}
	}
	if first == i {
		return nil
	}
	line := lines[i]
	lines = append(lines[:i], lines[i+1:]...)
	lines = append(lines[:first], append([]string{line}, lines[first:]...)...)
	return replaceKeyFile(path, lines)
}

// DataKeyIDs returns the ids of the data keys of the key file at path, the
// current one first.
func DataKeyIDs(path string) ([]string, error) {
	lines, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "data" {
			ids = append(ids, f[1])
		}
	}
	return ids, nil
}

// readKeyFile returns the lines of a key file that parses.
func readKeyFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open key file: %w", err)
	}
	if _, err := ParseKeyFile(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n"), nil
}

func dataLine(lines []string, id string) int {
	for i, l := range lines {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "data" && f[1] == id {
			return i
		}
	}
	return -1
}

// replaceKeyFile writes lines to a temporary file beside path, checks that
// it parses, syncs it and renames it over path: a crash leaves the old key
// file or the new one, whole, never a mix or an empty one.
func replaceKeyFile(path string, lines []string) error {
	text := []byte(strings.Join(lines, "\n") + "\n")
	if _, err := ParseKeyFile(bytes.NewReader(text)); err != nil {
		return fmt.Errorf("key file %s: the changed file would not parse: %w", path, err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".turnero-keys-*")
	if err != nil {
		return fmt.Errorf("rewrite key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("rewrite key file: %w", err)
	}
	if _, err := tmp.Write(text); err != nil {
		tmp.Close()
		return fmt.Errorf("rewrite key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("rewrite key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rewrite key file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
