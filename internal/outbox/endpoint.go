package outbox

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"tanfang/internal/pii"
	"tanfang/internal/store"
)

// secretKind is the pii kind webhook secrets are sealed under.
const secretKind = "webhook_secret"

// Endpoint is where an area's notifications go besides the inbox.
type Endpoint struct {
	ID        int64     `json:"id"`
	AreaCode  string    `json:"area_code"`
	Channel   string    `json:"channel"` // webhook or email
	Target    string    `json:"target"`  // URL or e-mail address
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

// InvalidError is bad endpoint input, in Chinese, naming the field.
type InvalidError struct{ Field, Message string }

func (e *InvalidError) Error() string { return e.Field + ": " + e.Message }

// CheckEndpoint validates a channel and target.
func CheckEndpoint(channel, target string) error {
	switch channel {
	case Webhook:
		u, err := url.Parse(target)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return &InvalidError{"target", "推送地址应为以 http:// 或 https:// 开头的网址"}
		}
	case Email:
		a, err := mail.ParseAddress(target)
		if err != nil || a.Address != target {
			return &InvalidError{"target", "电子邮箱地址格式不正确"}
		}
	default:
		return &InvalidError{"channel", "通知渠道应为 webhook 或 email"}
	}
	return nil
}

// AddEndpoint registers an endpoint for an area. For a webhook it returns
// the signing secret, which is shown once and stored only sealed.
func AddEndpoint(ctx context.Context, db *store.DB, keys *pii.Keys, now time.Time, area, channel, target string, actorID int64) (Endpoint, string, error) {
	target = strings.TrimSpace(target)
	if err := CheckEndpoint(channel, target); err != nil {
		return Endpoint{}, "", err
	}
	var secret string
	var sealed []byte
	if channel == Webhook {
		var b [32]byte
		_, _ = rand.Read(b[:])
		secret = hex.EncodeToString(b[:])
		sealed = keys.Seal(secretKind, secret)
	}
	ep := Endpoint{AreaCode: area, Channel: channel, Target: target, Active: true, CreatedAt: now.UTC()}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		ep.ID, err = tx.InsertID(ctx, `INSERT INTO notify_endpoints (area_code, channel, target, secret_enc, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, area, channel, target, sealed, actorID, store.FormatTime(now))
		return err
	})
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("add endpoint: %w", err)
	}
	return ep, secret, nil
}

// Endpoints lists the endpoints of the areas in [lo, hi).
func Endpoints(ctx context.Context, db *store.DB, lo, hi string) ([]Endpoint, error) {
	rows, err := db.Query(ctx, `SELECT id, area_code, channel, target, active, created_at FROM notify_endpoints
		WHERE area_code >= ? AND area_code < ? ORDER BY area_code, id`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	defer rows.Close()
	out := []Endpoint{}
	for rows.Next() {
		var ep Endpoint
		var active int
		var created string
		if err := rows.Scan(&ep.ID, &ep.AreaCode, &ep.Channel, &ep.Target, &active, &created); err != nil {
			return nil, err
		}
		ep.Active, ep.CreatedAt = active == 1, store.MustTime(created)
		out = append(out, ep)
	}
	return out, rows.Err()
}

// GetEndpoint reads one endpoint.
func GetEndpoint(ctx context.Context, db *store.DB, id int64) (Endpoint, error) {
	var ep Endpoint
	var active int
	var created string
	err := db.QueryRow(ctx, `SELECT id, area_code, channel, target, active, created_at FROM notify_endpoints WHERE id = ?`, id).
		Scan(&ep.ID, &ep.AreaCode, &ep.Channel, &ep.Target, &active, &created)
	if err != nil {
		return ep, notFound(err)
	}
	ep.Active, ep.CreatedAt = active == 1, store.MustTime(created)
	return ep, nil
}

// DisableEndpoint stops new rows for an endpoint; rows already queued for
// it are still delivered.
func DisableEndpoint(ctx context.Context, db *store.DB, id int64) error {
	_, err := db.Exec(ctx, `UPDATE notify_endpoints SET active = 0 WHERE id = ?`, id)
	return err
}

func endpointsOf(ctx context.Context, tx *store.Tx, area string) ([]Endpoint, error) {
	rows, err := tx.Query(ctx, `SELECT id, channel FROM notify_endpoints WHERE area_code = ? AND active = 1 ORDER BY id`, area)
	if err != nil {
		return nil, fmt.Errorf("endpoints of %s: %w", area, err)
	}
	defer rows.Close()
	var out []Endpoint
	for rows.Next() {
		var ep Endpoint
		if err := rows.Scan(&ep.ID, &ep.Channel); err != nil {
			return nil, err
		}
		out = append(out, ep)
	}
	return out, rows.Err()
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
