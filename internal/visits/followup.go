package visits

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/outbox"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/mask"
	"tanfang/internal/store"
)

// Followup is one follow-up item.
type Followup struct {
	ID            int64      `json:"id"`
	ElderID       int64      `json:"elder_id"`
	ElderMasked   string     `json:"elder_name_masked"`
	AreaCode      string     `json:"area_code"`
	VisitID       *int64     `json:"visit_id"`
	Kind          string     `json:"kind"`
	Source        string     `json:"source"`
	Severity      string     `json:"severity"`
	Status        string     `json:"status"`
	Summary       string     `json:"summary"`
	DueAt         time.Time  `json:"due_at"`
	Overdue       bool       `json:"overdue"`
	Level         string     `json:"level"`
	ReferredType  string     `json:"referred_type"`
	ReferredTo    string     `json:"referred_to"`
	ProviderID    *int64     `json:"provider_id"`
	ResolvedAt    *time.Time `json:"resolved_at"`
	VerifiedAt    *time.Time `json:"verified_at"`
	VerifyVisitID *int64     `json:"verify_visit_id"`
	Version       int        `json:"version"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// Event is one step in a follow-up's history.
type Event struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	ActorID int64     `json:"actor_id"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"` // created, seen_again, moved, reopened, verified, escalated
	From    string    `json:"from_status"`
	To      string    `json:"to_status"`
	Reason  string    `json:"reason"`
	VisitID *int64    `json:"visit_id"`
}

const followupCols = `f.id, f.elder_id, e.name, f.area_code, f.visit_id, f.kind, f.source, f.severity, f.status, f.summary, f.due_at,
	f.level, f.referred_type, f.referred_to, f.provider_id, f.resolved_at, f.verified_at, f.verify_visit_id, f.version, f.created_at, f.updated_at`

const followupFrom = ` FROM followups f JOIN elders e ON e.id = f.elder_id`

func scanFollowup(row interface{ Scan(...any) error }, now time.Time) (Followup, error) {
	var f Followup
	var name, due, created, updated string
	var visit, provider, verifyVisit sql.NullInt64
	var resolved, verified sql.NullString
	err := row.Scan(&f.ID, &f.ElderID, &name, &f.AreaCode, &visit, &f.Kind, &f.Source, &f.Severity, &f.Status, &f.Summary, &due,
		&f.Level, &f.ReferredType, &f.ReferredTo, &provider, &resolved, &verified, &verifyVisit, &f.Version, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return f, store.ErrNotFound
	}
	if err != nil {
		return f, fmt.Errorf("read follow-up: %w", err)
	}
	f.ElderMasked = mask.Name(name)
	f.VisitID, f.ProviderID, f.VerifyVisitID = idPtr(visit), idPtr(provider), idPtr(verifyVisit)
	f.DueAt, f.CreatedAt, f.UpdatedAt = store.MustTime(due), store.MustTime(created), store.MustTime(updated)
	f.ResolvedAt, f.VerifiedAt = timePtr(resolved), timePtr(verified)
	f.Overdue = Active(f.Status) && now.After(f.DueAt)
	return f, nil
}

