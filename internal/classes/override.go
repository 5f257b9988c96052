package classes

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/classify"
	"tanfang/internal/policy/mask"
	"tanfang/internal/store"
)

// Override is a county account's decision to set the class by hand.
type Override struct {
	Class        string    `json:"class"`
	Reason       string    `json:"reason"`
	By           int64     `json:"by"`
	At           time.Time `json:"at"`
	ReviewNeeded bool      `json:"review_needed"`
}

// HistoryEntry is one row of an elder's class history.
type HistoryEntry struct {
	At              time.Time         `json:"at"`
	Cause           string            `json:"cause"`
	ActorID         int64             `json:"actor_id"`
	OldClass        string            `json:"old_class"`
	NewClass        string            `json:"new_class"`
	Computed        string            `json:"computed"`
	Reasons         []classify.Reason `json:"reasons"`
	RuleSetVersion  int               `json:"rule_set_version"`
	SettingsVersion int               `json:"settings_version"`
	Note            string            `json:"note,omitempty"`
}

// Detail is everything about one elder's class: the result, what it rests
// on, the override and the history, newest first.
type Detail struct {
	ElderID         int64             `json:"elder_id"`
	NameMasked      string            `json:"name_masked"`
	AreaCode        string            `json:"area_code"`
	Age             int               `json:"age"`
	Class           string            `json:"class"`
	Computed        string            `json:"computed"`
	Reasons         []classify.Reason `json:"reasons"`
	Basis           *Basis            `json:"basis"`
	RuleSetVersion  int               `json:"rule_set_version"`
	SettingsVersion int               `json:"settings_version"`
	ComputedAt      *time.Time        `json:"computed_at"`
	NextCheck       string            `json:"next_check"`
	Override        *Override         `json:"override"`
	History         []HistoryEntry    `json:"history"`
}

// scope returns the code range of sc; an empty scope sees nothing.
func scopeRange(sc areas.Scope) (string, string, bool) {
	if sc.Prefix == "" {
		return "", "", false
	}
	lo, hi := sc.Range()
	return lo, hi, true
}

func (s *Service) loadIn(ctx context.Context, q store.Querier, sc areas.Scope, id int64, lock bool) (elderRow, error) {
	lo, hi, ok := scopeRange(sc)
	if !ok {
		return elderRow{}, store.ErrNotFound
	}
	return loadElder(ctx, q, id, lo, hi, lock)
}

