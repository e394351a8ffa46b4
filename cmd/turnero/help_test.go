package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/campaign"
)

// TestHelp: every command's -h prints its help on stdout and succeeds; a
// wrong flag still fails, on stderr.
func TestHelp(t *testing.T) {
	t.Setenv("TURNERO_DB", "")
	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"help"},
		{"serve", "-h"}, {"serve", "--help"}, {"demo", "-h"}, {"keygen", "-h"}, {"loadtest", "-h"},
		{"centers", "-h"}, {"centers", "import", "-h"}, {"groups", "--help"}, {"groups", "list", "-h"},
		{"groups", "open", "-h"}, {"allocate", "-h"}, {"tokens", "-h"}, {"tokens", "create", "-h"}, {"tokens", "list", "-h"}, {"tokens", "revoke", "-h"}, {"audit", "-h"}, {"audit", "export", "-h"},
	} {
		var out, errs bytes.Buffer
		if err := run(context.Background(), args, &out, &errs); err != nil {
			t.Errorf("turnero %s: %v, want success", strings.Join(args, " "), err)
		}
		if !strings.Contains(out.String(), "Usage") || errs.Len() != 0 {
			t.Errorf("turnero %s: stdout %q, stderr %q; want the help on stdout only", strings.Join(args, " "), out.String(), errs.String())
		}
	}
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"serve", "--no-such-flag"}, &out, &errs); err == nil ||
		!strings.Contains(errs.String(), "no-such-flag") || out.Len() != 0 {
		t.Errorf("a wrong flag: %v, stdout %q, stderr %q; want a failure on stderr", err, out.String(), errs.String())
	}
}

// TestHelpExitsZero: the real binary's -h exits 0.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"serve", "-h"}, {"-h"}, {"tokens", "create", "-h"}} {
		p := runProcess(t, 30*time.Second, args...)
		if p.exitCode() != 0 || !strings.Contains(p.stdout.String(), "Usage") {
			t.Errorf("turnero %s: exit %d, stdout %q", strings.Join(args, " "), p.exitCode(), p.stdout.String())
		}
	}
}

// TestHelpTexts: the top-level usage gives every operator command the
// settings it needs to find serve's data and campaign, and no flag's help
// lets the flag package take part of its text for the name of its value (a
// bool flag has none: serve -h printed "-allocate turnero allocate").
func TestHelpTexts(t *testing.T) {
	for _, line := range strings.Split(usage, "\n") {
		for _, cmd := range []string{"turnero centers", "turnero groups", "turnero allocate", "turnero tokens"} {
			if strings.HasPrefix(strings.TrimSpace(line), cmd) &&
				!(strings.Contains(line, "--db") && strings.Contains(line, "--data") && strings.Contains(line, "--campaign")) {
				t.Errorf("usage line %q lacks --data, --db or --campaign", line)
			}
		}
	}
	cfg := defaultServeConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.flags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		name, _ := flag.UnquoteUsage(f)
		if strings.Contains(f.Usage, "`") && (isBoolFlag(f) || strings.Contains(name, " ")) {
			t.Errorf("-%s: its help %q names its value %q", f.Name, f.Usage, name)
		}
	})
	var out bytes.Buffer
	run(context.Background(), []string{"serve", "-h"}, &out, &bytes.Buffer{})
	if strings.Contains(out.String(), "-allocate turnero") {
		t.Errorf("serve -h:\n%s", out.String())
	}
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// TestTokensArticle: "an admin token", "a feed token".
func TestTokensArticle(t *testing.T) {
	t.Setenv("TURNERO_DB", "")
	data := filepath.Join(t.TempDir(), "data")
	sample := filepath.Join(t.TempDir(), "campaign.toml")
	if err := os.WriteFile(sample, campaign.SampleFile(), 0o600); err != nil {
		t.Fatal(err)
	}
	for role, want := range map[string]string{"admin": "an admin token", "feed": "a feed token"} {
		var out, errs bytes.Buffer
		if err := run(context.Background(), []string{"tokens", "create", "--data", data, "--campaign", sample, "--role", role, "--label", "test " + role}, &out, &errs); err != nil {
			t.Fatalf("tokens create --role %s: %v\n%s", role, err, errs.String())
		}
		if !strings.Contains(errs.String(), "\n"+want+";") && !strings.HasPrefix(errs.String(), want+";") {
			t.Errorf("tokens create --role %s says %q, want %q", role, errs.String(), want)
		}
	}
}

// TestDocumentedCommandLines: every turnero command line in the operations
// guide names a command and flags that exist.
func TestDocumentedCommandLines(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := regexp.MustCompile(`(?m)^\s*turnero (\S+)((?: --?[\w-]+(?:=\S+)?(?: [^-#\s]\S*)?)*)`).FindAllStringSubmatch(string(doc), -1)
	if len(lines) < 3 {
		t.Fatalf("%d command lines found in docs/operations.md; the pattern is broken", len(lines))
	}
	for _, l := range lines {
		for _, f := range regexp.MustCompile(`--?([\w-]+)`).FindAllStringSubmatch(l[2], -1) {
			var out, errs bytes.Buffer
			// A flag that exists is accepted by -h; an unknown one is refused.
			err := run(context.Background(), []string{l[1], "--" + f[1] + "=x", "-h"}, &out, &errs)
			if strings.Contains(errs.String(), "flag provided but not defined") {
				t.Errorf("docs/operations.md: turnero %s has no flag --%s (%v)", l[1], f[1], err)
			}
		}
	}
}
