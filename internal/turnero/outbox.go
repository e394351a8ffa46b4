package turnero

import (
	"context"
	"time"
)

// OutboxMessage is one notification request, written in the same
// transaction as what it tells (appointments made, released, missed,
// cancelled). It names the registration, never a person: whoever delivers it
// reads the sealed contact data with the key file.
type OutboxMessage struct {
	ID           int64
	Registration int64 // sequence
	Kind         string
	CreatedAt    time.Time
	// Attempts counts the claims of the message, this one included: a
	// worker gives up (Fail) by its own policy.
	Attempts int
	// LastError is the reason given by the last Retry; empty at first.
	LastError string
}

// OutboxQueue shares the outbox among notification workers, in one process
// or on many nodes. A claim leases messages to one worker: until the lease
// ends nobody else claims them, and once it ends (the worker died, or is too
// slow) they are claimable again, so none is left behind. Delivery is thus
// at least once: a worker that outlives its lease may send a message that
// another worker sends too; a short send well within the lease makes that
// rare, and Done makes it stop.
type OutboxQueue interface {
	// Claim leases up to n messages, oldest first, to worker for lease:
	// messages neither done nor failed whose previous lease (or Retry
	// delay) has ended. Each claim counts an attempt.
	Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]OutboxMessage, error)
	// Done marks a message sent: it is never claimed again, whoever holds
	// it. Marking it again changes nothing. ErrNotFound when there is no
	// such message.
	Done(ctx context.Context, id int64) error
	// Retry gives back a message worker holds, with the reason it could not
	// be sent; it is claimable again after the delay. ErrLeaseLost when
	// worker no longer holds it (another worker claimed it, or it is done
	// or failed).
	Retry(ctx context.Context, id int64, worker, reason string, after time.Duration) error
	// Fail gives up on a message worker holds, with the reason: it is never
	// claimed again. ErrLeaseLost as for Retry.
	Fail(ctx context.Context, id int64, worker, reason string) error
}

// ErrLeaseLost: the worker's lease on a message ended and someone else
// claimed it, or it was already done or failed.
var ErrLeaseLost = Errorf(CodeConflict, "outbox_lease_lost")

var outboxMessages = map[string]message{
	"outbox_lease_lost": {
		"Otro proceso tomó esta notificación; no se modificó.",
		"Another worker took this notification; it was not changed.",
	},
}

func init() {
	for k, m := range outboxMessages {
		messages[k] = m
	}
}
