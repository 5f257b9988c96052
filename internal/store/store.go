// Package store opens the database (embedded SQLite or PostgreSQL), applies
// the embedded migrations and offers the few helpers the domain stores share.
//
// Both databases run the same SQL: queries are written with `?` placeholders
// and rebound to `$n` for PostgreSQL; the schema avoids types whose meaning
// differs between the two (timestamps are fixed-width UTC text, booleans are
// 0/1 integers). See docs/adr/0001-storage.md.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// Dialect names the database family behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrNotFound is returned by domain stores when a row does not exist (or is
// outside the caller's area, which callers must not be able to tell apart).
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write collides with existing data (a unique
// key, or a stale version).
var ErrConflict = errors.New("conflict")

// DB wraps a read pool and a write pool. SQLite allows one writer at a time,
// so writes go through a single connection and never wait on each other's
// locks; reads run in parallel on the WAL. For PostgreSQL both are the same pool.
type DB struct {
	Dialect Dialect
	r, w    *sql.DB
	// Prepared statements of each SQLite pool (nil for PostgreSQL).
	rc, wc *stmtCache
	group  grouper
	ckpt   *checkpointer // SQLite only
}

// IsPostgres reports whether a DSN names a PostgreSQL server.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to dsn: a postgres:// URL, or else a path to an SQLite file
// whose folder is created if needed.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		pool, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		pool.SetMaxOpenConns(16)
		pool.SetMaxIdleConns(16)
		db := &DB{Dialect: Postgres, r: pool, w: pool}
		if err := db.Ping(ctx); err != nil {
			pool.Close()
			return nil, err
		}
		return db, nil
	}
	if dir := filepath.Dir(dsn); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database folder: %w", err)
		}
	}
	file := "file:" + dsn + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	base := file + fmt.Sprintf("&_pragma=busy_timeout(%d)", busyTimeoutMillis)
	// The one writer keeps statement journals in memory (an import's
	// transaction writes many statements). Its commits do not checkpoint:
	// a checkpointer of its own does (see checkpointer). When it starts the
	// log afresh it cuts the file back to walSizeLimit.
	w, err := sql.Open("sqlite", base+fmt.Sprintf("&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(%d)&_pragma=cache_size(-%d)", walSizeLimit, normalCacheKiB))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	ck, err := sql.Open("sqlite", file)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	db := &DB{Dialect: SQLite, r: r, w: w, rc: newStmtCache(r), wc: newStmtCache(w), ckpt: startCheckpointer(ck, w)}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("database does not answer: %w", err)
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	db.stopGroups()
	db.rc.close()
	db.wc.close()
	err := db.ckpt.stop()
	db.ckpt = nil
	err = errors.Join(err, db.w.Close())
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// Rebind turns `?` placeholders into `$1…$n` for PostgreSQL. Queries never
// contain a literal question mark, so a plain scan is enough.
func (db *DB) Rebind(q string) string {
	if db.Dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// Query runs a read on the read pool.
func (db *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = db.Rebind(q)
	if st, err := db.rc.get(ctx, q); err != nil {
		return nil, err
	} else if st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.r.QueryContext(ctx, q, args...)
}

// QueryRow runs a single-row read on the read pool.
func (db *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = db.Rebind(q)
	if st, err := db.rc.get(ctx, q); err == nil && st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.r.QueryRowContext(ctx, q, args...)
}

// Exec runs one write outside an explicit transaction.
func (db *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	q = db.Rebind(q)
	if st, err := db.wc.get(ctx, q); err != nil {
		return nil, err
	} else if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.w.ExecContext(ctx, q, args...)
}

// Tx is a write transaction with the same rebinding helpers as DB.
type Tx struct {
	db *DB
	tx *sql.Tx
	// bound holds the statements of this transaction by query, so a long
	// import parses each once; missed are the queries the write pool's
	// cache lacked, to be prepared there once the transaction has given
	// its connection back.
	bound  map[string]*sql.Stmt
	missed map[string]bool
	// kept holds what a caller read in this transaction and may reuse
	// later in it (the audit chain's head); rolling back to a savepoint
	// forgets it, since what was read may be undone.
	kept map[string]any
}

// Kept returns what Keep stored under key in this transaction, if it is
// still valid.
func (t *Tx) Kept(key string) (any, bool) {
	v, ok := t.kept[key]
	return v, ok
}

// Keep stores v under key for the rest of this transaction, or until a
// grouped caller's writes are rolled back.
func (t *Tx) Keep(key string, v any) {
	if t.kept == nil {
		t.kept = map[string]any{}
	}
	t.kept[key] = v
}

// stmt returns a statement for q on this transaction: the write pool's
// cached one bound to it, or one prepared on the transaction's own
// connection (SQLite's single write connection is busy with this
// transaction, so the cache can only learn q afterwards). It returns nil
// to run q unprepared: on PostgreSQL, whose driver caches by itself, or
// when q cannot be prepared here.
func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if t.db.wc == nil {
		return nil
	}
	if st, ok := t.bound[q]; ok {
		return st
	}
	if len(t.bound) >= maxCachedStmts {
		return nil
	}
	var b *sql.Stmt
	if st := t.db.wc.lookup(q); st != nil {
		b = t.tx.StmtContext(ctx, st)
	} else {
		var err error
		if b, err = t.tx.PrepareContext(ctx, q); err != nil {
			return nil // running it unprepared reports the error
		}
		if t.missed == nil {
			t.missed = map[string]bool{}
		}
		t.missed[q] = true
	}
	if t.bound == nil {
		t.bound = map[string]*sql.Stmt{}
	}
	t.bound[q] = b
	return b
}

