// Command targets writes vegeta JSON targets: one registration of a distinct
// synthetic person per line, for open-loop latency runs at a fixed rate.
//
//	go run ./bench/targets -url http://127.0.0.1:8080 -n 60000 -seed 7 > targets.json
//	vegeta attack -format=json -targets=targets.json -rate=2000 -duration=30s | vegeta report
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"flag"
	"log"
	"os"

	"github.com/turnero/turnero/internal/loadtest"
)

type target struct {
	Method string              `json:"method"`
	URL    string              `json:"url"`
	Body   string              `json:"body"`
	Header map[string][]string `json:"header"`
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "base URL")
	n := flag.Int("n", 60000, "number of distinct people")
	seed := flag.Int64("seed", 7, "seed of the synthetic people")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	header := map[string][]string{"Content-Type": {"application/json"}}
	for i := 0; i < *n; i++ {
		p := loadtest.Person(*seed, i)
		body, err := json.Marshal(&p)
		if err != nil {
			log.Fatal(err)
		}
		if err := enc.Encode(target{Method: "POST", URL: *url + "/v1/registrations",
			Body: base64.StdEncoding.EncodeToString(body), Header: header}); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
}
