package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/outbox"
	"tanfang/internal/plan"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

// visitorRow links the visitor1 account to a visitors row of the plan, as
// the village does when it registers its visitors.
func (e *env) visitorRow(token string) {
	e.t.Helper()
	var me struct{ ID int64 }
	if st := e.do("GET", "/api/v1/me", token, nil, &me); st != 200 {
		e.t.Fatalf("me: %d", st)
	}
	a, err := (areas.Store{DB: e.DB}).Get(context.Background(), xinbacun)
	if err != nil {
		e.t.Fatal(err)
	}
	ps := &plan.Service{DB: e.DB, Keys: e.API.Keys, Now: e.Clock.Now}
	if _, err := ps.CreateVisitor(context.Background(), areas.ScopeOf(a), audit.Entry{Actor: "test"},
		plan.VisitorInput{Name: "测试探访员", Phone: "13700004321", AreaCode: xinbacun, Kind: "volunteer", UserID: &me.ID}); err != nil {
		e.t.Fatal(err)
	}
}

// visitBody is a completed home visit an hour ago, everything fine.
func (e *env) visitBody(elderID int64) map[string]any {
	now := e.Clock.Now()
	return map[string]any{
		"client_id": uuid.NewString(), "elder_id": elderID, "mode": "home", "outcome": "done",
		"started_at": now.Add(-time.Hour).Format(time.RFC3339), "ended_at": now.Add(-30 * time.Minute).Format(time.RFC3339),
		"findings": map[string]string{"expression": "good", "mobility": "good", "mental": "fair", "illness": "same", "house": "safe",
			"gas": "safe", "water_heating": "safe", "electricity": "safe", "hygiene": "good", "supporter": "good"},
		"needs": "", "problems": "", "handling": "",
	}
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.DB.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

type visitJSON struct {
	ID           int64 `json:"id"`
	Late         bool  `json:"late"`
	CountsAsHome bool  `json:"counts_as_home"`
	Version      int   `json:"version"`
}

// Issue 6 "done when": the same visit sent 10 times, 5 of them at once,
// makes one record and one rollup increment.
func visitSentTenTimes(t *testing.T, e *env) {
	db := e.DB
	village, visitor := e.login("xinbacun"), e.login("visitor1")
	el := e.newElder(village, "测试奶奶", "1941-03-04", true, 11, nil)
	// A deadline campaign counts every record (not every day), so a
	// second application of the visit would show in it.
	now := e.Clock.Now()
	if _, err := db.Exec(context.Background(), `INSERT INTO campaigns (name, area_code, area_prefix, deadline_from, deadline_due, deadline_times, created_at)
		VALUES ('寒潮', ?, '320706102', ?, ?, 1, ?)`, "320706102000", store.FormatTime(now.Add(-48*time.Hour)),
		store.FormatTime(now.Add(48*time.Hour)), store.FormatTime(now)); err != nil {
		t.Fatal(err)
	}
	body := e.visitBody(el.ID)
	var first visitJSON
	if st := e.do("POST", "/api/v1/visits", visitor, body, &first); st != 201 || first.ID == 0 || !first.CountsAsHome {
		t.Fatalf("first: %d %+v", st, first)
	}
	for range 4 {
		var again visitJSON
		if st := e.do("POST", "/api/v1/visits", visitor, body, &again); st != 200 || again.ID != first.ID {
			t.Fatalf("retry: %d %+v", st, again)
		}
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(body)
			req, _ := http.NewRequest("POST", e.Srv.URL+"/api/v1/visits", bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+visitor)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var v visitJSON
			_ = json.NewDecoder(resp.Body).Decode(&v)
			if resp.StatusCode != 200 || v.ID != first.ID {
				t.Errorf("concurrent copy: %d %+v", resp.StatusCode, v)
			}
		}()
	}
	wg.Wait()
	if n := e.count(`SELECT COUNT(*) FROM visits WHERE elder_id = ?`, el.ID); n != 1 {
		t.Fatalf("%d visits", n)
	}
	if n := e.count(`SELECT done_home FROM plan_weeks WHERE week = '2026-W49' AND elder_id = ?`, el.ID); n != 1 {
		t.Fatalf("week rollup done_home %d", n)
	}
	if n := e.count(`SELECT contacts FROM campaign_contacts WHERE elder_id = ?`, el.ID); n != 1 {
		t.Fatalf("campaign counted %d", n)
	}
	var list struct{ Items []visitJSON }
	if st := e.do("GET", fmt.Sprintf("/api/v1/visits?elder_id=%d", el.ID), village, nil, &list); st != 200 || len(list.Items) != 1 {
		t.Fatalf("list: %d %+v", st, list)
	}
	// Outside the village's county the visit does not exist.
	if st := e.do("GET", fmt.Sprintf("/api/v1/visits/%d", first.ID), e.login("lianyun"), nil, nil); st != 404 {
		t.Fatalf("other county: %d", st)
	}
}

