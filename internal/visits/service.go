// Package visits keeps what visitors record and what follows from it: the
// visit record of annex 3 (R-VST-6), made on a phone and safe to send twice
// (a client-made UUID per submission); the follow-up items that a poor,
// unsafe or worsening finding, a need or a problem opens, followed until a
// return visit confirms them (R-VST-1..5, R-EMG-4) and escalated when
// overdue; emergencies (R-EMG-1); reminders to families about the duty of
// support (R-VST-3, R-EMG-5); and the benefit rules that flag elders who may
// qualify for something they do not receive (R-VST-4). Notifications are
// written to the outbox in the transaction of their event.
//
// Every visit calls plan.ApplyContact inside the transaction that inserts
// it, so the week's rollup moves with the visit, and a retried submission,
// which inserts nothing, moves nothing.
package visits

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/pii"
	"tanfang/internal/policy/mask"
	"tanfang/internal/store"
)

// Service works on one database with an injected clock.
type Service struct {
	DB   *store.DB
	Keys *pii.Keys
	Now  func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Actor is the account acting, with its area scope.
type Actor struct {
	UserID   int64
	Username string
	Role     string
	AreaCode string
	Scope    areas.Scope
	IP       string
}

// system is the actor of scheduled jobs.
var system = Actor{Username: "system"}

func (a Actor) entry(now time.Time, action, targetType string, targetID int64, area, detail string) audit.Entry {
	return audit.Entry{At: now, ActorID: a.UserID, Actor: a.Username, Action: action, TargetType: targetType,
		TargetID: fmt.Sprint(targetID), AreaCode: area, IP: a.IP, Outcome: audit.OK, Detail: detail}
}

// isStaff: accounts of the government side, which own follow-ups.
func isStaff(role string) bool {
	switch role {
	case auth.RoleVillage, auth.RoleTown, auth.RoleCounty, auth.RoleCity, auth.RoleAdmin:
		return true
	}
	return false
}

// Area codes above an elder's: the village owns follow-ups, the town and
// the county receive escalations. Grids (15 digits) belong to their village.
func villageOf(code string) string { return code[:min(len(code), 12)] }
func townOf(code string) string    { return code[:9] + "000" }
func countyOf(code string) string  { return code[:6] + "000000" }

// elderRef is what this package reads of an elder's file.
type elderRef struct {
	ID          int64
	Name        string
	AreaCode    string
	BirthDate   string // YYYY-MM-DD
	Active      bool
	FCRelation  string
	FCPhoneEnc  []byte
	FCReachable bool
}

// Masked is the elder's name as messages and lists show it.
func (e elderRef) Masked() string { return mask.Name(e.Name) }

// elder reads an elder in scope; outside the scope it does not exist.
func elder(ctx context.Context, q store.Querier, sc areas.Scope, id int64) (elderRef, error) {
	e, err := readElder(ctx, q, id)
	if err == nil && !sc.Contains(e.AreaCode) {
		return elderRef{}, store.ErrNotFound
	}
	return e, err
}

// readElder reads an elder wherever it is, for scheduled jobs.
func readElder(ctx context.Context, q store.Querier, id int64) (elderRef, error) {
	var e elderRef
	var active, reachable int
	err := q.QueryRow(ctx, `SELECT id, name, area_code, birth_date, active, first_contact_relation, first_contact_phone_enc, first_contact_reachable
		FROM elders WHERE id = ?`, id).Scan(&e.ID, &e.Name, &e.AreaCode, &e.BirthDate, &active, &e.FCRelation, &e.FCPhoneEnc, &reachable)
	if errors.Is(err, sql.ErrNoRows) {
		return elderRef{}, store.ErrNotFound
	}
	if err != nil {
		return elderRef{}, fmt.Errorf("read elder %d: %w", id, err)
	}
	e.Active, e.FCReachable = active == 1, reachable == 1
	return e, nil
}

// familyPhone is the first contact's phone when the first contact is
// family (R-REC-2 puts a village contact there when there is none) and can
// be reached.
func (s *Service) familyPhone(e elderRef) string {
	if e.FCRelation == "village" || !e.FCReachable || len(e.FCPhoneEnc) == 0 {
		return ""
	}
	p, err := s.Keys.Open("phone", e.FCPhoneEnc)
	if err != nil {
		return ""
	}
	return p
}

// areaRange is the code range under an area in scope.
func areaRange(ctx context.Context, q store.Querier, sc areas.Scope, code string) (lo, hi string, err error) {
	var level string
	err = q.QueryRow(ctx, `SELECT level FROM areas WHERE code = ?`, code).Scan(&level)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !sc.Contains(code)) {
		return "", "", store.ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("area %s: %w", code, err)
	}
	lo, hi = store.PrefixRange(areas.PrefixOf(code, level))
	return lo, hi, nil
}

func areaName(ctx context.Context, q store.Querier, code string) string {
	var n string
	if err := q.QueryRow(ctx, `SELECT name FROM areas WHERE code = ?`, code).Scan(&n); err != nil {
		return code
	}
	return n
}

// Rules returns the settings in force.
func (s *Service) Rules(ctx context.Context) (Rules, error) {
	var raw string
	err := s.DB.QueryRow(ctx, `SELECT rules FROM visit_settings WHERE id = 1`).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultRules(), nil
	}
	if err != nil {
		return Rules{}, fmt.Errorf("read visit settings: %w", err)
	}
	r := DefaultRules()
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return Rules{}, fmt.Errorf("visit settings: %w", err)
	}
	return r, nil
}

// SetRules replaces the settings; only the city bureau and administrators
// may, since they apply everywhere.
func (s *Service) SetRules(ctx context.Context, a Actor, r Rules) error {
	if a.Role != auth.RoleAdmin && a.Role != auth.RoleCity {
		return forbidden("探访设置由市民政局或系统管理员修改")
	}
	if err := r.Validate(); err != nil {
		return err
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	now := s.now()
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO visit_settings (id, rules, updated_by, updated_at) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET rules = excluded.rules, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			string(raw), a.UserID, store.FormatTime(now)); err != nil {
			return fmt.Errorf("save visit settings: %w", err)
		}
		return audit.Append(ctx, tx, a.entry(now, "visits.settings", "visit_settings", 1, a.AreaCode, ""))
	})
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return store.FormatTime(*t)
}

func timePtr(s sql.NullString) *time.Time {
	if !s.Valid || s.String == "" {
		return nil
	}
	t := store.MustTime(s.String)
	return &t
}

func idPtr(n sql.NullInt64) *int64 {
	if !n.Valid || n.Int64 == 0 {
		return nil
	}
	v := n.Int64
	return &v
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
