package http

import (
	"bytes"
	"encoding/json"
	"testing"

	"pgregory.net/rapid"
)

// The hand-written status encoder gives exactly the bytes of encoding/json,
// whatever the strings hold: quotes, HTML characters, control characters,
// invalid UTF-8, line and paragraph separators, accents.
func TestStatusJSONMatchesEncodingJSON(t *testing.T) {
	str := rapid.OneOf(
		rapid.String(),
		rapid.StringMatching(`[a-zA-Z0-9 áéíóúñÑü•*'.:-]{0,30}`),
		rapid.SampledFrom([]string{"", `"`, `\`, "<b>&</b>", "\u2028\u2029", "\x00\x1f\t\n\r\b\f", "\xff\xfe", "\ufffd", "Tacuarembó — Paso de los Toros"}),
	)
	appt := rapid.Custom(func(t *rapid.T) appointmentResponse {
		return appointmentResponse{
			Dose: rapid.IntRange(-3, 3).Draw(t, "dose"), CenterID: str.Draw(t, "center_id"),
			CenterName: str.Draw(t, "center_name"), Address: str.Draw(t, "address"), Start: str.Draw(t, "start"),
			Vaccine: str.Draw(t, "vaccine"), State: str.Draw(t, "state"),
		}
	})
	rapid.Check(t, func(t *rapid.T) {
		r := statusResponse{
			TrackingCode: str.Draw(t, "code"), Status: str.Draw(t, "status"), Group: str.Draw(t, "group"),
			GroupName: str.Draw(t, "group_name"), Sequence: rapid.Int64().Draw(t, "sequence"),
			Position: rapid.Int64Range(-2, 1<<40).Draw(t, "position"), Name: str.Draw(t, "name"),
			DocumentType: str.Draw(t, "document_type"), Document: str.Draw(t, "document"),
			Department: str.Draw(t, "department"), ReceivedAt: str.Draw(t, "received_at"),
			NowServing: rapid.Int64Range(-1, 1<<40).Draw(t, "now_serving"), Estimate: str.Draw(t, "estimate"),
			PlaceInLine: placeInLine{Order: str.Draw(t, "order"), AfterCancel: str.Draw(t, "after_cancel"), AfterNoShow: str.Draw(t, "after_no_show")},
		}
		switch rapid.IntRange(0, 2).Draw(t, "appointments") {
		case 0:
			r.Appointments = nil
		case 1:
			r.Appointments = []appointmentResponse{}
		default:
			r.Appointments = rapid.SliceOfN(appt, 1, 3).Draw(t, "list")
		}
		if rapid.Bool().Draw(t, "last_change") {
			r.LastChange = &lastChange{Kind: str.Draw(t, "kind"), At: str.Draw(t, "at"), PlaceInLine: str.Draw(t, "pil"), Text: str.Draw(t, "text")}
		}
		want, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.appendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("hand-written encoder differs from encoding/json:\n got %s\nwant %s", got, want)
		}
	})
}

// The receipt's hand-written encoder, likewise.
func TestReceiptJSONMatchesEncodingJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := receiptResponse{
			TrackingCode: rapid.String().Draw(t, "code"), Sequence: rapid.Int64().Draw(t, "sequence"),
			Status: rapid.String().Draw(t, "status"), Group: rapid.String().Draw(t, "group"),
			Duplicate: rapid.Bool().Draw(t, "duplicate"),
		}
		want, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.appendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("hand-written encoder differs from encoding/json:\n got %s\nwant %s", got, want)
		}
	})
}
