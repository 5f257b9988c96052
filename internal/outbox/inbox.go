package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"tanfang/internal/pii"
	"tanfang/internal/store"
)

// Start runs one delivery worker until ctx ends; serve calls it. Every
// app server may run one: leases keep them from sending a row twice.
func Start(ctx context.Context, db *store.DB, keys *pii.Keys, cfg Config, log *slog.Logger) {
	w := &Worker{DB: db, Keys: keys, Senders: cfg.Senders(time.Now), BaseURL: cfg.BaseURL, Log: log}
	log.Info("outbox worker started", "channels", cfg.describe())
	go w.Run(ctx, 2*time.Second)
}

// InboxMessage is one message in an account's inbox.
type InboxMessage struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	Subject   string    `json:"subject"`
	Body      string    `json:"body"`
	Link      string    `json:"link"`
	CreatedAt time.Time `json:"created_at"`
}

// InboxFor lists the newest messages for an account: those sent to it, and
// those sent to its role in its area.
func InboxFor(ctx context.Context, db *store.DB, userID int64, area, role string, limit int) ([]InboxMessage, error) {
	rows, err := db.Query(ctx, `SELECT id, kind, subject, body, link, created_at FROM inbox_messages
		WHERE user_id = ? OR (area_code = ? AND role = ?) ORDER BY id DESC LIMIT ?`, userID, area, role, limit)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	defer rows.Close()
	out := []InboxMessage{}
	for rows.Next() {
		var m InboxMessage
		var at string
		if err := rows.Scan(&m.ID, &m.Kind, &m.Subject, &m.Body, &m.Link, &at); err != nil {
			return nil, err
		}
		m.CreatedAt = store.MustTime(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Row is an outbox row as a status page shows it (recipients masked).
type Row struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	Channel   string    `json:"channel"`
	AreaCode  string    `json:"area_code"`
	Role      string    `json:"role,omitempty"`
	ToMasked  string    `json:"to_masked,omitempty"`
	Subject   string    `json:"subject"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// RowsFor lists the outbox rows about one thing (an emergency, a reminder),
// so its page can show whether each notification went out.
func RowsFor(ctx context.Context, db *store.DB, refType string, refID int64) ([]Row, error) {
	rows, err := db.Query(ctx, `SELECT id, kind, channel, area_code, role, to_masked, subject, status, attempts, last_error, created_at
		FROM outbox WHERE ref_type = ? AND ref_id = ? ORDER BY id`, refType, refID)
	if err != nil {
		return nil, fmt.Errorf("outbox rows: %w", err)
	}
	defer rows.Close()
	out := []Row{}
	for rows.Next() {
		var r Row
		var at string
		if err := rows.Scan(&r.ID, &r.Kind, &r.Channel, &r.AreaCode, &r.Role, &r.ToMasked, &r.Subject, &r.Status, &r.Attempts, &r.LastError, &at); err != nil {
			return nil, err
		}
		r.CreatedAt = store.MustTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
