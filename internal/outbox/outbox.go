// Package outbox delivers notifications without losing any (DESIGN "Nothing
// lost"): the event that causes a notification writes it into the outbox
// table in its own transaction, and workers deliver the rows afterwards with
// retries and exponential backoff. A worker leases the rows it claims; when
// it dies mid-delivery the lease runs out and another worker claims them
// again, so delivery is at least once and receivers de-duplicate on the row
// id (sent as X-Tanfang-Delivery).
//
// Channels: the in-app inbox (always), webhooks with an HMAC-SHA256 signed
// body, SMTP e-mail and an SMS gateway. Messages carry masked names and
// phone numbers only; the one clear phone number, an SMS recipient's, is
// stored sealed and opened just before sending.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"tanfang/internal/pii"
	"tanfang/internal/policy/mask"
	"tanfang/internal/store"
)

// Channels.
const (
	Inbox   = "inbox"
	Webhook = "webhook"
	Email   = "email"
	SMS     = "sms"
)

// Row statuses.
const (
	StatusPending = "pending"
	StatusSent    = "sent"
	StatusDead    = "dead" // gave up after MaxAttempts
)

// phoneKind is the pii kind the registry seals phone numbers under.
const phoneKind = "phone"

// Message is what to tell. Subject and Body must already be masked.
type Message struct {
	Kind    string // e.g. "emergency", "followup.escalated"
	Subject string
	Body    string
	Link    string // a path on this site, e.g. /followups/12
	RefType string // what the message is about, e.g. "emergency"
	RefID   int64
}

// Target is who to tell.
type Target struct {
	areaCode string
	roles    []string
	userID   int64
	phone    string
}

// ToArea addresses the accounts of roles in one area (their inbox) and the
// webhook and e-mail endpoints registered for that area.
func ToArea(code string, roles ...string) Target { return Target{areaCode: code, roles: roles} }

// ToUser addresses one account's inbox.
func ToUser(id int64) Target { return Target{userID: id} }

// ToPhone addresses a phone number by SMS; area is where the message
// belongs (the elder's village), for scoping lists of deliveries.
func ToPhone(phone, area string) Target { return Target{phone: phone, areaCode: area} }

// Enqueue writes one outbox row per recipient inside tx, so the rows commit
// or roll back with the event. It returns how many rows it wrote. keys
// seal SMS recipients' numbers; other targets need none.
func Enqueue(ctx context.Context, tx *store.Tx, keys *pii.Keys, now time.Time, m Message, targets ...Target) (int, error) {
	n := 0
	add := func(channel, area, role string, userID, endpointID int64, toEnc []byte, toMasked string) error {
		_, err := tx.Exec(ctx, `INSERT INTO outbox (kind, channel, area_code, role, user_id, endpoint_id, to_enc, to_masked,
			subject, body, link, ref_type, ref_id, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.Kind, channel, area, role, nullID(userID), nullID(endpointID), toEnc, toMasked,
			m.Subject, m.Body, m.Link, m.RefType, m.RefID, store.FormatTime(now), store.FormatTime(now))
		if err != nil {
			return fmt.Errorf("enqueue %s: %w", channel, err)
		}
		n++
		return nil
	}
	for _, t := range targets {
		switch {
		case t.phone != "":
			if keys == nil {
				return n, errors.New("enqueue sms: no keys to seal the phone number")
			}
			if err := add(SMS, t.areaCode, "", 0, 0, keys.Seal(phoneKind, t.phone), mask.Phone(t.phone)); err != nil {
				return n, err
			}
		case t.userID != 0:
			if err := add(Inbox, "", "", t.userID, 0, nil, ""); err != nil {
				return n, err
			}
		case t.areaCode != "":
			for _, role := range t.roles {
				if err := add(Inbox, t.areaCode, role, 0, 0, nil, ""); err != nil {
					return n, err
				}
			}
			eps, err := endpointsOf(ctx, tx, t.areaCode)
			if err != nil {
				return n, err
			}
			for _, ep := range eps {
				if err := add(ep.Channel, t.areaCode, "", 0, ep.ID, nil, ""); err != nil {
					return n, err
				}
			}
		}
	}
	return n, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
