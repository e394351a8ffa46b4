package intake_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/loadtest"
	"github.com/turnero/turnero/internal/pii"
	"github.com/turnero/turnero/internal/turnero"
)

func benchKeys(b *testing.B) *pii.Keyring {
	path := filepath.Join(b.TempDir(), "keys")
	if err := pii.WriteKeyFile(path, "bench"); err != nil {
		b.Fatal(err)
	}
	k, err := pii.LoadKeyFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

var sink any

// The pieces of the registration hot path, each on its own, to know where a
// request's CPU goes.
func BenchmarkHotPathPieces(b *testing.B) {
	c := campaign.Sample()
	keys := benchKeys(b)
	p := loadtest.Person(1, 1)
	body, _ := json.Marshal(&p)
	now := time.Now()
	b.Run("json_decode", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var r turnero.RegistrationRequest
			if err := json.Unmarshal(body, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("validate", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			a, err := c.ValidateRegistration(&p, now)
			if err != nil {
				b.Fatal(err)
			}
			sink = a
		}
	})
	a, _ := c.ValidateRegistration(&p, now)
	b.Run("seal", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_, s := keys.Seal(&a.Personal, []byte("0123456789abcdef"))
			sink = s
		}
	})
	b.Run("hashes", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sink = keys.DocumentHash(a.Personal.DocumentType, a.Personal.Document)
			sink = keys.IdentityHash(a.Personal.DocumentType, a.Personal.Document, a.Personal.BirthDate)
		}
	})
	b.Run("tracking_code", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sink = keys.TrackingCode(int64(i))
		}
	})
}
