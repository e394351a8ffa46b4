// Package http is turnero's HTTP interface: the public JSON API, health and
// metrics. Every route is listed in routes(). Handlers decode, call a service
// and encode; errors are turned into responses in one place (writeError), in
// the person's language. No input produces a 5xx unless the fault is ours.
package http

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/turnero/turnero/internal/access"
	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/appointments"
	"github.com/turnero/turnero/internal/dashboard"
	"github.com/turnero/turnero/internal/feed"
	"github.com/turnero/turnero/internal/intake"
	"github.com/turnero/turnero/internal/metrics"
	"github.com/turnero/turnero/internal/status"
	"github.com/turnero/turnero/internal/turnero"
)

// lookupPath is the lookup route's path, which the status route's {code}
// would also take: it is never a tracking code (those have no L, O or U).
const lookupPath = "/v1/registrations/lookup"

// MaxBodyBytes bounds a request body: a registration is well under 1 KiB.
const MaxBodyBytes = 16 << 10

// Services are what the routes call, all of them required: cmd/turnero
// wires them (serve.go), and so do the tests.
type Services struct {
	Campaign     *turnero.Campaign
	Intake       *intake.Service
	Status       *status.Service
	Allocator    *allocate.Allocator
	Appointments *appointments.Service
	Feed         *feed.Service
	// Store reads tokens and what operators see of the groups, and keeps
	// the audit trail.
	Store Store
	// Access authenticates tokens and sessions; nil: one over Store.
	Access *access.Service
	// Clock dates audit entries; nil: the system's.
	Clock turnero.Clock
	// Figures computes the dashboard's figures; nil: over Store.
	Figures *dashboard.Figures
	// TrustedProxies are the proxies whose X-Forwarded-For gives the
	// client's address (for the audit trail); nil: loopback only.
	TrustedProxies []netip.Prefix
}

// Store is what the routes read directly: bearer tokens, and the groups'
// states and pending lists for operators.
type Store interface {
	access.Store
	turnero.AuditStore
	turnero.DashboardStore
	Center(ctx context.Context, id string) (turnero.Center, error)
	GroupStates(ctx context.Context) ([]turnero.GroupState, error)
	PendingAfter(ctx context.Context, group string, after int64, limit int) ([]turnero.Pending, error)
	SecondDosesInGroup(ctx context.Context, group string, after int64, limit int) ([]turnero.SecondDose, error)
}

func (v Services) check() error {
	if v.Campaign == nil || v.Intake == nil || v.Status == nil || v.Allocator == nil || v.Appointments == nil ||
		v.Feed == nil || v.Store == nil {
		return errors.New("http: every service must be given")
	}
	return nil
}

// Server holds the handlers' dependencies.
type Server struct {
	Services
	metrics *metrics.Metrics
	log     *slog.Logger
	mux     *http.ServeMux
	// known holds the same routes without the catch-all, to tell an unknown
	// path (404) from a known path with the wrong method (405).
	known *http.ServeMux
	// overloads reports refusals for overload (overload.go).
	overloads *overloadLog
	// draining is set when a shutdown begins (drain.go).
	draining atomic.Bool
	clock    turnero.Clock
	// served counts the requests answered, for the cost figures.
	served atomic.Int64
	// patterns are the routes, as registered.
	patterns []string
}

// Routes lists every route's pattern ("METHOD /path"), for tests that try
// something on each.
func (s *Server) Routes() []string { return append([]string(nil), s.patterns...) }

// Served is how many requests this server has answered.
func (s *Server) Served() int64 { return s.served.Load() }

