// Command tanfang is the whole platform in one binary: the web server and
// the administrative subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `tanfang — 特殊困难老年人探访关爱服务平台

Usage:
  tanfang serve   [--addr ADDR] [--db DB] [--demo]   run the web server (--demo: fill an empty
                                                     database with a made-up city first)
  tanfang demo    [--db DB] [--elders N] [--weeks W] [--seed N]
                                                     fill an empty database with the made-up demo city
  tanfang migrate [--db DB]                          apply database migrations
  tanfang user add --username U --role ROLE --area CODE [--name NAME] [--db DB]
                                                     create an account (password on stdin)
  tanfang audit verify [--db DB]                     check the audit log's hash chain
  tanfang backup --out FILE [--db DB]                copy an SQLite database while it runs
  tanfang rekey [--db DB]                            re-seal personal numbers after a key rotation
  tanfang bench [--db DB] [--elders N] [--weeks W] [--clients C] [--import-rows R] [--json] [--pprof DIR]
                                                     benchmark on a new database of its own

DB is a file path (embedded SQLite, default ./data/tanfang.db) or a
postgres:// URL. Environment: TANFANG_ADDR, TANFANG_DB, TANFANG_KEY,
TANFANG_KEY_FILE, TANFANG_KEY_OLD.
`

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout)
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, ue.msg)
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "tanfang:", err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"no command given"}
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout)
	case "migrate":
		return cmdMigrate(ctx, args[1:], stdout)
	case "demo":
		return cmdDemo(ctx, args[1:], stdout)
	case "user":
		if len(args) < 2 || args[1] != "add" {
			return usageError{"usage: tanfang user add ..."}
		}
		return cmdUserAdd(ctx, args[2:], stdin, stdout)
	case "audit":
		if len(args) < 2 || args[1] != "verify" {
			return usageError{"usage: tanfang audit verify ..."}
		}
		return cmdAuditVerify(ctx, args[2:], stdout)
	case "backup":
		return cmdBackup(ctx, args[1:], stdout)
	case "rekey":
		return cmdRekey(ctx, args[1:], stdout)
	case "bench":
		return cmdBench(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{"unknown command: " + args[0]}
}

// envOr gives a flag its environment fallback.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", envOr("TANFANG_DB", "./data/tanfang.db"), "database: SQLite file path or postgres:// URL (env TANFANG_DB)")
}

func parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + fmt.Sprint(fs.Args())}
	}
	return nil
}
