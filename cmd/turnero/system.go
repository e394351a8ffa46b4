package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/turnero"
)

// system is what every command works on, opened together by openSystem:
// the campaign, the keys of personal data and the storage engine.
type system struct {
	campaign *turnero.Campaign
	// keys is nil for an operator command run without a key file: those
	// that need none (groups, tokens, allocate) work on the data all the
	// same.
	keys  *pii.Keyring
	store turnero.Store
	// where the store is, for the log (without a password).
	where string
	// deployment is what the database says of itself, as opened.
	deployment turnero.Deployment
}

// openFor says who opens the system, which decides what it needs of the key
// file and of the campaign.
type openFor int

const (
	// forServe: the configured key file; without one, a key made for a
	// trial in the data directory, with a loud warning. A database with
	// no campaign yet is pinned to the campaign file, or the bundled
	// sample.
	forServe openFor = iota
	// forOperator: the configured key file, or the trial key of the data
	// directory if there is one; none otherwise. A database with no
	// campaign yet is pinned only to a campaign file named: an operator
	// command never quietly runs the sample on a campaign's data.
	forOperator
)

// openSystem opens the store, the keys and the campaign of cfg. It is the
// one place where the storage engine is chosen: PostgreSQL when a database
// URL is configured, else SQLite in the data directory. The campaign is the
// one the database is pinned to (pinCampaign).
func openSystem(ctx context.Context, cfg serveConfig, use openFor, log *slog.Logger) (*system, error) {
	file, source, err := campaignFile(cfg.CampaignFile)
	if err != nil {
		return nil, err
	}
	if cfg.DB == "" {
		if use == forOperator && !fileExists(filepath.Join(cfg.DataDir, "turnero.db")) {
			if cfg.CampaignFile == "" {
				return nil, fmt.Errorf("setting data: %s holds no turnero database: start serve on it first, "+
					"or name its campaign with --campaign FILE to create it", cfg.DataDir)
			}
			use = forServe // creating the database: as serve would, trial key included
		}
		if err := makeDataDir(cfg.DataDir, log); err != nil {
			return nil, err
		}
	}
	keys, err := loadKeys(cfg, use, log)
	if err != nil {
		return nil, err
	}
	sys := &system{}
	if cfg.DB != "" {
		sys.where = postgres.RedactURL(cfg.DB)
		db, err := postgres.Open(ctx, cfg.DB, postgres.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL at %s: %w", sys.where, err)
		}
		sys.store = db
	} else {
		sys.where = filepath.Join(cfg.DataDir, "turnero.db")
		db, err := sqlite.Open(ctx, sys.where, sqlite.WithLogger(log))
		if err != nil {
			return nil, err
		}
		sys.store = db
	}
	fail := func(err error) (*system, error) {
		sys.store.Close()
		return nil, err
	}
	d, err := pinCampaign(ctx, sys.store, file, source, cfg.CampaignFile, use, log)
	if err != nil {
		return fail(err)
	}
	if sys.campaign, err = campaign.Parse(bytes.NewReader(d.CampaignSource)); err != nil {
		return fail(fmt.Errorf("the campaign stored in %s: %w", sys.where, err))
	}
	sys.deployment = d
	if keys != nil {
		// Tracking codes of this database and no other (per-region
		// databases may share a key file).
		if sys.keys, err = keys.WithCodeSalt(d.CodeSalt); err != nil {
			return fail(err)
		}
	}
	return sys, nil
}

