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

// inScopeOfRow is the SQL of plan_weeks.in_scope: planned and owed a contact.
const inScopeOfRow = "(CASE WHEN planned = 1 AND req_home + req_call > 0 THEN 1 ELSE 0 END)"

// progressOf is progressExpr in Go, for ApplyContact.
func progressOf(onHome, onCall, reqHome, reqCall int, homeForCall, planned bool) int {
	switch {
	case planned && reqHome+reqCall > 0 && onHome >= reqHome &&
		(onCall >= reqCall || (homeForCall && onCall+onHome-reqHome >= reqCall)):
		return 2
	case onHome+onCall > 0:
		return 1
	}
	return 0
}

// addToWeek is the statement that adds one completed contact to an
// existing row of an elder's week, for a kind ("home" or "call"), the
// day's bit (Monday 1, Sunday 64) and whether the record is late. In SET
// every column reads its old value, so the day counts only if its bit was
// clear; a late record marks a new day late, an on-time record clears the
// day's late mark. The increments are atomic, and on PostgreSQL the row
// stays locked until the visit commits; RETURNING gives what progress
// needs. The values are integers made here, never input.
func addToWeek(kind string, bit int, late bool) string {
	l := boolInt(late)
	return fmt.Sprintf(`UPDATE plan_weeks SET
		done_%[1]s = done_%[1]s + (CASE WHEN %[1]s_days & %[2]d = 0 THEN 1 ELSE 0 END),
		late_%[1]s = late_%[1]s + (CASE WHEN %[3]d = 1 AND %[1]s_days & %[2]d = 0 THEN 1
			WHEN %[3]d = 0 AND late_%[1]s_days & %[2]d <> 0 THEN -1 ELSE 0 END),
		late_%[1]s_days = (CASE WHEN %[3]d = 1 AND %[1]s_days & %[2]d = 0 THEN late_%[1]s_days | %[2]d
			WHEN %[3]d = 0 THEN late_%[1]s_days & %[4]d ELSE late_%[1]s_days END),
		%[1]s_days = %[1]s_days | %[2]d,
		last_contact_at = CASE WHEN last_contact_at < ? THEN ? ELSE last_contact_at END
	WHERE week = ? AND elder_id = ?
	RETURNING planned, req_home, req_call, home_for_call, done_home, done_call, late_home, late_call, progress`, kind, bit, l, 127&^bit)
}

const upsertMonth = `INSERT INTO plan_months (month, elder_id, area_code, class, contacted, days) VALUES (?, ?, ?, ?, 1, ?)
	ON CONFLICT (month, elder_id) DO UPDATE SET contacted = 1, days = plan_months.days | excluded.days`

