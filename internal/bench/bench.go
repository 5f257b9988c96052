// Package bench measures the product at city and province scale on a
// database of its own (issue 9, docs/performance.md): it loads a made-up
// city of N elders (internal/synth) straight into the tables, draws up W
// weeks of visits through the plan, then drives the real web server over
// loopback HTTP and reports each figure beside the raw limit of the same
// machine measured in the same run: the database's bulk insert rate, its
// single-row write transactions, a no-op HTTP handler under the same
// clients, a bare COUNT(*) over a week's rollup rows.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/pii"
	"tanfang/internal/store"
)

// Config is one run. Zero durations and counts take the defaults of
// `tanfang bench`.
type Config struct {
	// DSN is the database to create: a new SQLite file path or a
	// postgres:// URL of an empty database; "" makes a temporary SQLite
	// file that is removed afterwards.
	DSN     string
	Elders  int
	Weeks   int
	Clients int
	// Visit submissions stop after VisitCount or VisitTime.
	VisitCount int
	VisitTime  time.Duration
	// RawTime bounds each raw-limit measurement.
	RawTime time.Duration
	// Samples is how many times a read is repeated, within ReadTime.
	Samples  int
	ReadTime time.Duration
	// ImportRows is the size of the roster imported (0 for 100,000).
	ImportRows int
	Seed       int64
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// ProfileDir, when set, receives a CPU profile of each measured phase
	// (load.pprof, visits.pprof, reads.pprof, import.pprof) for go tool pprof.
	ProfileDir string
}

func (c *Config) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Elders, 100_000)
	def(&c.Weeks, 4)
	def(&c.Clients, 16)
	def(&c.VisitCount, 40_000)
	defD(&c.VisitTime, 20*time.Second)
	defD(&c.RawTime, 5*time.Second)
	def(&c.Samples, 200)
	defD(&c.ReadTime, 20*time.Second)
	def(&c.ImportRows, targetImportRows)
	if c.Seed == 0 {
		c.Seed = 20261203
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// targetImportRows is the roster size issue 7's import target is for.
const targetImportRows = 100_000

// Machine describes where the run happened.
type Machine struct {
	CPUs      int     `json:"cpus"`
	MemoryMB  float64 `json:"memory_mb"`
	GoVersion string  `json:"go_version"`
	OS        string  `json:"os"`
	Database  string  `json:"database"`
	// Load averages (1 minute) at the start and the end: other work on
	// the machine during the run makes every figure worse.
	LoadStart float64 `json:"loadavg_start"`
	LoadEnd   float64 `json:"loadavg_end"`
}

// loadavg is the 1-minute load average (0 where /proc is missing).
func loadavg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var l float64
	fmt.Sscanf(string(b), "%f", &l)
	return l
}

// Line is one measured figure beside its target and its raw limit.
type Line struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Target is the target in words ("" none); Verdict PASS or
	// MISS against it, "" when the target does not apply to this run.
	Target  string `json:"target,omitempty"`
	Verdict string `json:"verdict,omitempty"`
	// Raw is the limit of the same machine measured in the same run, and
	// Ratio Value/Raw.
	RawName string  `json:"raw_name,omitempty"`
	Raw     float64 `json:"raw,omitempty"`
	RawUnit string  `json:"raw_unit,omitempty"`
	Ratio   float64 `json:"ratio,omitempty"`
	Note    string  `json:"note,omitempty"`
}

// Result is everything a run measured.
type Result struct {
	Machine  Machine       `json:"machine"`
	Elders   int           `json:"elders"`
	Weeks    int           `json:"weeks"`
	Clients  int           `json:"clients"`
	Load     LoadFigures   `json:"load"`
	WeekLoad []WeekFigures `json:"week_load"`
	Visits   int           `json:"visit_records"`
	DBSizeMB float64       `json:"db_size_mb,omitempty"`
	Lines    []Line        `json:"lines"`
	Seconds  float64       `json:"seconds"`
}

// Line returns the line with id, or nil.
func (r *Result) Line(id string) *Line {
	for i := range r.Lines {
		if r.Lines[i].ID == id {
			return &r.Lines[i]
		}
	}
	return nil
}

// ErrNotEmpty means the database given already holds data.
var ErrNotEmpty = errors.New("database is not empty")

// run carries one run's state between phases.
type run struct {
	cfg     Config
	db      *store.DB
	keys    *pii.Keys
	now     time.Time
	res     *Result
	logf    func(format string, args ...any)
	started time.Time
	// work holds the roster file, which roster names.
	work, roster string
	dsn          string
}

// Run performs the whole benchmark.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.defaults()
	r := &run{cfg: cfg, now: time.Now(), started: time.Now(), res: &Result{Elders: cfg.Elders, Weeks: cfg.Weeks, Clients: cfg.Clients}}
	r.logf = func(format string, args ...any) {
		fmt.Fprintf(cfg.Log, "[%6.1fs] %s\n", time.Since(r.started).Seconds(), fmt.Sprintf(format, args...))
	}
	db, dsn, path, remove, err := openFresh(ctx, cfg.DSN)
	if err != nil {
		return nil, err
	}
	defer remove()
	r.db, r.dsn = db, dsn
	defer func() { r.db.Close() }()
	if r.work, err = os.MkdirTemp("", "tanfang-bench-work-"); err != nil {
		return nil, err
	}
	defer os.RemoveAll(r.work)
	r.res.Machine = machine(db)
	secret := make([]byte, pii.SecretSize)
	_, _ = rand.Read(secret)
	if r.keys, err = pii.New(secret); err != nil {
		return nil, err
	}
	if err := r.all(ctx); err != nil {
		return r.res, err
	}
	if path != "" {
		r.res.DBSizeMB = fileMB(path) + fileMB(path+"-wal")
	}
	r.res.Seconds = time.Since(r.started).Seconds()
	r.res.Machine.LoadEnd = loadavg()
	return r.res, nil
}

