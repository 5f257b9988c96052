package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tanfang/internal/plan"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/reports"
	"tanfang/internal/reports/reportstest"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

// TestDashboardsAndReports holds the dashboard's HTML, its JSON and the
// report's workbook to each other and to a direct count of generated data,
// closes a month and records a late visit against it (R-OBJ-3, R-OVS-1,
// R-OVS-2, R-AREA-2, DOMAIN §6).
func TestDashboardsAndReports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := reportstest.Generate(t, db, e.Clock.Now(), 3)
		for _, sc := range []struct {
			name string
			fn   func(*testing.T, *env, *reportstest.World)
		}{
			{"figures_agree", testFiguresAgree},
			{"scope", testReportScope},
			{"pages", testReportPages},
			// Last: it closes November and adds a visit to it.
			{"close_and_correct", testCloseAndCorrectAPI},
		} {
			if !t.Run(sc.name, func(t *testing.T) { sc.fn(t, e, w) }) {
				return
			}
		}
	})
}

const (
	haizhouCode = "320706000000"
	xinbaCode   = "320706102000"
	villageCode = "320706102206"
)

// kpi reads the number shown in a dashboard figure by its id.
func kpi(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no %s on the page", id)
	}
	return html.UnescapeString(m[1])
}

// pct is how pages show a rate: "—" when nothing was counted, not 0.0%.
func pct(r float64, of int) string {
	if of == 0 {
		return "—"
	}
	return strconv.FormatFloat(r*100, 'f', 1, 64) + "%"
}

