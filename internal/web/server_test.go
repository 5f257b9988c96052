package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tanfang/internal/audit"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

func TestHealthz(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	var out map[string]string
	if st := e.do("GET", "/healthz", "", nil, &out); st != 200 || out["status"] != "ok" {
		t.Fatalf("healthz: %d %v", st, out)
	}
}

// R-USR-1: a county account sees its own towns and gets 404 for another county.
func TestAreaScoping(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tok := e.login("haizhou")
		var a struct {
			Code, Name, Level, ParentCode string
			Children                      []struct{ Code, Name, Level string }
		}
		if st := e.do("GET", "/api/v1/areas/320706000000", tok, nil, &a); st != 200 {
			t.Fatalf("own county: %d", st)
		}
		if a.Name != "海州区" || a.Level != "county" || len(a.Children) == 0 {
			t.Fatalf("own county: %+v", a)
		}
		for _, c := range a.Children {
			if c.Level != "town" || !strings.HasPrefix(c.Code, "320706") {
				t.Fatalf("child %+v", c)
			}
		}
		var eb errBody
		if st := e.do("GET", "/api/v1/areas/320703000000", tok, nil, &eb); st != 404 || eb.Error.Code != "not_found" || eb.Error.Message == "" {
			t.Fatalf("other county: %d %+v", st, eb)
		}
		if st := e.do("GET", "/api/v1/areas/320700000000", tok, nil, &eb); st != 404 {
			t.Fatalf("parent city from a county account: %d", st)
		}
		if st := e.do("GET", "/api/v1/areas/320706000000", "", nil, &eb); st != 401 || eb.Error.Code != "unauthorized" {
			t.Fatalf("no token: %d %+v", st, eb)
		}
		// A village account sees its village only.
		vt := e.login("xinbacun")
		if st := e.do("GET", "/api/v1/areas/320706102000", vt, nil, nil); st != 404 {
			t.Fatalf("village account reading its town: %d", st)
		}
	})
}

// DOMAIN §7: five failures lock for 15 minutes (423), then the account opens again.
func TestLockoutThroughAPI(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	bad := map[string]string{"username": "xinba", "password": "wrong-Password1"}
	for i := 0; i < 4; i++ {
		if st := e.do("POST", "/api/v1/login", "", bad, nil); st != 401 {
			t.Fatalf("failure %d: %d", i+1, st)
		}
	}
	var eb errBody
	if st := e.do("POST", "/api/v1/login", "", bad, &eb); st != 423 || eb.Error.Code != "locked" {
		t.Fatalf("fifth failure: %d %+v", st, eb)
	}
	good := map[string]string{"username": "xinba", "password": testPassword}
	e.Clock.Advance(14 * time.Minute)
	if st := e.do("POST", "/api/v1/login", "", good, &eb); st != 423 || !strings.Contains(eb.Error.Message, "锁定") {
		t.Fatalf("right password at 14 minutes: %d %+v", st, eb)
	}
	e.Clock.Advance(time.Minute)
	if st := e.do("POST", "/api/v1/login", "", good, nil); st != 200 {
		t.Fatalf("after 15 minutes: %d", st)
	}
}

func TestErrorsNameTheField(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	var eb errBody
	if st := e.do("POST", "/api/v1/login", "", map[string]string{"username": "", "password": "x"}, &eb); st != 422 || eb.Error.Field != "username" {
		t.Fatalf("empty username: %d %+v", st, eb)
	}
	if st := e.do("POST", "/api/v1/login", "", map[string]any{"user": "x"}, &eb); st != 422 || eb.Error.Field != "user" {
		t.Fatalf("unknown field: %d %+v", st, eb)
	}
	if st := e.do("GET", "/api/v1/nothing-here", "", nil, &eb); st != 404 || eb.Error.Code != "not_found" {
		t.Fatalf("unknown route: %d %+v", st, eb)
	}
}

