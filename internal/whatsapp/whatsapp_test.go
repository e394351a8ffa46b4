package whatsapp_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/turnero"
	"github.com/turnero/turnero/internal/whatsapp"
)

const (
	token   = "EAAGtest0123456789"
	phoneID = "106540352242922"
)

// graph is a fake of the Graph API on loopback: it checks each request as
// Meta would, keeps its body, and answers by its plan.
type graph struct {
	mu     sync.Mutex
	bodies []map[string]any
	bad    []string
	seq    atomic.Int64
	plan   func() (status int, body string)
}

func (g *graph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(format string, args ...any) {
		g.mu.Lock()
		g.bad = append(g.bad, fmt.Sprintf(format, args...))
		g.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v21.0/"+phoneID+"/messages" {
		fail("%s %s", r.Method, r.URL.Path)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+token {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"A1"}}`)
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		fail("content type %q", r.Header.Get("Content-Type"))
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		fail("body: %v", err)
		return
	}
	g.mu.Lock()
	g.bodies = append(g.bodies, body)
	g.mu.Unlock()
	if g.plan != nil {
		if status, answer := g.plan(); status != 0 {
			w.WriteHeader(status)
			io.WriteString(w, answer)
			return
		}
	}
	to, _ := body["to"].(string)
	fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":"wamid.TEST%06d"}]}`,
		to, to, g.seq.Add(1))
}

