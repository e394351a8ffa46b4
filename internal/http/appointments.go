package http

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/turnero/turnero/internal/appointments"
	"github.com/turnero/turnero/internal/feed"
	"github.com/turnero/turnero/internal/turnero"
)

func (s *Server) changesRoutes() {
	s.handle("POST /v1/registrations/{code}/cancel", s.cancelRegistration)
	s.handle("POST /v1/registrations/{code}/reschedule", s.rescheduleRegistration)
	s.handle("GET /v1/centers/{id}/agenda", s.centerAgenda)
	s.handle("POST /v1/centers/{id}/checkin", s.centerCheckIn)
	s.handle("POST /v1/centers/{id}/doses", s.centerDose)
	s.handle("POST /v1/centers/{id}/no-shows", s.centerNoShow)
	s.handle("GET /v1/feed/registrations", s.feedRegistrations)
	s.handle("POST /v1/feed/appointments", s.feedAppointments)
}

// lastChange is the last time the person's appointments were released
// (cancelled, another date, a missed first dose) and what became of their
// place in line: the campaign's rule, applied; or the last time dose 2 alone
// was (missed, or another date for it), to be booked again.
type lastChange struct {
	Kind        string `json:"kind"`
	At          string `json:"at"`
	PlaceInLine string `json:"place_in_line"`
	Text        string `json:"text"`
}

// lastChangeFrom describes a change to the whole booking (dose 0), or the
// release of dose 2 alone.
func (s *Server) lastChangeFrom(e turnero.AppointmentEvent) *lastChange {
	place := e.Place
	if place == "" {
		place = "left_the_list"
	}
	return &lastChange{Kind: e.Kind, At: e.At.In(s.Campaign.Location).Format(time.RFC3339), PlaceInLine: place}
}

type birthDateRequest struct {
	BirthDate string `json:"birth_date"`
}

func (s *Server) cancelRegistration(w http.ResponseWriter, r *http.Request) {
	s.changeRegistration(w, r, false)
}

func (s *Server) rescheduleRegistration(w http.ResponseWriter, r *http.Request) {
	s.changeRegistration(w, r, true)
}

// changeRegistration cancels, or asks for another date, and answers the
// status as it is after the change.
func (s *Server) changeRegistration(w http.ResponseWriter, r *http.Request, another bool) {
	var req birthDateRequest
	if status, key, fields := decodeJSON(w, r, &req); status != 0 {
		writeJSONError(w, r, status, key, fields)
		return
	}
	code, err := pathValue(r, "code", turnero.ErrNotFound)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if another {
		_, err = s.Appointments.Reschedule(r.Context(), code, req.BirthDate)
	} else {
		_, err = s.Appointments.Cancel(r.Context(), code, req.BirthDate)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.Status.ByCode(r.Context(), code)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeStatus(w, r, st)
}

// authorizeCenter lets a center token act for its own center only (an admin
// token, an operator's, for any).
func (s *Server) authorizeCenter(r *http.Request) (turnero.Token, string, error) {
	t, err := s.authorize(r, turnero.RoleCenter, turnero.RoleAdmin)
	if err != nil {
		return t, "", err
	}
	id, err := pathValue(r, "id", turnero.ErrCenterNotFound)
	if err != nil {
		return t, "", err
	}
	if t.Role == turnero.RoleCenter && t.Center != id {
		return t, "", errOtherCenter
	}
	return t, id, nil
}

var errOtherCenter = turnero.Errorf(turnero.CodeForbidden, "forbidden_center")

type agendaLineResponse struct {
	Start        string `json:"start"`
	Dose         int    `json:"dose"`
	Vaccine      string `json:"vaccine"`
	VaccineName  string `json:"vaccine_name"`
	State        string `json:"state"`
	Sequence     int64  `json:"sequence"`
	TrackingCode string `json:"tracking_code"`
	Name         string `json:"name"`
	DocumentType string `json:"document_type"`
	Document     string `json:"document"`
}

func (s *Server) lineResponse(l appointments.AgendaLine) agendaLineResponse {
	return agendaLineResponse{
		Start: l.Start.In(s.Campaign.Location).Format(time.RFC3339), Dose: l.Dose, Vaccine: l.Vaccine.ID,
		VaccineName: l.Vaccine.Name, State: l.State, Sequence: l.Sequence,
		TrackingCode: turnero.FormatTrackingCode(l.TrackingCode), Name: l.MaskedName,
		DocumentType: l.DocumentType, Document: l.MaskedDocument,
	}
}

func (s *Server) centerAgenda(w http.ResponseWriter, r *http.Request) {
	tok, id, err := s.authorizeCenter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	date := r.URL.Query().Get("date")
	lines, err := s.Appointments.Agenda(r.Context(), id, date)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]agendaLineResponse, len(lines))
	seqs := make([]int64, len(lines))
	for i, l := range lines {
		out[i] = s.lineResponse(l)
		seqs[i] = l.Sequence
	}
	if err := s.audit(r, tok, turnero.AuditAgendaRead, seqs, "center "+id+" date "+date); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"center_id": id, "date": date, "appointments": out})
}

