package main

// End-to-end tests of the real binary. The binary is built once per test run
// (with -race when the tests run with -race), started as a separate process on
// 127.0.0.1 and driven over real HTTP, as operations and citizens see it:
// crashes are real SIGKILLs, shutdowns real SIGTERMs. Every person sent is
// synthetic (loadtest.Person, or made up below).
//
// This file holds the harness; the tests are in the other e2e_*_test.go files.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/turnero/turnero/internal/loadtest"
	"github.com/turnero/turnero/internal/turnero"
)

var (
	buildOnce sync.Once
	buildDir  string
	builtBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// turneroBinary builds the binary the first time a test needs it. go test puts
// its own GOROOT/bin first in PATH, so "go" is the toolchain running the tests,
// and the packages are already compiled for the test binary (with the same
// -race setting), so this is mostly a link.
func turneroBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "turnero-e2e-"); buildErr != nil {
			return
		}
		// Not named just "turnero", so that nobody's clean-up of their own
		// "turnero serve" processes ends these.
		builtBin = filepath.Join(buildDir, "turnero-e2e")
		args := []string{"build", "-o", builtBin}
		if raceBuild {
			args = append(args, "-race")
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go command is not in PATH: %w", err)
			return
		}
		out, err := exec.Command(goTool, append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build turnero: %v", buildErr)
	}
	return builtBin
}

// syncBuffer collects a process's output while tests read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// process is one run of the binary.
type process struct {
	args           []string
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{} // closed when the process has exited
}

// processEnv is the test's environment without turnero's own settings, so
// that a developer's TURNERO_* variables do not change what is tested. The
// race detector's default second of sleep at exit (to let other threads
// report) is shortened: every test waits for its processes to exit.
func processEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TURNERO_") && !strings.HasPrefix(kv, "GORACE=") {
			env = append(env, kv)
		}
	}
	return append(env, strings.TrimSpace("GORACE=atexit_sleep_ms=100 "+os.Getenv("GORACE")))
}

// startProcess starts the binary; the process is killed at the end of the
// test if still running, and its output is checked for data races.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	p := &process{args: args, done: make(chan struct{})}
	p.cmd = exec.Command(turneroBinary(t), args...)
	p.cmd.Env = processEnv()
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start turnero %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			p.cmd.Process.Kill()
			<-p.done
		}
		if strings.Contains(p.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("turnero %s: the race detector found a data race:\n%s", strings.Join(args, " "), p.stderr.String())
		}
	})
	return p
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("send %v to turnero: %v", sig, err)
	}
}

// waitExit waits for the process to end and reports whether it did in time.
func (p *process) waitExit(timeout time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// exitCode is the exit status of an exited process, -1 if a signal ended it.
func (p *process) exitCode() int { return p.cmd.ProcessState.ExitCode() }

// killedBy reports whether sig ended the exited process.
func (p *process) killedBy(sig syscall.Signal) bool {
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// runProcess runs the binary to completion and returns its exit code.
func runProcess(t *testing.T, timeout time.Duration, args ...string) *process {
	t.Helper()
	p := startProcess(t, args...)
	if !p.waitExit(timeout) {
		t.Fatalf("turnero %s did not exit within %s\nstderr:\n%s", strings.Join(args, " "), timeout, p.stderr.String())
	}
	return p
}

// server is a running "turnero serve".
type server struct {
	*process
	addr string
	url  string
}

// startServer runs "turnero serve" on the data directory, on a port the
// kernel picks (--addr 127.0.0.1:0: no other program can hold it), and waits
// until its /healthz answers. The port is read from the "serving" log line.
// Its drain delay is short, so that every stop does not wait the default
// 5 s; extra may set another.
func startServer(t *testing.T, data string, extra ...string) *server {
	t.Helper()
	p := startProcess(t, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--drain-delay", "50ms"}, extra...)...)
	deadline := time.Now().Add(60 * time.Second)
	addr := ""
	for addr == "" {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("turnero serve did not start (exited: %v)\nstderr:\n%s", p.exited(), p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
		addr = servingAddr(p.stderr.String())
	}
	if err := waitHealthy(p, "http://"+addr, time.Until(deadline)); err != nil {
		t.Fatalf("turnero serve: %v\nstderr:\n%s", err, p.stderr.String())
	}
	return &server{process: p, addr: addr, url: "http://" + addr}
}

// servingAddr finds the address in the server's JSON log line that says it
// is serving.
func servingAddr(log string) string {
	for _, line := range strings.Split(log, "\n") {
		var l struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "serving" && l.Addr != "" {
			return l.Addr
		}
	}
	return ""
}

func waitHealthy(p *process, base string, timeout time.Duration) error {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("exited with status %d before serving", p.exitCode())
		}
		if resp, err := c.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("/healthz did not answer 200 within %s", timeout)
}

// stop sends SIGTERM and requires a clean exit (status 0) within timeout.
func (s *server) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	s.signal(t, syscall.SIGTERM)
	if !s.waitExit(timeout) {
		t.Fatalf("turnero serve did not exit within %s of SIGTERM\nstderr:\n%s", timeout, s.stderr.String())
	}
	if code := s.exitCode(); code != 0 {
		t.Fatalf("turnero serve exited with status %d after SIGTERM, want 0\nstderr:\n%s", code, s.stderr.String())
	}
}

// newClient returns a client for loopback only (no proxy) that keeps up to
// conns connections open.
func newClient(conns int, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, DisableCompression: true,
	}}
}

