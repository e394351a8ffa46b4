package postgres_test

import (
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/postgres"
)

// TestRedactURL: no form of a password in a database URL survives RedactURL,
// and what an operator needs to see (user, hosts, database, options) does.
func TestRedactURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"postgres://turnero@db:5432/turnero?sslmode=verify-full", "postgres://turnero@db:5432/turnero?sslmode=verify-full"},
		{"postgres://turnero:S3cret@db:5432/turnero", "postgres://turnero:xxxxx@db:5432/turnero"},
		{"postgres://turnero@db/turnero?sslmode=disable&password=S3cret", "postgres://turnero@db/turnero?sslmode=disable&password=xxxxx"},
		{"postgresql://u@db/t?PASSWORD=S3cret&search_path=turnero", "postgresql://u@db/t?PASSWORD=xxxxx&search_path=turnero"},
		{"postgres://u@db/t?pass%77ord=S3cret", "postgres://u@db/t?pass%77ord=xxxxx"},
		{"postgres://u@db/t?sslpassword=S3cret&sslkey=/etc/k.pem", "postgres://u@db/t?sslpassword=xxxxx&sslkey=/etc/k.pem"},
		{"postgres://u:p1@pg1:5432,pg2:5432/t?target_session_attrs=read-write&password=S3cret",
			"postgres://u:xxxxx@pg1:5432,pg2:5432/t?target_session_attrs=read-write&password=xxxxx"},
		{"postgres://u@db/t?api_token=S3cret", "postgres://u@db/t?api_token=xxxxx"},
		{"postgres://u@db/t?%zz=S3cret", "postgres://u@db/t?%zz=xxxxx"},
		{"postgres://u@db/t#S3cret", "postgres://u@db/t#xxxxx"},
		{"host=db user=u password=S3cret", "(a database URL that cannot be read)"},
		{"postgres://u:S3cret@db:port/t", "(a database URL that cannot be read)"},
	} {
		got := postgres.RedactURL(tc.in)
		if got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "S3cret") {
			t.Errorf("RedactURL(%q) = %q: the secret is there", tc.in, got)
		}
	}
}
