package main

import (
	"log/slog"

	"github.com/turnero/turnero/internal/appointments"
	"github.com/turnero/turnero/internal/feed"
	turnerohttp "github.com/turnero/turnero/internal/http"
	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/turnero"
)

// startChanges wires cancellations, center staff and the pull feed into
// serve, on engines that store them; others answer 503 on those routes.
func startChanges(c *turnero.Campaign, keys *pii.Keyring, store turnero.RegistrationStore, h *turnerohttp.Server, log *slog.Logger) {
	as, ok1 := store.(turnero.AllocationStore)
	cs, ok2 := store.(turnero.AppointmentStore)
	fs, ok3 := store.(turnero.FeedStore)
	if !ok1 || !ok2 || !ok3 {
		log.Warn("this storage engine has no appointment changes or feed yet")
		return
	}
	clock := turnero.SystemClock{}
	h.SetChanges(&turnerohttp.Changes{
		Appointments: appointments.New(c, keys, store, cs, as, clock, log.With("component", "appointments")),
		Feed:         feed.New(c, keys, fs, as, store, clock, log.With("component", "feed")),
		Events:       cs,
	})
}
