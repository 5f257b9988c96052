package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// small is a run that takes a few seconds: the whole harness, every
// measurement, on a town's worth of elders.
func small(dsn string) Config {
	return Config{DSN: dsn, Elders: 2000, Weeks: 1, Clients: 2, VisitCount: 150, VisitTime: time.Second,
		RawTime: 200 * time.Millisecond, Samples: 5, ReadTime: 500 * time.Millisecond, ImportRows: 100}
}

// TestRunMeasuresEverything runs the bench small and checks that every
// measurement produced a number, and its raw limit beside it.
func TestRunMeasuresEverything(t *testing.T) {
	var log bytes.Buffer
	res, err := Run(context.Background(), func() Config { c := small(""); c.Log = &log; return c }())
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if res.Load.Elders != 2000 || res.Load.InScope == 0 || res.Load.Visitors == 0 || res.Visits == 0 {
		t.Fatalf("load: %+v, %d visits", res.Load, res.Visits)
	}
	want := []string{"load_rows", "ensure_week", "visits_rate", "visits_tx", "visits_p50", "visits_p99", "tasks_p50", "tasks_p99",
		"compliance_p50", "compliance_p99", "dashboard_p50", "dashboard_p99", "server_rss", "server_heap",
		"import_seconds", "import_rate", "import_rss"}
	for _, id := range want {
		l := res.Line(id)
		switch {
		case l == nil:
			t.Errorf("no line %s", id)
		case !(l.Value > 0):
			t.Errorf("%s: value %v (%s)", id, l.Value, l.Note)
		case l.RawName != "" && !(l.Raw > 0 && l.Ratio > 0):
			t.Errorf("%s: raw %v, ratio %v", id, l.Raw, l.Ratio)
		case l.Target != "" && l.Verdict != "PASS" && l.Verdict != "MISS" && id != "server_rss":
			t.Errorf("%s: verdict %q", id, l.Verdict)
		}
	}
	// The 30 s target is for 100,000 rows: a smaller roster gets no verdict.
	if l := res.Line("import_seconds"); l != nil && (l.Target != "" || l.Verdict != "") {
		t.Errorf("a 100-row import judged against the 100,000-row target: %q %q", l.Target, l.Verdict)
	}
	var table bytes.Buffer
	res.WriteTable(&table)
	for _, s := range []string{"POST /api/v1/visits", "no-op handler", "COUNT(*)", "ratio"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, table.String())
		}
	}
	if _, err := json.Marshal(res); err != nil {
		t.Fatal(err)
	}
}

// TestRefusesNonEmptyDatabase: the bench never writes into a database
// that already holds something.
func TestRefusesNonEmptyDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "existing.db")
	if err := os.WriteFile(path, []byte("something"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), small(path)); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("err = %v, want ErrNotEmpty", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "something" {
		t.Fatal("the file was changed")
	}
}
