// Package metrics exposes what operations watch, in Prometheus' text format:
// requests by route and status, latency, commit batch sizes and the queue in
// front of the writer. It records numbers only, never personal data.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one process's set of metrics.
type Metrics struct {
	registry       *prometheus.Registry
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	batchSize      prometheus.Histogram
	commitDuration prometheus.Histogram
	commitErrors   prometheus.Counter
	overloaded     prometheus.Counter

	// Resolved children, so that the hot path does not hash label values.
	mu        sync.RWMutex
	counters  map[routeStatus]prometheus.Counter
	durations map[string]prometheus.Observer
}

type routeStatus struct {
	route  string
	status int
}

// New registers turnero's metrics and the Go runtime's.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "turnero_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "turnero_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "turnero_intake_commit_batch_size", Help: "Registrations committed per transaction (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024},
		}),
		commitDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "turnero_intake_commit_duration_seconds", Help: "Time to commit one batch durably.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "turnero_intake_commit_errors_total", Help: "Batches that failed to commit (their requests got 503).",
		}),
		overloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "turnero_http_overloaded_total",
			Help: "Requests refused with 503 overloaded because the writer's queue was full (not faults: the client retries).",
		}),
		counters:  map[routeStatus]prometheus.Counter{},
		durations: map[string]prometheus.Observer{},
	}
	m.registry.MustRegister(m.requests, m.duration, m.batchSize, m.commitDuration, m.commitErrors, m.overloaded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// GaugeFunc registers a gauge read when metrics are scraped.
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// ObserveCommit records one group commit.
func (m *Metrics) ObserveCommit(size int, took time.Duration, err error) {
	if err != nil {
		m.commitErrors.Inc()
		return
	}
	m.batchSize.Observe(float64(size))
	m.commitDuration.Observe(took.Seconds())
}

// Overloaded records one request refused because the writer's queue was full.
func (m *Metrics) Overloaded() { m.overloaded.Inc() }

// ObserveRequest records one HTTP request.
func (m *Metrics) ObserveRequest(route string, status int, took time.Duration) {
	key := routeStatus{route, status}
	m.mu.RLock()
	c, ok := m.counters[key]
	d, ok2 := m.durations[route]
	m.mu.RUnlock()
	if !ok || !ok2 {
		m.mu.Lock()
		c = m.requests.WithLabelValues(route, strconv.Itoa(status))
		d = m.duration.WithLabelValues(route)
		m.counters[key] = c
		m.durations[route] = d
		m.mu.Unlock()
	}
	c.Inc()
	d.Observe(took.Seconds())
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
