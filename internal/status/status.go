// Package status answers "where am I?": the complete status of one
// registration (its place in line, its appointments with their centers, the
// last change to them), by tracking code, by sequence for staff and feeds,
// or by document and birth date for someone who lost their code. It keeps
// recent answers in memory (cache.go); the services that change what an
// answer shows (appointments, the feed, the allocator, group openings) tell
// it so with Changed, and changes made by other processes or nodes are seen
// through the store's change stamp. It shows masked personal data only, and
// logs none.
package status

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/turnero"
)

// Store is what answers are read from.
type Store interface {
	turnero.StatusViewer
	turnero.ChangeStamper
	// RegistrationByDocument finds a registration for a lookup.
	RegistrationByDocument(ctx context.Context, documentHash []byte) (turnero.Registration, error)
	// Center reads the center of a second dose booked at another center
	// than the first.
	Center(ctx context.Context, id string) (turnero.Center, error)
	// Deployment says which sequences restores from a backup lost.
	Deployment(ctx context.Context) (turnero.Deployment, error)
}

// Estimator gives an estimated date for the person at a position of a
// department's line (the allocator, from its last plan).
type Estimator interface {
	Estimate(department string, position int64) (time.Time, bool)
}

// Service answers status questions.
type Service struct {
	campaign *turnero.Campaign
	keys     *pii.Keyring
	store    Store
	est      Estimator
	cache    *statusCache

	// restores are read once, when a code is first not found: they change
	// only while no node runs (turnero restore).
	restoresOnce sync.Once
	restores     turnero.Deployment
	restoresErr  error
}

// New returns a Service; est may be nil (no estimated dates). Start runs
// the cache's poller, Close stops it.
func New(c *turnero.Campaign, keys *pii.Keyring, store Store, est Estimator) *Service {
	return &Service{campaign: c, keys: keys, store: store, est: est, cache: newStatusCache(store, c)}
}

// Start runs the poller of the store's change stamp.
func (s *Service) Start() { s.cache.start() }

// Close stops it.
func (s *Service) Close() { s.cache.close() }

// Answer is what a person sees of their registration: names and document
// masked, the status as it is now.
type Answer struct {
	TrackingCode string
	// Status is what the registration is now: waiting, scheduled (both
	// doses, or the only one, booked), cancelled or vaccinated.
	Status     string
	Sequence   int64
	Group      turnero.Group
	Department turnero.Department
	// Position is the place in the group's line while waiting; 0 once
	// scheduled.
	Position       int64
	MaskedName     string
	MaskedDocument string
	DocumentType   string
	ReceivedAt     time.Time
	Appointments   []Appointment
	// GroupOpen: the group is open, and served as capacity allows.
	GroupOpen bool
	// NowServing is the group's cursor, and Estimate a date for the first
	// dose, while waiting (Estimate is zero when there is none).
	NowServing int64
	Estimate   time.Time
	// LastChange is the latest change to the booking as a whole, or to dose
	// 2 alone released to be booked again; nil when none.
	LastChange *turnero.AppointmentEvent
}

// Appointment is one dose with its center and vaccine.
type Appointment struct {
	turnero.Appointment
	CenterName    string
	CenterAddress string
	VaccineName   string
}

// Changed says that something an answer shows may have changed (an
// appointment made, cancelled or attended, a group opened): cached answers
// are dropped at once, so whoever made the change reads it back.
func (s *Service) Changed() { s.cache.changed() }

// Added records a registration just committed, with its personal data (of
// which only the masked name and document are kept), so that the first
// lookup of its receipt costs no query.
func (s *Service) Added(r turnero.Registration, p *turnero.PersonalData) {
	name, document := masked(p)
	s.cache.added(r, name, document, p.DocumentType)
}

// ByCode returns the status of the registration with that tracking code,
// as typed by a person.
func (s *Service) ByCode(ctx context.Context, typed string) (Answer, error) {
	seq, code, ok := s.keys.CodeOf(typed)
	if !ok {
		return Answer{}, turnero.ErrNotFound
	}
	a, err := s.bySequence(ctx, seq, code)
	if errors.Is(err, turnero.ErrNotFound) {
		return a, s.notFound(ctx, seq)
	}
	return a, err
}

// notFound says why a code's registration is not stored: lost in a restore
// from a backup (the person is told to register again), or never given.
func (s *Service) notFound(ctx context.Context, seq int64) error {
	s.restoresOnce.Do(func() { s.restores, s.restoresErr = s.store.Deployment(ctx) })
	if s.restoresErr != nil {
		return fmt.Errorf("status of %d: %w", seq, s.restoresErr)
	}
	if _, lost := s.restores.LostIn(seq); lost {
		return turnero.ErrLostInRestore
	}
	return turnero.ErrNotFound
}

// BySequence returns the status of the registration with that sequence
// number: for answers to programs that name people by sequence (center
// staff, the pull feed), never to the public.
func (s *Service) BySequence(ctx context.Context, seq int64) (Answer, error) {
	return s.bySequence(ctx, seq, s.keys.TrackingCode(seq))
}

// Now is the status a registration has now: waiting, scheduled, cancelled
// or vaccinated.
func (s *Service) Now(ctx context.Context, seq int64) (string, error) {
	a, err := s.BySequence(ctx, seq)
	return a.Status, err
}

// LookupRequest finds a registration for someone who lost their code.
type LookupRequest struct {
	DocumentType   string `json:"document_type"`
	DocumentNumber string `json:"document_number"`
	BirthDate      string `json:"birth_date"`
}

