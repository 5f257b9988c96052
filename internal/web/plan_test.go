package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tanfang/internal/plan"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

const (
	xinbaTown = "320706102000"
	siliCun   = "320706102207" // 四里村, another village of 新坝镇
)

// planElder registers a made-up elder through the registry API and sets
// the class and consent directly (classification is another part's work).
func (e *env) planElder(token, name, area, class string, consent bool, seq int) int64 {
	e.t.Helper()
	var el struct{ ID int64 }
	if st := e.do("POST", "/api/v1/elders", token, map[string]any{"name": name, "id_number": madeUpID("1941-03-04", true, seq), "area_code": area}, &el); st != 201 {
		e.t.Fatalf("create elder: %d", st)
	}
	if _, err := e.DB.Exec(context.Background(), "UPDATE elders SET class = ?, consent_home = ? WHERE id = ?", class, map[bool]int{true: 1}[consent], el.ID); err != nil {
		e.t.Fatal(err)
	}
	return el.ID
}

type visitorOut struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	KindLabel   string `json:"kind_label"`
	PhoneMasked string `json:"phone_masked"`
	AreaCode    string `json:"area_code"`
	Active      bool   `json:"active"`
}

// R-USR-2, R-TEAM-1: visitors, pairing with history, the unpaired list and
// the filing roster, all scoped to the caller's area.
func TestVisitorsAndPairingAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		village, town, lianyun, visitor := e.login("xinbacun"), e.login("xinba"), e.login("lianyun"), e.login("visitor1")
		var v1, v2 visitorOut
		if st := e.do("POST", "/api/v1/visitors", village, map[string]any{"name": "王建国", "phone": "139-1234-5678", "area_code": xinbacun, "kind": "village_cadre"}, &v1); st != 201 ||
			v1.ID == 0 || v1.PhoneMasked != "139****5678" || v1.KindLabel != "村居干部" || !v1.Active {
			t.Fatalf("create visitor: %d %+v", st, v1)
		}
		var eb errBody
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"name": "甲", "phone": "13900000001", "area_code": xinbacun}, "kind"},
			{map[string]any{"name": "甲", "phone": "123", "area_code": xinbacun, "kind": "volunteer"}, "phone"},
			{map[string]any{"phone": "13900000001", "area_code": xinbacun, "kind": "volunteer"}, "name"},
			{map[string]any{"name": "甲", "phone": "13900000001", "area_code": siliCun, "kind": "volunteer"}, "area_code"}, // outside the village
		} {
			if st := e.do("POST", "/api/v1/visitors", village, c.body, &eb); st != 422 || eb.Error.Field != c.field || !regexp.MustCompile(`\p{Han}`).MatchString(eb.Error.Message) {
				t.Errorf("%v: %d %+v, want 422 on %s in Chinese", c.body, st, eb, c.field)
			}
		}
		if st := e.do("POST", "/api/v1/visitors", village, map[string]any{"name": "重复", "phone": "13912345678", "area_code": xinbacun, "kind": "volunteer"}, &eb); st != 409 {
			t.Errorf("same phone twice: %d", st)
		}
		if st := e.do("POST", "/api/v1/visitors", visitor, map[string]any{"name": "甲", "phone": "13900000001", "area_code": xinbacun, "kind": "volunteer"}, &eb); st != 403 {
			t.Errorf("a visitor registers visitors: %d", st)
		}
		if st := e.do("POST", "/api/v1/visitors", town, map[string]any{"name": "赵敏", "phone": "13900002222", "area_code": siliCun, "kind": "grid_worker"}, &v2); st != 201 {
			t.Fatalf("town registers in another village: %d", st)
		}
		var list struct{ Items []visitorOut }
		if st := e.do("GET", "/api/v1/visitors?area_code="+xinbaTown, town, nil, &list); st != 200 || len(list.Items) != 2 {
			t.Errorf("town list: %d %+v", st, list)
		}
		if st := e.do("GET", "/api/v1/visitors", village, nil, &list); st != 200 || len(list.Items) != 1 {
			t.Errorf("village list: %d %+v", st, list)
		}
		vpath := fmt.Sprintf("/api/v1/visitors/%d", v1.ID)
		for _, m := range []string{"GET", "PATCH"} {
			if st := e.do(m, vpath, lianyun, map[string]any{"title": "x"}, nil); st != 404 {
				t.Errorf("%s from another county: %d", m, st)
			}
		}
		if st := e.do("GET", fmt.Sprintf("/api/v1/visitors/%d", v2.ID), village, nil, nil); st != 404 {
			t.Errorf("village reads the other village's visitor: %d", st)
		}
		if st := e.do("PATCH", vpath, village, map[string]any{"title": "村委委员", "unit": "新坝村委会"}, &v1); st != 200 {
			t.Errorf("patch: %d", st)
		}

		a := e.planElder(village, "张三明", xinbacun, "A", true, 11)
		b := e.planElder(town, "李四", siliCun, "B", true, 12)
		var p struct {
			ID        int64  `json:"id"`
			VisitorID int64  `json:"visitor_id"`
			Role      string `json:"role"`
		}
		epath := fmt.Sprintf("/api/v1/elders/%d/visitor", a)
		if st := e.do("PUT", epath, village, map[string]any{"visitor_id": v1.ID}, &p); st != 200 || p.VisitorID != v1.ID || p.Role != "primary" {
			t.Fatalf("pair: %d %+v", st, p)
		}
		if st := e.do("PUT", epath, lianyun, map[string]any{"visitor_id": v1.ID}, &eb); st != 404 {
			t.Errorf("pair from another county: %d", st)
		}
		if st := e.do("PUT", epath, village, map[string]any{"visitor_id": v2.ID}, &eb); st != 422 || eb.Error.Field != "visitor_id" {
			t.Errorf("pair with a visitor outside the village: %d %+v", st, eb)
		}
		if st := e.do("PUT", epath, visitor, map[string]any{"visitor_id": v1.ID}, &eb); st != 403 {
			t.Errorf("a visitor pairs: %d", st)
		}
		if st := e.do("PUT", epath, town, map[string]any{"visitor_id": v2.ID, "reason": "原探访人员外出务工"}, &p); st != 200 || p.VisitorID != v2.ID {
			t.Fatalf("re-pair: %d %+v", st, p)
		}
		var hist struct {
			Items []struct {
				VisitorID int64      `json:"visitor_id"`
				StartedBy string     `json:"started_by"`
				EndedAt   *time.Time `json:"ended_at"`
				EndedBy   string     `json:"ended_by"`
				EndReason string     `json:"end_reason"`
			}
		}
		if st := e.do("GET", fmt.Sprintf("/api/v1/elders/%d/pairings", a), village, nil, &hist); st != 200 || len(hist.Items) != 2 {
			t.Fatalf("history: %d %+v", st, hist)
		}
		if h := hist.Items[0]; h.VisitorID != v1.ID || h.StartedBy != "xinbacun" || h.EndedAt == nil || h.EndedBy != "xinba" || h.EndReason != "原探访人员外出务工" {
			t.Errorf("first pairing %+v", h)
		}
		if h := hist.Items[1]; h.VisitorID != v2.ID || h.EndedAt != nil {
			t.Errorf("current pairing %+v", h)
		}
		if st := e.do("GET", fmt.Sprintf("/api/v1/elders/%d/pairings", a), lianyun, nil, nil); st != 404 {
			t.Errorf("history from another county: %d", st)
		}

		var un struct {
			Total int
			Items []struct {
				ID         int64  `json:"id"`
				NameMasked string `json:"name_masked"`
			}
		}
		if st := e.do("GET", "/api/v1/elders/unpaired?area_code="+xinbaTown, town, nil, &un); st != 200 || un.Total != 1 || un.Items[0].ID != b || un.Items[0].NameMasked != "李*" {
			t.Errorf("unpaired: %d %+v", st, un)
		}
		if st := e.do("GET", "/api/v1/elders/unpaired?area_code="+xinbaTown, village, nil, nil); st != 404 {
			t.Errorf("village asks for the town: %d", st)
		}

		// The county filing roster.
		req, _ := http.NewRequest("GET", e.Srv.URL+"/api/v1/exports/pairings.xlsx?area_code="+xinbaTown, nil)
		req.Header.Set("Authorization", "Bearer "+town)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "spreadsheetml") {
			t.Fatalf("roster: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		x, err := excelize.OpenReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := x.GetRows(plan.RosterSheet)
		if len(rows) != 3 || rows[0][4] != "老人姓名" || rows[1][4] != "张*明" || rows[1][8] != "赵敏" || rows[1][12] != "139****2222" || rows[2][4] != "李*" {
			t.Errorf("roster rows %q", rows)
		}
		if panes, err := x.GetPanes(plan.RosterSheet); err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Errorf("roster header not frozen: %+v %v", panes, err)
		}
		if e.count("SELECT COUNT(*) FROM audit_log WHERE action = 'export.pairings'") != 1 {
			t.Error("roster export not audited")
		}

		// Deactivating a visitor ends their pairings.
		if st := e.do("PATCH", fmt.Sprintf("/api/v1/visitors/%d", v2.ID), town, map[string]any{"active": false}, &v2); st != 200 || v2.Active {
			t.Fatalf("deactivate: %d %+v", st, v2)
		}
		if e.do("GET", "/api/v1/elders/unpaired?area_code="+xinbaTown, town, nil, &un); un.Total != 2 {
			t.Errorf("after deactivation unpaired %+v", un)
		}
	})
}

