package turnero

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"time"
)

// RetryPolicy is when a notice that could not be sent is tried again, and
// when it is given up on.
type RetryPolicy struct {
	// Base is the delay after the first failed attempt; each later one
	// doubles it, up to Cap.
	Base, Cap time.Duration
	// MaxAttempts is how many attempts a transient failure gets before the
	// notice fails.
	MaxAttempts int
}

// DefaultRetryPolicy tries for about a day: 30 s, 1 min, 2 min … then about
// every hour, so that a gateway down for a night loses nothing.
var DefaultRetryPolicy = RetryPolicy{Base: 30 * time.Second, Cap: time.Hour, MaxAttempts: 30}

// maxRetryAfter bounds how long a provider's Retry-After may hold a message:
// a bogus header of a year must not hide it from operators.
const maxRetryAfter = 24 * time.Hour

// Backoff returns the delay after attempt (1 for the first failure):
// base·2^(attempt−1), at most cap, with "equal jitter": half of it fixed and
// half drawn from rnd, so that messages failed together by one outage do not
// come back together, and none comes back at once.
func Backoff(base, cap time.Duration, attempt int, rnd *rand.Rand) time.Duration {
	if base <= 0 || cap <= 0 {
		return 0
	}
	d := base
	for i := 1; i < attempt && d < cap; i++ {
		d *= 2
	}
	d = min(d, cap)
	half := d / 2
	return half + time.Duration(rnd.Int64N(int64(d-half)+1))
}

// RetryDecision is what becomes of a message whose send failed.
type RetryDecision struct {
	Retry bool
	// After is the delay before the next attempt when Retry.
	After time.Duration
	// Reason is what operators read: the provider's reason, and why it was
	// given up on when it was.
	Reason string
}

// Decide says whether a message whose attempt (1 for the first) failed
// with err is tried again, and when. Permanent failures are never retried;
// transient ones are until MaxAttempts, after the larger of the backoff and
// the provider's Retry-After. rnd is the caller's, seeded by tests; a
// *rand.Rand is not safe for concurrent use.
func (p RetryPolicy) Decide(err error, attempt int, rnd *rand.Rand) RetryDecision {
	// A policy left zero is the default one, not "never retry".
	if p.Base <= 0 {
		p.Base = DefaultRetryPolicy.Base
	}
	if p.Cap <= 0 {
		p.Cap = DefaultRetryPolicy.Cap
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultRetryPolicy.MaxAttempts
	}
	reason := err.Error()
	var d *DeliveryError
	isDelivery := errors.As(err, &d)
	if isDelivery && d.Permanent {
		return RetryDecision{Reason: reason}
	}
	if attempt >= p.MaxAttempts {
		return RetryDecision{Reason: "gave up after " + strconv.Itoa(attempt) + " attempts: " + reason}
	}
	after := Backoff(p.Base, p.Cap, attempt, rnd)
	if isDelivery && d.RetryAfter > after {
		after = min(d.RetryAfter, maxRetryAfter)
	}
	return RetryDecision{Retry: true, After: after, Reason: reason}
}
