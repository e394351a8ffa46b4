package postgres_test

// A harness for tests that run real "turnero serve" processes on one
// PostgreSQL database: build the binary once, start nodes that share a key
// file, send synthetic people to them.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// turneroBinary builds cmd/turnero once per test process.
func turneroBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		if build.dir, build.err = os.MkdirTemp("", "turnero-multinode-"); build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "turnero")
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		out, err := exec.Command(goTool, "build", "-o", build.bin, "github.com/turnero/turnero/cmd/turnero").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// keyFile writes a key file for nodes to share.
func keyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "turnero.keys")
	if out, err := exec.Command(turneroBinary(t), "keygen", "--out", path).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	return path
}

// node is a running "turnero serve" on PostgreSQL.
type node struct {
	name   string
	cmd    *exec.Cmd
	url    string
	done   chan struct{}
	mu     sync.Mutex
	stderr bytes.Buffer
}

// startNode starts a node on db with the shared key file and waits until it
// serves.
func startNode(t *testing.T, name, db, keys string) *node {
	t.Helper()
	return startNodeWith(t, name, db, keys, nil)
}

// startNodeWith starts a node with more environment variables and flags.
func startNodeWith(t *testing.T, name, db, keys string, env []string, flags ...string) *node {
	t.Helper()
	n := &node{name: name, done: make(chan struct{})}
	n.cmd = exec.Command(turneroBinary(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--key-file", keys}, flags...)...)
	if env != nil {
		n.cmd.Env = append(os.Environ(), env...)
	}
	pipe, err := n.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			n.mu.Lock()
			n.stderr.Write(line)
			n.stderr.WriteByte('\n')
			n.mu.Unlock()
			var l struct{ Msg, Addr string }
			if json.Unmarshal(line, &l) == nil && l.Msg == "serving" {
				addr <- l.Addr
			}
		}
		io.Copy(io.Discard, pipe)
		n.cmd.Wait()
		close(n.done)
	}()
	t.Cleanup(func() { n.kill() })
	select {
	case a := <-addr:
		n.url = "http://" + a
	case <-n.done:
		t.Fatalf("node %s exited before serving:\n%s", name, n.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("node %s did not serve within a minute:\n%s", name, n.log())
	}
	return n
}

func (n *node) log() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stderr.String()
}

// kill ends the node with SIGKILL: no shutdown, no draining.
func (n *node) kill() {
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
}

// person returns the registration request of synthetic person i, with a
// valid cédula.
func person(i int) []byte {
	num := 1_000_000 + i
	digits := fmt.Sprintf("%07d", num)
	weights := []int{2, 9, 8, 7, 6, 3, 4}
	sum := 0
	for k, w := range weights {
		sum += int(digits[k]-'0') * w
	}
	doc := fmt.Sprintf("%s%d", digits, (10-sum%10)%10)
	return fmt.Appendf(nil, `{"document_type":"CI","document_number":%q,"given_names":"María José",`+
		`"family_names":"Pérez Núñez","birth_date":"19%02d-0%d-1%d","phone":"099 %03d %03d","email":"",`+
		`"department":"Montevideo","locality":"","groups":[],"channel":"web","consent":true}`,
		doc, 30+i%60, 1+i%9, i%9, i%1000, (i*7)%1000)
}

// reply is one answer, or a transport error.
type reply struct {
	node       int
	person     int
	status     int
	retryAfter string
	code       string
	sequence   int64
	duplicate  bool
	err        error
	took       time.Duration
	at         time.Time
}

func (r reply) acknowledged() bool {
	return r.err == nil && (r.status == http.StatusAccepted || r.status == http.StatusOK)
}

func newClient() *http.Client {
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 128, DisableCompression: true,
	}}
}

