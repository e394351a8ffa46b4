package feed

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/turnero"
)

func TestCursor(t *testing.T) {
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	type g = turnero.FeedGroupCursor
	two := turnero.FeedCursor{Groups: map[string]g{"age-80-plus": {Ordinal: 42, Requeued: 7}, "age-70-79": {Ordinal: 3}}}
	many := turnero.FeedCursor{Groups: map[string]g{}}
	for i := range 40 {
		many.Groups[strings.Repeat("x", 60)+string(rune('a'+i%26))+string(rune('a'+i/26))] = g{Ordinal: 1 << 40, Requeued: 1 << 40}
	}
	for _, tc := range []struct {
		name string
		in   string
		want turnero.FeedCursor
		ok   bool
	}{
		{"empty: the start", "", turnero.FeedCursor{}, true},
		{"a place per group", EncodeCursor(two), two, true},
		{"forty groups of long ids", EncodeCursor(many), many, true},
		{"nothing read yet", EncodeCursor(turnero.FeedCursor{}), turnero.FeedCursor{}, true},
		{"written by hand", raw("s3:age-70-79.3.0,age-80-plus.42.7"), two, true},
		{"the first format: a sequence only", raw("s1:42"), turnero.FeedCursor{Legacy: turnero.FeedLegacyCursor{Sequence: 42}}, true},
		{"the second format: a sequence and a feed position", raw("s2:42.7"),
			turnero.FeedCursor{Legacy: turnero.FeedLegacyCursor{Sequence: 42, Requeued: 7}}, true},
		{"the second format, unresolved, encodes as it was", EncodeCursor(turnero.FeedCursor{Legacy: turnero.FeedLegacyCursor{Sequence: 42, Requeued: 7}}),
			turnero.FeedCursor{Legacy: turnero.FeedLegacyCursor{Sequence: 42, Requeued: 7}}, true},
		{"zeros", raw("s2:0.0"), turnero.FeedCursor{}, true},
		{"negative", raw("s2:-1.0"), turnero.FeedCursor{}, false},
		{"not canonical", raw("s2:042.1"), turnero.FeedCursor{}, false},
		{"one part", raw("s2:42"), turnero.FeedCursor{}, false},
		{"three parts", raw("s2:1.2.3"), turnero.FeedCursor{}, false},
		{"a group without its feed position", raw("s3:age-70-79.3"), turnero.FeedCursor{}, false},
		{"a group twice", raw("s3:age-70-79.3.0,age-70-79.4.0"), turnero.FeedCursor{}, false},
		{"groups out of order", raw("s3:age-80-plus.42.7,age-70-79.3.0"), turnero.FeedCursor{}, false},
		{"not a group id", raw("s3:Age 70.3.0"), turnero.FeedCursor{}, false},
		{"a negative ordinal", raw("s3:age-70-79.-3.0"), turnero.FeedCursor{}, false},
		{"a trailing comma", raw("s3:age-70-79.3.0,"), turnero.FeedCursor{}, false},
		{"unknown version", raw("s4:1.2"), turnero.FeedCursor{}, false},
		{"not base64", "not a cursor!", turnero.FeedCursor{}, false},
		{"too long", raw("s2:1.2") + strings.Repeat("A", maxCursor), turnero.FeedCursor{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := DecodeCursor(tc.in)
			if ok != tc.ok || (ok && !got.Equal(tc.want)) {
				t.Fatalf("DecodeCursor(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
			b, _ := base64.RawURLEncoding.DecodeString(tc.in)
			if ok && strings.HasPrefix(string(b), cursorV3) && EncodeCursor(got) != tc.in {
				t.Fatalf("EncodeCursor(DecodeCursor(%q)) = %q: not canonical", tc.in, EncodeCursor(got))
			}
		})
	}
	if n := len(EncodeCursor(many)); n > maxCursor {
		t.Fatalf("a cursor of forty groups is %d long, over the %d read", n, maxCursor)
	}
}
