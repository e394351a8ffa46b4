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
	"time"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/appointments"
	"github.com/turnero/turnero/internal/feed"
	"github.com/turnero/turnero/internal/intake"
	"github.com/turnero/turnero/internal/metrics"
	"github.com/turnero/turnero/internal/status"
	"github.com/turnero/turnero/internal/turnero"
)

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
	// Store reads tokens and what operators see of the groups.
	Store Store
}

// Store is what the routes read directly: bearer tokens, and the groups'
// states and pending lists for operators.
type Store interface {
	TokenByHash(ctx context.Context, hash []byte) (turnero.Token, error)
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
}

// NewServer returns the handler of the whole API.
func NewServer(svc Services, m *metrics.Metrics, log *slog.Logger) (*Server, error) {
	if err := svc.check(); err != nil {
		return nil, err
	}
	s := &Server{Services: svc, metrics: m, log: log, mux: http.NewServeMux(), known: http.NewServeMux()}
	s.routes()
	s.mux.HandleFunc("/", s.unrouted)
	return s, nil
}

func (s *Server) routes() {
	s.handle("POST /v1/registrations", s.createRegistration)
	s.handle("POST /v1/registrations/lookup", s.lookupRegistration)
	s.handle("GET /v1/registrations/{code}", s.getRegistration)
	s.handle("GET /v1/admin/groups", s.listGroups)
	s.handle("POST /v1/admin/groups/{group}/open", s.setGroupOpen(true))
	s.handle("POST /v1/admin/groups/{group}/close", s.setGroupOpen(false))
	s.handle("GET /v1/admin/groups/{group}/pending", s.listPending)
	s.handle("POST /v1/admin/allocations", s.runAllocation)
	s.changesRoutes()
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", s.metrics.Handler())
	s.known.Handle("GET /metrics", s.metrics.Handler())
}

func (s *Server) handle(pattern string, h http.HandlerFunc) {
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
			w.Header().Set("Allow", probe.header.Get("Allow"))
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
	}()
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(rec, r)
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
	if err := s.Intake.Ready(r.Context()); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status": "ready", "queue_depth": s.Intake.QueueDepth(), "queue_capacity": s.Intake.QueueCapacity(),
	})
}