func addEvent(ctx context.Context, tx *store.Tx, id int64, now time.Time, a Actor, action, from, to, reason string, visitID int64) error {
	var v any
	if visitID != 0 {
		v = visitID
	}
	_, err := tx.Exec(ctx, `INSERT INTO followup_events (followup_id, at, actor_id, actor, action, from_status, to_status, reason, visit_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, store.FormatTime(now), a.UserID, a.Username, action, from, to, reason, v)
	if err != nil {
		return fmt.Errorf("log follow-up %d: %w", id, err)
	}
	return nil
}

// safeSummary is what leaves the system about an item: generated
// summaries of rated findings, never the visitor's free text, which may
// name people.
func safeSummary(kind, source, summary string) string {
	if _, ok := bad[source]; ok {
		return summary
	}
	return Label(Kinds, kind)
}

// followUp applies a visit's concerns to the elder's follow-ups: a new
// concern opens an item; one already open is noted again; one resolved is
// reopened, since the problem is still there. With verify (a new visit,
// not an edit), a resolved item whose finding the visit rates fine is
// verified by it (跟踪回访).
func (s *Service) followUp(ctx context.Context, tx *store.Tx, a Actor, now time.Time, el elderRef, visitID int64, rec Record, rules Rules, verify bool) error {
	type item struct {
		id       int64
		status   string
		resolved time.Time
	}
	existing := map[string]item{}
	rows, err := tx.Query(ctx, `SELECT id, source, status, resolved_at FROM followups WHERE elder_id = ? AND status <> 'verified'`, el.ID)
	if err != nil {
		return fmt.Errorf("follow-ups of elder: %w", err)
	}
	for rows.Next() {
		var it item
		var source string
		var resolved sql.NullString
		if err := rows.Scan(&it.id, &source, &it.status, &resolved); err != nil {
			rows.Close()
			return err
		}
		if t := timePtr(resolved); t != nil {
			it.resolved = *t
		}
		existing[source] = it
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var opened []Concern
	urgent := false
	for _, c := range Concerns(rec) {
		if it, ok := existing[c.Source]; ok {
			delete(existing, c.Source)
			// Only a visit made after the fix speaks to it; an earlier one
			// (recorded late) is noted.
			if Active(it.status) || rec.StartedAt.Before(it.resolved) {
				if err := addEvent(ctx, tx, it.id, now, a, "seen_again", it.status, it.status, "再次发现："+c.Summary, visitID); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE followups SET status = ?, resolved_at = NULL, version = version + 1, updated_at = ? WHERE id = ?`,
				StatusInProgress, store.FormatTime(now), it.id); err != nil {
				return fmt.Errorf("reopen follow-up: %w", err)
			}
			if err := addEvent(ctx, tx, it.id, now, a, "reopened", it.status, StatusInProgress, "跟踪回访发现问题仍存在："+c.Summary, visitID); err != nil {
				return err
			}
			continue
		}
		id, err := tx.InsertID(ctx, `INSERT INTO followups (elder_id, area_code, visit_id, kind, source, severity, status, summary, due_at, level, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			el.ID, el.AreaCode, visitID, c.Kind, c.Source, c.Severity, StatusOpen, c.Summary,
			store.FormatTime(rules.Due(now, c.Severity)), LevelVillage, store.FormatTime(now), store.FormatTime(now))
		if err != nil {
			return fmt.Errorf("open follow-up: %w", err)
		}
		if err := addEvent(ctx, tx, id, now, a, "created", "", StatusOpen, "探访发现："+c.Summary, visitID); err != nil {
			return err
		}
		opened = append(opened, c)
		urgent = urgent || c.Severity == SevUrgent
	}
	if verify {
		for source, it := range existing {
			if it.status != StatusResolved || rec.StartedAt.Before(it.resolved) || !Cleared(rec, source) {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE followups SET status = ?, verified_at = ?, verify_visit_id = ?, version = version + 1, updated_at = ? WHERE id = ?`,
				StatusVerified, store.FormatTime(now), visitID, store.FormatTime(now), it.id); err != nil {
				return fmt.Errorf("verify follow-up: %w", err)
			}
			if err := addEvent(ctx, tx, it.id, now, a, "verified", StatusResolved, StatusVerified, "跟踪回访确认已恢复正常", visitID); err != nil {
				return err
			}
		}
	}
	if len(opened) == 0 {
		return nil
	}
	parts := make([]string, len(opened))
	for i, c := range opened {
		parts[i] = safeSummary(c.Kind, c.Source, c.Summary)
	}
	msg := outbox.Message{Kind: "followup.opened", Subject: fmt.Sprintf("新增跟踪事项%d项", len(opened)),
		Body: fmt.Sprintf("%s（%s）：%s", el.Masked(), areaName(ctx, tx, villageOf(el.AreaCode)), strings.Join(parts, "；")),
		Link: fmt.Sprintf("/followups?elder_id=%d", el.ID), RefType: "visit", RefID: visitID}
	to := []outbox.Target{outbox.ToArea(villageOf(el.AreaCode), auth.RoleVillage)}
	if urgent {
		to = append(to, outbox.ToArea(townOf(el.AreaCode), auth.RoleTown))
	}
	_, err = outbox.Enqueue(ctx, tx, s.Keys, now, msg, to...)
	return err
}

