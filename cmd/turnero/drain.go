package main

import (
	"fmt"
	"log/slog"
	"time"

	turnerohttp "github.com/turnero/turnero/internal/http"
)

// drain is the first step of a graceful shutdown: /readyz fails at once
// while every request is still served, for cfg.DrainDelay, so that load
// balancers and orchestrators see "not ready" and stop sending, rather than
// "connection refused" (they would count that as a failure, and a request
// sent meanwhile would be lost). A second signal ends the process at once.
func drain(cfg serveConfig, h *turnerohttp.Server, errc <-chan error, log *slog.Logger) error {
	if cfg.DrainDelay <= 0 {
		return nil
	}
	h.Drain()
	log.Info("draining: /readyz answers 503 shutting_down, requests are still served; a second signal stops at once",
		"drain_delay", cfg.DrainDelay.String())
	select {
	case <-time.After(cfg.DrainDelay):
		return nil
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	}
}
