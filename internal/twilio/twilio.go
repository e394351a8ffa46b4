// Package twilio sends notices by SMS through the Twilio Messages API,
// which many SMS gateways copy, and reads its signed delivery receipts. It
// says whether a failure is permanent or transient the way Twilio documents
// its errors; it does not retry (the dispatcher does) and never logs.
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// The environment variables that configure SMS.
const (
	EnvURL         = "TURNERO_SMS_URL"
	EnvAccountSID  = "TURNERO_SMS_ACCOUNT_SID"
	EnvAuthToken   = "TURNERO_SMS_AUTH_TOKEN"
	EnvFrom        = "TURNERO_SMS_FROM"
	EnvCallbackURL = "TURNERO_SMS_CALLBACK_URL"
)

// DefaultURL is Twilio's API.
const DefaultURL = "https://api.twilio.com"

// CallbackPath is where turnero receives delivery receipts.
const CallbackPath = "/v1/callbacks/sms"

// DefaultTimeout bounds one request to the gateway.
const DefaultTimeout = 30 * time.Second

// EnvRate sets the messages per second sent to the gateway (see package
// ratelimit); DefaultRate is a cautious figure: set what the contract
// allows (Twilio gives a long code 1 a second, a short code 100).
const (
	EnvRate     = "TURNERO_SMS_RATE"
	DefaultRate = 10
)

// Config is how to reach the gateway.
type Config struct {
	// BaseURL is the API's scheme and host (DefaultURL, or a gateway that
	// speaks the same API).
	BaseURL    string
	AccountSID string
	AuthToken  string
	// From is the sender: an E.164 number, an alphanumeric sender id, or a
	// messaging service ("MG…", sent as MessagingServiceSid).
	From string
	// CallbackURL is our public address for receipts, ending in
	// CallbackPath: sent as StatusCallback, and what signatures are
	// checked against. Empty: no receipts are asked for.
	CallbackURL string
	Timeout     time.Duration
}

// ConfigFromEnv reads the SMS settings. ok is false when none of them is set
// (no SMS provider); an error names the setting that is wrong.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	cfg = Config{
		BaseURL:    strings.TrimRight(strings.TrimSpace(getenv(EnvURL)), "/"),
		AccountSID: strings.TrimSpace(getenv(EnvAccountSID)),
		AuthToken:  strings.TrimSpace(getenv(EnvAuthToken)),
		From:       strings.TrimSpace(getenv(EnvFrom)),
		// Kept as written: a signature covers the URL byte for byte.
		CallbackURL: strings.TrimSpace(getenv(EnvCallbackURL)),
		Timeout:     DefaultTimeout,
	}
	if cfg.BaseURL == "" && cfg.AccountSID == "" && cfg.AuthToken == "" && cfg.From == "" && cfg.CallbackURL == "" {
		return Config{}, false, nil
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultURL
	}
	if err := cfg.validate(); err != nil {
		return Config{}, false, err
	}
	return cfg, true, nil
}

func (cfg *Config) validate() error {
	bad := func(setting, format string, args ...any) error {
		return &turnero.SettingError{Setting: setting, Problem: fmt.Sprintf(format, args...)}
	}
	if err := checkURL(cfg.BaseURL); err != nil {
		return bad(EnvURL, "%v", err)
	}
	if u, _ := url.Parse(cfg.BaseURL); u.Path != "" || u.RawQuery != "" {
		return bad(EnvURL, "must be the API's scheme and host only (such as %s), got a path or query", DefaultURL)
	}
	if !pathSafe(cfg.AccountSID) {
		return bad(EnvAccountSID, "is required: the account's SID (AC…), letters and digits")
	}
	if cfg.AuthToken == "" {
		return bad(EnvAuthToken, "is required: the account's auth token")
	}
	if !validSender(cfg.From) {
		return bad(EnvFrom, "must be an E.164 number (+59899123456), an alphanumeric sender id of 1-11 letters and digits, or a messaging service SID (MG…)")
	}
	if cfg.CallbackURL != "" {
		if err := checkURL(cfg.CallbackURL); err != nil {
			return bad(EnvCallbackURL, "%v", err)
		}
		if u, _ := url.Parse(cfg.CallbackURL); !strings.HasSuffix(u.Path, CallbackPath) {
			return bad(EnvCallbackURL, "must be turnero's public address ending in %s, got path %q", CallbackPath, u.Path)
		}
	}
	return nil
}

