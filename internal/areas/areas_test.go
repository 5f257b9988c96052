package areas_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

var now = time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)

func loaded(t testing.TB, db *store.DB) areas.Store {
	t.Helper()
	s := areas.Store{DB: db}
	if _, err := s.LoadDivisions(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	return s
}

// R-AREA-1: the real 2023 codes, all levels.
func TestLoadDivisions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := areas.Store{DB: db}
		n, err := s.LoadDivisions(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1899 {
			t.Fatalf("loaded %d areas, want 1899", n)
		}
		if again, _ := s.LoadDivisions(ctx, now); again != 0 {
			t.Fatalf("second load inserted %d", again)
		}
		city := areas.ScopeOf(areas.Area{Code: areas.CityCode, Level: areas.City})
		for level, want := range map[string]int{areas.County: 7, areas.Town: 109, areas.Village: 1782} {
			got, err := s.Subtree(ctx, city, level)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != want {
				t.Errorf("%s: %d, want %d", level, len(got), want)
			}
		}
		c, err := s.Get(ctx, "320703000000")
		if err != nil || c.Name != "连云区" || c.Level != areas.County || c.ParentCode != areas.CityCode {
			t.Fatalf("连云区 = %+v, %v", c, err)
		}
		kids, err := s.Children(ctx, "320703000000", false)
		if err != nil || len(kids) == 0 || kids[0].Level != areas.Town {
			t.Fatalf("children of 连云区: %v %v", kids, err)
		}
	})
}

// R-USR-1: a county sees its own subtree and nothing of another county.
func TestScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := loaded(t, db)
		lianyun, _ := s.Get(ctx, "320703000000")
		sc := areas.ScopeOf(lianyun)
		if _, err := s.GetIn(ctx, sc, "320703001001"); err != nil {
			t.Fatalf("own village: %v", err)
		}
		if _, err := s.GetIn(ctx, sc, "320706000000"); !errors.Is(err, areas.ErrNotFound) {
			t.Fatalf("other county: %v, want not found", err)
		}
		towns, _ := s.Subtree(ctx, sc, areas.Town)
		for _, tw := range towns {
			if tw.Code[:6] != "320703" {
				t.Fatalf("town %s outside 连云区", tw.Code)
			}
		}
	})
}

// DOMAIN §3: grids, renames and retirements keep history.
func TestGridRenameRetire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := loaded(t, db)
		g, err := s.AddGrid(ctx, "320703001001", "第一网格", 1, now)
		if err != nil {
			t.Fatal(err)
		}
		if g.Code != "320703001001001" || g.Level != areas.Grid {
			t.Fatalf("grid = %+v", g)
		}
		if _, err := s.AddGrid(ctx, "320703001000", "x", 1, now); !errors.Is(err, areas.ErrInvalid) {
			t.Fatalf("grid under a town: %v", err)
		}
		if err := s.Rename(ctx, g.Code, "东园一网格", "统一命名", 1, now); err != nil {
			t.Fatal(err)
		}
		if err := s.Retire(ctx, "320703001001", "合并", 1, now); !errors.Is(err, areas.ErrInvalid) {
			t.Fatalf("retiring a village with a live grid: %v", err)
		}
		if err := s.Retire(ctx, g.Code, "", 1, now); !errors.Is(err, areas.ErrInvalid) {
			t.Fatalf("retire without reason: %v", err)
		}
		if err := s.Retire(ctx, g.Code, "网格调整", 1, now); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, g.Code)
		if err != nil || !got.Retired || got.Name != "东园一网格" {
			t.Fatalf("after retire: %+v %v", got, err)
		}
		ch, err := s.Changes(ctx, g.Code)
		if err != nil || len(ch) != 3 || ch[1].OldValue != "第一网格" || ch[2].Reason != "网格调整" {
			t.Fatalf("changes: %+v %v", ch, err)
		}
		kids, _ := s.Children(ctx, "320703001001", false)
		if len(kids) != 0 {
			t.Fatalf("retired grid still listed: %v", kids)
		}
	})
}

func BenchmarkSubtreeVillagesOfCounty(b *testing.B) {
	db := storetest.SQLite(b)
	s := loaded(b, db)
	ctx := context.Background()
	sc := areas.Scope{Code: "320722000000", Prefix: "320722"}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Subtree(ctx, sc, areas.Village); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetInScope(b *testing.B) {
	db := storetest.SQLite(b)
	s := loaded(b, db)
	ctx := context.Background()
	sc := areas.Scope{Code: "320722000000", Prefix: "320722"}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.GetIn(ctx, sc, "320722100201"); err != nil && !errors.Is(err, areas.ErrNotFound) {
			b.Fatal(err)
		}
	}
}

// DOMAIN §3: a unit with people filed under it cannot be retired; their
// files are transferred first.
func TestRetireRefusedWhilePeopleLiveThere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := loaded(t, db)
		if _, err := db.Exec(ctx, `INSERT INTO elders (name, gender, birth_date, id_enc, id_hmac, id_masked, area_code, created_at, updated_at)
			VALUES ('测试', 'female', '1940-01-01', ?, 'h1', 'm', '320703001001', '', '')`, []byte{1}); err != nil {
			t.Fatal(err)
		}
		err := s.Retire(ctx, "320703001001", "撤并", 1, now)
		if !errors.Is(err, areas.ErrInvalid) || !strings.Contains(err.Error(), "1位老人") {
			t.Fatalf("retire a village with an elder: %v", err)
		}
	})
}
