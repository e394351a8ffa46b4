// Package access says who a request is: a bearer token (the API) or a staff
// member's session cookie (the pages), checked against storage so that a
// token revoked or expired on one node stops working on every node within
// CacheTTL. It records when tokens were last used without a write per
// request: each node writes them at most once a minute, in one statement.
// It decides who someone is, not what they may do: each route names the
// roles it lets in.
package access

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

const (
	// CacheTTL is how long a node trusts what it read of a token or a
	// session: a revocation reaches every node within it. Staff and feed
	// requests are a few per second, so a read per token every 2 s is
	// nothing; without the cache a busy feed consumer would read its token
	// on every page.
	CacheTTL = 2 * time.Second
	// FlushEvery is how often last uses are written: at most once a minute
	// per token and node.
	FlushEvery = time.Minute
	// SessionLength is how long a staff session lasts: a working day, so a
	// tablet left at the door does not stay signed in overnight.
	SessionLength = 12 * time.Hour
	// maxSecret bounds what is hashed: tokens are 43 characters.
	maxSecret = 256
	// maxCached bounds the cache: a flood of made-up tokens must not grow
	// it without end (each costs a read of storage instead).
	maxCached = 10_000
)

// Store is what access reads and writes.
type Store interface {
	turnero.TokenStore
	turnero.SessionStore
}

// Service authenticates tokens and sessions.
type Service struct {
	store Store
	clock turnero.Clock
	log   *slog.Logger

	mu       sync.Mutex
	tokens   map[string]cachedToken   // by token hash
	sessions map[string]cachedSession // by session hash
	used     map[string]time.Time     // token hash → last use since the last flush
}

type cachedToken struct {
	t  turnero.Token
	at time.Time
}

type cachedSession struct {
	s  turnero.Session
	t  turnero.Token
	at time.Time
}

// New returns the service over store.
func New(store Store, clock turnero.Clock, log *slog.Logger) *Service {
	return &Service{store: store, clock: clock, log: log, tokens: map[string]cachedToken{},
		sessions: map[string]cachedSession{}, used: map[string]time.Time{}}
}

// Bearer returns the token whose secret this is: ErrUnauthorized when none
// is stored, or it is revoked or expired (the answer does not say which).
func (s *Service) Bearer(ctx context.Context, secret string) (turnero.Token, error) {
	if secret == "" || len(secret) > maxSecret {
		return turnero.Token{}, turnero.ErrUnauthorized
	}
	hash := turnero.HashToken(secret)
	now := s.clock.Now()
	t, err := s.token(ctx, hash, now)
	if err != nil {
		return turnero.Token{}, err
	}
	// The lookup is by hash already; compare again in constant time so that
	// no engine's index comparison is what decides.
	if subtle.ConstantTimeCompare(t.Hash, hash) != 1 {
		return turnero.Token{}, turnero.ErrUnauthorized
	}
	if err := t.Usable(now); err != nil {
		return turnero.Token{}, err
	}
	s.touch(hash, now)
	return t, nil
}

func (s *Service) token(ctx context.Context, hash []byte, now time.Time) (turnero.Token, error) {
	key := string(hash)
	s.mu.Lock()
	c, ok := s.tokens[key]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < CacheTTL && !now.Before(c.at) {
		return c.t, nil
	}
	t, err := s.store.TokenByHash(ctx, hash)
	if err != nil {
		return t, err
	}
	s.mu.Lock()
	if len(s.tokens) >= maxCached {
		clear(s.tokens)
	}
	s.tokens[key] = cachedToken{t: t, at: now}
	s.mu.Unlock()
	return t, nil
}

func (s *Service) touch(hash []byte, now time.Time) {
	s.mu.Lock()
	if len(s.used) < maxCached {
		s.used[string(hash)] = now
	}
	s.mu.Unlock()
}

// Forget drops what this node cached of a token, at once: after a
// revocation made here. Other nodes see it within CacheTTL.
func (s *Service) Forget(hash []byte) {
	s.mu.Lock()
	delete(s.tokens, string(hash))
	for k, c := range s.sessions {
		if string(c.s.TokenHash) == string(hash) {
			delete(s.sessions, k)
		}
	}
	s.mu.Unlock()
}

