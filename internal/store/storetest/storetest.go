// Package storetest gives tests a fresh, migrated database of each kind:
// an SQLite file in a temporary folder, and a PostgreSQL schema of its own
// when TANFANG_TEST_PG names a server. Under CI (CI=true) a missing server
// fails the test instead of skipping it, so PostgreSQL is never silently
// left untested.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"tanfang/internal/store"
)

// Each runs fn once per database kind, as subtests named "sqlite" and "postgres".
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a migrated database in a fresh file.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "test.db"))
}

// Postgres returns a migrated database in a fresh schema of the test server.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	dsn := PostgresSchemaDSN(t)
	return open(t, dsn)
}

// PostgresSchemaDSN creates an empty schema on the test server and returns a
// DSN whose search_path points at it; the schema is dropped after the test.
func PostgresSchemaDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TANFANG_TEST_PG")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TANFANG_TEST_PG is not set: CI must run the PostgreSQL tests (.ci/run starts a server)")
		}
		t.Skip("TANFANG_TEST_PG not set; PostgreSQL tests skipped outside CI")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}
