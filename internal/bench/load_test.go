package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/pii"
	"tanfang/internal/plan"
	"tanfang/internal/policy/idcard"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/registry"
	"tanfang/internal/store"
)

// loaded fills a fresh SQLite database the way Run does, without the
// measurements.
func loaded(t *testing.T, elders, weeks int) *run {
	t.Helper()
	ctx := context.Background()
	cfg := small("")
	cfg.Elders, cfg.Weeks, cfg.ImportRows = elders, weeks, 10
	cfg.defaults()
	db, _, _, remove, err := openFresh(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(); remove() })
	secret := make([]byte, pii.SecretSize)
	_, _ = rand.Read(secret)
	keys, err := pii.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	r := &run{cfg: cfg, db: db, keys: keys, now: time.Now(), started: time.Now(), res: &Result{}, work: t.TempDir(),
		logf: func(string, ...any) {}}
	acc, err := r.accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.load(ctx, acc); err != nil {
		t.Fatal(err)
	}
	return r
}

// dump renders the rollup columns ApplyContact keeps, row by row.
func dump(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range []string{
		`SELECT 'w' || week || '/' || elder_id, home_days || ' ' || call_days || ' ' || late_home_days || ' ' || late_call_days || ' ' ||
			done_home || ' ' || done_call || ' ' || late_home || ' ' || late_call || ' ' || progress || ' ' || last_contact_at FROM plan_weeks`,
		`SELECT 'm' || month || '/' || elder_id, contacted || ' ' || days FROM plan_months`,
	} {
		rows, err := db.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			out[k] = v
		}
		rows.Close()
	}
	return out
}

// TestLoadedRollupsMatchApplyContact: the rollups the load writes in bulk
// are exactly those plan.ApplyContact keeps when the same visit records
// arrive one by one (DOMAIN §6: same-day contacts once, late records
// counted but never on time, the monthly day bits).
func TestLoadedRollupsMatchApplyContact(t *testing.T) {
	ctx := context.Background()
	r := loaded(t, 800, 2)
	bulk := dump(t, r.db)
	late := 0
	if err := r.db.QueryRow(ctx, "SELECT COUNT(*) FROM visits WHERE late = 1").Scan(&late); err != nil || late == 0 {
		t.Fatalf("%d late visits loaded (%v); the check needs some", late, err)
	}
	for _, q := range []string{
		`UPDATE plan_weeks SET home_days = 0, call_days = 0, late_home_days = 0, late_call_days = 0, done_home = 0, done_call = 0,
			late_home = 0, late_call = 0, progress = 0, last_contact_at = ''`,
		"UPDATE plan_months SET contacted = 0, days = 0",
	} {
		if _, err := r.db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	type visit struct {
		elder             int64
		at, mode, outcome string
		late              bool
	}
	var vs []visit
	rows, err := r.db.Query(ctx, "SELECT elder_id, started_at, mode, outcome, late FROM visits ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v visit
		if err := rows.Scan(&v.elder, &v.at, &v.mode, &v.outcome, &v.late); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	rows.Close()
	err = r.db.InTx(ctx, func(tx *store.Tx) error {
		for _, v := range vs {
			c := schedule.Contact{At: store.MustTime(v.at), Mode: schedule.Mode(v.mode), Outcome: schedule.Outcome(v.outcome), Late: v.late}
			if err := plan.ApplyContact(ctx, tx, v.elder, c); err != nil {
				return fmt.Errorf("elder %d: %w", v.elder, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	replayed := dump(t, r.db)
	if len(replayed) != len(bulk) {
		t.Errorf("%d rollup rows after the replay, %d loaded", len(replayed), len(bulk))
	}
	bad := 0
	for k, v := range bulk {
		if replayed[k] != v {
			if bad++; bad <= 5 {
				t.Errorf("%s: loaded %q, replayed %q", k, v, replayed[k])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d rollup rows differ", bad, len(bulk))
	}
}

// TestLoadedFilesReadBack: the registry opens the loaded files' sealed
// numbers and finds them by their blind index, so the bulk load used the
// registry's kinds and keys.
func TestLoadedFilesReadBack(t *testing.T) {
	ctx := context.Background()
	r := loaded(t, 300, 1)
	reg := &registry.Service{DB: r.db, Keys: r.keys}
	city := areas.Scope{Code: areas.CityCode, Prefix: "3207"}
	admin := registry.Actor{UserID: 1, Username: "bench-city", Role: "city", IP: "127.0.0.1"}
	for _, id := range []int64{1, 150, 300} {
		e, err := reg.Get(ctx, admin, city, id)
		if err != nil {
			t.Fatalf("elder %d: %v", id, err)
		}
		num, _, err := reg.Reveal(ctx, admin, city, id)
		if err != nil {
			t.Fatalf("reveal %d: %v", id, err)
		}
		n, err := idcard.Parse(num)
		if err != nil || n.Birth.String() != e.BirthDate {
			t.Fatalf("elder %d: number %s (%v), birth %s", id, e.IDNumberMasked, err, e.BirthDate)
		}
		h, ok, err := reg.HolderOf(ctx, r.db, num)
		if err != nil || !ok || h.ElderID != id {
			t.Fatalf("HolderOf elder %d: %+v %v %v", id, h, ok, err)
		}
		if e.Class == "" {
			t.Errorf("elder %d has no class", id)
		}
	}
}
