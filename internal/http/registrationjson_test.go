package http

import (
	"encoding/json"
	"reflect"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/turnero/turnero/internal/loadtest"
	"github.com/turnero/turnero/internal/turnero"
)

// FuzzDecodeRegistration holds the registration decoder to encoding/json:
// whatever the bytes, when it accepts them encoding/json reads the same
// request from them, once the slow path has put its text in NFC (cleanText);
// and it accepts what real clients send.
func FuzzDecodeRegistration(f *testing.F) {
	for i := range 5 {
		p := loadtest.Person(1, i)
		b, _ := json.Marshal(&p)
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, ` { } `, `{"groups":[]}`, `{"groups":["a","b"]}`, `{"groups":null}`, `{"consent":true}`,
		`{"consent":false,"consent":true}`, `{"Consent":true}`, `{"given_names":"Mar\u00eda"}`, `{"given_names":"María"}`,
		`{"given_names":"Mar\xffa"}`, `{"phone":099123456}`, `{"email":""}`, `{"x":1}`, `{"channel":"web"} x`,
		"{\"locality\":\"a\tb\"}", `{"document_type":"CI",}`, `{"groups":["a",]}`, `[]`, `null`, `{"department":"<&>"}`,
		"{\"given_names\":\"\u2028\"}", `{"consent":tru}`, `{"consent":true `,
		"{\"department\":\"Paysandu\u0301\"}", `{"department":"Paysandu\u0301"}`, "{\"groups\":[\"e\u0301\"]}", "{\"locality\":\"\ufffd\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast, std turnero.RegistrationRequest
		if !decodeRegistration(body, &fast) {
			if !reflect.DeepEqual(fast, turnero.RegistrationRequest{}) {
				t.Fatalf("declined %q but changed the request: %+v", body, fast)
			}
			return
		}
		if err := json.Unmarshal(body, &std); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		if fields := cleanText(&std); fields != nil {
			t.Fatalf("accepted %q, which the slow path refuses: %v", body, fields)
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("%q:\n fast %+v\n  std %+v", body, fast, std)
		}
	})
}

// What the web page, the app and the load generator send is read by the fast
// decoder, not handed to encoding/json.
func TestDecodeRegistrationTakesClientRequests(t *testing.T) {
	p := loadtest.Person(3, 7)
	p.Groups = []string{"health-workers"}
	compact, _ := json.Marshal(&p)
	indented, _ := json.MarshalIndent(&p, "", "  ")
	sample := `{"document_type":"CI","document_number":"1.234.567-2","given_names":"María José","family_names":"Pérez Núñez",
	  "birth_date":"1958-03-14","phone":"+59899123456","email":"","department":"Montevideo","locality":"Pocitos",
	  "groups":[],"channel":"web","consent":true}`
	for _, body := range []string{string(compact), string(indented), sample} {
		var req turnero.RegistrationRequest
		if !decodeRegistration([]byte(body), &req) {
			t.Fatalf("declined a client's request: %s", body)
		}
		var want turnero.RegistrationRequest
		if err := json.Unmarshal([]byte(body), &want); err != nil || !reflect.DeepEqual(req, want) {
			t.Fatalf("decoded %+v, want %+v (%v)", req, want, err)
		}
	}
}

// TestNFCBelowCombiningMarks: nfc's shortcut, that text made only of code
// points below U+0300 is in NFC, holds for every such code point and for
// every pair of them (composition takes two), by norm's own tables.
func TestNFCBelowCombiningMarks(t *testing.T) {
	for r := rune(0); r < 0x300; r++ {
		if !norm.NFC.IsNormalString(string(r)) {
			t.Fatalf("U+%04X is not in NFC", r)
		}
	}
	for a := rune(0x41); a < 0x300; a++ {
		for b := rune(0x41); b < 0x300; b++ {
			if s := string([]rune{a, b}); !norm.NFC.IsNormalString(s) {
				t.Fatalf("U+%04X U+%04X is not in NFC", a, b)
			}
		}
	}
	for _, s := range []string{"María José", "Paysandu\u0301", "e\u0301", "\u0300", "ﬁ", "Å", "\u1100\u1161", "ḗ"} {
		if got, want := nfc(s), norm.NFC.String(s); got != want {
			t.Errorf("nfc(%q) = %q, want %q", s, got, want)
		}
	}
}