type taskList struct {
	Week  string `json:"week"`
	Items []struct {
		ElderID    int64                `json:"elder_id"`
		NameMasked string               `json:"name_masked"`
		Class      string               `json:"class"`
		Required   schedule.Requirement `json:"required"`
		Done       schedule.Requirement `json:"done"`
		Late       schedule.Requirement `json:"late"`
		Status     string               `json:"status"`
		Notes      []string             `json:"notes"`
		Overdue    bool                 `json:"overdue"`
	} `json:"items"`
}

type complianceOut struct {
	AreaCode string  `json:"area_code"`
	Period   string  `json:"period"`
	InScope  int     `json:"in_scope"`
	Met      int     `json:"met"`
	Rate     float64 `json:"rate"`
	Missed   int     `json:"missed"`
	Partial  int     `json:"partial"`
	ByClass  map[string]struct {
		InScope int     `json:"in_scope"`
		Met     int     `json:"met"`
		Rate    float64 `json:"rate"`
	} `json:"by_class"`
	MonthlyVisitRate *float64 `json:"monthly_visit_rate"`
	Children         []struct {
		AreaCode string `json:"area_code"`
		InScope  int    `json:"in_scope"`
		Met      int    `json:"met"`
	} `json:"children"`
}

// apply records a contact the way the visit-recording code does.
func (e *env) apply(elderID int64, at time.Time, m schedule.Mode, late bool) {
	e.t.Helper()
	c := schedule.Contact{At: at, Mode: m, Outcome: schedule.OutcomeDone, Late: late}
	if err := e.DB.InTx(context.Background(), func(tx *store.Tx) error { return plan.ApplyContact(context.Background(), tx, elderID, c) }); err != nil {
		e.t.Fatal(err)
	}
}

