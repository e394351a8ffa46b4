package http

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/turnero/turnero/internal/turnero"
)

// authorize checks the bearer token: 401 without a valid one (unknown,
// revoked or expired: the answer does not say which), 403 when its role is
// not one of roles. No role implies another: each route lists who it lets
// in.
func (s *Server) authorize(r *http.Request, roles ...string) (turnero.Token, error) {
	secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return turnero.Token{}, turnero.ErrUnauthorized
	}
	t, err := s.Access.Bearer(r.Context(), strings.TrimSpace(secret))
	if err != nil {
		return t, err
	}
	for _, role := range roles {
		if t.Role == role {
			return t, nil
		}
	}
	return t, turnero.ErrForbidden
}

// audit appends one entry of the audit trail for what tok did. A read of
// personal data is audited before the data is sent: when the entry cannot
// be written, the data is not shown (the error becomes a 503).
func (s *Server) audit(r *http.Request, tok turnero.Token, action string, regs []int64, detail string) error {
	return s.auditWith(r.Context(), tok, action, regs, detail, s.clientAddress(r))
}

func (s *Server) auditWith(ctx context.Context, tok turnero.Token, action string, regs []int64, detail, addr string) error {
	detail = truncate(detail, 400)
	_, err := s.Store.AppendAudit(ctx, []turnero.AuditEntry{{
		At: s.clock.Now(), Actor: tok.Label, Role: tok.Role, TokenID: tok.ID(), Action: action,
		Registrations: regs, Address: addr, Detail: detail,
	}})
	return err
}

// clientAddress is the address of the client: the connection's peer, or,
// when the peer is a trusted proxy (loopback unless configured), the last
// address in X-Forwarded-For that is not one.
func (s *Server) clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: stop at what the proxy itself saw
		}
		if !s.trusted(a) {
			return a.Unmap().String()
		}
	}
	return peer.Unmap().String()
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	if s.TrustedProxies == nil {
		return a.IsLoopback()
	}
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// truncate cuts s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
