// Package appointments is what happens to an appointment once it is made:
// the person cancels or asks for another date (authenticated by tracking code
// and birth date), and the staff of a center see their day, check people in,
// record the dose given and mark who did not come. The rules are the
// domain's (turnero.Campaign.Decide*); storage applies each decision in the
// transaction it read the booking in. It shows staff only what check-in needs
// (masked names and documents), and logs no personal data.
package appointments

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/turnero"
)

// Store is what the service reads and changes.
type Store interface {
	turnero.AppointmentStore
	RegistrationBySequence(ctx context.Context, sequence int64) (turnero.Registration, error)
	RegistrationByDocument(ctx context.Context, documentHash []byte) (turnero.Registration, error)
	Center(ctx context.Context, id string) (turnero.Center, error)
}

// Service changes appointments.
type Service struct {
	campaign *turnero.Campaign
	keys     *pii.Keyring
	store    Store
	status   turnero.StatusChanges
	clock    turnero.Clock
	log      *slog.Logger
}

// New returns a Service; status is told of every change made.
func New(c *turnero.Campaign, keys *pii.Keyring, store Store, status turnero.StatusChanges, clock turnero.Clock,
	log *slog.Logger) *Service {
	return &Service{campaign: c, keys: keys, store: store, status: status, clock: clock, log: log}
}

// change applies a decision to a booking and tells status answers.
func (s *Service) change(ctx context.Context, seq int64, at time.Time,
	decide func(turnero.BookingRecord) (turnero.BookingChange, error)) (turnero.BookingRecord, error) {
	rec, err := s.store.ChangeBooking(ctx, seq, at, decide)
	if err == nil {
		s.status.Changed()
	}
	return rec, err
}

// Campaign is the campaign the service works for.
func (s *Service) Campaign() *turnero.Campaign { return s.campaign }

// authenticate returns the sequence of the registration with that tracking
// code, if birthDate is the one it was registered with. A wrong birth date
// is the same not-found as an unknown code.
func (s *Service) authenticate(ctx context.Context, code, birthDate string) (int64, error) {
	fe := turnero.FieldErrors{}
	if birthDate == "" {
		fe.Add("birth_date", "required")
	} else if _, err := time.Parse("2006-01-02", birthDate); err != nil || len(birthDate) != 10 {
		fe.Add("birth_date", "date_format")
	}
	if err := fe.Err(); err != nil {
		return 0, err
	}
	seq, ok := s.keys.SequenceOf(code)
	if !ok {
		return 0, turnero.ErrNotFound
	}
	r, err := s.store.RegistrationBySequence(ctx, seq)
	if err != nil {
		return 0, err
	}
	p, err := s.keys.Open(r.KeyID, r.Sealed, r.DocumentHash)
	if err != nil {
		return 0, fmt.Errorf("authenticate registration %d: %w", seq, err)
	}
	if subtle.ConstantTimeCompare([]byte(p.BirthDate), []byte(birthDate)) != 1 {
		return 0, turnero.ErrNotFound
	}
	return seq, nil
}

// Cancel takes the person off the list and frees their slots.
func (s *Service) Cancel(ctx context.Context, code, birthDate string) (turnero.BookingRecord, error) {
	seq, err := s.authenticate(ctx, code, birthDate)
	if err != nil {
		return turnero.BookingRecord{}, err
	}
	rec, err := s.change(ctx, seq, s.clock.Now(), s.campaign.DecideCancel)
	if err != nil {
		return rec, err
	}
	s.log.Info("registration cancelled", "sequence", seq)
	return rec, nil
}

