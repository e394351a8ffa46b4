package turnero

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// AuditEntry is one line of the audit trail: a read of personal data by
// someone other than the person (staff, a support operator, an external
// system through the feed), or a change made to a registration by them.
// The trail is append-only: no store has a way to change or delete an
// entry, and each engine refuses it in the database itself.
//
// An entry never holds personal data itself: it names registrations by
// sequence, actors by their token's label and role.
type AuditEntry struct {
	// ID is given by the store: increasing in the order entries became
	// visible (commit order), so that a reader paging by ID misses none.
	ID int64
	At time.Time
	// Actor is who: the label of the token used (a person's or a system's
	// name, as the operator who created the token wrote it).
	Actor string
	// Role is the token's role (RoleAdmin, RoleCenter, ...); TokenID the
	// token's public identifier, so that entries stay attributable after
	// a label is reused.
	Role    string
	TokenID string
	// Action is what was done: one of the Audit* actions, or another
	// capability's (an erasure, a voided registration).
	Action string
	// Registrations are the registrations read or changed, by sequence.
	Registrations []int64
	// Address is where the request came from (the client's IP address).
	Address string
	// Detail is context without personal data: a center, a group, a date,
	// how many were read.
	Detail string
}

// Actions of the audit trail. Reads of personal data and changes by staff
// or systems; a citizen's own reads and changes are not audited (they are
// the person's own data, and their changes are appointment events).
const (
	AuditStatusRead     = "status_read"  // staff read a registration's status
	AuditLookup         = "lookup"       // support looked a person up by document and birth date
	AuditRegisterFor    = "register_for" // support registered a person on their behalf
	AuditAgendaRead     = "agenda_read"  // a center's day, with masked names and documents
	AuditCheckIn        = "check_in"     // a person checked in at a center
	AuditDose           = "dose"         // a dose recorded as given
	AuditNoShow         = "no_show"      // an appointment marked missed
	AuditFeedRead       = "feed_read"    // a page of the pull feed (full personal data)
	AuditFeedBook       = "feed_book"    // an appointment posted through the feed
	AuditGroupOpen      = "group_open"   // a priority group opened
	AuditGroupClose     = "group_close"  // a priority group closed
	AuditAllocate       = "allocate"     // an allocation run by an operator
	AuditTokenCreate    = "token_create" // a token created
	AuditTokenRevoke    = "token_revoke" // a token revoked
	AuditAuditRead      = "audit_read"   // the audit trail itself read
	AuditWhoSawRead     = "who_saw_read" // "who has seen my data", asked on a person's behalf
	maxAuditDetailBytes = 500
)

// MaxAuditRegistrations bounds the registrations one entry names: a feed
// page or a center's day, well under it.
const MaxAuditRegistrations = 10_000

// Check reports what is wrong with an entry before it is appended.
func (e *AuditEntry) Check() error {
	switch {
	case e.At.IsZero():
		return fmt.Errorf("audit entry without a time")
	case strings.TrimSpace(e.Action) == "" || len(e.Action) > 64:
		return fmt.Errorf("audit entry with action %q", e.Action)
	case strings.TrimSpace(e.Role) == "":
		return fmt.Errorf("audit entry of action %s without a role", e.Action)
	case len(e.Registrations) > MaxAuditRegistrations:
		return fmt.Errorf("audit entry naming %d registrations, more than %d", len(e.Registrations), MaxAuditRegistrations)
	case len(e.Detail) > maxAuditDetailBytes || len(e.Actor) > 200 || len(e.Address) > 100 || len(e.TokenID) > 64:
		return fmt.Errorf("audit entry of action %s with a field too long", e.Action)
	}
	return nil
}

// AuditQuery selects entries of the trail, oldest first. Zero values
// select everything.
type AuditQuery struct {
	// After is the ID after which to start: the last ID of the page before.
	After int64
	// From and To bound At: From <= At < To.
	From, To time.Time
	Actor    string
	Role     string
	Action   string
	// Registration selects the entries that name this registration: who
	// has seen, or changed, a person's data.
	Registration int64
	// Limit is at most MaxAuditPage; 0 means DefaultAuditPage.
	Limit int
}

// Pages of the audit trail.
const (
	DefaultAuditPage = 100
	MaxAuditPage     = 1000
)

// PageSize is the query's limit, bounded.
func (q AuditQuery) PageSize() int {
	switch {
	case q.Limit <= 0:
		return DefaultAuditPage
	case q.Limit > MaxAuditPage:
		return MaxAuditPage
	}
	return q.Limit
}

// AuditStore keeps the audit trail. Append is the only write: there is no
// update and no delete, and the engines refuse both in the database.
type AuditStore interface {
	// AppendAudit appends entries in one transaction, durable when it
	// returns; each entry's ID and At are as given back (IDs are assigned).
	AppendAudit(ctx context.Context, entries []AuditEntry) ([]AuditEntry, error)
	// AuditEntries reads entries matching q, by increasing ID.
	AuditEntries(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
}
