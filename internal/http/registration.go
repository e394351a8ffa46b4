package http

import (
	"net/http"
	"time"

	"github.com/turnero/turnero/internal/status"
	"github.com/turnero/turnero/internal/turnero"
)

type receiptResponse struct {
	TrackingCode string `json:"tracking_code"`
	Sequence     int64  `json:"sequence"`
	Status       string `json:"status"`
	Group        string `json:"group"`
	Duplicate    bool   `json:"duplicate"`
}

// createRegistration answers 202 for a new registration (recorded, waiting
// for a slot) and 200 with the same receipt for the same person again.
func (s *Server) createRegistration(w http.ResponseWriter, r *http.Request) {
	var req turnero.RegistrationRequest
	if status, key, fields := decodeJSON(w, r, &req); status != 0 {
		writeJSONError(w, r, status, key, fields)
		return
	}
	rc, err := s.Intake.Register(r.Context(), &req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusAccepted
	if rc.Duplicate {
		status = http.StatusOK
	}
	code := turnero.FormatTrackingCode(rc.TrackingCode)
	w.Header().Set("Location", "/v1/registrations/"+code)
	writeAppendedJSON(w, status, &receiptResponse{
		TrackingCode: code, Sequence: rc.Sequence, Status: rc.Status, Group: rc.Group, Duplicate: rc.Duplicate,
	})
}

type statusResponse struct {
	TrackingCode string                `json:"tracking_code"`
	Status       string                `json:"status"`
	Group        string                `json:"group"`
	GroupName    string                `json:"group_name"`
	Sequence     int64                 `json:"sequence"`
	Position     int64                 `json:"position,omitempty"`
	Name         string                `json:"name"`
	DocumentType string                `json:"document_type"`
	Document     string                `json:"document"`
	Department   string                `json:"department"`
	ReceivedAt   string                `json:"received_at"`
	Appointments []appointmentResponse `json:"appointments"`
	NowServing   int64                 `json:"now_serving,omitempty"`
	Estimate     string                `json:"estimated_date,omitempty"`
	PlaceInLine  placeInLine           `json:"place_in_line"`
	LastChange   *lastChange           `json:"last_change,omitempty"`
}

type placeInLine struct {
	Order       string `json:"order"`
	AfterCancel string `json:"after_cancel"`
	AfterNoShow string `json:"after_no_show"`
}

func (s *Server) getRegistration(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == lookupPath {
		w.Header().Set("Allow", http.MethodPost)
		writeJSONError(w, r, http.StatusMethodNotAllowed, "method_not_allowed", nil)
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
	s.writeStatus(w, r, st)
}

func (s *Server) lookupRegistration(w http.ResponseWriter, r *http.Request) {
	var req status.LookupRequest
	if status, key, fields := decodeJSON(w, r, &req); status != 0 {
		writeJSONError(w, r, status, key, fields)
		return
	}
	st, err := s.Status.Lookup(r.Context(), &req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeStatus(w, r, st)
}

func (s *Server) writeStatus(w http.ResponseWriter, r *http.Request, st status.Answer) {
	c := s.Campaign
	lang := language(r)
	name := st.Group.Name
	if lang == turnero.English && st.Group.NameEN != "" {
		name = st.Group.NameEN
	}
	appts := make([]appointmentResponse, len(st.Appointments))
	for i, a := range st.Appointments {
		appts[i] = appointmentResponse{
			Dose: a.Dose, CenterID: a.Center, CenterName: a.CenterName, Address: a.CenterAddress,
			Start: a.Start.In(c.Location).Format(time.RFC3339), Vaccine: a.VaccineName, State: a.State,
		}
	}
	var estimate string
	if !st.Estimate.IsZero() {
		estimate = st.Estimate.Format("2006-01-02")
	}
	var last *lastChange
	if st.LastChange != nil {
		last = s.lastChangeFrom(*st.LastChange)
		last.Text = turnero.Message("place_"+last.PlaceInLine, lang)
	}
	// The answer shows masked personal data only, but still should not sit
	// in shared caches.
	w.Header().Set("Cache-Control", "no-store")
	writeStatusJSON(w, &statusResponse{
		TrackingCode: turnero.FormatTrackingCode(st.TrackingCode),
		Status:       st.Status,
		Group:        st.Group.ID,
		GroupName:    name,
		Sequence:     st.Sequence,
		Position:     st.Position,
		Name:         st.MaskedName,
		DocumentType: st.DocumentType,
		Document:     st.MaskedDocument,
		Department:   st.Department.Name,
		ReceivedAt:   st.ReceivedAt.In(c.Location).Format(time.RFC3339),
		Appointments: appts,
		NowServing:   st.NowServing,
		Estimate:     estimate,
		PlaceInLine: placeInLine{
			Order:       "submission",
			AfterCancel: c.PlaceInLine.AfterCancel,
			AfterNoShow: c.PlaceInLine.AfterNoShow,
		},
		LastChange: last,
	})
}