func (r *run) all(ctx context.Context) error {
	acc, err := r.accounts(ctx)
	if err != nil {
		return err
	}
	if err := r.profile("load", func() error { return r.load(ctx, acc) }); err != nil {
		return err
	}
	// The server and the raw limits get the database as tanfang serve
	// opens it, without the load's connection settings.
	if err := r.db.Close(); err != nil {
		return err
	}
	if r.db, err = store.Open(ctx, r.dsn); err != nil {
		return err
	}
	if err := r.visitorAccounts(ctx, acc, r.cfg.Clients); err != nil {
		return err
	}
	raw, err := r.rawLimits(ctx, acc)
	if err != nil {
		return fmt.Errorf("raw limits: %w", err)
	}
	fig := r.res.Load
	r.add(Line{ID: "load_rows", Name: "load: rows written, whole load", Value: float64(fig.Rows) / fig.Seconds,
		Unit: "rows/s", RawName: "bulk INSERT, elders rows, bare table", Raw: raw.bulkRowsPerSec, RawUnit: "rows/s",
		Note: fmt.Sprintf("%s rows in %.0f s: %s elders (with versions, class history, visitors, pairings) in %.0f s at %s elders/s, %d weeks of rollups and visits in %.0f s, indexes in %.0f s",
			thousands(float64(fig.Rows)), fig.Seconds, thousands(float64(fig.Elders)), fig.ElderSeconds, thousands(float64(fig.Elders)/fig.ElderSeconds),
			r.cfg.Weeks, sumSeconds(r.res.WeekLoad), fig.IndexSeconds)})
	ensure := 0.0
	for _, w := range r.res.WeekLoad {
		ensure = max(ensure, w.EnsureSeconds)
	}
	r.add(Line{ID: "ensure_week", Name: "drawing up a week (plan.EnsureWeek)",
		Value: float64(fig.InScope) / ensure, Unit: "elder-weeks/s", RawName: "bulk INSERT, elders rows, bare table",
		Raw: raw.bulkRowsPerSec, RawUnit: "rows/s", Note: fmt.Sprintf("the Monday job: %.1f s for %d elders in scope (slowest week of the load)", ensure, fig.InScope)})
	if err := r.serve(ctx, acc, raw); err != nil {
		return err
	}
	return r.importRoster(ctx, acc, raw)
}

// openFresh opens a database that must not hold anything yet, migrates it
// and loads the division codes. It returns the DSN it used (a temporary
// SQLite file when dsn is empty), the SQLite file's path ("" for
// PostgreSQL), and remove, which deletes a temporary file once the
// database is closed.
func openFresh(ctx context.Context, dsn string) (db *store.DB, used, path string, remove func(), err error) {
	remove = func() {}
	if dsn == "" {
		dir, err := os.MkdirTemp("", "tanfang-bench-")
		if err != nil {
			return nil, "", "", remove, err
		}
		dsn = filepath.Join(dir, "bench.db")
		remove = func() { os.RemoveAll(dir) }
	}
	if !store.IsPostgres(dsn) {
		if st, err := os.Stat(dsn); err == nil && st.Size() > 0 {
			remove()
			return nil, "", "", func() {}, fmt.Errorf("%s: %w; the bench makes its own, give a new file", dsn, ErrNotEmpty)
		}
		path = dsn
	}
	fail := func(err error) (*store.DB, string, string, func(), error) {
		if db != nil {
			db.Close()
		}
		remove()
		return nil, "", "", func() {}, err
	}
	if db, err = store.Open(ctx, dsn); err != nil {
		return fail(err)
	}
	if db.Dialect == store.Postgres {
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&n); err != nil {
			return fail(err)
		}
		if n > 0 {
			return fail(fmt.Errorf("PostgreSQL database has %d tables: %w; the bench needs an empty one", n, ErrNotEmpty))
		}
	}
	if _, err := db.Migrate(ctx); err != nil {
		return fail(err)
	}
	if _, err := (areas.Store{DB: db}).LoadDivisions(ctx, time.Now()); err != nil {
		return fail(err)
	}
	return db, dsn, path, remove, nil
}

func machine(db *store.DB) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, Database: "SQLite",
		LoadStart: loadavg()}
	if db.Dialect == store.Postgres {
		m.Database = "PostgreSQL"
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				var kb float64
				fmt.Sscanf(strings.TrimSpace(v), "%f", &kb)
				m.MemoryMB = kb / 1024
			}
		}
	}
	return m
}

func fileMB(path string) float64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return float64(st.Size()) / (1 << 20)
}

// profile runs fn under a CPU profile written to name in ProfileDir.
func (r *run) profile(name string, fn func() error) error {
	if r.cfg.ProfileDir == "" {
		return fn()
	}
	f, err := os.Create(filepath.Join(r.cfg.ProfileDir, name+".pprof"))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	err = fn()
	pprof.StopCPUProfile()
	return err
}

// password makes a throw-away password that passes the account rules.
func password() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "Bench-" + hex.EncodeToString(b) + "-X9"
}
