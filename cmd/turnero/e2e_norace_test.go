//go:build !race

package main

// raceBuild is false when the tests run without -race (see e2e_race_test.go).
const raceBuild = false
