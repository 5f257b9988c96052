package classes

import (
	"context"
	"time"

	"tanfang/internal/store"
)

// Fresh is a new file as classification reads it before it is written:
// it starts a household of its own and has no assessment yet, so its own
// facts and its county's rules are all its class depends on. List fields
// hold the comma-separated codes of the elders row.
type Fresh struct {
	AreaCode, BirthDate               string
	BirthDayAssumed                   bool
	Living, Body, Economic            string
	FamilyPlanningSpecial, LeftBehind bool
	PartnerCondition, ChildCondition  string
	DisabilityGrade                   int
}

// FreshClass is the class of a Fresh file: the class columns to insert
// with it, and its first class_history entry, written by RecordFresh once
// the file has an id.
type FreshClass struct {
	c     computed
	cause string
	at    time.Time
}

// FreshColumns are the elders columns FreshClass.Values fills, in order.
var FreshColumns = []string{"class", "class_computed", "class_reasons", "class_facts", "class_rule_set_version",
	"class_settings_version", "class_computed_at", "class_next_check", "class_partner_id", "override_review_needed"}

// Values are fc's FreshColumns.
func (fc FreshClass) Values() []any {
	return []any{fc.c.effective, fc.c.class, fc.c.reasons, fc.c.facts, fc.c.ruleSet, fc.c.settings,
		store.FormatTime(fc.at), fc.c.next, fc.c.partnerID, boolInt(fc.c.review)}
}

// Summary is fc as a file shows it.
func (fc FreshClass) Summary() Summary {
	ss := SummaryScan{class: fc.c.effective, reasons: fc.c.reasons, computed: fc.c.class}
	return ss.Summary()
}

// ClassifyFresh classifies new files before they are written, as
// Recompute would once they are (R-CLS-4), so that an import writes each
// file once: it reads only the counties' rules and settings. cause is
// recorded in the history, as Recompute's trigger is.
func ClassifyFresh(ctx context.Context, q store.Querier, fs []Fresh, cause string, now time.Time) ([]FreshClass, error) {
	in := newInputs()
	out := make([]FreshClass, len(fs))
	for i, f := range fs {
		if err := in.loadRules(ctx, q, f.AreaCode); err != nil {
			return nil, err
		}
		e := elderRow{AreaCode: f.AreaCode, BirthDate: f.BirthDate, DayAssumed: f.BirthDayAssumed, Living: f.Living,
			Body: f.Body, Economic: f.Economic, FPS: f.FamilyPlanningSpecial, LeftBehind: f.LeftBehind,
			Partner: f.PartnerCondition, ChildCond: f.ChildCondition, Grade: f.DisabilityGrade, Active: true}
		c, err := classifyRow(e, in, now)
		if err != nil {
			return nil, err
		}
		out[i] = FreshClass{c: c, cause: cause, at: now}
	}
	return out, nil
}

// RecordFresh writes the first class_history entry of new files, ids[i]
// being the file classified as cs[i].
func RecordFresh(ctx context.Context, tx *store.Tx, ids []int64, cs []FreshClass) error {
	hs := make([]historyRow, 0, len(cs))
	for i, fc := range cs {
		if h, ok := fc.c.history(elderRow{ID: ids[i]}, fc.cause, fc.at); ok {
			hs = append(hs, h)
		}
	}
	return insertHistories(ctx, tx, hs)
}
