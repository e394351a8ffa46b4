// Package feed lets a ministry that keeps its own scheduling system consume
// the waiting list at its own pace: it pulls waiting registrations of open
// groups in order of submission, and again those who became waiting after a
// booking (another date, a missed first dose), with the personal data it
// needs to book and notify, and posts back the appointments it made, which are checked like
// the allocator's (known registration and center, a vaccine allowed for the
// person and given there, slots of the center's agenda with room, the
// vaccine's interval). Pulling only reads, on the readers: a slow or absent
// consumer never holds the writer intake needs. Nothing here logs personal
// data.
package feed

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/turnero"
)

// Limits of a page.
const (
	MinLimit     = 1
	MaxLimit     = 1000
	DefaultLimit = 100
)

// Store is what the feed reads and books.
type Store interface {
	turnero.FeedStore
	GroupStates(ctx context.Context) ([]turnero.GroupState, error)
	Center(ctx context.Context, id string) (turnero.Center, error)
	RegistrationBySequence(ctx context.Context, sequence int64) (turnero.Registration, error)
}

// Service is the pull feed.
type Service struct {
	campaign *turnero.Campaign
	keys     *pii.Keyring
	store    Store
	status   turnero.StatusChanges
	clock    turnero.Clock
	log      *slog.Logger
}

// New returns the feed; status is told of every booking posted back.
func New(c *turnero.Campaign, keys *pii.Keyring, store Store, status turnero.StatusChanges, clock turnero.Clock,
	log *slog.Logger) *Service {
	return &Service{campaign: c, keys: keys, store: store, status: status, clock: clock, log: log}
}

// Person is a waiting registration with the personal data a scheduling
// system needs.
type Person struct {
	Sequence     int64                `json:"sequence"`
	TrackingCode string               `json:"tracking_code"`
	Group        string               `json:"group"`
	Department   string               `json:"department"`
	Age          int                  `json:"age"`
	Personal     turnero.PersonalData `json:"-"`
	ReceivedAt   time.Time            `json:"-"`
	// Requeued: the person became waiting again after a booking was
	// released (another date, a missed first dose); a consumer that had
	// read them before gets them again.
	Requeued bool `json:"-"`
}

// Page is one pull.
type Page struct {
	People []Person
	// Next is the cursor to pass as after. An empty page means nothing
	// more to offer now; its Next may still have moved past people booked
	// or cancelled meanwhile.
	Next string
}

// The cursor is opaque to consumers; its prefix versions its format:
//
//	s3:GROUP.ORDINAL.REQUEUED,...  a place per group read (turnero.FeedGroupCursor),
//	                               groups in lexical order, none when nothing was read
//	s2:SEQUENCE.REQUEUED           the earlier format: one sequence and one feed
//	                               position across all open groups
//	s1:SEQUENCE                    the first: a sequence only
//
// all in unpadded URL-safe base64. The earlier formats are still read
// (turnero.FeedCursor.Legacy): each group open when the cursor is first used
// is read as far as it says; groups opened later start from their beginning.
const (
	cursorV1 = "s1:"
	cursorV2 = "s2:"
	cursorV3 = "s3:"
	// maxCursor bounds what is decoded: a place for each of dozens of
	// groups with ids of 64 characters.
	maxCursor = 8 << 10
)

