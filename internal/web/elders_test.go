package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tanfang/internal/policy/age"
	"tanfang/internal/policy/idcard"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

// madeUpID builds a valid, plainly fictional ID number for a test person.
func madeUpID(birth string, female bool, seq int) string {
	d, _ := age.ParseDate(birth)
	return idcard.Synthetic("320706", d, female, seq)
}

type elderJSON struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	IDNumber       string `json:"id_number"`
	IDNumberMasked string `json:"id_number_masked"`
	BirthDate      string `json:"birth_date"`
	Gender         string `json:"gender"`
	Age            int    `json:"age"`
	AreaCode       string `json:"area_code"`
	Version        int    `json:"version"`
	Address        string `json:"address"`
}

// Issue 3 contract: create, bad ID, duplicate, scope, versions, history, reveal.
func TestElderAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		village, lianyun, visitor := e.login("xinbacun"), e.login("lianyun"), e.login("visitor1")
		id := madeUpID("1944-05-06", true, 7)
		var el elderJSON
		st := e.do("POST", "/api/v1/elders", village, map[string]any{"name": "测试奶奶", "id_number": id, "area_code": "320706102206"}, &el)
		if st != 201 || el.ID == 0 || el.BirthDate != "1944-05-06" || el.Gender != "female" || el.Age != 82 || el.Version != 1 || el.AreaCode != "320706102206" {
			t.Fatalf("create: %d %+v", st, el)
		}
		if el.IDNumber != "" || el.IDNumberMasked != id[:6]+"********"+id[14:] {
			t.Fatalf("create shows the full number or a wrong mask: %+v", el)
		}
		var eb errBody
		bad := id[:17] + map[bool]string{true: "1", false: "2"}[id[17] != '1']
		if st := e.do("POST", "/api/v1/elders", village, map[string]any{"name": "错号", "id_number": bad, "area_code": "320706102206"}, &eb); st != 422 || eb.Error.Field != "id_number" || !strings.Contains(eb.Error.Message, "校验") {
			t.Fatalf("bad check character: %d %+v", st, eb)
		}
		if st := e.do("POST", "/api/v1/elders", village, map[string]any{"name": "短号", "id_number": "3207061944", "area_code": "320706102206"}, &eb); st != 422 || eb.Error.Field != "id_number" || !strings.Contains(eb.Error.Message, "18位") {
			t.Fatalf("short number: %d %+v", st, eb)
		}
		if st := e.do("POST", "/api/v1/elders", lianyun, map[string]any{"name": "重复", "id_number": id, "area_code": "320703001001"}, &eb); st != 409 || eb.Error.Code != "conflict" || !strings.Contains(eb.Error.Message, "海州区") {
			t.Fatalf("duplicate in another county: %d %+v", st, eb)
		}
		path := fmt.Sprintf("/api/v1/elders/%d", el.ID)
		if st := e.do("GET", path, lianyun, nil, &eb); st != 404 {
			t.Fatalf("other county reads the file: %d", st)
		}
		var list struct {
			Items []map[string]any
			Total int
		}
		if st := e.do("GET", "/api/v1/elders?id_number="+id, village, nil, &list); st != 200 || list.Total != 1 {
			t.Fatalf("find by ID number: %d %+v", st, list)
		}
		if _, ok := list.Items[0]["id_number"]; ok {
			t.Fatal("list item carries the full ID number")
		}
		if st := e.do("PATCH", path, village, map[string]any{"version": 1, "address": "新坝村三组12号", "reason": "入户核实"}, &el); st != 200 || el.Version != 2 || el.Address != "新坝村三组12号" {
			t.Fatalf("patch: %d %+v", st, el)
		}
		if st := e.do("PATCH", path, village, map[string]any{"version": 1, "address": "旧"}, &eb); st != 409 || eb.Error.Field != "version" {
			t.Fatalf("stale patch: %d %+v", st, eb)
		}
		// A status change without the version read is refused like a patch.
		for _, body := range []map[string]any{{"kind": "away", "from": "2026-01-01"}, {"kind": "away", "from": "2026-01-01", "version": 0}} {
			if st := e.do("POST", path+"/status", village, body, &eb); st != 422 || eb.Error.Field != "version" || eb.Error.Message != "请提供读取档案时的版本号（version）" {
				t.Fatalf("status without version %v: %d %+v", body, st, eb)
			}
		}
		var h struct{ Items []struct{ Version int } }
		if st := e.do("GET", path+"/history", village, nil, &h); st != 200 || len(h.Items) != 2 {
			t.Fatalf("history: %d %+v", st, h)
		}
		var rev map[string]string
		if st := e.do("POST", path+"/reveal", village, nil, &rev); st != 200 || rev["id_number"] != id {
			t.Fatalf("reveal: %d", st)
		}
		if st := e.do("POST", path+"/reveal", visitor, nil, &eb); st != 403 {
			t.Fatalf("visitor reveal: %d", st)
		}
		if st := e.do("POST", path+"/transfer", village, map[string]any{"to_area_code": "320703001001", "reason": "搬迁"}, &eb); st != 403 {
			t.Fatalf("village transfers a file: %d", st)
		}
		if st := e.do("GET", "/api/v1/elders?class=Z", village, nil, &eb); st != 422 || eb.Error.Field != "class" {
			t.Fatalf("unknown class filter: %d %+v", st, eb)
		}
		if st := e.do("POST", "/api/v1/elders", visitor, map[string]any{"name": "x", "id_number": id, "area_code": "320706102206"}, &eb); st != 403 {
			t.Fatalf("visitor creates: %d", st)
		}
		// Once the file says the elder died, no new file takes the number.
		if st := e.do("POST", path+"/status", village, map[string]any{"kind": "deceased", "from": "2026-12-01", "version": 2}, &el); st != 200 {
			t.Fatalf("deceased: %d", st)
		}
		if st := e.do("POST", "/api/v1/elders", lianyun, map[string]any{"name": "重复", "id_number": id, "area_code": "320703001001"}, &eb); st != 409 ||
			eb.Error.Field != "id_number" || !strings.HasPrefix(eb.Error.Message, "该身份证号码对应的老人已登记去世，如登记有误，请先更正原档案的状态") ||
			!strings.Contains(eb.Error.Message, "海州区新坝镇") || strings.Contains(eb.Error.Message, "新坝村") {
			t.Fatalf("new file for someone deceased: %d %+v", st, eb)
		}
	})
}

