package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"

	"github.com/turnero/turnero/internal/turnero"
)

// Tracking codes are a keyed permutation of the sequence number: a 10-round
// Feistel network over 50 bits with AES as the round function (the shape of
// NIST's FF1, on a fixed binary domain). Without the key, a code is as
// unguessable as 50 random bits; with it, a code maps straight back to its
// registration's primary key. This keeps a second random B-tree (an index of
// random codes) off the intake's write path, and codes can never collide.
const (
	codeBits   = 50
	halfBits   = codeBits / 2
	halfMask   = 1<<halfBits - 1
	codeRounds = 10
)

type codeCipher struct{ block cipher.Block }

func newCodeCipher(key []byte) (codeCipher, error) {
	b, err := aes.NewCipher(key)
	return codeCipher{b}, err
}

// round is the Feistel round function. buf is scratch space of 32 bytes,
// shared by the rounds of one call: passed to the cipher through an
// interface, it escapes to the heap, so it is allocated once, not per round.
func (c codeCipher) round(buf []byte, i int, half uint32) uint32 {
	in, out := buf[:16], buf[16:32]
	clear(in)
	in[0] = byte(i)
	binary.BigEndian.PutUint32(in[1:], half)
	c.block.Encrypt(out, in)
	return binary.BigEndian.Uint32(out) & halfMask
}

func (c codeCipher) encrypt(v uint64) uint64 {
	buf := make([]byte, 32)
	l, r := uint32(v>>halfBits)&halfMask, uint32(v)&halfMask
	for i := 0; i < codeRounds; i++ {
		l, r = r, l^c.round(buf, i, r)
	}
	return uint64(l)<<halfBits | uint64(r)
}

func (c codeCipher) decrypt(v uint64) uint64 {
	buf := make([]byte, 32)
	l, r := uint32(v>>halfBits)&halfMask, uint32(v)&halfMask
	for i := codeRounds - 1; i >= 0; i-- {
		l, r = r^c.round(buf, i, l), l
	}
	return uint64(l)<<halfBits | uint64(r)
}

// WithCodeSalt returns the keyring with tracking codes of a database of
// its own: the code key is derived with salt (turnero.Deployment's
// CodeSalt), so that databases sharing one key file (one per region) never
// give the same code, and a code of one never opens a record of another.
// An empty salt keeps the codes of databases made before salts existed.
// Blind indexes and sealed data are not changed.
func (k *Keyring) WithCodeSalt(salt string) (*Keyring, error) {
	if salt == "" {
		return k, nil
	}
	ck, err := hkdf.Key(sha256.New, k.index, []byte(salt), "turnero tracking code v1", 32)
	if err != nil {
		return nil, err
	}
	c := *k
	if c.codes, err = newCodeCipher(ck); err != nil {
		return nil, err
	}
	return &c, nil
}

// MaxSequence is the largest sequence number a tracking code can carry.
const MaxSequence = 1<<codeBits - 1

// TrackingCode returns the canonical tracking code of a sequence number.
func (k *Keyring) TrackingCode(sequence int64) string {
	return turnero.EncodeTrackingCode(k.codes.encrypt(uint64(sequence) & MaxSequence))
}

// CodeOf returns the sequence number a typed tracking code stands for and the
// code in canonical form (as TrackingCode would give it, without its cost),
// or false when the code is malformed or its check character is wrong.
func (k *Keyring) CodeOf(typed string) (int64, string, bool) {
	v, ok := turnero.DecodeTrackingCode(typed)
	if !ok {
		return 0, "", false
	}
	return int64(k.codes.decrypt(v)), turnero.EncodeTrackingCode(v), true
}

// SequenceOf returns the sequence number a typed tracking code stands for, or
// false when the code is malformed or its check character is wrong.
func (k *Keyring) SequenceOf(typed string) (int64, bool) {
	v, ok := turnero.DecodeTrackingCode(typed)
	if !ok {
		return 0, false
	}
	return int64(k.codes.decrypt(v)), true
}