// The contract of GET /api/v1/tasks and GET /api/v1/stats/compliance
// (R-FRQ-1..4, R-OVS-2, DOMAIN §6), with the injected clock: the env's
// clock is Thursday 3 December 2026, 10:00 in Shanghai (2026-W49).
func TestTasksAndComplianceAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		village, town, lianyun, visitor := e.login("xinbacun"), e.login("xinba"), e.login("lianyun"), e.login("visitor1")
		e.visitorRow(visitor)
		var mine struct{ Items []visitorOut }
		e.do("GET", "/api/v1/visitors", village, nil, &mine)
		vid := mine.Items[0].ID
		var other visitorOut
		e.do("POST", "/api/v1/visitors", village, map[string]any{"name": "赵敏", "phone": "13900002222", "area_code": xinbacun, "kind": "volunteer"}, &other)
		a := e.planElder(village, "张三明", xinbacun, "A", false, 21)
		c := e.planElder(village, "王五", xinbacun, "C", true, 22)
		b := e.planElder(town, "李四", siliCun, "B", true, 23)
		for _, id := range []int64{c, a} {
			e.do("PUT", fmt.Sprintf("/api/v1/elders/%d/visitor", id), village, map[string]any{"visitor_id": vid}, nil)
		}
		e.do("PUT", fmt.Sprintf("/api/v1/elders/%d/visitor", b), town, map[string]any{"visitor_id": other.ID}, nil)

		var tl taskList
		if st := e.do("GET", "/api/v1/tasks", visitor, nil, &tl); st != 200 || tl.Week != "2026-W49" || len(tl.Items) != 2 {
			t.Fatalf("own tasks: %d %+v", st, tl)
		}
		ta := tl.Items[0]
		if ta.ElderID != a || ta.NameMasked != "张*明" || ta.Class != "A" || ta.Required != (schedule.Requirement{Call: 4}) || ta.Status != "pending" ||
			len(ta.Notes) != 1 || ta.Notes[0] != "未同意上门探访，上门改为电话" {
			t.Errorf("class A first, calls instead of home visits: %+v", ta)
		}
		var eb errBody
		if st := e.do("GET", fmt.Sprintf("/api/v1/tasks?visitor_id=%d", other.ID), visitor, nil, &eb); st != 404 {
			t.Errorf("a visitor reads another's tasks: %d", st)
		}
		if st := e.do("GET", "/api/v1/tasks", village, nil, &eb); st != 422 || eb.Error.Field != "visitor_id" {
			t.Errorf("government account without visitor_id: %d %+v", st, eb)
		}
		if st := e.do("GET", fmt.Sprintf("/api/v1/tasks?visitor_id=%d&week=2026-W49", vid), town, nil, &tl); st != 200 || len(tl.Items) != 2 {
			t.Errorf("town reads the visitor's tasks: %d", st)
		}
		if st := e.do("GET", fmt.Sprintf("/api/v1/tasks?visitor_id=%d", vid), lianyun, nil, nil); st != 404 {
			t.Errorf("another county reads the tasks: %d", st)
		}
		if st := e.do("GET", "/api/v1/tasks?week=2026-W54", visitor, &eb, &eb); st != 422 || eb.Error.Field != "week" {
			t.Errorf("week 54: %d %+v", st, eb)
		}

		// Calls for A on three days (twice on one), a call for C, nothing for B.
		day := func(s string) time.Time {
			v, _ := time.ParseInLocation("2006-01-02 15:04", s, time.FixedZone("CST", 8*3600))
			return v
		}
		for _, at := range []string{"2026-11-30 09:00", "2026-11-30 18:00", "2026-12-01 09:00", "2026-12-02 09:00"} {
			e.apply(a, day(at), schedule.ModePhone, false)
		}
		e.apply(c, day("2026-12-01 10:00"), schedule.ModeVideo, false)
		e.do("GET", "/api/v1/tasks", visitor, nil, &tl)
		if tl.Items[0].Done != (schedule.Requirement{Call: 3}) || tl.Items[0].Status != "pending" || tl.Items[1].Status != "met" {
			t.Errorf("after contacts %+v", tl.Items)
		}

		var co complianceOut
		if st := e.do("GET", "/api/v1/stats/compliance?area_code="+xinbaTown+"&week=2026-W49", town, nil, &co); st != 200 ||
			co.Period != "2026-W49" || co.InScope != 3 || co.Met != 1 || co.Rate != 0.3333 || co.ByClass["C"].Rate != 1 || co.ByClass["A"].Met != 0 || len(co.Children) < 2 {
			t.Errorf("town compliance: %d %+v", st, co)
		}
		if st := e.do("GET", "/api/v1/stats/compliance?area_code="+xinbaTown, lianyun, nil, nil); st != 404 {
			t.Errorf("compliance from another county: %d", st)
		}
		if st := e.do("GET", "/api/v1/stats/compliance?week=2026-W49&month=2026-12", town, nil, &eb); st != 422 {
			t.Errorf("week and month: %d", st)
		}

		// Sunday 24:00 Shanghai passes: the week is over.
		e.Clock.Advance(day("2026-12-07 00:00").Sub(e.Clock.Now()))
		visitor = e.login("visitor1")
		e.do("GET", "/api/v1/tasks?week=2026-W49", visitor, nil, &tl)
		if tl.Items[0].Status != "partial" || !tl.Items[0].Overdue {
			t.Errorf("A after the week %+v", tl.Items[0])
		}
		// A late record for the past week counts as late, never on time.
		e.apply(a, day("2026-12-03 09:00"), schedule.ModePhone, true)
		e.do("GET", "/api/v1/tasks?week=2026-W49", visitor, nil, &tl)
		if tl.Items[0].Status != "partial" || tl.Items[0].Late != (schedule.Requirement{Call: 1}) || tl.Items[0].Done != (schedule.Requirement{Call: 4}) {
			t.Errorf("A after a late record %+v", tl.Items[0])
		}
		town = e.login("xinba")
		e.do("GET", "/api/v1/stats/compliance?area_code="+xinbaTown+"&week=2026-W49", town, nil, &co)
		if co.Met != 1 || co.Partial != 1 || co.Missed != 1 {
			t.Errorf("after the week: %+v", co)
		}
		if st := e.do("GET", "/api/v1/stats/compliance?area_code="+xinbaTown+"&month=2026-12", town, nil, &co); st != 200 || co.Period != "2026-12" ||
			co.MonthlyVisitRate == nil || *co.MonthlyVisitRate != 0.6667 {
			t.Errorf("month: %d %+v", st, co)
		}
		var vc complianceOut
		if st := e.do("GET", "/api/v1/stats/compliance?week=2026-W49", visitor, nil, &vc); st != 200 || vc.InScope != 2 || vc.Met != 1 {
			t.Errorf("visitor's own compliance: %d %+v", st, vc)
		}
	})
}

