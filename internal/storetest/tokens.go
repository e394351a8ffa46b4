package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// Tokens and sessions: what is stored is read back on every store of the
// database (another node sees a revocation at its next read), a revocation
// is kept, last uses only move forward, and a session answers with its
// token as the token is now.
func runTokens(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"TokensReadBackAndList", testTokensReadBack},
		{"TokenRevokedOnEveryStore", testTokenRevoke},
		{"TokenLastUsedMovesForward", testTokenTouch},
		{"SessionsWithTheirToken", testSessions},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

var tokenT0 = time.Date(2021, 3, 21, 19, 0, 0, 0, time.UTC)

func testToken(secret, role, center, label string) turnero.Token {
	return turnero.Token{Hash: turnero.HashToken(secret), Role: role, Center: center, Label: label, CreatedAt: tokenT0,
		ExpiresAt: tokenT0.Add(90 * 24 * time.Hour)}
}

func putToken(t *testing.T, s turnero.TokenStore, tok turnero.Token) {
	t.Helper()
	if err := s.PutToken(context.Background(), tok); err != nil {
		t.Fatalf("PutToken: %v", err)
	}
}

func sameToken(a, b turnero.Token) bool {
	return bytes.Equal(a.Hash, b.Hash) && a.Role == b.Role && a.Center == b.Center && a.Label == b.Label &&
		a.CreatedAt.Equal(b.CreatedAt) && a.ExpiresAt.Equal(b.ExpiresAt) && a.RevokedAt.Equal(b.RevokedAt) &&
		a.LastUsedAt.Equal(b.LastUsedAt)
}

func testTokensReadBack(t *testing.T, open Opener) {
	s := fresh(t, open)
	ctx := context.Background()
	toks := []turnero.Token{
		testToken("secret-of-the-admin-000000", turnero.RoleAdmin, "", "Operaciones"),
		testToken("secret-of-a-center-0000000", turnero.RoleCenter, "MO-01", "Ana, MO-01"),
		testToken("secret-of-an-analyst-00000", turnero.RoleAnalyst, "", "Planificación"),
		testToken("secret-of-support-00000000", turnero.RoleSupport, "", "0800 1919, turno noche"),
	}
	toks[1].CreatedAt = tokenT0.Add(time.Hour)
	toks[2].ExpiresAt = time.Time{} // never expires
	for _, tok := range toks {
		putToken(t, s, tok)
	}
	for _, tok := range toks {
		got, err := s.TokenByHash(ctx, tok.Hash)
		if err != nil || !sameToken(got, tok) {
			t.Fatalf("TokenByHash: %+v, %v; stored %+v", got, err, tok)
		}
		if got.ID() != turnero.TokenID(tok.Hash) || len(got.ID()) != 12 {
			t.Fatalf("ID %q", got.ID())
		}
	}
	if _, err := s.TokenByHash(ctx, turnero.HashToken("nobody-has-this-token-0000")); !errors.Is(err, turnero.ErrUnauthorized) {
		t.Fatalf("unknown token: %v, want unauthorized", err)
	}
	list, err := s.Tokens(ctx)
	if err != nil || len(list) != len(toks) {
		t.Fatalf("Tokens: %d, %v; want %d", len(list), err, len(toks))
	}
	if !bytes.Equal(list[0].Hash, toks[1].Hash) {
		t.Fatalf("Tokens lists %q first, want the newest (%q)", list[0].Label, toks[1].Label)
	}
	// Putting it again updates what it allows and whose it is.
	again := toks[1]
	again.Label = "Ana Pérez, MO-01"
	putToken(t, s, again)
	if got, _ := s.TokenByHash(ctx, again.Hash); got.Label != again.Label {
		t.Fatalf("label after a second put: %q", got.Label)
	}
}

