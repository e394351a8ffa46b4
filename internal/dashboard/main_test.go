package dashboard_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain bounds rapid's checks to 40 unless -rapid.checks or RAPID_CHECKS
// says otherwise: each check recounts the whole database, which grows with
// every check, on both engines, with -race on two cores.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set && os.Getenv("RAPID_CHECKS") == "" {
		flag.Set("rapid.checks", "40")
	}
	os.Exit(m.Run())
}
