package web_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/plan"
	"tanfang/internal/policy/assess"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

type reasonJSON struct{ Rule, Text string }

// classedElder is the class part of the elder resource.
type classedElder struct {
	ID                   int64        `json:"id"`
	Version              int          `json:"version"`
	Class                string       `json:"class"`
	ClassReasons         []reasonJSON `json:"class_reasons"`
	ClassComputed        string       `json:"class_computed"`
	ClassOverrideReason  string       `json:"class_override_reason"`
	OverrideReviewNeeded bool         `json:"override_review_needed"`
}

func (c classedElder) rules() string {
	var ids []string
	for _, r := range c.ClassReasons {
		ids = append(ids, r.Rule)
	}
	return strings.Join(ids, ",")
}

const xinbacun = "320706102206" // 海州区 › 新坝镇 › 新坝村, the test accounts' village

// newElder registers a file through the API with the facts in extra.
func (e *env) newElder(token, name, birth string, female bool, seq int, extra map[string]any) classedElder {
	e.t.Helper()
	body := map[string]any{"name": name, "id_number": madeUpID(birth, female, seq), "area_code": xinbacun}
	for k, v := range extra {
		body[k] = v
	}
	var out classedElder
	if st := e.do("POST", "/api/v1/elders", token, body, &out); st != 201 {
		e.t.Fatalf("create %s: %d", name, st)
	}
	return out
}

func (e *env) elder(token string, id int64) classedElder {
	e.t.Helper()
	var out classedElder
	if st := e.do("GET", fmt.Sprintf("/api/v1/elders/%d", id), token, nil, &out); st != 200 {
		e.t.Fatalf("get elder %d: %d", id, st)
	}
	return out
}

func (e *env) patchElder(token string, id int64, fields map[string]any) classedElder {
	e.t.Helper()
	cur := e.elder(token, id)
	body := map[string]any{"version": cur.Version, "reason": "核实更正"}
	for k, v := range fields {
		body[k] = v
	}
	var out classedElder
	if st := e.do("PATCH", fmt.Sprintf("/api/v1/elders/%d", id), token, body, &out); st != 200 {
		e.t.Fatalf("patch elder %d: %d", id, st)
	}
	return out
}

// abilityItems gives all 26 items scores summing to total, lowering items
// from their maximum in catalogue order.
func abilityItems(total int) map[string]int {
	out := map[string]int{}
	sum := 0
	for _, it := range assess.Items() {
		out[it.Code] = it.Max
		sum += it.Max
	}
	for _, it := range assess.Items() {
		for out[it.Code] > 0 && sum > total {
			out[it.Code]--
			sum--
		}
	}
	return out
}

type classDetail struct {
	Class     string       `json:"class"`
	Computed  string       `json:"computed"`
	Reasons   []reasonJSON `json:"reasons"`
	NextCheck string       `json:"next_check"`
	Basis     struct {
		PartnerID   int64  `json:"partner_id"`
		PartnerFrom string `json:"partner_condition_from"`
	} `json:"basis"`
	Override *struct {
		Class        string `json:"class"`
		ReviewNeeded bool   `json:"review_needed"`
	} `json:"override"`
	History []struct {
		Cause    string `json:"cause"`
		OldClass string `json:"old_class"`
		NewClass string `json:"new_class"`
	} `json:"history"`
}

func (e *env) classDetail(token string, id int64) classDetail {
	e.t.Helper()
	var d classDetail
	if st := e.do("GET", fmt.Sprintf("/api/v1/elders/%d/class", id), token, nil, &d); st != 200 {
		e.t.Fatalf("class of %d: %d", id, st)
	}
	return d
}

type notice struct {
	Channel       string
	UserID        int64
	Area, Role    string
	Subject, Body string
}

