package intake_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/intake"
	"github.com/turnero/turnero/internal/loadtest"
	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/turnero"
)

func keyring(t *testing.T, name string) *pii.Keyring {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := pii.WriteKeyFile(path, "k1"); err != nil {
		t.Fatal(err)
	}
	k, err := pii.LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A data directory opened with another key file must be refused before it
// takes a registration: otherwise the same person could register again.
func TestCheckKeysRefusesAnotherKeyFile(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "turnero.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := campaign.Sample()
	right, wrong := keyring(t, "right"), keyring(t, "wrong")

	in, err := intake.New(intake.DefaultConfig, c, right, db, nil, turnero.SystemClock{}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.CheckKeys(ctx); err != nil {
		t.Fatalf("empty database: %v", err)
	}
	in.Start()
	p := loadtest.Person(3, 0)
	if _, err := in.Register(ctx, &p); err != nil {
		t.Fatal(err)
	}
	in.Close()

	again, _ := intake.New(intake.DefaultConfig, c, right, db, nil, turnero.SystemClock{}, nil, log)
	if err := again.CheckKeys(ctx); err != nil {
		t.Fatalf("same key file: %v", err)
	}
	other, _ := intake.New(intake.DefaultConfig, c, wrong, db, nil, turnero.SystemClock{}, nil, log)
	if err := other.CheckKeys(ctx); !errors.Is(err, intake.ErrWrongKeys) {
		t.Fatalf("another key file: %v, want ErrWrongKeys", err)
	}
}