type followupJSON struct {
	ID       int64     `json:"id"`
	Kind     string    `json:"kind"`
	Severity string    `json:"severity"`
	Status   string    `json:"status"`
	DueAt    time.Time `json:"due_at"`
	Level    string    `json:"level"`
	Version  int       `json:"version"`
}

// Gas 不安全 opens a safety follow-up; its life cycle through the API, and
// escalation to the town once overdue (R-VST-2, R-EMG-4).
func safetyFollowupAPI(t *testing.T, e *env) {
	db := e.DB
	village, visitor, town := e.login("xinbacun"), e.login("visitor1"), e.login("xinba")
	el := e.newElder(village, "测试爷爷", "1939-08-09", false, 12, nil)
	body := e.visitBody(el.ID)
	body["findings"].(map[string]string)["gas"] = "unsafe"
	var v visitJSON
	if st := e.do("POST", "/api/v1/visits", visitor, body, &v); st != 201 {
		t.Fatalf("visit: %d", st)
	}
	var list struct{ Items []followupJSON }
	if st := e.do("GET", fmt.Sprintf("/api/v1/followups?elder_id=%d", el.ID), village, nil, &list); st != 200 || len(list.Items) != 1 {
		t.Fatalf("followups: %d %+v", st, list)
	}
	f := list.Items[0]
	if f.Kind != "safety" || f.Severity != "urgent" || f.Status != "open" || !f.DueAt.Equal(e.Clock.Now().Add(24*time.Hour)) {
		t.Fatalf("item %+v", f)
	}
	path := fmt.Sprintf("/api/v1/followups/%d", f.ID)
	var eb errBody
	if st := e.do("PATCH", path, visitor, map[string]any{"status": "in_progress", "reason": "x"}, &eb); st != 403 {
		t.Fatalf("visitor moved: %d", st)
	}
	if st := e.do("PATCH", path, village, map[string]any{"status": "verified", "reason": "x"}, &eb); st != 422 || eb.Error.Field != "status" {
		t.Fatalf("open → verified: %d %+v", st, eb)
	}
	if st := e.do("PATCH", path, village, map[string]any{"status": "in_progress", "reason": "已通知燃气公司", "version": f.Version}, &f); st != 200 || f.Status != "in_progress" {
		t.Fatalf("in progress: %d %+v", st, f)
	}
	if st := e.do("PATCH", path, village, map[string]any{"status": "referred", "reason": "r", "refer_type": "town", "version": f.Version - 1}, &eb); st != 409 {
		t.Fatalf("stale: %d", st)
	}
	// Not resolved within a day: the town gets it.
	e.Clock.Advance(25 * time.Hour)
	village, visitor, town = e.login("xinbacun"), e.login("visitor1"), e.login("xinba") // idle sessions ended
	if n, err := e.API.Visits.Escalate(context.Background()); err != nil || n != 1 {
		t.Fatalf("escalate: %d %v", n, err)
	}
	if st := e.do("GET", "/api/v1/followups?level=town&status=overdue", town, nil, &list); st != 200 || len(list.Items) != 1 {
		t.Fatalf("town's overdue list: %d %+v", st, list)
	}
	if st := e.do("PATCH", path, town, map[string]any{"status": "resolved", "reason": "已更换软管"}, &f); st != 200 || f.Status != "resolved" {
		t.Fatalf("resolved: %d %+v", st, f)
	}
	e.Clock.Advance(20 * time.Minute)
	back := e.visitBody(el.ID)
	back["started_at"], back["ended_at"] = e.Clock.Now().Add(-10*time.Minute).Format(time.RFC3339), e.Clock.Now().Format(time.RFC3339)
	if st := e.do("POST", "/api/v1/visits", visitor, back, &v); st != 201 {
		t.Fatalf("return visit: %d", st)
	}
	var one struct {
		Item    followupJSON
		History []struct{ Action, Actor, Reason string }
	}
	if st := e.do("GET", path, village, nil, &one); st != 200 || one.Item.Status != "verified" || len(one.History) != 5 {
		t.Fatalf("after the return visit: %d %+v", st, one)
	}
	// The inbox of the town shows the escalation once the outbox is delivered.
	w := &outbox.Worker{DB: db, Keys: e.API.Keys, Now: e.Clock.Now}
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	var inbox struct {
		Items []struct{ Kind, Subject, Body string }
	}
	if st := e.do("GET", "/api/v1/inbox", town, nil, &inbox); st != 200 {
		t.Fatalf("town inbox: %d", st)
	}
	kinds := map[string]int{}
	for _, m := range inbox.Items {
		kinds[m.Kind]++
	}
	if kinds["followup.opened"] != 1 || kinds["followup.escalated"] != 1 {
		t.Fatalf("town inbox: %+v", inbox)
	}
	for _, m := range inbox.Items {
		if strings.Contains(m.Body, "测试爷爷") {
			t.Errorf("clear name in a message: %q", m.Body)
		}
	}
}