// EncodeCursor makes the opaque cursor that says c.
func EncodeCursor(c turnero.FeedCursor) string {
	if len(c.Groups) == 0 && c.Legacy != (turnero.FeedLegacyCursor{}) {
		// Read before any group was open: still the consumer's own cursor.
		return base64.RawURLEncoding.EncodeToString([]byte(cursorV2 + strconv.FormatInt(c.Legacy.Sequence, 10) + "." +
			strconv.FormatInt(c.Legacy.Requeued, 10)))
	}
	b := []byte(cursorV3)
	for i, g := range slices.Sorted(maps.Keys(c.Groups)) {
		if i > 0 {
			b = append(b, ',')
		}
		p := c.Groups[g]
		b = append(b, g...)
		b = append(b, '.')
		b = strconv.AppendInt(b, p.Ordinal, 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, p.Requeued, 10)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor; empty is the start of the list.
func DecodeCursor(s string) (turnero.FeedCursor, bool) {
	if s == "" {
		return turnero.FeedCursor{}, true
	}
	if len(s) > maxCursor {
		return turnero.FeedCursor{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return turnero.FeedCursor{}, false
	}
	if rest, ok := strings.CutPrefix(string(b), cursorV1); ok {
		n, ok := parseCount(rest)
		return turnero.FeedCursor{Legacy: turnero.FeedLegacyCursor{Sequence: n}}, ok
	}
	if rest, ok := strings.CutPrefix(string(b), cursorV2); ok {
		seq, req, ok := strings.Cut(rest, ".")
		if !ok {
			return turnero.FeedCursor{}, false
		}
		var l turnero.FeedLegacyCursor
		var ok1, ok2 bool
		l.Sequence, ok1 = parseCount(seq)
		l.Requeued, ok2 = parseCount(req)
		return turnero.FeedCursor{Legacy: l}, ok1 && ok2
	}
	rest, ok := strings.CutPrefix(string(b), cursorV3)
	if !ok {
		return turnero.FeedCursor{}, false
	}
	if rest == "" {
		return turnero.FeedCursor{}, true
	}
	c := turnero.FeedCursor{Groups: map[string]turnero.FeedGroupCursor{}}
	prev := ""
	for entry := range strings.SplitSeq(rest, ",") {
		parts := strings.Split(entry, ".")
		if len(parts) != 3 || !turnero.ValidID(parts[0]) || parts[0] <= prev {
			return turnero.FeedCursor{}, false // also: groups out of order, or twice
		}
		ord, ok1 := parseCount(parts[1])
		req, ok2 := parseCount(parts[2])
		if !ok1 || !ok2 {
			return turnero.FeedCursor{}, false
		}
		c.Groups[parts[0]] = turnero.FeedGroupCursor{Ordinal: ord, Requeued: req}
		prev = parts[0]
	}
	return c, true
}

// parseCount reads a non-negative number written canonically.
func parseCount(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return 0, false
	}
	return n, true
}

// openGroups lists the ids of open groups in priority order.
func (s *Service) openGroups(ctx context.Context) (map[string]bool, []string, error) {
	states, err := s.store.GroupStates(ctx)
	if err != nil {
		return nil, nil, err
	}
	open := map[string]bool{}
	for _, g := range states {
		if g.Open {
			open[g.Group] = true
		}
	}
	var ids []string
	for _, g := range s.campaign.Groups {
		if open[g.ID] {
			ids = append(ids, g.ID)
		}
	}
	return open, ids, nil
}

// Waiting returns up to limit waiting registrations after cursor.
func (s *Service) Waiting(ctx context.Context, cursor string, limit int) (Page, error) {
	fe := turnero.FieldErrors{}
	after, ok := DecodeCursor(cursor)
	if !ok {
		fe.Add("after", "cursor_format")
	}
	if limit < MinLimit || limit > MaxLimit {
		fe.Add("limit", "limit_range")
	}
	if err := fe.Err(); err != nil {
		return Page{}, err
	}
	_, groups, err := s.openGroups(ctx)
	if err != nil {
		return Page{}, err
	}
	read, err := s.store.FeedWaiting(ctx, groups, after, limit)
	if err != nil {
		return Page{}, err
	}
	page := Page{People: make([]Person, len(read.Entries))}
	for i, e := range read.Entries {
		r := &e.Registration
		p, err := s.keys.Open(r.KeyID, r.Sealed, r.DocumentHash)
		if err != nil {
			return Page{}, fmt.Errorf("feed: registration %d: %w", r.Sequence, err)
		}
		page.People[i] = Person{Sequence: r.Sequence, TrackingCode: s.keys.TrackingCode(r.Sequence), Group: r.Group,
			Department: r.Department, Age: r.Age, Personal: p, ReceivedAt: r.ReceivedAt, Requeued: e.Requeued > 0}
	}
	// Places of groups the campaign no longer has are of no use.
	for g := range read.Next.Groups {
		if _, ok := s.campaign.Group(g); !ok {
			delete(read.Next.Groups, g)
		}
	}
	page.Next = EncodeCursor(read.Next)
	return page, nil
}

// AppointmentRequest is what the external system posts back: whom, where,
// which vaccine, and the start of every dose, dose 1 first.
type AppointmentRequest struct {
	TrackingCode string   `json:"tracking_code"`
	Sequence     int64    `json:"sequence"`
	Center       string   `json:"center_id"`
	Vaccine      string   `json:"vaccine"`
	Starts       []string `json:"starts"`
}

// Book validates and stores appointments made outside; it returns the
// registration's sequence.
func (s *Service) Book(ctx context.Context, req *AppointmentRequest) (int64, error) {
	c := s.campaign
	now := s.clock.Now()
	fe := turnero.FieldErrors{}
	var seq int64
	switch {
	case req.TrackingCode != "" && req.Sequence != 0:
		fe.Add("sequence", "one_of_code_or_sequence")
	case req.TrackingCode != "":
		var ok bool
		if seq, ok = s.keys.SequenceOf(req.TrackingCode); !ok {
			fe.Add("tracking_code", "tracking_code_format")
		}
	case req.Sequence > 0:
		seq = req.Sequence
	default:
		fe.Add("tracking_code", "required")
	}
	var center turnero.Center
	if req.Center == "" {
		fe.Add("center_id", "required")
	} else {
		var err error
		center, err = s.store.Center(ctx, req.Center)
		if turnero.ErrorCode(err) == turnero.CodeNotFound {
			fe.Add("center_id", "center_unknown")
		} else if err != nil {
			return 0, err
		}
	}
	v, vok := c.Vaccine(req.Vaccine)
	switch {
	case req.Vaccine == "":
		fe.Add("vaccine", "required")
	case !vok:
		fe.Add("vaccine", "vaccine_unknown")
	case center.ID != "" && !center.Gives(v.ID):
		fe.Add("vaccine", "vaccine_not_at_center")
	}
	starts := make([]time.Time, 0, len(req.Starts))
	for i, t := range req.Starts {
		st, err := time.Parse(time.RFC3339, t)
		field := fmt.Sprintf("starts[%d]", i)
		switch {
		case err != nil:
			fe.Add(field, "datetime_format")
		case !st.After(now):
			fe.Add(field, "slot_past")
		case center.ID != "":
			if _, ok := center.SlotIndex(st, c.Location); !ok || center.CapacityOn(st.In(c.Location)) == 0 {
				fe.Add(field, "not_a_slot")
			}
		}
		starts = append(starts, st)
	}
	if vok && len(req.Starts) != v.Doses {
		fe.Add("starts", "dose_count")
	}
	if err := fe.Err(); err != nil {
		return 0, err
	}
	r, err := s.store.RegistrationBySequence(ctx, seq)
	if err != nil {
		return 0, err
	}
	allowed := false
	for _, id := range c.AllowedVaccines(r.Group, r.Age) {
		allowed = allowed || id == v.ID
	}
	if !allowed {
		fe.Add("vaccine", "vaccine_not_allowed")
	}
	if v.Doses > 1 {
		days := civilDays(starts[0], starts[1], c.Location)
		if days < v.IntervalDays || days > v.IntervalDays+c.Allocation.Dose2WindowDays {
			fe.Add("starts[1]", "dose_interval")
		}
	}
	if err := fe.Err(); err != nil {
		return 0, err
	}
	open, _, err := s.openGroups(ctx)
	if err != nil {
		return 0, err
	}
	if !open[r.Group] {
		return 0, turnero.ErrGroupClosed
	}
	b := turnero.Booking{Candidate: turnero.Candidate{Sequence: seq}, Center: center.ID, Vaccine: v.ID,
		Source: turnero.SourceFeed, Starts: starts}
	slots := make([]turnero.SlotBooking, len(starts))
	for i, st := range starts {
		slots[i] = turnero.SlotBooking{Center: center.ID, Start: st, Capacity: center.CapacityOn(st.In(c.Location)), Booked: 1}
	}
	if err := s.store.BookExternal(ctx, b, slots, now); err != nil {
		return 0, err
	}
	s.status.Changed()
	s.log.Info("appointments posted by the feed", "sequence", seq, "center", center.ID, "vaccine", v.ID)
	return seq, nil
}

func civilDays(a, b time.Time, loc *time.Location) int {
	ya, ma, da := a.In(loc).Date()
	yb, mb, db := b.In(loc).Date()
	return int(time.Date(yb, mb, db, 0, 0, 0, 0, time.UTC).Sub(time.Date(ya, ma, da, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
}
