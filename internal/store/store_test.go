package store_test

import (
	"context"
	"testing"

	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		n, err := db.Migrate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("second Migrate applied %d migrations, want 0", n)
		}
	})
}

func TestRebind(t *testing.T) {
	pg := &store.DB{Dialect: store.Postgres}
	if got := pg.Rebind("a = ? AND b IN (?, ?)"); got != "a = $1 AND b IN ($2, $3)" {
		t.Fatalf("Rebind = %q", got)
	}
	lite := &store.DB{Dialect: store.SQLite}
	if got := lite.Rebind("a = ?"); got != "a = ?" {
		t.Fatalf("sqlite Rebind changed the query: %q", got)
	}
}

func TestPrefixRangeOrdersCodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, c := range []string{"320703000000", "320703001001", "320703001001001", "320704000000", "32070"} {
			if _, err := db.Exec(ctx, "INSERT INTO areas (code, name, level, updated_at) VALUES (?, 'x', 'village', '')", c); err != nil {
				t.Fatal(err)
			}
		}
		lo, hi := store.PrefixRange("320703")
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM areas WHERE code >= ? AND code < ?", lo, hi).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("subtree of 320703 has %d codes, want 3", n)
		}
	})
}
