package visits

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/outbox"
	"tanfang/internal/policy/mask"
	"tanfang/internal/store"
)

// What can happen, and whom a visitor calls (R-EMG-1).
var (
	EmergencyKinds = []Choice{
		{"fall", "跌倒"}, {"sudden_illness", "突发疾病"}, {"missing", "走失"},
		{"fire_gas", "火灾或燃气泄漏"}, {"injury", "意外受伤"}, {"other", "其他"},
	}
	Called = []Choice{{"120", "120急救"}, {"110", "110报警"}, {"119", "119火警"}, {"family", "家属"}}
)

// Emergency statuses.
const (
	EmergencyOpen   = "open"
	EmergencyClosed = "closed"
)

// EmergencyInput raises an emergency. ClientID (optional) makes a retried
// submission return the first one.
type EmergencyInput struct {
	ClientID string   `json:"client_id"`
	ElderID  int64    `json:"elder_id"`
	What     string   `json:"what"`
	Detail   string   `json:"detail"`
	Called   []string `json:"called"`
	Actions  string   `json:"actions"`
}

// Emergency is one emergency with its handling record.
type Emergency struct {
	ID          int64           `json:"id"`
	ElderID     int64           `json:"elder_id"`
	ElderMasked string          `json:"elder_name_masked"`
	AreaCode    string          `json:"area_code"`
	What        string          `json:"what"`
	Detail      string          `json:"detail"`
	Called      []string        `json:"called"`
	Actions     string          `json:"actions"`
	Status      string          `json:"status"`
	RaisedBy    int64           `json:"raised_by"`
	RaisedAt    time.Time       `json:"raised_at"`
	ClosedAt    *time.Time      `json:"closed_at"`
	Handling    string          `json:"handling"`
	Notes       []EmergencyNote `json:"notes"`
}

// EmergencyNote is one step of the handling record.
type EmergencyNote struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"` // raised, note, closed
	Note   string    `json:"note"`
}

// WhatLabel is the kind as pages show it.
func (e Emergency) WhatLabel() string { return Label(EmergencyKinds, e.What) }

// CalledLabel lists who was called.
func (e Emergency) CalledLabel() string { return labels(Called, e.Called) }

const emergencyCols = `m.id, m.elder_id, e.name, m.area_code, m.what, m.detail, m.called, m.actions, m.status, m.raised_by, m.raised_at, m.closed_at, m.handling`

func scanEmergency(row interface{ Scan(...any) error }) (Emergency, error) {
	var m Emergency
	var name, called, raised string
	var closed sql.NullString
	err := row.Scan(&m.ID, &m.ElderID, &name, &m.AreaCode, &m.What, &m.Detail, &called, &m.Actions, &m.Status, &m.RaisedBy, &raised, &closed, &m.Handling)
	if errors.Is(err, sql.ErrNoRows) {
		return m, store.ErrNotFound
	}
	if err != nil {
		return m, fmt.Errorf("read emergency: %w", err)
	}
	m.ElderMasked, m.Called, m.RaisedAt, m.ClosedAt = mask.Name(name), split(called), store.MustTime(raised), timePtr(closed)
	return m, nil
}

