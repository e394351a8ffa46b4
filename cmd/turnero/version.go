package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/sqlite"
)

// version is the release, set when building one:
//
//	go build -ldflags "-X main.version=v1.3.0" ./cmd/turnero
//
// Without it the module version is used (go install ...@v1.3.0), or the
// commit when the build recorded it.
var version string

func binaryVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	v := "devel-" + rev[:min(12, len(rev))]
	if dirty {
		v += "-dirty"
	}
	return v
}

// cmdVersion prints the binary's version and the schema versions it brings
// each engine to: an operator compares them with the CHANGELOG's upgrade
// notes, and a binary refuses a database whose schema is newer.
func cmdVersion(stdout io.Writer) error {
	_, err := fmt.Fprintf(stdout, "turnero %s (%s %s/%s)\nschema versions: SQLite %d, PostgreSQL %d\n",
		binaryVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH, sqlite.SchemaVersion(), postgres.SchemaVersion())
	return err
}
