package classes

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"tanfang/internal/auth"
	"tanfang/internal/outbox"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/assess"
	"tanfang/internal/policy/classify"
	"tanfang/internal/policy/mask"
	"tanfang/internal/store"
)

// Causes recorded in class_history besides the registry's version kinds
// (created, updated, status, transferred).
const (
	CauseAssessment      = "assessment"
	CauseDaily           = "daily"
	CausePartner         = "partner"
	CauseRules           = "rules"
	CauseOverride        = "override"
	CauseOverrideRemoved = "override_removed"
)

// Basis is what a classification read: the facts as classify took them,
// and where the ones not typed on the file came from.
type Basis struct {
	Facts        classify.Facts `json:"facts"`
	AssessmentID int64          `json:"assessment_id,omitempty"`
	PartnerID    int64          `json:"partner_id,omitempty"`
	// PartnerFrom is "partner_file" when partner_condition was read from
	// the other elder's own file, "declared" when typed on this one.
	PartnerFrom string `json:"partner_condition_from,omitempty"`
}

// elderRow is what classification reads of an elders row.
type elderRow struct {
	ID                       int64
	Name, BirthDate          string
	DayAssumed               bool
	AreaCode                 string
	Living, Body, Economic   string
	FPS, LeftBehind          bool
	Partner, ChildCond       string
	Grade                    int
	HouseholdID              int64
	Active                   bool
	Class, Computed, Reasons string
	Facts, ComputedAt        string
	NextCheck                string
	PartnerID                int64
	Override, OverrideReason string
	Review                   bool
}

const elderCols = `id, name, birth_date, birth_day_assumed, area_code, living_situation, body_conditions,
	economic_status, family_planning_special, left_behind, partner_condition, cares_for_child_condition,
	disability_grade, household_id, active, class, class_computed, class_reasons, class_facts, class_computed_at,
	class_next_check, class_partner_id, class_override, class_override_reason, override_review_needed`

func (e *elderRow) targets() []any {
	return []any{&e.ID, &e.Name, &e.BirthDate, &e.DayAssumed, &e.AreaCode, &e.Living, &e.Body,
		&e.Economic, &e.FPS, &e.LeftBehind, &e.Partner, &e.ChildCond,
		&e.Grade, &e.HouseholdID, &e.Active, &e.Class, &e.Computed, &e.Reasons, &e.Facts, &e.ComputedAt,
		&e.NextCheck, &e.PartnerID, &e.Override, &e.OverrideReason, &e.Review}
}

// loadElder reads one row; lo/hi bound it to a scope ("" and "~" for
// none). In a PostgreSQL transaction the row is locked.
func loadElder(ctx context.Context, q store.Querier, id int64, lo, hi string, lock bool) (elderRow, error) {
	query := "SELECT " + elderCols + " FROM elders WHERE id = ? AND area_code >= ? AND area_code < ?"
	if tx, ok := q.(*store.Tx); ok && lock && tx.Dialect() == store.Postgres {
		query += " FOR UPDATE"
	}
	var e elderRow
	if err := q.QueryRow(ctx, query, id, lo, hi).Scan(e.targets()...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return e, store.ErrNotFound
		}
		return e, fmt.Errorf("load elder %d: %w", id, err)
	}
	return e, nil
}

// everywhere is the code range of every area.
var everywhere = [2]string{"", "~"}

// latestRow is what classification needs of the latest assessment.
type latestRow struct {
	ID                 int64
	Total, FinalLevel  int
	Dementia, Disorder bool
}

func latestAssessment(ctx context.Context, q store.Querier, elderID int64) (*latestRow, error) {
	var l latestRow
	err := q.QueryRow(ctx, `SELECT id, total, final_level, dementia, mental_disorder FROM assessments
		WHERE elder_id = ? ORDER BY assessed_on DESC, id DESC LIMIT 1`, elderID).Scan(&l.ID, &l.Total, &l.FinalLevel, &l.Dementia, &l.Disorder)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("latest assessment of elder %d: %w", elderID, err)
	}
	return &l, nil
}

func splitCodes[T ~string](s string) []T {
	out := []T{}
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, T(v))
		}
	}
	return out
}

