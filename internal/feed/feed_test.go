package feed

import (
	"encoding/base64"
	"testing"

	"github.com/turnero/turnero/internal/turnero"
)

func TestCursor(t *testing.T) {
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name string
		in   string
		want turnero.FeedCursor
		ok   bool
	}{
		{"empty: the start", "", turnero.FeedCursor{}, true},
		{"both parts", EncodeCursor(turnero.FeedCursor{Sequence: 42, Requeued: 7}), turnero.FeedCursor{Sequence: 42, Requeued: 7}, true},
		{"the earlier format: a sequence only", raw("s1:42"), turnero.FeedCursor{Sequence: 42}, true},
		{"zeros", raw("s2:0.0"), turnero.FeedCursor{}, true},
		{"negative", raw("s2:-1.0"), turnero.FeedCursor{}, false},
		{"not canonical", raw("s2:042.1"), turnero.FeedCursor{}, false},
		{"one part", raw("s2:42"), turnero.FeedCursor{}, false},
		{"three parts", raw("s2:1.2.3"), turnero.FeedCursor{}, false},
		{"unknown version", raw("s3:1.2"), turnero.FeedCursor{}, false},
		{"not base64", "not a cursor!", turnero.FeedCursor{}, false},
		{"too long", raw("s2:1.2") + string(make([]byte, 64)), turnero.FeedCursor{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := DecodeCursor(tc.in)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Fatalf("DecodeCursor(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}
