package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// chunkSizes are the sizes batch statements are cut into. Few sizes mean
// few distinct query texts, so the statement caches hold three texts per
// statement rather than one per batch length.
var chunkSizes = []int{256, 16, 1}

// Chunks calls fn with consecutive ranges [lo, hi) covering n items, each
// range of one of chunkSizes' sizes, stopping at the first error.
func Chunks(n int, fn func(lo, hi int) error) error {
	lo := 0
	for _, size := range chunkSizes {
		for n-lo >= size {
			if err := fn(lo, lo+size); err != nil {
				return err
			}
			lo += size
		}
	}
	return nil
}

// Placeholders is "?, ?, …" for n values.
func Placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func flatten(rows [][]any) []any {
	args := make([]any, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		args = append(args, r...)
	}
	return args
}

// InsertMany runs insert, an "INSERT INTO t (a, b, …)" without its VALUES,
// for every row of rows (all of one width), many rows a statement.
func (t *Tx) InsertMany(ctx context.Context, insert string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	tuple := "(" + Placeholders(len(rows[0])) + ")"
	return Chunks(len(rows), func(lo, hi int) error {
		_, err := t.Exec(ctx, insert+" VALUES "+strings.TrimSuffix(strings.Repeat(tuple+", ", hi-lo), ", "), flatten(rows[lo:hi])...)
		return err
	})
}

// ReserveIDs takes n new ids of table (whose id column is the {{ID}} of
// the migrations) for rows the caller inserts with their ids given, so a
// row can refer to its own id as it is written.
func (t *Tx) ReserveIDs(ctx context.Context, table string, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	if n == 0 {
		return ids, nil
	}
	if t.db.Dialect == Postgres {
		ids, err := Int64s(t.Query(ctx, "SELECT nextval(pg_get_serial_sequence('"+table+"', 'id')) FROM generate_series(1, ?)", n))
		if err != nil {
			return nil, fmt.Errorf("reserve ids of %s: %w", table, err)
		}
		return ids, nil
	}
	// SQLite's one writer holds this transaction, so the ids after the
	// largest used or ever handed out (AUTOINCREMENT's sqlite_sequence)
	// stay free until it commits.
	var last int64
	err := t.QueryRow(ctx, `SELECT MAX(m) FROM (SELECT COALESCE(MAX(id), 0) AS m FROM `+table+`
		UNION ALL SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = ?)`, table).Scan(&last)
	if err != nil {
		return nil, fmt.Errorf("reserve ids of %s: %w", table, err)
	}
	for i := range n {
		ids = append(ids, last+1+int64(i))
	}
	return ids, nil
}

// Int64s reads the one int64 column of rows, as a query returns them,
// and closes rows.
func Int64s(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Int64Args turns ids into query arguments.
func Int64Args(ids []int64) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}