func (s *Server) centerCheckIn(w http.ResponseWriter, r *http.Request) {
	centerAction(s, w, r, turnero.AuditCheckIn, func(ctx context.Context, center string, req *appointments.CheckInRequest) (appointments.AgendaLine, error) {
		return s.Appointments.CheckIn(ctx, center, req)
	})
}

func (s *Server) centerDose(w http.ResponseWriter, r *http.Request) {
	centerAction(s, w, r, turnero.AuditDose, func(ctx context.Context, center string, req *appointments.DoseRequest) (appointments.AgendaLine, error) {
		return s.Appointments.RecordDose(ctx, center, req)
	})
}

// centerAction runs a center staff action that answers with the agenda line
// it changed: the center's token (checked first, which also says when the
// changes are not configured), a JSON body of type Req, the action.
func centerAction[Req any](s *Server, w http.ResponseWriter, r *http.Request, action string,
	act func(ctx context.Context, center string, req *Req) (appointments.AgendaLine, error)) {
	tok, id, err := s.authorizeCenter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req Req
	if status, key, fields := decodeJSON(w, r, &req); status != 0 {
		writeJSONError(w, r, status, key, fields)
		return
	}
	l, err := act(r.Context(), id, &req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, tok, action, []int64{l.Sequence}, fmt.Sprintf("center %s dose %d", id, l.Dose)); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.lineResponse(l))
}

func (s *Server) centerNoShow(w http.ResponseWriter, r *http.Request) {
	tok, id, err := s.authorizeCenter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req appointments.DoseRequest
	if status, key, fields := decodeJSON(w, r, &req); status != 0 {
		writeJSONError(w, r, status, key, fields)
		return
	}
	rec, err := s.Appointments.NoShow(r.Context(), id, &req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, tok, turnero.AuditNoShow, []int64{rec.Registration.Sequence},
		fmt.Sprintf("center %s dose %d", id, req.Dose)); err != nil {
		s.writeError(w, r, err)
		return
	}
	c := s.Campaign
	place := turnero.PlaceSecondDose
	if req.Dose == 1 {
		place = c.PlaceInLine.AfterNoShow
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sequence": rec.Registration.Sequence, "dose": req.Dose, "state": turnero.AppointmentNoShow,
		"place_in_line": place, "appointments_left": len(rec.Appointments),
	})
}

type feedPerson struct {
	Sequence       int64  `json:"sequence"`
	TrackingCode   string `json:"tracking_code"`
	Group          string `json:"group"`
	Department     string `json:"department"`
	Age            int    `json:"age"`
	DocumentType   string `json:"document_type"`
	DocumentNumber string `json:"document_number"`
	GivenNames     string `json:"given_names"`
	FamilyNames    string `json:"family_names"`
	BirthDate      string `json:"birth_date"`
	Phone          string `json:"phone,omitempty"`
	Email          string `json:"email,omitempty"`
	Locality       string `json:"locality,omitempty"`
	ReceivedAt     string `json:"received_at"`
	// Requeued: waiting again after a booking was released.
	Requeued bool `json:"requeued,omitempty"`
}

func (s *Server) feedRegistrations(w http.ResponseWriter, r *http.Request) {
	tok, err := s.authorize(r, turnero.RoleFeed)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	limit := feed.DefaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1
		}
		limit = n
	}
	page, err := s.Feed.Waiting(r.Context(), q.Get("after"), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	seqs := make([]int64, len(page.People))
	for i, p := range page.People {
		seqs[i] = p.Sequence
	}
	if err := s.audit(r, tok, turnero.AuditFeedRead, seqs, fmt.Sprintf("%d registrations", len(seqs))); err != nil {
		s.writeError(w, r, err)
		return
	}
	c := s.Campaign
	out := make([]feedPerson, len(page.People))
	for i, p := range page.People {
		out[i] = feedPerson{
			Sequence: p.Sequence, TrackingCode: turnero.FormatTrackingCode(p.TrackingCode), Group: p.Group,
			Department: p.Department, Age: p.Age, DocumentType: p.Personal.DocumentType,
			DocumentNumber: p.Personal.Document, GivenNames: p.Personal.GivenNames, FamilyNames: p.Personal.FamilyNames,
			BirthDate: p.Personal.BirthDate, Phone: p.Personal.Phone, Email: p.Personal.Email,
			Locality: p.Personal.Locality, ReceivedAt: p.ReceivedAt.In(c.Location).Format(time.RFC3339),
			Requeued: p.Requeued,
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"registrations": out, "next": page.Next})
}

func (s *Server) feedAppointments(w http.ResponseWriter, r *http.Request) {
	tok, err := s.authorize(r, turnero.RoleFeed)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req feed.AppointmentRequest
	if status, key, fields := decodeJSON(w, r, &req); status != 0 {
		writeJSONError(w, r, status, key, fields)
		return
	}
	seq, err := s.Feed.Book(r.Context(), &req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, tok, turnero.AuditFeedBook, []int64{seq}, ""); err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.Status.BySequence(r.Context(), seq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeStatus(w, r, st)
}
