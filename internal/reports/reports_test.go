package reports

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/plan"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/reports/reportstest"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
	"tanfang/internal/visits"
)

const (
	city    = "320700000000"
	county  = "320706000000" // 海州区
	town    = "320706102000" // 新坝镇
	village = "320706102206" // 新坝村
	lianyun = "320703000000" // 连云区
)

// testNow is Thursday 2026-12-03 10:00 in Shanghai (week 2026-W49).
var testNow = time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)

type fixture struct {
	db   *store.DB
	svc  *Service
	plan *plan.Service
	w    *reportstest.World
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	w := reportstest.Generate(t, db, testNow, 1)
	now := func() time.Time { return testNow }
	svc := &Service{DB: db, Plan: &plan.Service{DB: db, Now: now}, Visits: &visits.Service{DB: db, Now: now}, Now: now}
	return &fixture{db: db, svc: svc, plan: &plan.Service{DB: db, Now: now}, w: w}
}

func scopeOf(t *testing.T, db *store.DB, code string) areas.Scope {
	t.Helper()
	a, err := areas.Store{DB: db}.Get(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return areas.ScopeOf(a)
}

func TestReports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, sc := range []struct {
			name string
			fn   func(*testing.T, *fixture)
		}{
			{"snapshot_matches_plan", testSnapshotMatchesPlan},
			{"overview_counts", testOverviewCounts},
			{"children_add_up", testChildrenAddUp},
			{"scope", testScope},
			{"report", testReport},
			{"xlsx", testXLSX},
			{"written", testWritten},
			// Last: it adds a contact to a closed month.
			{"close_and_correct", testCloseAndCorrect},
		} {
			if !t.Run(sc.name, func(t *testing.T) { sc.fn(t, f) }) {
				return
			}
		}
	})
}

// R-OVS-2, DOMAIN §6: the snapshot's figures are plan.Compliance's, for
// the week, the month and every week of the trend, at every level.
func testSnapshotMatchesPlan(t *testing.T, f *fixture) {
	ctx := context.Background()
	sc := scopeOf(t, f.db, city)
	cur := schedule.WeekOf(testNow)
	month := schedule.MonthOf(testNow)
	for _, code := range []string{city, county, town, village, lianyun} {
		o, err := f.svc.Overview(ctx, sc, code)
		if err != nil {
			t.Fatal(err)
		}
		pc, err := f.plan.Compliance(ctx, sc, code, plan.Period{Week: &cur}, false)
		if err != nil {
			t.Fatal(err)
		}
		if o.Compliance.Figures != pc.Figures || o.Compliance.Pending != pc.Pending || o.Compliance.Partial != pc.Partial || o.Compliance.Missed != pc.Missed {
			t.Errorf("%s week: snapshot %+v, plan %+v", code, o.Compliance, pc)
		}
		for _, c := range Classes {
			if o.Compliance.ByClass[c] != pc.ByClass[c] {
				t.Errorf("%s week class %s: snapshot %+v, plan %+v", code, c, o.Compliance.ByClass[c], pc.ByClass[c])
			}
		}
		if pc.InScope == 0 && code != lianyun {
			t.Errorf("%s: no elder-weeks generated", code)
		}
		pm, err := f.plan.Compliance(ctx, sc, code, plan.Period{Month: &month}, false)
		if err != nil {
			t.Fatal(err)
		}
		if o.Monthly.InScope != pm.Monthly.InScope || o.Monthly.Contacted != pm.Monthly.Contacted || o.MonthlyVisitRate != *pm.MonthlyVisitRate {
			t.Errorf("%s month: snapshot %+v, plan %+v", code, o.Monthly, pm.Monthly)
		}
		if len(o.Trend) != TrendWeeks || o.Trend[TrendWeeks-1].Week != cur.String() {
			t.Fatalf("%s trend %+v", code, o.Trend)
		}
		for _, p := range o.Trend {
			w, _ := schedule.ParseWeek(p.Week)
			pw, err := f.plan.Compliance(ctx, sc, code, plan.Period{Week: &w}, false)
			if err != nil {
				t.Fatal(err)
			}
			if p.Figures != pw.Figures {
				t.Errorf("%s trend %s: snapshot %+v, plan %+v", code, p.Week, p.Figures, pw.Figures)
			}
		}
	}
}

