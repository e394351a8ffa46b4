package metrics_test

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/turnero/turnero/internal/metrics"
)

// The night shift's dashboard and alerts (docs/grafana) name only metrics
// that exist: a misspelt metric is a panel that stays empty and an alert
// that never fires.

// elsewhere are the metrics the files may name that this registry does not
// hold: serve's gauges of the intake queue, the notifications worker's,
// node_exporter's and Prometheus's own.
var elsewhere = map[string]bool{
	"turnero_intake_queue_depth": true, "turnero_intake_queue_capacity": true,
	"turnero_notices_sent_total": true, "turnero_notices_failed_total": true, "turnero_notices_oldest_due_seconds": true,
	"node_filesystem_avail_bytes": true, "node_filesystem_size_bytes": true, "up": true,
}

var metricName = regexp.MustCompile(`\b(turnero_[a-z_]+|go_[a-z_]+|process_[a-z_]+|node_[a-z_]+|up)\b`)

// exposed are the metric names a scrape of a fresh registry shows (after
// one request of each kind, so that labelled series exist).
func exposed(t *testing.T) map[string]bool {
	m := metrics.New()
	m.ObserveRequest("POST /v1/registrations", 202, time.Millisecond)
	m.Overloaded()
	m.ObserveCommit(10, time.Millisecond, nil)
	m.ObserveCommit(10, time.Millisecond, io.EOF)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	names := map[string]bool{}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		names[name] = true
	}
	return names
}

func checkNames(t *testing.T, file, text string, names map[string]bool) int {
	n := 0
	for _, name := range metricName.FindAllString(text, -1) {
		n++
		if !names[name] && !elsewhere[name] {
			t.Errorf("%s names %s, which no registry exposes", file, name)
		}
	}
	return n
}

func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana/turnero.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("turnero.json: %v", err)
	}
	names := exposed(t)
	exprs := 0
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs++
			if checkNames(t, "turnero.json panel "+p.Title, tg.Expr, names) == 0 {
				t.Errorf("panel %q: %q names no metric", p.Title, tg.Expr)
			}
		}
	}
	if len(d.Panels) < 8 || exprs < 10 {
		t.Fatalf("%d panels, %d queries: the dashboard lost its panels", len(d.Panels), exprs)
	}
}

func TestAlertRules(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert       string
				Expr        string
				For         string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	names := exposed(t)
	seen := map[string]bool{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			seen[r.Alert] = true
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %+v: alert, expr, severity and summary are required", r)
			}
			if _, err := time.ParseDuration(r.For); err != nil {
				t.Errorf("rule %s: for %q", r.Alert, r.For)
			}
			checkNames(t, "alerts.yml rule "+r.Alert, r.Expr, names)
		}
	}
	// What the issue asks a night shift to be told of.
	for _, a := range []string{"TurneroIntakeErrors", "TurneroQueueFilling", "TurneroCommitSlow", "TurneroNoticesFailing", "TurneroDiskFilling"} {
		if !seen[a] {
			t.Errorf("no alert %s", a)
		}
	}
}
