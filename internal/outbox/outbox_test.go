package outbox_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/outbox"
	"tanfang/internal/pii"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

const (
	village = "320706102206"
	town    = "320706102000"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func setup(t *testing.T, db *store.DB) (*pii.Keys, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)}
	if _, err := (areas.Store{DB: db}).LoadDivisions(context.Background(), c.Now()); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.New(bytes.Repeat([]byte{9}, pii.SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	return keys, c
}

func enqueue(t *testing.T, db *store.DB, keys *pii.Keys, now time.Time, m outbox.Message, to ...outbox.Target) {
	t.Helper()
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := outbox.Enqueue(context.Background(), tx, keys, now, m, to...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hook is a webhook receiver that checks every signature.
type hook struct {
	srv      *httptest.Server
	secret   string
	mu       sync.Mutex
	got      []outbox.WebhookPayload
	badSig   int
	failNext atomic.Int32
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if !outbox.VerifySignature(h.secret, body, r.Header.Get(outbox.HeaderSignature)) {
			h.badSig++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if h.failNext.Load() > 0 {
			h.failNext.Add(-1)
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		var p outbox.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		h.got = append(h.got, p)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) count() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.got) }

func addHook(t *testing.T, db *store.DB, keys *pii.Keys, now time.Time, h *hook, area string) {
	t.Helper()
	_, secret, err := outbox.AddEndpoint(context.Background(), db, keys, now, area, outbox.Webhook, h.srv.URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	h.secret = secret
}

func status(t *testing.T, db *store.DB, channel string) (st string, attempts int, nextAt string) {
	t.Helper()
	if err := db.QueryRow(context.Background(), `SELECT status, attempts, next_at FROM outbox WHERE channel = ?`, channel).Scan(&st, &attempts, &nextAt); err != nil {
		t.Fatal(err)
	}
	return
}

// A worker that dies after claiming leaves its rows leased; once the lease
// runs out a new worker delivers them, once (DESIGN "Nothing lost").
func TestRestartMidDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys, c := setup(t, db)
		h := newHook(t)
		addHook(t, db, keys, c.Now(), h, town)
		enqueue(t, db, keys, c.Now(), outbox.Message{Kind: "emergency", Subject: "紧急情况", Body: "张*：跌倒", Link: "/emergencies/1"},
			outbox.ToArea(town, "town"))

		dead := &outbox.Worker{DB: db, Keys: keys, Now: c.Now, Owner: "dead", Lease: time.Minute, Senders: map[string]outbox.Sender{outbox.Webhook: outbox.WebhookSender{}}}
		claimed, err := dead.Claim(ctx)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim: %v %d rows, want inbox and webhook", err, len(claimed))
		}
		// "Restart": the first worker is gone; a new one starts.
		fresh := &outbox.Worker{DB: db, Keys: keys, Now: c.Now, Owner: "fresh", Lease: time.Minute, Senders: map[string]outbox.Sender{outbox.Webhook: outbox.WebhookSender{}}}
		if n, err := fresh.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("within the lease the rows are not free: %d %v", n, err)
		}
		c.Advance(61 * time.Second)
		if n, err := fresh.RunOnce(ctx); err != nil || n != 2 {
			t.Fatalf("after the lease: delivered %d, %v; want 2", n, err)
		}
		if n, _ := fresh.RunOnce(ctx); n != 0 {
			t.Fatalf("delivered again: %d", n)
		}
		if h.count() != 1 || h.badSig != 0 {
			t.Fatalf("webhook got %d calls, %d bad signatures; want 1, 0", h.count(), h.badSig)
		}
		if p := h.got[0]; p.Kind != "emergency" || p.Subject != "紧急情况" || p.AreaCode != town {
			t.Errorf("payload %+v", p)
		}
		msgs, err := outbox.InboxFor(ctx, db, 99, town, "town", 10)
		if err != nil || len(msgs) != 1 || msgs[0].Link != "/emergencies/1" {
			t.Fatalf("inbox %+v %v", msgs, err)
		}
		if other, _ := outbox.InboxFor(ctx, db, 99, village, "village", 10); len(other) != 0 {
			t.Errorf("village sees the town's message: %+v", other)
		}
		// The dead worker, come back to life, cannot add a second inbox copy.
		for _, d := range claimed {
			if d.Channel == outbox.Inbox {
				if err := dead.Deliver(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
		}
		if msgs, _ := outbox.InboxFor(ctx, db, 99, town, "town", 10); len(msgs) != 1 {
			t.Errorf("inbox has %d messages after a late second delivery, want 1", len(msgs))
		}
	})
}

// Failures are retried with exponential backoff, then given up.
func TestRetryBackoffAndGiveUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys, c := setup(t, db)
		h := newHook(t)
		addHook(t, db, keys, c.Now(), h, village)
		h.failNext.Store(2)
		enqueue(t, db, keys, c.Now(), outbox.Message{Kind: "k", Subject: "s"}, outbox.ToArea(village))
		w := &outbox.Worker{DB: db, Keys: keys, Now: c.Now, BaseBackoff: 10 * time.Second, MaxAttempts: 3,
			Senders: map[string]outbox.Sender{outbox.Webhook: outbox.WebhookSender{}}}
		start := c.Now()
		for i, wait := range []time.Duration{10 * time.Second, 20 * time.Second} {
			if n, _ := w.RunOnce(ctx); n != 0 {
				t.Fatalf("attempt %d delivered", i+1)
			}
			st, attempts, next := status(t, db, outbox.Webhook)
			if want := store.FormatTime(c.Now().Add(wait)); st != "pending" || attempts != i+1 || next != want {
				t.Fatalf("after attempt %d: %s %d next %s, want pending %d %s", i+1, st, attempts, next, i+1, want)
			}
			c.Advance(wait - time.Second)
			if n, _ := w.RunOnce(ctx); n != 0 {
				t.Fatalf("retried before the backoff ran out")
			}
			c.Advance(time.Second)
		}
		if n, _ := w.RunOnce(ctx); n != 1 || h.count() != 1 {
			t.Fatalf("third attempt: %d delivered, hook has %d", n, h.count())
		}
		if c.Now().Sub(start) != 30*time.Second {
			t.Errorf("delivered after %v", c.Now().Sub(start))
		}

		// A receiver that never answers 2xx: dead after MaxAttempts.
		h.failNext.Store(100)
		enqueue(t, db, keys, c.Now(), outbox.Message{Kind: "k2", Subject: "s"}, outbox.ToArea(village))
		for range 3 {
			_, _ = w.RunOnce(ctx)
			c.Advance(time.Hour)
		}
		var st string
		if err := db.QueryRow(ctx, `SELECT status FROM outbox WHERE kind = 'k2'`).Scan(&st); err != nil || st != outbox.StatusDead {
			t.Fatalf("status %q %v, want dead", st, err)
		}
	})
}

