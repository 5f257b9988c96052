package bench

import (
	"context"
	"fmt"

	"tanfang/internal/store"
)

// index is a secondary index as the database's catalog defines it.
type index struct{ name, sql string }

// dropIndexes drops the secondary indexes of tables (those the migrations
// create with CREATE INDEX, not the keys) and returns them, so that a bulk
// load writes bare tables and the indexes are built once afterwards, by
// sorting, from the catalog's own definitions.
func dropIndexes(ctx context.Context, db *store.DB, tables ...string) ([]index, error) {
	q := "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name"
	if db.Dialect == store.Postgres {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?
			AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname`
	}
	var out []index
	for _, t := range tables {
		rows, err := db.Query(ctx, q, t)
		if err != nil {
			return nil, fmt.Errorf("indexes of %s: %w", t, err)
		}
		for rows.Next() {
			var ix index
			if err := rows.Scan(&ix.name, &ix.sql); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, ix)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for _, ix := range out {
		if _, err := db.Exec(ctx, "DROP INDEX "+ix.name); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", ix.name, err)
		}
	}
	return out, nil
}

// buildIndexes creates the indexes dropIndexes returned.
func buildIndexes(ctx context.Context, db *store.DB, ixs []index) error {
	for _, ix := range ixs {
		if _, err := db.Exec(ctx, ix.sql); err != nil {
			return fmt.Errorf("build index %s: %w", ix.name, err)
		}
	}
	return nil
}