func testFiguresAgree(t *testing.T, e *env, w *reportstest.World) {
	county := e.login("haizhou")
	b := e.browser("haizhou")
	emptyChildren := 0 // areas without elders show "—", not 0.0%
	for _, code := range []string{haizhouCode, xinbaCode, villageCode} {
		var o reports.Overview
		if st := e.do("GET", "/api/v1/stats/overview?area_code="+code, county, nil, &o); st != 200 {
			t.Fatalf("overview %s: %d", code, st)
		}
		prefix := strings.TrimRight(code, "0")
		if code == haizhouCode {
			prefix = "320706"
		}
		// The JSON against a direct count.
		files, byClass, _, incomplete := w.Files(prefix)
		open, overdue, _, emergencies := w.Open(prefix)
		if o.Elders.Files != files || o.Elders.Incomplete != incomplete || o.Elders.InScope != byClass["A"]+byClass["B"]+byClass["C"] ||
			o.Followups.Open != open || o.Followups.Overdue != overdue || o.Emergencies.Open != emergencies {
			t.Errorf("%s: overview %+v %+v, want files %d incomplete %d open %d overdue %d emergencies %d",
				code, o.Elders, o.Followups, files, incomplete, open, overdue, emergencies)
		}
		// The plan's compliance API gives the same week and monthly visit
		// rate (issue 8 contract: monthly_visit_rate).
		var pc plan.Compliance
		if st := e.do("GET", "/api/v1/stats/compliance?area_code="+code+"&month="+o.Monthly.Month, county, nil, &pc); st != 200 || pc.MonthlyVisitRate == nil {
			t.Fatalf("compliance %s: %d %+v", code, st, pc)
		}
		if *pc.MonthlyVisitRate != o.MonthlyVisitRate || pc.Monthly.InScope != o.Monthly.InScope || pc.Monthly.Contacted != o.Monthly.Contacted {
			t.Errorf("%s monthly: compliance API %v %+v, overview %v %+v", code, *pc.MonthlyVisitRate, pc.Monthly, o.MonthlyVisitRate, o.Monthly)
		}
		var wk plan.Compliance
		if st := e.do("GET", "/api/v1/stats/compliance?area_code="+code, county, nil, &wk); st != 200 || wk.Figures != o.Compliance.Figures {
			t.Errorf("%s week: compliance API %+v, overview %+v", code, wk.Figures, o.Compliance.Figures)
		}
		// The page shows the JSON's figures, and embeds them for the charts.
		page := b.get("/dashboard?area_code=" + code)
		for id, want := range map[string]string{
			"kpi-files": strconv.Itoa(o.Elders.Files), "kpi-in-scope": strconv.Itoa(o.Elders.InScope),
			"kpi-pairing": pct(o.Pairing.Rate, o.Pairing.Planned), "kpi-week": pct(o.Compliance.Rate, o.Compliance.InScope),
			"kpi-month":     pct(o.MonthlyVisitRate, o.Monthly.InScope),
			"kpi-followups": strconv.Itoa(o.Followups.Open), "kpi-incomplete": strconv.Itoa(o.Elders.Incomplete),
		} {
			if got := kpi(t, page, id); got != want {
				t.Errorf("%s page %s = %q, JSON %q", code, id, got, want)
			}
		}
		m := regexp.MustCompile(`(?s)<script type="application/json" id="dash-data">(.*?)</script>`).FindStringSubmatch(page)
		var embedded reports.Overview
		if m == nil || json.Unmarshal([]byte(m[1]), &embedded) != nil || embedded.Elders.Files != o.Elders.Files ||
			embedded.Compliance.Figures != o.Compliance.Figures || len(embedded.Trend) != reports.TrendWeeks {
			t.Errorf("%s: embedded figures missing or different", code)
		}
		for _, c := range o.Children {
			if !strings.Contains(page, `href="/dashboard?area_code=`+c.Area.Code+`"`) {
				t.Errorf("%s: no link down to %s", code, c.Area.Code)
			}
			row := regexp.MustCompile(`(?s)<tr data-code="` + c.Area.Code + `">(.*?)</tr>`).FindStringSubmatch(page)
			want := "<td>" + pct(c.Pairing.Rate, c.Pairing.Planned) + "</td><td>" + pct(c.Week.Rate, c.Week.InScope) + "</td><td>" + pct(c.Month.Rate, c.Month.InScope) + "</td>"
			if row == nil || !strings.Contains(row[1], want) {
				t.Errorf("%s: row of %s lacks %s", code, c.Area.Code, want)
			}
			if c.Pairing.Planned == 0 {
				emptyChildren++
			}
		}
		if code == villageCode {
			if len(o.Visitors) == 0 {
				t.Fatal("village without visitors")
			}
			for _, v := range o.Visitors {
				if !strings.Contains(page, `href="/tasks?visitor_id=`+strconv.FormatInt(v.ID, 10)+`"`) {
					t.Errorf("no link to visitor %d", v.ID)
				}
			}
		}
	}
	if emptyChildren == 0 {
		t.Error("no area without elders among the children: the \"—\" for 0/0 went unchecked")
	}

	// The month's report: JSON, workbook and a direct count agree.
	nov := schedule.Month{Year: 2026, Month: time.November}
	var r reports.Report
	if st := e.do("GET", "/api/v1/reports?area_code="+haizhouCode+"&period=2026-11", county, nil, &r); st != 200 {
		t.Fatalf("report: %d", st)
	}
	want := w.During("320706", nov.Start(), nov.End())
	if r.Changes.New != want.New || r.Problems.Found != want.Found || r.Problems.Resolved != want.Resolved || r.ReferralsDone() != want.Referrals {
		t.Errorf("report %+v %+v, want %+v", r.Changes, r.Problems, want)
	}
	var pm plan.Compliance
	e.do("GET", "/api/v1/stats/compliance?area_code="+haizhouCode+"&month=2026-11", county, nil, &pm)
	if r.Compliance.Figures != pm.Figures || r.Months[0].Rate != *pm.MonthlyVisitRate {
		t.Errorf("report compliance %+v %v, plan %+v %v", r.Compliance.Figures, r.Months[0].Rate, pm.Figures, *pm.MonthlyVisitRate)
	}
	st, typ, raw := e.fetch("/api/v1/reports/monthly.xlsx?area_code="+haizhouCode+"&month=2026-11", county)
	if st != 200 || !strings.Contains(typ, "spreadsheetml") {
		t.Fatalf("monthly.xlsx: %d %s", st, typ)
	}
	summary := sheet(t, raw, reports.SheetSummary)
	for _, f := range r.Figures() {
		if summary[f.Label] != strconv.Itoa(f.Value) {
			t.Errorf("xlsx %s = %q, JSON %d", f.Label, summary[f.Label], f.Value)
		}
	}
	if summary["2026年11月月探访率"] == "" {
		t.Errorf("xlsx lacks the monthly visit rate: %v", summary)
	}
	st, _, raw = e.fetch("/api/v1/reports/quarterly.xlsx?area_code="+haizhouCode+"&quarter=2026-Q4", county)
	if st != 200 || sheet(t, raw, reports.SheetSummary)["期间"] != "2026年第四季度" {
		t.Errorf("quarterly.xlsx: %d", st)
	}
	for _, bad := range []struct{ path, field string }{
		{"/api/v1/reports/monthly.xlsx?month=2026-Q4", "month"},
		{"/api/v1/reports/quarterly.xlsx?quarter=2026-11", "quarter"},
		{"/api/v1/reports?period=2026-14", "period"},
		{"/api/v1/reports", "period"},
	} {
		var eb errBody
		if st := e.do("GET", bad.path, county, nil, &eb); st != 422 || eb.Error.Field != bad.field {
			t.Errorf("%s: %d %+v", bad.path, st, eb)
		}
	}
}