// Lookup returns the status of the registration of that document and birth
// date. Either being wrong gives the same not-found, with no hint of which.
func (s *Service) Lookup(ctx context.Context, req *LookupRequest) (Answer, error) {
	fe := turnero.FieldErrors{}
	dt, doc := s.campaign.Document(req.DocumentType, req.DocumentNumber, fe)
	if req.BirthDate == "" {
		fe.Add("birth_date", "required")
	} else if _, err := time.Parse("2006-01-02", req.BirthDate); err != nil || len(req.BirthDate) != 10 {
		fe.Add("birth_date", "date_format")
	}
	if err := fe.Err(); err != nil {
		return Answer{}, err
	}
	r, err := s.store.RegistrationByDocument(ctx, s.keys.DocumentHash(dt.ID, doc))
	if err != nil {
		return Answer{}, err
	}
	if subtle.ConstantTimeCompare(r.IdentityHash, s.keys.IdentityHash(dt.ID, doc, req.BirthDate)) != 1 {
		return Answer{}, turnero.ErrNotFound
	}
	return s.BySequence(ctx, r.Sequence)
}

func (s *Service) bySequence(ctx context.Context, seq int64, code string) (Answer, error) {
	rec, err := s.read(ctx, seq)
	if err != nil {
		return Answer{}, err
	}
	return s.answer(ctx, rec, code)
}

// read reads a record from the cache or, failing that, the store.
func (s *Service) read(ctx context.Context, seq int64) (record, error) {
	rec, stamp, ok := s.cache.get(seq)
	if ok {
		return rec, nil
	}
	v, err := s.store.StatusView(ctx, seq)
	if err != nil {
		if !errors.Is(err, turnero.ErrNotFound) {
			// The store cannot answer (unreachable, restarting): an answer
			// cached before is better than none, however old. Nothing can
			// have changed it where writes cannot be made either.
			if rec, ok := s.cache.getStale(seq); ok {
				return rec, nil
			}
			return record{}, &turnero.Error{Code: turnero.CodeUnavailable, Key: "store_unavailable", Err: err}
		}
		return record{}, err
	}
	if rec, err = s.record(v); err != nil {
		return record{}, err
	}
	s.cache.put(rec, stamp)
	return rec, nil
}

// record opens what a status shows of the personal data (masked) and keeps
// the view.
func (s *Service) record(v turnero.StatusView) (record, error) {
	r := v.Registration
	p, err := s.keys.Open(r.KeyID, r.Sealed, r.DocumentHash)
	if err != nil {
		return record{}, fmt.Errorf("status of registration %d: %w", r.Sequence, err)
	}
	name, document := masked(&p)
	rec := record{
		Status:         r.Status,
		Sequence:       r.Sequence,
		Position:       v.Position,
		MaskedName:     name,
		MaskedDocument: document,
		DocumentType:   p.DocumentType,
		ReceivedAt:     r.ReceivedAt,
		View:           &v,
	}
	rec.Group, _ = s.campaign.Group(r.Group)
	rec.Department, _ = s.campaign.Department(r.Department)
	return rec, nil
}

// answer completes a record with what allocation knows: the appointments
// with their centers and vaccines, or the group's "now serving" and an
// estimated date; and the status as it is now.
func (s *Service) answer(ctx context.Context, rec record, code string) (Answer, error) {
	c := s.campaign
	a := Answer{
		TrackingCode: code, Status: rec.Status, Sequence: rec.Sequence, Group: rec.Group, Department: rec.Department,
		Position: rec.Position, MaskedName: rec.MaskedName, MaskedDocument: rec.MaskedDocument,
		DocumentType: rec.DocumentType, ReceivedAt: rec.ReceivedAt, Appointments: []Appointment{},
	}
	v := rec.View
	if v == nil {
		v = &noGroupState
	}
	appts := v.Appointments
	for _, ap := range appts {
		vac, _ := c.Vaccine(ap.Vaccine)
		ct := v.Center
		if ap.Center != ct.ID {
			var err error
			if ct, err = s.store.Center(ctx, ap.Center); err != nil {
				return Answer{}, err
			}
		}
		a.Appointments = append(a.Appointments, Appointment{Appointment: ap, CenterName: ct.Name,
			CenterAddress: ct.Address, VaccineName: vac.Name})
	}
	a.LastChange, a.GroupOpen = v.LastChange, v.Group.Open
	scheduled := len(appts) > 0
	if scheduled && a.Status == turnero.StatusWaiting {
		a.Status, a.Position = turnero.StatusScheduled, 0
	}
	if c.Vaccinated(appts) {
		a.Status = turnero.StatusVaccinated
	}
	if scheduled {
		return a, nil
	}
	a.NowServing = v.Group.Cursor
	if v.Group.Open && s.est != nil && a.Position > 0 {
		if t, ok := s.est.Estimate(rec.Department.Code, a.Position); ok {
			a.Estimate = t
		}
	}
	return a, nil
}

// masked is what a status answer shows of a person's name and document,
// whether built from a stored record or cached at registration.
func masked(p *turnero.PersonalData) (name, document string) {
	return turnero.MaskName(p.GivenNames + " " + p.FamilyNames), turnero.MaskDocument(p.Document)
}

// record is an answer as the cache keeps it: the registration's part,
// masked, and the store's view of allocation.
type record struct {
	Status         string
	Group          turnero.Group
	Sequence       int64
	Position       int64
	MaskedName     string
	MaskedDocument string
	DocumentType   string
	Department     turnero.Department
	ReceivedAt     time.Time
	// View holds the appointments, group state and last change.
	View *turnero.StatusView
}
