package reports

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/plan"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
	"tanfang/internal/visits"
)

// BenchmarkOverviewCity fills an SQLite database with N made-up elders
// (env REPORTS_BENCH_ELDERS, default 100,000) over every village of the
// city and a year of the rollups their visits leave (52 weeks of
// plan_weeks, 12 months of plan_months, a year of follow-ups and
// emergencies), all straight into the tables, takes the first snapshot,
// then measures the city's dashboard (target: under 300 ms), a county's and
// a village's, the job's refresh, and a month's and a quarter's report.
// The visits table itself stays empty: no figure reads it. Run:
//
//	go test -run '^$' -bench OverviewCity -benchtime 20x -timeout 30m ./internal/reports/
func BenchmarkOverviewCity(b *testing.B) {
	n := 100_000
	if v := os.Getenv("REPORTS_BENCH_ELDERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("REPORTS_BENCH_ELDERS=%q: want a number of elders, at least 1000", v)
		}
	}
	ctx := context.Background()
	// REPORTS_BENCH_DB keeps the generated database at a path and reuses it
	// on later runs, which saves the generation while tuning.
	path, keep := os.LookupEnv("REPORTS_BENCH_DB")
	if !keep {
		dir, err := os.MkdirTemp("", "reports-bench-")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "bench.db")
	}
	_, statErr := os.Stat(path)
	fresh := statErr != nil
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := testNow
	nowFn := func() time.Time { return now }
	svc := &Service{DB: db, Plan: &plan.Service{DB: db, Now: nowFn}, Visits: &visits.Service{DB: db, Now: nowFn}, Now: nowFn}
	step := func(name string, fn func() error) {
		start := time.Now()
		if err := fn(); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		b.Logf("%-34s %8.2f s", name, time.Since(start).Seconds())
	}
	if fresh {
		step(fmt.Sprintf("generate %d elders and a year", n), func() error { return benchCity(ctx, db, n, now) })
		step("first snapshot (job, 12 weeks)", func() error { return svc.Refresh(ctx) })
	}

	citySc := areas.Scope{Code: areas.CityCode, Prefix: "3207"}
	for _, tc := range []struct{ name, code string }{{"city", areas.CityCode}, {"county", "320706000000"}, {"village", "320706102206"}} {
		b.Run("overview_"+tc.name, func(b *testing.B) {
			var o Overview
			for b.Loop() {
				if o, err = svc.Overview(ctx, citySc, tc.code); err != nil {
					b.Fatal(err)
				}
			}
			if tc.name == "city" && (o.Elders.Files < n*9/10 || o.Compliance.InScope == 0 || len(o.Children) != 7 || len(o.Trend) != TrendWeeks || o.Followups.Open == 0) {
				b.Fatalf("overview %+v", o)
			}
			b.ReportMetric(float64(o.Elders.Files), "elders")
		})
	}
	b.Run("refresh", func(b *testing.B) {
		for b.Loop() {
			if err := svc.Refresh(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, tc := range []struct{ name, code, period string }{{"report_county_month", "320706000000", "2026-11"}, {"report_city_quarter", areas.CityCode, "2026-Q4"}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := svc.Report(ctx, citySc, tc.code, tc.period); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchCity writes n elders in contiguous blocks per village, two visitors
// per village and the pairings, 52 weeks of plan_weeks and 12 months of
// plan_months for the in-scope elders, a follow-up for every third elder
// over the year (one in ten still open) and an emergency per 500 elders.
// The rollups' secondary indexes are dropped while they fill and rebuilt
// after, as a bulk load would.
func benchCity(ctx context.Context, db *store.DB, n int, now time.Time) error {
	if _, err := (areas.Store{DB: db}).LoadDivisions(ctx, now); err != nil {
		return err
	}
	ts := store.FormatTime(now)
	var villages int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM areas WHERE level = 'village'").Scan(&villages); err != nil {
		return err
	}
	var indexes []string
	rows, err := db.Query(ctx, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('plan_weeks', 'plan_months') AND sql IS NOT NULL")
	if err != nil {
		return err
	}
	var drops []string
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			rows.Close()
			return err
		}
		drops, indexes = append(drops, "DROP INDEX "+name), append(indexes, q)
	}
	rows.Close()
	type stmt struct {
		q    string
		args []any
	}
	stmts := []stmt{
		{"PRAGMA synchronous = OFF", nil},
		{"CREATE TEMP TABLE bench_villages AS SELECT ROW_NUMBER() OVER (ORDER BY code) - 1 AS i, code FROM areas WHERE level = 'village'", nil},
		{`INSERT INTO elders (name, gender, birth_date, id_enc, id_hmac, id_masked, area_code, status, active, incomplete, class, created_at, updated_at)
			WITH RECURSIVE seq(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM seq WHERE k + 1 < ?)
			SELECT '测试老人', 'female', '1940-01-01', x'00', 'bench-' || k, '320706********0000', v.code,
				CASE WHEN k % 101 = 0 THEN 'deceased' WHEN k % 37 = 0 THEN 'hospital' ELSE 'active' END,
				CASE WHEN k % 101 = 0 THEN 0 ELSE 1 END, CASE WHEN k % 11 = 0 THEN 1 ELSE 0 END,
				CASE WHEN k % 10 < 2 THEN 'A' WHEN k % 10 < 4 THEN 'B' WHEN k % 10 < 8 THEN 'C' ELSE 'none' END, ?, ?
			FROM seq JOIN bench_villages v ON v.i = k * ? / ?`, []any{n, ts, ts, villages, n}},
		{`INSERT INTO visitors (kind, name, area_code, created_at, updated_at)
			SELECT 'volunteer', '测试人员' || j.j, v.code, ?, ? FROM bench_villages v, (SELECT 0 AS j UNION ALL SELECT 1) j ORDER BY v.i, j.j`, []any{ts, ts}},
		{`INSERT INTO pairings (elder_id, visitor_id, role, started_at)
			SELECT e.id, v.i * 2 + 1 + e.id % 2, 'primary', ? FROM elders e JOIN bench_villages v ON v.code = e.area_code
			WHERE e.active = 1 AND e.class IN ('A', 'B', 'C') AND e.id % 13 <> 0`, []any{ts}},
	}
	for _, d := range drops {
		stmts = append(stmts, stmt{d, nil})
	}
	w := schedule.WeekOf(now)
	for i := 0; i < 52; i++ {
		stmts = append(stmts, stmt{`INSERT INTO plan_weeks (week, elder_id, area_code, class, visitor_id, planned, req_home, req_call, in_scope,
				done_home, done_call, late_home, progress)
			SELECT ?, e.id, e.area_code, e.class, COALESCE(p.visitor_id, 0), 1, CASE e.class WHEN 'A' THEN 1 ELSE 0 END, 1,
				CASE WHEN e.status = 'hospital' THEN 0 ELSE 1 END, (e.id + ?) % 2, (e.id * 7 + ?) % 3 % 2, (e.id + ?) % 23 / 22, (e.id + ?) % 3
			FROM elders e LEFT JOIN pairings p ON p.elder_id = e.id AND p.role = 'primary' AND p.ended_at = ''
			WHERE e.active = 1 AND e.class IN ('A', 'B', 'C') ORDER BY e.id`, []any{w.String(), i, i, i, i}},
			stmt{"INSERT INTO plan_week_runs (week, planned_at, refreshed_at) VALUES (?, ?, ?)", []any{w.String(), ts, ts}})
		w = w.Prev()
	}
	for m := 1; m <= 12; m++ {
		stmts = append(stmts, stmt{`INSERT INTO plan_months (month, elder_id, area_code, class, in_scope, contacted, days)
			SELECT ?, id, area_code, class, 1, CASE WHEN (id + ?) % 17 = 0 THEN 0 ELSE 1 END, CASE WHEN (id + ?) % 17 = 0 THEN 0 ELSE (id % 4096) * 4 + 1 END
			FROM elders WHERE active = 1 AND class IN ('A', 'B', 'C') ORDER BY id`, []any{fmt.Sprintf("2026-%02d", m), m, m}})
	}
	for _, q := range indexes {
		stmts = append(stmts, stmt{q, nil})
	}
	year := now.AddDate(-1, 0, 0)
	stmts = append(stmts,
		stmt{`INSERT INTO followups (elder_id, area_code, kind, source, severity, status, summary, due_at, referred_type, resolved_at, created_at, updated_at)
			SELECT id, area_code, CASE id % 5 WHEN 0 THEN 'health' WHEN 1 THEN 'safety' WHEN 2 THEN 'family_duty' WHEN 3 THEN 'hardship_benefits' ELSE 'service_need' END,
				'bench', CASE id % 4 WHEN 0 THEN 'urgent' WHEN 1 THEN 'high' WHEN 2 THEN 'medium' ELSE 'low' END,
				CASE WHEN id % 30 = 0 THEN 'open' WHEN id % 30 = 3 THEN 'referred' WHEN id % 30 = 6 THEN 'in_progress' ELSE 'verified' END,
				'测试事项', ?, CASE WHEN id % 7 = 0 THEN 'provider' ELSE '' END,
				CASE WHEN id % 30 IN (0, 3, 6) THEN NULL ELSE ? END, ?, ?
			FROM elders WHERE id % 3 = 0`, []any{store.FormatTime(now.AddDate(0, 0, -3)), store.FormatTime(now.AddDate(0, -1, 0)), store.FormatTime(year), ts}},
		stmt{`INSERT INTO users (username, password_hash, role, area_code, password_changed_at, created_at) VALUES ('bench', 'x', 'city', ?, ?, ?)`,
			[]any{areas.CityCode, ts, ts}},
		stmt{`INSERT INTO emergencies (elder_id, area_code, what, status, raised_by, raised_at)
			SELECT id, area_code, '跌倒', CASE WHEN id % 5000 = 0 THEN 'open' ELSE 'closed' END, 1, ? FROM elders WHERE id % 500 = 0`,
			[]any{store.FormatTime(now.AddDate(0, 0, -2))}},
		stmt{"DROP TABLE bench_villages", nil},
		stmt{"PRAGMA wal_checkpoint(TRUNCATE)", nil},
	)
	for _, s := range stmts {
		if _, err := db.Exec(ctx, s.q, s.args...); err != nil {
			return fmt.Errorf("%.70s: %w", s.q, err)
		}
	}
	return nil
}
