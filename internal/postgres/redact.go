package postgres

import (
	"net/url"
	"strings"
)

// redactedMask replaces every secret of a database URL.
const redactedMask = "xxxxx"

// RedactURL returns the database URL s as it may be printed: in logs, in
// error messages, in help texts. The password of user:password@ and every
// query parameter that can carry a secret (password, sslpassword, and any
// whose name says password, secret or token) are masked; the rest is kept,
// so that an operator still sees which server, database and options a node
// uses. A string that is not a URL says only that, since which part of it
// is secret cannot be known.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "(a database URL that cannot be read)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), redactedMask)
		}
	}
	if u.RawQuery != "" {
		// Rebuilt by hand, not with url.Values.Encode, which would sort the
		// parameters and change how the URL reads.
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			k, _, _ := strings.Cut(p, "=")
			if name, err := url.QueryUnescape(k); err != nil || secretParameter(name) {
				parts[i] = k + "=" + redactedMask
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	// A fragment is no part of a database URL; whatever is there may be anything.
	if u.Fragment != "" || u.RawFragment != "" {
		u.Fragment, u.RawFragment = redactedMask, ""
	}
	return u.String()
}

func secretParameter(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "password") || strings.Contains(n, "secret") || strings.Contains(n, "token")
}
