package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestE2EDemo runs "turnero demo" as a newcomer would and does what it prints:
// the curl lines register someone (202), show the status and find the
// registration again, and the same registration again is a duplicate (200).
func TestE2EDemo(t *testing.T) {
	p := startProcess(t, "demo", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(p.stdout.String(), "Stop: Ctrl-C") {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("demo did not print its instructions\nstdout:\n%s\nstderr:\n%s", p.stdout.String(), p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	out := p.stdout.String()
	m := regexp.MustCompile(`at (http://127\.0\.0\.1:[0-9]+)\s`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("demo does not print its URL:\n%s", out)
	}
	base := m[1]
	cmds := curlCommands(out)
	if len(cmds) < 4 {
		t.Fatalf("demo prints %d curl lines, want a registration, a status, a lookup and metrics:\n%s", len(cmds), out)
	}
	client := newClient(2, 20*time.Second)
	defer client.CloseIdleConnections()
	run := func(c curlCommand) reply {
		t.Helper()
		if !strings.HasPrefix(c.url, base+"/") {
			t.Fatalf("curl line for %s, not the demo's URL %s", c.url, base)
		}
		if c.data != "" && !strings.HasPrefix(c.header["Content-Type"], "application/json") {
			t.Errorf("curl line sends JSON without Content-Type application/json: %+v", c)
		}
		req, err := http.NewRequest(c.method, c.url, strings.NewReader(c.data))
		if err != nil {
			t.Fatalf("curl line %+v: %v", c, err)
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		r := reply{start: time.Now()}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("curl line %s %s: %v", c.method, c.url, err)
		}
		defer resp.Body.Close()
		r.status, r.header = resp.StatusCode, resp.Header
		r.body, r.err = io.ReadAll(resp.Body)
		return r
	}

	r := run(cmds[0])
	if r.status != http.StatusAccepted {
		t.Fatalf("the demo's first curl line (%s %s) answered %s, want 202", cmds[0].method, cmds[0].url, r)
	}
	rc := decode[receiptJSON](t, r)
	if again := run(cmds[0]); again.status != http.StatusOK || decode[receiptJSON](t, again) != (receiptJSON{
		TrackingCode: rc.TrackingCode, Sequence: rc.Sequence, Status: rc.Status, Group: rc.Group, Duplicate: true}) {
		t.Errorf("the same registration again: %s, want 200 with the same code and place, duplicate", again)
	}

	status := cmds[1]
	if !strings.Contains(status.url, "CODE") {
		t.Fatalf("the status curl line has no CODE to replace: %s", status.url)
	}
	status.url = strings.Replace(status.url, "CODE", rc.TrackingCode, 1)
	if r := run(status); r.status != http.StatusOK || decode[statusJSON](t, r).TrackingCode != rc.TrackingCode {
		t.Errorf("the status curl line answered %s", r)
	}
	if r := run(cmds[2]); r.status != http.StatusOK || decode[statusJSON](t, r).TrackingCode != rc.TrackingCode {
		t.Errorf("the lookup curl line answered %s, want the status of %s", r, rc.TrackingCode)
	}
	if r := run(cmds[3]); r.status != http.StatusOK || !strings.Contains(string(r.body), "turnero_http_requests_total") {
		t.Errorf("the metrics curl line answered %d", r.status)
	}

	p.signal(t, syscall.SIGINT) // Ctrl-C, as the demo says
	if !p.waitExit(30*time.Second) || p.exitCode() != 0 {
		t.Errorf("demo after Ctrl-C: exited %v, status %d\nstderr:\n%s", p.exited(), p.exitCode(), p.stderr.String())
	}
}

// curlCommand is what one printed curl line asks for.
type curlCommand struct {
	method, url, data string
	header            map[string]string
}

// curlCommands finds the curl commands in text, reading them as a POSIX shell
// would: single quotes (across lines), backslash-newline continuations, a
// command ending at an unquoted newline. Words after the URL that are not
// options (the demo's last line has text after its command) are ignored.
func curlCommands(text string) []curlCommand {
	var cmds []curlCommand
	for {
		i := strings.Index(text, "curl ")
		if i < 0 {
			return cmds
		}
		text = text[i+len("curl "):]
		var words []string
		var w strings.Builder
		inWord, quoted := false, false
		end := len(text)
	scan:
		for j := 0; j < len(text); j++ {
			c := text[j]
			switch {
			case quoted:
				if c == '\'' {
					quoted = false
				} else {
					w.WriteByte(c)
				}
			case c == '\'':
				quoted, inWord = true, true
			case c == '\\' && j+1 < len(text) && text[j+1] == '\n':
				j++
			case c == '\n':
				end = j
				break scan
			case c == ' ' || c == '\t':
				if inWord {
					words = append(words, w.String())
					w.Reset()
					inWord = false
				}
			default:
				w.WriteByte(c)
				inWord = true
			}
		}
		if inWord {
			words = append(words, w.String())
		}
		text = text[end:]
		c := curlCommand{method: http.MethodGet, header: map[string]string{}}
		for k := 0; k < len(words); k++ {
			switch words[k] {
			case "-s":
			case "-X":
				k++
				c.method = words[k]
			case "-H":
				k++
				name, value, _ := strings.Cut(words[k], ":")
				c.header[name] = strings.TrimSpace(value)
			case "-d":
				k++
				c.data = words[k]
				if c.method == http.MethodGet {
					c.method = http.MethodPost
				}
			default:
				if c.url == "" {
					c.url = words[k]
				}
			}
		}
		cmds = append(cmds, c)
	}
}
