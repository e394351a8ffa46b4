package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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
}

// keyUse says what a command needs of the key file.
type keyUse int

const (
	// keysToServe: the configured key file; without one, a key made for a
	// trial in the data directory, with a loud warning.
	keysToServe keyUse = iota
	// keysIfAny: the configured key file, or the trial key of the data
	// directory if there is one; none otherwise.
	keysIfAny
)

// openSystem opens the campaign, the keys and the store of cfg. It is the
// one place where the storage engine is chosen: PostgreSQL when a database
// URL is configured, else SQLite in the data directory.
func openSystem(ctx context.Context, cfg serveConfig, use keyUse, log *slog.Logger) (*system, error) {
	c := campaign.Sample()
	if cfg.CampaignFile != "" {
		var err error
		if c, err = campaign.Load(cfg.CampaignFile); err != nil {
			return nil, err
		}
	}
	if cfg.DB == "" {
		if err := makeDataDir(cfg.DataDir, log); err != nil {
			return nil, err
		}
	}
	keys, err := loadKeys(cfg, use, log)
	if err != nil {
		return nil, err
	}
	sys := &system{campaign: c, keys: keys}
	if cfg.DB != "" {
		sys.where = postgres.RedactURL(cfg.DB)
		db, err := postgres.Open(ctx, cfg.DB, postgres.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL at %s: %w", sys.where, err)
		}
		sys.store = db
		return sys, nil
	}
	sys.where = filepath.Join(cfg.DataDir, "turnero.db")
	db, err := sqlite.Open(ctx, sys.where, sqlite.WithLogger(log))
	if err != nil {
		return nil, err
	}
	sys.store = db
	return sys, nil
}

// loadKeys reads the configured key file, or the trial key of the data
// directory (creating it to serve), saying loudly that this is not how to
// run for real.
func loadKeys(cfg serveConfig, use keyUse, log *slog.Logger) (*pii.Keyring, error) {
	if cfg.KeyFile != "" {
		return pii.LoadKeyFile(cfg.KeyFile)
	}
	if cfg.DataDir == "" {
		return nil, nil // an operator command on PostgreSQL (serve requires --key-file with --db)
	}
	path := filepath.Join(cfg.DataDir, "turnero.key")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if use == keysIfAny {
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
	if use == keysToServe {
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
