// Package whatsapp is a client of the WhatsApp Business Cloud API (Meta's
// Graph API): template messages for notices, free text for the chat (which
// the Cloud API allows within 24 hours of the person's last message), and
// the checks of Meta's webhook (signature and verification handshake). It
// says whether a failure is permanent or transient by the Graph API's error
// codes; it does not retry and never logs.
package whatsapp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

// The environment variables that configure WhatsApp.
const (
	EnvURL           = "TURNERO_WHATSAPP_URL"
	EnvToken         = "TURNERO_WHATSAPP_TOKEN"
	EnvPhoneNumberID = "TURNERO_WHATSAPP_PHONE_NUMBER_ID"
)

// DefaultURL is the Graph API, at the version this client was written for.
const DefaultURL = "https://graph.facebook.com/v21.0"

// DefaultTimeout bounds one request.
const DefaultTimeout = 30 * time.Second

// EnvRate sets the messages per second sent to the Cloud API (see package
// ratelimit); DefaultRate is Meta's default throughput for a business
// phone number.
const (
	EnvRate     = "TURNERO_WHATSAPP_RATE"
	DefaultRate = 80
)

// Config is how to reach the Cloud API.
type Config struct {
	// BaseURL is the Graph API with its version (DefaultURL).
	BaseURL string
	// Token is a system user's access token of the business account.
	Token string
	// PhoneNumberID is the sending number's id (not the number itself).
	PhoneNumberID string
	Timeout       time.Duration
}

// ConfigFromEnv reads the WhatsApp settings. ok is false when none is set
// (no WhatsApp provider); an error names the setting that is wrong.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	cfg = Config{
		BaseURL:       strings.TrimRight(strings.TrimSpace(getenv(EnvURL)), "/"),
		Token:         strings.TrimSpace(getenv(EnvToken)),
		PhoneNumberID: strings.TrimSpace(getenv(EnvPhoneNumberID)),
		Timeout:       DefaultTimeout,
	}
	if cfg.BaseURL == "" && cfg.Token == "" && cfg.PhoneNumberID == "" {
		return Config{}, false, nil
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultURL
	}
	u, err := url.Parse(cfg.BaseURL)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.RawQuery != "":
		return Config{}, false, &turnero.SettingError{Setting: EnvURL, Problem: "must be the Graph API's URL with its version, such as " + DefaultURL}
	case u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname())):
		return Config{}, false, &turnero.SettingError{Setting: EnvURL, Problem: "must be https (http only on loopback): the token would travel in clear"}
	}
	if cfg.Token == "" {
		return Config{}, false, &turnero.SettingError{Setting: EnvToken, Problem: "is required: the business account's access token"}
	}
	if !digits(cfg.PhoneNumberID) {
		return Config{}, false, &turnero.SettingError{Setting: EnvPhoneNumberID, Problem: "is required: the sending number's id, digits only (not the phone number)"}
	}
	return cfg, true, nil
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

func digits(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Client sends messages through the Cloud API. It is safe for concurrent
// use.
type Client struct {
	cfg      Config
	http     *http.Client
	endpoint string
}

// New returns a client. hc nil: one with Timeout and enough idle
// connections for many sends at once.
func New(cfg Config, hc *http.Client) *Client {
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 256
		hc = &http.Client{Transport: t, Timeout: cfg.Timeout}
	}
	return &Client{cfg: cfg, http: hc, endpoint: cfg.BaseURL + "/" + cfg.PhoneNumberID + "/messages"}
}

// Send sends a notice as its WhatsApp template and returns the message's
// id (the wamid).
func (c *Client) Send(ctx context.Context, m turnero.NoticeMessage) (string, error) {
	if m.WhatsApp == nil {
		return "", fmt.Errorf("whatsapp: a %s notice without a template", m.Kind)
	}
	return c.SendTemplate(ctx, m.To, *m.WhatsApp)
}

// The Cloud API's request bodies.
type (
	outgoing struct {
		Product       string    `json:"messaging_product"`
		RecipientType string    `json:"recipient_type"`
		To            string    `json:"to"`
		Type          string    `json:"type"`
		Template      *template `json:"template,omitempty"`
		Text          *text     `json:"text,omitempty"`
	}
	template struct {
		Name       string      `json:"name"`
		Language   language    `json:"language"`
		Components []component `json:"components,omitempty"`
	}
	language struct {
		Code string `json:"code"`
	}
	component struct {
		Type       string      `json:"type"`
		Parameters []parameter `json:"parameters"`
	}
	parameter struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	text struct {
		PreviewURL bool   `json:"preview_url"`
		Body       string `json:"body"`
	}
)

// recipient is a number as the Cloud API takes it: digits with the country
// code, no "+".
func recipient(e164 string) string { return strings.TrimPrefix(e164, "+") }