// NewServer returns the handler of the whole API.
func NewServer(svc Services, m *metrics.Metrics, log *slog.Logger) (*Server, error) {
	if err := svc.check(); err != nil {
		return nil, err
	}
	s := &Server{Services: svc, metrics: m, log: log, mux: http.NewServeMux(), known: http.NewServeMux(),
		overloads: newOverloadLog(log), clock: svc.Clock}
	if s.clock == nil {
		s.clock = turnero.SystemClock{}
	}
	if s.Access == nil {
		s.Access = access.New(svc.Store, s.clock, log)
	}
	if s.Figures == nil {
		s.Figures = &dashboard.Figures{Store: svc.Store, Campaign: svc.Campaign, Clock: s.clock}
	}
	s.routes()
	s.mux.HandleFunc("/", s.unrouted)
	return s, nil
}

func (s *Server) routes() {
	s.handle("POST /v1/registrations", s.createRegistration)
	s.handle("POST "+lookupPath, s.lookupRegistration)
	s.handle("GET /v1/registrations/{code}", s.getRegistration)
	s.handle("GET /v1/admin/groups", s.listGroups)
	s.handle("POST /v1/admin/groups/{group}/open", s.setGroupOpen(true))
	s.handle("POST /v1/admin/groups/{group}/close", s.setGroupOpen(false))
	s.handle("GET /v1/admin/groups/{group}/pending", s.listPending)
	s.handle("POST /v1/admin/allocations", s.runAllocation)
	s.changesRoutes()
	s.staffRoutes()
	s.dashboardRoutes()
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", s.metrics.Handler())
	s.known.Handle("GET /metrics", s.metrics.Handler())
}

func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, h)
	s.known.HandleFunc(pattern, h)
}

// unrouted answers requests no route takes, in JSON and in the person's
// language rather than the mux's plain text: 405 with Allow for a known path,
// 404 otherwise.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.known.Handler(r)
	status, key := http.StatusNotFound, "route_not_found"
	if pattern == "" {
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			status, key = http.StatusMethodNotAllowed, "method_not_allowed"
			allow := probe.header.Get("Allow")
			if r.URL.Path == lookupPath {
				allow = http.MethodPost // not a tracking code (getRegistration)
			}
			w.Header().Set("Allow", allow)
		}
	}
	writeJSONError(w, r, status, key, nil)
}

// ServeHTTP measures every request and turns a panic into a 500 without a
// stack trace for the client.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic in handler", "route", r.Pattern, "panic", v)
			if !rec.wrote {
				writeJSONError(rec, r, http.StatusInternalServerError, "internal", nil)
			}
		}
		route := r.Pattern
		if route == "" || route == "/" { // unrouted: one label, not one per path tried
			route = "other"
		}
		s.metrics.ObserveRequest(route, rec.status, time.Since(start))
		s.served.Add(1)
	}()
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if s.draining.Load() {
		w.Header().Set("Connection", "close") // drain.go
	}
	if !cleanPath(r.URL.Path) {
		// ServeMux would redirect to the cleaned path with a 307 and an
		// HTML body; no client of this API sends such paths on purpose.
		writeJSONError(rec, r, http.StatusNotFound, "route_not_found", nil)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// cleanPath reports whether p is in the form ServeMux routes without a
// redirect: rooted, no empty, "." or ".." segments.
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		// p[start:i] is the segment that ends at i.
		start := strings.LastIndexByte(p[:i], '/') + 1
		switch seg := p[start:i]; seg {
		case ".", "..":
			return false
		case "":
			if i < len(p) { // "//"; a trailing slash is a path of its own
				return false
			}
		}
	}
	return true
}

// headerProbe records what a mux would answer for a request it cannot route.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		s.readyzDraining(w, r)
		return
	}
	if err := s.Intake.Ready(r.Context()); err != nil {
		if errors.Is(err, turnero.ErrOverloaded) {
			// A probe reading the state, not a refused request: the queue's
			// depth is a metric of its own.
			writeJSONError(w, r, http.StatusServiceUnavailable, "overloaded", nil)
			return
		}
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status": "ready", "queue_depth": s.Intake.QueueDepth(), "queue_capacity": s.Intake.QueueCapacity(),
	})
}
