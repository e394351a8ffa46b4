// Command dashboard measures the ministry's figures (issue 13) on a large
// database, for BENCHMARKS.md (bench/dashboard.sh runs it):
//
//	go run ./bench/dashboard fill -data DIR -keys FILE -n 2800000
//	go run ./bench/dashboard probe -url http://127.0.0.1:18180 -token T -for 60s
//	go run ./bench/dashboard wait -url ... -token T -n 2800000
//
// fill writes N synthetic registrations straight into a SQLite database (as
// intake would: validated, sealed, in batches of 1,000), their arrival
// spread over a launch evening and the weeks after. probe reads every
// figure over and over and prints each one's latency percentiles. wait
// polls until the figures count N registrations and prints how long it took.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/loadtest"
	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/turnero"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: dashboard fill|probe|wait ...")
	}
	var err error
	switch os.Args[1] {
	case "fill":
		err = fill(os.Args[2:])
	case "probe":
		err = probe(os.Args[2:])
	case "wait":
		err = wait(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}

var localities = []string{"", "Centro", "Pocitos", "Ciudad de la Costa", "Las Piedras", "Salto", "Rivera", "Maldonado", "Paysandú"}

func fill(args []string) error {
	fs := flag.NewFlagSet("fill", flag.ExitOnError)
	data := fs.String("data", "", "data directory (created)")
	keyFile := fs.String("keys", "", "key file (created if missing)")
	n := fs.Int("n", 2_800_000, "registrations")
	fs.Parse(args)
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(*keyFile); err != nil {
		if err := pii.WriteKeyFile(*keyFile, "bench"); err != nil {
			return err
		}
	}
	keys, err := pii.LoadKeyFile(*keyFile)
	if err != nil {
		return err
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(*data, "turnero.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	c := campaign.Sample()
	// The launch evening: 21 March 2021 from 19:00, half of everyone in
	// the first six hours, the rest over four weeks.
	launch := time.Date(2021, 3, 21, 19, 0, 0, 0, c.Location)
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	batch := make([]turnero.NewRegistration, 0, 1000)
	flush := func() error {
		out, err := db.InsertRegistrations(ctx, batch)
		if err != nil {
			return err
		}
		for _, o := range out {
			if o.Err != nil {
				return o.Err
			}
		}
		batch = batch[:0]
		return nil
	}
	for i := 0; i < *n; i++ {
		req := loadtest.Person(42, i)
		req.Locality = localities[r.IntN(len(localities))]
		var at time.Time
		if i < *n/2 {
			at = launch.Add(time.Duration(float64(6*time.Hour) * float64(i) / float64(*n/2)))
		} else {
			at = launch.Add(6*time.Hour + time.Duration(r.Int64N(int64(28*24*time.Hour))))
		}
		a, err := c.ValidateRegistration(&req, launch)
		if err != nil {
			return fmt.Errorf("person %d: %w", i, err)
		}
		p := &a.Personal
		dh := keys.DocumentHash(p.DocumentType, p.Document)
		kid, sealed := keys.Seal(p, dh)
		batch = append(batch, turnero.NewRegistration{DocumentHash: dh, IdentityHash: keys.IdentityHash(p.DocumentType, p.Document, p.BirthDate),
			Group: a.Group, Department: a.Department, Age: a.Age, Channel: []string{"web", "web", "web", "whatsapp", "app", "phone"}[r.IntN(6)],
			KeyID: kid, Sealed: sealed, ReceivedAt: at})
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
		if i > 0 && i%500_000 == 0 {
			fmt.Fprintf(os.Stderr, "%d registrations, %s\n", i, time.Since(start).Round(time.Second))
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	fmt.Printf("filled %d registrations in %s\n", *n, time.Since(start).Round(time.Second))
	return nil
}

var figures = []string{
	"/v1/dashboard/willingness",
	"/v1/dashboard/departments/UY-MO/localities",
	"/v1/dashboard/registrations",
	"/v1/dashboard/registrations/series?from=2021-03-21T19:00:00-03:00&to=2021-03-22T19:00:00-03:00&step=minute",
	"/v1/dashboard/registrations/series",
	"/v1/dashboard/line",
	"/v1/dashboard/capacity",
	"/v1/dashboard/costs",
	"/v1/dashboard/willingness?format=csv",
}

func get(client *http.Client, url, token string) (time.Duration, []byte, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	t := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t)
	if resp.StatusCode != 200 {
		return d, b, fmt.Errorf("%s: %d %s", url, resp.StatusCode, b)
	}
	return d, b, err
}

func probe(args []string) error {
	fs := flag.NewFlagSet("probe", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:18180", "base URL")
	token := fs.String("token", "", "an analyst token")
	dur := fs.Duration("for", time.Minute, "how long")
	fs.Parse(args)
	client := &http.Client{Timeout: 10 * time.Second}
	lat := map[string][]time.Duration{}
	end := time.Now().Add(*dur)
	for time.Now().Before(end) {
		for _, f := range figures {
			d, _, err := get(client, *url+f, *token)
			if err != nil {
				return err
			}
			lat[f] = append(lat[f], d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Printf("%-100s %6s %8s %8s %8s\n", "figure", "n", "p50", "p99", "max")
	for _, f := range figures {
		l := lat[f]
		slices.Sort(l)
		q := func(p float64) time.Duration { return l[min(len(l)-1, int(p*float64(len(l))))] }
		fmt.Printf("%-100s %6d %8s %8s %8s\n", f, len(l), q(0.5).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond),
			l[len(l)-1].Round(10*time.Microsecond))
	}
	return nil
}

func wait(args []string) error {
	fs := flag.NewFlagSet("wait", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:18180", "base URL")
	token := fs.String("token", "", "an analyst token")
	n := fs.Int64("n", 0, "registrations to wait for")
	fs.Parse(args)
	client := &http.Client{Timeout: 10 * time.Second}
	start := time.Now()
	for {
		_, b, err := get(client, *url+"/v1/dashboard/registrations", *token)
		if err == nil {
			var v struct{ Total int64 }
			if json.Unmarshal(b, &v) == nil && v.Total >= *n {
				fmt.Printf("the figures count %d registrations after %s\n", v.Total, time.Since(start).Round(100*time.Millisecond))
				return nil
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
}
