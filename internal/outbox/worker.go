package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"tanfang/internal/pii"
	"tanfang/internal/store"
)

// Delivery is one claimed row, ready to send. To is in clear: the webhook
// URL, the e-mail address or the phone number.
type Delivery struct {
	ID        int64
	Kind      string
	Channel   string
	AreaCode  string
	Role      string
	UserID    int64
	To        string
	Secret    string // webhook signing secret
	Subject   string
	Body      string
	Link      string // absolute when the worker has a BaseURL
	Attempt   int
	CreatedAt time.Time
}

// Sender delivers on one external channel.
type Sender interface {
	Send(ctx context.Context, d Delivery) error
}

// ErrNoSender is recorded on rows of a channel this server has not been
// configured for; they keep being retried, so configuring it and restarting
// delivers them.
var ErrNoSender = errors.New("channel not configured")

// Worker claims due rows and delivers them.
type Worker struct {
	DB      *store.DB
	Keys    *pii.Keys
	Now     func() time.Time
	Senders map[string]Sender // webhook, email, sms; the inbox is built in
	BaseURL string            // makes links absolute for external channels
	Owner   string            // lease owner name; random when empty
	// Lease is how long a claimed row belongs to this worker; after that a
	// row not marked sent (the worker died) is claimed again.
	Lease       time.Duration
	Batch       int
	MaxAttempts int
	// Backoff after the nth failed attempt is BaseBackoff·2^(n-1), at most MaxBackoff.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	Log         *slog.Logger

	// unconfigured holds the channels already reported as not configured:
	// their rows wait, and one warning per channel says so.
	unconfigured sync.Map
}

func (w *Worker) defaults() {
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Owner == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		w.Owner = "w-" + hex.EncodeToString(b[:])
	}
	if w.Lease <= 0 {
		w.Lease = 2 * time.Minute
	}
	if w.Batch <= 0 {
		w.Batch = 20
	}
	if w.MaxAttempts <= 0 {
		w.MaxAttempts = 15
	}
	if w.BaseBackoff <= 0 {
		w.BaseBackoff = 30 * time.Second
	}
	if w.MaxBackoff <= 0 {
		w.MaxBackoff = 6 * time.Hour
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
}

// Backoff is the wait after the nth failed attempt.
func (w *Worker) Backoff(n int) time.Duration {
	w.defaults()
	d := w.BaseBackoff
	for i := 1; i < n && d < w.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, w.MaxBackoff)
}

const claimCols = `id, kind, channel, area_code, role, COALESCE(user_id, 0), COALESCE(endpoint_id, 0), to_enc, subject, body, link, attempts, created_at`

