package http

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/access"
	"github.com/turnero/turnero/internal/status"
	"github.com/turnero/turnero/internal/turnero"
)

// staffRoutes are the routes of issue 13: a phone operator's (support),
// the audit trail and the tokens (admin).
func (s *Server) staffRoutes() {
	s.handle("POST /v1/support/registrations", s.supportRegister)
	s.handle("POST /v1/support/lookup", s.supportLookup)
	s.handle("GET /v1/support/registrations/{code}", s.supportStatus)
	s.handle("GET /v1/admin/audit", s.listAudit)
	s.handle("POST /v1/admin/audit/person", s.personAudit)
	s.handle("GET /v1/admin/tokens", s.listTokens)
	s.handle("POST /v1/admin/tokens", s.createToken)
	s.handle("POST /v1/admin/tokens/{id}/revoke", s.revokeToken)
}

// supportRegister registers a person on their behalf, over the phone: the
// same rules and answer as the public route, channel "phone" unless the
// request names one, and an audit entry naming who did it.
func (s *Server) supportRegister(w http.ResponseWriter, r *http.Request) {
	tok, err := s.authorize(r, turnero.RoleSupport, turnero.RoleAdmin)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req turnero.RegistrationRequest
	if status, key, fields := decodeJSON(w, r, &req); status != 0 {
		writeJSONError(w, r, status, key, fields)
		return
	}
	if req.Channel == "" && s.Campaign.HasChannel("phone") {
		req.Channel = "phone"
	}
	rc, err := s.Intake.Register(r.Context(), &req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	detail := "new"
	status := http.StatusAccepted
	if rc.Duplicate {
		detail, status = "duplicate", http.StatusOK
	}
	if err := s.audit(r, tok, turnero.AuditRegisterFor, []int64{rc.Sequence}, detail); err != nil {
		s.writeError(w, r, err)
		return
	}
	code := turnero.FormatTrackingCode(rc.TrackingCode)
	w.Header().Set("Cache-Control", "no-store")
	writeAppendedJSON(w, status, &receiptResponse{
		TrackingCode: code, Sequence: rc.Sequence, Status: rc.Status, Group: rc.Group, Duplicate: rc.Duplicate,
	})
}

// supportLookup finds a person by document and birth date for a phone
// operator. Every attempt is audited, those that found nobody too (with no
// registration): fishing for who is registered shows in the trail.
func (s *Server) supportLookup(w http.ResponseWriter, r *http.Request) {
	tok, err := s.authorize(r, turnero.RoleSupport, turnero.RoleAdmin)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req status.LookupRequest
	if status, key, fields := decodeJSON(w, r, &req); status != 0 {
		writeJSONError(w, r, status, key, fields)
		return
	}
	st, err := s.Status.Lookup(r.Context(), &req)
	if turnero.ErrorCode(err) == turnero.CodeNotFound {
		if aerr := s.audit(r, tok, turnero.AuditLookup, nil, "not found"); aerr != nil {
			err = aerr
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, tok, turnero.AuditLookup, []int64{st.Sequence}, "found"); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeStatus(w, r, st)
}

// supportStatus is a registration's status read by staff, by its code.
func (s *Server) supportStatus(w http.ResponseWriter, r *http.Request) {
	tok, err := s.authorize(r, turnero.RoleSupport, turnero.RoleAdmin)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	code, err := pathValue(r, "code", turnero.ErrNotFound)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.Status.ByCode(r.Context(), code)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, tok, turnero.AuditStatusRead, []int64{st.Sequence}, ""); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeStatus(w, r, st)
}

type auditEntryResponse struct {
	ID            int64   `json:"id"`
	At            string  `json:"at"`
	Actor         string  `json:"actor"`
	Role          string  `json:"role"`
	TokenID       string  `json:"token_id"`
	Action        string  `json:"action"`
	Registrations []int64 `json:"registrations"`
	Address       string  `json:"address"`
	Detail        string  `json:"detail,omitempty"`
}

func (s *Server) auditResponse(e turnero.AuditEntry) auditEntryResponse {
	regs := e.Registrations
	if regs == nil {
		regs = []int64{}
	}
	return auditEntryResponse{ID: e.ID, At: e.At.In(s.Campaign.Location).Format(time.RFC3339Nano), Actor: e.Actor,
		Role: e.Role, TokenID: e.TokenID, Action: e.Action, Registrations: regs, Address: e.Address, Detail: e.Detail}
}

// auditQuery reads the filters of the audit trail from the query string.
func (s *Server) auditQuery(r *http.Request) (turnero.AuditQuery, error) {
	q := r.URL.Query()
	fe := turnero.FieldErrors{}
	var aq turnero.AuditQuery
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"after", &aq.After}, {"registration", &aq.Registration}} {
		if v := q.Get(f.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				fe.Add(f.name, "invalid_value")
			}
			*f.dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > turnero.MaxAuditPage {
			fe.Add("limit", "invalid_value")
		}
		aq.Limit = n
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &aq.From}, {"to", &aq.To}} {
		if v := q.Get(f.name); v != "" {
			t, ok := s.parseTime(v)
			if !ok {
				fe.Add(f.name, "date_range")
			}
			*f.dst = t
		}
	}
	aq.Actor, aq.Role, aq.Action = q.Get("actor"), q.Get("role"), q.Get("action")
	for _, v := range []string{aq.Actor, aq.Role, aq.Action} {
		if len(v) > 200 || !storable(v) {
			fe.Add("actor", "invalid_value")
		}
	}
	return aq, fe.Err()
}

