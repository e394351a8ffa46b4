package access

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/turnero/turnero/internal/turnero"
)

// Expiries of new tokens.
const (
	DefaultExpiry = 90 * 24 * time.Hour
	MaxExpiry     = 400 * 24 * time.Hour
	maxLabel      = 120
)

// NewToken is what an operator asks for: checked by Make.
type NewToken struct {
	Role   string `json:"role"`
	Center string `json:"center"`
	// Label says whose it is: required, since the audit trail names it.
	Label string `json:"label"`
	// ExpiresAt: zero means DefaultExpiry from now.
	ExpiresAt time.Time `json:"expires_at"`
}

// Make checks a request for a token and makes it: the secret, to show once,
// and the token to store (its hash only). centerExists says whether a
// center id is known (the caller reads the campaign and storage).
func Make(req NewToken, now time.Time, centerExists func(id string) bool) (string, turnero.Token, error) {
	fe := turnero.FieldErrors{}
	label := strings.Join(strings.Fields(req.Label), " ")
	switch {
	case !turnero.KnownRole(req.Role):
		fe.Add("role", "role_unknown")
	case req.Role == turnero.RoleCenter && req.Center == "":
		fe.Add("center", "center_required")
	case req.Role == turnero.RoleCenter && !centerExists(req.Center):
		fe.Add("center", "center_not_found")
	case req.Role != turnero.RoleCenter && req.Center != "":
		fe.Add("center", "center_not_allowed")
	}
	if label == "" {
		fe.Add("label", "label_required")
	} else if utf8.RuneCountInString(label) > maxLabel || !utf8.ValidString(label) || strings.ContainsFunc(label, isControl) {
		fe.Add("label", "invalid_value")
	}
	expires := req.ExpiresAt
	if expires.IsZero() {
		expires = now.Add(DefaultExpiry)
	}
	if expires.Before(now.Add(time.Hour)) || expires.After(now.Add(MaxExpiry)) {
		fe.Add("expires_at", "expiry_range")
	}
	if err := fe.Err(); err != nil {
		return "", turnero.Token{}, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", turnero.Token{}, fmt.Errorf("make token: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(b[:])
	return secret, turnero.Token{Hash: turnero.HashToken(secret), Role: req.Role, Center: req.Center, Label: label,
		CreatedAt: now, ExpiresAt: expires}, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