// SignIn checks a token and opens a session for it: the cookie's secret
// (shown once, stored only as its hash) and when it expires (no later than
// the token).
func (s *Service) SignIn(ctx context.Context, tokenSecret string) (secret string, sess turnero.Session, t turnero.Token, err error) {
	t, err = s.Bearer(ctx, tokenSecret)
	if err != nil {
		return "", sess, t, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", sess, t, fmt.Errorf("sign in: %w", err)
	}
	secret = base64.RawURLEncoding.EncodeToString(b[:])
	now := s.clock.Now()
	sess = turnero.Session{Hash: turnero.HashToken(secret), TokenHash: t.Hash, CreatedAt: now, ExpiresAt: now.Add(SessionLength)}
	if !t.ExpiresAt.IsZero() && t.ExpiresAt.Before(sess.ExpiresAt) {
		sess.ExpiresAt = t.ExpiresAt
	}
	if err := s.store.PutSession(ctx, sess); err != nil {
		return "", sess, t, fmt.Errorf("sign in: %w", err)
	}
	return secret, sess, t, nil
}

// Session returns the token of a session cookie's secret: ErrUnauthorized
// when there is no such session, it expired, or its token was revoked or
// expired.
func (s *Service) Session(ctx context.Context, secret string) (turnero.Token, error) {
	if secret == "" || len(secret) > maxSecret {
		return turnero.Token{}, turnero.ErrUnauthorized
	}
	hash := turnero.HashToken(secret)
	key := string(hash)
	now := s.clock.Now()
	s.mu.Lock()
	c, ok := s.sessions[key]
	s.mu.Unlock()
	if !ok || now.Sub(c.at) >= CacheTTL || now.Before(c.at) {
		sess, t, err := s.store.SessionByHash(ctx, hash)
		if err != nil {
			return turnero.Token{}, err
		}
		c = cachedSession{s: sess, t: t, at: now}
		s.mu.Lock()
		if len(s.sessions) >= maxCached {
			clear(s.sessions)
		}
		s.sessions[key] = c
		s.mu.Unlock()
	}
	if subtle.ConstantTimeCompare(c.s.Hash, hash) != 1 || !now.Before(c.s.ExpiresAt) {
		return turnero.Token{}, turnero.ErrUnauthorized
	}
	if err := c.t.Usable(now); err != nil {
		return turnero.Token{}, err
	}
	s.touch(c.t.Hash, now)
	return c.t, nil
}

// SignOut ends a session on every node (this one at once, the others
// within CacheTTL).
func (s *Service) SignOut(ctx context.Context, secret string) error {
	if secret == "" || len(secret) > maxSecret {
		return nil
	}
	hash := turnero.HashToken(secret)
	s.mu.Lock()
	delete(s.sessions, string(hash))
	s.mu.Unlock()
	return s.store.DeleteSession(ctx, hash)
}

// Flush writes the last uses recorded since the previous flush, in one
// statement; on failure they are kept for the next.
func (s *Service) Flush(ctx context.Context) error {
	s.mu.Lock()
	used := s.used
	s.used = map[string]time.Time{}
	s.mu.Unlock()
	if len(used) == 0 {
		return nil
	}
	if err := s.store.TouchTokens(ctx, used); err != nil {
		s.mu.Lock()
		for h, at := range used {
			if at.After(s.used[h]) && len(s.used) < maxCached {
				s.used[h] = at
			}
		}
		s.mu.Unlock()
		return fmt.Errorf("record last uses of tokens: %w", err)
	}
	return nil
}

// Run flushes last uses every FlushEvery and deletes expired sessions,
// until ctx ends; then flushes once more.
func (s *Service) Run(ctx context.Context) {
	tick := time.NewTicker(FlushEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.Flush(fctx); err != nil {
				s.log.Warn("last uses of tokens not recorded", "err", err)
			}
			cancel()
			return
		case <-tick.C:
		}
		if err := s.Flush(ctx); err != nil {
			s.log.Warn("last uses of tokens not recorded", "err", err)
		}
		if _, err := s.store.DeleteSessionsBefore(ctx, s.clock.Now()); err != nil {
			s.log.Warn("expired sessions not deleted", "err", err)
		}
	}
}
