//go:build !unix

package pgtest

// flock is a no-op where there are no advisory file locks: tests that restart
// PostgreSQL only run on Linux CI anyway.
func flock(string, bool) (func(), error) { return func() {}, nil }
