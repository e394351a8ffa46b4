package main

import (
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/loadtest"
	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/sqlite"
)

// TestE2EKeyRotation follows docs/operations.md's rotation of a data key on
// a node: keygen --add-to, restart; then a key added for reading only and
// made current later. Every record stays readable, and each new one is
// sealed with the key that was current when it came.
func TestE2EKeyRotation(t *testing.T) {
	dir := t.TempDir()
	keys, data := filepath.Join(dir, "turnero.keys"), filepath.Join(dir, "data")
	keygen := func(args ...string) string {
		t.Helper()
		p := runProcess(t, 30*time.Second, append([]string{"keygen"}, args...)...)
		if p.exitCode() != 0 {
			t.Fatalf("keygen %s: status %d\n%s", strings.Join(args, " "), p.exitCode(), p.stderr.String())
		}
		return p.stdout.String()
	}
	client := newClient(1, 20*time.Second)
	defer client.CloseIdleConnections()
	seed := time.Now().UnixNano()
	var codes []string
	// registerOne registers person i on a node started with the key file,
	// checks that every code so far reads back, and stops the node.
	registerOne := func(i int) {
		t.Helper()
		srv := startServer(t, data, "--key-file", keys)
		ids, _ := pii.DataKeyIDs(keys)
		if want := `"data_keys":"` + strings.Join(ids, ",") + `"`; !strings.Contains(srv.stderr.String(), want) {
			t.Errorf("the serving line does not list the data keys, current first (%s):\n%s", want, srv.stderr.String())
		}
		rc := decode[receiptJSON](t, register(client, srv.url, loadtest.Person(seed, i), ""))
		codes = append(codes, rc.TrackingCode)
		for _, c := range codes {
			if r := do(client, http.MethodGet, srv.url+"/v1/registrations/"+c, nil, ""); r.status != http.StatusOK {
				t.Errorf("status of %s after rotating: %s", c, r)
			}
		}
		srv.stop(t, 30*time.Second)
		client.CloseIdleConnections()
	}
	keygen("--out", keys, "--id", "k1")
	registerOne(0)
	out := keygen("--add-to", keys)
	m := regexp.MustCompile(`added data key (\S+), which now seals new records`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("keygen --add-to says %q", out)
	}
	added := m[1]
	registerOne(1)
	if out := keygen("--add-to", keys, "--id", "k3", "--current=false"); !strings.Contains(out, "--set-current k3") {
		t.Errorf("keygen --add-to --current=false says %q", out)
	}
	registerOne(2)
	keygen("--set-current", "k3", "--in", keys)
	registerOne(3)

	db, err := sqlite.Open(context.Background(), filepath.Join(data, "turnero.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for seq, want := range map[int64]string{1: "k1", 2: added, 3: added, 4: "k3"} {
		r, err := db.RegistrationBySequence(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if r.KeyID != want {
			t.Errorf("registration %d sealed with %s, want %s", seq, r.KeyID, want)
		}
	}
}
