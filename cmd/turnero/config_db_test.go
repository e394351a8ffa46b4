package main

import (
	"io"
	"strings"
	"testing"
)

// TestServeConfigDB: the PostgreSQL setting is checked at start-up, with a
// message naming the setting, and it needs a shared key file.
func TestServeConfigDB(t *testing.T) {
	t.Setenv("TURNERO_DB", "")
	t.Setenv("TURNERO_DATA", "")
	t.Setenv("TURNERO_KEY_FILE", "")
	const url = "postgres://turnero@db.example:5432/turnero?sslmode=verify-full"
	cases := []struct {
		name string
		args []string
		env  string // TURNERO_DB
		want string // in the error; empty for none
	}{
		{"sqlite by default", []string{"--data", "d"}, "", ""},
		{"postgres with a key file", []string{"--db", url, "--key-file", "k"}, "", ""},
		{"postgres from the environment", []string{"--key-file", "k"}, url, ""},
		{"postgres without a key file", []string{"--db", url, "--data", "d"}, "", "setting key-file"},
		{"not a postgres URL", []string{"--db", "mysql://x@y/z", "--key-file", "k"}, "", "setting db"},
		{"not a URL", []string{"--db", "host=db user=x", "--key-file", "k"}, "", "setting db"},
		{"durability turned off", []string{"--db", url + "&synchronous_commit=off", "--key-file", "k"}, "", "setting db"},
		{"neither data nor db", nil, "", "setting data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("TURNERO_DB", c.env)
			cfg, err := parseServeConfig(c.args, io.Discard, io.Discard)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one naming %q", err, c.want)
			case c.want == "" && strings.Contains(strings.Join(c.args, " ")+c.env, "postgres") && cfg.DB != url:
				t.Fatalf("DB = %q, want %q", cfg.DB, url)
			}
		})
	}
}
