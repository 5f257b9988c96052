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

// partnerOf finds, among the active elders of e's household (members,
// in id order), the other one whose file shows a condition; the first
// with a condition wins, else the first other member with none.
func partnerOf(e elderRow, members []elderRow, latest map[int64]*latestRow, s assess.Settings) (int64, classify.Condition) {
	var first int64
	for _, p := range members {
		if p.ID == e.ID {
			continue
		}
		if c := partnerCondition(p, latest[p.ID], s); c != classify.CondNone {
			return p.ID, c
		}
		if first == 0 {
			first = p.ID
		}
	}
	return first, classify.CondNone
}

// Recompute classifies one elder from the facts as they stand in tx on
// now's Shanghai day (R-CLS-4), stores the result on the file, appends to
// class_history when the class or its reasons change, and tells the
// elder's visitor when the class changes. The other elders whose class
// reads this file (the household, a former partner) are recomputed too.
// trigger names the cause: a registry version kind, or one of the Cause
// constants. It reports whether the elder's class changed.
func Recompute(ctx context.Context, tx *store.Tx, elderID int64, trigger string, now time.Time) (changed bool, err error) {
	cs, err := RecomputeMany(ctx, tx, []int64{elderID}, trigger, now)
	return cs[elderID], err
}

// RecomputeMany is Recompute for many elders at once, as a batch of new
// files needs: the files, their households and their latest assessments
// are read a few hundred at a time. It reports by elder id whether the
// class changed.
func RecomputeMany(ctx context.Context, tx *store.Tx, ids []int64, trigger string, now time.Time) (map[int64]bool, error) {
	changed, err := recomputeSet(ctx, tx, ids, trigger, now)
	if err != nil {
		return nil, err
	}
	related, err := relatedTo(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	if _, err := recomputeSet(ctx, tx, related, CausePartner, now); err != nil {
		return nil, err
	}
	return changed, nil
}

// eachIn runs query for ids a chunk at a time, its "(?*)" replaced by a
// chunk's placeholders, and calls scan for every row.
func eachIn(ctx context.Context, q store.Querier, query string, ids []int64, scan func(*sql.Rows) error) error {
	return store.Chunks(len(ids), func(lo, hi int) error {
		rows, err := q.Query(ctx, strings.Replace(query, "(?*)", "("+store.Placeholders(hi-lo)+")", 1), store.Int64Args(ids[lo:hi])...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// relatedTo lists the active elders outside ids whose class may read the
// files of ids: their households, and whoever read one of them as a
// partner last time. Being active is checked here rather than in the
// queries: with a list of ids SQLite would otherwise pick the index on
// active and read every active file.
func relatedTo(ctx context.Context, tx *store.Tx, ids []int64) ([]int64, error) {
	in := make(map[int64]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	seen := map[int64]bool{}
	var out, households []int64
	collect := func(rows *sql.Rows) error {
		var id int64
		var active bool
		if err := rows.Scan(&id, &active); err != nil {
			return err
		}
		if active && !in[id] && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
		return nil
	}
	if err := eachIn(ctx, tx, "SELECT id, active FROM elders WHERE class_partner_id IN (?*)", ids, collect); err != nil {
		return nil, fmt.Errorf("elders related to %d files: %w", len(ids), err)
	}
	err := eachIn(ctx, tx, "SELECT DISTINCT household_id FROM elders WHERE id IN (?*) AND household_id <> 0", ids, func(rows *sql.Rows) error {
		var h int64
		err := rows.Scan(&h)
		households = append(households, h)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("households of %d files: %w", len(ids), err)
	}
	if err := eachIn(ctx, tx, "SELECT id, active FROM elders WHERE household_id IN (?*)", households, collect); err != nil {
		return nil, fmt.Errorf("households of %d files: %w", len(ids), err)
	}
	slices.Sort(out)
	return out, nil
}

// inputs is what classification reads besides the elders' own rows: the
// members of their households, the latest assessments of all of them, and
// each county's rules and settings.
type inputs struct {
	members  map[int64][]elderRow // by household id, active only, in id order
	latest   map[int64]*latestRow // by elder id
	rules    map[string]CountyRules
	settings map[string]CountySettings
}

func newInputs() *inputs {
	return &inputs{members: map[int64][]elderRow{}, latest: map[int64]*latestRow{}, rules: map[string]CountyRules{}, settings: map[string]CountySettings{}}
}

// loadRules reads the rules and settings of the county of areaCode, once.
func (in *inputs) loadRules(ctx context.Context, q store.Querier, areaCode string) error {
	county := countyOf(areaCode)
	if _, ok := in.rules[county]; ok {
		return nil
	}
	var err error
	if in.rules[county], err = rulesFor(ctx, q, county); err != nil {
		return err
	}
	in.settings[county], err = settingsFor(ctx, q, county)
	return err
}

// gather reads the inputs of classifying es.
func gather(ctx context.Context, tx *store.Tx, es []elderRow) (*inputs, error) {
	in := newInputs()
	var households, assessed []int64
	seenHousehold, listed := map[int64]bool{}, map[int64]bool{}
	for _, e := range es {
		listed[e.ID] = true
		assessed = append(assessed, e.ID)
		if e.HouseholdID != 0 && !seenHousehold[e.HouseholdID] {
			seenHousehold[e.HouseholdID] = true
			households = append(households, e.HouseholdID)
		}
		if err := in.loadRules(ctx, tx, e.AreaCode); err != nil {
			return nil, err
		}
	}
	// Active is checked here, not in the query: see relatedTo.
	err := eachIn(ctx, tx, "SELECT "+elderCols+" FROM elders WHERE household_id IN (?*) ORDER BY household_id, id", households,
		func(rows *sql.Rows) error {
			var p elderRow
			if err := rows.Scan(p.targets()...); err != nil || !p.Active {
				return err
			}
			in.members[p.HouseholdID] = append(in.members[p.HouseholdID], p)
			if !listed[p.ID] {
				listed[p.ID] = true
				assessed = append(assessed, p.ID)
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("households: %w", err)
	}
	err = eachIn(ctx, tx, `SELECT elder_id, id, total, final_level, dementia, mental_disorder FROM assessments
		WHERE elder_id IN (?*) ORDER BY elder_id, assessed_on DESC, id DESC`, assessed, func(rows *sql.Rows) error {
		var elderID int64
		var l latestRow
		if err := rows.Scan(&elderID, &l.ID, &l.Total, &l.FinalLevel, &l.Dementia, &l.Disorder); err != nil {
			return err
		}
		if in.latest[elderID] == nil {
			in.latest[elderID] = &l
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("latest assessments: %w", err)
	}
	return in, nil
}

// recomputeSet classifies and stores each elder of ids, as Recompute does
// for one, without following related files.
func recomputeSet(ctx context.Context, tx *store.Tx, ids []int64, cause string, now time.Time) (map[int64]bool, error) {
	changed := make(map[int64]bool, len(ids))
	lock := ""
	if tx.Dialect() == store.Postgres {
		lock = " FOR UPDATE"
	}
	// Chunk by chunk, so a large import holds a few hundred rows at a time.
	err := store.Chunks(len(ids), func(lo, hi int) error {
		byID := make(map[int64]elderRow, hi-lo)
		err := eachIn(ctx, tx, "SELECT "+elderCols+" FROM elders WHERE id IN (?*)"+lock, ids[lo:hi], func(rows *sql.Rows) error {
			var e elderRow
			if err := rows.Scan(e.targets()...); err != nil {
				return err
			}
			byID[e.ID] = e
			return nil
		})
		if err != nil {
			return fmt.Errorf("load elders: %w", err)
		}
		es := make([]elderRow, 0, hi-lo)
		for _, id := range ids[lo:hi] {
			e, ok := byID[id]
			if !ok {
				return fmt.Errorf("load elder %d: %w", id, store.ErrNotFound)
			}
			es = append(es, e)
		}
		in, err := gather(ctx, tx, es)
		if err != nil {
			return err
		}
		var history []historyRow
		for _, e := range es {
			if changed[e.ID], err = classifyAndStore(ctx, tx, e, in, cause, now, &history); err != nil {
				return err
			}
		}
		return insertHistories(ctx, tx, history)
	})
	return changed, err
}

// computed is what classifying one file gives, before it is stored.
type computed struct {
	effective, class       string // the class the system reads (override first), and the computed one
	reasons, facts, next   string
	reasonList             []classify.Reason
	ruleSet, settings      int
	partnerID              int64
	review, newReview      bool
	computedChanged, first bool
}

// classifyRow classifies e from its inputs, as of now's Shanghai day.
func classifyRow(e elderRow, in *inputs, now time.Time) (computed, error) {
	county := countyOf(e.AreaCode)
	rules, st := in.rules[county], in.settings[county]
	latest := in.latest[e.ID]
	f, err := e.facts(latest)
	if err != nil {
		return computed{}, err
	}
	var basis Basis
	if latest != nil {
		basis.AssessmentID = latest.ID
	}
	var pid int64
	pcond := classify.CondNone
	if e.HouseholdID != 0 {
		pid, pcond = partnerOf(e, in.members[e.HouseholdID], in.latest, st.Settings)
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
		return computed{}, err
	}
	factsJSON, err := json.Marshal(basis)
	if err != nil {
		return computed{}, err
	}
	c := computed{effective: res.Class, class: res.Class, reasons: string(reasons), facts: string(factsJSON), reasonList: res.Reasons,
		ruleSet: set.Version, settings: st.Version, partnerID: pid}
	if e.Active {
		if d, ok := classify.NextChange(f, today, set); ok {
			c.next = d.String()
		}
	}
	if e.Override != "" {
		c.effective = e.Override
	}
	c.first = e.ComputedAt == ""
	c.computedChanged = c.first || res.Class != e.Computed || c.reasons != e.Reasons
	// An override answers the facts it was made on; when they change (or the
	// class they give does), a county account must look at it again.
	c.newReview = e.Override != "" && !c.first && (c.facts != e.Facts || res.Class != e.Computed)
	c.review = e.Review || c.newReview
	return c, nil
}

// history is the class_history entry c calls for on e, if any.
func (c computed) history(e elderRow, cause string, now time.Time) (historyRow, bool) {
	if !c.computedChanged && c.effective == e.Class {
		return historyRow{}, false
	}
	return historyRow{ElderID: e.ID, At: now, Cause: cause, OldClass: e.Class, NewClass: c.effective, Computed: c.class,
		Reasons: c.reasons, Facts: c.facts, RuleSetVersion: c.ruleSet, SettingsVersion: c.settings}, true
}

// classifyAndStore classifies e from its inputs and stores the result and
// the notices a change calls for; the entry of class_history it calls for
// is added to history, for the caller to write with the others.
func classifyAndStore(ctx context.Context, tx *store.Tx, e elderRow, in *inputs, cause string, now time.Time, history *[]historyRow) (bool, error) {
	c, err := classifyRow(e, in, now)
	if err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `UPDATE elders SET class = ?, class_computed = ?, class_reasons = ?, class_facts = ?,
		class_rule_set_version = ?, class_settings_version = ?, class_computed_at = ?, class_next_check = ?,
		class_partner_id = ?, override_review_needed = ? WHERE id = ?`,
		c.effective, c.class, c.reasons, c.facts, c.ruleSet, c.settings, store.FormatTime(now), c.next,
		c.partnerID, boolInt(c.review), e.ID); err != nil {
		return false, fmt.Errorf("store class of elder %d: %w", e.ID, err)
	}
	if h, ok := c.history(e, cause, now); ok {
		*history = append(*history, h)
	}
	if c.effective != e.Class && e.Class != "" && e.Active {
		why := reasonText(c.reasonList)
		if e.Override != "" {
			why = "人工调整：" + e.OverrideReason
		}
		if err := notifyChange(ctx, tx, now, e, e.Class, c.effective, why); err != nil {
			return false, err
		}
	}
	if c.newReview && !e.Review && e.Active {
		if err := notifyReview(ctx, tx, now, e, c.class); err != nil {
			return false, err
		}
	}
	return c.effective != e.Class, nil
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
	return insertHistories(ctx, tx, []historyRow{h})
}

func insertHistories(ctx context.Context, tx *store.Tx, hs []historyRow) error {
	rows := make([][]any, len(hs))
	for i, h := range hs {
		if h.Reasons == "" {
			h.Reasons = "[]"
		}
		rows[i] = []any{h.ElderID, store.FormatTime(h.At), h.Cause, h.ActorID, h.OldClass, h.NewClass, h.Computed,
			h.Reasons, h.Facts, h.RuleSetVersion, h.SettingsVersion, h.Note}
	}
	err := tx.InsertMany(ctx, `INSERT INTO class_history (elder_id, at, cause, actor_id, old_class, new_class, computed,
		reasons, facts, rule_set_version, settings_version, note)`, rows)
	if err != nil {
		return fmt.Errorf("class history of %d elders: %w", len(hs), err)
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
