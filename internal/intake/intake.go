// Package intake is the containment layer: it validates a registration,
// seals the personal data, and hands it to a single writer that commits
// concurrent registrations together (group commit). A person is answered only
// after their registration is durable; when the queue in front of the writer
// is full they are told at once to retry, never kept hanging.
package intake

import (
	"context"
	"crypto/subtle"
	"errors"

	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/turnero"
)

// Config sizes the writer.
type Config struct {
	// QueueSize bounds the registrations waiting for the writer; beyond it
	// requests are refused with "overloaded".
	QueueSize int
	// MaxBatch bounds the registrations committed in one transaction.
	MaxBatch int
	// CommitTimeout bounds one batch's transaction. A store that stops
	// answering (a database restarting, a full disk) turns into 503s for
	// the people waiting, not into requests that hang.
	CommitTimeout time.Duration
	// CommitLinger is how long the writer waits for more registrations
	// when it finds several already queued: under load, a little patience
	// buys batches several times larger, hence fewer commits, fsyncs and
	// wake-ups per person. A lone request at a quiet time is committed at
	// once. Zero turns it off.
	CommitLinger time.Duration
}

// DefaultConfig is sized for a 2-core machine at several thousand
// registrations a second: a second of queue at most, batches that commit in a
// few milliseconds.
var DefaultConfig = Config{QueueSize: 8192, MaxBatch: 1024, CommitTimeout: 10 * time.Second, CommitLinger: 2 * time.Millisecond}

// Observer receives what the writer does, for metrics. Implementations must
// be cheap and must not block.
type Observer interface {
	ObserveCommit(size int, took time.Duration, err error)
}

type nopObserver struct{}

func (nopObserver) ObserveCommit(int, time.Duration, error) {}

type pending struct {
	nr   turnero.NewRegistration
	done chan result
}

type result struct {
	out turnero.InsertOutcome
	err error
}

// Service takes registrations and answers status questions.
type Service struct {
	campaign *turnero.Campaign
	keys     *pii.Keyring
	store    turnero.RegistrationStore
	clock    turnero.Clock
	log      *slog.Logger
	observer Observer
	maxBatch int
	timeout  time.Duration
	linger   time.Duration

	mu      sync.RWMutex // guards closed against sends on a closed queue
	closed  bool
	queue   chan *pending
	stopped chan struct{}
	pool    sync.Pool
	status  Status
}

// Status is told of each registration committed, so that the first lookup
// of a receipt costs no query (package status).
type Status interface {
	Added(r turnero.Registration, p *turnero.PersonalData)
	// Now is the status a registration has now (scheduled once booked,
	// vaccinated once every dose is given), for the receipt of the same
	// person registering again.
	Now(ctx context.Context, seq int64) (string, error)
}

// New returns a Service; call Start before taking registrations and Close to
// drain them.
func New(cfg Config, c *turnero.Campaign, keys *pii.Keyring, store turnero.RegistrationStore, status Status,
	clock turnero.Clock, obs Observer, log *slog.Logger) (*Service, error) {
	if cfg.QueueSize < 1 || cfg.MaxBatch < 1 {
		return nil, fmt.Errorf("intake: queue size and batch size must be positive, got %d and %d", cfg.QueueSize, cfg.MaxBatch)
	}
	if cfg.CommitLinger < 0 || cfg.CommitLinger > time.Second {
		return nil, fmt.Errorf("intake: commit linger must be between 0 and 1s, got %s", cfg.CommitLinger)
	}
	if cfg.CommitTimeout <= 0 {
		cfg.CommitTimeout = DefaultConfig.CommitTimeout
	}
	if obs == nil {
		obs = nopObserver{}
	}
	s := &Service{
		campaign: c, keys: keys, store: store, status: status, clock: clock, log: log, observer: obs,
		maxBatch: cfg.MaxBatch,
		timeout:  cfg.CommitTimeout,
		linger:   cfg.CommitLinger,
		queue:    make(chan *pending, cfg.QueueSize),
		stopped:  make(chan struct{}),
	}
	s.pool.New = func() any { return &pending{done: make(chan result, 1)} }
	return s, nil
}

// Campaign is the campaign this service registers people for.
func (s *Service) Campaign() *turnero.Campaign { return s.campaign }

// Start runs the writer.
func (s *Service) Start() {
	go s.write()
}

// Close stops taking registrations, commits and answers what is queued, and
// waits for the writer to finish.
func (s *Service) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	<-s.stopped
}

// ErrWrongKeys says that the key file in use does not belong to the stored data.
var ErrWrongKeys = errors.New("the key file does not open the personal data already stored")

// CheckKeys makes sure, before anything is taken, that the keyring belongs
// to the stored data: it opens the first registration and recomputes its
// document hash. With another key file every tracking code would be
// unknown, and everyone could register again and get a second place.
func (s *Service) CheckKeys(ctx context.Context) error {
	r, err := s.store.RegistrationBySequence(ctx, 1)
	if errors.Is(err, turnero.ErrNotFound) {
		return nil // nothing stored yet
	}
	if err != nil {
		return fmt.Errorf("check keys: %w", err)
	}
	p, err := s.keys.Open(r.KeyID, r.Sealed, r.DocumentHash)
	if err != nil {
		return fmt.Errorf("%w (registration 1: %v)", ErrWrongKeys, err)
	}
	if subtle.ConstantTimeCompare(s.keys.DocumentHash(p.DocumentType, p.Document), r.DocumentHash) != 1 {
		return fmt.Errorf("%w (registration 1: its document hash differs under this index key)", ErrWrongKeys)
	}
	return nil
}

