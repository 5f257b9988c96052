package outbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// Headers of a webhook call.
const (
	HeaderSignature = "X-Tanfang-Signature" // "sha256=" + hex HMAC-SHA256 of the body
	HeaderDelivery  = "X-Tanfang-Delivery"  // the outbox row id: de-duplicate on it
	HeaderEvent     = "X-Tanfang-Event"     // the message kind
)

// Sign returns the signature header value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a signature header in constant time; receivers
// use it (and so do the tests).
func VerifySignature(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// WebhookPayload is the JSON body of a webhook call. Sent is when this
// attempt was made, so a receiver can refuse old replays.
type WebhookPayload struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	AreaCode  string    `json:"area_code"`
	Subject   string    `json:"subject"`
	Body      string    `json:"body"`
	Link      string    `json:"link,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Sent      time.Time `json:"sent_at"`
}

// WebhookSender POSTs the signed payload; any answer but 2xx is a failure.
type WebhookSender struct {
	Client *http.Client
	Now    func() time.Time
}

func httpClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	// Redirects are not followed: an endpoint is called only at the address
	// its area registered.
	return &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

func (s WebhookSender) Send(ctx context.Context, d Delivery) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	body, err := json.Marshal(WebhookPayload{ID: d.ID, Kind: d.Kind, AreaCode: d.AreaCode, Subject: d.Subject, Body: d.Body,
		Link: d.Link, CreatedAt: d.CreatedAt.UTC(), Sent: now().UTC()})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.To, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set(HeaderSignature, Sign(d.Secret, body))
	req.Header.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	req.Header.Set(HeaderEvent, d.Kind)
	return post(httpClient(s.Client), req, "webhook")
}

func post(c *http.Client, req *http.Request, what string) error {
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %d", what, resp.StatusCode)
	}
	return nil
}

// SMSSender hands a text to a provider's HTTP gateway as JSON
// {"id","phone","text"} with a bearer token. Providers differ; a small
// adapter in front of the real one translates.
type SMSSender struct {
	URL    string
	Token  string
	Client *http.Client
}

func (s SMSSender) Send(ctx context.Context, d Delivery) error {
	text := d.Subject
	if d.Body != "" {
		text += "：" + d.Body
	}
	body, err := json.Marshal(map[string]string{"id": strconv.FormatInt(d.ID, 10), "phone": d.To, "text": text})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	return post(httpClient(s.Client), req, "sms gateway")
}

// SMTPSender sends plain-text UTF-8 mail through one relay, with STARTTLS
// when the relay offers it and PLAIN authentication when a user is set.
type SMTPSender struct {
	Addr     string // host:port
	From     string
	Username string
	Password string
	Now      func() time.Time
}

func (s SMTPSender) Send(ctx context.Context, d Delivery) error {
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("smtp address: %w", err)
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp dial: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp greeting: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("smtp starttls: %w", err)
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(s.From); err != nil {
		return fmt.Errorf("smtp MAIL: %w", err)
	}
	if err := c.Rcpt(d.To); err != nil {
		return fmt.Errorf("smtp RCPT: %w", err)
	}
	wc, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if _, err := wc.Write(s.message(d)); err != nil {
		return fmt.Errorf("smtp body: %w", err)
	}
	if err := wc.Close(); err != nil {
		return fmt.Errorf("smtp end of data: %w", err)
	}
	return c.Quit()
}

func (s SMTPSender) message(d Delivery) []byte {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	text := d.Body
	if d.Link != "" {
		text += "\r\n\r\n" + d.Link
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <outbox-%d@tanfang>\r\n",
		s.From, d.To, mime.BEncoding.Encode("UTF-8", d.Subject), now().Format(time.RFC1123Z), d.ID)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(text))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes()
}

// Config is how this server reaches the outside. Empty parts leave that
// channel unconfigured: its rows wait (retrying) until it is configured.
type Config struct {
	BaseURL      string
	SMTPAddr     string
	SMTPFrom     string
	SMTPUser     string
	SMTPPassword string
	SMSURL       string
	SMSToken     string
}

// ConfigFromEnv reads TANFANG_BASE_URL, TANFANG_SMTP_ADDR, TANFANG_SMTP_FROM,
// TANFANG_SMTP_USER, TANFANG_SMTP_PASSWORD, TANFANG_SMS_URL and TANFANG_SMS_TOKEN.
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{
		BaseURL:  getenv("TANFANG_BASE_URL"),
		SMTPAddr: getenv("TANFANG_SMTP_ADDR"), SMTPFrom: getenv("TANFANG_SMTP_FROM"),
		SMTPUser: getenv("TANFANG_SMTP_USER"), SMTPPassword: getenv("TANFANG_SMTP_PASSWORD"),
		SMSURL: getenv("TANFANG_SMS_URL"), SMSToken: getenv("TANFANG_SMS_TOKEN"),
	}
}

// Senders builds the external channels the config names.
func (c Config) Senders(now func() time.Time) map[string]Sender {
	m := map[string]Sender{Webhook: WebhookSender{Now: now}}
	if c.SMTPAddr != "" && c.SMTPFrom != "" {
		m[Email] = SMTPSender{Addr: c.SMTPAddr, From: c.SMTPFrom, Username: c.SMTPUser, Password: c.SMTPPassword, Now: now}
	}
	if c.SMSURL != "" {
		m[SMS] = SMSSender{URL: c.SMSURL, Token: c.SMSToken}
	}
	return m
}

// describe names the configured channels for the start-up log.
func (c Config) describe() string {
	parts := []string{Inbox, Webhook}
	if c.SMTPAddr != "" && c.SMTPFrom != "" {
		parts = append(parts, Email)
	}
	if c.SMSURL != "" {
		parts = append(parts, SMS)
	}
	return strings.Join(parts, ",")
}
