package plan

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"tanfang/internal/policy/age"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
)

// progressExpr is the SQL of plan_weeks.progress from on-time counts (oh,
// oc), the requirement (rh, rc), the elder's consent to home visits standing
// in for calls (hfc) and planned: 2 when the week is met, 1 when some
// on-time contact was made, else 0. "Met" is schedule.Evaluate's
// StatusMet: home visits cover the home requirement, and with consent the
// surplus home visits cover missing calls (R-FRQ-4); TestProgressMatchesEvaluate
// holds the two together.
func progressExpr(oh, oc, rh, rc, hfc, planned string) string {
	r := strings.NewReplacer("OH", oh, "OC", oc, "RH", rh, "RC", rc, "HFC", hfc, "PLANNED", planned)
	return r.Replace(`(CASE WHEN PLANNED = 1 AND RH + RC > 0 AND OH >= RH AND (OC >= RC OR (HFC = 1 AND OC + OH - RH >= RC)) THEN 2
		WHEN OH + OC > 0 THEN 1 ELSE 0 END)`)
}

// progressOfRow is progressExpr over a plan_weeks row's own columns.
var progressOfRow = progressExpr("(done_home - late_home)", "(done_call - late_call)", "req_home", "req_call", "home_for_call", "planned")

// upsertWeek adds a contact's deltas to an elder's week, creating the row
// (not yet planned) when the week was not drawn up.
var upsertWeek = `INSERT INTO plan_weeks (week, elder_id, area_code, class, done_home, done_call, late_home, late_call, progress, last_contact_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (week, elder_id) DO UPDATE SET
		done_home = plan_weeks.done_home + excluded.done_home,
		done_call = plan_weeks.done_call + excluded.done_call,
		late_home = plan_weeks.late_home + excluded.late_home,
		late_call = plan_weeks.late_call + excluded.late_call,
		progress = ` + progressExpr(
	"(plan_weeks.done_home + excluded.done_home - plan_weeks.late_home - excluded.late_home)",
	"(plan_weeks.done_call + excluded.done_call - plan_weeks.late_call - excluded.late_call)",
	"plan_weeks.req_home", "plan_weeks.req_call", "plan_weeks.home_for_call", "plan_weeks.planned") + `,
		last_contact_at = CASE WHEN excluded.last_contact_at > plan_weeks.last_contact_at
			THEN excluded.last_contact_at ELSE plan_weeks.last_contact_at END`

const upsertMonth = `INSERT INTO plan_months (month, elder_id, area_code, class, contacted, contact_days) VALUES (?, ?, ?, ?, 1, 1)
	ON CONFLICT (month, elder_id) DO UPDATE SET contacted = 1, contact_days = plan_months.contact_days + 1`

// ApplyContact brings the rollups up to date with one visit record, inside
// the transaction that stores the record, so the figures never drift from
// the visits. Only completed contacts count (a 空访 not_home or a refusal
// does not). Contacts of one kind (home; phone and video are both calls) on
// one Shanghai day count once; a late record counts as done and as late,
// and stops being late when an on-time record of the same day and kind
// arrives. The week and month are those of c.At in Shanghai. It also counts
// the contact toward the deadline of every running campaign that reaches
// the elder. Callers must apply each record once (the visit's client UUID
// guards retries). An unknown elder is store.ErrNotFound.
func ApplyContact(ctx context.Context, tx *store.Tx, elderID int64, c schedule.Contact) error {
	if c.Outcome != schedule.OutcomeDone {
		return nil
	}
	var kind string
	switch {
	case c.Mode == schedule.ModeHome:
		kind = "home"
	case c.Mode.IsCall():
		kind = "call"
	default:
		return fmt.Errorf("apply contact: unknown mode %q", c.Mode)
	}
	var area, class string
	err := tx.QueryRow(ctx, "SELECT area_code, class FROM elders WHERE id = ?", elderID).Scan(&area, &class)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("apply contact: %w", err)
	}
	day := age.DateOf(c.At)
	late := boolInt(c.Late)
	res, err := tx.Exec(ctx, `INSERT INTO plan_contact_days (elder_id, day, kind, late) VALUES (?, ?, ?, ?)
		ON CONFLICT (elder_id, day, kind) DO NOTHING`, elderID, day.String(), kind, late)
	if err != nil {
		return fmt.Errorf("apply contact: day: %w", err)
	}
	newDay, err := res.RowsAffected()
	if err != nil {
		return err
	}
	var dDone, dLate int
	switch {
	case newDay == 1:
		dDone, dLate = 1, late
	case !c.Late:
		res, err := tx.Exec(ctx, "UPDATE plan_contact_days SET late = 0 WHERE elder_id = ? AND day = ? AND kind = ? AND late = 1",
			elderID, day.String(), kind)
		if err != nil {
			return fmt.Errorf("apply contact: day: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			dLate = -1
		}
	}
	var dh, dc, lh, lc int
	if kind == "home" {
		dh, lh = dDone, dLate
	} else {
		dc, lc = dDone, dLate
	}
	progress := 0
	if dDone-dLate > 0 {
		progress = 1 // a new row is not planned yet, so it cannot be met
	}
	at := store.FormatTime(c.At)
	if _, err := tx.Exec(ctx, upsertWeek, schedule.WeekOf(c.At).String(), elderID, area, class, dh, dc, lh, lc, progress, at); err != nil {
		return fmt.Errorf("apply contact: week: %w", err)
	}
	if dDone == 1 {
		if _, err := tx.Exec(ctx, upsertMonth, schedule.MonthOf(c.At).String(), elderID, area, class); err != nil {
			return fmt.Errorf("apply contact: month: %w", err)
		}
	}
	return applyDeadlines(ctx, tx, elderID, area, class, c, at)
}

// applyDeadlines counts a completed contact toward the running deadline
// campaigns that reach the elder by area, class and mode.
func applyDeadlines(ctx context.Context, tx *store.Tx, elderID int64, area, class string, c schedule.Contact, at string) error {
	rows, err := tx.Query(ctx, `SELECT id, area_prefix, classes, deadline_modes FROM campaigns
		WHERE deadline_due > ? AND deadline_from <= ?`, at, at)
	if err != nil {
		return fmt.Errorf("apply contact: campaigns: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		var prefix, classes, modes string
		if err := rows.Scan(&id, &prefix, &classes, &modes); err != nil {
			rows.Close()
			return err
		}
		if strings.HasPrefix(area, prefix) && listHas(classes, class) && listHas(modes, string(c.Mode)) {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := tx.Exec(ctx, `INSERT INTO campaign_contacts (campaign_id, elder_id, contacts, first_at) VALUES (?, ?, 1, ?)
			ON CONFLICT (campaign_id, elder_id) DO UPDATE SET contacts = campaign_contacts.contacts + 1,
				first_at = CASE WHEN excluded.first_at < campaign_contacts.first_at THEN excluded.first_at ELSE campaign_contacts.first_at END`,
			id, elderID, at); err != nil {
			return fmt.Errorf("apply contact: campaign %d: %w", id, err)
		}
	}
	return nil
}

// listHas reports whether a stored comma list holds v; an empty list
// holds everything.
func listHas(list, v string) bool {
	return list == "" || slices.Contains(strings.Split(list, ","), v)
}
