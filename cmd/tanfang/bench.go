package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"

	"tanfang/internal/bench"
)

// cmdBench runs the benchmarks on a database of their own and prints the
// table (or JSON); progress goes to stderr.
func cmdBench(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	dsn := fs.String("db", "", "a new SQLite file or an empty PostgreSQL database (postgres://...); default a temporary SQLite file")
	elders := fs.Int("elders", 100_000, "elders to load")
	weeks := fs.Int("weeks", 4, "weeks of visits to load, ending with the current week")
	clients := fs.Int("clients", 16, "concurrent clients submitting visits")
	importRows := fs.Int("import-rows", 100_000, "rows of the roster imported (the 30 s target is for 100,000)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	profiles := fs.String("pprof", "", "folder for CPU profiles of the measured phases")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *elders < 1000 || *weeks < 1 || *clients < 1 || *importRows < 1 {
		return usageError{"--elders must be at least 1000, --weeks, --clients and --import-rows at least 1"}
	}
	res, err := bench.Run(ctx, bench.Config{DSN: *dsn, Elders: *elders, Weeks: *weeks, Clients: *clients, ImportRows: *importRows,
		Log: os.Stderr, ProfileDir: *profiles})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	res.WriteTable(stdout)
	return nil
}