// reply is what came back for one request: an answer, or a transport error.
type reply struct {
	status     int
	header     http.Header
	body       []byte
	err        error
	start, end time.Time
}

func do(client *http.Client, method, url string, body []byte, lang string) reply {
	r := reply{start: time.Now()}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		r.err = err
		return r
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	resp, err := client.Do(req)
	if err == nil {
		r.status, r.header = resp.StatusCode, resp.Header
		r.body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	r.err, r.end = err, time.Now()
	return r
}

func register(client *http.Client, base string, p turnero.RegistrationRequest, lang string) reply {
	b, err := json.Marshal(&p)
	if err != nil {
		panic(err)
	}
	return do(client, http.MethodPost, base+"/v1/registrations", b, lang)
}

func (r reply) String() string {
	if r.err != nil {
		return "transport error: " + r.err.Error()
	}
	return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body))
}

type receiptJSON struct {
	TrackingCode string `json:"tracking_code"`
	Sequence     int64  `json:"sequence"`
	Status       string `json:"status"`
	Group        string `json:"group"`
	Duplicate    bool   `json:"duplicate"`
}

type statusJSON struct {
	TrackingCode string `json:"tracking_code"`
	Status       string `json:"status"`
	Group        string `json:"group"`
	GroupName    string `json:"group_name"`
	Sequence     int64  `json:"sequence"`
	Position     int64  `json:"position"`
	Name         string `json:"name"`
	DocumentType string `json:"document_type"`
	Document     string `json:"document"`
	Department   string `json:"department"`
	ReceivedAt   string `json:"received_at"`
}

type errorJSON struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// decode reads a reply's JSON body into v; it fails the test when it is not
// JSON of that shape.
func decode[T any](t *testing.T, r reply) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("answer %s is not the expected JSON: %v", r, err)
	}
	return v
}

// checkRetryLater checks an honest refusal: 503, a Retry-After of whole
// seconds, and a JSON error with one of the given codes in the language asked
// for (Spanish unless lang asks for English). It returns the problem, or "".
func checkRetryLater(r reply, lang string, codes ...string) string {
	if r.status != http.StatusServiceUnavailable {
		return fmt.Sprintf("want 503, got %s", r)
	}
	ra := r.header.Get("Retry-After")
	var secs int
	if _, err := fmt.Sscanf(ra, "%d", &secs); err != nil || secs < 1 || fmt.Sprint(secs) != ra {
		return fmt.Sprintf("503 with Retry-After %q, want a number of seconds", ra)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Sprintf("503 with Content-Type %q", ct)
	}
	var e errorJSON
	if err := json.Unmarshal(r.body, &e); err != nil {
		return fmt.Sprintf("503 body is not JSON: %q", r.body)
	}
	want := turnero.Spanish
	if lang == "en" {
		want = turnero.English
	}
	for _, c := range codes {
		if e.Error.Code == c {
			if m := turnero.Message(c, want); e.Error.Message != m {
				return fmt.Sprintf("503 %s message %q, want %q", c, e.Error.Message, m)
			}
			return ""
		}
	}
	return fmt.Sprintf("503 with error code %q, want one of %v", e.Error.Code, codes)
}

