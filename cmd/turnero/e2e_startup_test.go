package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/loadtest"
)

// TestE2EStartupErrors: a bad configuration stops "turnero serve" before it
// serves, with a non-zero status and a message that names the setting.
func TestE2EStartupErrors(t *testing.T) {
	sample := string(campaign.SampleFile())
	mustReplace := func(old, new string) string {
		if !strings.Contains(sample, old) {
			t.Fatalf("the sample campaign no longer contains %q; update this test", old)
		}
		return strings.Replace(sample, old, new, 1)
	}
	dir := t.TempDir()
	cases := []struct {
		name     string
		campaign string // contents of a campaign file, if any
		args     []string
		want     []string // in stderr
	}{
		{name: "unknown group kind",
			campaign: mustReplace(`kind = "attested"`, `kind = "volunteer"`),
			want:     []string{"groups[0].kind", `"volunteer"`}},
		{name: "unknown setting",
			campaign: "maximun_age = 100\n" + sample,
			want:     []string{"maximun_age", "unknown setting"}},
		{name: "unknown time zone",
			campaign: mustReplace(`timezone = "America/Montevideo"`, `timezone = "America/Atlantis"`),
			want:     []string{"timezone", "America/Atlantis"}},
		{name: "group with an unknown vaccine",
			campaign: mustReplace(`vaccines = ["sinovac"]`, `vaccines = ["sputnik"]`),
			want:     []string{"groups[0].vaccines[0]", "sputnik"}},
		{name: "not TOML",
			campaign: sample + "\n[[groups]\n",
			want:     []string{"line"}},
		{name: "no campaign file",
			args: []string{"--campaign", filepath.Join(dir, "missing.toml")},
			want: []string{"missing.toml"}},
		{name: "address without a port",
			args: []string{"--addr", "localhost"},
			want: []string{"setting addr", "localhost"}},
		{name: "queue of zero",
			args: []string{"--queue", "0"},
			want: []string{"setting queue"}},
		{name: "batch too large",
			args: []string{"--batch", "1000000"},
			want: []string{"setting batch"}},
		{name: "commit linger of a second",
			args: []string{"--commit-linger", "1s"},
			want: []string{"setting commit-linger"}},
		{name: "allocator duty of zero",
			args: []string{"--allocate-duty", "0"},
			want: []string{"setting allocate-duty"}},
		{name: "allocator batch of zero",
			args: []string{"--allocate-batch", "0"},
			want: []string{"setting allocate-batch"}},
		{name: "negative drain delay",
			args: []string{"--drain-delay", "-1s"},
			want: []string{"setting drain-delay"}},
		{name: "no data directory",
			args: []string{"--data", ""},
			want: []string{"setting data"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := filepath.Join(dir, "data", c.name)
			args := []string{"serve", "--addr", "127.0.0.1:0", "--data", data}
			if c.campaign != "" {
				file := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".toml")
				if err := os.WriteFile(file, []byte(c.campaign), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--campaign", file)
				c.want = append(c.want, file)
			}
			p := runProcess(t, 30*time.Second, append(args, c.args...)...)
			stderr := p.stderr.String()
			if p.exitCode() <= 0 {
				t.Fatalf("case %d: exit status %d, want non-zero\nstderr:\n%s", i, p.exitCode(), stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not name %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestE2EKeygen: keygen writes a private key file and never overwrites one
// (losing a key loses the data it protects); serve runs with it and then
// creates no key of its own.
func TestE2EKeygen(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "turnero.keys")

	p := runProcess(t, 30*time.Second, "keygen", "--out", keys)
	if p.exitCode() != 0 {
		t.Fatalf("keygen: status %d\n%s", p.exitCode(), p.stderr.String())
	}
	if !strings.Contains(p.stdout.String(), keys) {
		t.Errorf("keygen does not say where it wrote the keys: %q", p.stdout.String())
	}
	st, err := os.Stat(keys)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	first, _ := os.ReadFile(keys)

	p = runProcess(t, 30*time.Second, "keygen", "--out", keys)
	if p.exitCode() == 0 {
		t.Fatalf("keygen over an existing key file succeeded:\n%s", p.stdout.String())
	}
	if stderr := p.stderr.String(); !strings.Contains(stderr, keys) || !strings.Contains(stderr, "exists") {
		t.Errorf("keygen refused without saying the file exists: %q", stderr)
	}
	if again, _ := os.ReadFile(keys); !bytes.Equal(first, again) {
		t.Fatal("keygen changed an existing key file")
	}

	p = runProcess(t, 30*time.Second, "keygen")
	if p.exitCode() == 0 || !strings.Contains(p.stderr.String(), "setting out") {
		t.Errorf("keygen without --out: status %d, stderr %q; want a failure naming the setting", p.exitCode(), p.stderr.String())
	}

	data := filepath.Join(dir, "data")
	srv := startServer(t, data, "--key-file", keys)
	srv.stop(t, 30*time.Second)
	if strings.Contains(srv.stderr.String(), "NO KEY FILE CONFIGURED") {
		t.Errorf("serve --key-file warns that no key file is configured:\n%s", srv.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(data, "turnero.key")); err == nil {
		t.Error("serve --key-file created a key in the data directory")
	}
}

// TestE2ELostTrialKey: without --key-file, serve keeps its key in the data
// directory. If that key is gone while the database is there, a new key must
// not be made up: every registration would become unreadable, every tracking
// code unknown, and everyone could register a second time and get a second
// place. serve refuses to start instead, naming the setting.
func TestE2ELostTrialKey(t *testing.T) {
	data := t.TempDir()
	person := loadtest.Person(time.Now().UnixNano(), 0)
	client := newClient(1, 20*time.Second)
	defer client.CloseIdleConnections()

	srv := startServer(t, data)
	if r := register(client, srv.url, person, ""); r.status != http.StatusAccepted {
		t.Fatalf("register: %s", r)
	}
	srv.stop(t, 30*time.Second)
	if err := os.Remove(filepath.Join(data, "turnero.key")); err != nil {
		t.Fatalf("the trial key is not where the server said: %v", err)
	}

	p := startProcess(t, "serve", "--addr", "127.0.0.1:0", "--data", data)
	for deadline := time.Now().Add(30 * time.Second); !p.exited(); time.Sleep(10 * time.Millisecond) {
		if servingAddr(p.stderr.String()) != "" || time.Now().After(deadline) {
			t.Fatalf("serve on a database whose key is lost did not refuse to start\nstderr:\n%s", p.stderr.String())
		}
	}
	if p.exitCode() == 0 || !strings.Contains(p.stderr.String(), "key-file") {
		t.Fatalf("serve on a database whose key is lost: status %d, want a refusal naming key-file\nstderr:\n%s", p.exitCode(), p.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(data, "turnero.key")); err == nil {
		t.Error("serve made up a new key for an existing database")
	}
}