// checkURL accepts https, and http only on loopback (a local fake): the auth
// token must never cross a network in clear.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return errors.New("must be an https URL with a host")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return errors.New("must be https (http only on loopback): the auth token would travel in clear")
	}
	return fmt.Errorf("must be an https URL, got scheme %q", u.Scheme)
}

func pathSafe(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func messagingService(from string) bool { return strings.HasPrefix(from, "MG") && len(from) == 34 }

func validSender(s string) bool {
	if messagingService(s) {
		return pathSafe(s)
	}
	if strings.HasPrefix(s, "+") {
		if len(s) < 8 || len(s) > 16 {
			return false
		}
		for _, r := range s[1:] {
			if r < '0' || r > '9' {
				return false
			}
		}
		return true
	}
	// An alphanumeric sender id: 1-11 characters, at least one letter.
	letters := 0
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			letters++
		case r >= '0' && r <= '9' || r == ' ':
		default:
			return false
		}
	}
	return letters > 0 && len(s) <= 11
}

// Client sends SMS through the gateway. It is safe for concurrent use.
type Client struct {
	cfg      Config
	http     *http.Client
	endpoint string
	clock    turnero.Clock
}

// New returns a client. hc nil: one with Timeout and enough idle
// connections for many sends at once.
func New(cfg Config, hc *http.Client, clock turnero.Clock) *Client {
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 256
		hc = &http.Client{Transport: t, Timeout: cfg.Timeout}
	}
	return &Client{cfg: cfg, http: hc, clock: clock,
		endpoint: cfg.BaseURL + "/2010-04-01/Accounts/" + url.PathEscape(cfg.AccountSID) + "/Messages.json"}
}

// apiMessage is Twilio's answer: the message, or an error.
type apiMessage struct {
	SID    string `json:"sid"`
	Status string `json:"status"`
	// An error answer.
	Code    json.Number `json:"code"`
	Message string      `json:"message"`
}

// maxAnswer bounds what is read of an answer: a message resource is ~1 kB.
const maxAnswer = 64 << 10

// Send posts one message and returns its SID.
func (c *Client) Send(ctx context.Context, m turnero.NoticeMessage) (string, error) {
	form := url.Values{"To": {m.To}, "Body": {m.Text}}
	if messagingService(c.cfg.From) {
		form.Set("MessagingServiceSid", c.cfg.From)
	} else {
		form.Set("From", c.cfg.From)
	}
	if c.cfg.CallbackURL != "" {
		form.Set("StatusCallback", c.cfg.CallbackURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("sms request: %w", err)
	}
	req.SetBasicAuth(c.cfg.AccountSID, c.cfg.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL in a transport error is ours and holds nothing personal.
		code := "connection"
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			code = "timeout"
		}
		return "", turnero.TransientDelivery(code, err.Error(), 0)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return "", turnero.TransientDelivery("connection", "reading the answer: "+err.Error(), 0)
	}
	var a apiMessage
	jsonErr := json.Unmarshal(body, &a)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if jsonErr != nil || a.SID == "" {
			// Accepted, but we cannot tell which message it is: sending
			// again may send twice; not sending may lose it. Retrying is
			// the lesser harm, and the gateway is misbehaving anyway.
			return "", turnero.TransientDelivery("bad_answer", fmt.Sprintf("HTTP %d without a message sid", resp.StatusCode), 0)
		}
		return a.SID, nil
	}
	return "", c.classify(resp, &a)
}

// Twilio error codes answered with a 4xx that are not the message's fault:
// the account, the sender or the pace. Retrying (once someone fixes the
// configuration, or the queue drains) sends the message.
var transientCodes = map[string]bool{
	"14107": true, // SMS send rate limit exceeded
	"20003": true, // authentication failed
	"20005": true, // account not active
	"20404": true, // resource not found: the account SID or base URL
	"20429": true, // too many requests
	"21212": true, // invalid 'From' number
	"21603": true, // 'From' is required
	"21606": true, // 'From' is not a message-capable number
	"21611": true, // the 'From' number's queue is full
	"21659": true, // 'From' is not a Twilio number
}

