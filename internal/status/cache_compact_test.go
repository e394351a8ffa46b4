package status

import (
	"strings"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/turnero"
	"pgregory.net/rapid"
)

// A cached answer keeps only initials, the document's tail and indexes; what
// comes back out is exactly the answer that went in, or it is not cached at
// all, whatever the names and documents.
func TestCachedStatusRoundTrip(t *testing.T) {
	c := campaign.Sample()
	cache := &statusCache{}
	cache.index(c)
	cache.generation = 1
	rapid.Check(t, func(t *rapid.T) {
		name := rapid.StringMatching(`[ A-Za-zÁÉÍÓÚáéíóúÑñÜü'\-]{0,60}`).Draw(t, "name")
		doc := rapid.StringMatching(`[0-9A-Z]{0,12}`).Draw(t, "document")
		in := record{
			Status:         rapid.SampledFrom(cachedStatuses[:]).Draw(t, "status"),
			Sequence:       rapid.Int64Range(1, 1<<50).Draw(t, "sequence"),
			Position:       rapid.Int64Range(0, 1<<40).Draw(t, "position"),
			MaskedName:     turnero.MaskName(name),
			MaskedDocument: turnero.MaskDocument(doc),
			DocumentType:   rapid.SampledFrom(c.DocumentTypes).Draw(t, "document_type").ID,
			Group:          rapid.SampledFrom(c.Groups).Draw(t, "group"),
			Department:     rapid.SampledFrom(c.Departments).Draw(t, "department"),
			ReceivedAt:     time.Unix(0, rapid.Int64Range(0, 1<<62).Draw(t, "received")),
		}
		a, ok := cache.compact(in)
		if !ok {
			if len(strings.Fields(name)) <= maxInitials {
				t.Fatalf("an answer for %q / %q was not cached", name, doc)
			}
			return
		}
		out := cache.status(&a)
		if out.MaskedName != in.MaskedName || out.MaskedDocument != in.MaskedDocument || out.Status != in.Status ||
			out.Sequence != in.Sequence || out.Position != in.Position || out.DocumentType != in.DocumentType ||
			out.Group.ID != in.Group.ID || out.Department.Code != in.Department.Code || !out.ReceivedAt.Equal(in.ReceivedAt) {
			t.Fatalf("cached answer changed:\n in %+v\nout %+v", in, out)
		}
	})
}
