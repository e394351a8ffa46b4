package access_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/access"
	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/turnero"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2021, 3, 21, 19, 0, 0, 0, time.UTC)

const secret = "a-long-random-token-secret-0000"

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestRevokedOnEveryNode: a token revoked through one node stops working on
// another within CacheTTL, for bearer requests and sessions alike; one
// that expires stops at its expiry.
func TestRevokedOnEveryNode(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
		ctx := context.Background()
		where := e.Fresh(t)
		a, b := e.Open(t, where), e.Open(t, where)
		clk := &clock{t: t0}
		nodeA, nodeB := access.New(a, clk, quiet()), access.New(b, clk, quiet())
		tok := turnero.Token{Hash: turnero.HashToken(secret), Role: turnero.RoleCenter, Center: "MO-01", Label: "Ana",
			CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
		if err := a.PutToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if got, err := nodeB.Bearer(ctx, secret); err != nil || got.Label != "Ana" {
			t.Fatalf("before: %+v, %v", got, err)
		}
		cookie, _, _, err := nodeB.SignIn(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nodeB.Session(ctx, cookie); err != nil {
			t.Fatalf("session: %v", err)
		}
		if _, err := a.RevokeToken(ctx, tok.ID(), clk.Now()); err != nil {
			t.Fatal(err)
		}
		nodeA.Forget(tok.Hash)
		if _, err := nodeA.Bearer(ctx, secret); !errors.Is(err, turnero.ErrUnauthorized) {
			t.Fatalf("on the node that revoked it: %v, want unauthorized at once", err)
		}
		clk.add(access.CacheTTL)
		if _, err := nodeB.Bearer(ctx, secret); !errors.Is(err, turnero.ErrUnauthorized) {
			t.Fatalf("on another node after %v: %v, want unauthorized", access.CacheTTL, err)
		}
		if _, err := nodeB.Session(ctx, cookie); !errors.Is(err, turnero.ErrUnauthorized) {
			t.Fatalf("a session of the revoked token: %v, want unauthorized", err)
		}
		if _, _, _, err := nodeB.SignIn(ctx, secret); !errors.Is(err, turnero.ErrUnauthorized) {
			t.Fatalf("sign in with the revoked token: %v", err)
		}

		// Expiry: a session never outlives its token.
		exp := turnero.Token{Hash: turnero.HashToken(secret + "x"), Role: turnero.RoleAnalyst, Label: "Planning",
			CreatedAt: t0, ExpiresAt: clk.Now().Add(time.Hour)}
		if err := a.PutToken(ctx, exp); err != nil {
			t.Fatal(err)
		}
		cookie, sess, _, err := nodeA.SignIn(ctx, secret+"x")
		if err != nil || !sess.ExpiresAt.Equal(exp.ExpiresAt) {
			t.Fatalf("session of a token that expires in an hour: %+v, %v", sess, err)
		}
		clk.add(time.Hour)
		if _, err := nodeA.Bearer(ctx, secret+"x"); !errors.Is(err, turnero.ErrUnauthorized) {
			t.Fatalf("expired token: %v", err)
		}
		if _, err := nodeA.Session(ctx, cookie); !errors.Is(err, turnero.ErrUnauthorized) {
			t.Fatalf("session of an expired token: %v", err)
		}
		for _, bad := range []string{"", "not-a-token", string(make([]byte, 300))} {
			if _, err := nodeA.Bearer(ctx, bad); !errors.Is(err, turnero.ErrUnauthorized) {
				t.Fatalf("Bearer(%q): %v", bad, err)
			}
			if _, err := nodeA.Session(ctx, bad); !errors.Is(err, turnero.ErrUnauthorized) {
				t.Fatalf("Session(%q): %v", bad, err)
			}
		}
	})
}

// TestSignOut: a session ends on every node once signed out.
func TestSignOut(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
		ctx := context.Background()
		where := e.Fresh(t)
		a, b := e.Open(t, where), e.Open(t, where)
		clk := &clock{t: t0}
		nodeA, nodeB := access.New(a, clk, quiet()), access.New(b, clk, quiet())
		if err := a.PutToken(ctx, turnero.Token{Hash: turnero.HashToken(secret), Role: turnero.RoleSupport, Label: "0800"}); err != nil {
			t.Fatal(err)
		}
		cookie, _, _, err := nodeA.SignIn(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nodeB.Session(ctx, cookie); err != nil {
			t.Fatal(err)
		}
		if err := nodeA.SignOut(ctx, cookie); err != nil {
			t.Fatal(err)
		}
		if _, err := nodeA.Session(ctx, cookie); !errors.Is(err, turnero.ErrUnauthorized) {
			t.Fatalf("signed out, same node: %v", err)
		}
		clk.add(access.CacheTTL)
		if _, err := nodeB.Session(ctx, cookie); !errors.Is(err, turnero.ErrUnauthorized) {
			t.Fatalf("signed out, other node: %v", err)
		}
		clk.add(access.SessionLength)
		if _, err := nodeA.Bearer(ctx, secret); err != nil {
			t.Fatalf("the token itself still works: %v", err)
		}
	})
}

// countingStore counts writes of last uses.
type countingStore struct {
	turnero.Store
	mu      sync.Mutex
	touches int
}

func (s *countingStore) TouchTokens(ctx context.Context, used map[string]time.Time) error {
	s.mu.Lock()
	s.touches++
	s.mu.Unlock()
	return s.Store.TouchTokens(ctx, used)
}

// TestLastUsedWithoutAWritePerRequest: a thousand requests of two tokens
// write nothing until the flush, which writes both in one statement.
func TestLastUsedWithoutAWritePerRequest(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
		ctx := context.Background()
		st := &countingStore{Store: e.New(t)}
		clk := &clock{t: t0}
		svc := access.New(st, clk, quiet())
		for _, s := range []string{secret, secret + "2"} {
			if err := st.PutToken(ctx, turnero.Token{Hash: turnero.HashToken(s), Role: turnero.RoleFeed, Label: s}); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 1000; i++ {
			clk.add(time.Millisecond)
			if _, err := svc.Bearer(ctx, []string{secret, secret + "2"}[i%2]); err != nil {
				t.Fatal(err)
			}
		}
		if st.touches != 0 {
			t.Fatalf("%d writes of last uses before the flush", st.touches)
		}
		if err := svc.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := svc.Flush(ctx); err != nil { // nothing new: no write
			t.Fatal(err)
		}
		if st.touches != 1 {
			t.Fatalf("%d writes, want one for the flush", st.touches)
		}
		got, _ := st.TokenByHash(ctx, turnero.HashToken(secret+"2"))
		if !got.LastUsedAt.Equal(clk.Now()) {
			t.Fatalf("last used %v, want the last request's time %v", got.LastUsedAt, clk.Now())
		}
	})
}