// classify follows Twilio's documentation: 429 and 5xx are transient (with
// Retry-After when given); 401, 403 and 404 are the account's, transient;
// other 4xx are permanent (21211 an invalid 'To', 21614 not a mobile, 21610
// the person unsubscribed, 21408 a region not enabled…) unless their code
// is one of transientCodes.
func (c *Client) classify(resp *http.Response, a *apiMessage) error {
	code := a.Code.String()
	if code == "" {
		code = "http_" + strconv.Itoa(resp.StatusCode)
	}
	reason := turnero.RedactContact(a.Message)
	if reason == "" {
		reason = "HTTP " + resp.Status
	}
	s := resp.StatusCode
	switch {
	case s == http.StatusTooManyRequests || s >= 500:
		return turnero.TransientDelivery(code, reason, retryAfter(resp.Header.Get("Retry-After"), c.clock.Now()))
	case s == http.StatusUnauthorized || s == http.StatusForbidden || s == http.StatusNotFound || transientCodes[code]:
		return turnero.TransientDelivery(code, reason, retryAfter(resp.Header.Get("Retry-After"), c.clock.Now()))
	}
	return turnero.PermanentDelivery(code, reason)
}

// retryAfter reads Retry-After: seconds, or an HTTP date; 0 when absent or
// unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// SignatureHeader carries a callback's signature.
const SignatureHeader = "X-Twilio-Signature"

// Signature computes what Twilio signs a callback with: base64 of the
// HMAC-SHA1, keyed by the auth token, of the full URL followed by each POST
// parameter's name and value, by name (and value) in byte order, without
// separators.
func Signature(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mac := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(mac, fullURL)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			io.WriteString(mac, k)
			io.WriteString(mac, v)
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// VerifySignature reports whether signature is Twilio's for that URL and
// those parameters, comparing in constant time. A missing signature never
// verifies.
func VerifySignature(authToken, fullURL string, params url.Values, signature string) bool {
	if signature == "" || authToken == "" {
		return false
	}
	return hmac.Equal([]byte(Signature(authToken, fullURL, params)), []byte(signature))
}

// Errors of receipts.
var (
	ErrBadSignature = errors.New("sms callback: signature missing or wrong")
	ErrBadReceipt   = errors.New("sms callback: not a message status")
)

// maxCallback bounds a callback's body: Twilio's are well under 4 kB.
const maxCallback = 64 << 10

// Receipt reads a delivery receipt posted to CallbackURL, after checking
// its signature against the configured URL (not the request's Host, which
// a proxy may have changed). ErrBadSignature: answer 403 and change
// nothing.
func (c *Client) Receipt(r *http.Request) (turnero.DeliveryReceipt, error) {
	if c.cfg.CallbackURL == "" {
		return turnero.DeliveryReceipt{}, ErrBadSignature
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxCallback)
	if err := r.ParseForm(); err != nil {
		return turnero.DeliveryReceipt{}, fmt.Errorf("%w: %v", ErrBadReceipt, err)
	}
	if !VerifySignature(c.cfg.AuthToken, c.cfg.CallbackURL, r.PostForm, r.Header.Get(SignatureHeader)) {
		return turnero.DeliveryReceipt{}, ErrBadSignature
	}
	return ParseReceipt(r.PostForm)
}

// ParseReceipt reads a status callback's MessageSid, MessageStatus and
// ErrorCode. Twilio's states map to ours: queued, accepted, scheduled,
// sending and sent are sent; delivered and read are delivered; undelivered
// is undelivered; failed and canceled are failed.
func ParseReceipt(params url.Values) (turnero.DeliveryReceipt, error) {
	sid := params.Get("MessageSid")
	if sid == "" {
		sid = params.Get("SmsSid") // older callbacks
	}
	if !pathSafe(sid) {
		return turnero.DeliveryReceipt{}, fmt.Errorf("%w: no MessageSid", ErrBadReceipt)
	}
	status := params.Get("MessageStatus")
	if status == "" {
		status = params.Get("SmsStatus")
	}
	var state string
	switch status {
	case "queued", "accepted", "scheduled", "sending", "sent":
		state = turnero.DeliverySent
	case "delivered", "read":
		state = turnero.DeliveryDelivered
	case "undelivered":
		state = turnero.DeliveryUndelivered
	case "failed", "canceled":
		state = turnero.DeliveryFailed
	default:
		return turnero.DeliveryReceipt{}, fmt.Errorf("%w: unknown MessageStatus %q", ErrBadReceipt, status)
	}
	rc := turnero.DeliveryReceipt{ProviderID: sid, State: state}
	if state == turnero.DeliveryUndelivered || state == turnero.DeliveryFailed {
		rc.Code = params.Get("ErrorCode")
	}
	return rc, nil
}