// Reschedule frees the person's slots and puts them back in line by the
// campaign's rule; the allocator gives another date. Once dose 1 is given,
// only dose 2 is freed, and the allocator books it again before first doses.
func (s *Service) Reschedule(ctx context.Context, code, birthDate string) (turnero.BookingRecord, error) {
	seq, err := s.authenticate(ctx, code, birthDate)
	if err != nil {
		return turnero.BookingRecord{}, err
	}
	var ch turnero.BookingChange
	rec, err := s.change(ctx, seq, s.clock.Now(), func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
		var err error
		ch, err = s.campaign.DecideReschedule(rec)
		return ch, err
	})
	if err != nil {
		return rec, err
	}
	place := ch.Place
	if ch.SecondDose != nil {
		place = turnero.PlaceSecondDose
	}
	s.log.Info("another date requested", "sequence", seq, "place_in_line", place)
	return rec, nil
}

// AgendaLine is one appointment of a center's day as staff see it.
type AgendaLine struct {
	Start          time.Time
	Dose           int
	Vaccine        turnero.Vaccine
	State          string
	Sequence       int64
	TrackingCode   string
	MaskedName     string
	DocumentType   string
	MaskedDocument string
}

// checkCenter refuses an unknown center (404).
func (s *Service) checkCenter(ctx context.Context, id string) error {
	_, err := s.store.Center(ctx, id)
	return err
}

// day returns the bounds of the civil date (YYYY-MM-DD) in the campaign's
// time zone.
func (s *Service) day(date string) (time.Time, time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", date, s.campaign.Location)
	if err != nil || len(date) != 10 {
		return time.Time{}, time.Time{}, (turnero.FieldErrors{"date": "date_format"}).Err()
	}
	return d, d.AddDate(0, 0, 1), nil
}

// Agenda lists a center's appointments on a date, with names and documents
// masked.
func (s *Service) Agenda(ctx context.Context, center, date string) ([]AgendaLine, error) {
	from, to, err := s.day(date)
	if err != nil {
		return nil, err
	}
	if err := s.checkCenter(ctx, center); err != nil {
		return nil, err
	}
	entries, err := s.store.DayAgenda(ctx, center, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]AgendaLine, len(entries))
	for i, e := range entries {
		if out[i], err = s.line(e.Registration, e.Appointment); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) line(r turnero.Registration, a turnero.Appointment) (AgendaLine, error) {
	p, err := s.keys.Open(r.KeyID, r.Sealed, r.DocumentHash)
	if err != nil {
		return AgendaLine{}, fmt.Errorf("agenda line of %d: %w", r.Sequence, err)
	}
	v, _ := s.campaign.Vaccine(a.Vaccine)
	return AgendaLine{
		Start: a.Start, Dose: a.Dose, Vaccine: v, State: a.State, Sequence: r.Sequence,
		TrackingCode: s.keys.TrackingCode(r.Sequence), MaskedName: turnero.MaskName(p.GivenNames + " " + p.FamilyNames),
		DocumentType: p.DocumentType, MaskedDocument: turnero.MaskDocument(p.Document),
	}, nil
}

// CheckInRequest identifies a person at the desk by their document.
type CheckInRequest struct {
	DocumentType   string `json:"document_type"`
	DocumentNumber string `json:"document_number"`
}

// CheckIn finds the person's appointment today at center and marks them
// arrived.
func (s *Service) CheckIn(ctx context.Context, center string, req *CheckInRequest) (AgendaLine, error) {
	fe := turnero.FieldErrors{}
	dt, doc := s.campaign.Document(req.DocumentType, req.DocumentNumber, fe)
	if err := fe.Err(); err != nil {
		return AgendaLine{}, err
	}
	if err := s.checkCenter(ctx, center); err != nil {
		return AgendaLine{}, err
	}
	r, err := s.store.RegistrationByDocument(ctx, s.keys.DocumentHash(dt.ID, doc))
	if err != nil {
		return AgendaLine{}, err
	}
	now := s.clock.Now()
	var dose int
	rec, err := s.change(ctx, r.Sequence, now, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
		ch, d, err := s.campaign.DecideCheckIn(rec, center, now)
		dose = d
		return ch, err
	})
	if err != nil {
		return AgendaLine{}, err
	}
	return s.line(rec.Registration, rec.Appointments[dose-1])
}

