package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/turnero/turnero/internal/campaign"
	turnerohttp "github.com/turnero/turnero/internal/http"
	"github.com/turnero/turnero/internal/intake"
	"github.com/turnero/turnero/internal/loadtest"
	"github.com/turnero/turnero/internal/metrics"
	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/turnero"
)

// benchServer wires the API as cmd/turnero does, on a real SQLite file.
func benchServer(b *testing.B) (http.Handler, *intake.Service) {
	dir := b.TempDir()
	if err := pii.WriteKeyFile(filepath.Join(dir, "keys"), "bench"); err != nil {
		b.Fatal(err)
	}
	keys, err := pii.LoadKeyFile(filepath.Join(dir, "keys"))
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "turnero.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := metrics.New()
	in, err := intake.New(intake.DefaultConfig, campaign.Sample(), keys, db, turnero.SystemClock{}, m, log)
	if err != nil {
		b.Fatal(err)
	}
	in.Start()
	b.Cleanup(in.Close)
	return turnerohttp.NewServer(in, m, log), in
}

// BenchmarkRegister measures a whole registration through the handler —
// decoding, validation, sealing, the group-commit writer with its fsync, the
// answer — without the network: the CPU a request costs on top of net/http.
// Run in parallel so that the writer forms batches as it does under load.
func BenchmarkRegister(b *testing.B) {
	h, _ := benchServer(b)
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := loadtest.Person(1, int(next.Add(1)))
			body, _ := json.Marshal(&p)
			req := httptest.NewRequest(http.MethodPost, "/v1/registrations", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusAccepted {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkStatus measures a status lookup by tracking code.
func BenchmarkStatus(b *testing.B) {
	h, _ := benchServer(b)
	var codes []string
	for i := 0; i < 1000; i++ {
		p := loadtest.Person(2, i)
		body, _ := json.Marshal(&p)
		req := httptest.NewRequest(http.MethodPost, "/v1/registrations", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var rc struct {
			TrackingCode string `json:"tracking_code"`
		}
		json.Unmarshal(rec.Body.Bytes(), &rc)
		codes = append(codes, rc.TrackingCode)
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "/v1/registrations/"+codes[next.Add(1)%int64(len(codes))], nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}