func start(t *testing.T, plan func() (int, string)) (*graph, *whatsapp.Client) {
	t.Helper()
	g := &graph{plan: plan}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	cfg, ok, err := whatsapp.ConfigFromEnv(func(k string) string {
		return map[string]string{whatsapp.EnvURL: srv.URL + "/v21.0", whatsapp.EnvToken: token, whatsapp.EnvPhoneNumberID: phoneID}[k]
	})
	if err != nil || !ok {
		t.Fatalf("config: %v %v", ok, err)
	}
	return g, whatsapp.New(cfg, nil)
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSendTemplate(t *testing.T) {
	g, c := start(t, nil)
	m := turnero.NoticeMessage{Kind: turnero.NotifyScheduled, Channel: turnero.ChannelWhatsApp, To: "+59899123456",
		WhatsApp: &turnero.WhatsAppTemplate{Name: "turnero_appointments_scheduled", Language: "es",
			Parameters: []string{"lunes 5 de abril de 2021 10:30", "Vacunatorio \"Norte\" & <Sur>", "K7M2-Q9XP-4TZ"}}}
	id, err := c.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if id != "wamid.TEST000001" {
		t.Errorf("id %q", id)
	}
	want := `{"messaging_product":"whatsapp","recipient_type":"individual","template":{"components":[{"parameters":[` +
		`{"text":"lunes 5 de abril de 2021 10:30","type":"text"},{"text":"Vacunatorio \"Norte\" \u0026 \u003cSur\u003e","type":"text"},` +
		`{"text":"K7M2-Q9XP-4TZ","type":"text"}],"type":"body"}],"language":{"code":"es"},"name":"turnero_appointments_scheduled"},` +
		`"to":"59899123456","type":"template"}`
	if got := jsonOf(t, g.bodies[0]); got != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
	if _, err := c.Send(context.Background(), turnero.NoticeMessage{Kind: turnero.NotifyScheduled, To: "+59899123456"}); err == nil {
		t.Error("sent a notice without a template")
	}
}

func TestSendText(t *testing.T) {
	g, c := start(t, nil)
	id, err := c.SendText(context.Background(), "+59899123456", "Hola. ¿En qué puedo ayudarle?\n1. Registrarme")
	if err != nil || id != "wamid.TEST000001" {
		t.Fatalf("%q %v", id, err)
	}
	want := `{"messaging_product":"whatsapp","recipient_type":"individual","text":{"body":"Hola. ¿En qué puedo ayudarle?\n1. Registrarme","preview_url":false},"to":"59899123456","type":"text"}`
	if got := jsonOf(t, g.bodies[0]); got != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
	for _, body := range []string{"", strings.Repeat("a", whatsapp.MaxTextLength+1)} {
		if _, err := c.SendText(context.Background(), "+59899123456", body); !turnero.IsPermanentDelivery(err) {
			t.Errorf("a text of %d: %v", len(body), err)
		}
	}
	if len(g.bodies) != 1 || len(g.bad) != 0 {
		t.Errorf("%d requests, bad: %v", len(g.bodies), g.bad)
	}
}

func graphError(code int, message string) string {
	return fmt.Sprintf(`{"error":{"message":%q,"type":"OAuthException","code":%d,"error_data":{"messaging_product":"whatsapp","details":"Recipient +59899123456"},"fbtrace_id":"AbC"}}`, message, code)
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		permanent bool
		code      string
	}{
		{"undeliverable", 400, graphError(131026, "(#131026) Message Undeliverable."), true, "131026"},
		{"invalid parameter", 400, graphError(100, "(#100) Invalid parameter"), true, "100"},
		{"outside the 24-hour window", 400, graphError(131047, "Re-engagement message"), true, "131047"},
		{"no such template", 404, graphError(132001, "(#132001) Template name does not exist in the translation"), true, "132001"},
		{"application rate limit", 400, graphError(4, "(#4) Application request limit reached"), false, "4"},
		{"account rate limit", 400, graphError(80007, "(#80007) Rate limit issues"), false, "80007"},
		{"throughput", 400, graphError(130429, "(#130429) Rate limit hit"), false, "130429"},
		{"pair rate limit", 400, graphError(131056, "(#131056) Pair rate limit hit"), false, "131056"},
		{"expired token", 401, graphError(190, "Error validating access token"), false, "190"},
		{"Meta's fault", 500, graphError(131000, "Something went wrong"), false, "131000"},
		{"an unknown code in a 503", 503, graphError(999999, "Service Unavailable"), false, "999999"},
		{"a 502 without JSON", 502, "<html>Bad Gateway</html>", false, "http_502"},
		{"a 400 without JSON", 400, "nope", true, "http_400"},
	}
	for _, tt := range tests {
		_, c := start(t, func() (int, string) { return tt.status, tt.body })
		_, err := c.SendText(context.Background(), "+59899123456", "hola")
		var de *turnero.DeliveryError
		if !errors.As(err, &de) || de.Permanent != tt.permanent || de.Code != tt.code {
			t.Errorf("%s: %v, want permanent %v code %s", tt.name, err, tt.permanent, tt.code)
			continue
		}
		if strings.Contains(de.Reason, "99123456") {
			t.Errorf("%s: the number is in the reason %q", tt.name, de.Reason)
		}
	}
	// Rate limited with Retry-After.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "12")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, graphError(130429, "Rate limit hit"))
	}))
	defer srv.Close()
	cfg, _, _ := whatsapp.ConfigFromEnv(func(k string) string {
		return map[string]string{whatsapp.EnvURL: srv.URL, whatsapp.EnvToken: token, whatsapp.EnvPhoneNumberID: phoneID}[k]
	})
	_, err := whatsapp.New(cfg, nil).SendText(context.Background(), "+59899123456", "hola")
	var de *turnero.DeliveryError
	if !errors.As(err, &de) || de.Permanent || de.RetryAfter != 12*time.Second {
		t.Errorf("429: %+v", err)
	}
	// A wrong token: transient (fix the configuration and it goes).
	fake := httptest.NewServer(&graph{})
	defer fake.Close()
	cfg.BaseURL, cfg.Token = fake.URL+"/v21.0", "wrong"
	if _, err := whatsapp.New(cfg, nil).SendText(context.Background(), "+59899123456", "hola"); err == nil || turnero.IsPermanentDelivery(err) {
		t.Errorf("wrong token: %v", err)
	}
	// Nobody there, and too slow.
	cfg.BaseURL = "http://127.0.0.1:1/v21.0"
	if _, err := whatsapp.New(cfg, nil).SendText(context.Background(), "+59899123456", "hola"); err == nil || turnero.IsPermanentDelivery(err) {
		t.Errorf("connection refused: %v", err)
	}
	_, slow := start(t, func() (int, string) { time.Sleep(300 * time.Millisecond); return 0, "" })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := slow.SendText(ctx, "+59899123456", "hola"); err == nil || turnero.IsPermanentDelivery(err) {
		t.Errorf("timeout: %v", err)
	}
}