// Detail returns one elder's class in scope with its history.
func (s *Service) Detail(ctx context.Context, sc areas.Scope, elderID int64) (Detail, error) {
	e, err := s.loadIn(ctx, s.DB, sc, elderID, false)
	if err != nil {
		return Detail{}, err
	}
	var ruleVer, setVer int
	var overrideBy int64
	var overrideAt string
	if err := s.DB.QueryRow(ctx, "SELECT class_rule_set_version, class_settings_version, class_override_by, class_override_at FROM elders WHERE id = ?",
		e.ID).Scan(&ruleVer, &setVer, &overrideBy, &overrideAt); err != nil {
		return Detail{}, fmt.Errorf("class of elder %d: %w", e.ID, err)
	}
	d := Detail{ElderID: e.ID, NameMasked: mask.Name(e.Name), AreaCode: e.AreaCode, Class: e.Class, Computed: e.Computed,
		Reasons: parseReasons(e.Reasons), RuleSetVersion: ruleVer, SettingsVersion: setVer, History: []HistoryEntry{}}
	if e.NextCheck != "0001-01-01" {
		d.NextCheck = e.NextCheck
	}
	if b, err := age.ParseDate(e.BirthDate); err == nil {
		d.Age = age.Years(b, age.DateOf(s.now()))
	}
	if e.ComputedAt != "" {
		t := store.MustTime(e.ComputedAt)
		d.ComputedAt = &t
		var b Basis
		if err := json.Unmarshal([]byte(e.Facts), &b); err == nil {
			d.Basis = &b
		}
	}
	if e.Override != "" {
		d.Override = &Override{Class: e.Override, Reason: e.OverrideReason, By: overrideBy, At: store.MustTime(overrideAt), ReviewNeeded: e.Review}
	}
	rows, err := s.DB.Query(ctx, `SELECT at, cause, actor_id, old_class, new_class, computed, reasons, rule_set_version,
		settings_version, note FROM class_history WHERE elder_id = ? ORDER BY id DESC`, e.ID)
	if err != nil {
		return Detail{}, fmt.Errorf("class history of elder %d: %w", e.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var h HistoryEntry
		var at, reasons string
		if err := rows.Scan(&at, &h.Cause, &h.ActorID, &h.OldClass, &h.NewClass, &h.Computed, &reasons,
			&h.RuleSetVersion, &h.SettingsVersion, &h.Note); err != nil {
			return Detail{}, err
		}
		h.At, h.Reasons = store.MustTime(at), parseReasons(reasons)
		d.History = append(d.History, h)
	}
	return d, rows.Err()
}

// SetOverride sets an elder's class by hand with a reason (R-CLS: the
// county may decide otherwise); the computed class stays beside it and a
// pending review is cleared. Audited, kept in the history, and the
// visitor is told when the class changes.
func (s *Service) SetOverride(ctx context.Context, actor Actor, sc areas.Scope, elderID int64, class, reason string) (Summary, error) {
	class, reason = strings.TrimSpace(class), strings.TrimSpace(reason)
	switch class {
	case classify.ClassA, classify.ClassB, classify.ClassC, classify.ClassNone:
	default:
		return Summary{}, fieldErr("class", "类别“%s”无效，应为A、B、C或none（不属于探访关爱对象）", class)
	}
	if reason == "" {
		return Summary{}, fieldErr("reason", "请填写人工调整类别的原因")
	}
	if len([]rune(reason)) > 200 {
		return Summary{}, fieldErr("reason", "人工调整原因不能超过200字")
	}
	return s.changeOverride(ctx, actor, sc, elderID, class, reason)
}

// RemoveOverride returns an elder to the computed class; removing an
// override that is not there changes nothing.
func (s *Service) RemoveOverride(ctx context.Context, actor Actor, sc areas.Scope, elderID int64) (Summary, error) {
	return s.changeOverride(ctx, actor, sc, elderID, "", "")
}

func (s *Service) changeOverride(ctx context.Context, actor Actor, sc areas.Scope, elderID int64, class, reason string) (Summary, error) {
	now := s.now()
	var out Summary
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		e, err := s.loadIn(ctx, tx, sc, elderID, true)
		if err != nil {
			return err
		}
		if !MayEdit(actor.Role) {
			return ErrForbidden
		}
		if class == "" && e.Override == "" {
			out, err = LoadSummary(ctx, tx, e.ID)
			return err
		}
		if e.ComputedAt == "" {
			// Classify first, so the computed class shown beside the
			// override is real.
			if _, err := Recompute(ctx, tx, e.ID, CauseDaily, now); err != nil {
				return err
			}
			if e, err = loadElder(ctx, tx, e.ID, everywhere[0], everywhere[1], true); err != nil {
				return err
			}
		}
		effective, by, at, cause, action := class, actor.UserID, store.FormatTime(now), CauseOverride, "elder.class_override"
		if class == "" {
			effective, by, at, cause, action = e.Computed, 0, "", CauseOverrideRemoved, "elder.class_override_remove"
		}
		if _, err := tx.Exec(ctx, `UPDATE elders SET class = ?, class_override = ?, class_override_reason = ?,
			class_override_by = ?, class_override_at = ?, override_review_needed = 0 WHERE id = ?`,
			effective, class, reason, by, at, e.ID); err != nil {
			return fmt.Errorf("override class of elder %d: %w", e.ID, err)
		}
		if err := insertHistory(ctx, tx, historyRow{ElderID: e.ID, At: now, Cause: cause, ActorID: actor.UserID,
			OldClass: e.Class, NewClass: effective, Computed: e.Computed, Reasons: e.Reasons, Note: reason}); err != nil {
			return err
		}
		detail := fmt.Sprintf("class=%s computed=%s", effective, e.Computed)
		if err := audit.Append(ctx, tx, actor.entry(now, action, "elder", itoa(e.ID), e.AreaCode, detail)); err != nil {
			return err
		}
		if effective != e.Class && e.Active {
			why := "人工调整：" + reason
			if class == "" {
				why = "撤销人工调整，恢复按规则计算的类别"
			}
			if err := notifyChange(ctx, tx, now, e, e.Class, effective, why); err != nil {
				return err
			}
		}
		out, err = LoadSummary(ctx, tx, e.ID)
		return err
	})
	return out, err
}