// notices are the class-change rows the outbox holds for an elder.
func notices(t *testing.T, db *store.DB, elderID int64, kind string) []notice {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT channel, COALESCE(user_id, 0), area_code, role, subject, body
		FROM outbox WHERE ref_type = 'elder' AND ref_id = ? AND kind = ? ORDER BY id`, elderID, kind)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []notice
	for rows.Next() {
		var n notice
		if err := rows.Scan(&n.Channel, &n.UserID, &n.Area, &n.Role, &n.Subject, &n.Body); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// The stored side of R-CLS-1..4 and DOMAIN §1 through the API, on both
// databases. The scenarios share one server (each with its own elders in
// the same village); the birthday scenario moves the clock, so it runs last.
func TestClasses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for _, sc := range []struct {
			name string
			fn   func(*testing.T, *env)
		}{
			{"override", testOverride},
			{"couple with a disabled partner", testCoupleWithDisabledPartner},
			{"county C rules", testCountyClassRules},
			{"assessments", testAssessmentAPI},
			{"80th birthday through the daily job", testAgeCrossingOnBirthday},
		} {
			if !t.Run(sc.name, func(t *testing.T) { e.t = t; sc.fn(t, e) }) {
				return
			}
		}
	})
}

// R-CLS-4, R-CLS-1 A1: an elder living alone is class C (60–79) until the
// day before the 80th birthday and class A from the birthday on, through
// the daily job on an injected clock; the paired visitor is told.
func testAgeCrossingOnBirthday(t *testing.T, e *env) {
	db := e.DB
	ctx := context.Background()
	village := e.login("xinbacun")
	// The clock starts on 2026-12-03, Shanghai: she turns 80 on the 5th.
	el := e.newElder(village, "独居测", "1946-12-05", true, 11, map[string]any{"living_situation": "alone", "body_conditions": []string{"self_care"}})
	if el.Class != "C" || el.rules() != "C2" {
		t.Fatalf("at 79 living alone: class %q reasons %v, want C by C2", el.Class, el.ClassReasons)
	}
	if d := e.classDetail(village, el.ID); d.NextCheck != "2026-12-05" {
		t.Fatalf("next check %q, want the 80th birthday", d.NextCheck)
	}

	var visitorUser int64
	if err := db.QueryRow(ctx, "SELECT id FROM users WHERE username = 'visitor1'").Scan(&visitorUser); err != nil {
		t.Fatal(err)
	}
	ps := &plan.Service{DB: db, Keys: e.API.Keys, Now: e.Clock.Now}
	sc := areas.ScopeOf(areas.Area{Code: xinbacun, Level: areas.Village})
	v, err := ps.CreateVisitor(ctx, sc, audit.Entry{Actor: "test"}, plan.VisitorInput{Name: "探访员", Phone: "13900001111",
		AreaCode: xinbacun, Kind: "village_cadre", UserID: &visitorUser})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Pair(ctx, sc, audit.Entry{Actor: "test"}, el.ID, v.ID, plan.RolePrimary, ""); err != nil {
		t.Fatal(err)
	}

	// 2026-12-04 23:59 in Shanghai: the day before the birthday.
	e.Clock.Advance(time.Date(2026, 12, 4, 15, 59, 0, 0, time.UTC).Sub(e.Clock.Now()))
	if ap, err := e.API.Classes.RunDaily(ctx, e.Clock.Now()); err != nil || ap.Changed != 0 {
		t.Fatalf("day before: %+v %v", ap, err)
	}
	village = e.login("xinbacun") // the session idled out over the days
	if got := e.elder(village, el.ID); got.Class != "C" {
		t.Fatalf("day before the 80th birthday: class %q", got.Class)
	}
	// 00:01 on the birthday.
	e.Clock.Advance(2 * time.Minute)
	if ap, err := e.API.Classes.RunDaily(ctx, e.Clock.Now()); err != nil || ap.Changed != 1 {
		t.Fatalf("birthday: %+v %v", ap, err)
	}
	got := e.elder(village, el.ID)
	if got.Class != "A" || got.rules() != "A1" || !strings.Contains(got.ClassReasons[0].Text, "(80周岁)") {
		t.Fatalf("on the 80th birthday: class %q reasons %v, want A by A1 naming 80周岁", got.Class, got.ClassReasons)
	}
	d := e.classDetail(village, el.ID)
	if h := d.History[0]; h.Cause != "daily" || h.OldClass != "C" || h.NewClass != "A" {
		t.Fatalf("history %+v", d.History)
	}
	ns := notices(t, db, el.ID, "class.changed")
	if len(ns) != 1 || ns[0].Channel != "inbox" || ns[0].UserID != visitorUser {
		t.Fatalf("notices %+v, want one to the paired visitor's inbox", ns)
	}
	if n := ns[0]; !strings.Contains(n.Body, "独*测") || strings.Contains(n.Body, "独居测") || !strings.Contains(n.Body, "C类调整为A类") {
		t.Fatalf("notice text %q", n.Body)
	}
	// A second run the same day changes nothing.
	if ap, err := e.API.Classes.RunDaily(ctx, e.Clock.Now()); err != nil || ap.Reclassified != 0 {
		t.Fatalf("second run: %+v %v", ap, err)
	}
}

// R-CLS-2 B2: two elders living together where only the partner is
// disabled. The healthy one is class B through the partner's own file, and
// changes of the partner's file (an edit, an assessment) reclassify both.
func testCoupleWithDisabledPartner(t *testing.T, e *env) {
	village := e.login("xinbacun")
	him := e.newElder(village, "老伴甲", "1951-03-02", false, 21, map[string]any{"living_situation": "empty_nest", "body_conditions": []string{"self_care"}})
	if him.Class != "C" || him.rules() != "C1" {
		t.Fatalf("healthy, empty nest, 75: %q %v", him.Class, him.ClassReasons)
	}
	her := e.newElder(village, "老伴乙", "1952-06-07", true, 22, map[string]any{"living_situation": "empty_nest",
		"body_conditions": []string{"disabled"}, "household_with": him.ID})
	if her.Class != "B" || her.rules() != "B2" || !strings.Contains(her.ClassReasons[0].Text, "本人失能") {
		t.Fatalf("disabled wife: %q %v", her.Class, her.ClassReasons)
	}
	got := e.elder(village, him.ID)
	if got.Class != "B" || got.rules() != "B2" || !strings.Contains(got.ClassReasons[0].Text, "老伴失能") {
		t.Fatalf("husband after his wife's file: %q %v, want B by B2 naming 老伴失能", got.Class, got.ClassReasons)
	}
	d := e.classDetail(village, him.ID)
	if d.Basis.PartnerID != her.ID || d.Basis.PartnerFrom != "partner_file" || d.History[0].Cause != "partner" {
		t.Fatalf("basis %+v history %+v", d.Basis, d.History)
	}

	// She recovers: both return to C.
	e.patchElder(village, her.ID, map[string]any{"body_conditions": []string{"self_care"}})
	if got := e.elder(village, him.ID); got.Class != "C" {
		t.Fatalf("husband after she recovered: %q %v", got.Class, got.ClassReasons)
	}
	// A new assessment of hers below 65 (半失能 by 16号) makes him B again.
	var a struct {
		Total, FinalLevel int
		BodyLabel         string `json:"body_label"`
	}
	if st := e.do("POST", fmt.Sprintf("/api/v1/elders/%d/assessments", her.ID), village,
		map[string]any{"items": abilityItems(60)}, &a); st != 201 || a.Total != 60 || a.BodyLabel != "semi_disabled" {
		t.Fatalf("assessment: %d %+v", st, a)
	}
	if got := e.elder(village, him.ID); got.Class != "B" || got.rules() != "B2" {
		t.Fatalf("husband after her assessment: %q %v", got.Class, got.ClassReasons)
	}
	if got := e.elder(village, her.ID); got.Class != "B" || !strings.Contains(got.ClassReasons[0].Text, "能力评估总分60分") {
		t.Fatalf("wife after her assessment: %q %v", got.Class, got.ClassReasons)
	}
	// She leaves the household: he is reclassified without her.
	e.patchElder(village, her.ID, map[string]any{"household_with": 0})
	if got := e.elder(village, him.ID); got.Class != "C" {
		t.Fatalf("husband after she left the household: %q %v", got.Class, got.ClassReasons)
	}
}

// R-CLS: a county account overrides the class with a reason; the computed
// class stays beside it, the override is audited, and a change of facts
// flags it for review.
func testOverride(t *testing.T, e *env) {
	db := e.DB
	ctx := context.Background()
	village, county := e.login("xinbacun"), e.login("haizhou")
	el := e.newElder(village, "调整测", "1955-01-01", false, 31, map[string]any{"living_situation": "alone", "body_conditions": []string{"self_care"}})
	path := fmt.Sprintf("/api/v1/elders/%d/class-override", el.ID)
	var eb errBody
	if st := e.do("POST", path, village, map[string]string{"class": "A", "reason": "村里认为"}, &eb); st != 403 {
		t.Fatalf("village overrides: %d", st)
	}
	if st := e.do("POST", path, county, map[string]string{"class": "A"}, &eb); st != 422 || eb.Error.Field != "reason" {
		t.Fatalf("no reason: %d %+v", st, eb)
	}
	if st := e.do("POST", path, county, map[string]string{"class": "D", "reason": "x"}, &eb); st != 422 || eb.Error.Field != "class" {
		t.Fatalf("bad class: %d %+v", st, eb)
	}
	if st := e.do("POST", path, e.login("lianyun"), map[string]string{"class": "A", "reason": "x"}, &eb); st != 404 {
		t.Fatalf("other county: %d", st)
	}
	if st := e.do("POST", path, county, map[string]string{"class": "A", "reason": "独居且近期多次跌倒，县民政局研究决定"}, nil); st != 200 {
		t.Fatalf("override: %d", st)
	}
	got := e.elder(village, el.ID)
	if got.Class != "A" || got.ClassComputed != "C" || got.ClassOverrideReason == "" || got.rules() != "C2" || got.OverrideReviewNeeded {
		t.Fatalf("after override: %+v", got)
	}
	entries, err := audit.List(ctx, db, audit.Query{TargetType: "elder", TargetID: fmt.Sprint(el.ID)})
	if err != nil {
		t.Fatal(err)
	}
	var overrideAudited bool
	for _, en := range entries {
		overrideAudited = overrideAudited || en.Action == "elder.class_override" && strings.Contains(en.Detail, "computed=C")
	}
	if !overrideAudited {
		t.Fatalf("override not audited: %+v", entries)
	}
	if ns := notices(t, db, el.ID, "class.changed"); len(ns) != 1 || ns[0].Area != xinbacun || ns[0].Role != "village" {
		t.Fatalf("unpaired elder's change goes to the village accounts: %+v", ns)
	}

	// A fact changes: the computed class moves to C→B, the override holds
	// and is flagged for review.
	e.patchElder(village, el.ID, map[string]any{"body_conditions": []string{"severe_illness"}})
	got = e.elder(village, el.ID)
	if got.Class != "A" || got.ClassComputed != "B" || !got.OverrideReviewNeeded {
		t.Fatalf("after a fact change: %+v", got)
	}
	if ns := notices(t, db, el.ID, "class.override_review"); len(ns) != 1 || ns[0].Area != "320706000000" || ns[0].Role != "county" {
		t.Fatalf("review notice %+v", ns)
	}
	// Removing the override returns to the computed class.
	var sm classedElder
	if st := e.do("DELETE", path, county, nil, &sm); st != 200 || sm.Class != "B" || sm.ClassComputed != "" {
		t.Fatalf("remove: %d %+v", st, sm)
	}
	if d := e.classDetail(county, el.ID); d.Override != nil || d.History[0].Cause != "override_removed" {
		t.Fatalf("after removal: %+v", d)
	}
}

// R-CLS-3: a county edits its class C rules; the new version is validated
// with Chinese messages, versioned, applied to the county's elders at once,
// and invisible to another county.
func testCountyClassRules(t *testing.T, e *env) {
	village, county := e.login("xinbacun"), e.login("haizhou")
	el := e.newElder(village, "留守测", "1958-08-08", false, 41, map[string]any{"living_situation": "with_family", "left_behind": true})
	if el.Class != "C" || el.rules() != "C3" {
		t.Fatalf("left behind under the defaults: %q %v", el.Class, el.ClassReasons)
	}
	path := "/api/v1/counties/320706000000/class-rules"
	var cur struct {
		Version int `json:"version"`
		Default bool
		Rules   []map[string]any
	}
	if st := e.do("GET", path, village, nil, &cur); st != 200 || cur.Version != 1 || !cur.Default || len(cur.Rules) != 6 {
		t.Fatalf("defaults as the village sees them: %d %+v", st, cur)
	}
	if st := e.do("GET", path, e.login("lianyun"), nil, nil); st != 404 {
		t.Fatalf("another county reads them: %d", st)
	}
	var kept []map[string]any
	for _, r := range cur.Rules {
		if r["id"] != "C3" {
			kept = append(kept, r)
		}
	}
	if st := e.do("PUT", path, village, map[string]any{"version": 1, "rules": kept}, nil); st != 403 {
		t.Fatalf("village edits: %d", st)
	}
	var eb errBody
	bad := append([]map[string]any{{"id": "X1", "label": "错误编号", "left_behind": true}}, kept...)
	if st := e.do("PUT", path, county, map[string]any{"version": 1, "rules": bad}, &eb); st != 422 || eb.Error.Field != "rules" || !strings.Contains(eb.Error.Message, "以C开头") {
		t.Fatalf("bad rule id: %d %+v", st, eb)
	}
	var saved struct {
		Rules   struct{ Version int }
		Applied struct{ Reclassified, Changed, Pending int }
	}
	if st := e.do("PUT", path, county, map[string]any{"version": 1, "rules": kept, "reason": "留守老人另行关爱"}, &saved); st != 200 ||
		saved.Rules.Version != 2 || saved.Applied.Reclassified < 1 || saved.Applied.Changed != 1 || saved.Applied.Pending != 0 {
		t.Fatalf("save: %d %+v", st, saved)
	}
	if got := e.elder(village, el.ID); got.Class != "none" || got.rules() != "NONE" {
		t.Fatalf("after the county dropped C3: %q %v", got.Class, got.ClassReasons)
	}
	if st := e.do("PUT", path, county, map[string]any{"version": 1, "rules": kept}, &eb); st != 409 || eb.Error.Code != "conflict" {
		t.Fatalf("stale version: %d %+v", st, eb)
	}
	var versions struct{ Items []struct{ Version int } }
	if st := e.do("GET", path+"/versions", county, nil, &versions); st != 200 || len(versions.Items) != 2 || versions.Items[0].Version != 2 {
		t.Fatalf("versions: %d %+v", st, versions)
	}
	// Preview under the county's rules agrees.
	var pv struct{ Class string }
	if st := e.do("POST", "/api/v1/classification/preview", village, map[string]any{"birth_date": "1958-08-08", "as_of": "2026-12-03",
		"living_situation": "with_family", "left_behind": true}, &pv); st != 200 || pv.Class != "none" {
		t.Fatalf("preview under the new rules: %d %+v", st, pv)
	}
}

// DOMAIN §1: an assessment is checked item by item (422 names the item),
// stored with its levels and the settings that applied, and a county's
// setting changes the 16号 label.
func testAssessmentAPI(t *testing.T, e *env) {
	village, county := e.login("xinbacun"), e.login("haizhou")
	el := e.newElder(village, "评估测", "1950-05-05", true, 51, map[string]any{"living_situation": "with_family"})
	path := fmt.Sprintf("/api/v1/elders/%d/assessments", el.ID)
	var eb errBody
	missing := abilityItems(90)
	delete(missing, "B.2.4")
	if st := e.do("POST", path, village, map[string]any{"items": missing}, &eb); st != 422 || eb.Error.Field != "B.2.4" || !strings.Contains(eb.Error.Message, "缺少B.2.4") {
		t.Fatalf("missing item: %d %+v", st, eb)
	}
	over := abilityItems(90)
	over["B.2.4"] = 4 // its range is 0–3
	if st := e.do("POST", path, village, map[string]any{"items": over}, &eb); st != 422 || eb.Error.Field != "B.2.4" || !strings.Contains(eb.Error.Message, "0–3") {
		t.Fatalf("out of range: %d %+v", st, eb)
	}
	if st := e.do("POST", path, village, map[string]any{"items": abilityItems(90), "risk_events": map[string]int{"fall": 5}}, &eb); st != 422 || eb.Error.Field != "A.2.14" {
		t.Fatalf("risk count: %d %+v", st, eb)
	}
	if st := e.do("POST", path, village, map[string]any{"items": abilityItems(90), "reason": "whim"}, &eb); st != 422 || eb.Error.Field != "reason" {
		t.Fatalf("reason: %d %+v", st, eb)
	}
	if st := e.do("POST", path, village, map[string]any{"items": abilityItems(90), "assessed_on": "2027-01-01"}, &eb); st != 422 || eb.Error.Field != "assessed_on" {
		t.Fatalf("future date: %d %+v", st, eb)
	}
	if st := e.do("POST", path, e.login("visitor1"), map[string]any{"items": abilityItems(90)}, &eb); st != 403 {
		t.Fatalf("visitor records: %d", st)
	}

	type result struct {
		ID              int64
		Reason          string
		Total           int
		InitialLevel    int    `json:"initial_level"`
		FinalLevel      int    `json:"final_level"`
		BodyLabel       string `json:"body_label"`
		SettingsVersion int    `json:"settings_version"`
		Grounds         []struct{ Rule string }
		Class           *classedElder
		Settings        []struct{ Value string }
	}
	// 65: 中度失能, but not "below 65" under the default reading of 16号;
	// dementia raises the level by one (C.4 ground 2).
	var a result
	if st := e.do("POST", path, village, map[string]any{"items": abilityItems(65), "dementia": true, "assessor": "评估员甲"}, &a); st != 201 ||
		a.Reason != "first" || a.Total != 65 || a.InitialLevel != 2 || a.FinalLevel != 3 || len(a.Grounds) != 1 || a.Grounds[0].Rule != "diagnosis" ||
		a.BodyLabel != "disabled" || a.SettingsVersion != 1 || a.Class == nil || a.Class.Class != "C" || a.Class.rules() != "C5" {
		t.Fatalf("65 with dementia: %d %+v", st, a)
	}
	var b result
	if st := e.do("POST", path, village, map[string]any{"items": abilityItems(65)}, &b); st != 201 || b.Reason != "regular" ||
		b.FinalLevel != 2 || b.BodyLabel != "" || b.Class.Class != "none" {
		t.Fatalf("65 without adjustment: %d %+v", st, b)
	}
	// The county counts 65 as well (total_at_most_65): stored as version
	// 2, the elder is reclassified, new assessments say which applied.
	sp := "/api/v1/counties/320706000000/assessment-settings"
	st := assess.DefaultSettings()
	st.Predicate = assess.PredTotalAtMost65
	if code := e.do("PUT", sp, county, map[string]any{"version": 1, "settings": st}, nil); code != 200 {
		t.Fatalf("save settings: %d", code)
	}
	if got := e.elder(village, el.ID); got.Class != "C" || got.rules() != "C5" || !strings.Contains(got.ClassReasons[0].Text, "不高于65分") {
		t.Fatalf("after the county's setting: %q %v", got.Class, got.ClassReasons)
	}
	var c result
	if code := e.do("POST", path, village, map[string]any{"items": abilityItems(65)}, &c); code != 201 || c.BodyLabel != "semi_disabled" ||
		c.SettingsVersion != 2 || c.Settings[3].Value != string(assess.PredTotalAtMost65) {
		t.Fatalf("65 under the county's setting: %d %+v", code, c)
	}
	bad := map[string]any{"version": 2, "settings": map[string]string{"stacking": "twice", "risk_counting": "sum", "coma_trigger": "a511", "predicate": "total_below_65"}}
	if code := e.do("PUT", sp, county, bad, &eb); code != 422 || eb.Error.Field != "settings.stacking" {
		t.Fatalf("bad setting: %d %+v", code, eb)
	}

	var list struct{ Items []result }
	if code := e.do("GET", path, village, nil, &list); code != 200 || len(list.Items) != 3 || list.Items[0].ID != c.ID {
		t.Fatalf("list: %d %+v", code, list)
	}
	var one result
	if code := e.do("GET", fmt.Sprintf("/api/v1/assessments/%d", a.ID), village, nil, &one); code != 200 || one.Total != 65 || one.FinalLevel != 3 {
		t.Fatalf("one: %d %+v", code, one)
	}
	if code := e.do("GET", fmt.Sprintf("/api/v1/assessments/%d", a.ID), e.login("lianyun"), nil, nil); code != 404 {
		t.Fatalf("other county reads an assessment: %d", code)
	}
}

// R-CLS-1..3 through the preview: A beats B, the 80th birthday, grade 2
// from a certificate, a total below 65; nothing is stored.
func TestClassificationPreview(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	token := e.login("xinbacun")
	cert := madeUpID("1956-04-04", false, 61) + "42" // 肢体, grade 2: 重残
	cases := []struct {
		name  string
		in    map[string]any
		class string
		rules string
	}{
		{"day before the 80th birthday, alone", map[string]any{"birth_date": "1946-12-05", "as_of": "2026-12-04", "living_situation": "alone"}, "C", "C2"},
		{"80th birthday, alone", map[string]any{"birth_date": "1946-12-05", "as_of": "2026-12-05", "living_situation": "alone"}, "A", "A1"},
		{"A beats B: 低保, disabled, alone, severely ill", map[string]any{"birth_date": "1956-04-04", "as_of": "2026-12-03", "living_situation": "alone",
			"body_conditions": []string{"disabled", "severe_illness"}, "economic_status": []string{"dibao"}}, "A", "A2"},
		{"grade 2 certificate, alone, under 80", map[string]any{"birth_date": "1956-04-04", "as_of": "2026-12-03", "living_situation": "alone",
			"disability_certificate": cert}, "B", "B1"},
		{"grade 3 is not 重残", map[string]any{"birth_date": "1956-04-04", "as_of": "2026-12-03", "living_situation": "with_family",
			"disability_grade": 3}, "none", "NONE"},
		{"ability total 64, 低保, empty nest", map[string]any{"birth_date": "1956-04-04", "as_of": "2026-12-03", "living_situation": "empty_nest",
			"economic_status": []string{"dibao"}, "ability_total": 64}, "A", "A2"},
		{"only the partner disabled", map[string]any{"birth_date": "1956-04-04", "as_of": "2026-12-03", "living_situation": "empty_nest",
			"partner_condition": "disabled"}, "B", "B2"},
		{"under 60", map[string]any{"birth_date": "1970-01-01", "as_of": "2026-12-03", "living_situation": "alone"}, "none", "AGE"},
	}
	for _, c := range cases {
		var out struct {
			Class   string
			Reasons []reasonJSON
		}
		if st := e.do("POST", "/api/v1/classification/preview", token, c.in, &out); st != 200 {
			t.Fatalf("%s: status %d", c.name, st)
		}
		got := classedElder{Class: out.Class, ClassReasons: out.Reasons}
		if got.Class != c.class || got.rules() != c.rules {
			t.Errorf("%s: %s %v, want %s by %s", c.name, got.Class, out.Reasons, c.class, c.rules)
		}
	}
	var eb errBody
	for _, c := range []struct {
		in    map[string]any
		field string
	}{
		{map[string]any{"birth_date": "1950-01-01", "living_situation": "alone", "spouse": "x"}, "spouse"},
		{map[string]any{"birth_date": "1950-02-30", "living_situation": "alone"}, "birth_date"},
		{map[string]any{"birth_date": "1950-01-01", "living_situation": "nowhere"}, "living_situation"},
		{map[string]any{"birth_date": "1950-01-01", "living_situation": "alone", "as_of": "soon"}, "as_of"},
		{map[string]any{"birth_date": "1950-01-01", "living_situation": "alone", "ability_total": 91}, "ability_total"},
	} {
		if st := e.do("POST", "/api/v1/classification/preview", token, c.in, &eb); st != 422 || eb.Error.Field != c.field {
			t.Errorf("%v: %d %+v, want 422 on %s", c.in, st, eb, c.field)
		}
	}
	var n int
	if err := e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM class_history").Scan(&n); err != nil || n != 0 {
		t.Fatalf("preview stored something: %d %v", n, err)
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// The pages: the assessment form with its 26 items, the print report with
// the settings that applied, the elder's class page, and the county's
// rules form saving a new version.
func TestClassPages(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	village := e.login("xinbacun")
	el := e.newElder(village, "页面测", "1944-02-02", false, 71, map[string]any{"living_situation": "alone"})

	b := e.browser("xinbacun")
	page := b.get(fmt.Sprintf("/elders/%d", el.ID))
	if !strings.Contains(page, `id="class-section"`) || !strings.Contains(page, "A1") {
		t.Fatalf("elder page lacks the class section")
	}
	form := b.get(fmt.Sprintf("/elders/%d/assessments/new", el.ID))
	if n := strings.Count(form, `class="assess-item"`); n != 26 {
		t.Fatalf("form has %d items, want 26", n)
	}
	if !strings.Contains(form, "上下楼梯") || !strings.Contains(form, "完全依赖他人协助进食") {
		t.Fatalf("form lacks item names or option texts")
	}
	vals := url.Values{"csrf": {csrfField.FindStringSubmatch(form)[1]}, "assessor": {"评估员乙"}}
	for code, v := range abilityItems(40) {
		if code != "B.4.5" {
			vals.Set(code, fmt.Sprint(v))
		}
	}
	resp, body := b.post(fmt.Sprintf("/elders/%d/assessments", el.ID), vals)
	if resp.StatusCode != 422 || !strings.Contains(body, `id="err-B.4.5"`) {
		t.Fatalf("missing B.4.5: %d", resp.StatusCode)
	}
	vals.Set("B.4.5", fmt.Sprint(abilityItems(40)["B.4.5"]))
	resp, body = b.post(fmt.Sprintf("/elders/%d/assessments", el.ID), vals)
	if resp.StatusCode != 200 || !strings.Contains(resp.Request.URL.Path, "/assessments/") ||
		!strings.Contains(body, "40 / 90") || !strings.Contains(body, "重度失能") || !strings.Contains(body, "16号文“65分以下”") {
		t.Fatalf("report: %d %s", resp.StatusCode, resp.Request.URL.Path)
	}
	if cp := b.get(fmt.Sprintf("/elders/%d/class", el.ID)); !strings.Contains(cp, "能力评估") || !strings.Contains(cp, `id="history"`) {
		t.Fatalf("class page lacks the history")
	}

	cb := e.browser("haizhou")
	rules := cb.get("/class-rules")
	if !strings.Contains(rules, `id="rules-form"`) || !strings.Contains(rules, "60至79周岁空巢老年人") {
		t.Fatalf("county rules page")
	}
	form2 := url.Values{"csrf": {csrfField.FindStringSubmatch(rules)[1]}, "version": {"1"}, "count": {"1"},
		"r0_id": {"C9"}, "r0_label": {"高龄空巢"}, "r0_min_age": {"7x"}}
	if resp, body := cb.post("/counties/320706000000/class-rules", form2); resp.StatusCode != 422 || !strings.Contains(body, "应为整数") {
		t.Fatalf("bad age: %d", resp.StatusCode)
	}
	form2.Set("r0_min_age", "75")
	form2["r0_living"] = []string{"empty_nest"}
	if resp, body := cb.post("/counties/320706000000/class-rules", form2); resp.StatusCode != 200 || !strings.Contains(body, "已保存为第2版") {
		t.Fatalf("save rules: %d", resp.StatusCode)
	}
}