// Edits carry a version; a stale one answers 409 with both versions.
func visitEditConflictAPI(t *testing.T, e *env) {
	village, visitor := e.login("xinbacun"), e.login("visitor1")
	el := e.newElder(village, "测试奶奶", "1941-03-04", true, 13, nil)
	var v visitJSON
	e.do("POST", "/api/v1/visits", visitor, e.visitBody(el.ID), &v)
	findings := e.visitBody(el.ID)["findings"]
	edit := map[string]any{"version": v.Version, "reason": "补充宣教", "findings": findings, "education": "冬季防煤气中毒"}
	if st := e.do("PATCH", fmt.Sprintf("/api/v1/visits/%d", v.ID), visitor, edit, &v); st != 200 || v.Version != 2 {
		t.Fatalf("edit: %d %+v", st, v)
	}
	edit["version"] = 1
	var conflict struct {
		Error   struct{ Code string }
		Current struct {
			Version   int
			Education string
		}
		Submitted struct{ Version int }
	}
	if st := e.do("PATCH", fmt.Sprintf("/api/v1/visits/%d", v.ID), village, edit, &conflict); st != 409 ||
		conflict.Error.Code != "conflict" || conflict.Current.Version != 2 || conflict.Current.Education != "冬季防煤气中毒" || conflict.Submitted.Version != 1 {
		t.Fatalf("stale edit: %d %+v", st, conflict)
	}
}

// PATCH /api/v1/visits/{id} changes only what it sends; its errors name
// the field at fault, not ratings it left out.
func visitEditPatchAPI(t *testing.T, e *env) {
	village, visitor := e.login("xinbacun"), e.login("visitor1")
	el := e.newElder(village, "测试奶奶", "1941-03-04", true, 15, nil)
	body := e.visitBody(el.ID)
	body["needs"], body["problems"], body["service_needs"] = "想要助餐", "门锁坏了", []string{"meal"}
	var v visitJSON
	if st := e.do("POST", "/api/v1/visits", visitor, body, &v); st != 201 {
		t.Fatalf("record: %d", st)
	}
	path := fmt.Sprintf("/api/v1/visits/%d", v.ID)
	var got struct {
		Version      int
		Findings     map[string]string
		Needs        string
		Problems     string
		Education    string
		ServiceNeeds []string `json:"service_needs"`
	}
	if st := e.do("PATCH", path, visitor, map[string]any{"version": 1, "reason": "补充宣教", "education": "冬季防煤气中毒"}, &got); st != 200 {
		t.Fatalf("patch one field: %d", st)
	}
	if got.Version != 2 || got.Education != "冬季防煤气中毒" || got.Needs != "想要助餐" || got.Problems != "门锁坏了" ||
		got.Findings["gas"] != "safe" || got.Findings["mental"] != "fair" || len(got.ServiceNeeds) != 1 {
		t.Fatalf("fields left out changed: %+v", got)
	}
	if st := e.do("PATCH", path, village, map[string]any{"version": 2, "reason": "核实", "findings": map[string]string{"hygiene": "poor"}}, &got); st != 200 ||
		got.Findings["hygiene"] != "poor" || got.Findings["gas"] != "safe" || got.Needs != "想要助餐" {
		t.Fatalf("patch one rating: %d %+v", st, got)
	}
	var eb errBody
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"version": 3, "reason": "补充", "needs": strings.Repeat("需", 501)}, "needs"},
		{map[string]any{"reason": "补充", "needs": "助浴"}, "version"},
		{map[string]any{"version": 3, "needs": "助浴"}, "reason"},
		{map[string]any{"version": 3, "reason": "补充", "findings": map[string]string{"gas": ""}}, "findings.gas"},
	} {
		if st := e.do("PATCH", path, village, c.body, &eb); st != 422 || eb.Error.Field != c.field {
			t.Errorf("%v: %d %+v, want an error on %s", c.body, st, eb, c.field)
		}
	}
}

