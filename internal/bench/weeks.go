package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tanfang/internal/plan"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
	"tanfang/internal/visits"
)

// The weeks are filled in SQL, set by set: plan.EnsureWeek draws each week
// up as the product does, then one statement per table writes the week's
// contacts into the rollups (the same bits, counts and progress that
// plan.ApplyContact keeps; TestLoadedRollupsMatchApplyContact checks),
// another the visit records behind them, another the month bits.
//
// Each elder-week falls in a category by a hash of the elder and the week:
// 78% met, 12% one contact short, 4% (past weeks only) one contact
// recorded late (补录), the rest missed, some of those with an empty home
// visit (空访). In the current week only the days already past have
// contacts. Calls happen at 08:30 Shanghai time and home visits at 10:00.

// Day slots, Shanghai time.
const (
	callHour, callMin = 8, 30
	homeHour, homeMin = 10, 0
)

// WeekFigures count what the load wrote for one week.
type WeekFigures struct {
	Week   string `json:"week"`
	Visits int    `json:"visits"`
	// EnsureSeconds is plan.EnsureWeek's share: drawing the week up, as
	// the Monday job does.
	EnsureSeconds float64 `json:"ensure_week_seconds"`
	Followups     int     `json:"followups"`
	Seconds       float64 `json:"seconds"`
}

// pop is the SQL count of the seven day bits of an expression.
func pop(e string) string {
	terms := make([]string, 7)
	for i := range terms {
		terms[i] = fmt.Sprintf("((%s >> %d) & 1)", e, i)
	}
	return "(" + strings.Join(terms, " + ") + ")"
}

// pattern is the SQL of the days of n contacts: n's entry in masks, every
// day beyond them.
func pattern(n string, masks ...int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "(CASE WHEN %s <= 0 THEN 0", n)
	for i, m := range masks {
		fmt.Fprintf(&b, " WHEN %s = %d THEN %d", n, i+1, m)
	}
	b.WriteString(" ELSE 127 END)")
	return b.String()
}

var (
	homeDays = func(n string) string { return pattern(n, 4, 18, 42, 106, 107) } // Wed; Tue Fri; Tue Thu Sat; …
	callDays = func(n string) string { return pattern(n, 1, 9, 73, 85, 87) }    // Mon; Mon Thu; Mon Thu Sun; …
)

// weekFiller writes one week.
type weekFiller struct {
	db       *store.DB
	plan     *plan.Service
	now      time.Time
	recorder int64 // the account recorded as having entered the loaded visits
	logf     func(format string, args ...any)
}

// step times one statement of the fill in the progress log.
func (f *weekFiller) step(name string, start time.Time) {
	f.logf("  %s: %.1f s", name, time.Since(start).Seconds())
}

func shanghai(d age.Date, h, m int) time.Time {
	return time.Date(d.Year, d.Month, d.Day, h, m, 0, 0, age.Shanghai)
}

