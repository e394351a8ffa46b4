package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/loadtest"
	"github.com/turnero/turnero/internal/turnero"
)

// nginxExample is the nginx configuration docs/deployment.md gives.
const nginxExample = "../../docs/nginx/turnero.conf"

// nginxBinary finds nginx, or skips the test saying how to run it; in CI
// (CI=true, where .ci/run installs nginx) a missing nginx fails the test.
func nginxBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("nginx is not installed, and CI must test the nginx example (.ci/run installs it)")
	}
	t.Skip("nginx example test SKIPPED: nginx is not installed (apt-get install nginx; .ci/run installs it)")
	return ""
}

// nginxPrefix writes, in a directory of its own, a main configuration that
// includes conf (the example with the changes the test needs) and runs nginx
// as this process's user, in the foreground, without a master process.
func nginxPrefix(t *testing.T, conf string) (dir string) {
	t.Helper()
	dir = t.TempDir()
	for _, d := range []string{"tmp", "logs"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	certPEM, keyPEM := selfSignedCert(t)
	if err := os.WriteFile(filepath.Join(dir, "turnos.pem"), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "turnos.key"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	conf = strings.NewReplacer(
		"/etc/ssl/turnos.pem", filepath.Join(dir, "turnos.pem"),
		"/etc/ssl/turnos.key", filepath.Join(dir, "turnos.key"),
	).Replace(conf)
	if err := os.WriteFile(filepath.Join(dir, "turnero.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	main := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/logs/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    include %[1]s/turnero.conf;
}
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func selfSignedCert(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "turnos.example.gub.uy"},
		DNSNames: []string{"turnos.example.gub.uy"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// TestNginxExample checks the documented nginx configuration: nginx accepts
// it as written (but for the certificate's path), its own error answers are
// the API's JSON with the catalogue's texts, it never re-sends a POST and
// waits for an allocation run; then, in front of a real node, status reads
// are not limited at a registration's rate, registrations are, with a JSON
// 429, partners are not, the admin routes are closed to other networks, and
// a node that is down gives a JSON 503.
func TestNginxExample(t *testing.T) {
	nginx := nginxBinary(t)
	raw, err := os.ReadFile(nginxExample)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(raw)

	t.Run("nginx -t", func(t *testing.T) {
		dir := nginxPrefix(t, conf)
		out, err := exec.Command(nginx, "-t", "-p", dir, "-c", filepath.Join(dir, "nginx.conf")).CombinedOutput()
		if err != nil {
			t.Fatalf("nginx -t refuses the example: %v\n%s", err, out)
		}
	})

	t.Run("settings", func(t *testing.T) {
		if regexp.MustCompile(`(?m)^[^#]*proxy_next_upstream [^;#]*non_idempotent`).MatchString(conf) {
			t.Error("proxy_next_upstream non_idempotent sends a POST that a node has received to another node")
		}
		admin := regexp.MustCompile(`(?s)location /v1/admin/ \{(.*?)\n    \}`).FindStringSubmatch(conf)
		if admin == nil {
			t.Fatal("no location /v1/admin/")
		}
		m := regexp.MustCompile(`proxy_read_timeout (\d+)m;`).FindStringSubmatch(admin[1])
		if m == nil {
			t.Fatalf("the admin location sets no proxy_read_timeout in minutes:\n%s", admin[1])
		}
		if minutes, _ := strconv.Atoi(m[1]); time.Duration(minutes)*time.Minute <= 15*time.Minute {
			t.Errorf("admin proxy_read_timeout %sm: an allocation run's answer may take 15 minutes", m[1])
		}
		if !strings.Contains(admin[1], "proxy_next_upstream off;") {
			t.Error("the admin location may send a request to a second node")
		}
		for _, loc := range []string{"location /v1/feed/", "location /v1/centers/", "location = /v1/registrations {", "location /v1/registrations/ {"} {
			if !strings.Contains(conf, loc) {
				t.Errorf("no %q", loc)
			}
		}
		// nginx's own answers: the API's shape, the catalogue's texts, in
		// both languages.
		bodies := regexp.MustCompile(`return (\d{3}) '(.*?)\\n';`).FindAllStringSubmatch(conf, -1)
		if len(bodies) < 8 {
			t.Fatalf("%d JSON answers, want two languages for each of 429, 413, 403 and 503", len(bodies))
		}
		seen := map[string]bool{}
		for _, b := range bodies {
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal([]byte(b[2]), &e); err != nil {
				t.Errorf("return %s: not JSON: %v: %s", b[1], err, b[2])
				continue
			}
			switch e.Error.Message {
			case turnero.Message(e.Error.Code, turnero.Spanish):
				seen[b[1]+" es"] = true
			case turnero.Message(e.Error.Code, turnero.English):
				seen[b[1]+" en"] = true
			default:
				t.Errorf("return %s: %q is not the catalogue's text of %q", b[1], e.Error.Message, e.Error.Code)
			}
		}
		for _, status := range []string{"429", "413", "403", "503"} {
			if !seen[status+" es"] || !seen[status+" en"] {
				t.Errorf("no Spanish and English JSON answer for %s", status)
			}
		}
	})

	t.Run("in front of a node", func(t *testing.T) { nginxInFront(t, nginx, conf) })
}

func nginxInFront(t *testing.T, nginx, conf string) {
	srv := startServer(t, t.TempDir())
	defer func() {
		if !srv.exited() {
			srv.stop(t, 30*time.Second)
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// The nodes are this one; the partners' network is 127.0.0.2.
	conf = regexp.MustCompile(`(?m)^    server 10\.0\.0\.1\d:8080 `).ReplaceAllString(conf, "    server "+srv.addr+" ")
	conf = regexp.MustCompile(`(?m)^    listen 443 ssl http2;`).ReplaceAllString(conf, "    listen "+addr+" ssl http2;")
	conf = strings.Replace(conf, "10.30.0.0/24   1;", "127.0.0.2/32   1;", 1)
	dir := nginxPrefix(t, conf)
	cmd := exec.Command(nginx, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	}()

	client := func(source string) *http.Client {
		d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
		return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
			DialContext:     d.DialContext,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "turnos.example.gub.uy"},
			MaxConnsPerHost: 64, MaxIdleConnsPerHost: 64,
		}}
	}
	person, partner := client("127.0.0.1"), client("127.0.0.2")
	base := "https://" + addr
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r := do(person, http.MethodGet, base+"/healthz", nil, ""); r.err == nil && r.status == http.StatusOK {
			break
		}
		select {
		case <-exited:
			t.Fatalf("nginx exited:\n%s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "logs", "error.log"))
			r := do(person, http.MethodGet, base+"/healthz", nil, "")
			t.Fatalf("nginx does not answer /healthz on %s (%s):\n%s\n%s", addr, r, stderr.String(), log)
		}
	}
	seed := time.Now().UnixNano()
	rc := decode[receiptJSON](t, register(person, base, loadtest.Person(seed, 0), ""))

	// 100 status reads at once from one address: none limited (the old
	// example limited them with registrations, at 5 a second: the 23rd read
	// got 429).
	burst := func(c *http.Client, n int, send func(i int) reply) map[int]int {
		var mu sync.Mutex
		statuses := map[int]int{}
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := send(i)
				mu.Lock()
				defer mu.Unlock()
				if r.err != nil {
					t.Errorf("through nginx: %v", r.err)
				}
				statuses[r.status]++
				if r.status == http.StatusTooManyRequests {
					lang := ""
					if i%2 == 1 {
						lang = "en"
					}
					checkProxyError(t, r, lang, "rate_limited", true)
				}
			}()
		}
		wg.Wait()
		return statuses
	}
	if st := burst(person, 100, func(int) reply {
		return do(person, http.MethodGet, base+"/v1/registrations/"+rc.TrackingCode, nil, "")
	}); st[http.StatusOK] != 100 {
		t.Errorf("100 status reads from one address: %v, want 100 × 200", st)
	}
	// 60 registrations at once from one address: beyond the burst, JSON 429s.
	if st := burst(person, 60, func(i int) reply {
		lang := ""
		if i%2 == 1 {
			lang = "en"
		}
		return register(person, base, loadtest.Person(seed, 100+i), lang)
	}); st[http.StatusTooManyRequests] == 0 || st[http.StatusAccepted] == 0 {
		t.Errorf("60 registrations at once from one address: %v, want some 202 and some 429", st)
	}
	// A partner's address is not limited.
	if st := burst(partner, 60, func(i int) reply {
		return register(partner, base, loadtest.Person(seed, 200+i), "")
	}); st[http.StatusAccepted] != 60 {
		t.Errorf("60 registrations at once from a partner: %v, want 60 × 202", st)
	}
	time.Sleep(time.Second) // let the person's limit recover

	big := append([]byte(`{"pad":"`), append([]byte(strings.Repeat("x", 20<<10)), `"}`...)...)
	for _, lang := range []string{"", "en"} {
		checkProxyError(t, do(person, http.MethodPost, base+"/v1/registrations", big, lang), lang, "body_too_large", false)
		checkProxyError(t, do(person, http.MethodGet, base+"/v1/admin/groups", nil, lang), lang, "forbidden_address", false)
		checkProxyError(t, do(person, http.MethodGet, base+"/metrics", nil, lang), lang, "forbidden_address", false)
	}
	if r := do(person, http.MethodGet, base+"/v1/nothing", nil, ""); r.status != http.StatusNotFound ||
		!strings.Contains(string(r.body), "route_not_found") {
		t.Errorf("an unknown path through nginx: %s, want turnero's JSON 404", r)
	}
	// The node is down: nginx's own 503, in JSON, with Retry-After.
	srv.stop(t, 30*time.Second)
	for _, lang := range []string{"", "en"} {
		checkProxyError(t, do(person, http.MethodGet, base+"/v1/registrations/"+rc.TrackingCode, nil, lang), lang, "service_unavailable", true)
	}
}

// checkProxyError checks an error answer of nginx's own: the status of the
// code, the API's JSON shape with the catalogue's text in the language asked
// for, and Retry-After when the client is to retry.
func checkProxyError(t *testing.T, r reply, lang, code string, retry bool) {
	t.Helper()
	want := map[string]int{"rate_limited": 429, "body_too_large": 413, "forbidden_address": 403, "service_unavailable": 503}[code]
	if r.err != nil || r.status != want {
		t.Errorf("%s: got %s, want %d", code, r, want)
		return
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q", code, ct)
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Errorf("%s: not JSON: %s", code, r.body)
		return
	}
	l := turnero.Spanish
	if lang == "en" {
		l = turnero.English
	}
	if e.Error.Code != code || e.Error.Message != turnero.Message(code, l) {
		t.Errorf("%s: body %s, want the catalogue's text in %q", code, r.body, lang)
	}
	if retry && r.header.Get("Retry-After") == "" {
		t.Errorf("%s without Retry-After", code)
	}
}