// facts reads the row's own facts; the partner's are added by the caller.
func (e elderRow) facts(latest *latestRow) (classify.Facts, error) {
	birth, err := age.ParseDate(e.BirthDate)
	if err != nil {
		return classify.Facts{}, fmt.Errorf("elder %d: birth date %q: %w", e.ID, e.BirthDate, err)
	}
	f := classify.Facts{
		BirthDate:              birth,
		BirthDayAssumed:        e.DayAssumed,
		LivingSituation:        classify.Living(e.Living),
		BodyConditions:         splitCodes[classify.Body](e.Body),
		DisabilityGrade:        e.Grade,
		EconomicStatus:         splitCodes[classify.Economic](e.Economic),
		FamilyPlanningSpecial:  e.FPS,
		LeftBehind:             e.LeftBehind,
		PartnerCondition:       classify.Condition(e.Partner),
		CaresForChildCondition: classify.Condition(e.ChildCond),
	}
	if latest != nil {
		f.Assessment = &classify.Assessment{Total: latest.Total, FinalLevel: latest.FinalLevel}
	}
	return f, nil
}

// partnerCondition reads the other elder's own file as the partner
// condition of rule B2 (R-CLS-2: 失能(失智)、残疾、重病). 半失能 counts as
// 失能 there, as it does for the elder's own condition in classify.
func partnerCondition(p elderRow, latest *latestRow, s assess.Settings) classify.Condition {
	body := splitCodes[classify.Body](p.Body)
	impaired := slices.Contains(body, classify.Disabled) || slices.Contains(body, classify.SemiDisabled)
	if latest != nil {
		if label, _ := assess.Body(latest.Total, latest.FinalLevel, s); label != assess.BodyNone {
			impaired = true
		}
	}
	switch {
	case impaired:
		return classify.CondDisabled
	case latest != nil && latest.Dementia:
		return classify.CondDemented
	case p.Grade > 0 || slices.Contains(body, classify.SevereDisability):
		return classify.CondDisability
	case slices.Contains(body, classify.SevereIllness):
		return classify.CondSevereIllness
	}
	return classify.CondNone
}