// Claim leases up to Batch due rows to this worker and returns them. It is
// exported so a test can play a worker that dies after claiming.
func (w *Worker) Claim(ctx context.Context) ([]Delivery, error) {
	w.defaults()
	now := w.Now()
	nowS := store.FormatTime(now)
	lock := ""
	if w.DB.Dialect == store.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	type claimed struct {
		d          Delivery
		endpointID int64
		toEnc      []byte
	}
	var rows []claimed
	err := w.DB.InTx(ctx, func(tx *store.Tx) error {
		// The due conditions are repeated outside the sub-select so that a
		// row another worker claimed meanwhile is not taken twice.
		rs, err := tx.Query(ctx, `UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
			WHERE status = 'pending' AND next_at <= ? AND lease_until <= ? AND id IN (
				SELECT id FROM outbox WHERE status = 'pending' AND next_at <= ? AND lease_until <= ?
				ORDER BY id LIMIT ?`+lock+`)
			RETURNING `+claimCols,
			w.Owner, store.FormatTime(now.Add(w.Lease)), nowS, nowS, nowS, nowS, w.Batch)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var c claimed
			var created string
			if err := rs.Scan(&c.d.ID, &c.d.Kind, &c.d.Channel, &c.d.AreaCode, &c.d.Role, &c.d.UserID, &c.endpointID,
				&c.toEnc, &c.d.Subject, &c.d.Body, &c.d.Link, &c.d.Attempt, &created); err != nil {
				return err
			}
			c.d.CreatedAt = store.MustTime(created)
			rows = append(rows, c)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox rows: %w", err)
	}
	out := make([]Delivery, 0, len(rows))
	for _, c := range rows {
		d := c.d
		if err := w.resolve(ctx, &d, c.endpointID, c.toEnc); err != nil {
			w.fail(ctx, d, err)
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// resolve fills the clear recipient of a claimed row.
func (w *Worker) resolve(ctx context.Context, d *Delivery, endpointID int64, toEnc []byte) error {
	if d.Link != "" && w.BaseURL != "" && d.Channel != Inbox {
		d.Link = strings.TrimRight(w.BaseURL, "/") + d.Link
	}
	switch {
	case d.Channel == SMS:
		phone, err := w.Keys.Open(phoneKind, toEnc)
		if err != nil {
			return fmt.Errorf("open recipient: %w", err)
		}
		d.To = phone
	case endpointID != 0:
		var sealed []byte
		if err := w.DB.QueryRow(ctx, `SELECT target, secret_enc FROM notify_endpoints WHERE id = ?`, endpointID).Scan(&d.To, &sealed); err != nil {
			return fmt.Errorf("endpoint %d: %w", endpointID, err)
		}
		secret, err := w.Keys.Open(secretKind, sealed)
		if err != nil {
			return fmt.Errorf("open endpoint secret: %w", err)
		}
		d.Secret = secret
	}
	return nil
}

// Deliver sends one claimed row and records the outcome.
func (w *Worker) Deliver(ctx context.Context, d Delivery) error {
	w.defaults()
	var err error
	if d.Channel == Inbox {
		err = w.deliverInbox(ctx, d)
		if err == nil {
			return nil
		}
	} else if s := w.Senders[d.Channel]; s == nil {
		err = ErrNoSender
	} else {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = s.Send(sctx, d)
		cancel()
	}
	if err != nil {
		w.fail(ctx, d, err)
		return err
	}
	_, err = w.DB.Exec(ctx, `UPDATE outbox SET status = 'sent', sent_at = ?, lease_owner = '', lease_until = '', last_error = ''
		WHERE id = ? AND lease_owner = ?`, store.FormatTime(w.Now()), d.ID, w.Owner)
	if err != nil {
		return fmt.Errorf("mark outbox %d sent: %w", d.ID, err)
	}
	return nil
}

// deliverInbox writes the inbox message and marks the row sent together;
// the unique outbox_id keeps a second delivery from adding a copy.
func (w *Worker) deliverInbox(ctx context.Context, d Delivery) error {
	now := store.FormatTime(w.Now())
	return w.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO inbox_messages (outbox_id, area_code, role, user_id, kind, subject, body, link, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (outbox_id) DO NOTHING`,
			d.ID, d.AreaCode, d.Role, nullID(d.UserID), d.Kind, d.Subject, d.Body, d.Link, store.FormatTime(d.CreatedAt)); err != nil {
			return fmt.Errorf("write inbox message: %w", err)
		}
		_, err := tx.Exec(ctx, `UPDATE outbox SET status = 'sent', sent_at = ?, lease_owner = '', lease_until = '', last_error = ''
			WHERE id = ? AND lease_owner = ?`, now, d.ID, w.Owner)
		return err
	})
}

// fail schedules the next attempt, or gives up after MaxAttempts.
func (w *Worker) fail(ctx context.Context, d Delivery, cause error) {
	next := w.Now().Add(w.Backoff(d.Attempt))
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	_, err := w.DB.Exec(ctx, `UPDATE outbox SET lease_owner = '', lease_until = '', next_at = ?, last_error = ?,
		status = CASE WHEN attempts >= ? THEN 'dead' ELSE 'pending' END
		WHERE id = ? AND lease_owner = ?`, store.FormatTime(next), msg, w.MaxAttempts, d.ID, w.Owner)
	if err != nil {
		w.Log.Error("outbox: record failure", "id", d.ID, "err", err)
	}
	if errors.Is(cause, ErrNoSender) {
		if _, seen := w.unconfigured.LoadOrStore(d.Channel, true); seen {
			w.Log.Debug("outbox: channel not configured", "id", d.ID, "channel", d.Channel, "attempt", d.Attempt)
			return
		}
		w.Log.Warn("outbox: channel not configured; its messages are retried with backoff up to the attempt limit, and go out if it is configured and the server restarted meanwhile",
			"channel", d.Channel)
		return
	}
	w.Log.Warn("outbox: delivery failed", "id", d.ID, "channel", d.Channel, "attempt", d.Attempt, "err", msg)
}

// RunOnce claims one batch and delivers it; it returns how many rows were
// delivered.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	ds, err := w.Claim(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range ds {
		if w.Deliver(ctx, d) == nil {
			n++
		}
	}
	return n, nil
}

// Run delivers until ctx ends, polling every poll when idle.
func (w *Worker) Run(ctx context.Context, poll time.Duration) {
	w.defaults()
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.Log.Error("outbox", "err", err)
		}
		if n >= w.Batch {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