// A webhook delivery as Meta posts it, and its signature computed outside
// Go (Python's hmac and hashlib) with appSecret.
const (
	appSecret = "6b1e3c2d9f0a4e5b8c7d6e5f4a3b2c1d"
	delivery  = `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","statuses":[{"id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA","status":"delivered","timestamp":"1617304800","recipient_id":"59899123456"}]},"field":"messages"}]}]}`
	knownSig  = "687011ceeaa41e3c709af45eea597d5bfe56ce451489908116e7324d204fefa6"
)

func TestVerifySignature(t *testing.T) {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(delivery))
	if got := hex.EncodeToString(mac.Sum(nil)); got != knownSig {
		t.Fatalf("the test's own HMAC gives %s, want %s", got, knownSig)
	}
	if !whatsapp.VerifySignature(appSecret, []byte(delivery), "sha256="+knownSig) {
		t.Error("the known signature does not verify")
	}
	for name, ok := range map[string]bool{
		"missing":         whatsapp.VerifySignature(appSecret, []byte(delivery), ""),
		"without sha256=": whatsapp.VerifySignature(appSecret, []byte(delivery), knownSig),
		"sha1=":           whatsapp.VerifySignature(appSecret, []byte(delivery), "sha1="+knownSig),
		"not hex":         whatsapp.VerifySignature(appSecret, []byte(delivery), "sha256=zz"+knownSig[2:]),
		"truncated":       whatsapp.VerifySignature(appSecret, []byte(delivery), "sha256="+knownSig[:32]),
		"another secret":  whatsapp.VerifySignature("another", []byte(delivery), "sha256="+knownSig),
		"no secret":       whatsapp.VerifySignature("", []byte(delivery), "sha256="+knownSig),
		"a changed body":  whatsapp.VerifySignature(appSecret, []byte(strings.Replace(delivery, "delivered", "read", 1)), "sha256="+knownSig),
		"a re-encoded body": whatsapp.VerifySignature(appSecret,
			[]byte(strings.ReplaceAll(delivery, ",", ", ")), "sha256="+knownSig),
	} {
		if ok {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestVerifyChallenge(t *testing.T) {
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"our-token"}, "hub.challenge": {"1158201444"}}
	if c, ok := whatsapp.VerifyChallenge(q, "our-token"); !ok || c != "1158201444" {
		t.Errorf("right token: %q %v", c, ok)
	}
	wrong := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"their-token"}, "hub.challenge": {"1"}}
	unsub := url.Values{"hub.mode": {"unsubscribe"}, "hub.verify_token": {"our-token"}, "hub.challenge": {"1"}}
	for name, q := range map[string]url.Values{"wrong token": wrong, "wrong mode": unsub} {
		if _, ok := whatsapp.VerifyChallenge(q, "our-token"); ok {
			t.Errorf("%s: verified", name)
		}
	}
	if _, ok := whatsapp.VerifyChallenge(url.Values{"hub.mode": {"subscribe"}}, ""); ok {
		t.Error("no configured token verified an empty one")
	}
}

func TestConfigFromEnv(t *testing.T) {
	if _, ok, err := whatsapp.ConfigFromEnv(func(string) string { return "" }); ok || err != nil {
		t.Errorf("nothing set: %v %v", ok, err)
	}
	full := map[string]string{whatsapp.EnvToken: token, whatsapp.EnvPhoneNumberID: phoneID}
	cfg, ok, err := whatsapp.ConfigFromEnv(func(k string) string { return full[k] })
	if err != nil || !ok || cfg.BaseURL != whatsapp.DefaultURL {
		t.Errorf("defaults: %+v %v %v", cfg, ok, err)
	}
	for _, tt := range []struct{ setting, value string }{
		{whatsapp.EnvURL, "http://graph.example.com/v21.0"},
		{whatsapp.EnvURL, "graph.facebook.com"},
		{whatsapp.EnvToken, ""},
		{whatsapp.EnvPhoneNumberID, ""},
		{whatsapp.EnvPhoneNumberID, "+59899123456"},
	} {
		env := map[string]string{}
		for k, v := range full {
			env[k] = v
		}
		env[tt.setting] = tt.value
		_, _, err := whatsapp.ConfigFromEnv(func(k string) string { return env[k] })
		var se *turnero.SettingError
		if !errors.As(err, &se) || se.Setting != tt.setting {
			t.Errorf("%s=%q: %v", tt.setting, tt.value, err)
		}
	}
}