// R-FRQ-5, R-EMG-2, R-EMG-3: campaigns are the county's and city's; their
// progress counts who was reached in time.
func TestCampaignAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		county, village, lianyun := e.login("haizhou"), e.login("xinbacun"), e.login("lianyun")
		a := e.planElder(village, "张三明", xinbacun, "A", true, 31)
		e.planElder(village, "王五", xinbacun, "A", true, 32)
		e.planElder(village, "赵六", xinbacun, "C", true, 33)
		body := map[string]any{"name": "寒潮橙色预警", "area_code": xinbaTown, "classes": []string{"A"}, "deadline_hours": 12,
			"starts_on": "2026-12-03", "ends_on": "2026-12-05", "add": map[string]int{"call": 1}}
		var eb errBody
		if st := e.do("POST", "/api/v1/campaigns", village, body, &eb); st != 403 {
			t.Errorf("village creates a campaign: %d", st)
		}
		var cp struct {
			ID       int64 `json:"id"`
			Deadline struct {
				Due time.Time `json:"due"`
			} `json:"deadline"`
		}
		if st := e.do("POST", "/api/v1/campaigns", county, body, &cp); st != 201 || cp.ID == 0 || !cp.Deadline.Due.Equal(e.Clock.Now().Add(12*time.Hour)) {
			t.Fatalf("create: %d %+v", st, cp)
		}
		bad := map[string]any{"name": "x", "area_code": xinbaTown, "deadline_hours": 500}
		if st := e.do("POST", "/api/v1/campaigns", county, bad, &eb); st != 422 || eb.Error.Field != "deadline_hours" {
			t.Errorf("bad hours: %d %+v", st, eb)
		}
		e.apply(a, e.Clock.Now().Add(time.Hour), schedule.ModePhone, false)
		var got struct {
			Progress struct {
				Deadline struct {
					InScope int `json:"in_scope"`
					Met     int `json:"met"`
					Pending int `json:"pending"`
					Overdue int `json:"overdue"`
				} `json:"deadline"`
				Unreached []struct{ ID int64 } `json:"unreached"`
			} `json:"progress"`
		}
		path := fmt.Sprintf("/api/v1/campaigns/%d", cp.ID)
		if st := e.do("GET", path, village, nil, &got); st != 200 || got.Progress.Deadline.InScope != 2 || got.Progress.Deadline.Met != 1 ||
			got.Progress.Deadline.Pending != 1 || len(got.Progress.Unreached) != 1 {
			t.Errorf("progress: %d %+v", st, got)
		}
		if st := e.do("GET", path, lianyun, nil, nil); st != 404 {
			t.Errorf("another county reads the campaign: %d", st)
		}
		var ew struct {
			Required schedule.Requirement `json:"required"`
			Notes    []string             `json:"notes"`
		}
		if st := e.do("GET", fmt.Sprintf("/api/v1/elders/%d/week", a), village, nil, &ew); st != 200 || ew.Required != (schedule.Requirement{Home: 2, Call: 3}) {
			t.Errorf("raised week: %d %+v", st, ew)
		}
		var rules struct {
			Custom bool `json:"custom"`
		}
		if st := e.do("GET", "/api/v1/plan-rules/320706000000", county, nil, &rules); st != 200 || rules.Custom {
			t.Errorf("rules: %d %+v", st, rules)
		}
		r := schedule.DefaultRules()
		r.PerClass["C"] = schedule.Requirement{Call: 2}
		if st := e.do("PUT", "/api/v1/plan-rules/320706000000", village, r, nil); st != 404 {
			t.Errorf("village sets county rules: %d", st)
		}
		if st := e.do("PUT", "/api/v1/plan-rules/320706000000", county, r, &rules); st != 200 || !rules.Custom {
			t.Errorf("county sets rules: %d", st)
		}
	})
}