// outcome is the reply to the registration of synthetic person i.
type outcome struct {
	person int
	reply
}

// load registers distinct synthetic people from several goroutines until
// onReply says to stop, the server is gone, or two minutes have passed.
type load struct {
	client  *http.Client
	srv     *server
	seed    int64
	next    *atomic.Int64 // index of the next person to register
	workers int
	// onReply is called after every reply (concurrently) with the number of
	// registrations acknowledged so far; a worker stops when it returns false.
	onReply func(o outcome, acks int64) bool
}

func (l load) run() []outcome {
	var (
		mu   sync.Mutex
		all  []outcome
		acks atomic.Int64
		wg   sync.WaitGroup
	)
	deadline := time.Now().Add(2 * time.Minute)
	for w := 0; w < l.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []outcome
			defer func() {
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			}()
			for {
				i := int(l.next.Add(1) - 1)
				o := outcome{person: i, reply: register(l.client, l.srv.url, loadtest.Person(l.seed, i), "")}
				mine = append(mine, o)
				n := acks.Load()
				if o.err == nil && (o.status == http.StatusAccepted || o.status == http.StatusOK) {
					n = acks.Add(1)
				}
				if !l.onReply(o, n) || l.srv.exited() || time.Now().After(deadline) {
					return
				}
			}
		}()
	}
	wg.Wait()
	return all
}

// ledger is what the tests know was acknowledged: every tracking code with its
// sequence. Adding a code or a sequence seen before with another partner is a
// failure: a place in line is given once.
type ledger struct {
	seqOf  map[string]int64
	codeOf map[int64]string
	max    int64
}

func newLedger() *ledger { return &ledger{seqOf: map[string]int64{}, codeOf: map[int64]string{}} }

func (l *ledger) add(code string, seq int64) error {
	if code == "" || seq < 1 {
		return fmt.Errorf("acknowledged with tracking code %q and sequence %d", code, seq)
	}
	if s, ok := l.seqOf[code]; ok && s != seq {
		return fmt.Errorf("tracking code %s acknowledged with sequences %d and %d", code, s, seq)
	}
	if c, ok := l.codeOf[seq]; ok && c != code {
		return fmt.Errorf("sequence %d acknowledged for two tracking codes, %s and %s", seq, c, code)
	}
	l.seqOf[code], l.codeOf[seq] = seq, code
	l.max = max(l.max, seq)
	return nil
}

// checkPresent reads every code of acks back from the server: each must be
// found with the same sequence.
func checkPresent(t *testing.T, client *http.Client, base string, acks map[string]int64) {
	t.Helper()
	codes := make(chan string)
	var (
		mu       sync.Mutex
		problems []string
		wg       sync.WaitGroup
	)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for code := range codes {
				r := do(client, http.MethodGet, base+"/v1/registrations/"+code, nil, "")
				var st statusJSON
				problem := ""
				switch {
				case r.err != nil || r.status != http.StatusOK:
					problem = r.String()
				case json.Unmarshal(r.body, &st) != nil:
					problem = fmt.Sprintf("not JSON: %q", r.body)
				case st.Sequence != acks[code] || st.TrackingCode != code:
					problem = fmt.Sprintf("now %s with sequence %d, acknowledged with %d", st.TrackingCode, st.Sequence, acks[code])
				}
				if problem != "" {
					mu.Lock()
					problems = append(problems, code+": "+problem)
					mu.Unlock()
				}
			}
		}()
	}
	for code := range acks {
		codes <- code
	}
	close(codes)
	wg.Wait()
	if len(problems) > 0 {
		t.Errorf("%d of %d acknowledged registrations are missing or changed; first ones:\n%s",
			len(problems), len(acks), strings.Join(problems[:min(10, len(problems))], "\n"))
	}
}

