package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

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

// Writes outside a transaction and transactions running at once must not
// deadlock on the statement cache (SQLite has one write connection).
func TestConcurrentWritesWithStatementCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "CREATE TABLE counter (n INTEGER NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 40)
		for i := 0; i < 20; i++ {
			go func(i int) {
				done <- db.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO counter (n) VALUES (%d)", i%3))
					return err
				})
			}(i)
			go func(i int) {
				_, err := db.Exec(ctx, fmt.Sprintf("INSERT INTO counter (n) VALUES (%d)", 10+i%3))
				done <- err
			}(i)
		}
		timeout := time.After(30 * time.Second)
		for i := 0; i < 40; i++ {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-timeout:
				t.Fatal("writers deadlocked")
			}
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM counter").Scan(&n); err != nil || n != 40 {
			t.Fatalf("rows: %d %v", n, err)
		}
	})
}