// R-AREA / DOMAIN §3: grids, renames and retirements through the API, by a county only.
func TestAreaAdministration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		county, town := e.login("haizhou"), e.login("xinba")
		var eb errBody
		if st := e.do("POST", "/api/v1/areas/320706102206/grids", town, map[string]string{"name": "一组"}, &eb); st != 403 || eb.Error.Code != "forbidden" {
			t.Fatalf("town adds grid: %d %+v", st, eb)
		}
		var g struct{ Code, Level string }
		if st := e.do("POST", "/api/v1/areas/320706102206/grids", county, map[string]string{"name": "一组"}, &g); st != 201 || g.Code != "320706102206001" || g.Level != "grid" {
			t.Fatalf("county adds grid: %d %+v", st, g)
		}
		if st := e.do("PATCH", "/api/v1/areas/"+g.Code, county, map[string]any{"retired": true}, &eb); st != 422 || eb.Error.Field != "reason" {
			t.Fatalf("retire without reason: %d %+v", st, eb)
		}
		if st := e.do("PATCH", "/api/v1/areas/"+g.Code, county, map[string]any{"name": "第一组", "retired": true, "reason": "合并"}, nil); st != 200 {
			t.Fatalf("rename and retire: %d", st)
		}
		var h struct{ Items []struct{ Field string } }
		if st := e.do("GET", "/api/v1/areas/"+g.Code+"/history", county, nil, &h); st != 200 || len(h.Items) != 3 {
			t.Fatalf("history: %d %+v", st, h)
		}
		if st := e.do("POST", "/api/v1/areas/320703001001/grids", county, map[string]string{"name": "x"}, nil); st != 404 {
			t.Fatalf("grid in another county: %d", st)
		}
		if _, err := audit.Verify(t.Context(), db); err != nil {
			t.Fatal(err)
		}
	})
}

// Pages: login through the form (with its CSRF token), see the own area, log out.
// Issue 9: a demo server says on every page that its data are made up,
// and while the city is still being built, that too.
func TestDemoBanners(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	for _, c := range []struct {
		state          string
		demo, building bool
	}{{"", false, false}, {"building", true, true}, {"ready", true, false}} {
		e.API.SetDemoState(c.state)
		resp, err := http.Get(e.Srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := strings.Contains(string(body), `id="demo-mode"`); got != c.demo {
			t.Errorf("state %q: demo note %v, want %v", c.state, got, c.demo)
		}
		if got := strings.Contains(string(body), `id="demo-building"`); got != c.building {
			t.Errorf("state %q: building banner %v, want %v", c.state, got, c.building)
		}
	}
}

func TestLoginPage(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	resp, err := cl.Get(e.Srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("not redirected to login: %s", resp.Request.URL)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if csrf == nil {
		t.Fatal("no csrf field on the login page")
	}
	post := func(pw, token string) (*http.Response, string) {
		r, err := cl.PostForm(e.Srv.URL+"/login", url.Values{"username": {"haizhou"}, "password": {pw}, "csrf": {token}, "next": {"/"}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return r, string(b)
	}
	if r, b := post(testPassword, "forged"); r.StatusCode != 403 || !strings.Contains(b, "页面已过期") {
		t.Fatalf("forged csrf: %d", r.StatusCode)
	}
	if r, b := post("wrong", string(csrf[1])); r.StatusCode != 401 || !strings.Contains(b, "用户名或密码错误") || !strings.Contains(b, `value="haizhou"`) {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	r, b := post(testPassword, string(csrf[1]))
	if r.StatusCode != 200 || r.Request.URL.Path != "/dashboard" || !strings.Contains(b, "海州区") || !strings.Contains(b, "新坝镇") {
		t.Fatalf("after login: %d %s", r.StatusCode, r.Request.URL)
	}
	other, _ := cl.Get(e.Srv.URL + "/areas/320703000000")
	other.Body.Close()
	if other.StatusCode != 404 {
		t.Fatalf("other county page: %d", other.StatusCode)
	}
	e.Clock.Advance(31 * time.Minute)
	idle, _ := cl.Get(e.Srv.URL + "/areas/320706000000")
	idle.Body.Close()
	if idle.Request.URL.Path != "/login" {
		t.Fatalf("idle session still open: %s", idle.Request.URL)
	}
}

func TestJSONBodyLimits(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	tok := e.login("haizhou")
	big := map[string]string{"name": strings.Repeat("网", 400_000)}
	var eb errBody
	if st := e.do("PATCH", "/api/v1/areas/320706102206", tok, big, &eb); st != 413 {
		t.Fatalf("1.2 MB body: %d %+v", st, eb)
	}
	req, _ := http.NewRequest("POST", e.Srv.URL+"/api/v1/login", strings.NewReader(`{"username":"a","password":"b"}{"x":1}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 422 {
		t.Fatalf("two JSON objects: %d", resp.StatusCode)
	}
}
