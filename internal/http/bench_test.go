package http_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/turnero/turnero/internal/enginetest"
	"github.com/turnero/turnero/internal/intake"
	"github.com/turnero/turnero/internal/loadtest"
)

// benchServer wires the API as cmd/turnero does, on a real SQLite file.
func benchServer(b *testing.B) (http.Handler, *intake.Service) {
	ts := newTestServer(b, enginetest.SQLite)
	return ts.handler, ts.in
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
