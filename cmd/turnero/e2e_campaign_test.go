package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/turnero"
)

// campaignVariant writes the bundled sample with changes made to its TOML
// as a map, and returns the file's path.
func campaignVariant(t *testing.T, name string, change func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	if _, err := toml.Decode(string(campaign.SampleFile()), &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(m); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".toml")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := campaign.Load(path); err != nil {
		t.Fatalf("the variant %s is not a valid campaign: %v", name, err)
	}
	return path
}

func centersIn(t *testing.T, data string) []turnero.Center {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "turnero.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cs, err := db.Centers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestE2ECampaignPinned: a database runs the campaign it was started with.
// Issue 15 item 9: `turnero allocate` on a directory served with a
// one-center campaign wrote the sample's 46 centers into it; a node
// started with another campaign was accepted and rewrote the centers.
func TestE2ECampaignPinned(t *testing.T) {
	oneCenter := campaignVariant(t, "one-center", func(m map[string]any) {
		m["centers"] = m["centers"].([]map[string]any)[:1]
	})
	other := campaignVariant(t, "other", func(m map[string]any) { m["id"] = "another-campaign" })
	renamed := campaignVariant(t, "renamed", func(m map[string]any) {
		m["centers"] = m["centers"].([]map[string]any)[:1]
		m["centers"].([]map[string]any)[0]["name"] = "Vacunatorio renombrado"
	})
	changedRules := campaignVariant(t, "rules", func(m map[string]any) {
		m["centers"] = m["centers"].([]map[string]any)[:1]
		m["minimum_age"] = m["minimum_age"].(int64) + 1
	})
	data := t.TempDir()

	// An operator command on a directory with no database refuses to guess
	// its campaign, and creates nothing.
	p := runProcess(t, time.Minute, "allocate", "--data", data)
	if p.exitCode() == 0 || !strings.Contains(p.stderr.String(), "holds no turnero database") {
		t.Fatalf("allocate on a database with no campaign: exit %d\n%s", p.exitCode(), p.stderr.String())
	}

	if fileExists(filepath.Join(data, "turnero.db")) {
		t.Fatal("a refused operator command created a database")
	}
	srv := startServer(t, data, "--campaign", oneCenter)
	srv.stop(t, 30*time.Second)
	if cs := centersIn(t, data); len(cs) != 1 {
		t.Fatalf("%d centers after serving the one-center campaign, want 1", len(cs))
	}
	// Operator commands run the stored campaign: nothing of the sample.
	if p := runProcess(t, 2*time.Minute, "allocate", "--data", data); p.exitCode() != 0 {
		t.Fatalf("allocate: exit %d\n%s", p.exitCode(), p.stderr.String())
	}
	if p := runProcess(t, time.Minute, "groups", "list", "--data", data); p.exitCode() != 0 {
		t.Fatalf("groups list: exit %d\n%s", p.exitCode(), p.stderr.String())
	}
	if cs := centersIn(t, data); len(cs) != 1 {
		t.Fatalf("%d centers after operator commands without --campaign, want 1", len(cs))
	}

	// Another campaign, or other rules: refused, naming both.
	for _, tc := range []struct{ file, want string }{
		{other, `"another-campaign"`},
		{changedRules, "cannot be served under other rules"},
	} {
		p := runProcess(t, time.Minute, "serve", "--addr", "127.0.0.1:0", "--data", data, "--campaign", tc.file)
		if p.exitCode() == 0 || !strings.Contains(p.stderr.String(), tc.want) || !strings.Contains(p.stderr.String(), `"`+campaign.Sample().ID+`"`) {
			t.Fatalf("serve with %s: exit %d\n%s", filepath.Base(tc.file), p.exitCode(), p.stderr.String())
		}
	}
	// The same rules with other settings: refused until applied.
	p = runProcess(t, time.Minute, "serve", "--addr", "127.0.0.1:0", "--data", data, "--campaign", renamed)
	if p.exitCode() == 0 || !strings.Contains(p.stderr.String(), "turnero campaign apply") {
		t.Fatalf("serve with a campaign file changed but not applied: exit %d\n%s", p.exitCode(), p.stderr.String())
	}
	p = runProcess(t, time.Minute, "campaign", "apply", "--data", data, changedRules)
	if p.exitCode() == 0 || !strings.Contains(p.stderr.String(), "minimum_age") {
		t.Fatalf("campaign apply of other rules: exit %d\n%s", p.exitCode(), p.stderr.String())
	}
	p = runProcess(t, time.Minute, "campaign", "apply", "--data", data, renamed)
	if p.exitCode() != 0 || !strings.Contains(p.stdout.String(), "changed") || !strings.Contains(p.stdout.String(), "--yes") {
		t.Fatalf("campaign apply without --yes: exit %d\n%s\n%s", p.exitCode(), p.stdout.String(), p.stderr.String())
	}
	if cs := centersIn(t, data); cs[0].Name == "Vacunatorio renombrado" {
		t.Fatal("campaign apply without --yes changed the center")
	}
	p = runProcess(t, time.Minute, "campaign", "apply", "--data", data, renamed, "--yes")
	if p.exitCode() != 0 || !strings.Contains(p.stdout.String(), "Applied") {
		t.Fatalf("campaign apply --yes: exit %d\n%s\n%s", p.exitCode(), p.stdout.String(), p.stderr.String())
	}
	if cs := centersIn(t, data); len(cs) != 1 || cs[0].Name != "Vacunatorio renombrado" {
		t.Fatalf("centers after apply: %+v", cs)
	}
	p = runProcess(t, time.Minute, "campaign", "show", "--data", data)
	if want, _ := os.ReadFile(renamed); p.exitCode() != 0 || p.stdout.String() != string(want) {
		t.Fatalf("campaign show: exit %d, %d bytes, want the file applied", p.exitCode(), len(p.stdout.String()))
	}
	srv = startServer(t, data, "--campaign", renamed)
	srv.stop(t, 30*time.Second)

	// A center with nothing booked is removed.
	id := centersIn(t, data)[0].ID
	p = runProcess(t, time.Minute, "centers", "remove", "--data", data, id)
	if p.exitCode() != 0 || len(centersIn(t, data)) != 0 {
		t.Fatalf("centers remove: exit %d\n%s", p.exitCode(), p.stderr.String())
	}
}

// TestBackupRestoreDrill: an online backup, registrations after it, a
// restore. Issue 15 item 10: after a restore the new registrations got the
// sequences, and so the tracking codes, of those acknowledged after the
// backup, who then saw a stranger's status.
func TestBackupRestoreDrill(t *testing.T) {
	data := t.TempDir()
	backup := filepath.Join(t.TempDir(), "turnero-backup.db")
	client := newClient(4, 20*time.Second)
	defer client.CloseIdleConnections()
	ps := people(41, 8)

	srv := startServer(t, data)
	var kept, lost []receiptJSON
	for _, p := range ps[:3] {
		kept = append(kept, decode[receiptJSON](t, register(client, srv.url, p, "")))
	}
	// Online: serve keeps running, and taking registrations.
	if p := runProcess(t, time.Minute, "backup", "--data", data, "--out", backup); p.exitCode() != 0 {
		t.Fatalf("backup: exit %d\n%s", p.exitCode(), p.stderr.String())
	}
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v; want 0600", fi, err)
	}
	for _, p := range ps[3:5] {
		lost = append(lost, decode[receiptJSON](t, register(client, srv.url, p, "")))
	}
	// Not while serve runs on the directory.
	if p := runProcess(t, time.Minute, "restore", "--data", data, backup); p.exitCode() == 0 ||
		!strings.Contains(p.stderr.String(), "serve is running") {
		t.Fatalf("restore under a running serve: exit %d\n%s", p.exitCode(), p.stderr.String())
	}
	srv.stop(t, 30*time.Second)
	p := runProcess(t, time.Minute, "restore", "--data", data, backup)
	if p.exitCode() != 0 || !strings.Contains(p.stdout.String(), "epoch 1") {
		t.Fatalf("restore: exit %d\n%s\n%s", p.exitCode(), p.stdout.String(), p.stderr.String())
	}

	srv = startServer(t, data)
	defer srv.stop(t, 30*time.Second)
	for _, rc := range kept {
		if r := do(client, http.MethodGet, srv.url+"/v1/registrations/"+rc.TrackingCode, nil, ""); r.status != http.StatusOK {
			t.Fatalf("a registration the backup holds: %s", r)
		}
	}
	// New people never get the codes of those lost, who are told.
	floor := turnero.EpochSequenceFloor(1)
	for _, p := range ps[5:] {
		r := register(client, srv.url, p, "")
		rc := decode[receiptJSON](t, r)
		if r.status != http.StatusAccepted || rc.Sequence <= floor {
			t.Fatalf("a registration after the restore: %s; want a sequence above %d", r, floor)
		}
		for _, l := range lost {
			if rc.TrackingCode == l.TrackingCode {
				t.Fatalf("the code %s of a registration lost in the restore was given again", l.TrackingCode)
			}
		}
	}
	for _, l := range lost {
		r := do(client, http.MethodGet, srv.url+"/v1/registrations/"+l.TrackingCode, nil, "")
		e := decode[errorJSON](t, r)
		if r.status != http.StatusGone || e.Error.Code != "lost_in_restore" || !strings.Contains(e.Error.Message, "regístrese de nuevo") {
			t.Fatalf("the code of a registration lost in the restore: %s", r)
		}
	}
	// The person lost registers again, as new.
	r := register(client, srv.url, ps[3], "en")
	if rc := decode[receiptJSON](t, r); r.status != http.StatusAccepted || rc.Duplicate || rc.TrackingCode == lost[0].TrackingCode {
		t.Fatalf("a person lost in the restore registering again: %s", r)
	}
}