// Several workers (several app servers) never send a row twice.
func TestConcurrentWorkers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys, c := setup(t, db)
		h := newHook(t)
		addHook(t, db, keys, c.Now(), h, village)
		for range 30 {
			enqueue(t, db, keys, c.Now(), outbox.Message{Kind: "k", Subject: "s"}, outbox.ToArea(village))
		}
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := &outbox.Worker{DB: db, Keys: keys, Now: c.Now, Batch: 4, Owner: string(rune('a' + i)),
					Senders: map[string]outbox.Sender{outbox.Webhook: outbox.WebhookSender{}}}
				for {
					n, err := w.RunOnce(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		seen := map[int64]int{}
		for _, p := range h.got {
			seen[p.ID]++
		}
		if len(seen) != 30 || len(h.got) != 30 {
			t.Fatalf("%d distinct of %d calls, want 30 and 30", len(seen), len(h.got))
		}
	})
}

// SMS: the phone number is sealed in the table and clear only to the gateway.
func TestSMSAndUnconfiguredChannel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys, c := setup(t, db)
		var got map[string]string
		var auth string
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth = r.Header.Get("Authorization")
			_ = json.NewDecoder(r.Body).Decode(&got)
		}))
		defer gw.Close()
		enqueue(t, db, keys, c.Now(), outbox.Message{Kind: "family.reminder", Subject: "探访提醒", Body: "请常回家看看"}, outbox.ToPhone("13900001111", village))
		var enc []byte
		var masked string
		if err := db.QueryRow(ctx, `SELECT to_enc, to_masked FROM outbox`).Scan(&enc, &masked); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(enc, []byte("13900001111")) || masked != "139****1111" {
			t.Fatalf("stored recipient: %q masked %q", enc, masked)
		}
		// No gateway configured: the row waits, it is not lost.
		w := &outbox.Worker{DB: db, Keys: keys, Now: c.Now, Senders: map[string]outbox.Sender{}}
		if n, _ := w.RunOnce(ctx); n != 0 {
			t.Fatal("sent without a gateway")
		}
		var lastErr string
		_ = db.QueryRow(ctx, `SELECT last_error FROM outbox`).Scan(&lastErr)
		if !strings.Contains(lastErr, outbox.ErrNoSender.Error()) {
			t.Errorf("last_error %q", lastErr)
		}
		c.Advance(time.Minute)
		w.Senders = outbox.Config{SMSURL: gw.URL, SMSToken: "tok"}.Senders(c.Now)
		if n, _ := w.RunOnce(ctx); n != 1 {
			t.Fatal("not sent once the gateway is configured")
		}
		if got["phone"] != "13900001111" || got["text"] != "探访提醒：请常回家看看" || auth != "Bearer tok" {
			t.Errorf("gateway got %v, auth %q", got, auth)
		}
	})
}

