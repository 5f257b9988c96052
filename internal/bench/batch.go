package bench

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// maxParams keeps one statement under both databases' limits on bound
// parameters (SQLite 32,766; PostgreSQL 65,535).
const maxParams = 30_000

// execer runs a statement: a store.DB (each statement its own
// transaction, prepared once and cached) or a store.Tx.
type execer interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// batch collects rows for one table and writes them as multi-row INSERTs,
// the fastest plain SQL both databases share. Written through the DB, each
// statement commits on its own and full ones reuse one prepared statement
// (inside a transaction the store cannot prepare on SQLite's only write
// connection, and the driver would parse every statement again).
type batch struct {
	table   string
	cols    []string
	perStmt int
	vals    []any
	rows    int
	total   int
	stmt    string // for perStmt rows, built once
}

func newBatch(table string, cols ...string) *batch {
	per := min(1000, maxParams/len(cols))
	return &batch{table: table, cols: cols, perStmt: per, vals: make([]any, 0, per*len(cols))}
}

// add queues one row; full reports that a statement's worth is waiting.
func (b *batch) add(vals ...any) (full bool) {
	if len(vals) != len(b.cols) {
		panic(fmt.Sprintf("bench: %d values for %d columns of %s", len(vals), len(b.cols), b.table))
	}
	b.vals = append(b.vals, vals...)
	b.rows++
	return b.rows >= b.perStmt
}

func (b *batch) insertSQL(rows int) string {
	row := "(?" + strings.Repeat(", ?", len(b.cols)-1) + ")"
	var s strings.Builder
	s.Grow(40 + rows*len(row))
	s.WriteString("INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES ")
	for i := range rows {
		if i > 0 {
			s.WriteString(", ")
		}
		s.WriteString(row)
	}
	return s.String()
}

// flush writes what is queued.
func (b *batch) flush(ctx context.Context, db execer) error {
	if b.rows == 0 {
		return nil
	}
	q := b.stmt
	if b.rows != b.perStmt {
		q = b.insertSQL(b.rows)
	} else if q == "" {
		b.stmt = b.insertSQL(b.perStmt)
		q = b.stmt
	}
	if _, err := db.Exec(ctx, q, b.vals...); err != nil {
		return fmt.Errorf("insert into %s: %w", b.table, err)
	}
	b.total += b.rows
	b.vals, b.rows = b.vals[:0], 0
	return nil
}