// ApplyContact brings the rollups up to date with one visit record, inside
// the transaction that stores the record, so the figures never drift from
// the visits. Only completed contacts count (a 空访 not_home or a refusal
// does not). Contacts of one kind (home; phone and video are both calls) on
// one Shanghai day count once; a late record counts as done and as late,
// and stops being late when an on-time record of the same day and kind
// arrives. The week and month are those of c.At in Shanghai. It also counts
// the contact toward the deadline of every running campaign that reaches
// the elder. Callers must apply each record once (the visit's client UUID
// guards retries). An unknown elder is store.ErrNotFound. In the usual case
// (the week drawn up) it runs three short statements.
func ApplyContact(ctx context.Context, tx *store.Tx, elderID int64, c schedule.Contact) error {
	if c.Outcome != schedule.OutcomeDone {
		return nil
	}
	var kind string
	var kindBit uint
	switch {
	case c.Mode == schedule.ModeHome:
		kind = "home"
	case c.Mode.IsCall():
		kind, kindBit = "call", 1
	default:
		return fmt.Errorf("apply contact: unknown mode %q", c.Mode)
	}
	local := c.At.In(age.Shanghai)
	dayBit := 1 << ((int(local.Weekday()) + 6) % 7)
	at := store.FormatTime(c.At)
	week := schedule.WeekOf(c.At).String()
	var area, class string // read only when a row must be created
	elder := func() error {
		if area != "" {
			return nil
		}
		err := tx.QueryRow(ctx, "SELECT area_code, class FROM elders WHERE id = ?", elderID).Scan(&area, &class)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	}
	var planned, hfc bool
	var reqHome, reqCall, doneHome, doneCall, lateHome, lateCall, progress int
	q := addToWeek(kind, dayBit, c.Late)
	for attempt := 0; ; attempt++ {
		err := tx.QueryRow(ctx, q, at, at, week, elderID).
			Scan(&planned, &reqHome, &reqCall, &hfc, &doneHome, &doneCall, &lateHome, &lateCall, &progress)
		if err == nil {
			break
		}
		if !errors.Is(err, sql.ErrNoRows) || attempt > 0 {
			return fmt.Errorf("apply contact: week: %w", err)
		}
		// The week was not drawn up for this elder: a row that is not
		// planned records the contact. Inserted empty, then updated
		// above, so a concurrent insert cannot lose either contact.
		if err := elder(); err != nil {
			return fmt.Errorf("apply contact: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO plan_weeks (week, elder_id, area_code, class) VALUES (?, ?, ?, ?)
			ON CONFLICT (week, elder_id) DO NOTHING`, week, elderID, area, class); err != nil {
			return fmt.Errorf("apply contact: week: %w", err)
		}
	}
	if p := progressOf(doneHome-lateHome, doneCall-lateCall, reqHome, reqCall, hfc, planned); p != progress {
		if _, err := tx.Exec(ctx, "UPDATE plan_weeks SET progress = ? WHERE week = ? AND elder_id = ?", p, week, elderID); err != nil {
			return fmt.Errorf("apply contact: progress: %w", err)
		}
	}
	month := schedule.MonthOf(c.At).String()
	monthBit := int64(1) << (uint(local.Day()-1)*2 + kindBit)
	res, err := tx.Exec(ctx, fmt.Sprintf("UPDATE plan_months SET contacted = 1, days = days | %d WHERE month = ? AND elder_id = ?", monthBit), month, elderID)
	if err != nil {
		return fmt.Errorf("apply contact: month: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if err := elder(); err != nil {
			return fmt.Errorf("apply contact: %w", err)
		}
		if _, err := tx.Exec(ctx, upsertMonth, month, elderID, area, class, monthBit); err != nil {
			return fmt.Errorf("apply contact: month: %w", err)
		}
	}
	return applyDeadlines(ctx, tx, elderID, c, at, elder, &area, &class)
}

// applyDeadlines counts a completed contact toward the running deadline
// campaigns that reach the elder by area, class and mode.
func applyDeadlines(ctx context.Context, tx *store.Tx, elderID int64, c schedule.Contact, at string, elder func() error, area, class *string) error {
	rows, err := tx.Query(ctx, `SELECT id, area_prefix, classes, deadline_modes FROM campaigns
		WHERE deadline_due > ? AND deadline_from <= ?`, at, at)
	if err != nil {
		return fmt.Errorf("apply contact: campaigns: %w", err)
	}
	var ids []int64
	var prefixes, classLists []string
	for rows.Next() {
		var id int64
		var prefix, classes, modes string
		if err := rows.Scan(&id, &prefix, &classes, &modes); err != nil {
			rows.Close()
			return err
		}
		if listHas(modes, string(c.Mode)) {
			ids = append(ids, id)
			prefixes = append(prefixes, prefix)
			classLists = append(classLists, classes)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return err
	}
	if err := elder(); err != nil {
		return fmt.Errorf("apply contact: %w", err)
	}
	var reached []int64
	for i, id := range ids {
		if strings.HasPrefix(*area, prefixes[i]) && listHas(classLists[i], *class) {
			reached = append(reached, id)
		}
	}
	ids = reached
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