// TestVisitsAPI runs the API scenarios on one server per database, each
// with elders of its own, to keep the package fast.
func TestVisitsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.visitorRow(e.login("visitor1"))
		for _, sc := range []struct {
			name string
			run  func(*testing.T, *env)
		}{
			{"sent ten times", visitSentTenTimes},
			{"edit conflict", visitEditConflictAPI},
			{"edit patch", visitEditPatchAPI},
			{"emergency", emergencyFlow},
			{"safety follow-up", safetyFollowupAPI}, // last: it moves the clock a day on
		} {
			e.t = t
			t.Run(sc.name, func(t *testing.T) {
				e.t = t
				sc.run(t, e)
			})
		}
	})
}

// The 48-hour rule through the API.
func TestLateVisitAPI(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	village, visitor := e.login("xinbacun"), e.login("visitor1")
	e.visitorRow(visitor)
	el := e.newElder(village, "测试奶奶", "1941-03-04", true, 14, nil)
	body := e.visitBody(el.ID)
	start := e.Clock.Now().Add(-50 * time.Hour)
	body["started_at"], body["ended_at"] = start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339)
	var eb errBody
	if st := e.do("POST", "/api/v1/visits", visitor, body, &eb); st != 422 || eb.Error.Field != "late_reason" || !strings.Contains(eb.Error.Message, "48") {
		t.Fatalf("late without reason: %d %+v", st, eb)
	}
	body["late_reason"] = "在外地开会，回来补录"
	var v visitJSON
	if st := e.do("POST", "/api/v1/visits", visitor, body, &v); st != 201 || !v.Late {
		t.Fatalf("late with reason: %d %+v", st, v)
	}
	// Unknown fields are refused, by name.
	body["client_id"], body["colour"] = uuid.NewString(), "red"
	if st := e.do("POST", "/api/v1/visits", visitor, body, &eb); st != 422 || eb.Error.Field != "colour" {
		t.Fatalf("unknown field: %d %+v", st, eb)
	}
}

