package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"tanfang/internal/registry"
	"tanfang/internal/store"
)

// cmdRekey re-seals every file still under a retired key (after a key
// rotation, docs/operations.md).
func cmdRekey(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("rekey", flag.ContinueOnError)
	dsn := dbFlag(fs)
	keyFile := keyFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if os.Getenv("TANFANG_KEY_OLD") == "" {
		return usageError{"rekey needs TANFANG_KEY_OLD (the retired key) and the new key in TANFANG_KEY or the key file"}
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	keys, err := loadKeys(*dsn, *keyFile)
	if err != nil {
		return err
	}
	svc := &registry.Service{DB: db, Keys: keys}
	n, err := svc.Rekey(ctx, registry.Actor{Username: "cli", Role: "admin", IP: "local"})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-sealed %d files under the current key\n", n)
	return nil
}

// cmdBackup writes a consistent copy of an SQLite database while the
// server may keep running (VACUUM INTO reads one snapshot of the WAL).
func cmdBackup(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	dsn := dbFlag(fs)
	out := fs.String("out", "", "file to write the copy to (must not exist)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"backup needs --out FILE"}
	}
	if store.IsPostgres(*dsn) {
		return errors.New("for PostgreSQL use pg_dump (see docs/operations.md)")
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("%s already exists; choose a new file", *out)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o750); err != nil {
		return err
	}
	db, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(ctx, "VACUUM INTO '"+strings.ReplaceAll(*out, "'", "''")+"'"); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Chmod(*out, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s (keep the key file apart from it: the numbers in it need that key)\n", *out)
	return nil
}