// RaiseEmergency records an emergency and, in the same transaction,
// notifies the first contact (SMS), the village and the town (inbox and
// their endpoints) at once. Any account in scope may raise one.
func (s *Service) RaiseEmergency(ctx context.Context, a Actor, in EmergencyInput) (Emergency, bool, error) {
	if a.Role == auth.RoleOrg || a.Role == auth.RoleFamily {
		return Emergency{}, false, forbidden("您的角色不能上报紧急情况")
	}
	var c checker
	var clientID any
	if in.ClientID != "" {
		if id, err := uuid.Parse(in.ClientID); err != nil || len(in.ClientID) != 36 {
			c.add("client_id", "提交编号（client_id）应为UUID")
		} else {
			clientID = id.String()
		}
	}
	if in.ElderID <= 0 {
		c.add("elder_id", "请选择老人")
	}
	if !known(EmergencyKinds, in.What) {
		c.add("what", "请选择发生了什么")
	}
	called := c.codes("called", "已拨打或联系", Called, in.Called)
	detail := c.text("detail", "情况说明", in.Detail, 500)
	if in.What == "other" && detail == "" {
		c.add("detail", "选择“其他”时请简要说明情况")
	}
	actions := c.lines("actions", "已采取的措施", in.Actions, 500)
	if err := c.err(); err != nil {
		return Emergency{}, false, err
	}
	if clientID != nil {
		if m, err := s.emergencyByClient(ctx, s.DB, clientID.(string)); err == nil {
			if m.ElderID != in.ElderID || m.RaisedBy != a.UserID {
				return Emergency{}, false, &ClientIDReused{ExistingID: m.ID}
			}
			return m, false, nil
		}
	}
	el, err := elder(ctx, s.DB, a.Scope, in.ElderID)
	if err != nil {
		return Emergency{}, false, err
	}
	now := s.now()
	var id int64
	created := false
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO emergencies (client_id, elder_id, area_code, what, detail, called, actions, raised_by, raised_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (client_id) DO NOTHING RETURNING id`,
			clientID, el.ID, el.AreaCode, in.What, detail, strings.Join(called, ","), actions, a.UserID, store.FormatTime(now)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("insert emergency: %w", err)
		}
		created = true
		if err := emergencyNote(ctx, tx, id, now, a, "raised", ""); err != nil {
			return err
		}
		village := areaName(ctx, tx, villageOf(el.AreaCode))
		what := Label(EmergencyKinds, in.What)
		msg := outbox.Message{Kind: "emergency", Subject: "紧急情况：" + what,
			Body: fmt.Sprintf("%s（%s）发生%s。已联系：%s。请立即跟进处置。", el.Masked(), village, what, orNone(labels(Called, called))),
			Link: fmt.Sprintf("/emergencies/%d", id), RefType: "emergency", RefID: id}
		to := []outbox.Target{outbox.ToArea(villageOf(el.AreaCode), auth.RoleVillage), outbox.ToArea(townOf(el.AreaCode), auth.RoleTown)}
		if phone := s.familyPhone(el); phone != "" {
			to = append(to, outbox.ToPhone(phone, el.AreaCode))
		}
		if _, err := outbox.Enqueue(ctx, tx, s.Keys, now, msg, to...); err != nil {
			return err
		}
		return audit.Append(ctx, tx, a.entry(now, "emergency.raise", "emergency", id, el.AreaCode, "what="+in.What))
	})
	if err != nil {
		return Emergency{}, false, err
	}
	if !created {
		m, err := s.emergencyByClient(ctx, s.DB, clientID.(string))
		return m, false, err
	}
	m, err := s.Emergency(ctx, a.Scope, id)
	return m, true, err
}

func orNone(s string) string {
	if s == "" {
		return "暂无"
	}
	return s
}

func (s *Service) emergencyByClient(ctx context.Context, q store.Querier, clientID string) (Emergency, error) {
	return scanEmergency(q.QueryRow(ctx, "SELECT "+emergencyCols+" FROM emergencies m JOIN elders e ON e.id = m.elder_id WHERE m.client_id = ?", clientID))
}

func emergencyNote(ctx context.Context, tx *store.Tx, id int64, now time.Time, a Actor, action, note string) error {
	_, err := tx.Exec(ctx, `INSERT INTO emergency_notes (emergency_id, at, actor_id, actor, action, note) VALUES (?, ?, ?, ?, ?, ?)`,
		id, store.FormatTime(now), a.UserID, a.Username, action, note)
	if err != nil {
		return fmt.Errorf("emergency note: %w", err)
	}
	return nil
}

// Emergency reads one emergency in scope with its handling record.
func (s *Service) Emergency(ctx context.Context, sc areas.Scope, id int64) (Emergency, error) {
	m, err := scanEmergency(s.DB.QueryRow(ctx, "SELECT "+emergencyCols+" FROM emergencies m JOIN elders e ON e.id = m.elder_id WHERE m.id = ?", id))
	if err != nil {
		return m, err
	}
	if !sc.Contains(m.AreaCode) {
		return Emergency{}, store.ErrNotFound
	}
	rows, err := s.DB.Query(ctx, `SELECT at, actor, action, note FROM emergency_notes WHERE emergency_id = ? ORDER BY id`, id)
	if err != nil {
		return m, fmt.Errorf("emergency notes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n EmergencyNote
		var at string
		if err := rows.Scan(&at, &n.Actor, &n.Action, &n.Note); err != nil {
			return m, err
		}
		n.At = store.MustTime(at)
		m.Notes = append(m.Notes, n)
	}
	return m, rows.Err()
}

// Emergencies lists emergencies in scope, open ones first, newest first;
// openOnly leaves out the archive.
func (s *Service) Emergencies(ctx context.Context, sc areas.Scope, openOnly bool, limit int) ([]Emergency, error) {
	lo, hi := sc.Range()
	q := "SELECT " + emergencyCols + " FROM emergencies m JOIN elders e ON e.id = m.elder_id WHERE m.area_code >= ? AND m.area_code < ?"
	if openOnly {
		q += " AND m.status = 'open'"
	}
	rows, err := s.DB.Query(ctx, q+" ORDER BY CASE WHEN m.status = 'open' THEN 0 ELSE 1 END, m.raised_at DESC, m.id DESC LIMIT ?", lo, hi, limit)
	if err != nil {
		return nil, fmt.Errorf("list emergencies: %w", err)
	}
	defer rows.Close()
	out := []Emergency{}
	for rows.Next() {
		m, err := scanEmergency(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// NoteEmergency adds a step to the handling record; close ends it with the
// handling summary (only staff close, so an emergency stays on the
// village's and town's pages until someone accountable says it is over).
func (s *Service) NoteEmergency(ctx context.Context, a Actor, id int64, note string, close bool) (Emergency, error) {
	m, err := s.Emergency(ctx, a.Scope, id)
	if err != nil {
		return m, err
	}
	var c checker
	note = c.lines("note", "处置情况", note, 1000)
	if note == "" {
		c.add("note", "请填写处置情况")
	}
	if err := c.err(); err != nil {
		return m, err
	}
	if m.Status != EmergencyOpen {
		return m, invalid("status", "该紧急情况已结束并归档")
	}
	if close && !isStaff(a.Role) {
		return m, forbidden("紧急情况由村（居）委会及上级工作人员确认结束")
	}
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		action := "note"
		if close {
			action = "closed"
			res, err := tx.Exec(ctx, `UPDATE emergencies SET status = 'closed', closed_by = ?, closed_at = ?, handling = ? WHERE id = ? AND status = 'open'`,
				a.UserID, store.FormatTime(now), note, id)
			if err != nil {
				return fmt.Errorf("close emergency: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return invalid("status", "该紧急情况已结束并归档")
			}
		}
		if err := emergencyNote(ctx, tx, id, now, a, action, note); err != nil {
			return err
		}
		return audit.Append(ctx, tx, a.entry(now, "emergency."+action, "emergency", id, m.AreaCode, ""))
	})
	if err != nil {
		return m, err
	}
	return s.Emergency(ctx, a.Scope, id)
}