// register submits person i to a node.
func register(c *http.Client, n *node, nodeIndex, i int) reply {
	r := reply{node: nodeIndex, person: i, at: time.Now()}
	resp, err := c.Post(n.url+"/v1/registrations", "application/json", bytes.NewReader(person(i)))
	r.took = time.Since(r.at)
	if err != nil {
		r.err = err
		return r
	}
	defer resp.Body.Close()
	r.status, r.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
	var body struct {
		TrackingCode string `json:"tracking_code"`
		Sequence     int64  `json:"sequence"`
		Duplicate    bool   `json:"duplicate"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		r.err = fmt.Errorf("decode answer %d: %w", r.status, err)
		return r
	}
	r.code, r.sequence, r.duplicate = body.TrackingCode, body.Sequence, body.Duplicate
	return r
}

// status reads a tracking code back from a node: its sequence, or an error.
func status(c *http.Client, n *node, code string) (int64, error) {
	resp, err := c.Get(n.url + "/v1/registrations/" + code)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	var body struct {
		Sequence int64 `json:"sequence"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, err
	}
	return body.Sequence, nil
}

// readyz returns the status of a node's readiness check (0 on a transport
// error).
func readyz(c *http.Client, n *node) int {
	resp, err := c.Get(n.url + "/readyz")
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// checkAcknowledged reads every acknowledged registration back from every
// node: present, with the sequence it was given, and no sequence given to
// two people.
func checkAcknowledged(t *testing.T, c *http.Client, replies []reply, nodes ...*node) {
	t.Helper()
	byPerson := map[int]reply{}
	bySeq := map[int64]int{}
	for _, r := range replies {
		if !r.acknowledged() {
			continue
		}
		if prev, ok := byPerson[r.person]; ok {
			if prev.code != r.code || prev.sequence != r.sequence {
				t.Fatalf("person %d acknowledged twice with different places: %s/%d and %s/%d",
					r.person, prev.code, prev.sequence, r.code, r.sequence)
			}
			continue
		}
		if other, ok := bySeq[r.sequence]; ok {
			t.Fatalf("sequence %d acknowledged to persons %d and %d", r.sequence, other, r.person)
		}
		byPerson[r.person], bySeq[r.sequence] = r, r.person
	}
	type job struct {
		r reply
		n *node
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var problems []string
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				seq, err := status(c, j.n, j.r.code)
				if err != nil || seq != j.r.sequence {
					mu.Lock()
					problems = append(problems, fmt.Sprintf("code %s (sequence %d) on node %s: sequence %d, %v",
						j.r.code, j.r.sequence, j.n.name, seq, err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, r := range byPerson {
		for _, n := range nodes {
			jobs <- job{r, n}
		}
	}
	close(jobs)
	wg.Wait()
	if len(problems) > 0 {
		t.Fatalf("%d acknowledged registrations not read back as acknowledged, e.g.:\n%s",
			len(problems), strings.Join(problems[:min(10, len(problems))], "\n"))
	}
	t.Logf("%d acknowledged registrations read back from %d nodes", len(byPerson), len(nodes))
}

// load sends distinct people to the nodes (person i to node i mod len) from
// workers goroutines until stop is closed, and returns every reply. next
// numbers the people.
type load struct {
	mu      sync.Mutex
	replies []reply
	wg      sync.WaitGroup
	stop    chan struct{}
}

func startLoad(c *http.Client, nodes func() []*node, workers int, first int) *load {
	l := &load{stop: make(chan struct{})}
	var next sync.Mutex
	id := first
	for range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				next.Lock()
				i := id
				id++
				next.Unlock()
				ns := nodes()
				k := i % len(ns)
				r := register(c, ns[k], k, i)
				l.mu.Lock()
				l.replies = append(l.replies, r)
				l.mu.Unlock()
				if r.err != nil || r.status == http.StatusServiceUnavailable {
					time.Sleep(20 * time.Millisecond) // as a client honouring Retry-After would, briefly
				}
			}
		}()
	}
	return l
}

func (l *load) finish() []reply {
	close(l.stop)
	l.wg.Wait()
	return l.replies
}

func (l *load) count(f func(reply) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.replies {
		if f(r) {
			n++
		}
	}
	return n
}
