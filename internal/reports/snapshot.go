package reports

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
)

// TrendWeeks is how many weeks, the current one included, a dashboard's
// trend shows.
const TrendWeeks = 12

// settle is how long after a week or month ends its snapshot is still
// rebuilt: on-time records of its last days may still arrive, and late ones
// still change its contact days. After that the snapshot stays as it is;
// reports read the plan's rollups directly and so never miss a later record.
const settle = 8 * 24 * time.Hour

// levelDigits are the significant digits of a code at the city, county,
// town and village levels.
var levelDigits = [...]int{4, 6, 9, 12}

// ancestors returns the distinct codes, at each level from the city down
// to the village, of the areas holding code (code itself among them when
// it is at one of those levels; a grid's village is its deepest).
func ancestors(code string) []string {
	out := make([]string, 0, len(levelDigits))
	for _, n := range levelDigits {
		if len(code) < n {
			break
		}
		a := code[:n] + strings.Repeat("0", max(12-n, 0))
		if len(out) == 0 || out[len(out)-1] != a {
			out = append(out, a)
		}
	}
	return out
}

// Run rebuilds the current snapshot at start and every interval until ctx
// ends, and once a day looks for corrections to closed periods. Started by
// `tanfang serve`.
func (s *Service) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	var lastSweep time.Time
	for {
		start := time.Now()
		if err := s.Refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("reports: refresh", "err", err)
		} else {
			log.Info("reports: snapshot refreshed", "ms", time.Since(start).Milliseconds())
		}
		if time.Since(lastSweep) >= 24*time.Hour {
			n, err := s.Reconcile(ctx)
			if err != nil && ctx.Err() == nil {
				log.Error("reports: corrections", "err", err)
			} else if err == nil {
				lastSweep = time.Now()
				log.Info("reports: closed periods checked", "corrections", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// Refresh rebuilds the snapshot of the files, the current week and month,
// and any week of the trend or the previous month not yet settled.
func (s *Service) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refresh(ctx)
}

func (s *Service) refresh(ctx context.Context) error {
	now := s.now()
	cur := schedule.WeekOf(now)
	if err := s.snapshotCounts(ctx); err != nil {
		return err
	}
	w := cur
	for i := 0; i < TrendWeeks; i++ {
		if i == 0 || !s.settled(ctx, w.String(), w.End()) {
			if err := s.snapshotWeek(ctx, w); err != nil {
				return err
			}
		}
		w = w.Prev()
	}
	m := schedule.MonthOf(now)
	if err := s.snapshotMonth(ctx, m); err != nil {
		return err
	}
	prev := schedule.MonthOf(m.Start().Add(-time.Hour))
	if !s.settled(ctx, prev.String(), prev.End()) {
		if err := s.snapshotMonth(ctx, prev); err != nil {
			return err
		}
	}
	return s.markRun(ctx, "current", now)
}

// settled reports whether the snapshot of a period ending at end was taken
// after it settled.
func (s *Service) settled(ctx context.Context, period string, end time.Time) bool {
	at, ok, err := s.runAt(ctx, period)
	return err == nil && ok && !at.Before(end.Add(settle))
}

func (s *Service) runAt(ctx context.Context, period string) (time.Time, bool, error) {
	var at string
	err := s.DB.QueryRow(ctx, "SELECT computed_at FROM report_runs WHERE period = ?", period).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("snapshot time: %w", err)
	}
	t, err := store.ParseTime(at)
	return t, err == nil, err
}

func (s *Service) markRun(ctx context.Context, period string, at time.Time) error {
	_, err := s.DB.Exec(ctx, `INSERT INTO report_runs (period, computed_at) VALUES (?, ?)
		ON CONFLICT (period) DO UPDATE SET computed_at = excluded.computed_at`, period, store.FormatTime(at))
	if err != nil {
		return fmt.Errorf("mark snapshot %s: %w", period, err)
	}
	return nil
}

// ensureFresh rebuilds the current snapshot when there is none, when it is
// older than MaxAge (the job is not running) or from an earlier week.
func (s *Service) ensureFresh(ctx context.Context) (time.Time, error) {
	now := s.now()
	stale := func() (time.Time, bool, error) {
		at, ok, err := s.runAt(ctx, "current")
		if err != nil || !ok {
			return at, true, err
		}
		return at, now.Sub(at) > s.maxAge() || schedule.WeekOf(at) != schedule.WeekOf(now) ||
			schedule.MonthOf(at) != schedule.MonthOf(now), nil
	}
	at, old, err := stale()
	if err != nil || !old {
		return at, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Another request may have rebuilt it while this one waited.
	if at, old, err = stale(); err != nil || !old {
		return at, err
	}
	if err := s.refresh(ctx); err != nil {
		return time.Time{}, err
	}
	return now, nil
}

func (s *Service) maxAge() time.Duration {
	if s.MaxAge > 0 {
		return s.MaxAge
	}
	return 10 * time.Minute
}

// table is rows of one snapshot table to write.
type table struct {
	name string
	cols []string
	key  int // how many leading columns form the primary key
	rows [][]any
}

// replace makes the rows of each table that match where equal to t.rows,
// writing in one transaction only the rows that differ (between two
// refreshes most do not), so readers see the old snapshot or the new one.
// Rows are upserted, so two servers refreshing at once do not collide.
func (s *Service) replace(ctx context.Context, where string, args []any, ts ...table) error {
	type change struct {
		t      table
		upsert [][]any
		gone   [][]any
	}
	var changes []change
	for _, t := range ts {
		old, err := s.current(ctx, t, where, args)
		if err != nil {
			return err
		}
		c := change{t: t}
		for _, r := range t.rows {
			k := joinValues(r[:t.key])
			if prev, ok := old[k]; ok && joinValues(prev[t.key:]) == joinValues(r[t.key:]) {
				delete(old, k)
				continue
			}
			delete(old, k)
			c.upsert = append(c.upsert, r)
		}
		for _, r := range old {
			c.gone = append(c.gone, r[:t.key])
		}
		changes = append(changes, c)
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		for _, c := range changes {
			t := c.t
			var match []string
			for _, col := range t.cols[:t.key] {
				match = append(match, col+" = ?")
			}
			for _, k := range c.gone {
				if _, err := tx.Exec(ctx, "DELETE FROM "+t.name+" WHERE "+strings.Join(match, " AND "), k...); err != nil {
					return fmt.Errorf("clear %s: %w", t.name, err)
				}
			}
			one := "(?" + strings.Repeat(", ?", len(t.cols)-1) + ")"
			var set []string
			for _, col := range t.cols[t.key:] {
				set = append(set, col+" = excluded."+col)
			}
			const batch = 200
			for lo := 0; lo < len(c.upsert); lo += batch {
				part := c.upsert[lo:min(lo+batch, len(c.upsert))]
				vals := make([]string, len(part))
				var flat []any
				for i, r := range part {
					vals[i] = one
					flat = append(flat, r...)
				}
				q := "INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES " + strings.Join(vals, ", ") +
					" ON CONFLICT (" + strings.Join(t.cols[:t.key], ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
				if _, err := tx.Exec(ctx, q, flat...); err != nil {
					return fmt.Errorf("write %s: %w", t.name, err)
				}
			}
		}
		return nil
	})
}

// current reads the stored rows of t matching where, by key.
func (s *Service) current(ctx context.Context, t table, where string, args []any) (map[string][]any, error) {
	rows, err := s.DB.Query(ctx, "SELECT "+strings.Join(t.cols, ", ")+" FROM "+t.name+" WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.name, err)
	}
	defer rows.Close()
	out := map[string][]any{}
	for rows.Next() {
		vals := make([]any, len(t.cols))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read %s: %w", t.name, err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		out[joinValues(vals[:t.key])] = vals
	}
	return out, rows.Err()
}

// joinValues is a comparable form of column values, whatever Go type the
// driver gave them.
func joinValues(vs []any) string {
	var b strings.Builder
	for _, v := range vs {
		switch x := v.(type) {
		case string:
			b.WriteString(x)
		case int:
			b.WriteString(strconv.Itoa(x))
		case int64:
			b.WriteString(strconv.FormatInt(x, 10))
		default:
			fmt.Fprint(&b, x)
		}
		b.WriteByte(0)
	}
	return b.String()
}

// snapshotCounts counts the active files by area, class, status and
// completeness.
func (s *Service) snapshotCounts(ctx context.Context) error {
	rows, err := s.DB.Query(ctx, `SELECT area_code, class, status, incomplete, COUNT(*) FROM elders
		WHERE active = 1 GROUP BY area_code, class, status, incomplete`)
	if err != nil {
		return fmt.Errorf("count files: %w", err)
	}
	type key struct{ area, dim, item string }
	counts := map[key]int{}
	for rows.Next() {
		var area, class, status string
		var incomplete, n int
		if err := rows.Scan(&area, &class, &status, &incomplete, &n); err != nil {
			rows.Close()
			return fmt.Errorf("count files: %w", err)
		}
		for _, a := range ancestors(area) {
			counts[key{a, "files", "active"}] += n
			counts[key{a, "class", class}] += n
			counts[key{a, "status", status}] += n
			if incomplete == 1 {
				counts[key{a, "incomplete", "1"}] += n
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("count files: %w", err)
	}
	t := table{name: "report_counts", cols: []string{"area_code", "dim", "item", "n"}, key: 3}
	for k, n := range counts {
		t.rows = append(t.rows, []any{k.area, k.dim, k.item, n})
	}
	return s.replace(ctx, "1 = 1", nil, t)
}

// weekSums are a group of plan_weeks rows summed; see report_weeks.
type weekSums struct {
	Planned, Paired, InScope, Met, Partial, Home, Calls, Late int
}

func (a *weekSums) add(b weekSums) {
	a.Planned += b.Planned
	a.Paired += b.Paired
	a.InScope += b.InScope
	a.Met += b.Met
	a.Partial += b.Partial
	a.Home += b.Home
	a.Calls += b.Calls
	a.Late += b.Late
}

// snapshotWeek sums week w of plan_weeks for every area and, for the
// current week (the only one a drill-down shows), every primary visitor in
// each village. The conditions are those of
// plan.Compliance (TestReports holds them together). Weeks are drawn up by
// the plan's own job; a week not yet drawn up has no elders in scope.
func (s *Service) snapshotWeek(ctx context.Context, w schedule.Week) error {
	now := s.now()
	rows, err := s.DB.Query(ctx, `SELECT area_code, visitor_id, class, SUM(planned),
			SUM(CASE WHEN planned = 1 AND visitor_id <> 0 THEN 1 ELSE 0 END), SUM(in_scope),
			SUM(CASE WHEN in_scope = 1 AND progress = 2 THEN 1 ELSE 0 END),
			SUM(CASE WHEN in_scope = 1 AND progress = 1 THEN 1 ELSE 0 END),
			SUM(done_home), SUM(done_call), SUM(late_home + late_call)
		FROM plan_weeks WHERE week = ? GROUP BY area_code, visitor_id, class`, w.String())
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", w, err)
	}
	type areaKey struct{ area, class string }
	type visitorKey struct {
		area    string
		visitor int64
		class   string
	}
	byArea := map[areaKey]*weekSums{}
	byVisitor := map[visitorKey]*weekSums{}
	for rows.Next() {
		var area, class string
		var visitor int64
		var x weekSums
		if err := rows.Scan(&area, &visitor, &class, &x.Planned, &x.Paired, &x.InScope, &x.Met, &x.Partial, &x.Home, &x.Calls, &x.Late); err != nil {
			rows.Close()
			return fmt.Errorf("snapshot %s: %w", w, err)
		}
		anc := ancestors(area)
		for _, a := range anc {
			k := areaKey{a, class}
			if byArea[k] == nil {
				byArea[k] = &weekSums{}
			}
			byArea[k].add(x)
		}
		if visitor != 0 && len(anc) == len(levelDigits) && w == schedule.WeekOf(now) {
			k := visitorKey{anc[len(anc)-1], visitor, class}
			if byVisitor[k] == nil {
				byVisitor[k] = &weekSums{}
			}
			byVisitor[k].add(x)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("snapshot %s: %w", w, err)
	}
	ta := table{name: "report_weeks", key: 3,
		cols: []string{"week", "area_code", "class", "planned", "paired", "in_scope", "met", "partial", "home", "calls", "late"}}
	for k, x := range byArea {
		ta.rows = append(ta.rows, []any{w.String(), k.area, k.class, x.Planned, x.Paired, x.InScope, x.Met, x.Partial, x.Home, x.Calls, x.Late})
	}
	tv := table{name: "report_visitor_weeks", key: 4,
		cols: []string{"week", "area_code", "visitor_id", "class", "planned", "in_scope", "met", "partial", "home", "calls"}}
	for k, x := range byVisitor {
		tv.rows = append(tv.rows, []any{w.String(), k.area, k.visitor, k.class, x.Planned, x.InScope, x.Met, x.Partial, x.Home, x.Calls})
	}
	if err := s.replace(ctx, "week = ?", []any{w.String()}, ta, tv); err != nil {
		return err
	}
	return s.markRun(ctx, w.String(), now)
}

// monthSums are a group of plan_months rows summed; see report_months.
type monthSums struct{ InScope, Contacted, ContactDays int }

func (a *monthSums) add(b monthSums) {
	a.InScope += b.InScope
	a.Contacted += b.Contacted
	a.ContactDays += b.ContactDays
}

// scanMonth reads month m of plan_months under [lo, hi) (everything when
// lo is empty) and hands each elder's row to add: in scope, contacted while
// in scope (plan.Compliance's monthly visit rate), and the days with a
// completed contact, by kind, from the row's day bitmask.
func (s *Service) scanMonth(ctx context.Context, m schedule.Month, lo, hi string, add func(area, class string, x monthSums)) error {
	q, args := "SELECT area_code, class, in_scope, contacted, days FROM plan_months WHERE month = ?", []any{m.String()}
	if lo != "" {
		q += " AND area_code >= ? AND area_code < ?"
		args = append(args, lo, hi)
	}
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("month %s: %w", m, err)
	}
	defer rows.Close()
	for rows.Next() {
		var area, class string
		var inScope, contacted int
		var days int64
		if err := rows.Scan(&area, &class, &inScope, &contacted, &days); err != nil {
			return fmt.Errorf("month %s: %w", m, err)
		}
		add(area, class, monthSums{InScope: inScope, Contacted: inScope * contacted, ContactDays: bits.OnesCount64(uint64(days))})
	}
	return rows.Err()
}

// snapshotMonth sums month m of plan_months for every area.
func (s *Service) snapshotMonth(ctx context.Context, m schedule.Month) error {
	now := s.now()
	type key struct{ area, class string }
	// Sum by village first, then roll the few thousand sums up.
	byArea := map[key]monthSums{}
	err := s.scanMonth(ctx, m, "", "", func(area, class string, x monthSums) {
		k := key{area, class}
		t := byArea[k]
		t.add(x)
		byArea[k] = t
	})
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	sums := map[key]*monthSums{}
	for k, x := range byArea {
		for _, a := range ancestors(k.area) {
			ak := key{a, k.class}
			if sums[ak] == nil {
				sums[ak] = &monthSums{}
			}
			sums[ak].add(x)
		}
	}
	t := table{name: "report_months", key: 3, cols: []string{"month", "area_code", "class", "in_scope", "contacted", "contact_days"}}
	for k, x := range sums {
		t.rows = append(t.rows, []any{m.String(), k.area, k.class, x.InScope, x.Contacted, x.ContactDays})
	}
	if err := s.replace(ctx, "month = ?", []any{m.String()}, t); err != nil {
		return err
	}
	return s.markRun(ctx, m.String(), now)
}
