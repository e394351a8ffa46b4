package twilio_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/turnero"
	"github.com/turnero/turnero/internal/twilio"
)

const (
	sid      = "AC0123456789abcdef0123456789abcdef"
	token    = "9f86d081884c7d659a2feaa0c55ad015"
	callback = "https://turnero.example.gub.uy/v1/callbacks/sms"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var now = time.Date(2021, 4, 1, 12, 0, 0, 0, time.UTC)

// gateway is a fake SMS gateway on loopback speaking Twilio's wire format.
// It checks every request as Twilio would, and answers by its plan.
type gateway struct {
	t *testing.T
	// plan answers the n-th request (from 1) of a message body; nil
	// accepts.
	plan func(n int, form url.Values) (status int, body string, header http.Header)
	mu   sync.Mutex
	// tries and accepted count requests and acceptances by body.
	tries    map[string]int
	accepted map[string]int
	bad      []string // what was wrong with requests
	seq      atomic.Int64
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(format string, args ...any) {
		g.mu.Lock()
		g.bad = append(g.bad, fmt.Sprintf(format, args...))
		g.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+sid+"/Messages.json" {
		fail("%s %s", r.Method, r.URL.Path)
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != sid || p != token {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		fail("content type %q", ct)
		return
	}
	if err := r.ParseForm(); err != nil {
		fail("form: %v", err)
		return
	}
	f := r.PostForm
	if f.Get("To") == "" || f.Get("Body") == "" || (f.Get("From") == "") == (f.Get("MessagingServiceSid") == "") {
		fail("form %v", f)
		return
	}
	body := f.Get("Body")
	g.mu.Lock()
	g.tries[body]++
	n := g.tries[body]
	g.mu.Unlock()
	status, answer, header := http.StatusCreated, "", http.Header{}
	if g.plan != nil {
		status, answer, header = g.plan(n, f)
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusCreated && answer == "" {
		id := fmt.Sprintf("SM%032x", g.seq.Add(1))
		b, _ := json.Marshal(map[string]any{"sid": id, "account_sid": sid, "status": "queued", "to": f.Get("To"),
			"from": f.Get("From"), "body": body, "error_code": nil, "error_message": nil, "num_segments": "1"})
		answer = string(b)
		g.mu.Lock()
		g.accepted[body]++
		g.mu.Unlock()
	}
	w.WriteHeader(status)
	w.Write([]byte(answer))
}

func startGateway(t *testing.T, plan func(n int, form url.Values) (int, string, http.Header)) (*gateway, *twilio.Client, twilio.Config) {
	t.Helper()
	g := &gateway{t: t, plan: plan, tries: map[string]int{}, accepted: map[string]int{}}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	cfg, ok, err := twilio.ConfigFromEnv(func(k string) string {
		return map[string]string{twilio.EnvURL: srv.URL, twilio.EnvAccountSID: sid, twilio.EnvAuthToken: token,
			twilio.EnvFrom: "+59898000000", twilio.EnvCallbackURL: callback}[k]
	})
	if err != nil || !ok {
		t.Fatalf("config: %v %v", ok, err)
	}
	return g, twilio.New(cfg, nil, fixedClock{now}), cfg
}

func sms(body string) turnero.NoticeMessage {
	return turnero.NoticeMessage{Kind: turnero.NotifyScheduled, Channel: turnero.ChannelSMS, To: "+59899123456", Text: body}
}

func TestSendAccepted(t *testing.T) {
	var form url.Values
	var mu sync.Mutex
	g, c, _ := startGateway(t, func(n int, f url.Values) (int, string, http.Header) {
		mu.Lock()
		form = f
		mu.Unlock()
		return http.StatusCreated, "", nil
	})
	id, err := c.Send(context.Background(), sms("Su turno: lunes 10:30"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "SM") || len(id) != 34 {
		t.Errorf("sid %q", id)
	}
	if form.Get("To") != "+59899123456" || form.Get("From") != "+59898000000" || form.Get("Body") != "Su turno: lunes 10:30" ||
		form.Get("StatusCallback") != callback || form.Has("MessagingServiceSid") {
		t.Errorf("form %v", form)
	}
	if len(g.bad) != 0 {
		t.Errorf("bad requests: %v", g.bad)
	}
}

// TestSendThroughFailures sends many messages at once through a gateway
// that fails a share of requests with 500 and 429 (with Retry-After) and
// answers some slowly, retrying each by the retry policy: every message is
// accepted exactly once.
func TestSendThroughFailures(t *testing.T) {
	var fails500, fails429, slow atomic.Int64
	g, c, _ := startGateway(t, func(n int, f url.Values) (int, string, http.Header) {
		// The same body gets the same fate on its n-th try; about a third
		// of first tries fail, a few second tries too.
		h := 0
		for _, b := range []byte(f.Get("Body")) {
			h = h*31 + int(b)
		}
		switch (h + n*7) % 10 {
		case 0, 1:
			fails500.Add(1)
			return http.StatusInternalServerError, `{"code":20500,"message":"Internal Server Error","status":500}`, nil
		case 2:
			fails429.Add(1)
			return http.StatusTooManyRequests, `{"code":20429,"message":"Too Many Requests","status":429}`,
				http.Header{"Retry-After": {"0"}}
		case 3:
			slow.Add(1)
			time.Sleep(30 * time.Millisecond)
		}
		return http.StatusCreated, "", nil
	})
	policy := turnero.RetryPolicy{Base: time.Millisecond, Cap: 5 * time.Millisecond, MaxAttempts: 20}
	const messages, workers = 600, 32
	work := make(chan int)
	var wg sync.WaitGroup
	var gaveUp atomic.Int64
	ids := sync.Map{}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range work {
				for attempt := 1; ; attempt++ {
					id, err := c.Send(context.Background(), sms(fmt.Sprintf("Mensaje %d", i)))
					if err == nil {
						if _, dup := ids.LoadOrStore(id, i); dup {
							t.Errorf("sid %s given twice", id)
						}
						break
					}
					d := policy.Decide(err, attempt, rnd)
					if !d.Retry {
						gaveUp.Add(1)
						t.Errorf("message %d: gave up: %s", i, d.Reason)
						break
					}
					time.Sleep(d.After)
				}
			}
		}()
	}
	for i := range messages {
		work <- i
	}
	close(work)
	wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.accepted) != messages || gaveUp.Load() != 0 {
		t.Errorf("%d messages accepted of %d", len(g.accepted), messages)
	}
	for body, n := range g.accepted {
		if n != 1 {
			t.Errorf("%q accepted %d times", body, n)
		}
	}
	// The plan did fail and delay requests: the test exercised them.
	if fails500.Load() < messages/10 || fails429.Load() < messages/20 || slow.Load() < messages/20 {
		t.Errorf("500: %d, 429: %d, slow: %d", fails500.Load(), fails429.Load(), slow.Load())
	}
	if len(g.bad) != 0 {
		t.Errorf("bad requests: %v", g.bad[:min(len(g.bad), 5)])
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		header     http.Header
		permanent  bool
		code       string
		retryAfter time.Duration
	}{
		{"invalid To", 400, `{"code":21211,"message":"The 'To' number +59899123456 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`,
			nil, true, "21211", 0},
		{"not a mobile", 400, `{"code":21614,"message":"'To' number is not a valid mobile number","status":400}`, nil, true, "21614", 0},
		{"unsubscribed", 400, `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`, nil, true, "21610", 0},
		{"the sender's queue is full", 400, `{"code":21611,"message":"This 'From' number has exceeded the maximum number of queued messages","status":400}`, nil, false, "21611", 0},
		{"rate limited, seconds", 429, `{"code":20429,"message":"Too Many Requests","status":429}`, http.Header{"Retry-After": {"7"}}, false, "20429", 7 * time.Second},
		{"rate limited, a date", 429, `{"code":20429,"message":"Too Many Requests","status":429}`,
			http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, false, "20429", 90 * time.Second},
		{"server error", 500, `{"code":20500,"message":"Internal Server Error","status":500}`, nil, false, "20500", 0},
		{"bad gateway, not JSON", 502, `<html>Bad Gateway</html>`, http.Header{"Retry-After": {"soon"}}, false, "http_502", 0},
		{"wrong credentials", 401, `{"code":20003,"message":"Authenticate","status":401}`, nil, false, "20003", 0},
		{"unknown account", 404, `{"code":20404,"message":"The requested resource was not found","status":404}`, nil, false, "20404", 0},
		{"another 4xx", 422, `{"message":"Unprocessable"}`, nil, true, "http_422", 0},
	}
	for _, tt := range tests {
		_, c, _ := startGateway(t, func(int, url.Values) (int, string, http.Header) { return tt.status, tt.body, tt.header })
		_, err := c.Send(context.Background(), sms("x"))
		var de *turnero.DeliveryError
		if !errors.As(err, &de) || de.Permanent != tt.permanent || de.Code != tt.code || de.RetryAfter != tt.retryAfter {
			t.Errorf("%s: %+v, want permanent %v code %s retry after %s", tt.name, err, tt.permanent, tt.code, tt.retryAfter)
			continue
		}
		if strings.Contains(de.Reason, "99123456") {
			t.Errorf("%s: the number is in the reason %q", tt.name, de.Reason)
		}
	}

	// A gateway that does not answer in time, and one that is not there.
	_, c, cfg := startGateway(t, func(int, url.Values) (int, string, http.Header) {
		time.Sleep(300 * time.Millisecond)
		return http.StatusCreated, "", nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Send(ctx, sms("slow")); err == nil || turnero.IsPermanentDelivery(err) {
		t.Errorf("timeout: %v", err)
	}
	cfg.BaseURL = "http://127.0.0.1:1"
	if _, err := twilio.New(cfg, nil, fixedClock{now}).Send(context.Background(), sms("x")); err == nil || turnero.IsPermanentDelivery(err) {
		t.Errorf("connection refused: %v", err)
	}
	// Accepted without a sid: transient, not a success.
	_, c, _ = startGateway(t, func(int, url.Values) (int, string, http.Header) { return 201, `{"status":"queued"}`, nil })
	if _, err := c.Send(context.Background(), sms("x")); err == nil || turnero.IsPermanentDelivery(err) {
		t.Errorf("no sid: %v", err)
	}
}

func TestMessagingServiceAndNoCallback(t *testing.T) {
	var form url.Values
	var mu sync.Mutex
	_, _, cfg := startGateway(t, nil)
	g := &gateway{t: t, tries: map[string]int{}, accepted: map[string]int{}, plan: func(_ int, f url.Values) (int, string, http.Header) {
		mu.Lock()
		form = f
		mu.Unlock()
		return http.StatusCreated, "", nil
	}}
	srv := httptest.NewServer(g)
	defer srv.Close()
	cfg.BaseURL, cfg.From, cfg.CallbackURL = srv.URL, "MG"+strings.Repeat("a", 32), ""
	if _, err := twilio.New(cfg, nil, fixedClock{now}).Send(context.Background(), sms("x")); err != nil {
		t.Fatal(err)
	}
	if form.Get("MessagingServiceSid") != cfg.From || form.Has("From") || form.Has("StatusCallback") {
		t.Errorf("form %v", form)
	}
}

// independentSignature is Twilio's algorithm written again, separately
// from the package, for the test's vectors.
func independentSignature(key, u string, params map[string]string) string {
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	s := u
	for _, k := range names {
		s += k + params[k]
	}
	mac := hmac.New(sha1.New, []byte(key))
	mac.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// A status callback as Twilio posts it.
var receiptParams = map[string]string{
	"AccountSid": sid, "ApiVersion": "2010-04-01", "ErrorCode": "30003", "From": "+15005550006",
	"MessageSid": "SM2f1c3b1e0a9d4c7e8b6a5f4e3d2c1b0a", "MessageStatus": "undelivered",
	"SmsSid": "SM2f1c3b1e0a9d4c7e8b6a5f4e3d2c1b0a", "SmsStatus": "undelivered", "To": "+59899123456",
}

// knownSignature was computed outside Go (Python's hmac and hashlib) for
// receiptParams posted to callback with token.
const knownSignature = "kB/MiTUB7brlTMEqDboeWdF/Sx4="

func TestSignature(t *testing.T) {
	params := url.Values{}
	for k, v := range receiptParams {
		params.Set(k, v)
	}
	if got := independentSignature(token, callback, receiptParams); got != knownSignature {
		t.Fatalf("the test's own algorithm gives %s, want %s", got, knownSignature)
	}
	if got := twilio.Signature(token, callback, params); got != knownSignature {
		t.Errorf("Signature = %s, want %s", got, knownSignature)
	}
	if !twilio.VerifySignature(token, callback, params, knownSignature) {
		t.Error("the known signature does not verify")
	}
	tampered := url.Values{}
	for k, v := range params {
		tampered[k] = v
	}
	tampered.Set("MessageStatus", "delivered")
	for name, ok := range map[string]bool{
		"missing":              twilio.VerifySignature(token, callback, params, ""),
		"another token":        twilio.VerifySignature("another-token", callback, params, knownSignature),
		"another URL":          twilio.VerifySignature(token, "http://turnero.example.gub.uy/v1/callbacks/sms", params, knownSignature),
		"a changed parameter":  twilio.VerifySignature(token, callback, tampered, knownSignature),
		"a truncated one":      twilio.VerifySignature(token, callback, params, knownSignature[:20]),
		"no token (no config)": twilio.VerifySignature("", callback, params, knownSignature),
	} {
		if ok {
			t.Errorf("%s: verified", name)
		}
	}
}

func callbackRequest(params map[string]string, signature string) *http.Request {
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	r := httptest.NewRequest(http.MethodPost, "http://10.0.0.5:8080/v1/callbacks/sms", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		r.Header.Set(twilio.SignatureHeader, signature)
	}
	return r
}

// TestReceipt: a callback is checked against the configured public URL,
// whatever Host the proxy in front of turnero forwarded.
func TestReceipt(t *testing.T) {
	_, c, _ := startGateway(t, nil)
	rc, err := c.Receipt(callbackRequest(receiptParams, knownSignature))
	if err != nil {
		t.Fatal(err)
	}
	if rc.ProviderID != "SM2f1c3b1e0a9d4c7e8b6a5f4e3d2c1b0a" || rc.State != turnero.DeliveryUndelivered || rc.Code != "30003" {
		t.Errorf("receipt %+v", rc)
	}
	for name, sig := range map[string]string{"missing": "", "invalid": "AAAA" + knownSignature[4:]} {
		if _, err := c.Receipt(callbackRequest(receiptParams, sig)); !errors.Is(err, twilio.ErrBadSignature) {
			t.Errorf("%s signature: %v", name, err)
		}
	}
}

func TestParseReceipt(t *testing.T) {
	tests := []struct {
		status, state, code string
	}{
		{"queued", turnero.DeliverySent, ""},
		{"sent", turnero.DeliverySent, ""},
		{"delivered", turnero.DeliveryDelivered, ""},
		{"read", turnero.DeliveryDelivered, ""},
		{"undelivered", turnero.DeliveryUndelivered, "30005"},
		{"failed", turnero.DeliveryFailed, "30005"},
		{"canceled", turnero.DeliveryFailed, "30005"},
	}
	for _, tt := range tests {
		rc, err := twilio.ParseReceipt(url.Values{"MessageSid": {"SM1"}, "MessageStatus": {tt.status}, "ErrorCode": {"30005"}})
		if err != nil || rc.State != tt.state || rc.Code != tt.code || rc.ProviderID != "SM1" {
			t.Errorf("%s: %+v %v", tt.status, rc, err)
		}
	}
	for name, p := range map[string]url.Values{
		"no sid":         {"MessageStatus": {"sent"}},
		"unknown status": {"MessageSid": {"SM1"}, "MessageStatus": {"teleported"}},
		"a strange sid":  {"MessageSid": {"SM1/../x"}, "MessageStatus": {"sent"}},
	} {
		if _, err := twilio.ParseReceipt(p); !errors.Is(err, twilio.ErrBadReceipt) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	if _, ok, err := twilio.ConfigFromEnv(func(string) string { return "" }); ok || err != nil {
		t.Errorf("nothing set: %v %v", ok, err)
	}
	full := map[string]string{twilio.EnvAccountSID: sid, twilio.EnvAuthToken: token, twilio.EnvFrom: "Vacunas", twilio.EnvCallbackURL: callback}
	cfg, ok, err := twilio.ConfigFromEnv(func(k string) string { return full[k] })
	if err != nil || !ok || cfg.BaseURL != twilio.DefaultURL || cfg.From != "Vacunas" {
		t.Errorf("defaults: %+v %v %v", cfg, ok, err)
	}
	for _, tt := range []struct {
		setting, value string
	}{
		{twilio.EnvURL, "http://api.example.com"}, // a token in clear over a network
		{twilio.EnvURL, "ftp://api.example.com"},
		{twilio.EnvURL, "https://api.example.com/2010-04-01"},
		{twilio.EnvAccountSID, ""},
		{twilio.EnvAccountSID, "AC/../x"},
		{twilio.EnvAuthToken, ""},
		{twilio.EnvFrom, ""},
		{twilio.EnvFrom, "099 123 456"},
		{twilio.EnvFrom, "Vacunación"},
		{twilio.EnvFrom, "VacunasUruguay"}, // 14 characters: over 11
		{twilio.EnvCallbackURL, "https://turnero.example.gub.uy/callbacks"},
		{twilio.EnvCallbackURL, "http://turnero.example.gub.uy/v1/callbacks/sms"},
	} {
		env := map[string]string{}
		for k, v := range full {
			env[k] = v
		}
		env[tt.setting] = tt.value
		_, _, err := twilio.ConfigFromEnv(func(k string) string { return env[k] })
		var se *turnero.SettingError
		if !errors.As(err, &se) || se.Setting != tt.setting {
			t.Errorf("%s=%q: %v, want an error naming it", tt.setting, tt.value, err)
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Errorf("the token is in an error: %v", err)
		}
	}
}