// days fills bench_days with the week's seven days (and no others): their
// bit and the times of the day's contacts. It returns the mask of the days
// whose contacts lie in the past.
func (f *weekFiller) days(ctx context.Context, tx *store.Tx, w schedule.Week) (int, error) {
	if _, err := tx.Exec(ctx, "DELETE FROM bench_days"); err != nil {
		return 0, fmt.Errorf("bench days: %w", err)
	}
	elapsed := 0
	for i, d := range w.Days() {
		call, home := shanghai(d, callHour, callMin), shanghai(d, homeHour, homeMin)
		if home.Add(50 * time.Minute).Before(f.now) {
			elapsed |= 1 << i
		}
		ft := store.FormatTime
		if _, err := tx.Exec(ctx, `INSERT INTO bench_days (week, i, bit,
			call_at, call_end, call_rec, home_at, home_end, home_rec, late_rec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.String(), i, 1<<i, ft(call), ft(call.Add(15*time.Minute)), ft(call.Add(20*time.Minute)),
			ft(home), ft(home.Add(40*time.Minute)), ft(home.Add(50*time.Minute)), ft(home.Add(74*time.Hour))); err != nil {
			return 0, fmt.Errorf("bench days: %w", err)
		}
	}
	return elapsed, nil
}

// progress is plan_weeks.progress (plan's progressExpr) from on-time day
// counts oh and oc over the row's own requirement: 2 met, 1 some on-time
// contact, 0 none. The load writes it with the counts instead of running
// EnsureWeek a second time; TestLoadedRollupsMatchApplyContact holds it to
// what ApplyContact computes.
func progress(oh, oc string) string {
	return strings.NewReplacer("OH", oh, "OC", oc).Replace(`(CASE WHEN planned = 1 AND req_home + req_call > 0 AND OH >= req_home
		AND (OC >= req_call OR (home_for_call = 1 AND OC + OH - req_home >= req_call)) THEN 2
		WHEN OH + OC > 0 THEN 1 ELSE 0 END)`)
}

// lastContact is the SQL of the latest contact's time from the day bits:
// the last day with one, and on a day with both the home visit, which is
// later (10:00 against 08:30).
func lastContact(w schedule.Week, hd, cd string) string {
	var b strings.Builder
	b.WriteString("(CASE")
	days := w.Days()
	for i := 6; i >= 0; i-- {
		fmt.Fprintf(&b, " WHEN (%s & %d) <> 0 THEN '%s' WHEN (%s & %d) <> 0 THEN '%s'",
			hd, 1<<i, store.FormatTime(shanghai(days[i], homeHour, homeMin)),
			cd, 1<<i, store.FormatTime(shanghai(days[i], callHour, callMin)))
	}
	b.WriteString(" ELSE '' END)")
	return b.String()
}

// fill draws up week w (index k of the run) with plan.EnsureWeek and
// writes its contacts: the rollups, the visit records, the month bits.
func (f *weekFiller) fill(ctx context.Context, w schedule.Week, k int) (WeekFigures, error) {
	start := time.Now()
	fig := WeekFigures{Week: w.String()}
	if err := f.plan.EnsureWeek(ctx, w); err != nil {
		return fig, fmt.Errorf("draw up %s: %w", w, err)
	}
	fig.EnsureSeconds = time.Since(start).Seconds()
	f.step("EnsureWeek", start)
	t := time.Now()
	past := !f.now.Before(w.End())
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		elapsed, err := f.days(ctx, tx, w)
		if err != nil {
			return err
		}
		h := fmt.Sprintf("((w.elder_id * 7919 + %d) %% 100)", k*37)
		late := "0"
		if past {
			late = fmt.Sprintf("(CASE WHEN %[1]s >= 90 AND %[1]s < 94 THEN 1 ELSE 0 END)", h)
		}
		hd := fmt.Sprintf(`((CASE WHEN %[1]s < 78 THEN %[2]s WHEN %[1]s < 90 THEN %[3]s
			WHEN %[4]s = 1 THEN (CASE WHEN w.req_home > 0 THEN 4 ELSE 0 END) ELSE 0 END) & %[5]d)`,
			h, homeDays("w.req_home"), homeDays("(w.req_home - 1)"), late, elapsed)
		cd := fmt.Sprintf(`((CASE WHEN %[1]s < 78 THEN %[2]s
			WHEN %[1]s < 90 THEN (CASE WHEN w.req_home > 0 THEN %[2]s ELSE %[3]s END)
			WHEN %[4]s = 1 THEN (CASE WHEN w.req_home > 0 THEN 0 ELSE 1 END) ELSE 0 END) & %[5]d)`,
			h, callDays("w.req_call"), callDays("(w.req_call - 1)"), late, elapsed)
		// The day bits are computed once (MATERIALIZED): inlined, every use
		// of them below would repeat the CASE.
		if _, err := tx.Exec(ctx, `WITH y AS MATERIALIZED (
				SELECT w.week, w.elder_id, `+hd+` AS hd, `+cd+` AS cd, `+late+` AS late
				FROM plan_weeks w WHERE w.week = ? AND w.planned = 1 AND w.req_home + w.req_call > 0),
			x AS (SELECT z.week, z.elder_id, z.hd, z.cd, z.lhd, z.lcd,
					`+pop("z.hd")+` AS dh, `+pop("z.cd")+` AS dc, `+pop("z.lhd")+` AS lh, `+pop("z.lcd")+` AS lc
				FROM (SELECT y.week, y.elder_id, y.hd, y.cd, y.late * y.hd AS lhd, y.late * y.cd AS lcd FROM y) z)
			UPDATE plan_weeks SET home_days = x.hd, call_days = x.cd,
				late_home_days = x.lhd, late_call_days = x.lcd,
				done_home = x.dh, done_call = x.dc, late_home = x.lh, late_call = x.lc,
				progress = `+progress("(x.dh - x.lh)", "(x.dc - x.lc)")+`,
				last_contact_at = `+lastContact(w, "x.hd", "x.cd")+`
			FROM x WHERE plan_weeks.week = x.week AND plan_weeks.elder_id = x.elder_id`, w.String()); err != nil {
			return fmt.Errorf("contacts of %s: %w", w, err)
		}
		f.step("rollups", t)
		t = time.Now()
		n, err := f.visits(ctx, tx, w, k, h, elapsed)
		if err != nil {
			return err
		}
		fig.Visits = n
		f.step("visit records", t)
		t = time.Now()
		for _, m := range months(w) {
			if _, err := tx.Exec(ctx, `UPDATE plan_months SET contacted = 1, days = plan_months.days | x.bits
				FROM (SELECT elder_id, `+monthBits(w, m, "home_days", "call_days")+` AS bits FROM plan_weeks
					WHERE week = ? AND (home_days | call_days) <> 0) x
				WHERE plan_months.month = ? AND plan_months.elder_id = x.elder_id AND x.bits <> 0`, w.String(), m); err != nil {
				return fmt.Errorf("months of %s: %w", w, err)
			}
		}
		f.step("month rollups", t)
		return nil
	})
	if err != nil {
		return fig, err
	}
	fig.Seconds = time.Since(start).Seconds()
	return fig, nil
}

// monthBits is the SQL of plan_months.days for the days of week w in
// month m from a week row's day bits: bit 2*(day-1) for a home visit,
// the next for a call.
func monthBits(w schedule.Week, m, hd, cd string) string {
	var terms []string
	for i, d := range w.Days() {
		if fmt.Sprintf("%04d-%02d", d.Year, int(d.Month)) != m {
			continue
		}
		terms = append(terms, fmt.Sprintf("(((%s >> %d) & 1) * %d) + (((%s >> %d) & 1) * %d)",
			hd, i, int64(1)<<(2*(d.Day-1)), cd, i, int64(1)<<(2*(d.Day-1)+1)))
	}
	return "(" + strings.Join(terms, " + ") + ")"
}

// months lists the calendar months the week's days fall in.
func months(w schedule.Week) []string {
	var out []string
	for _, d := range w.Days() {
		m := fmt.Sprintf("%04d-%02d", d.Year, int(d.Month))
		if len(out) == 0 || out[len(out)-1] != m {
			out = append(out, m)
		}
	}
	return out
}

// Findings that open follow-ups, by a hash of the elder and the week, so
// every home visit of that elder in that week reports the same.
const (
	mentalPoor = "((w.elder_id * 13 + %d) %% 61 = 0)"
	gasUnsafe  = "((w.elder_id * 17 + %d) %% 97 = 0)"
)

// visits writes the records behind the week's contacts: a home visit per
// home day, a phone or video call per call day, and an empty home visit
// (not_home) for some elders who were missed.
func (f *weekFiller) visits(ctx context.Context, tx *store.Tx, w schedule.Week, k int, h string, elapsed int) (int, error) {
	cols := `client_id, elder_id, area_code, visitor_id, recorded_by, mode, started_at, ended_at, outcome,
		expression, mobility, mental, illness, house, gas, water_heating, electricity, hygiene, supporter,
		late, late_reason, recorded_at, received_at, version, updated_at`
	mental := fmt.Sprintf("(CASE WHEN "+mentalPoor+" THEN 'poor' WHEN (w.elder_id + d.i) %% 5 = 0 THEN 'fair' ELSE 'good' END)", k)
	gas := fmt.Sprintf("(CASE WHEN "+gasUnsafe+" THEN 'unsafe' WHEN (w.elder_id + d.i) %% 7 = 0 THEN 'fairly_safe' ELSE 'safe' END)", k)
	lateHome := "(CASE WHEN (w.late_home_days & d.bit) <> 0 THEN 1 ELSE 0 END)"
	lateCall := "(CASE WHEN (w.late_call_days & d.bit) <> 0 THEN 1 ELSE 0 END)"
	total := 0
	qs := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO visits (` + cols + `)
			SELECT 'b' || w.week || '-' || w.elder_id || '-h' || d.i, w.elder_id, w.area_code, NULLIF(w.visitor_id, 0), ?,
				'home', d.home_at, d.home_end, 'done',
				'good', (CASE WHEN (w.elder_id + d.i) % 3 = 0 THEN 'fair' ELSE 'good' END), ` + mental + `, 'same',
				'safe', ` + gas + `, 'safe', 'safe', 'good', 'good',
				` + lateHome + `, (CASE WHEN ` + lateHome + ` = 1 THEN '当时无网络，事后补录' ELSE '' END),
				(CASE WHEN ` + lateHome + ` = 1 THEN d.late_rec ELSE d.home_rec END),
				(CASE WHEN ` + lateHome + ` = 1 THEN d.late_rec ELSE d.home_rec END), 1,
				(CASE WHEN ` + lateHome + ` = 1 THEN d.late_rec ELSE d.home_rec END)
			FROM plan_weeks w JOIN bench_days d ON d.week = w.week AND (w.home_days & d.bit) <> 0
			WHERE w.week = ?`, []any{f.recorder, w.String()}},
		{`INSERT INTO visits (` + cols + `)
			SELECT 'b' || w.week || '-' || w.elder_id || '-c' || d.i, w.elder_id, w.area_code, NULLIF(w.visitor_id, 0), ?,
				(CASE WHEN (w.elder_id + d.i) % 6 = 0 THEN 'video' ELSE 'phone' END), d.call_at, d.call_end, 'done',
				'good', (CASE WHEN (w.elder_id + d.i) % 3 = 0 THEN 'fair' ELSE 'good' END), 'good', 'same', '', '', '', '', '', '',
				` + lateCall + `, (CASE WHEN ` + lateCall + ` = 1 THEN '当时无网络，事后补录' ELSE '' END),
				(CASE WHEN ` + lateCall + ` = 1 THEN d.late_rec ELSE d.call_rec END),
				(CASE WHEN ` + lateCall + ` = 1 THEN d.late_rec ELSE d.call_rec END), 1,
				(CASE WHEN ` + lateCall + ` = 1 THEN d.late_rec ELSE d.call_rec END)
			FROM plan_weeks w JOIN bench_days d ON d.week = w.week AND (w.call_days & d.bit) <> 0
			WHERE w.week = ?`, []any{f.recorder, w.String()}},
	}
	// 空访: the visitor came on Wednesday and found nobody home.
	if elapsed&4 != 0 {
		qs = append(qs, struct {
			sql  string
			args []any
		}{`INSERT INTO visits (` + cols + `)
			SELECT 'b' || w.week || '-' || w.elder_id || '-n' || d.i, w.elder_id, w.area_code, NULLIF(w.visitor_id, 0), ?,
				'home', d.home_at, d.home_at, 'not_home', '', '', '', '', '', '', '', '', '', '',
				0, '', d.home_rec, d.home_rec, 1, d.home_rec
			FROM plan_weeks w JOIN bench_days d ON d.week = w.week AND d.i = 2
			WHERE w.week = ? AND w.planned = 1 AND w.req_home > 0 AND w.home_days = 0
				AND ` + h + ` >= 94 AND ` + h + ` < 97`, []any{f.recorder, w.String()}})
	}
	for _, q := range qs {
		res, err := tx.Exec(ctx, q.sql, q.args...)
		if err != nil {
			return 0, fmt.Errorf("visits of %s: %w", w, err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
	}
	return total, nil
}

// followups opens a follow-up for each elder whose home visits of the week
// found a poor mental state or an unsafe gas supply, with the kind,
// severity and summary visits.Concerns gives such a finding. Items of
// older weeks have mostly been resolved and verified.
func (f *weekFiller) followups(ctx context.Context, w schedule.Week, k int) (int, error) {
	rules := visits.DefaultRules()
	created := shanghai(w.Days()[0], 0, 0).Add(time.Duration(homeHour)*time.Hour + 50*time.Minute)
	recent := f.now.Sub(created) < 14*24*time.Hour
	status := `(CASE WHEN w.elder_id % 10 < 6 THEN 'verified' WHEN w.elder_id % 10 < 8 THEN 'resolved'
		WHEN w.elder_id % 10 < 9 THEN 'referred' ELSE 'in_progress' END)`
	if recent {
		status = `(CASE WHEN w.elder_id % 10 < 3 THEN 'open' WHEN w.elder_id % 10 < 6 THEN 'in_progress'
			WHEN w.elder_id % 10 < 8 THEN 'referred' ELSE 'resolved' END)`
	}
	resolvedAt := store.FormatTime(created.Add(2 * 24 * time.Hour))
	verifiedAt := store.FormatTime(created.Add(6 * 24 * time.Hour))
	total := 0
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		for _, c := range []struct {
			cond     string
			findings visits.Findings
		}{
			{mentalPoor, visits.Findings{Mental: "poor"}},
			{gasUnsafe, visits.Findings{Gas: "unsafe"}},
		} {
			cs := visits.Concerns(visits.Record{Mode: "home", Outcome: "done", Findings: c.findings})
			if len(cs) != 1 {
				return fmt.Errorf("follow-ups: %d concerns for %+v, want 1", len(cs), c.findings)
			}
			con := cs[0]
			ts := store.FormatTime(created)
			res, err := tx.Exec(ctx, `INSERT INTO followups (elder_id, area_code, visit_id, kind, source, severity, status, summary,
				due_at, level, resolved_at, verified_at, created_at, updated_at)
			SELECT w.elder_id, w.area_code,
				(SELECT MIN(v.id) FROM visits v WHERE v.elder_id = w.elder_id AND v.started_at >= ? AND v.started_at < ?
					AND v.mode = 'home' AND v.outcome = 'done'),
				?, ?, ?, `+status+`, ?, ?, 'village',
				(CASE WHEN `+status+` IN ('resolved', 'verified') THEN ? END),
				(CASE WHEN `+status+` = 'verified' THEN ? END), ?, ?
			FROM plan_weeks w WHERE w.week = ? AND w.home_days <> 0 AND `+fmt.Sprintf(c.cond, k),
				store.FormatTime(w.Start()), store.FormatTime(w.End()), con.Kind, con.Source, con.Severity, con.Summary,
				store.FormatTime(rules.Due(created, con.Severity)), resolvedAt, verifiedAt, ts, ts, w.String())
			if err != nil {
				return fmt.Errorf("follow-ups of %s: %w", w, err)
			}
			n, _ := res.RowsAffected()
			total += int(n)
			if _, err := tx.Exec(ctx, `INSERT INTO followup_events (followup_id, at, actor_id, actor, action, from_status, to_status, reason, visit_id)
			SELECT id, created_at, 0, 'bench', 'created', '', 'open', '探访发现：' || summary, visit_id
			FROM followups WHERE created_at = ? AND source = ?`, ts, con.Source); err != nil {
				return fmt.Errorf("follow-up events of %s: %w", w, err)
			}
		}
		return nil
	})
	return total, err
}