// parseTime reads a date (the campaign's midnight) or an RFC 3339 time.
func (s *Server) parseTime(v string) (time.Time, bool) {
	if t, err := time.ParseInLocation("2006-01-02", v, s.Campaign.Location); err == nil {
		return t, true
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil
}

// wantsCSV: ?format=csv, or an Accept header that asks for CSV.
func wantsCSV(r *http.Request) bool {
	return r.URL.Query().Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv")
}

// listAudit reads the audit trail, oldest first, a page at a time (next is
// the ID to pass as after), in JSON or CSV. Reading it is audited too.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	tok, err := s.authorize(r, turnero.RoleAdmin)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := s.auditQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	entries, err := s.Store.AuditEntries(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var regs []int64
	if q.Registration != 0 {
		regs = []int64{q.Registration}
	}
	if err := s.audit(r, tok, turnero.AuditAuditRead, regs, r.URL.RawQuery); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeAudit(w, r, entries)
}

func (s *Server) writeAudit(w http.ResponseWriter, r *http.Request, entries []turnero.AuditEntry) {
	w.Header().Set("Cache-Control", "no-store")
	if wantsCSV(r) {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		WriteAuditCSV(w, entries, s.Campaign.Location, true)
		return
	}
	out := make([]auditEntryResponse, len(entries))
	var next int64
	for i, e := range entries {
		out[i] = s.auditResponse(e)
		next = e.ID
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": out, "next": next})
}

// AuditCSVHeader is the header row of the audit trail in CSV.
var AuditCSVHeader = []string{"id", "at", "actor", "role", "token_id", "action", "registrations", "address", "detail"}

// WriteAuditCSV writes entries as CSV rows (the header first when header
// is set): registrations separated by spaces. turnero audit export writes
// the same.
func WriteAuditCSV(w interface{ Write([]byte) (int, error) }, entries []turnero.AuditEntry, loc *time.Location, header bool) error {
	cw := csv.NewWriter(w)
	if header {
		cw.Write(AuditCSVHeader)
	}
	for _, e := range entries {
		regs := make([]string, len(e.Registrations))
		for i, s := range e.Registrations {
			regs[i] = strconv.FormatInt(s, 10)
		}
		cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.In(loc).Format(time.RFC3339Nano), csvSafe(e.Actor), e.Role,
			e.TokenID, e.Action, strings.Join(regs, " "), e.Address, csvSafe(e.Detail)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (a label
// typed by an operator could start with "=").
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

type personRequest struct {
	TrackingCode string `json:"tracking_code"`
	status.LookupRequest
}

// personAudit answers "who has seen my data", asked by an admin on a
// person's behalf: the entries naming their registration, found by its
// tracking code or by document and birth date. Asking is audited too, and
// names the registration: the person will see that it was asked.
func (s *Server) personAudit(w http.ResponseWriter, r *http.Request) {
	tok, err := s.authorize(r, turnero.RoleAdmin)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req personRequest
	if status, key, fields := decodeJSON(w, r, &req); status != 0 {
		writeJSONError(w, r, status, key, fields)
		return
	}
	var st status.Answer
	switch {
	case req.TrackingCode != "":
		st, err = s.Status.ByCode(r.Context(), req.TrackingCode)
	case req.DocumentNumber != "" || req.BirthDate != "":
		st, err = s.Status.Lookup(r.Context(), &req.LookupRequest)
	default:
		err = &turnero.Error{Code: turnero.CodeInvalid, Key: "invalid_request", Fields: map[string]string{"tracking_code": "person_required"}}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	after, limit, err := pageParams(r, "after", turnero.MaxAuditPage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	entries, err := s.Store.AuditEntries(r.Context(), turnero.AuditQuery{Registration: st.Sequence, After: after, Limit: limit})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, tok, turnero.AuditWhoSawRead, []int64{st.Sequence}, ""); err != nil {
		s.writeError(w, r, err)
		return
	}
	// Each entry names the person's registration only: the others an
	// entry names (a center's whole day) are not theirs to see.
	for i := range entries {
		n := len(entries[i].Registrations)
		entries[i].Registrations = []int64{st.Sequence}
		if n > 1 {
			entries[i].Detail = strings.TrimSpace(entries[i].Detail + fmt.Sprintf(" (with %d others)", n-1))
		}
	}
	s.writeAudit(w, r, entries)
}

type tokenResponse struct {
	ID         string `json:"id"`
	Role       string `json:"role"`
	Center     string `json:"center,omitempty"`
	Label      string `json:"label"`
	CreatedAt  string `json:"created_at"`
	ExpiresAt  string `json:"expires_at,omitempty"`
	RevokedAt  string `json:"revoked_at,omitempty"`
	LastUsedAt string `json:"last_used_at,omitempty"`
	State      string `json:"state"`
	Secret     string `json:"secret,omitempty"`
}

// TokenState is what a token is at now: active, expired or revoked.
func TokenState(t turnero.Token, now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return "revoked"
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return "expired"
	}
	return "active"
}

func (s *Server) tokenResponse(t turnero.Token) tokenResponse {
	loc := s.Campaign.Location
	f := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	return tokenResponse{ID: t.ID(), Role: t.Role, Center: t.Center, Label: t.Label, CreatedAt: f(t.CreatedAt),
		ExpiresAt: f(t.ExpiresAt), RevokedAt: f(t.RevokedAt), LastUsedAt: f(t.LastUsedAt), State: TokenState(t, s.clock.Now())}
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	if _, err := s.authorize(r, turnero.RoleAdmin); err != nil {
		s.writeError(w, r, err)
		return
	}
	toks, err := s.Store.Tokens(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]tokenResponse, len(toks))
	for i, t := range toks {
		out[i] = s.tokenResponse(t)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// createToken makes a token; its secret is in this answer only.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	tok, err := s.authorize(r, turnero.RoleAdmin)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req access.NewToken
	if status, key, fields := decodeJSON(w, r, &req); status != 0 {
		writeJSONError(w, r, status, key, fields)
		return
	}
	secret, t, err := access.Make(req, s.clock.Now(), func(id string) bool {
		if !storable(id) {
			return false
		}
		_, err := s.Store.Center(r.Context(), id)
		return err == nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Store.PutToken(r.Context(), t); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, tok, turnero.AuditTokenCreate, nil, fmt.Sprintf("token %s role %s %s", t.ID(), t.Role, t.Center)); err != nil {
		s.writeError(w, r, err)
		return
	}
	out := s.tokenResponse(t)
	out.Secret = secret
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	tok, err := s.authorize(r, turnero.RoleAdmin)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	errNoToken := turnero.Errorf(turnero.CodeNotFound, "token_not_found")
	id, err := pathValue(r, "id", errNoToken)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.Store.RevokeToken(r.Context(), id, s.clock.Now())
	if turnero.ErrorCode(err) == turnero.CodeNotFound {
		err = errNoToken
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Access.Forget(t.Hash)
	if err := s.audit(r, tok, turnero.AuditTokenRevoke, nil, fmt.Sprintf("token %s role %s %s", t.ID(), t.Role, t.Center)); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.tokenResponse(t))
}