// The form as the offline queue of visits.js sends it: multipart with a
// photo, the CSRF token in a header, JSON back; sent twice, stored once.
func TestVisitFormQueueSubmit(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	village := e.login("xinbacun")
	e.visitorRow(e.login("visitor1"))
	el := e.newElder(village, "测试奶奶", "1941-03-04", true, 15, nil)
	b := e.browser("visitor1")
	page := b.get(fmt.Sprintf("/visits/new?elder_id=%d", el.ID))
	for _, id := range []string{`id="visit-form"`, `id="queue-count"`, `id="submit-visit"`, `id="emergency-link"`, `name="gas"`} {
		if !strings.Contains(page, id) {
			t.Fatalf("form lacks %s", id)
		}
	}
	csrf := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindStringSubmatch(page)[1]
	start := e.Clock.Now().Add(-time.Hour).In(time.FixedZone("CST", 8*3600))
	fields := map[string]string{"client_id": uuid.NewString(), "elder_id": fmt.Sprint(el.ID), "mode": "home", "outcome": "done",
		"started_at": start.Format("2006-01-02T15:04"), "ended_at": start.Add(30 * time.Minute).Format("2006-01-02T15:04"),
		"expression": "good", "mobility": "good", "mental": "good", "illness": "same", "house": "safe", "gas": "safe",
		"water_heating": "safe", "electricity": "unsafe", "hygiene": "good", "supporter": "good",
		"recorded_at": e.Clock.Now().Add(-20 * time.Minute).UTC().Format("2006-01-02T15:04:05.000Z"), "lat": "34.6", "lng": "119.2", "accuracy_m": "12"}
	send := func(photo []byte) (int, map[string]any) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range fields {
			_ = mw.WriteField(k, v)
		}
		_ = mw.WriteField("service_needs", "meal")
		_ = mw.WriteField("service_needs", "bath")
		if photo != nil {
			fw, _ := mw.CreateFormFile("photo", "photo.jpg")
			_, _ = fw.Write(photo)
		}
		mw.Close()
		req, _ := http.NewRequest("POST", e.Srv.URL+"/visits/new", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Accept", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		resp, err := b.cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		raw, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(raw, &out)
		return resp.StatusCode, out
	}
	if st, out := send([]byte("<script>alert(1)</script>")); st != 422 || out["error"].(map[string]any)["field"] != "photo" {
		t.Fatalf("script as photo: %d %v", st, out)
	}
	if st, out := send(append([]byte{0xFF, 0xD8, 0xFF}, make([]byte, 3<<20)...)); st != 422 {
		t.Fatalf("3 MB photo: %d %v", st, out)
	}
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, 1000)...)
	st, out := send(jpeg)
	if st != 201 || out["created"] != true {
		t.Fatalf("first send: %d %v", st, out)
	}
	if st2, out2 := send(jpeg); st2 != 200 || out2["id"] != out["id"] {
		t.Fatalf("second send: %d %v", st2, out2)
	}
	id := int64(out["id"].(float64))
	var v struct {
		HasPhoto     bool     `json:"has_photo"`
		ServiceNeeds []string `json:"service_needs"`
		Late         bool     `json:"late"`
		Location     *struct{ Lat float64 }
	}
	if st := e.do("GET", fmt.Sprintf("/api/v1/visits/%d", id), village, nil, &v); st != 200 || !v.HasPhoto || len(v.ServiceNeeds) != 2 || v.Location == nil || v.Late {
		t.Fatalf("stored: %d %+v", st, v)
	}
	// Without the CSRF token the post is refused.
	req, _ := http.NewRequest("POST", e.Srv.URL+"/visits/new", strings.NewReader("client_id=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := b.cl.Do(req); err != nil || resp.StatusCode != 403 {
		t.Fatalf("no csrf: %v %v", resp.StatusCode, err)
	}
	// The visit page shows the hazard's follow-up and the photo.
	view := b.get(fmt.Sprintf("/visits/%d", id))
	if !strings.Contains(view, "用电安全") || !strings.Contains(view, fmt.Sprintf("/visits/%d/photo", id)) || !strings.Contains(view, "/followups/") {
		t.Fatalf("visit page: %s", view)
	}
	// The village sets the home position from it; the next home visit shows its distance.
	vb := e.browser("xinbacun")
	vpage := vb.get(fmt.Sprintf("/visits/%d", id))
	vcsrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(vpage)[1]
	if resp, _ := vb.post(fmt.Sprintf("/visits/%d/home", id), map[string][]string{"csrf": {vcsrf}}); resp.StatusCode != 200 {
		t.Fatalf("set home: %d", resp.StatusCode)
	}
	body := e.visitBody(el.ID)
	body["location"] = map[string]float64{"lat": 34.601, "lng": 119.2, "accuracy_m": 10}
	var next struct {
		DistanceM *float64 `json:"distance_m"`
	}
	if st := e.do("POST", "/api/v1/visits", e.login("visitor1"), body, &next); st != 201 || next.DistanceM == nil || *next.DistanceM < 100 || *next.DistanceM > 120 {
		t.Fatalf("distance: %d %+v", st, next)
	}
}

