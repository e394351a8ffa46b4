package http_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/enginetest"
)

// TestNoPersonalDataAtRest registers synthetic people through the API, then
// reads the raw bytes of the database and its write-ahead log, while open and
// after closing, and finds none of their personal data in clear, in any of the
// forms it was typed or stored in. The logs hold none of it either.
func TestNoPersonalDataAtRest(t *testing.T) {
	s := newTestServer(t, enginetest.SQLite)
	people := []struct {
		req     map[string]any
		needles []string
	}{
		{
			with(person(0), "given_names", "Zenobia Eustaquia", "family_names", "Quiroga Vallejo",
				"phone", "099 876 543", "email", "zenobia.quiroga@example.com", "locality", "Barrio Xilófono"),
			[]string{"1.234.567-2", "12345672", "1234567-2", "1234567", "Zenobia", "Eustaquia", "Quiroga", "Vallejo",
				"Zenobia Eustaquia", "099 876 543", "099876543", "99876543", "+59899876543", "59899876543",
				"zenobia.quiroga@example.com", "zenobia.quiroga", "1958-03-14", "19580314", "Xilófono"},
		},
		{
			map[string]any{"document_type": "CI", "document_number": "4444444-4", "given_names": "Anacleto",
				"family_names": "D’Ambrosio-Ñúñez", "birth_date": "1947-11-02", "phone": "+598 94 321 987",
				"email": "", "department": "paysandu", "locality": "", "groups": []string{}, "channel": "whatsapp", "consent": true},
			[]string{"4444444-4", "44444444", "4.444.444-4", "4444444", "Anacleto", "D’Ambrosio", "D'Ambrosio", "Ambrosio",
				"Ñúñez", "+598 94 321 987", "+59894321987", "59894321987", "94321987", "1947-11-02", "19471102"},
		},
		{
			map[string]any{"document_type": "PASSPORT", "document_number": "xq-778.812", "given_names": "Wilhelmina",
				"family_names": "Brzęczyszczykiewicz", "birth_date": "1990-07-23", "phone": "+49 1512 3456789",
				"email": "wilhelmina.b@example.org", "department": "Maldonado", "locality": "Punta Ballena",
				"groups": []string{"health-workers"}, "channel": "web", "consent": true},
			[]string{"xq-778.812", "XQ778812", "xq778812", "778812", "Wilhelmina", "Brzęczyszczykiewicz", "+49 1512 3456789",
				"+4915123456789", "4915123456789", "15123456789", "wilhelmina.b@example.org", "wilhelmina.b", "1990-07-23",
				"19900723", "Punta Ballena"},
		},
		{
			map[string]any{"document_type": "FOREIGN", "document_number": "RUT 7731-9920", "given_names": "Eufrasio",
				"family_names": "Larrañaga", "birth_date": "2007-12-05", "phone": "", "email": "eufrasio.l@example.net",
				"department": "UY-RO", "locality": "La Paloma", "groups": []string{}, "channel": "app", "consent": true},
			[]string{"RUT 7731-9920", "RUT77319920", "77319920", "7731-9920", "Eufrasio", "Larrañaga", "eufrasio.l@example.net",
				"eufrasio.l", "2007-12-05", "20071205", "La Paloma"},
		},
	}
	for _, p := range people {
		receiptOf(t, s.register(t, p.req), http.StatusAccepted)
	}
	// The same people again, written differently, and a clash: their data is
	// never written for a duplicate, but the test would see it if it were.
	receiptOf(t, s.register(t, with(people[0].req, "document_number", "12345672")), http.StatusOK)
	if r := s.register(t, with(people[1].req, "birth_date", "1947-11-03")); r.status != http.StatusConflict {
		t.Fatalf("clash: %s", r)
	}
	people[1].needles = append(people[1].needles, "1947-11-03", "19471103")

	var all []string
	for _, p := range people {
		all = append(all, p.needles...)
	}
	read := func(when string) map[string][]byte {
		files := map[string][]byte{}
		entries, err := os.ReadDir(s.dataDir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(s.dataDir, e.Name()))
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			files[e.Name()] = b
		}
		return files
	}
	check := func(when string, files map[string][]byte) {
		for name, b := range files {
			for _, needle := range all {
				for _, form := range []string{needle, strings.ToUpper(needle), strings.ToLower(needle)} {
					if bytes.Contains(b, []byte(form)) {
						t.Errorf("%s: %s contains %q in clear", when, name, form)
					}
				}
			}
		}
	}
	open := read("while open")
	// The search itself works on these files: what is not personal data is
	// there in clear (the group and department of each registration).
	var wal, db []byte
	for name, b := range open {
		switch {
		case strings.HasSuffix(name, "-wal"):
			wal = b
		case name == "turnero.db":
			db = b
		}
	}
	if len(db) == 0 {
		t.Fatalf("no turnero.db in %s: %v", s.dataDir, keys(open))
	}
	if !bytes.Contains(append(bytes.Clone(db), wal...), []byte("health-workers")) {
		t.Fatalf("the registrations are not in the files read (%v): the test reads the wrong files", keys(open))
	}
	check("while open", open)
	t.Logf("read while open: %v", keys(open))

	s.shutdown(t)
	closed := read("after closing")
	check("after closing", closed)
	if b := closed["turnero.db"]; !bytes.Contains(b, []byte("health-workers")) {
		t.Fatalf("after closing, turnero.db does not hold the registrations (%d bytes)", len(b))
	}
	// Nor in the logs.
	logs := s.logs.String()
	for _, needle := range all {
		if strings.Contains(logs, needle) {
			t.Errorf("the logs contain %q", needle)
		}
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+" ("+strconv.Itoa(len(v))+" bytes)")
	}
	return out
}