// sheet reads a two-column sheet of a workbook as label -> value.
func sheet(t *testing.T, raw []byte, name string) map[string]string {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows(name)
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

// R-AREA-2: nothing of another area, and no telling it from nowhere;
// visitors see no dashboards; only counties and the city close.
func testReportScope(t *testing.T, e *env, w *reportstest.World) {
	lianyun := e.login("lianyun")
	town := e.login("xinba")
	visitor := e.login("visitor1")
	for _, path := range []string{
		"/api/v1/stats/overview?area_code=" + haizhouCode,
		"/api/v1/reports?area_code=" + villageCode + "&period=2026-11",
		"/api/v1/reports/monthly.xlsx?area_code=" + haizhouCode + "&month=2026-11",
		"/api/v1/reports/written?area_code=" + haizhouCode + "&period=2026-11",
	} {
		var eb errBody
		if st := e.do("GET", path, lianyun, nil, &eb); st != 404 || eb.Error.Code != "not_found" {
			t.Errorf("%s from 连云区: %d %+v", path, st, eb)
		}
	}
	var eb errBody
	if st := e.do("POST", "/api/v1/reports/close", lianyun, map[string]string{"area_code": haizhouCode, "period": "2026-11"}, &eb); st != 404 {
		t.Errorf("close elsewhere: %d", st)
	}
	if st := e.do("GET", "/api/v1/stats/overview", visitor, nil, &eb); st != 403 || eb.Error.Code != "forbidden" {
		t.Errorf("visitor's overview: %d", st)
	}
	if st := e.do("POST", "/api/v1/reports/close", town, map[string]string{"area_code": xinbaCode, "period": "2026-11"}, &eb); st != 403 {
		t.Errorf("a town closing: %d", st)
	}
	var o reports.Overview
	if st := e.do("GET", "/api/v1/stats/overview", town, nil, &o); st != 200 || o.Area.Code != xinbaCode {
		t.Errorf("town's own overview: %d %s", st, o.Area.Code)
	}
	b := e.browser("lianyun")
	if page := b.get("/dashboard?area_code=" + haizhouCode); !strings.Contains(page, "不在您的管辖范围内") {
		t.Error("a page of another county is shown")
	}
	for user, want := range map[string]string{"visitor1": "/tasks", "haizhou": "/dashboard", "admin": "/dashboard"} {
		if got := homeOf(t, e, user); got != want {
			t.Errorf("%s's home is %s, want %s", user, got, want)
		}
	}
}

// homeOf logs in through the page and returns where "/" sends the account.
func homeOf(t *testing.T, e *env, username string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Get(e.Srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(raw))[1]
	resp, err = cl.PostForm(e.Srv.URL+"/login", url.Values{"csrf": {csrf}, "username": {username}, "password": {testPassword}, "next": {"/"}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %v %v", username, resp, err)
	}
	resp.Body.Close()
	resp, err = cl.Get(e.Srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Location")
}

// The report page, the written report's page and their downloads.
func testReportPages(t *testing.T, e *env, w *reportstest.World) {
	b := e.browser("haizhou")
	page := b.get("/reports?area_code=" + haizhouCode + "&period=2026-11")
	for _, want := range []string{"海州区2026年11月探访关爱报表", `id="open"`, `id="close-period"`, `id="report-data"`, "/reports/report.xlsx?area_code=" + haizhouCode + "&amp;period=2026-11", `id="chart-report-children"`} {
		if !strings.Contains(page, want) {
			t.Errorf("report page lacks %q", want)
		}
	}
	resp, err := b.cl.Get(e.Srv.URL + "/reports/report.xlsx?area_code=" + haizhouCode + "&period=2026-11")
	if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "spreadsheetml") {
		t.Errorf("page download: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	if page := b.get("/reports?area_code=" + xinbaCode + "&period=2026-12"); strings.Contains(page, `id="close-period"`) {
		t.Error("a running month offers to close")
	}
	// Closing October through the page's button.
	csrfOf := func(page string) string {
		return regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	}
	resp, body := b.post("/reports/close", url.Values{"csrf": {csrfOf(page)}, "area_code": {haizhouCode}, "period": {"2026-10"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "已结账，报表数据就此固定") || !strings.Contains(body, `id="closed"`) || strings.Contains(body, `id="close-period"`) {
		t.Errorf("close through the page: %d", resp.StatusCode)
	}
	if resp, _ := e.browser("xinba").post("/reports/close", url.Values{"csrf": {csrfOf(page)}, "area_code": {xinbaCode}, "period": {"2026-10"}}); resp.StatusCode != 403 {
		t.Errorf("a town's close through the page: %d", resp.StatusCode)
	}

	page = b.get("/reports/written?area_code=" + haizhouCode + "&period=2026-11")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil || !strings.Contains(page, "海州区2026年11月特殊困难老年人探访关爱服务工作进展情况报告") || !strings.Contains(page, `name="text_difficulties"`) {
		t.Fatalf("written page: %.300s", page)
	}
	resp, body = b.post("/reports/written", url.Values{"csrf": {csrf[1]}, "area_code": {haizhouCode}, "period": {"2026-11"}, "version": {"0"},
		"text_intro": {"今年以来，全区稳步推进探访关爱工作。"}, "text_plans": {"下一步加强培训。"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "已保存") || !strings.Contains(body, "今年以来，全区稳步推进探访关爱工作。") {
		t.Errorf("save written: %d", resp.StatusCode)
	}
	resp, body = b.post("/reports/written", url.Values{"csrf": {csrf[1]}, "area_code": {haizhouCode}, "period": {"2026-11"}, "version": {"0"}, "text_intro": {"旧稿"}})
	if resp.StatusCode != 409 || !strings.Contains(body, "已被他人修改") {
		t.Errorf("stale save: %d", resp.StatusCode)
	}
	st, typ, raw := e.fetch("/api/v1/reports/written.docx?area_code="+haizhouCode+"&period=2026-11", e.login("haizhou"))
	if st != 200 || !strings.Contains(typ, "wordprocessingml") || !bytes.HasPrefix(raw, []byte("PK")) {
		t.Errorf("docx: %d %s", st, typ)
	}
	var wr reports.Written
	if st := e.do("PUT", "/api/v1/reports/written", e.login("haizhou"), map[string]any{"area_code": haizhouCode, "period": "2026-11", "version": 1,
		"sections": map[string]string{"difficulties": "部分村人手紧张。"}}, &wr); st != 200 || wr.Version != 2 || wr.Sections[0].Text != "今年以来，全区稳步推进探访关爱工作。" {
		t.Errorf("PUT written: %d %+v", st, wr)
	}
	if st := e.do("GET", "/api/v1/reports/written?area_code="+xinbaCode+"&period=2026-11", e.login("haizhou"), nil, nil); st != 422 {
		t.Errorf("a town's written report: %d", st)
	}
}

// R-OBJ-3: a closed month keeps its figures; a visit recorded late for it
// shows as a correction, on the page, in the JSON and in the workbook.
func testCloseAndCorrectAPI(t *testing.T, e *env, w *reportstest.World) {
	county := e.login("haizhou")
	var closed reports.Report
	if st := e.do("POST", "/api/v1/reports/close", county, map[string]string{"area_code": haizhouCode, "period": "2026-11"}, &closed); st != 201 || closed.Closed == nil {
		t.Fatalf("close: %d", st)
	}
	var eb errBody
	if st := e.do("POST", "/api/v1/reports/close", county, map[string]string{"area_code": haizhouCode, "period": "2026-11"}, &eb); st != 409 || eb.Error.Code != "conflict" {
		t.Errorf("second close: %d %+v", st, eb)
	}
	if st := e.do("POST", "/api/v1/reports/close", county, map[string]string{"area_code": haizhouCode, "period": "2026-12"}, &eb); st != 422 || eb.Error.Field != "period" {
		t.Errorf("closing a running month: %d %+v", st, eb)
	}
	if st := e.do("POST", "/api/v1/reports/close", county, map[string]string{"area_code": haizhouCode, "period": "2026-11", "month": "x"}, &eb); st != 422 || eb.Error.Field != "month" {
		t.Errorf("unknown field: %d %+v", st, eb)
	}

	// A home visit on 20 November to an elder never reached that month,
	// recorded now: the plan's rollups take it as visits do.
	ctx := context.Background()
	var elder int64
	lo, hi := store.PrefixRange("320706")
	if err := e.DB.QueryRow(ctx, `SELECT MIN(elder_id) FROM plan_months WHERE month = '2026-11' AND in_scope = 1 AND contacted = 0
		AND area_code >= ? AND area_code < ?`, lo, hi).Scan(&elder); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 15, 0, 0, 0, age.Shanghai)
	if err := e.DB.InTx(ctx, func(tx *store.Tx) error {
		return plan.ApplyContact(ctx, tx, elder, schedule.Contact{At: at, Mode: schedule.ModeHome, Outcome: schedule.OutcomeDone, Late: true})
	}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Hour)
	county = e.login("haizhou") // the session idled out

	var r reports.Report
	if st := e.do("GET", "/api/v1/reports?area_code="+haizhouCode+"&period=2026-11", county, nil, &r); st != 200 {
		t.Fatalf("report: %d", st)
	}
	if r.Months[0].Contacted != closed.Months[0].Contacted || r.Closed == nil {
		t.Errorf("the closed figure changed: %d, reported %d", r.Months[0].Contacted, closed.Months[0].Contacted)
	}
	var c *reports.Correction
	for i := range r.Corrections {
		if r.Corrections[i].Item == "month.2026-11.contacted" {
			c = &r.Corrections[i]
		}
	}
	if c == nil || c.Reported != closed.Months[0].Contacted || c.Value != c.Reported+1 || !c.FoundAt.Equal(e.Clock.Now()) {
		t.Fatalf("corrections %+v", r.Corrections)
	}
	page := e.browser("haizhou").get("/reports?area_code=" + haizhouCode + "&period=2026-11")
	row := regexp.MustCompile(`(?s)<tr data-item="month.2026-11.contacted"><th scope="row">[^<]*</th><td>(\d+)</td><td>(\d+)</td><td><strong>(\d+)</strong>`).FindStringSubmatch(page)
	if !strings.Contains(page, `id="closed"`) || !strings.Contains(page, `id="corrections"`) || row == nil ||
		row[1] != strconv.Itoa(c.Reported) || row[3] != strconv.Itoa(c.Value) || !strings.Contains(page, "更正为 "+strconv.Itoa(c.Value)) {
		t.Errorf("the page does not show the correction: %v", row)
	}
	_, _, raw := e.fetch("/api/v1/reports/monthly.xlsx?area_code="+haizhouCode+"&month=2026-11", county)
	summary := sheet(t, raw, reports.SheetSummary)
	if summary["2026年11月已探访人数"] != strconv.Itoa(c.Reported) || !strings.HasPrefix(summary["结账状态"], "已结账") {
		t.Errorf("xlsx summary %v", summary)
	}
	corr := sheet(t, raw, reports.SheetCorrections)
	if corr[c.Label] != strconv.Itoa(c.Reported) {
		t.Errorf("xlsx corrections %v", corr)
	}
}
