package plan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
)

// BenchmarkComplianceWeek fills an SQLite database with N made-up elders
// (env PLAN_BENCH_ELDERS, default 100,000) over every village of the city,
// one visitor per 25 elders, draws up 2026-W49 and fills its contacts, then
// measures one week's compliance of the whole city by county, a month's,
// recording a contact (ApplyContact in its own transaction) and one
// visitor's task list. Targets at 1,000,000 elders on 2 cores: city week
// under 2 s, task list under 10 ms. Run:
//
//	PLAN_BENCH_ELDERS=1000000 go test -run '^$' -bench ComplianceWeek -benchtime 5x -timeout 60m ./internal/plan/
func BenchmarkComplianceWeek(b *testing.B) {
	n := 100_000
	if v := os.Getenv("PLAN_BENCH_ELDERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			b.Fatalf("PLAN_BENCH_ELDERS=%q: want a number of elders, at least 100", v)
		}
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "plan-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := sh(b, "2026-12-02 15:00")
	if _, err := (areas.Store{DB: db}).LoadDivisions(ctx, now); err != nil {
		b.Fatal(err)
	}
	svc := &Service{DB: db, Keys: testKeys, Now: func() time.Time { return now }}
	w := schedule.WeekOf(now)

	step := func(name string, fn func() error) {
		start := time.Now()
		if err := fn(); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		b.Logf("%-28s %8.2f s", name, time.Since(start).Seconds())
	}
	step(fmt.Sprintf("insert %d elders", n), func() error { return benchElders(ctx, db, n, now) })
	step("EnsureWeek (draw up)", func() error { return svc.EnsureWeek(ctx, w) })
	step("EnsureWeek (refresh)", func() error { return svc.EnsureWeek(ctx, w) })

	// The week's contacts are filled in bulk; apply_contact below measures
	// the visit-recording path.
	step("fill the week in bulk", func() error {
		_, err := db.Exec(ctx, `UPDATE plan_weeks SET
			done_home = CASE WHEN elder_id % 3 = 0 THEN req_home ELSE req_home / 2 END,
			done_call = CASE WHEN elder_id % 3 = 0 THEN req_call ELSE 0 END WHERE week = ?`, w.String())
		if err != nil {
			return err
		}
		_, err = db.Exec(ctx, "UPDATE plan_weeks SET progress = "+progressOfRow+" WHERE week = ?", w.String())
		return err
	})

	city := areas.Scope{Code: areas.CityCode, Prefix: "3207"}
	b.Run("city_week", func(b *testing.B) {
		var c Compliance
		for b.Loop() {
			if c, err = svc.Compliance(ctx, city, areas.CityCode, Period{Week: &w}, true); err != nil {
				b.Fatal(err)
			}
		}
		if c.InScope < n/2 || c.Met == 0 || len(c.Children) != 7 {
			b.Fatalf("compliance %+v, %d children", c.Figures, len(c.Children))
		}
		b.ReportMetric(float64(c.InScope), "elders")
	})
	b.Run("city_month", func(b *testing.B) {
		m := schedule.MonthOf(now)
		for b.Loop() {
			if _, err := svc.Compliance(ctx, city, areas.CityCode, Period{Month: &m}, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	// One completed contact per transaction, as the visit-recording code
	// applies it, on elders spread over the city.
	b.Run("apply_contact", func(b *testing.B) {
		modes := []schedule.Mode{schedule.ModeHome, schedule.ModePhone, schedule.ModeVideo}
		i := 0
		for b.Loop() {
			i++
			id := int64(i*7919%n + 1)
			c := schedule.Contact{At: w.Start().Add(time.Duration(i%(2*24*60)) * time.Minute), Mode: modes[i%3], Outcome: schedule.OutcomeDone}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return ApplyContact(ctx, tx, id, c) }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "contacts/s")
	})
	b.Run("visitor_tasks", func(b *testing.B) {
		var visitors int64
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM visitors").Scan(&visitors); err != nil {
			b.Fatal(err)
		}
		i := int64(0)
		for b.Loop() {
			i++
			tl, err := svc.Tasks(ctx, i*7919%visitors+1, w)
			if err != nil || len(tl.Items) == 0 {
				b.Fatalf("tasks: %d items, %v", len(tl.Items), err)
			}
		}
	})
}

// benchElders inserts n made-up elders in contiguous blocks per village (as
// a village-by-village census would), a visitor per 25 elders in the same
// village, and the pairings, all in SQL.
func benchElders(ctx context.Context, db *store.DB, n int, now time.Time) error {
	ts := store.FormatTime(now)
	var villages int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM areas WHERE level = 'village'").Scan(&villages); err != nil {
		return err
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{"CREATE TEMP TABLE bench_villages AS SELECT ROW_NUMBER() OVER (ORDER BY code) - 1 AS i, code FROM areas WHERE level = 'village'", nil},
		{`INSERT INTO elders (name, gender, birth_date, id_enc, id_hmac, id_masked, area_code, consent_home, consent_home_for_call,
			willing, status, status_from, status_to, class, created_at, updated_at)
			WITH RECURSIVE seq(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM seq WHERE k + 1 < ?)
			SELECT '测试老人', 'female', '1940-01-01', x'00', 'bench-' || k, '320706********0000', v.code,
				CASE WHEN k % 7 = 0 THEN 0 ELSE 1 END, CASE WHEN k % 3 = 0 THEN 1 ELSE 0 END,
				CASE WHEN k % 53 = 0 THEN 0 ELSE 1 END,
				CASE WHEN k % 97 = 0 THEN 'hospital' ELSE 'active' END,
				CASE WHEN k % 97 = 0 THEN '2026-11-25' ELSE '' END, CASE WHEN k % 97 = 0 THEN '2026-12-02' ELSE '' END,
				CASE WHEN k % 10 < 2 THEN 'A' WHEN k % 10 < 5 THEN 'B' ELSE 'C' END, ?, ?
			FROM seq JOIN bench_villages v ON v.i = k * ? / ?`, []any{n, ts, ts, villages, n}},
		{`INSERT INTO visitors (kind, name, phone_masked, area_code, created_at, updated_at)
			SELECT 'village_cadre', '测试人员', '139****0000', area_code, ?, ? FROM elders WHERE (id - 1) % 25 = 0 ORDER BY id`, []any{ts, ts}},
		{`INSERT INTO pairings (elder_id, visitor_id, role, started_at) SELECT id, (id - 1) / 25 + 1, 'primary', ? FROM elders`, []any{ts}},
		{"DROP TABLE bench_villages", nil},
	}
	for _, s := range stmts {
		if _, err := db.Exec(ctx, s.q, s.args...); err != nil {
			return fmt.Errorf("%.60s: %w", s.q, err)
		}
	}
	return nil
}
