package http

import "net/http"

// Drain starts a graceful shutdown's first step: /readyz answers 503
// shutting_down, so that load balancers and orchestrators stop sending new
// requests, while every route still serves those that come; each answer
// closes its connection, so that clients reconnect to another node. The
// caller stops accepting connections after its drain delay.
func (s *Server) Drain() { s.draining.Store(true) }

// readyzDraining answers a readiness probe during the drain.
func (s *Server) readyzDraining(w http.ResponseWriter, r *http.Request) {
	writeJSONError(w, r, http.StatusServiceUnavailable, "shutting_down", nil)
}