// assertNoPersonalData checks that none of the people's personal data shows
// up in text (a log, a metrics page), in any of the ways it was written or
// stored. Numbers are compared as whole runs of digits, so that a document
// number is not "found" inside a timestamp.
func assertNoPersonalData(t *testing.T, where, text string, people []turnero.RegistrationRequest) {
	t.Helper()
	digitRuns := map[string]bool{}
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r < '0' || r > '9' }) {
		digitRuns[f] = true
	}
	var leaks []string
	leak := func(p turnero.RegistrationRequest, what, s string) {
		leaks = append(leaks, fmt.Sprintf("%s %q (of %s %s)", what, s, p.DocumentType, p.DocumentNumber))
	}
	for _, p := range people {
		digits := onlyDigits(p.DocumentNumber)
		if p.DocumentType == "CI" && len(digits) < 8 {
			digits = strings.Repeat("0", 8-len(digits)) + digits
		}
		if len(digits) >= 6 && (digitRuns[digits] || digitRuns[strings.TrimLeft(digits, "0")]) {
			leak(p, "document number", digits)
		}
		if p.DocumentNumber != digits && strings.Contains(text, p.DocumentNumber) {
			leak(p, "document number", p.DocumentNumber)
		}
		if phone := onlyDigits(p.Phone); len(phone) >= 8 {
			national := strings.TrimPrefix(phone, "0")
			if digitRuns[phone] || digitRuns[national] || digitRuns["598"+national] {
				leak(p, "phone", p.Phone)
			}
			if strings.Contains(text, p.Phone) {
				leak(p, "phone", p.Phone)
			}
		}
		for _, s := range []struct{ what, v string }{
			{"name", p.GivenNames + " " + p.FamilyNames},
			{"family names", p.FamilyNames},
			{"given names", p.GivenNames},
			{"birth date", p.BirthDate},
			{"email", p.Email},
			{"locality", p.Locality},
		} {
			// Short given names ("Ana") could be part of any word; the full
			// name and the family names still catch a name in a log.
			if utf8.RuneCountInString(s.v) >= 6 && strings.Contains(text, s.v) {
				leak(p, s.what, s.v)
			}
		}
	}
	if len(leaks) > 0 {
		t.Errorf("%s contains personal data (%d findings), e.g.:\n%s", where, len(leaks), strings.Join(leaks[:min(10, len(leaks))], "\n"))
	}
}

func onlyDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

func people(seed int64, n int) []turnero.RegistrationRequest {
	ps := make([]turnero.RegistrationRequest, n)
	for i := range ps {
		ps[i] = loadtest.Person(seed, i)
	}
	return ps
}

// slowRegistration is a request whose headers and first half of its body are
// on the server, the rest not yet sent.
type slowRegistration struct {
	conn net.Conn
	rest []byte
}

func startSlowRegistration(addr string, p turnero.RegistrationRequest) (*slowRegistration, error) {
	body, _ := json.Marshal(&p)
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	half := len(body) / 2
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(conn, "POST /v1/registrations HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addr, len(body), body[:half]); err != nil {
		conn.Close()
		return nil, err
	}
	return &slowRegistration{conn: conn, rest: body[half:]}, nil
}

// finish sends the rest of the body and reads the answer.
func (s *slowRegistration) finish() reply {
	defer s.conn.Close()
	r := reply{start: time.Now()}
	s.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, r.err = s.conn.Write(s.rest); r.err != nil {
		return r
	}
	resp, err := http.ReadResponse(bufio.NewReader(s.conn), nil)
	if err != nil {
		r.err = err
		return r
	}
	r.status, r.header = resp.StatusCode, resp.Header
	r.body, r.err = io.ReadAll(resp.Body)
	resp.Body.Close()
	r.end = time.Now()
	return r
}