// Filter selects follow-ups.
type Filter struct {
	ElderID  int64
	AreaCode string // under this area (which must be in scope); "" the whole scope
	Status   string // a status, "active" (not yet resolved), "overdue", or "" for all
	Kind     string
	Level    string
	Limit    int
}

// Followups lists follow-ups in scope, most urgent first.
func (s *Service) Followups(ctx context.Context, sc areas.Scope, f Filter) ([]Followup, error) {
	now := s.now()
	lo, hi := sc.Range()
	if f.AreaCode != "" {
		var err error
		if lo, hi, err = areaRange(ctx, s.DB, sc, f.AreaCode); err != nil {
			return nil, err
		}
	}
	where := []string{"f.area_code >= ?", "f.area_code < ?"}
	args := []any{lo, hi}
	if f.ElderID != 0 {
		where, args = append(where, "f.elder_id = ?"), append(args, f.ElderID)
	}
	switch f.Status {
	case "":
	case "active":
		where = append(where, "f.status IN ('open', 'in_progress', 'referred')")
	case "overdue":
		where, args = append(where, "f.status IN ('open', 'in_progress', 'referred') AND f.due_at < ?"), append(args, store.FormatTime(now))
	default:
		if !known(Statuses, f.Status) {
			return nil, invalid("status", "状态“%s”无效", f.Status)
		}
		where, args = append(where, "f.status = ?"), append(args, f.Status)
	}
	if f.Kind != "" {
		if !known(Kinds, f.Kind) {
			return nil, invalid("kind", "类别“%s”无效", f.Kind)
		}
		where, args = append(where, "f.kind = ?"), append(args, f.Kind)
	}
	if f.Level != "" {
		if !known(Levels, f.Level) {
			return nil, invalid("level", "层级“%s”无效", f.Level)
		}
		where, args = append(where, "f.level = ?"), append(args, f.Level)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	args = append(args, f.Limit)
	rows, err := s.DB.Query(ctx, "SELECT "+followupCols+followupFrom+" WHERE "+strings.Join(where, " AND ")+
		` ORDER BY CASE WHEN f.status IN ('open', 'in_progress', 'referred') THEN 0 ELSE 1 END, f.due_at, f.id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list follow-ups: %w", err)
	}
	defer rows.Close()
	out := []Followup{}
	for rows.Next() {
		it, err := scanFollowup(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// Followup reads one follow-up in scope with its history.
func (s *Service) Followup(ctx context.Context, sc areas.Scope, id int64) (Followup, []Event, error) {
	it, err := scanFollowup(s.DB.QueryRow(ctx, "SELECT "+followupCols+followupFrom+" WHERE f.id = ?", id), s.now())
	if err != nil {
		return it, nil, err
	}
	if !sc.Contains(it.AreaCode) {
		return Followup{}, nil, store.ErrNotFound
	}
	rows, err := s.DB.Query(ctx, `SELECT id, at, actor_id, actor, action, from_status, to_status, reason, visit_id
		FROM followup_events WHERE followup_id = ? ORDER BY id`, id)
	if err != nil {
		return it, nil, fmt.Errorf("follow-up history: %w", err)
	}
	defer rows.Close()
	var evs []Event
	for rows.Next() {
		var e Event
		var at string
		var visit sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Actor, &e.Action, &e.From, &e.To, &e.Reason, &visit); err != nil {
			return it, nil, err
		}
		e.At, e.VisitID = store.MustTime(at), idPtr(visit)
		evs = append(evs, e)
	}
	return it, evs, rows.Err()
}

// Move is a requested transition of a follow-up.
type Move struct {
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Version int    `json:"version"` // the version read; 0 skips the check
	// For referred: town, department (ReferTo names it) or provider.
	ReferType  string `json:"refer_type"`
	ReferTo    string `json:"refer_to"`
	ProviderID int64  `json:"provider_id"`
	// For verified: the return visit (跟踪回访) that confirmed it.
	VisitID int64 `json:"visit_id"`
}

// MoveFollowup changes a follow-up's status, logging who and why. Staff
// of the village and the levels above it move items; visitors report
// through visits.
func (s *Service) MoveFollowup(ctx context.Context, a Actor, id int64, m Move) (Followup, error) {
	if !isStaff(a.Role) {
		return Followup{}, forbidden("跟踪事项由村（居）委会及上级工作人员办理")
	}
	it, _, err := s.Followup(ctx, a.Scope, id)
	if err != nil {
		return Followup{}, err
	}
	var c checker
	reason := c.lines("reason", "原因", m.Reason, 300)
	if reason == "" {
		c.add("reason", "请填写办理说明或原因")
	}
	if !known(Statuses, m.Status) {
		c.add("status", "状态“%s”无效", m.Status)
	} else if !CanMove(it.Status, m.Status) {
		c.add("status", "跟踪事项不能从“%s”变为“%s”", Label(Statuses, it.Status), Label(Statuses, m.Status))
	}
	if err := c.err(); err != nil {
		return Followup{}, err
	}
	now := s.now()
	referType, referTo := it.ReferredType, it.ReferredTo
	var provider any
	if it.ProviderID != nil {
		provider = *it.ProviderID
	}
	var verifyVisit any
	resolvedAt, verifiedAt := it.ResolvedAt, it.VerifiedAt
	switch m.Status {
	case StatusReferred:
		referType, provider = m.ReferType, nil
		switch m.ReferType {
		case ReferTown:
			referTo = areaName(ctx, s.DB, townOf(it.AreaCode))
		case ReferDepartment:
			if referTo = c.text("refer_to", "转介部门", m.ReferTo, 100); referTo == "" {
				c.add("refer_to", "请填写转介的部门，如县住建局、派出所")
			}
		case ReferProvider:
			p, err := s.Provider(ctx, m.ProviderID)
			if err != nil || !p.Active || countyOf(p.AreaCode) != countyOf(it.AreaCode) {
				c.add("provider_id", "请选择本县（区）在册的服务组织")
			} else {
				referTo, provider = p.Name, p.ID
			}
		default:
			c.add("refer_type", "请选择转介对象：乡镇（街道）、相关部门或服务组织")
		}
	case StatusResolved:
		resolvedAt = &now
	case StatusInProgress:
		resolvedAt = nil
	case StatusVerified:
		v, err := s.Get(ctx, a.Scope, m.VisitID)
		switch {
		case m.VisitID == 0 || errors.Is(err, store.ErrNotFound):
			c.add("visit_id", "请选择确认问题已解决的跟踪回访记录")
		case err != nil:
			return Followup{}, err
		case v.ElderID != it.ElderID || v.Outcome != "done" || it.ResolvedAt == nil || v.StartedAt.Before(*it.ResolvedAt):
			c.add("visit_id", "回访记录应为解决之后对该老人的已完成探访")
		default:
			verifyVisit, verifiedAt = v.ID, &now
		}
	}
	if err := c.err(); err != nil {
		return Followup{}, err
	}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		q := `UPDATE followups SET status = ?, referred_type = ?, referred_to = ?, provider_id = ?, resolved_at = ?, verified_at = ?,
			verify_visit_id = COALESCE(?, verify_visit_id), version = version + 1, updated_at = ? WHERE id = ? AND status = ?`
		args := []any{m.Status, referType, referTo, provider, nullTime(resolvedAt), nullTime(verifiedAt), verifyVisit, store.FormatTime(now), id, it.Status}
		if m.Version != 0 {
			q += " AND version = ?"
			args = append(args, m.Version)
		}
		res, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("move follow-up: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			var v int
			_ = tx.QueryRow(ctx, `SELECT version FROM followups WHERE id = ?`, id).Scan(&v)
			return &StaleError{Version: v}
		}
		why := reason
		if m.Status == StatusReferred {
			why = "转介" + Label(ReferTypes, referType) + "：" + referTo + "。" + reason
		}
		var vid int64
		if m.Status == StatusVerified {
			vid = m.VisitID
		}
		if err := addEvent(ctx, tx, id, now, a, "moved", it.Status, m.Status, why, vid); err != nil {
			return err
		}
		if m.Status == StatusReferred && referType == ReferTown {
			if _, err := outbox.Enqueue(ctx, tx, s.Keys, now, outbox.Message{Kind: "followup.referred", Subject: "跟踪事项转介到乡镇",
				Body: fmt.Sprintf("%s（%s）：%s", it.ElderMasked, areaName(ctx, tx, villageOf(it.AreaCode)), safeSummary(it.Kind, it.Source, it.Summary)),
				Link: fmt.Sprintf("/followups/%d", id), RefType: "followup", RefID: id},
				outbox.ToArea(townOf(it.AreaCode), auth.RoleTown)); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx, a.entry(now, "followup.move", "followup", id, it.AreaCode, it.Status+"->"+m.Status))
	})
	if err != nil {
		return Followup{}, err
	}
	out, _, err := s.Followup(ctx, a.Scope, id)
	return out, err
}

func levelRank(l string) int {
	switch l {
	case LevelTown:
		return 1
	case LevelCounty:
		return 2
	}
	return 0
}

// Escalate moves overdue follow-ups up to the town, then the county
// (R-EMG-4), as the rules' delays run out at the service's clock, and tells
// the level that receives them. It returns how many moved.
func (s *Service) Escalate(ctx context.Context) (int, error) {
	now := s.now()
	rules, err := s.Rules(ctx)
	if err != nil {
		return 0, err
	}
	type due struct {
		id, elderID       int64
		area, level, kind string
		source, summary   string
		name              string
		at                time.Time
	}
	rows, err := s.DB.Query(ctx, `SELECT f.id, f.elder_id, f.area_code, f.level, f.kind, f.source, f.summary, e.name, f.due_at
		FROM followups f JOIN elders e ON e.id = f.elder_id
		WHERE f.status IN ('open', 'in_progress', 'referred') AND f.due_at < ? AND f.level <> 'county' ORDER BY f.id`, store.FormatTime(now))
	if err != nil {
		return 0, fmt.Errorf("overdue follow-ups: %w", err)
	}
	var list []due
	for rows.Next() {
		var d due
		var at string
		if err := rows.Scan(&d.id, &d.elderID, &d.area, &d.level, &d.kind, &d.source, &d.summary, &d.name, &at); err != nil {
			rows.Close()
			return 0, err
		}
		d.at = store.MustTime(at)
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range list {
		to := rules.Level(d.at, now)
		if levelRank(to) <= levelRank(d.level) {
			continue
		}
		target, role := townOf(d.area), auth.RoleTown
		if to == LevelCounty {
			target, role = countyOf(d.area), auth.RoleCounty
		}
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			res, err := tx.Exec(ctx, `UPDATE followups SET level = ?, version = version + 1, updated_at = ? WHERE id = ? AND level = ?`,
				to, store.FormatTime(now), d.id, d.level)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k != 1 {
				return nil // another server's job got there first
			}
			why := fmt.Sprintf("办理期限%s已过，上报%s", d.at.In(age.Shanghai).Format("2006-01-02 15:04"), Label(Levels, to))
			if err := addEvent(ctx, tx, d.id, now, system, "escalated", "", "", why, 0); err != nil {
				return err
			}
			if _, err := outbox.Enqueue(ctx, tx, s.Keys, now, outbox.Message{Kind: "followup.escalated", Subject: "跟踪事项逾期上报",
				Body: fmt.Sprintf("%s（%s）：%s。%s", mask.Name(d.name), areaName(ctx, tx, villageOf(d.area)), safeSummary(d.kind, d.source, d.summary), why),
				Link: fmt.Sprintf("/followups/%d", d.id), RefType: "followup", RefID: d.id},
				outbox.ToArea(target, role)); err != nil {
				return err
			}
			n++
			return audit.Append(ctx, tx, system.entry(now, "followup.escalate", "followup", d.id, d.area, d.level+"->"+to))
		})
		if err != nil {
			return n, fmt.Errorf("escalate follow-up %d: %w", d.id, err)
		}
	}
	return n, nil
}
