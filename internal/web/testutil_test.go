package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/pii"
	"tanfang/internal/store"
	"tanfang/internal/web"
)

// testClock is a settable clock shared by the server and the test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const testPassword = "Test#2026pw"

// env is a running test server on a migrated database with the real areas
// and one account per role along 海州区 › 新坝镇 › 新坝村, plus a county
// account for 连云区.
type env struct {
	t     *testing.T
	DB    *store.DB
	Srv   *httptest.Server
	Clock *testClock
	API   *web.Server
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	clock := &testClock{t: time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)}
	if _, err := (areas.Store{DB: db}).LoadDivisions(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	authSvc := &auth.Service{DB: db, Now: clock.Now, Cost: bcrypt.MinCost}
	for _, u := range []auth.NewUser{
		{Username: "admin", Role: auth.RoleAdmin, AreaCode: "320700000000"},
		{Username: "haizhou", Role: auth.RoleCounty, AreaCode: "320706000000"},
		{Username: "lianyun", Role: auth.RoleCounty, AreaCode: "320703000000"},
		{Username: "xinba", Role: auth.RoleTown, AreaCode: "320706102000"},
		{Username: "xinbacun", Role: auth.RoleVillage, AreaCode: "320706102206"},
		{Username: "visitor1", Role: auth.RoleVisitor, AreaCode: "320706102206"},
	} {
		u.Password = testPassword
		if _, err := authSvc.CreateUser(ctx, u, audit.Entry{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := pii.New(bytes.Repeat([]byte{7}, pii.SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(&web.Server{DB: db, Keys: keys, Auth: authSvc, Areas: areas.Store{DB: db}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{t: t, DB: db, Srv: ts, Clock: clock, API: srv}
}

// do sends a JSON request and decodes a JSON answer into out (if not nil).
func (e *env) do(method, path, token string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.Srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

func (e *env) login(username string) string {
	e.t.Helper()
	var out struct{ Token string }
	if st := e.do("POST", "/api/v1/login", "", map[string]string{"username": username, "password": testPassword}, &out); st != 200 || out.Token == "" {
		e.t.Fatalf("login %s: status %d", username, st)
	}
	return out.Token
}

type errBody struct {
	Error struct {
		Code, Field, Message string
	} `json:"error"`
}
