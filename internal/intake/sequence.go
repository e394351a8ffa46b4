package intake

import (
	"context"

	"github.com/turnero/turnero/internal/turnero"
)

// StatusBySequence returns the status of the registration with that
// sequence number: for answers to programs that name people by sequence
// (center staff, the pull feed), never to the public.
func (s *Service) StatusBySequence(ctx context.Context, seq int64) (Status, error) {
	if s.cache != nil {
		v, stamp, ok := s.cache.get(seq)
		if !ok {
			var err error
			if v, err = s.cache.store.StatusView(ctx, seq); err != nil {
				return Status{}, err
			}
			s.cache.put(v, stamp)
		}
		return s.status(ctx, v.Registration, &v)
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
