package http

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/turnero"
)

type groupStateResponse struct {
	Group      string `json:"group"`
	Name       string `json:"name"`
	Priority   int    `json:"priority"`
	Open       bool   `json:"open"`
	ChangedAt  string `json:"changed_at,omitempty"`
	NowServing int64  `json:"now_serving"`
	Pending    int64  `json:"pending"`
}

func (s *Server) groupResponse(r *http.Request, g turnero.GroupState) groupStateResponse {
	c := s.Campaign
	grp, _ := c.Group(g.Group)
	name := grp.Name
	if language(r) == turnero.English && grp.NameEN != "" {
		name = grp.NameEN
	}
	out := groupStateResponse{Group: g.Group, Name: name, Priority: c.GroupIndex(g.Group) + 1, Open: g.Open,
		NowServing: g.Cursor, Pending: g.Pending}
	if !g.ChangedAt.IsZero() {
		out.ChangedAt = g.ChangedAt.In(c.Location).Format(time.RFC3339)
	}
	return out
}

func (s *Server) setGroupOpen(open bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, err := s.authorize(r, turnero.RoleAdmin)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		id, err := pathValue(r, "group", turnero.ErrGroupNotFound)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		g, err := s.Allocator.SetGroupOpen(r.Context(), id, open)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		action := turnero.AuditGroupClose
		if open {
			action = turnero.AuditGroupOpen
		}
		if err := s.audit(r, tok, action, nil, "group "+id); err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, s.groupResponse(r, g))
	}
}

// listGroups shows every group of the campaign in priority order with how
// far it has been served.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	if _, err := s.authorize(r, turnero.RoleAdmin, turnero.RoleAnalyst); err != nil {
		s.writeError(w, r, err)
		return
	}
	states, err := s.Store.GroupStates(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	byID := map[string]turnero.GroupState{}
	for _, g := range states {
		byID[g.Group] = g
	}
	out := []groupStateResponse{}
	for _, g := range s.Campaign.Groups {
		st := byID[g.ID]
		st.Group = g.ID
		out = append(out, s.groupResponse(r, st))
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": out})
}

// pendingResponse is one person waiting in a group's pending list: a first
// dose the allocator could not place, or a second dose waiting to be booked
// again. Never personal data: for a second dose, only its place and reason.
type pendingResponse struct {
	Sequence   int64  `json:"sequence"`
	Ordinal    int64  `json:"group_ordinal"`
	Dose       int    `json:"dose"`
	Department string `json:"department,omitempty"`
	Reason     string `json:"reason"`
	ReasonText string `json:"reason_text"`
	Since      string `json:"since,omitempty"`
}

// listPending shows operators who of a group could not be placed and why,
// and whose second dose waits to be booked again, merged in group order
// (no personal data: sequence, place in the group, department for first
// doses).
func (s *Server) listPending(w http.ResponseWriter, r *http.Request) {
	if _, err := s.authorize(r, turnero.RoleAdmin); err != nil {
		s.writeError(w, r, err)
		return
	}
	group, err := pathValue(r, "group", turnero.ErrGroupNotFound)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, ok := s.Campaign.Group(group); !ok {
		s.writeError(w, r, turnero.ErrGroupNotFound)
		return
	}
	after, limit, err := pageParams(r, "after", 100)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ps, err := s.Store.PendingAfter(r.Context(), group, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sds, err := s.Store.SecondDosesInGroup(r.Context(), group, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c := s.Campaign
	lang := language(r)
	out := make([]pendingResponse, 0, min(len(ps)+len(sds), limit))
	for len(out) < limit && (len(ps) > 0 || len(sds) > 0) {
		if len(sds) == 0 || len(ps) > 0 && ps[0].Ordinal < sds[0].Ordinal {
			p := ps[0]
			ps = ps[1:]
			out = append(out, pendingResponse{Sequence: p.Sequence, Ordinal: p.Ordinal, Dose: 1, Department: p.Department,
				Reason: p.Reason, ReasonText: turnero.Message("reason_"+p.Reason, lang), Since: p.Since.In(c.Location).Format(time.RFC3339)})
			continue
		}
		sd := sds[0]
		sds = sds[1:]
		out = append(out, pendingResponse{Sequence: sd.Sequence, Ordinal: sd.Ordinal, Dose: 2, Reason: sd.PendingReason(),
			ReasonText: turnero.Message("reason_"+sd.PendingReason(), lang)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"pending": out})
}

// pageParams reads a cursor and a limit (1..1000) from the query string.
func pageParams(r *http.Request, cursorName string, def int) (int64, int, error) {
	q := r.URL.Query()
	var after int64
	limit := def
	fe := turnero.FieldErrors{}
	if v := q.Get(cursorName); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			fe.Add(cursorName, "invalid_value")
		}
		after = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			fe.Add("limit", "invalid_value")
		}
		limit = n
	}
	return after, limit, fe.Err()
}

type allocationResponse struct {
	allocate.Report
	TookMS int64 `json:"took_ms"`
}

// allocationAnswerTimeout bounds how long an operator's request for a run
// waits for its report.
const allocationAnswerTimeout = 15 * time.Minute

// runAllocation runs the allocator now and answers what it did.
func (s *Server) runAllocation(w http.ResponseWriter, r *http.Request) {
	tok, err := s.authorize(r, turnero.RoleAdmin)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// A run finishes even if the operator's connection drops: it commits in
	// steps and a half-done run is only a shorter run. A paced run over a
	// whole group can outlast the server's write timeout, meant for
	// citizens' requests: the operator still gets the report.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(allocationAnswerTimeout))
	rep, err := s.Allocator.RunOnce(context.WithoutCancel(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, tok, turnero.AuditAllocate, nil, fmt.Sprintf("scheduled %d, appointments %d", rep.Scheduled, rep.Appointments)); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, allocationResponse{Report: rep, TookMS: rep.Took.Milliseconds()})
}

type appointmentResponse struct {
	Dose       int    `json:"dose"`
	CenterID   string `json:"center_id"`
	CenterName string `json:"center_name"`
	Address    string `json:"address"`
	Start      string `json:"start"`
	Vaccine    string `json:"vaccine"`
	State      string `json:"state"`
}
