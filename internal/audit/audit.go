// Package audit keeps the append-only audit log (R-OVS-3, DOMAIN §7): logins,
// reads of a person's file and every change, each row chained to the one
// before it by a SHA-256 hash so that altering or removing a row is detected.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tanfang/internal/store"
)

// Outcomes.
const (
	OK     = "ok"
	Denied = "denied"
	Failed = "failed"
)

// Entry is one audited event. Detail must never hold an ID number, phone or
// name in clear: callers put record ids and field names there, not values.
type Entry struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	ActorID    int64     `json:"actor_id"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	TargetType string    `json:"target_type"`
	TargetID   string    `json:"target_id"`
	AreaCode   string    `json:"area_code"`
	IP         string    `json:"ip"`
	Outcome    string    `json:"outcome"`
	Detail     string    `json:"detail"`
	PrevHash   string    `json:"-"`
	Hash       string    `json:"-"`
}

func (e Entry) digest() string {
	h := sha256.New()
	fields := []string{
		e.PrevHash, strconv.FormatInt(e.ID, 10), store.FormatTime(e.At), strconv.FormatInt(e.ActorID, 10),
		e.Actor, e.Action, e.TargetType, e.TargetID, e.AreaCode, e.IP, e.Outcome, e.Detail,
	}
	for _, f := range fields {
		// Length-prefixing keeps ("ab","c") and ("a","bc") apart.
		fmt.Fprintf(h, "%d:%s|", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Append writes e inside tx, so the audited change and its record commit or
// roll back together.
func Append(ctx context.Context, tx *store.Tx, e Entry) error {
	return AppendMany(ctx, tx, []Entry{e})
}

// AppendMany writes es inside tx in their order, chained as so many
// Appends would chain them, with one read and one update of the chain's
// head (an import audits each file it creates).
func AppendMany(ctx context.Context, tx *store.Tx, es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	lock := ""
	if tx.Dialect() == store.Postgres {
		lock = " FOR UPDATE"
	}
	var lastID int64
	var lastHash string
	// Visits sharing a transaction append one after another: the head
	// the previous one wrote is the head (and on PostgreSQL its row is
	// already locked by this transaction).
	if h, ok := tx.Kept(headKey); ok {
		lastID, lastHash = h.(head).id, h.(head).hash
	} else if err := tx.QueryRow(ctx, "SELECT last_id, hash FROM audit_head WHERE id = 1"+lock).Scan(&lastID, &lastHash); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	rows := make([][]any, len(es))
	for i, e := range es {
		e.ID = lastID + 1
		e.PrevHash = lastHash
		e.At = e.At.UTC().Truncate(time.Millisecond)
		e.Hash = e.digest()
		rows[i] = []any{e.ID, store.FormatTime(e.At), e.ActorID, e.Actor, e.Action, e.TargetType, e.TargetID, e.AreaCode, e.IP, e.Outcome, e.Detail, e.PrevHash, e.Hash}
		lastID, lastHash = e.ID, e.Hash
	}
	if err := tx.InsertMany(ctx, "INSERT INTO audit_log (id, at, actor_id, actor, action, target_type, target_id, area_code, ip, outcome, detail, prev_hash, hash)", rows); err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	if _, err := tx.Exec(ctx, "UPDATE audit_head SET last_id = ?, hash = ? WHERE id = 1", lastID, lastHash); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	tx.Keep(headKey, head{lastID, lastHash})
	return nil
}

// headKey keeps the chain's head in a transaction (store.Tx.Keep).
const headKey = "audit.head"

type head struct {
	id   int64
	hash string
}

// Log appends e on its own (for events that change nothing else, such as
// a failed login or a read), sharing a commit with other writers waiting
// at the same time.
func Log(ctx context.Context, db *store.DB, e Entry) error {
	return db.InTxGrouped(ctx, func(tx *store.Tx) error { return Append(ctx, tx, e) })
}

// BrokenError names the first row where the chain does not hold.
type BrokenError struct {
	ID     int64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit log broken at row %d: %s", e.ID, e.Reason)
}

// Verify walks the whole log in order and returns the number of rows
// checked, or a *BrokenError naming the first row that was altered, removed
// or inserted out of place.
func Verify(ctx context.Context, db *store.DB) (int64, error) {
	rows, err := db.Query(ctx, `SELECT id, at, actor_id, actor, action, target_type, target_id, area_code, ip, outcome, detail, prev_hash, hash
		FROM audit_log ORDER BY id`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n, prevID int64
	prevHash := ""
	for rows.Next() {
		var e Entry
		var at string
		var actorID *int64
		if err := rows.Scan(&e.ID, &at, &actorID, &e.Actor, &e.Action, &e.TargetType, &e.TargetID, &e.AreaCode, &e.IP, &e.Outcome, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return n, err
		}
		if actorID != nil {
			e.ActorID = *actorID
		}
		e.At, err = store.ParseTime(at)
		if err != nil {
			return n, &BrokenError{e.ID, "time is not in the stored format"}
		}
		switch {
		case e.ID != prevID+1:
			return n, &BrokenError{prevID + 1, fmt.Sprintf("row missing (next row found is %d)", e.ID)}
		case e.PrevHash != prevHash:
			return n, &BrokenError{e.ID, "previous-hash link does not match the row before"}
		case e.digest() != e.Hash:
			return n, &BrokenError{e.ID, "contents do not match the row's hash"}
		}
		prevID, prevHash = e.ID, e.Hash
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	var headID int64
	var headHash string
	if err := db.QueryRow(ctx, "SELECT last_id, hash FROM audit_head WHERE id = 1").Scan(&headID, &headHash); err != nil {
		return n, err
	}
	if headID != prevID || headHash != prevHash {
		return n, &BrokenError{headID, "the newest rows were removed (the chain's head records a later row)"}
	}
	return n, nil
}

// Query filters for listing the log.
type Query struct {
	TargetType, TargetID string
	Limit                int
}

// List returns the newest entries first.
func List(ctx context.Context, db *store.DB, q Query) ([]Entry, error) {
	where := []string{"1 = 1"}
	var args []any
	if q.TargetType != "" {
		where = append(where, "target_type = ?")
		args = append(args, q.TargetType)
	}
	if q.TargetID != "" {
		where = append(where, "target_id = ?")
		args = append(args, q.TargetID)
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 100
	}
	rows, err := db.Query(ctx, `SELECT id, at, COALESCE(actor_id, 0), actor, action, target_type, target_id, area_code, ip, outcome, detail
		FROM audit_log WHERE `+strings.Join(where, " AND ")+" ORDER BY id DESC LIMIT "+strconv.Itoa(q.Limit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Actor, &e.Action, &e.TargetType, &e.TargetID, &e.AreaCode, &e.IP, &e.Outcome, &e.Detail); err != nil {
			return nil, err
		}
		e.At = store.MustTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
