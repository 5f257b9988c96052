package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/outbox"
	"tanfang/internal/pii"
	"tanfang/internal/store"
	"tanfang/internal/web"
)

// openDB opens, migrates and seeds the reference data, which every command
// needs before it can do anything else.
func openDB(ctx context.Context, dsn string) (*store.DB, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	n, err := areas.Store{DB: db}.LoadDivisions(ctx, time.Now())
	if err != nil {
		db.Close()
		return nil, err
	}
	if n > 0 {
		slog.Info("division codes loaded", "areas", n)
	}
	return db, nil
}

func cmdMigrate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	dsn := dbFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintln(stdout, "database is up to date")
	return nil
}

func cmdUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	dsn := dbFlag(fs)
	username := fs.String("username", "", "login name")
	role := fs.String("role", "", "admin|city|county|town|village|visitor")
	area := fs.String("area", "", "12-digit division code of the account's area")
	name := fs.String("name", "", "display name")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *username == "" || *role == "" || *area == "" {
		return usageError{"--username, --role and --area are required"}
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := &auth.Service{DB: db}
	u, err := svc.CreateUser(ctx, auth.NewUser{Username: *username, DisplayName: *name, Password: password, Role: *role, AreaCode: *area},
		audit.Entry{Actor: "cli", IP: "local"})
	var ie *auth.InvalidError
	if errors.As(err, &ie) {
		return fmt.Errorf("%s: %s", ie.Field, ie.Message)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s (id %d, role %s, area %s)\n", u.Username, u.ID, u.Role, u.AreaCode)
	return nil
}

func cmdAuditVerify(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	dsn := dbFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := audit.Verify(ctx, db)
	if err != nil {
		return fmt.Errorf("after %d good rows: %w", n, err)
	}
	fmt.Fprintf(stdout, "audit log intact: %d rows\n", n)
	return nil
}

func cmdServe(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", envOr("TANFANG_ADDR", "127.0.0.1:8080"), "listen address (env TANFANG_ADDR)")
	dsn := dbFlag(fs)
	keyFile := keyFlag(fs)
	demoMode := fs.Bool("demo", false, "fill an empty database with demo accounts and a made-up city (never with real data)")
	demoOpts := demoFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
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
	authSvc := &auth.Service{DB: db}
	if *demoMode {
		fmt.Fprintln(stdout, demoWarning)
		if err := demoAccountsReady(ctx, authSvc); err != nil {
			return err
		}
	} else if n, err := authSvc.CountUsers(ctx); err == nil && n == 0 {
		fmt.Fprintln(stdout, "No accounts yet. Create the first administrator:\n  tanfang user add --db "+*dsn+" --username admin --role admin --area 320700000000   (password on stdin)")
	}
	srv, err := web.New(&web.Server{DB: db, Keys: keys, Auth: authSvc, Areas: areas.Store{DB: db}})
	if err != nil {
		return err
	}
	// Notifications through the outbox (DESIGN "Nothing lost").
	outbox.Start(ctx, db, keys, outbox.ConfigFromEnv(os.Getenv), slog.Default())
	startJobs := func() {
		// Age crossings and unfinished county rule changes (R-CLS-4).
		srv.Classes.Start(ctx, slog.Default())
		// Overdue follow-ups and family reminders (R-EMG-4, R-VST-3).
		go srv.Visits.RunJobs(ctx, 10*time.Minute, slog.Default())
		// The weekly visit plan: each week drawn up at its start, refreshed
		// hourly for statuses, consent and campaigns (R-FRQ-1..5).
		go srv.Plan.Run(ctx, time.Hour, slog.Default())
		// Dashboards' snapshots, and corrections to closed periods (R-OVS-2).
		go srv.Reports.Run(ctx, 5*time.Minute, slog.Default())
	}
	if !*demoMode {
		startJobs()
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(stdout, "tanfang listening on http://%s (database %s)\n", ln.Addr(), describeDB(*dsn))
	if *demoMode {
		// The city is built while the server already answers, so the login
		// page is up at once; pages say so until the build is done.
		printDemoAccounts(stdout)
		srv.SetDemoState("building")
		go func() {
			if err := buildDemoCity(ctx, db, keys, *demoOpts, stdout); err != nil && ctx.Err() == nil {
				slog.Error("demo build failed", "err", err)
				srv.SetDemoState("failed")
				startJobs()
				return
			}
			// The jobs start once the city exists: run earlier, they would
			// draw up this week with nobody in it.
			if err := srv.Reports.Refresh(ctx); err != nil && ctx.Err() == nil {
				slog.Error("demo: dashboards' snapshot", "err", err)
			}
			startJobs()
			srv.SetDemoState("ready")
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// keyFlag is where the master key lives when TANFANG_KEY is not set.
func keyFlag(fs *flag.FlagSet) *string {
	return fs.String("key-file", envOr("TANFANG_KEY_FILE", ""), "master key file, created with mode 0600 on first start (env TANFANG_KEY_FILE; default beside an SQLite database, else ./data/tanfang.key)")
}

// loadKeys finds the master key for personal numbers: TANFANG_KEY, else the
// key file (by default tanfang.key beside the SQLite file), created on
// first start; TANFANG_KEY_OLD adds retired keys during a rotation.
func loadKeys(dsn, keyFile string) (*pii.Keys, error) {
	if keyFile == "" {
		keyFile = filepath.Join("data", "tanfang.key")
		if !store.IsPostgres(dsn) {
			keyFile = filepath.Join(filepath.Dir(dsn), "tanfang.key")
		}
	}
	keys, err := pii.LoadOrCreate(keyFile, os.Getenv("TANFANG_KEY"))
	if err != nil {
		return nil, err
	}
	return keys.WithOld(os.Getenv("TANFANG_KEY_OLD"))
}

// describeDB names the database without printing a password.
func describeDB(dsn string) string {
	if store.IsPostgres(dsn) {
		return "PostgreSQL"
	}
	return "SQLite " + dsn
}