// The pages: 我的任务 on a visitor's phone, the compliance table with links
// down, visitors and pairing from the elder's page, the roster download.
func TestPlanPages(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	village := e.login("xinbacun")
	e.visitorRow(e.login("visitor1"))
	a := e.planElder(village, "张三明", xinbacun, "A", false, 41)
	var mine struct{ Items []visitorOut }
	e.do("GET", "/api/v1/visitors", village, nil, &mine)
	e.do("PUT", fmt.Sprintf("/api/v1/elders/%d/visitor", a), village, map[string]any{"visitor_id": mine.Items[0].ID}, nil)

	vb := e.browser("visitor1")
	page := vb.get("/tasks")
	for _, want := range []string{"我的任务", "张*明", "A类", "未同意上门探访，上门改为电话", "还需：电话4次",
		fmt.Sprintf(`href="/visits/new?elder_id=%d"`, a), fmt.Sprintf(`href="/elders/%d"`, a)} {
		if !strings.Contains(page, want) {
			t.Errorf("/tasks lacks %q", want)
		}
	}
	// Next week the missed week shows on top, in red.
	e.Clock.Advance(4 * 24 * time.Hour)
	vb = e.browser("visitor1")
	if page := vb.get("/tasks"); !strings.Contains(page, `id="overdue"`) || !strings.Contains(page, "上周未完成（1人）") {
		t.Errorf("/tasks next week lacks last week's missed elder")
	}

	tb := e.browser("xinba")
	page = tb.get("/compliance?week=2026-W49")
	for _, want := range []string{"新坝镇 · 探访达标情况", `id="compliance-children"`, "/compliance?area_code=" + xinbacun + "&amp;week=2026-W49", "0.0%"} {
		if !strings.Contains(page, want) {
			t.Errorf("/compliance lacks %q", want)
		}
	}
	if page := tb.get("/compliance?month=2026-12"); !strings.Contains(page, `id="monthly-rate"`) {
		t.Error("/compliance by month lacks the monthly visit rate")
	}

	vil := e.browser("xinbacun")
	page = vil.get(fmt.Sprintf("/elders/%d", a))
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	if !strings.Contains(page, "结对探访人员：<strong>测试探访员</strong>") || !strings.Contains(page, `id="pair-form"`) {
		t.Errorf("elder page lacks the pairing block")
	}
	resp, _ := vil.post("/visitors", url.Values{"csrf": {csrf}, "name": {"赵敏"}, "phone": {"13900002222"}, "area_code": {xinbacun}, "kind": {"grid_worker"}})
	if resp.StatusCode != 200 || !strings.Contains(resp.Request.URL.RawQuery, "flash") {
		t.Fatalf("register a visitor from the page: %d %s", resp.StatusCode, resp.Request.URL)
	}
	village = e.login("xinbacun") // the first session idled out over the days
	e.do("GET", "/api/v1/visitors", village, nil, &mine)
	if _, body := vil.post(fmt.Sprintf("/elders/%d/visitor", a), url.Values{"csrf": {csrf}, "visitor_id": {fmt.Sprint(mine.Items[1].ID)}, "role": {"backup"}}); !strings.Contains(body, "备岗探访人员：<strong>赵敏</strong>") {
		t.Errorf("pairing form did not add the backup")
	}
	if page := vil.get("/visitors"); !strings.Contains(page, "赵敏") || !strings.Contains(page, "139****2222") {
		t.Errorf("/visitors lacks the new visitor")
	}
	resp, err := vil.cl.Get(e.Srv.URL + "/visitors/roster.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("roster download from the page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if page := vb.get("/visitors"); !strings.Contains(page, "无权") {
		t.Errorf("a visitor opens /visitors")
	}
}