func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = t.db.Rebind(q)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = t.db.Rebind(q)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}

func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	q = t.db.Rebind(q)
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

// Dialect of the database the transaction runs on.
func (t *Tx) Dialect() Dialect { return t.db.Dialect }

// InsertID inserts a row and returns its generated id. Both databases
// support RETURNING, so one statement serves both.
func (t *Tx) InsertID(ctx context.Context, q string, args ...any) (int64, error) {
	var id int64
	err := t.QueryRow(ctx, q+" RETURNING id", args...).Scan(&id)
	return id, err
}

// InTx runs fn in a write transaction, committing when fn returns nil.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &Tx{db: db, tx: tx}
	defer db.prepareMissed(ctx, t)
	if err := fn(t); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// busyTimeoutMillis is how long a connection waits for a lock held by
// another (the checkpointer's, a restore) before it fails.
const busyTimeoutMillis = 10000

// Page caches of SQLite's write connection, in KiB: what it keeps for
// the pages visits touch, and what a bulk transaction gets.
const (
	normalCacheKiB = 16384
	bulkCacheKiB   = 65536
)

// InBulkTx is InTx for one transaction that writes very many rows, such as
// an import. On SQLite the write connection has a larger page cache for
// its duration, so the transaction does not spill pages to disk before it
// commits, while the server's memory stays small the rest of the time.
func (db *DB) InBulkTx(ctx context.Context, fn func(*Tx) error) error {
	if db.Dialect != SQLite {
		return db.InTx(ctx, fn)
	}
	err := db.InTx(ctx, func(t *Tx) error {
		if _, err := t.tx.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", bulkCacheKiB)); err != nil {
			return fmt.Errorf("enlarge page cache: %w", err)
		}
		return fn(t)
	})
	if _, rerr := db.w.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA cache_size = -%d", normalCacheKiB)); rerr != nil {
		err = errors.Join(err, fmt.Errorf("restore page cache: %w", rerr))
	}
	return err
}

// prepareMissed puts in the write pool's cache the queries a transaction
// had to prepare for itself, so the next transaction finds them there. Failures only cost speed.
func (db *DB) prepareMissed(ctx context.Context, t *Tx) {
	for q := range t.missed {
		if ctx.Err() != nil {
			return
		}
		_, _ = db.wc.get(ctx, q)
	}
}

// Querier is what both DB and Tx offer for reads, so a store function can
// run inside or outside a transaction.
type Querier interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// TimeFormat is how instants are stored: UTC, fixed width, so text order is
// time order in both databases.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime renders an instant for storage.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// ParseTime reads a stored instant.
func ParseTime(s string) (time.Time, error) { return time.Parse(TimeFormat, s) }

// MustTime reads a stored instant the database wrote itself; a malformed
// value there is a broken invariant, reported as the zero time.
func MustTime(s string) time.Time {
	t, err := ParseTime(s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// PrefixRange returns the half-open text range [lo, hi) holding every code
// that starts with prefix, so subtree queries use the index on the code
// column in both databases (LIKE would not, under SQLite's default collation).
// Codes are ASCII digits and '~' sorts after them; code columns use the C
// collation in PostgreSQL so that text order is byte order.
func PrefixRange(prefix string) (lo, hi string) {
	return prefix, prefix + "~"
}

// IsUniqueViolation reports whether err came from a unique constraint.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}
