package turnero

import (
	"context"
	"crypto/sha256"
)

// Roles of a bearer token.
const (
	RoleAdmin  = "admin"  // ministry operators
	RoleCenter = "center" // staff of one vaccination center
	RoleFeed   = "feed"   // an external scheduling system
	// RoleAnalyst reads aggregates only: never a name, document, contact or
	// tracking code.
	RoleAnalyst = "analyst"
	// RoleSupport is a phone operator: registers a person on their behalf
	// and looks a person up by document and birth date.
	RoleSupport = "support"
)

// Token is what a bearer token allows. Only its hash is ever stored.
type Token struct {
	Hash   []byte
	Role   string
	Center string // for RoleCenter
}

// HashToken is how a secret token is stored and looked up: SHA-256. Tokens
// are long random strings, so a fast hash is enough; no salt is needed.
func HashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// MinTokenLength is the shortest token accepted, in bytes.
const MinTokenLength = 24

// TokenStore keeps bearer tokens by their hash.
type TokenStore interface {
	// PutToken stores (or replaces) a token.
	PutToken(ctx context.Context, t Token) error
	// TokenByHash returns ErrUnauthorized for an unknown hash.
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
}