// DoseRequest names a person (tracking code or sequence) and a dose; for a
// dose given, the vaccine and lot.
type DoseRequest struct {
	TrackingCode string `json:"tracking_code"`
	Sequence     int64  `json:"sequence"`
	Dose         int    `json:"dose"`
	Vaccine      string `json:"vaccine"`
	Lot          string `json:"lot"`
}

func (s *Service) sequenceOf(req *DoseRequest, fe turnero.FieldErrors) int64 {
	switch {
	case req.TrackingCode != "" && req.Sequence != 0:
		fe.Add("sequence", "one_of_code_or_sequence")
	case req.TrackingCode != "":
		seq, ok := s.keys.SequenceOf(req.TrackingCode)
		if !ok {
			fe.Add("tracking_code", "tracking_code_format")
		}
		return seq
	case req.Sequence > 0:
		return req.Sequence
	default:
		fe.Add("tracking_code", "required")
	}
	return 0
}

func validLot(s string) bool {
	if s == "" || len(s) > turnero.MaxLotLength {
		return false
	}
	for _, r := range s {
		if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '/' || r == '.')) {
			return false
		}
	}
	return true
}

// RecordDose records a dose given at center. Everything that does not match
// the booking is refused and nothing changes.
func (s *Service) RecordDose(ctx context.Context, center string, req *DoseRequest) (AgendaLine, error) {
	fe := turnero.FieldErrors{}
	seq := s.sequenceOf(req, fe)
	if req.Dose < 1 || req.Dose > 5 {
		fe.Add("dose", "invalid_value")
	}
	if req.Vaccine == "" {
		fe.Add("vaccine", "required")
	} else if _, ok := s.campaign.Vaccine(req.Vaccine); !ok {
		fe.Add("vaccine", "vaccine_unknown")
	}
	req.Lot = strings.TrimSpace(req.Lot)
	if req.Lot == "" {
		fe.Add("lot", "required")
	} else if !validLot(req.Lot) {
		fe.Add("lot", "lot_format")
	}
	if err := fe.Err(); err != nil {
		return AgendaLine{}, err
	}
	if err := s.checkCenter(ctx, center); err != nil {
		return AgendaLine{}, err
	}
	now := s.clock.Now()
	rec, err := s.change(ctx, seq, now, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
		return s.campaign.DecideDose(rec, center, req.Dose, req.Vaccine, req.Lot, now)
	})
	if err != nil {
		return AgendaLine{}, err
	}
	s.log.Info("dose recorded", "center", center, "sequence", seq, "dose", req.Dose, "vaccine", req.Vaccine)
	return s.line(rec.Registration, rec.Appointments[req.Dose-1])
}

// NoShow marks a dose missed. A missed first dose frees both slots and puts
// the person back in line by the campaign's rule after a no-show; a missed
// second dose frees its slot, and the allocator books it again.
func (s *Service) NoShow(ctx context.Context, center string, req *DoseRequest) (turnero.BookingRecord, error) {
	fe := turnero.FieldErrors{}
	seq := s.sequenceOf(req, fe)
	if req.Dose < 1 || req.Dose > 5 {
		fe.Add("dose", "invalid_value")
	}
	if err := fe.Err(); err != nil {
		return turnero.BookingRecord{}, err
	}
	if err := s.checkCenter(ctx, center); err != nil {
		return turnero.BookingRecord{}, err
	}
	now := s.clock.Now()
	rec, err := s.change(ctx, seq, now, func(rec turnero.BookingRecord) (turnero.BookingChange, error) {
		return s.campaign.DecideNoShow(rec, center, req.Dose, now)
	})
	if err != nil {
		return rec, err
	}
	s.log.Info("no-show recorded", "center", center, "sequence", seq, "dose", req.Dose)
	return rec, nil
}