// partner finds the other active elder of the household with a file and
// the condition their file shows; the first with a condition wins.
func partner(ctx context.Context, q store.Querier, e elderRow, s assess.Settings) (int64, classify.Condition, error) {
	if e.HouseholdID == 0 {
		return 0, classify.CondNone, nil
	}
	rows, err := q.Query(ctx, "SELECT "+elderCols+" FROM elders WHERE household_id = ? AND id <> ? AND active = 1 ORDER BY id",
		e.HouseholdID, e.ID)
	if err != nil {
		return 0, "", fmt.Errorf("household of elder %d: %w", e.ID, err)
	}
	var others []elderRow
	for rows.Next() {
		var p elderRow
		if err := rows.Scan(p.targets()...); err != nil {
			rows.Close()
			return 0, "", err
		}
		others = append(others, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, "", err
	}
	// Assessments are read after the cursor is closed: a transaction's one
	// connection cannot hold two result sets on PostgreSQL.
	var first int64
	for _, p := range others {
		latest, err := latestAssessment(ctx, q, p.ID)
		if err != nil {
			return 0, "", err
		}
		if c := partnerCondition(p, latest, s); c != classify.CondNone {
			return p.ID, c, nil
		}
		if first == 0 {
			first = p.ID
		}
	}
	return first, classify.CondNone, nil
}

// Recompute classifies one elder from the facts as they stand in tx on
// now's Shanghai day (R-CLS-4), stores the result on the file, appends to
// class_history when the class or its reasons change, and tells the
// elder's visitor when the class changes. The other elders whose class
// reads this file (the household, a former partner) are recomputed too.
// trigger names the cause: a registry version kind, or one of the Cause
// constants. It reports whether the elder's class changed.
func Recompute(ctx context.Context, tx *store.Tx, elderID int64, trigger string, now time.Time) (changed bool, err error) {
	changed, err = recomputeOne(ctx, tx, elderID, trigger, now)
	if err != nil {
		return false, err
	}
	related, err := relatedTo(ctx, tx, elderID)
	if err != nil {
		return false, err
	}
	for _, id := range related {
		if _, err := recomputeOne(ctx, tx, id, CausePartner, now); err != nil {
			return false, err
		}
	}
	return changed, nil
}

// relatedTo lists the active elders whose class may read elderID's file:
// its household, and whoever read it as a partner last time. Two queries,
// so each uses its own index.
func relatedTo(ctx context.Context, tx *store.Tx, elderID int64) ([]int64, error) {
	var household int64
	if err := tx.QueryRow(ctx, "SELECT household_id FROM elders WHERE id = ?", elderID).Scan(&household); err != nil {
		return nil, fmt.Errorf("household of elder %d: %w", elderID, err)
	}
	rows, err := tx.Query(ctx, `SELECT id FROM elders WHERE class_partner_id = ? AND id <> ? AND active = 1
		UNION SELECT id FROM elders WHERE household_id = ? AND household_id <> 0 AND id <> ? AND active = 1 ORDER BY id`,
		elderID, elderID, household, elderID)
	if err != nil {
		return nil, fmt.Errorf("elders related to %d: %w", elderID, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func recomputeOne(ctx context.Context, tx *store.Tx, elderID int64, cause string, now time.Time) (bool, error) {
	e, err := loadElder(ctx, tx, elderID, everywhere[0], everywhere[1], true)
	if err != nil {
		return false, err
	}
	county := countyOf(e.AreaCode)
	rules, err := rulesFor(ctx, tx, county)
	if err != nil {
		return false, err
	}
	st, err := settingsFor(ctx, tx, county)
	if err != nil {
		return false, err
	}
	latest, err := latestAssessment(ctx, tx, e.ID)
	if err != nil {
		return false, err
	}
	f, err := e.facts(latest)
	if err != nil {
		return false, err
	}
	var basis Basis
	if latest != nil {
		basis.AssessmentID = latest.ID
	}
	pid, pcond, err := partner(ctx, tx, e, st.Settings)
	if err != nil {
		return false, err
	}
	basis.PartnerID = pid
	switch {
	case pcond != classify.CondNone:
		f.PartnerCondition, basis.PartnerFrom = pcond, "partner_file"
	case f.PartnerCondition != "" && f.PartnerCondition != classify.CondNone:
		basis.PartnerFrom = "declared"
	}
	basis.Facts = f

	today := age.DateOf(now)
	set := rules.Set()
	res := classify.Classify(f, today, set, st.Settings)
	reasons, err := json.Marshal(res.Reasons)
	if err != nil {
		return false, err
	}
	factsJSON, err := json.Marshal(basis)
	if err != nil {
		return false, err
	}
	next := ""
	if e.Active {
		if d, ok := classify.NextChange(f, today, set); ok {
			next = d.String()
		}
	}
	effective := res.Class
	if e.Override != "" {
		effective = e.Override
	}
	first := e.ComputedAt == ""
	computedChanged := first || res.Class != e.Computed || string(reasons) != e.Reasons
	// An override answers the facts it was made on; when they change (or the
	// class they give does), a county account must look at it again.
	review := e.Review
	newReview := e.Override != "" && !first && (string(factsJSON) != e.Facts || res.Class != e.Computed)
	review = review || newReview

	if _, err := tx.Exec(ctx, `UPDATE elders SET class = ?, class_computed = ?, class_reasons = ?, class_facts = ?,
		class_rule_set_version = ?, class_settings_version = ?, class_computed_at = ?, class_next_check = ?,
		class_partner_id = ?, override_review_needed = ? WHERE id = ?`,
		effective, res.Class, string(reasons), string(factsJSON), set.Version, st.Version, store.FormatTime(now), next,
		pid, boolInt(review), e.ID); err != nil {
		return false, fmt.Errorf("store class of elder %d: %w", e.ID, err)
	}
	if computedChanged || effective != e.Class {
		h := historyRow{ElderID: e.ID, At: now, Cause: cause, OldClass: e.Class, NewClass: effective, Computed: res.Class,
			Reasons: string(reasons), Facts: string(factsJSON), RuleSetVersion: set.Version, SettingsVersion: st.Version}
		if err := insertHistory(ctx, tx, h); err != nil {
			return false, err
		}
	}
	if effective != e.Class && e.Class != "" && e.Active {
		why := reasonText(res.Reasons)
		if e.Override != "" {
			why = "人工调整：" + e.OverrideReason
		}
		if err := notifyChange(ctx, tx, now, e, e.Class, effective, why); err != nil {
			return false, err
		}
	}
	if newReview && !e.Review && e.Active {
		if err := notifyReview(ctx, tx, now, e, res.Class); err != nil {
			return false, err
		}
	}
	return effective != e.Class, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func reasonText(rs []classify.Reason) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Rule + " " + r.Text
	}
	return strings.Join(parts, "；")
}

type historyRow struct {
	ElderID                         int64
	At                              time.Time
	Cause                           string
	ActorID                         int64
	OldClass, NewClass, Computed    string
	Reasons, Facts                  string
	RuleSetVersion, SettingsVersion int
	Note                            string
}

func insertHistory(ctx context.Context, tx *store.Tx, h historyRow) error {
	if h.Reasons == "" {
		h.Reasons = "[]"
	}
	_, err := tx.Exec(ctx, `INSERT INTO class_history (elder_id, at, cause, actor_id, old_class, new_class, computed,
		reasons, facts, rule_set_version, settings_version, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		h.ElderID, store.FormatTime(h.At), h.Cause, h.ActorID, h.OldClass, h.NewClass, h.Computed,
		h.Reasons, h.Facts, h.RuleSetVersion, h.SettingsVersion, h.Note)
	if err != nil {
		return fmt.Errorf("class history of elder %d: %w", h.ElderID, err)
	}
	return nil
}

// primaryVisitorUser is the account of the elder's current primary
// visitor (internal/plan's pairings), or 0.
func primaryVisitorUser(ctx context.Context, tx *store.Tx, elderID int64) (int64, error) {
	var uid sql.NullInt64
	err := tx.QueryRow(ctx, `SELECT v.user_id FROM pairings p JOIN visitors v ON v.id = p.visitor_id
		WHERE p.elder_id = ? AND p.role = 'primary' AND p.ended_at = '' AND v.active = 1 AND v.user_id IS NOT NULL`,
		elderID).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("primary visitor of elder %d: %w", elderID, err)
	}
	return uid.Int64, nil
}

// notifyChange tells the primary visitor, or the village's accounts when
// the elder has none, in the transaction of the change. The text names the
// elder by masked name only.
func notifyChange(ctx context.Context, tx *store.Tx, now time.Time, e elderRow, old, new, why string) error {
	uid, err := primaryVisitorUser(ctx, tx, e.ID)
	if err != nil {
		return err
	}
	to := outbox.ToArea(villageOf(e.AreaCode), auth.RoleVillage)
	if uid != 0 {
		to = outbox.ToUser(uid)
	}
	m := outbox.Message{
		Kind:    "class.changed",
		Subject: fmt.Sprintf("老人%s的类别调整为%s", mask.Name(e.Name), ClassLabel(new)),
		Body:    fmt.Sprintf("老人%s的类别由%s调整为%s。依据：%s", mask.Name(e.Name), ClassLabel(old), ClassLabel(new), why),
		Link:    fmt.Sprintf("/elders/%d/class", e.ID),
		RefType: "elder",
		RefID:   e.ID,
	}
	// Keys seal SMS recipients only; inbox and area targets need none.
	_, err = outbox.Enqueue(ctx, tx, nil, now, m, to)
	return err
}

// notifyReview asks the county's accounts to look at an override again.
func notifyReview(ctx context.Context, tx *store.Tx, now time.Time, e elderRow, computed string) error {
	m := outbox.Message{
		Kind:    "class.override_review",
		Subject: fmt.Sprintf("老人%s的人工调整类别需要复核", mask.Name(e.Name)),
		Body: fmt.Sprintf("老人%s的档案信息已变化，按现有信息计算为%s，人工调整为%s，请复核。",
			mask.Name(e.Name), ClassLabel(computed), ClassLabel(e.Override)),
		Link:    fmt.Sprintf("/elders/%d/class", e.ID),
		RefType: "elder",
		RefID:   e.ID,
	}
	_, err := outbox.Enqueue(ctx, tx, nil, now, m, outbox.ToArea(countyOf(e.AreaCode), auth.RoleCounty))
	return err
}