// campaignFile reads the campaign file named (the bundled sample when none
// is), with its text.
func campaignFile(path string) (*turnero.Campaign, []byte, error) {
	if path == "" {
		return campaign.Sample(), campaign.SampleFile(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("setting campaign: %w", err)
	}
	c, err := campaign.Parse(bytes.NewReader(b))
	if err != nil {
		return nil, nil, fmt.Errorf("campaign file %s: %w", path, err)
	}
	return c, b, nil
}

// pinCampaign makes sure the store runs the campaign of the file: a
// database that has none yet is pinned to it (with its centers, in one
// transaction); one pinned already must hold the same campaign. Without a
// file (path empty), a pinned database runs its own, and a new one the
// bundled sample. A file whose rules differ is refused: the data was made
// under other rules. One whose other settings differ is refused too, with
// what differs: `turnero campaign apply` changes them, for every node.
func pinCampaign(ctx context.Context, store turnero.Store, file *turnero.Campaign, source []byte, path string,
	use openFor, log *slog.Logger) (turnero.Deployment, error) {
	d, err := store.Deployment(ctx)
	if err != nil {
		return d, err
	}
	if d.CampaignID == "" && path == "" && use == forOperator {
		return d, errors.New("setting campaign: the database has no campaign yet: start serve on it with its campaign " +
			"file first, or name the file here with --campaign FILE")
	}
	if d.CampaignID == "" {
		pin := turnero.CampaignPin{ID: file.ID, RulesHash: campaign.RulesHash(file), Source: source, At: time.Now()}
		if d, err = store.PinCampaign(ctx, pin, file.Centers); err != nil {
			return d, fmt.Errorf("pin the campaign to the database: %w", err)
		}
		if d.RulesHash == pin.RulesHash && bytes.Equal(d.CampaignSource, source) {
			log.Info("campaign pinned to the database", "campaign", file.ID, "rules", short(pin.RulesHash),
				"centers", len(file.Centers))
			return d, nil
		}
		// Another node pinned it at the same moment: compare with theirs.
	}
	if path == "" {
		return d, nil
	}
	stored, err := campaign.Parse(bytes.NewReader(d.CampaignSource))
	if err != nil {
		return d, fmt.Errorf("the campaign stored in the database: %w", err)
	}
	if h := campaign.RulesHash(file); h != d.RulesHash {
		return d, fmt.Errorf("setting campaign: the database runs campaign %q (rules %s) and %s is campaign %q (rules %s): "+
			"a campaign's data cannot be served under other rules; start with the campaign file the database was "+
			"made with, or without --campaign to run the one stored", d.CampaignID, short(d.RulesHash), path, file.ID, short(h))
	}
	if refused, changes := campaign.Compare(stored, file); len(refused)+len(changes) > 0 {
		return d, fmt.Errorf("setting campaign: %s differs from the campaign the database runs (%s):\n  %s\n"+
			"apply it to every node with `turnero campaign apply FILE` (it shows the changes first), "+
			"or start without --campaign to run the one stored", path, d.CampaignID, strings.Join(append(refused, changes...), "\n  "))
	}
	return d, nil
}

// short is a hash as people compare it.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// loadKeys reads the configured key file, or the trial key of the data
// directory (creating it to serve), saying loudly that this is not how to
// run for real.
func loadKeys(cfg serveConfig, use openFor, log *slog.Logger) (*pii.Keyring, error) {
	if cfg.KeyFile != "" {
		return pii.LoadKeyFile(cfg.KeyFile)
	}
	if cfg.DataDir == "" {
		return nil, nil // an operator command on PostgreSQL (serve requires --key-file with --db)
	}
	path := filepath.Join(cfg.DataDir, "turnero.key")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if use == forOperator {
			return nil, nil
		}
		// A database whose key is gone must not get a new one: its
		// registrations would be unreadable, their codes unknown, and
		// everyone could register again for a second place.
		if db := filepath.Join(cfg.DataDir, "turnero.db"); fileExists(db) {
			return nil, fmt.Errorf("setting key-file: %s has no key for the database %s; restore %s, or pass the key file with --key-file", cfg.DataDir, db, path)
		}
		if err := pii.WriteKeyFile(path, "local-"+time.Now().UTC().Format("20060102")); err != nil {
			return nil, err
		}
	}
	if use == forServe {
		log.Warn("NO KEY FILE CONFIGURED: personal data is encrypted with a key kept in the data directory, "+
			"next to the data it protects. This is only for trying turnero out. For real use, run "+
			"`turnero keygen --out FILE`, keep FILE apart from the data, and pass --key-file FILE.", "key_file", path)
	}
	return pii.LoadKeyFile(path)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