// fakeSMTP accepts one conversation and keeps the DATA it got.
func fakeSMTP(t *testing.T) (addr string, data <-chan string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		say := func(s string) { _, _ = conn.Write([]byte(s + "\r\n")) }
		say("220 test")
		var body strings.Builder
		inData := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if inData {
				if line == ".\r\n" {
					inData = false
					ch <- body.String()
					say("250 ok")
					continue
				}
				body.WriteString(line)
				continue
			}
			switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
			case strings.HasPrefix(cmd, "EHLO"):
				say("250 test")
			case strings.HasPrefix(cmd, "DATA"):
				inData = true
				say("354 go")
			case strings.HasPrefix(cmd, "QUIT"):
				say("221 bye")
				return
			default:
				say("250 ok")
			}
		}
	}()
	return ln.Addr().String(), ch
}

func TestEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys, c := setup(t, db)
		addr, data := fakeSMTP(t)
		if _, _, err := outbox.AddEndpoint(ctx, db, keys, c.Now(), town, outbox.Email, "duty@town.example", 1); err != nil {
			t.Fatal(err)
		}
		enqueue(t, db, keys, c.Now(), outbox.Message{Kind: "followup.escalated", Subject: "跟踪事项逾期", Body: "燃气安全隐患", Link: "/followups/3"},
			outbox.ToArea(town, "town"))
		w := &outbox.Worker{DB: db, Keys: keys, Now: c.Now, BaseURL: "https://tf.example",
			Senders: outbox.Config{SMTPAddr: addr, SMTPFrom: "noreply@tf.example"}.Senders(c.Now)}
		if n, err := w.RunOnce(ctx); n != 2 || err != nil {
			t.Fatalf("delivered %d, %v", n, err)
		}
		msg := <-data
		if !strings.Contains(msg, "To: duty@town.example") || !strings.Contains(msg, "Subject: =?UTF-8?b?") {
			t.Fatalf("headers: %s", msg)
		}
		_, b64, _ := strings.Cut(msg, "\r\n\r\n")
		text, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(b64, "\r\n", ""))
		if err != nil || string(text) != "燃气安全隐患\r\n\r\nhttps://tf.example/followups/3" {
			t.Errorf("body %q %v", text, err)
		}
	})
}

// Rows belong to the event's transaction: a rolled-back event sends nothing.
func TestEnqueueRollsBackWithEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys, c := setup(t, db)
		boom := errors.New("event failed")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := outbox.Enqueue(ctx, tx, keys, c.Now(), outbox.Message{Kind: "k", Subject: "s"}, outbox.ToArea(village, "village")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		var n int
		_ = db.QueryRow(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&n)
		if n != 0 {
			t.Fatalf("%d rows survived the rollback", n)
		}
	})
}

func TestCheckEndpoint(t *testing.T) {
	for _, tc := range []struct {
		channel, target string
		ok              bool
	}{
		{outbox.Webhook, "https://hook.example/x", true},
		{outbox.Webhook, "ftp://hook.example/x", false},
		{outbox.Webhook, "not a url", false},
		{outbox.Email, "a@b.example", true},
		{outbox.Email, "张三 <a@b.example>", false},
		{"fax", "123", false},
	} {
		if err := outbox.CheckEndpoint(tc.channel, tc.target); (err == nil) != tc.ok {
			t.Errorf("%s %q: %v", tc.channel, tc.target, err)
		}
	}
}
