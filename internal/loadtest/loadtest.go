// Package loadtest registers synthetic people against a running turnero and
// checks afterwards that every acknowledged registration can be read back
// unchanged. All the people it makes up are synthetic: valid cédula numbers
// from a seeded counter, names from short lists.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// Config says what to send.
type Config struct {
	URL         string
	Requests    int
	Concurrency int
	Seed        int64
	SkipVerify  bool
}

// Report is what happened.
type Report struct {
	Requests           int
	Elapsed            time.Duration
	Latencies          []time.Duration // sorted
	Statuses           map[int]int
	TransportErrors    int
	Acknowledged       int
	Codes              []string // acknowledged tracking codes
	Verified           int
	Missing            int
	Changed            int
	DuplicateSequences int
}

// Person returns the i-th synthetic person of a seed as a registration request.
// Everything about the person derives from their document number, so runs
// whose ranges overlap send the same people (duplicates), never two people
// with one document.
func Person(seed int64, i int) turnero.RegistrationRequest {
	number := FirstDocument(seed) + i
	r := rand.New(rand.NewPCG(uint64(number), 0x7475726e65726f))
	return turnero.RegistrationRequest{
		DocumentType:   "CI",
		DocumentNumber: Cedula(number),
		GivenNames:     givenNames[r.IntN(len(givenNames))],
		FamilyNames:    familyNames[r.IntN(len(familyNames))] + " " + familyNames[r.IntN(len(familyNames))],
		BirthDate:      time.Date(1935+r.IntN(65), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC).Format("2006-01-02"),
		Phone:          fmt.Sprintf("09%d %03d %03d", 1+r.IntN(9), r.IntN(1000), r.IntN(1000)),
		Department:     departments[r.IntN(len(departments))],
		Channel:        "web",
		Consent:        true,
	}
}

// FirstDocument is where a seed's cédula numbers start: far enough below the
// 7-digit limit for 3 million people, and spread so that small seeds (1, 2,
// 3...) start a million apart modulo the range.
func FirstDocument(seed int64) int {
	return 1_000_000 + int((uint64(seed)*1_000_003)%5_000_000)
}

// Cedula writes a 7-digit number with its check digit, as people do: 1.234.567-2.
func Cedula(n int) string {
	s := fmt.Sprintf("%07d", n)
	return fmt.Sprintf("%s.%s.%s-%d", s[:1], s[1:4], s[4:], turnero.CedulaCheckDigit(s))
}

var (
	givenNames  = []string{"María", "José", "Ana", "Juan", "Lucía", "Martín", "Sofía", "Diego", "Valentina", "Nicolás", "Camila", "Agustín", "María José", "Juan Pablo"}
	familyNames = []string{"Pérez", "González", "Rodríguez", "Fernández", "López", "Martínez", "Silva", "Núñez", "Sosa", "Da Silva", "O'Neill", "Méndez-Ruiz"}
	departments = []string{"Montevideo", "Canelones", "Maldonado", "Salto", "Paysandú", "Colonia", "Rivera", "Tacuarembó", "San José", "Rocha"}
)

type ack struct {
	code string
	seq  int64
}

// Run sends the registrations, then reads every acknowledged one back.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	tr := &http.Transport{MaxIdleConns: cfg.Concurrency, MaxIdleConnsPerHost: cfg.Concurrency, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	defer tr.CloseIdleConnections()

	rep := &Report{Requests: cfg.Requests, Statuses: map[int]int{}}
	var next atomic.Int64
	var mu sync.Mutex
	acks := make([]ack, 0, cfg.Requests)
	lat := make([]time.Duration, 0, cfg.Requests)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var myAcks []ack
			var myLat []time.Duration
			statuses := map[int]int{}
			terr := 0
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= cfg.Requests {
					break
				}
				p := Person(cfg.Seed, i)
				body, _ := json.Marshal(&p)
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL+"/v1/registrations", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					terr++
					continue
				}
				var rc struct {
					TrackingCode string `json:"tracking_code"`
					Sequence     int64  `json:"sequence"`
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				myLat = append(myLat, time.Since(t0))
				statuses[resp.StatusCode]++
				if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
					if json.Unmarshal(b, &rc) == nil && rc.TrackingCode != "" {
						myAcks = append(myAcks, ack{rc.TrackingCode, rc.Sequence})
					}
				}
			}
			mu.Lock()
			acks = append(acks, myAcks...)
			lat = append(lat, myLat...)
			for k, v := range statuses {
				rep.Statuses[k] += v
			}
			rep.TransportErrors += terr
			mu.Unlock()
		}()
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	slices.Sort(lat)
	rep.Latencies = lat
	rep.Acknowledged = len(acks)
	rep.Codes = make([]string, len(acks))
	for i, a := range acks {
		rep.Codes[i] = a.code
	}

	seen := make(map[int64]string, len(acks))
	for _, a := range acks {
		if prev, ok := seen[a.seq]; ok && prev != a.code {
			rep.DuplicateSequences++
		}
		seen[a.seq] = a.code
	}
	if cfg.SkipVerify {
		return rep, ctx.Err()
	}
	var missing, changed, verified atomic.Int64
	var vnext atomic.Int64
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(vnext.Add(1)) - 1
				if i >= len(acks) {
					return
				}
				a := acks[i]
				resp, err := client.Get(cfg.URL + "/v1/registrations/" + a.code)
				if err != nil {
					missing.Add(1)
					continue
				}
				var st struct {
					Sequence int64 `json:"sequence"`
				}
				err = json.NewDecoder(resp.Body).Decode(&st)
				resp.Body.Close()
				switch {
				case resp.StatusCode != http.StatusOK || err != nil:
					missing.Add(1)
				case st.Sequence != a.seq:
					changed.Add(1)
				default:
					verified.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	rep.Missing, rep.Changed, rep.Verified = int(missing.Load()), int(changed.Load()), int(verified.Load())
	return rep, ctx.Err()
}

func (r *Report) percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(p * float64(len(r.Latencies)-1))
	return r.Latencies[i]
}

// Print writes the report for a person.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "requests:      %d in %s\n", r.Requests, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "throughput:    %.0f requests/s\n", float64(len(r.Latencies))/r.Elapsed.Seconds())
	fmt.Fprintf(w, "latency:       p50 %s  p95 %s  p99 %s  max %s\n",
		r.percentile(.50).Round(time.Microsecond), r.percentile(.95).Round(time.Microsecond),
		r.percentile(.99).Round(time.Microsecond), r.percentile(1).Round(time.Microsecond))
	codes := make([]int, 0, len(r.Statuses))
	for c := range r.Statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	fmt.Fprint(w, "statuses:     ")
	for _, c := range codes {
		fmt.Fprintf(w, " %s: %d", strconv.Itoa(c), r.Statuses[c])
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "errors:        %d transport errors\n", r.TransportErrors)
	fmt.Fprintf(w, "acknowledged:  %d (duplicate sequences: %d)\n", r.Acknowledged, r.DuplicateSequences)
	fmt.Fprintf(w, "read back:     %d verified, %d missing, %d changed\n", r.Verified, r.Missing, r.Changed)
}
