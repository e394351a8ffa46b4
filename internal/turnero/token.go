package turnero

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Roles of a bearer token. Each route names the roles it lets in; no role
// implies another (an admin token does not read the feed).
const (
	RoleAdmin  = "admin"  // ministry operators
	RoleCenter = "center" // staff of one vaccination center
	RoleFeed   = "feed"   // an external scheduling system: the pull feed only
	// RoleAnalyst reads aggregates only: never a name, document, contact or
	// tracking code.
	RoleAnalyst = "analyst"
	// RoleSupport is a phone operator: registers a person on their behalf
	// and looks a person up by document and birth date.
	RoleSupport = "support"
)

// Roles are every role, in the order they are listed to people.
var Roles = []string{RoleAdmin, RoleCenter, RoleFeed, RoleAnalyst, RoleSupport}

// KnownRole reports whether r is a role.
func KnownRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Token is what a bearer token allows. Only its hash is ever stored.
type Token struct {
	Hash   []byte
	Role   string
	Center string // for RoleCenter
	// Label says whose it is ("Ana Pérez, vacunatorio MO-01", "sistema de
	// agenda del MSP"): what the audit trail names as the actor.
	Label     string
	CreatedAt time.Time
	// ExpiresAt is when it stops working; zero: never (tokens made before
	// expiries existed, and the bootstrap admin token of the configuration).
	ExpiresAt time.Time
	// RevokedAt is when an operator revoked it; zero while it is not.
	RevokedAt time.Time
	// LastUsedAt is when it was last used, to the minute: each node writes
	// it at most once a minute per token.
	LastUsedAt time.Time
}

// ID is the token's public identifier, to list and revoke it by: the first
// six bytes of its hash, in hex. It tells nothing of the secret.
func (t Token) ID() string { return TokenID(t.Hash) }

// TokenID is the public identifier of the token with that hash.
func TokenID(hash []byte) string {
	if len(hash) < 6 {
		return hex.EncodeToString(hash)
	}
	return hex.EncodeToString(hash[:6])
}

// Usable reports whether the token may be used at now: not revoked, not
// expired. ErrUnauthorized otherwise, as for an unknown token: the answer
// does not say which.
func (t Token) Usable(now time.Time) error {
	if !t.RevokedAt.IsZero() || !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return ErrUnauthorized
	}
	return nil
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
	// PutToken stores a token, or updates the role, center and label of
	// one stored already (never its revocation: a revoked token stays
	// revoked).
	PutToken(ctx context.Context, t Token) error
	// TokenByHash returns ErrUnauthorized for an unknown hash; a revoked
	// or expired token is returned as it is (Usable says whether it
	// works).
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	// Tokens lists every token, the newest first.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken revokes the token with that ID at at, and returns it;
	// ErrNotFound when there is none. Revoking twice keeps the first time.
	RevokeToken(ctx context.Context, id string, at time.Time) (Token, error)
	// TouchTokens records when tokens were last used (by hash); a time
	// earlier than the one stored changes nothing.
	TouchTokens(ctx context.Context, used map[string]time.Time) error
}

// Session is a signed-in staff member's session on the pages: a cookie's
// secret (stored only as its hash), on behalf of a token. Stored so that
// every node knows it; it ends when it expires, when the person signs out,
// and at once when its token is revoked or expires.
type Session struct {
	Hash      []byte
	TokenHash []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SessionStore keeps sessions by their hash.
type SessionStore interface {
	// PutSession stores a new session.
	PutSession(ctx context.Context, s Session) error
	// SessionByHash returns the session and its token; ErrUnauthorized
	// when there is no such session (or its token is gone).
	SessionByHash(ctx context.Context, hash []byte) (Session, Token, error)
	// DeleteSession ends a session (signing out); none is not an error.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteSessionsBefore deletes the sessions expired before t; it
	// returns how many.
	DeleteSessionsBefore(ctx context.Context, t time.Time) (int64, error)
}