// The dashboard's counts against a direct count of what was generated.
func testOverviewCounts(t *testing.T, f *fixture) {
	ctx := context.Background()
	sc := scopeOf(t, f.db, city)
	for _, code := range []string{city, county, town, village} {
		o, err := f.svc.Overview(ctx, sc, code)
		if err != nil {
			t.Fatal(err)
		}
		p := areas.PrefixOf(code, o.Area.Level)
		files, byClass, byStatus, incomplete := f.w.Files(p)
		if o.Elders.Files != files || o.Elders.Incomplete != incomplete || o.Elders.InScope != byClass["A"]+byClass["B"]+byClass["C"] {
			t.Errorf("%s files %+v, want %d files, %d incomplete, classes %v", code, o.Elders, files, incomplete, byClass)
		}
		for k, n := range byClass {
			if o.Elders.ByClass[k] != n {
				t.Errorf("%s class %q: %d, want %d", code, k, o.Elders.ByClass[k], n)
			}
		}
		for k, n := range byStatus {
			if o.Elders.ByStatus[k] != n {
				t.Errorf("%s status %q: %d, want %d", code, k, o.Elders.ByStatus[k], n)
			}
		}
		open, overdue, byKind, emergencies := f.w.Open(p)
		if o.Followups.Open != open || o.Followups.Overdue != overdue || o.Emergencies.Open != emergencies || len(o.Emergencies.Items) != emergencies {
			t.Errorf("%s open %+v / %d emergencies, want %d open, %d overdue, %d emergencies", code, o.Followups, o.Emergencies.Open, open, overdue, emergencies)
		}
		for _, c := range o.Followups.ByKind {
			if c.N != byKind[c.Code] {
				t.Errorf("%s kind %s: %d, want %d", code, c.Code, c.N, byKind[c.Code])
			}
		}
		ages := 0
		for _, c := range o.Followups.ByAge {
			ages += c.N
		}
		if ages != open {
			t.Errorf("%s ages add up to %d, want %d", code, ages, open)
		}
		// The monthly visit rate (DOMAIN §6): elders in scope this month
		// with a completed contact, counted from the generated contacts.
		inScope := map[int64]bool{}
		lo, hi := store.PrefixRange(p)
		rows, err := f.db.Query(ctx, "SELECT elder_id FROM plan_months WHERE month = ? AND in_scope = 1 AND area_code >= ? AND area_code < ?",
			schedule.MonthOf(testNow).String(), lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			_ = rows.Scan(&id)
			inScope[id] = true
		}
		rows.Close()
		contacted := 0
		for id := range f.w.Contacted(p, schedule.MonthOf(testNow)) {
			if inScope[id] {
				contacted++
			}
		}
		if o.Monthly.InScope != len(inScope) || o.Monthly.Contacted != contacted || contacted == 0 {
			t.Errorf("%s monthly %d/%d, want %d/%d", code, o.Monthly.Contacted, o.Monthly.InScope, contacted, len(inScope))
		}
		// Pairing coverage: in-scope active files, and those with a
		// current primary visitor.
		var planned, paired int
		if err := f.db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM pairings p WHERE p.elder_id = e.id
				AND p.role = 'primary' AND p.ended_at = '') THEN 1 ELSE 0 END), 0)
			FROM elders e WHERE e.active = 1 AND e.class IN ('A', 'B', 'C') AND e.area_code >= ? AND e.area_code < ?`, lo, hi).Scan(&planned, &paired); err != nil {
			t.Fatal(err)
		}
		if o.Pairing.Planned != planned || o.Pairing.Paired != paired || paired == 0 || paired == planned {
			t.Errorf("%s pairing %+v, want %d of %d", code, o.Pairing, paired, planned)
		}
	}
}

// R-AREA-2: every count rolls up along the hierarchy.
func testChildrenAddUp(t *testing.T, f *fixture) {
	ctx := context.Background()
	sc := scopeOf(t, f.db, city)
	for _, code := range []string{city, county, town} {
		o, err := f.svc.Overview(ctx, sc, code)
		if err != nil {
			t.Fatal(err)
		}
		var sum Child
		for _, c := range o.Children {
			sum.Files += c.Files
			sum.Incomplete += c.Incomplete
			sum.Pairing.Paired += c.Pairing.Paired
			sum.Week.InScope += c.Week.InScope
			sum.Week.Met += c.Week.Met
			sum.Month.InScope += c.Month.InScope
			sum.Month.Met += c.Month.Met
			sum.Followups += c.Followups
			sum.Overdue += c.Overdue
			sum.Emergencies += c.Emergencies
		}
		want := Child{Files: o.Elders.Files, Incomplete: o.Elders.Incomplete, Pairing: Coverage{Paired: o.Pairing.Paired},
			Week: plan.Figures{InScope: o.Compliance.InScope, Met: o.Compliance.Met}, Month: plan.Figures{InScope: o.Monthly.InScope, Met: o.Monthly.Contacted},
			Followups: o.Followups.Open, Overdue: o.Followups.Overdue, Emergencies: o.Emergencies.Open}
		if sum != want {
			t.Errorf("%s children add up to %+v, want %+v", code, sum, want)
		}
		if len(o.Visitors) != 0 {
			t.Errorf("%s lists visitors", code)
		}
	}
	o, err := f.svc.Overview(ctx, sc, village)
	if err != nil {
		t.Fatal(err)
	}
	planned, met := 0, 0
	for _, v := range o.Visitors {
		planned += v.Planned
		met += v.Met
		if v.Name == "" {
			t.Errorf("visitor %d has no name", v.ID)
		}
	}
	if len(o.Children) != 0 || len(o.Visitors) != 3 || planned != o.Pairing.Paired {
		t.Errorf("village: %d children, visitors %+v, planned %d, paired %d", len(o.Children), o.Visitors, planned, o.Pairing.Paired)
	}
}

// R-AREA-2: nothing outside the caller's area, and no telling it from
// nowhere.
func testScope(t *testing.T, f *fixture) {
	ctx := context.Background()
	sc := scopeOf(t, f.db, lianyun)
	for _, call := range []func() error{
		func() error { _, err := f.svc.Overview(ctx, sc, county); return err },
		func() error { _, err := f.svc.Overview(ctx, sc, "329999999999"); return err },
		func() error { _, err := f.svc.Report(ctx, sc, village, "2026-11"); return err },
		func() error {
			_, err := f.svc.Close(ctx, sc, audit.Entry{Actor: "t"}, county, "2026-11")
			return err
		},
		func() error { _, err := f.svc.Written(ctx, sc, county, "2026-11"); return err },
	} {
		if err := call(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("outside the scope: %v, want not found", err)
		}
	}
	o, err := f.svc.Overview(ctx, sc, "")
	if err != nil || o.Area.Code != lianyun {
		t.Fatalf("own area: %+v, %v", o.Area, err)
	}
}

// sameCompliance compares the figures of two compliances (R-OVS-2).
func sameCompliance(t *testing.T, what string, got, want plan.Compliance) {
	t.Helper()
	if got.Figures != want.Figures || got.Pending != want.Pending || got.Partial != want.Partial || got.Missed != want.Missed || got.AreaCode != want.AreaCode {
		t.Errorf("%s: %s %+v %d/%d/%d, plan %s %+v %d/%d/%d", what, got.AreaCode, got.Figures, got.Pending, got.Partial, got.Missed,
			want.AreaCode, want.Figures, want.Pending, want.Partial, want.Missed)
	}
	for _, c := range Classes {
		if got.ByClass[c] != want.ByClass[c] {
			t.Errorf("%s class %s: %+v, plan %+v", what, c, got.ByClass[c], want.ByClass[c])
		}
	}
}

func fieldOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// R-OBJ-3, R-OVS-1: a month's and a quarter's report against plan and the
// generated events.
func testReport(t *testing.T, f *fixture) {
	ctx := context.Background()
	sc := scopeOf(t, f.db, city)
	for _, tc := range []struct{ code, period string }{{town, "2026-11"}, {city, "2026-Q4"}, {village, "2026-12"}} {
		r, err := f.svc.Report(ctx, sc, tc.code, tc.period)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := ParsePeriod(tc.period)
		pc, err := f.plan.Compliance(ctx, sc, tc.code, plan.Period{Weeks: p.Weeks()}, tc.code != village)
		if err != nil {
			t.Fatal(err)
		}
		if r.Compliance.InScope == 0 {
			t.Errorf("%s %s: nothing in scope", tc.code, tc.period)
		}
		sameCompliance(t, tc.code+" "+tc.period, r.Compliance, pc)
		if tc.code != village {
			if len(r.Compliance.Children) != len(pc.Children) {
				t.Fatalf("children %d, plan %d", len(r.Compliance.Children), len(pc.Children))
			}
			for i, c := range pc.Children {
				sameCompliance(t, c.AreaCode, r.Compliance.Children[i], c)
			}
		}
		if len(r.Months) != len(p.Months()) {
			t.Fatalf("%s %s months %+v", tc.code, tc.period, r.Months)
		}
		for i, m := range p.Months() {
			pm, err := f.plan.Compliance(ctx, sc, tc.code, plan.Period{Month: &m}, false)
			if err != nil {
				t.Fatal(err)
			}
			got := r.Months[i]
			if got.Month != m.String() || got.InScope != pm.Monthly.InScope || got.Contacted != pm.Monthly.Contacted || got.Rate != pm.Monthly.Rate {
				t.Errorf("%s %s month %s: %+v, plan %+v", tc.code, tc.period, m, got, pm.Monthly)
			}
		}
		want := f.w.During(areas.PrefixOf(tc.code, r.Area.Level), p.Start(), p.End())
		c, pr := r.Changes, r.Problems
		got := reportstest.Period{New: c.New, Deceased: c.Deceased, TransferredIn: c.TransferredIn, TransferredOut: c.TransferredOut,
			ClassChanged: c.ClassChanged, Found: pr.Found, Resolved: pr.Resolved, Verified: pr.Verified, Referrals: r.ReferralsDone(),
			Emergencies: pr.EmergenciesRaised}
		if got != want {
			t.Errorf("%s %s events %+v, want %+v", tc.code, tc.period, got, want)
		}
		if len(r.Children) > 0 {
			found, inScope := 0, 0
			for _, ch := range r.Children {
				found += ch.Found
				inScope += ch.Compliance.InScope
			}
			if found != pr.Found || inScope != r.Compliance.InScope {
				t.Errorf("%s %s children: found %d in scope %d, want %d %d", tc.code, tc.period, found, inScope, pr.Found, r.Compliance.InScope)
			}
		}
		for _, it := range r.Changes.Items {
			if strings.Contains(it.NameMasked, "老人") {
				t.Errorf("name not masked: %q", it.NameMasked)
			}
		}
	}
	nov, _ := f.svc.Report(ctx, sc, town, "2026-11")
	if nov.Changes.New == 0 || nov.Changes.TransferredIn+nov.Changes.TransferredOut == 0 || nov.Changes.ClassChanged == 0 || nov.Problems.Found == 0 {
		t.Errorf("the generated November has too little in it: %+v %+v", nov.Changes, nov.Problems)
	}
	for _, bad := range []struct{ period, field string }{{"2026-13", "period"}, {"2026-Q5", "period"}, {"2027-01", "period"}, {"November", "period"}} {
		if _, err := f.svc.Report(ctx, sc, village, bad.period); fieldOf(err) != bad.field {
			t.Errorf("period %q: %v", bad.period, err)
		}
	}
}

// The workbook holds the report's figures, one sheet per section, with the
// header row frozen.
func testXLSX(t *testing.T, f *fixture) {
	ctx := context.Background()
	r, err := f.svc.Report(ctx, scopeOf(t, f.db, city), town, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteXLSX(&b); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	want := []string{SheetSummary, SheetElders, SheetCompliance, SheetMonths, SheetChildren, SheetChanges, SheetChangeItems, SheetProblems}
	if got := x.GetSheetList(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("sheets %v", got)
	}
	for _, s := range want {
		panes, err := x.GetPanes(s)
		if err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Errorf("%s: header not frozen: %+v %v", s, panes, err)
		}
	}
	summary := sheetMap(t, x, SheetSummary)
	for _, fg := range r.Figures() {
		if summary[fg.Label] != strconv.Itoa(fg.Value) {
			t.Errorf("summary %s = %q, want %d", fg.Label, summary[fg.Label], fg.Value)
		}
	}
	if summary["地区"] != "新坝镇" || summary["期间"] != "2026年11月" {
		t.Errorf("summary head %v", summary)
	}
	rows, _ := x.GetRows(SheetChildren)
	if len(rows) != len(r.Children)+1 {
		t.Errorf("children sheet has %d rows for %d children", len(rows), len(r.Children))
	}
	items, _ := x.GetRows(SheetChangeItems)
	if len(items) != len(r.Changes.Items)+1 || len(items) < 2 {
		t.Errorf("change items: %d rows for %d items", len(items), len(r.Changes.Items))
	}
}

// sheetMap reads a two-column sheet as label -> value.
func sheetMap(t *testing.T, x *excelize.File, sheet string) map[string]string {
	t.Helper()
	rows, err := x.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows[1:] {
		if len(r) >= 2 {
			out[r[0]] = r[1]
		}
	}
	return out
}

// R-OVS-1: the written report's figures come from the report, its text is
// saved with a version, and it exports as a Word document.
func testWritten(t *testing.T, f *fixture) {
	ctx := context.Background()
	sc := scopeOf(t, f.db, city)
	w, err := f.svc.Written(ctx, sc, city, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := f.svc.Report(ctx, sc, city, "2026-11")
	if len(w.Sections) != len(WrittenKeys) || w.Version != 0 || !strings.Contains(w.Title, "连云港市2026年11月") {
		t.Fatalf("written %+v", w)
	}
	visitsText := w.Sections[2].Generated
	for _, want := range []string{"应探访" + strconv.Itoa(r.Compliance.InScope) + "人次", "按时完成" + strconv.Itoa(r.Compliance.Met) + "人次",
		"已探访" + strconv.Itoa(r.Months[0].Contacted) + "人"} {
		if !strings.Contains(visitsText, want) {
			t.Errorf("visits paragraph %q lacks %q", visitsText, want)
		}
	}
	actor := audit.Entry{ActorID: 1, Actor: "city"}
	w, err = f.svc.SaveWritten(ctx, sc, actor, city, "2026-11", 0, map[string]string{"intro": "  今年以来，我市扎实推进探访关爱工作。\n一是建立台账。 ", "plans": "继续做好探访。"})
	if err != nil || w.Version != 1 || w.Sections[0].Text != "今年以来，我市扎实推进探访关爱工作。\n一是建立台账。" {
		t.Fatalf("save: %+v, %v", w, err)
	}
	if _, err := f.svc.SaveWritten(ctx, sc, actor, city, "2026-11", 0, map[string]string{"intro": "旧稿"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale save: %v", err)
	}
	w, err = f.svc.SaveWritten(ctx, sc, actor, city, "2026-11", 1, map[string]string{"difficulties": "人手不足。"})
	if err != nil || w.Version != 2 || w.Sections[5].Text != "继续做好探访。" || w.Sections[4].Text != "人手不足。" {
		t.Fatalf("second save keeps the other sections: %+v, %v", w.Sections, err)
	}
	if _, err := f.svc.SaveWritten(ctx, sc, actor, city, "2026-11", 2, map[string]string{"summary": "x"}); fieldOf(err) != "sections.summary" {
		t.Errorf("unknown section: %v", err)
	}
	if _, err := f.svc.Written(ctx, sc, town, "2026-11"); fieldOf(err) != "area_code" {
		t.Errorf("a town's written report: %v", err)
	}
	var b bytes.Buffer
	if err := w.WriteDOCX(&b, testNow); err != nil {
		t.Fatal(err)
	}
	doc := docxText(t, b.Bytes())
	for _, want := range []string{w.Title, "一是建立台账。", "人手不足。", "连云港市民政局", "2026年12月3日", "按时完成" + strconv.Itoa(r.Compliance.Met) + "人次"} {
		if !strings.Contains(doc, want) {
			t.Errorf("docx lacks %q", want)
		}
	}
}

// docxText checks a .docx is a zip of well-formed parts and returns the
// text of its document.
func docxText(t *testing.T, b []byte) string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	names := map[string]bool{}
	for _, f := range z.File {
		names[f.Name] = true
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(rc)
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s is not well-formed: %v", f.Name, err)
			}
			if cd, ok := tok.(xml.CharData); ok && f.Name == "word/document.xml" {
				text.Write(cd)
			}
		}
		rc.Close()
	}
	for _, n := range []string{"[Content_Types].xml", "_rels/.rels", "word/document.xml"} {
		if !names[n] {
			t.Errorf("docx lacks %s", n)
		}
	}
	return text.String()
}

// R-OBJ-3: a closed month keeps what was reported; a late visit recorded
// for it afterwards is a correction beside the frozen figure.
func testCloseAndCorrect(t *testing.T, f *fixture) {
	ctx := context.Background()
	sc := scopeOf(t, f.db, city)
	actor := audit.Entry{ActorID: 1, Actor: "city", IP: "127.0.0.1"}
	if _, err := f.svc.Close(ctx, sc, actor, city, "2026-12"); fieldOf(err) != "period" {
		t.Errorf("closing a running month: %v", err)
	}
	closed, err := f.svc.Close(ctx, sc, actor, city, "2026-11")
	if err != nil || closed.Closed == nil || closed.Closed.By != "city" {
		t.Fatalf("close: %+v, %v", closed.Closed, err)
	}
	if _, err := f.svc.Close(ctx, sc, actor, city, "2026-11"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second close: %v", err)
	}
	entries, err := audit.List(ctx, f.db, audit.Query{TargetType: "report", TargetID: city + "/2026-11"})
	if err != nil || len(entries) == 0 || entries[0].Action != "report.close" || entries[0].ActorID != 1 {
		t.Errorf("audit %+v, %v", entries, err)
	}

	// An elder in scope in November never reached: a late record of a
	// home visit on 20 November arrives now.
	nov := schedule.Month{Year: 2026, Month: time.November}
	var elder int64
	lo, hi := store.PrefixRange("320706")
	if err := f.db.QueryRow(ctx, `SELECT MIN(elder_id) FROM plan_months WHERE month = '2026-11' AND in_scope = 1 AND contacted = 0
		AND area_code >= ? AND area_code < ?`, lo, hi).Scan(&elder); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, age.Shanghai)
	if err := f.db.InTx(ctx, func(tx *store.Tx) error {
		return plan.ApplyContact(ctx, tx, elder, schedule.Contact{At: at, Mode: schedule.ModeHome, Outcome: schedule.OutcomeDone, Late: true})
	}); err != nil {
		t.Fatal(err)
	}
	if !nov.Contains(at) {
		t.Fatal("contact outside November")
	}
	r, err := f.svc.Report(ctx, sc, city, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	before := closed.Months[0]
	if r.Closed == nil || r.Months[0].Contacted != before.Contacted || r.Months[0].ContactDays != before.ContactDays {
		t.Fatalf("the closed report changed: %+v, was %+v", r.Months[0], before)
	}
	got := map[string]Correction{}
	for _, c := range r.Corrections {
		got[c.Item] = c
	}
	want := map[string][2]int{
		"month.2026-11.contacted":    {before.Contacted, before.Contacted + 1},
		"month.2026-11.contact_days": {before.ContactDays, before.ContactDays + 1},
	}
	if len(got) != len(want) {
		t.Errorf("corrections %+v", r.Corrections)
	}
	for item, v := range want {
		c := got[item]
		if c.Reported != v[0] || c.Previous != v[0] || c.Value != v[1] || !c.FoundAt.Equal(testNow) || c.Label == "" {
			t.Errorf("correction %s = %+v, want %v", item, c, v)
		}
	}
	again, err := f.svc.Report(ctx, sc, city, "2026-11")
	if err != nil || len(again.Corrections) != len(r.Corrections) {
		t.Errorf("reading again recorded more: %+v, %v", again.Corrections, err)
	}
	if n, err := f.svc.Reconcile(ctx); err != nil || n != 0 {
		t.Errorf("sweep found %d, %v", n, err)
	}
	// The town's November was not closed: it simply counts the visit.
	tr, err := f.svc.Report(ctx, sc, town, "2026-11")
	if err != nil || tr.Closed != nil || len(tr.Corrections) != 0 {
		t.Errorf("town report: closed %v, corrections %v, %v", tr.Closed, tr.Corrections, err)
	}
	var b bytes.Buffer
	if err := r.WriteXLSX(&b); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows(SheetCorrections)
	if err != nil || len(rows) != 3 || rows[1][0] == "" {
		t.Errorf("corrections sheet %v, %v", rows, err)
	}
	if s := sheetMap(t, x, SheetSummary); !strings.HasPrefix(s["结账状态"], "已结账") || s["结账后更正"] == "" {
		t.Errorf("summary %v", s)
	}
}

// R-OBJ-3: months and quarters, their weeks and labels.
func TestPeriod(t *testing.T) {
	for _, tc := range []struct {
		in, label, from, to, first, last string
		months                           int
	}{
		{"2026-11", "2026年11月", "2026-11-01", "2026-11-30", "2026-W44", "2026-W49", 1},
		{"2026-Q4", "2026年第四季度", "2026-10-01", "2026-12-31", "2026-W40", "2026-W53", 3},
		{"2027-Q1", "2027年第一季度", "2027-01-01", "2027-03-31", "2026-W53", "2027-W13", 3},
		{"2024-02", "2024年2月", "2024-02-01", "2024-02-29", "2024-W05", "2024-W09", 1},
	} {
		p, err := ParsePeriod(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		from, to := p.Days()
		ws := p.Weeks()
		if p.String() != tc.in || p.Label() != tc.label || from.String() != tc.from || to.String() != tc.to ||
			ws[0].String() != tc.first || ws[len(ws)-1].String() != tc.last || len(p.Months()) != tc.months {
			t.Errorf("%s: %s %s %s..%s %s..%s %d", tc.in, p, p.Label(), from, to, ws[0], ws[len(ws)-1], len(p.Months()))
		}
	}
	for _, bad := range []string{"", "2026", "2026-00", "2026-13", "2026-Q0", "2026-Q5", "26-Q1", "2026-1", "2026-W49"} {
		if _, err := ParsePeriod(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// ancestors names the city, county, town and village of a code.
func TestAncestors(t *testing.T) {
	for _, tc := range []struct {
		code string
		want string
	}{
		{"320706102206", "320700000000 320706000000 320706102000 320706102206"},
		{"320706102206001", "320700000000 320706000000 320706102000 320706102206"},
		{"320706102000", "320700000000 320706000000 320706102000"},
		{"320706000000", "320700000000 320706000000"},
	} {
		if got := strings.Join(ancestors(tc.code), " "); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.code, got, tc.want)
		}
	}
}
