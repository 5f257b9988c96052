package store

import (
	"context"
	"database/sql"
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

// InsertManyReturning is InsertMany with a RETURNING clause: scan is
// called for every row the database returns, in no promised order, so
// returning should name a column that tells the rows apart.
func (t *Tx) InsertManyReturning(ctx context.Context, insert, returning string, rows [][]any, scan func(*sql.Rows) error) error {
	if len(rows) == 0 {
		return nil
	}
	tuple := "(" + Placeholders(len(rows[0])) + ")"
	return Chunks(len(rows), func(lo, hi int) error {
		res, err := t.Query(ctx, insert+" VALUES "+strings.TrimSuffix(strings.Repeat(tuple+", ", hi-lo), ", ")+" RETURNING "+returning, flatten(rows[lo:hi])...)
		if err != nil {
			return err
		}
		defer res.Close()
		for res.Next() {
			if err := scan(res); err != nil {
				return err
			}
		}
		return res.Err()
	})
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

// Int64Args turns ids into query arguments.
func Int64Args(ids []int64) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}