func testTokenRevoke(t *testing.T, open Opener) {
	a, another := open(t)
	b := another(t)
	ctx := context.Background()
	tok := testToken("secret-to-be-revoked-0000", turnero.RoleFeed, "", "Agenda MSP")
	putToken(t, a, tok)
	if got, err := b.TokenByHash(ctx, tok.Hash); err != nil || got.Usable(tokenT0) != nil {
		t.Fatalf("before revocation, on the other store: %+v, %v", got, err)
	}
	at := tokenT0.Add(2 * time.Hour)
	got, err := a.RevokeToken(ctx, tok.ID(), at)
	if err != nil || !got.RevokedAt.Equal(at) {
		t.Fatalf("RevokeToken: %+v, %v", got, err)
	}
	if got, err := b.TokenByHash(ctx, tok.Hash); err != nil || !got.RevokedAt.Equal(at) ||
		!errors.Is(got.Usable(at), turnero.ErrUnauthorized) {
		t.Fatalf("after revocation, on the other store: %+v, %v", got, err)
	}
	if got, err := b.RevokeToken(ctx, tok.ID(), at.Add(time.Hour)); err != nil || !got.RevokedAt.Equal(at) {
		t.Fatalf("revoked twice: %+v, %v; want the first time kept", got, err)
	}
	// The configuration's bootstrap token is put again at every start: it
	// stays revoked.
	putToken(t, b, tok)
	if got, _ := a.TokenByHash(ctx, tok.Hash); !got.RevokedAt.Equal(at) {
		t.Fatalf("put again after revocation: revoked at %v, want %v", got.RevokedAt, at)
	}
	if _, err := a.RevokeToken(ctx, "000000000000", at); !errors.Is(err, turnero.ErrNotFound) {
		t.Fatalf("revoke an unknown ID: %v, want not found", err)
	}
}

func testTokenTouch(t *testing.T, open Opener) {
	s := fresh(t, open)
	ctx := context.Background()
	x := testToken("secret-touched-00000000000", turnero.RoleCenter, "MO-01", "x")
	y := testToken("secret-touched-11111111111", turnero.RoleCenter, "MO-02", "y")
	putToken(t, s, x)
	putToken(t, s, y)
	t1 := tokenT0.Add(time.Minute)
	if err := s.TouchTokens(ctx, map[string]time.Time{string(x.Hash): t1, string(y.Hash): t1.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	// Another node's older flush comes late: it changes nothing.
	if err := s.TouchTokens(ctx, map[string]time.Time{string(x.Hash): tokenT0, string(turnero.HashToken("unknown")): t1}); err != nil {
		t.Fatal(err)
	}
	gx, _ := s.TokenByHash(ctx, x.Hash)
	gy, _ := s.TokenByHash(ctx, y.Hash)
	if !gx.LastUsedAt.Equal(t1) || !gy.LastUsedAt.Equal(t1.Add(time.Minute)) {
		t.Fatalf("last used %v and %v, want %v and %v", gx.LastUsedAt, gy.LastUsedAt, t1, t1.Add(time.Minute))
	}
}

func testSessions(t *testing.T, open Opener) {
	a, another := open(t)
	b := another(t)
	ctx := context.Background()
	tok := testToken("secret-of-a-session-00000", turnero.RoleCenter, "MO-01", "Ana")
	putToken(t, a, tok)
	sess := turnero.Session{Hash: turnero.HashToken("cookie-1"), TokenHash: tok.Hash, CreatedAt: tokenT0,
		ExpiresAt: tokenT0.Add(12 * time.Hour)}
	old := turnero.Session{Hash: turnero.HashToken("cookie-0"), TokenHash: tok.Hash, CreatedAt: tokenT0.Add(-24 * time.Hour),
		ExpiresAt: tokenT0.Add(-12 * time.Hour)}
	for _, s := range []turnero.Session{sess, old} {
		if err := a.PutSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	gs, gt, err := b.SessionByHash(ctx, sess.Hash)
	if err != nil || !gs.ExpiresAt.Equal(sess.ExpiresAt) || !gs.CreatedAt.Equal(sess.CreatedAt) ||
		!bytes.Equal(gs.TokenHash, tok.Hash) || !sameToken(gt, tok) {
		t.Fatalf("SessionByHash on another store: %+v %+v %v", gs, gt, err)
	}
	if _, err := a.RevokeToken(ctx, tok.ID(), tokenT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, gt, _ := b.SessionByHash(ctx, sess.Hash); gt.RevokedAt.IsZero() {
		t.Fatal("a session's token read back without its revocation")
	}
	n, err := b.DeleteSessionsBefore(ctx, tokenT0)
	if err != nil || n != 1 {
		t.Fatalf("DeleteSessionsBefore: %d, %v; want the expired one", n, err)
	}
	if _, _, err := a.SessionByHash(ctx, old.Hash); !errors.Is(err, turnero.ErrUnauthorized) {
		t.Fatalf("expired session after the clean-up: %v", err)
	}
	if err := a.DeleteSession(ctx, sess.Hash); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.SessionByHash(ctx, sess.Hash); !errors.Is(err, turnero.ErrUnauthorized) {
		t.Fatalf("after signing out: %v, want unauthorized", err)
	}
	if err := a.DeleteSession(ctx, sess.Hash); err != nil {
		t.Fatalf("signing out twice: %v", err)
	}
}
