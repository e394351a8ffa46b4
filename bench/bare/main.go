// Command bare is the baseline of the intake benchmarks: a net/http server
// whose handler only reads the request body and answers 202 with a small JSON
// body. turnero's figures are reported as a ratio of this one, measured with
// the same load generator and settings in the same run.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "address to listen on")
	flag.Parse()
	body := []byte(`{"tracking_code":"0000-0000-000","sequence":1,"status":"waiting","group":"g","duplicate":false}` + "\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		w.Write(body)
	})
	log.Fatal(http.ListenAndServe(*addr, h))
}
