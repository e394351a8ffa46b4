// Package pii protects personal data: it seals it with AES-256-GCM under a
// key id so that keys can be rotated, and computes keyed hashes (blind
// indexes) so that a person can be found by document without the document
// being stored in clear. It never logs and never returns a key.
package pii

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/turnero/turnero/internal/turnero"
)

const (
	keyFileHeader = "turnero-keys v1"
	// sealVersion is the first byte of every sealed value.
	sealVersion = 1
	// hashLen is the length of the blind indexes kept: 128 bits is far beyond
	// collisions for a country's population.
	hashLen = 16
)

// Keyring holds the keys of one installation: one index key that never
// changes (blind indexes and tracking codes must stay comparable) and data keys by id, the first
// of which seals new records.
type Keyring struct {
	activeID string
	ids      []string // data key ids in the file's order, the active one first
	aeads    map[string]cipher.AEAD
	hmacs    *sync.Pool
	// index is the root of the blind index and tracking code keys.
	index []byte
	codes codeCipher
}

// LoadKeyFile reads a key file written by WriteKeyFile.
func LoadKeyFile(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open key file: %w", err)
	}
	defer f.Close()
	k, err := ParseKeyFile(f)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// ParseKeyFile reads the text format:
//
//	turnero-keys v1
//	index <base64 of 32 bytes>
//	data <id> <base64 of 32 bytes>   (the first data line seals new records)
//
// Lines starting with # are comments.
func ParseKeyFile(r io.Reader) (*Keyring, error) {
	sc := bufio.NewScanner(r)
	var index []byte
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	line, header := 0, false
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if !header {
			if text != keyFileHeader {
				return nil, fmt.Errorf("line %d: expected %q", line, keyFileHeader)
			}
			header = true
			continue
		}
		f := strings.Fields(text)
		switch {
		case len(f) == 2 && f[0] == "index":
			if index != nil {
				return nil, fmt.Errorf("line %d: a second index key", line)
			}
			b, err := decodeKey(f[1])
			if err != nil {
				return nil, fmt.Errorf("line %d: index key: %w", line, err)
			}
			index = b
		case len(f) == 3 && f[0] == "data":
			id := f[1]
			if !validKeyID(id) {
				return nil, fmt.Errorf("line %d: key id must be 1-32 letters, digits, '-' or '_'", line)
			}
			if _, dup := k.aeads[id]; dup {
				return nil, fmt.Errorf("line %d: key id %s appears twice", line, id)
			}
			b, err := decodeKey(f[2])
			if err != nil {
				return nil, fmt.Errorf("line %d: data key %s: %w", line, id, err)
			}
			block, err := aes.NewCipher(b)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			aead, err := cipher.NewGCMWithRandomNonce(block)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			k.aeads[id] = aead
			k.ids = append(k.ids, id)
			if k.activeID == "" {
				k.activeID = id
			}
		default:
			return nil, fmt.Errorf("line %d: expected \"index KEY\" or \"data ID KEY\"", line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !header {
		return nil, errors.New("empty key file")
	}
	if index == nil {
		return nil, errors.New("no index key")
	}
	if k.activeID == "" {
		return nil, errors.New("no data key")
	}
	// The index key in the file is a root; the HMAC key is derived from it so
	// that the same bytes are never used for two purposes.
	hk, err := hkdf.Key(sha256.New, index, nil, "turnero blind index v1", 32)
	if err != nil {
		return nil, err
	}
	k.hmacs = &sync.Pool{New: func() any { return hmac.New(sha256.New, hk) }}
	k.index = index
	ck, err := hkdf.Key(sha256.New, index, nil, "turnero tracking code v1", 32)
	if err != nil {
		return nil, err
	}
	if k.codes, err = newCodeCipher(ck); err != nil {
		return nil, err
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64")
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("must be 32 bytes, is %d", len(b))
	}
	return b, nil
}

func validKeyID(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// WriteKeyFile writes a new key file with a fresh index key and one data key.
// It refuses to overwrite an existing file: losing a key loses the data.
func WriteKeyFile(path, keyID string) error {
	if !validKeyID(keyID) {
		return fmt.Errorf("key id %q: must be 1-32 letters, digits, '-' or '_'", keyID)
	}
	var index, data [32]byte
	rand.Read(index[:])
	rand.Read(data[:])
	var b bytes.Buffer
	fmt.Fprintf(&b, "# turnero keys. Keep this file secret and keep a copy offline: without it the\n")
	fmt.Fprintf(&b, "# personal data cannot be read. Never commit it. The first data key seals new\n")
	fmt.Fprintf(&b, "# records, the others still open old ones: rotate with turnero keygen --add-to\n")
	fmt.Fprintf(&b, "# (docs/operations.md), and never remove a data key that sealed records.\n")
	fmt.Fprintf(&b, "%s\nindex %s\ndata %s %s\n", keyFileHeader,
		base64.StdEncoding.EncodeToString(index[:]), keyID, base64.StdEncoding.EncodeToString(data[:]))
	// Write a temporary file beside the target, sync it, then link it into
	// place: a crash leaves either no key file or a whole one, never an
	// empty one, and an existing key file is never replaced.
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".turnero-keys-*")
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("create key file: %w", err)
	}
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// ActiveKeyID is the id of the key that seals new records.
func (k *Keyring) ActiveKeyID() string { return k.activeID }

// KeyIDs returns the ids of the data keys, the active one first: what an
// operator checks on every node during a rotation (never the keys).
func (k *Keyring) KeyIDs() []string { return append([]string(nil), k.ids...) }

// Seal encrypts personal data with the active key. binding ties the
// ciphertext to its row (it is authenticated, not stored), so a sealed value
// copied onto another row fails to open.
func (k *Keyring) Seal(p *turnero.PersonalData, binding []byte) (keyID string, sealed []byte) {
	plain := make([]byte, 0, 160)
	plain = encodePersonal(plain, p)
	aad := make([]byte, 0, 64)
	aad = appendAAD(aad, k.activeID, binding)
	out := make([]byte, 1, 1+len(plain)+12+16)
	out[0] = sealVersion
	out = k.aeads[k.activeID].Seal(out, nil, plain, aad)
	return k.activeID, out
}

// Open decrypts what Seal produced.
func (k *Keyring) Open(keyID string, sealed, binding []byte) (turnero.PersonalData, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return turnero.PersonalData{}, fmt.Errorf("open personal data: unknown key id %q", keyID)
	}
	if len(sealed) < 1 || sealed[0] != sealVersion {
		return turnero.PersonalData{}, errors.New("open personal data: unknown format")
	}
	aad := appendAAD(make([]byte, 0, 64), keyID, binding)
	plain, err := aead.Open(nil, nil, sealed[1:], aad)
	if err != nil {
		return turnero.PersonalData{}, fmt.Errorf("open personal data: %w", err)
	}
	return decodePersonal(plain)
}

func appendAAD(dst []byte, keyID string, binding []byte) []byte {
	dst = append(dst, "turnero/registrations/personal_data/"...)
	dst = append(dst, keyID...)
	dst = append(dst, '/')
	return append(dst, binding...)
}

// DocumentHash is the blind index of a document: equal for the same document
// type and canonical number, and useless without the index key.
func (k *Keyring) DocumentHash(docType, canonical string) []byte {
	return k.sum("doc", docType, canonical, "")
}

// IdentityHash binds a document to a birth date, to tell the same person
// retrying from someone else using the same number.
func (k *Keyring) IdentityHash(docType, canonical, birthDate string) []byte {
	return k.sum("identity", docType, canonical, birthDate)
}

func (k *Keyring) sum(purpose, a, b, c string) []byte {
	h := k.hmacs.Get().(hash.Hash)
	h.Reset()
	var buf [96]byte
	msg := buf[:0]
	for _, s := range []string{purpose, a, b, c} {
		msg = binary.AppendUvarint(msg, uint64(len(s)))
		msg = append(msg, s...)
	}
	h.Write(msg)
	var sum [sha256.Size]byte
	out := h.Sum(sum[:0])
	k.hmacs.Put(h)
	return append([]byte(nil), out[:hashLen]...)
}

// encodePersonal writes the fields length-prefixed, in a fixed order: compact,
// and cheaper than JSON on the intake path.
func encodePersonal(dst []byte, p *turnero.PersonalData) []byte {
	for _, s := range [...]string{p.DocumentType, p.Document, p.GivenNames, p.FamilyNames, p.BirthDate, p.Phone, p.Email, p.Locality} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

func decodePersonal(b []byte) (turnero.PersonalData, error) {
	var f [8]string
	for i := range f {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return turnero.PersonalData{}, errors.New("open personal data: truncated")
		}
		f[i] = string(b[w : w+int(n)])
		b = b[w+int(n):]
	}
	return turnero.PersonalData{
		DocumentType: f[0], Document: f[1], GivenNames: f[2], FamilyNames: f[3],
		BirthDate: f[4], Phone: f[5], Email: f[6], Locality: f[7],
	}, nil
}