// SendTemplate sends an approved template with its body parameters.
func (c *Client) SendTemplate(ctx context.Context, to string, t turnero.WhatsAppTemplate) (string, error) {
	tm := &template{Name: t.Name, Language: language{Code: t.Language}}
	if len(t.Parameters) > 0 {
		body := component{Type: "body"}
		for _, p := range t.Parameters {
			body.Parameters = append(body.Parameters, parameter{Type: "text", Text: p})
		}
		tm.Components = []component{body}
	}
	return c.post(ctx, outgoing{Product: "whatsapp", RecipientType: "individual", To: recipient(to), Type: "template", Template: tm})
}

// MaxTextLength is the longest free text the Cloud API takes, in
// characters.
const MaxTextLength = 4096

// SendText sends free text: only within 24 hours of the person's last
// message (otherwise the API answers 131047, permanent for this message).
func (c *Client) SendText(ctx context.Context, to, body string) (string, error) {
	if n := len([]rune(body)); n == 0 || n > MaxTextLength {
		return "", turnero.PermanentDelivery("text_length", fmt.Sprintf("a text of %d characters: 1 to %d are allowed", n, MaxTextLength))
	}
	return c.post(ctx, outgoing{Product: "whatsapp", RecipientType: "individual", To: recipient(to), Type: "text",
		Text: &text{Body: body}})
}

// answer is the Cloud API's: the message ids, or an error.
type answer struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
	Error *graphError `json:"error"`
}

type graphError struct {
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

// maxAnswer bounds what is read of an answer.
const maxAnswer = 64 << 10

func (c *Client) post(ctx context.Context, body outgoing) (string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("whatsapp request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("whatsapp request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		code := "connection"
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			code = "timeout"
		}
		return "", turnero.TransientDelivery(code, err.Error(), 0)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return "", turnero.TransientDelivery("connection", "reading the answer: "+err.Error(), 0)
	}
	var a answer
	jsonErr := json.Unmarshal(raw, &a)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 && a.Error == nil {
		if jsonErr != nil || len(a.Messages) == 0 || a.Messages[0].ID == "" {
			return "", turnero.TransientDelivery("bad_answer", fmt.Sprintf("HTTP %d without a message id", resp.StatusCode), 0)
		}
		return a.Messages[0].ID, nil
	}
	return "", classify(resp, a.Error)
}

// Graph API error codes that retrying later can fix: rate limits, Meta's
// own faults, and the account's configuration (an expired token, a missing
// permission), which operators fix without the message being at fault.
var transientCodes = map[int]bool{
	0: true, 1: true, 2: true, 3: true, 4: true, 10: true, 17: true, 190: true, 200: true, 341: true, 368: true, 613: true,
	80007: true, 130429: true, 131000: true, 131016: true, 131031: true, 131048: true, 131056: true,
	133004: true, 133005: true,
}

// classify maps a Graph API error to a delivery failure: codes of
// transientCodes, 429 and 5xx are transient; other codes (100 invalid
// parameter, 131026 undeliverable, 131047 outside the 24-hour window,
// 132xxx template problems, …) are permanent for this message.
func classify(resp *http.Response, ge *graphError) error {
	ra := retryAfter(resp.Header.Get("Retry-After"))
	if ge == nil {
		code := "http_" + strconv.Itoa(resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 || resp.StatusCode == http.StatusUnauthorized {
			return turnero.TransientDelivery(code, "HTTP "+resp.Status, ra)
		}
		return turnero.PermanentDelivery(code, "HTTP "+resp.Status)
	}
	code := strconv.Itoa(ge.Code)
	reason := ge.Message
	if ge.ErrorData.Details != "" {
		reason += ": " + ge.ErrorData.Details
	}
	reason = turnero.RedactContact(reason)
	if transientCodes[ge.Code] || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return turnero.TransientDelivery(code, reason, ra)
	}
	return turnero.PermanentDelivery(code, reason)
}

func retryAfter(v string) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 0
}

// SignatureHeader carries the signature of a webhook delivery.
const SignatureHeader = "X-Hub-Signature-256"

// VerifySignature reports whether header is Meta's signature of body:
// "sha256=" and the hex HMAC-SHA256 of the raw body keyed by the app
// secret, compared in constant time. A missing or malformed header never
// verifies.
func VerifySignature(appSecret string, body []byte, header string) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok || appSecret == "" {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// VerifyChallenge answers Meta's verification of a webhook (GET with
// hub.mode=subscribe, hub.verify_token, hub.challenge): the challenge to
// echo, and true, when the token is ours.
func VerifyChallenge(query url.Values, verifyToken string) (challenge string, ok bool) {
	if verifyToken == "" || query.Get("hub.mode") != "subscribe" {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(query.Get("hub.verify_token")), []byte(verifyToken)) != 1 {
		return "", false
	}
	return query.Get("hub.challenge"), true
}