// QueueDepth is the number of registrations waiting for the writer.
func (s *Service) QueueDepth() int { return len(s.queue) }

// QueueCapacity is the bound of the queue.
func (s *Service) QueueCapacity() int { return cap(s.queue) }

// Ready reports whether a registration would be taken now.
func (s *Service) Ready(ctx context.Context) error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return turnero.ErrShuttingDown
	}
	if len(s.queue) >= cap(s.queue) {
		return turnero.ErrOverloaded
	}
	if err := s.store.Ping(ctx); err != nil {
		return &turnero.Error{Code: turnero.CodeUnavailable, Key: "store_unavailable", Err: err}
	}
	return nil
}

// Receipt is the answer to a registration.
type Receipt struct {
	TrackingCode string
	Sequence     int64
	Status       string
	Group        string
	Duplicate    bool
}

// Register validates, seals and durably records a registration, or says why
// not. The same person registering again gets their first receipt back.
func (s *Service) Register(ctx context.Context, req *turnero.RegistrationRequest) (Receipt, error) {
	now := s.clock.Now()
	a, err := s.campaign.ValidateRegistration(req, now)
	if err != nil {
		return Receipt{}, err
	}
	p := &a.Personal
	docHash := s.keys.DocumentHash(p.DocumentType, p.Document)
	keyID, sealed := s.keys.Seal(p, docHash)
	nr := turnero.NewRegistration{
		DocumentHash: docHash,
		IdentityHash: s.keys.IdentityHash(p.DocumentType, p.Document, p.BirthDate),
		Group:        a.Group,
		Department:   a.Department,
		Age:          a.Age,
		Channel:      a.Channel,
		KeyID:        keyID,
		Sealed:       sealed,
		ReceivedAt:   now,
	}
	out, err := s.submit(nr)
	if err != nil {
		return Receipt{}, err
	}
	if out.Err != nil {
		return Receipt{}, out.Err
	}
	r := out.Registration
	if s.status != nil && !out.Duplicate {
		s.status.Added(r, p)
	}
	if s.status != nil && out.Duplicate {
		// The stored status says what the person decided (waiting,
		// cancelled); the receipt says what their registration is now, as
		// the status answer does.
		if r.Status, err = s.status.Now(ctx, r.Sequence); err != nil {
			return Receipt{}, err
		}
	}
	return Receipt{TrackingCode: s.keys.TrackingCode(r.Sequence), Sequence: r.Sequence, Status: r.Status, Group: r.Group, Duplicate: out.Duplicate}, nil
}

// submit queues a registration for the writer and waits for its durable
// outcome. It does not give up when the caller's context ends: once queued,
// the registration will be committed, and the answer is what it is.
func (s *Service) submit(nr turnero.NewRegistration) (turnero.InsertOutcome, error) {
	p := s.pool.Get().(*pending)
	p.nr = nr
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		s.pool.Put(p)
		return turnero.InsertOutcome{}, turnero.ErrShuttingDown
	}
	select {
	case s.queue <- p:
		s.mu.RUnlock()
	default:
		s.mu.RUnlock()
		s.pool.Put(p)
		return turnero.InsertOutcome{}, turnero.ErrOverloaded
	}
	r := <-p.done
	p.nr = turnero.NewRegistration{}
	s.pool.Put(p)
	return r.out, r.err
}

// write is the single writer: it takes whatever is queued, up to MaxBatch,
// commits it in one transaction and answers each request.
func (s *Service) write() {
	defer close(s.stopped)
	batch := make([]*pending, 0, s.maxBatch)
	rows := make([]turnero.NewRegistration, 0, s.maxBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for first := range s.queue {
		batch = s.fill(append(batch[:0], first), nil)
		if s.linger > 0 && len(batch) > 1 && len(batch) < s.maxBatch {
			linger.Reset(s.linger)
			batch = s.fill(batch, linger.C)
			linger.Stop()
		}
		rows = rows[:0]
		for _, p := range batch {
			rows = append(rows, p.nr)
		}
		start := time.Now()
		// The batch is committed even if the server is shutting down: these
		// people are waiting for an answer. Hence a context of its own.
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		outs, err := s.store.InsertRegistrations(ctx, rows)
		cancel()
		s.observer.ObserveCommit(len(rows), time.Since(start), err)
		if err != nil {
			s.log.Error("registration batch failed; answered 503", "size", len(rows), "err", err)
			err = &turnero.Error{Code: turnero.CodeUnavailable, Key: "store_unavailable", Err: err}
		}
		for i, p := range batch {
			if err != nil {
				p.done <- result{err: err}
			} else {
				p.done <- result{out: outs[i]}
			}
		}
	}
}

// fill adds queued registrations to batch, up to maxBatch. With a nil
// deadline it takes only what is already queued; otherwise it waits for more
// until the deadline fires.
func (s *Service) fill(batch []*pending, deadline <-chan time.Time) []*pending {
	for len(batch) < s.maxBatch {
		if deadline == nil {
			select {
			case p, ok := <-s.queue:
				if !ok {
					return batch
				}
				batch = append(batch, p)
			default:
				return batch
			}
			continue
		}
		select {
		case p, ok := <-s.queue:
			if !ok {
				return batch
			}
			batch = append(batch, p)
		case <-deadline:
			return batch
		}
	}
	return batch
}