// R-EMG-1: raised in two taps, it reaches the village and town inboxes and
// the first contact's phone, and heads their pages until closed.
func emergencyFlow(t *testing.T, e *env) {
	db := e.DB
	village, visitor, town := e.login("xinbacun"), e.login("visitor1"), e.login("xinba")
	el := e.newElder(village, "测试奶奶", "1941-03-04", true, 16, map[string]any{
		"first_contact": map[string]any{"name": "测试儿子", "relation": "child", "phone": "13900005678"}})
	// The SMS gateway stands in locally.
	var mu sync.Mutex
	var sms []map[string]string
	gw := httpTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		sms = append(sms, m)
		mu.Unlock()
	})
	// Tap 1: the button on the elder's page; tap 2: what happened.
	b := e.browser("visitor1")
	epage := b.get(fmt.Sprintf("/elders/%d", el.ID))
	if !strings.Contains(epage, fmt.Sprintf(`href="/emergencies/new?elder_id=%d"`, el.ID)) {
		t.Fatalf("no emergency button on the elder's page")
	}
	form := b.get(fmt.Sprintf("/emergencies/new?elder_id=%d", el.ID))
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form)[1]
	cid := regexp.MustCompile(`name="client_id" value="([^"]+)"`).FindStringSubmatch(form)[1]
	resp, page := b.post("/emergencies", map[string][]string{"csrf": {csrf}, "client_id": {cid}, "elder_id": {fmt.Sprint(el.ID)},
		"called": {"120", "family"}, "what": {"fall"}})
	if resp.StatusCode != 200 || !strings.Contains(page, "跌倒") || !strings.Contains(page, "处置中") {
		t.Fatalf("raise: %d %s", resp.StatusCode, page)
	}
	w := &outbox.Worker{DB: db, Keys: e.API.Keys, Now: e.Clock.Now,
		Senders: outbox.Config{SMSURL: gw}.Senders(e.Clock.Now)}
	if n, err := w.RunOnce(context.Background()); err != nil || n < 3 {
		t.Fatalf("delivered %d, %v", n, err)
	}
	if len(sms) != 1 || sms[0]["phone"] != "13900005678" || strings.Contains(sms[0]["text"], "测试奶奶") || !strings.Contains(sms[0]["text"], "跌倒") {
		t.Fatalf("sms %v", sms)
	}
	for _, tok := range []string{village, town} {
		var inbox struct{ Items []struct{ Kind string } }
		if st := e.do("GET", "/api/v1/inbox", tok, nil, &inbox); st != 200 || len(inbox.Items) == 0 || inbox.Items[0].Kind != "emergency" {
			t.Fatalf("inbox: %d %+v", st, inbox)
		}
	}
	// On top of the village's pages until closed.
	vb := e.browser("xinbacun")
	if p := vb.get("/followups"); !strings.Contains(p, "紧急情况未结束") {
		t.Fatal("no banner on the village's page")
	}
	var list struct{ Items []struct{ ID int64 } }
	e.do("GET", "/api/v1/emergencies?status=open", town, nil, &list)
	if len(list.Items) != 1 {
		t.Fatalf("open list %+v", list)
	}
	id := list.Items[0].ID
	var eb errBody
	if st := e.do("POST", fmt.Sprintf("/api/v1/emergencies/%d/notes", id), visitor, map[string]any{"note": "已送医", "close": true}, &eb); st != 403 {
		t.Fatalf("visitor closed: %d", st)
	}
	if st := e.do("POST", fmt.Sprintf("/api/v1/emergencies/%d/notes", id), village, map[string]any{"note": "已送县医院，家属已到", "close": true}, nil); st != 200 {
		t.Fatalf("close: %d", st)
	}
	if p := vb.get("/followups"); strings.Contains(p, "紧急情况未结束") {
		t.Fatal("banner stays after closing")
	}
}

func httpTestServer(t *testing.T, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// The PWA's files: the service worker at the root, the manifest with its type.
func TestPWAFiles(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	resp, err := http.Get(e.Srv.URL + "/sw.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") ||
		resp.Header.Get("Service-Worker-Allowed") != "/" || !strings.Contains(string(body), `"/visits/new"`) {
		t.Fatalf("sw.js: %d %v", resp.StatusCode, resp.Header)
	}
	resp, err = http.Get(e.Srv.URL + "/static/manifest.webmanifest")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		StartURL string `json:"start_url"`
		Icons    []struct{ Src string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/manifest+json" || m.StartURL == "" || len(m.Icons) == 0 {
		t.Fatalf("manifest: %v %+v", resp.Header.Get("Content-Type"), m)
	}
	for _, ic := range m.Icons {
		r, err := http.Get(e.Srv.URL + ic.Src)
		if err != nil || r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("icon %s: %v", ic.Src, err)
		}
		r.Body.Close()
	}
}

