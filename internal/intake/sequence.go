package intake

import (
	"context"

	"github.com/turnero/turnero/internal/turnero"
)

// StatusBySequence returns the status of the registration with that
// sequence number: for answers to programs that name people by sequence
// (center staff, the pull feed), never to the public.
func (s *Service) StatusBySequence(ctx context.Context, seq int64) (Status, error) {
	return s.statusBySequence(ctx, seq, s.keys.TrackingCode(seq))
}

// statusBySequence is StatusBySequence for a caller that has the tracking
// code already.
func (s *Service) statusBySequence(ctx context.Context, seq int64, code string) (Status, error) {
	st, err := s.readStatus(ctx, seq)
	if err != nil {
		return Status{}, err
	}
	st.TrackingCode = code
	return st, nil
}

// readStatus reads a status from the cache or, failing that, the store;
// without its tracking code.
func (s *Service) readStatus(ctx context.Context, seq int64) (Status, error) {
	if s.cache != nil {
		st, stamp, ok := s.cache.get(seq)
		if ok {
			return st, nil
		}
		v, err := s.cache.store.StatusView(ctx, seq)
		if err != nil {
			return Status{}, err
		}
		if st, err = s.status(ctx, v.Registration, &v); err != nil {
			return Status{}, err
		}
		s.cache.put(st, stamp)
		return st, nil
	}
	if viewer, ok := s.store.(turnero.StatusViewer); ok {
		v, err := viewer.StatusView(ctx, seq)
		if err != nil {
			return Status{}, err
		}
		return s.status(ctx, v.Registration, &v)
	}
	r, err := s.store.RegistrationBySequence(ctx, seq)
	if err != nil {
		return Status{}, err
	}
	return s.status(ctx, r, nil)
}