// A new user registers elders through the pages; a typo in the ID number
// comes back beside the field with what was typed kept.
func TestElderPages(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	cl := e.browser("xinbacun")
	body := cl.get("/elders/new")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)[1]
	id := madeUpID("1950-02-03", false, 3)
	typo := id[:10] + "13" + id[12:] // month 13
	form := url.Values{"csrf": {csrf}, "name": {"王测试"}, "id_number": {typo}, "area_code": {"320706102206"},
		"living_situation": {"alone"}, "body_conditions": {"semi_disabled", "severe_illness"}, "first_contact.name": {"王小测"}, "first_contact.relation": {"child"}, "first_contact.reachable": {"1"}}
	resp, page := cl.post("/elders/new", form)
	if resp.StatusCode != 422 || !strings.Contains(page, `id="err-id_number"`) || !strings.Contains(page, "出生日期") || !strings.Contains(page, `value="王测试"`) {
		t.Fatalf("typo: %d\n%s", resp.StatusCode, page)
	}
	if !strings.Contains(page, `value="severe_illness" checked`) {
		t.Fatal("ticked boxes were not kept")
	}
	form.Set("id_number", id)
	resp, page = cl.post("/elders/new", form)
	if resp.StatusCode != 200 || !strings.Contains(resp.Request.URL.Path, "/elders/") || !strings.Contains(page, "档案已建立") || !strings.Contains(page, "王测试") {
		t.Fatalf("create: %d %s\n%s", resp.StatusCode, resp.Request.URL, regexp.MustCompile(`(?s)<main>.{0,600}`).FindString(page))
	}
	if strings.Contains(page, id) {
		t.Fatal("the file page shows the full ID number before reveal")
	}
	list := cl.get("/elders?name=" + url.QueryEscape("测试"))
	if !strings.Contains(list, "王测试") || !strings.Contains(list, id[:6]+"********") {
		t.Fatalf("list: %s", list)
	}
	// The form shows a number whose file says deceased beside the field.
	var found struct{ Items []elderJSON }
	token := e.login("xinbacun")
	if st := e.do("GET", "/api/v1/elders?id_number="+id, token, nil, &found); st != 200 || len(found.Items) != 1 {
		t.Fatalf("find: %d %+v", st, found)
	}
	el := found.Items[0]
	if st := e.do("POST", fmt.Sprintf("/api/v1/elders/%d/status", el.ID), token, map[string]any{"kind": "deceased", "from": "2026-12-01", "version": el.Version}, nil); st != 200 {
		t.Fatalf("deceased: %d", st)
	}
	resp, page = cl.post("/elders/new", form)
	if resp.StatusCode != 422 || !strings.Contains(page, `id="err-id_number"`) || !strings.Contains(page, "已登记去世") {
		t.Fatalf("new file for someone deceased: %d\n%s", resp.StatusCode, page)
	}
}

type browserClient struct {
	t   *testing.T
	e   *env
	cl  *http.Client
	jar http.CookieJar
}

// browser logs in through the login page and returns a cookie client.
func (e *env) browser(username string) *browserClient {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browserClient{t: e.t, e: e, cl: &http.Client{Jar: jar, Timeout: 10 * time.Second}, jar: jar}
	page := b.get("/login")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	resp, _ := b.post("/login", url.Values{"csrf": {csrf}, "username": {username}, "password": {testPassword}, "next": {"/"}})
	if resp.StatusCode != 200 {
		e.t.Fatalf("page login %s: %d", username, resp.StatusCode)
	}
	return b
}

func (b *browserClient) get(path string) string {
	b.t.Helper()
	resp, err := b.cl.Get(b.e.Srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}

func (b *browserClient) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.cl.PostForm(b.e.Srv.URL+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}