// The pages of this part render for the accounts that use them.
func TestVisitPages(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	village, visitor := e.login("xinbacun"), e.login("visitor1")
	e.visitorRow(visitor)
	el := e.newElder(village, "测试奶奶", "1938-03-04", true, 17, nil)
	body := e.visitBody(el.ID)
	body["findings"].(map[string]string)["gas"] = "unsafe"
	var v visitJSON
	if st := e.do("POST", "/api/v1/visits", visitor, body, &v); st != 201 {
		t.Fatalf("visit: %d", st)
	}
	var list struct{ Items []followupJSON }
	e.do("GET", fmt.Sprintf("/api/v1/followups?elder_id=%d", el.ID), village, nil, &list)
	fid := list.Items[0].ID
	vb := e.browser("xinbacun")
	csrfOf := func(page string) string {
		return regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	}
	for path, want := range map[string]string{
		"/followups":                      "燃气安全不安全",
		fmt.Sprintf("/followups/%d", fid): "办理记录",
		"/benefits":                       "高龄津贴",
		fmt.Sprintf("/visits?elder_id=%d", el.ID): "上门",
		fmt.Sprintf("/visits/%d/edit", v.ID):      "修改原因",
		"/emergencies":                            "没有紧急情况记录",
		"/inbox":                                  "消息",
		fmt.Sprintf("/elders/%d", el.ID):          "探访与跟踪",
		"/providers":                              "服务组织名录",
	} {
		if p := vb.get(path); !strings.Contains(p, want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}
	page := vb.get(fmt.Sprintf("/followups/%d", fid))
	resp, p := vb.post(fmt.Sprintf("/followups/%d", fid), map[string][]string{"csrf": {csrfOf(page)}, "version": {"1"}, "status": {"in_progress"}, "reason": {"已通知家属"}})
	if resp.StatusCode != 200 || !strings.Contains(p, "已更新") || !strings.Contains(p, "已通知家属") {
		t.Fatalf("move on the page: %d", resp.StatusCode)
	}
	// A stale edit shows both versions.
	edit := vb.get(fmt.Sprintf("/visits/%d/edit", v.ID))
	form := map[string][]string{"csrf": {csrfOf(edit)}, "version": {"1"}, "reason": {"补充"}, "expression": {"good"}, "mobility": {"good"},
		"mental": {"fair"}, "illness": {"same"}, "house": {"safe"}, "gas": {"unsafe"}, "water_heating": {"safe"}, "electricity": {"safe"},
		"hygiene": {"good"}, "supporter": {"good"}, "education": {"提醒关阀门"}}
	if resp, _ := vb.post(fmt.Sprintf("/visits/%d/edit", v.ID), form); resp.StatusCode != 200 {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	form["education"] = []string{"另一版本"}
	resp, p = vb.post(fmt.Sprintf("/visits/%d/edit", v.ID), form)
	if resp.StatusCode != 409 || !strings.Contains(p, "edit-conflict") || !strings.Contains(p, "提醒关阀门") || !strings.Contains(p, "另一版本") {
		t.Fatalf("stale edit page: %d", resp.StatusCode)
	}
	// The town registers a provider on its page.
	tb := e.browser("xinba")
	pp := tb.get("/providers")
	resp, p = tb.post("/providers", map[string][]string{"csrf": {csrfOf(pp)}, "name": {"新坝助餐点"}, "services": {"meal"}, "contact": {"镇政府东侧"}})
	if resp.StatusCode != 200 || !strings.Contains(p, "新坝助餐点") {
		t.Fatalf("provider: %d", resp.StatusCode)
	}
	// A visitor sees no benefits page.
	if p := e.browser("visitor1").get("/benefits"); !strings.Contains(p, "无权") {
		t.Error("visitor sees the benefit list")
	}
}
