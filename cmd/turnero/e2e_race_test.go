//go:build race

package main

// raceBuild is true when the tests run with -race: the binary under test is
// then built with the race detector too, so that a data race in the server
// under real load fails the test that caused it.
const raceBuild = true
