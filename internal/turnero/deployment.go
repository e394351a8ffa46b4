package turnero

import (
	"context"
	"time"
)

// Deployment is what a database says about itself: who it is, which
// campaign it runs, and how many times it was restored from a backup. It
// is created with the database and travels with its data (a backup holds
// it), so that no node, operator command or restore can mix one
// campaign's data with another's.
type Deployment struct {
	// DatabaseID names the database, random at its creation.
	DatabaseID string
	// CodeSalt enters the keys of tracking codes, so that two databases
	// with one key file (per-region databases) never give the same code.
	// Empty for databases created before it existed: their codes stay.
	CodeSalt string
	// Epoch counts restores from a backup. Each starts the sequence again
	// at EpochSequenceFloor(Epoch), above every sequence (and so every
	// tracking code) given before the restore, including those given after
	// the backup was taken and lost with the restore.
	Epoch int64
	// Restores are the sequences lost in each restore, oldest first.
	Restores []Restore

	// The campaign the database runs, pinned at its first start
	// (ErrCampaignNotPinned until then): its id, the hash of its rules
	// (campaign.RulesHash) and its file, which operator commands read.
	CampaignID        string
	RulesHash         string
	CampaignSource    []byte
	CampaignAppliedAt time.Time
}

// Restore is one restore from a backup: registrations with a sequence in
// (After, Floor] were acknowledged after the backup was taken and are lost;
// their tracking codes are answered with ErrLostInRestore, never given
// again.
type Restore struct {
	Epoch      int64
	After      int64 // the largest sequence the backup held
	Floor      int64 // EpochSequenceFloor(Epoch): where sequences continue
	RestoredAt time.Time
}

// epochBits is how far apart the sequences of two epochs are: 2^40 (a
// trillion registrations an epoch, 1,023 restores within the tracking
// codes' 50 bits).
const epochBits = 40

// EpochSequenceFloor is the sequence registrations of an epoch continue
// after.
func EpochSequenceFloor(epoch int64) int64 { return epoch << epochBits }

// LostIn says which restore lost the registration of a sequence that is
// not stored; ok false when none did.
func (d Deployment) LostIn(seq int64) (Restore, bool) {
	for _, r := range d.Restores {
		if seq > r.After && seq <= r.Floor {
			return r, true
		}
	}
	return Restore{}, false
}

// CampaignPin is a campaign as a database keeps it.
type CampaignPin struct {
	ID        string
	RulesHash string
	Source    []byte
	At        time.Time
}

// DeploymentStore keeps a database's Deployment.
type DeploymentStore interface {
	// Deployment reads it.
	Deployment(ctx context.Context) (Deployment, error)
	// PinCampaign pins a campaign to a database that has none, storing its
	// centers in the same transaction; on a database pinned already (by
	// another node starting at the same time) it changes nothing. Either
	// way it returns the Deployment as it is after.
	PinCampaign(ctx context.Context, pin CampaignPin, centers []Center) (Deployment, error)
	// ApplyCampaign replaces the pinned campaign by a new version of it
	// (turnero campaign apply), storing its centers in the same
	// transaction, if the pinned rules are still fromHash; else
	// ErrCampaignChanged and nothing changes.
	ApplyCampaign(ctx context.Context, fromHash string, pin CampaignPin, centers []Center) error
	// StartEpoch records a restore from a backup: the epoch moves on, and
	// sequences continue above its floor. It returns the restore.
	StartEpoch(ctx context.Context, at time.Time) (Restore, error)
	// RemoveCenter takes a center out of the agenda: ErrCenterInUse when
	// any dose is booked there from now on. A center with past
	// appointments is kept for their history, retired: no longer listed
	// by Centers, still read by Center.
	RemoveCenter(ctx context.Context, id string, now time.Time) error
}

// Errors of deployments.
var (
	ErrCampaignChanged = Errorf(CodeConflict, "campaign_changed")
	ErrCenterInUse     = Errorf(CodeConflict, "center_in_use")
	ErrLostInRestore   = Errorf(CodeGone, "lost_in_restore")
)

var deploymentMessages = map[string]message{
	"campaign_changed": {
		"La campaña guardada cambió mientras se aplicaba esta versión; vuelva a compararla.",
		"The stored campaign changed while this version was being applied; compare them again.",
	},
	"center_in_use": {
		"El vacunatorio tiene turnos reservados de hoy en adelante; no se quitó.",
		"The center has appointments booked from today on; it was not removed.",
	},
	"lost_in_restore": {
		"Su registro se recibió después de la última copia de seguridad y se perdió cuando el sistema se restauró. Le pedimos disculpas: regístrese de nuevo.",
		"Your registration was received after the last backup and was lost when the system was restored. We apologise: please register again.",
	},
}

func init() {
	for k, m := range deploymentMessages {
		messages[k] = m
	}
}
