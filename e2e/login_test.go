package e2e

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// fillLogin types into the login form the way a person does and presses the
// button. The caller waits for whatever page should follow.
func fillLogin(base, username, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
}

// currentPath is the path and query of the page the browser shows.
func currentPath(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("read location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("parse location %q: %v", loc, err)
	}
	return u.RequestURI()
}

// textOf reads the rendered text of the first element matching sel.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// childLinks lists the areas of #children as name → href path.
func childLinks(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[][2]string](
		`Array.from(document.querySelectorAll('#children a')).map(a => [a.textContent.trim(), a.getAttribute('href')])`))
	if err != nil {
		t.Fatalf("read #children: %v", err)
	}
	m := map[string]string{}
	for _, l := range links {
		m[l[0]] = l[1]
	}
	return m
}

// A county account logs in through the form, sees its own county and its
// towns, is refused another county, and logs out with the header button
// (R-USR-1: each sees only its own area and below).
func TestLoginThroughRealPage(t *testing.T) {
	base := startServer(t)
	ctx := newBrowser(t)

	if err := chromedp.Do(ctx,
		fillLogin(base, "county", demoPassword),
		chromedp.WaitVisible(chromedp.ID("kpi-files")),
	); err != nil {
		t.Fatalf("log in as county: %v", err)
	}
	// Government accounts land on their area's dashboard.
	if got, want := currentPath(t, ctx), "/dashboard"; got != want {
		t.Errorf("after login the browser is at %s, want %s", got, want)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/areas/320706000000"), chromedp.WaitVisible(chromedp.ID("area-name"))); err != nil {
		t.Fatalf("open the county's area page: %v", err)
	}
	if got := textOf(t, ctx, "#area-name"); got != "海州区" {
		t.Errorf("#area-name = %q, want 海州区", got)
	}
	kids := childLinks(t, ctx)
	if href, ok := kids["新坝镇"]; !ok {
		t.Errorf("#children lacks 新坝镇; it lists %v", slices.Sorted(maps.Keys(kids)))
	} else if href != "/areas/320706102000" {
		t.Errorf("新坝镇 links to %s, want /areas/320706102000", href)
	}
	if who := textOf(t, ctx, "header .who"); !strings.Contains(who, "county") || !strings.Contains(who, "海州区") {
		t.Errorf("header shows %q, want the username and the county", who)
	}

	// 连云区 is a real county outside 海州区.
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+"/areas/320703000000"))
	if err != nil {
		t.Fatalf("open another county: %v", err)
	}
	if resp.Status != http.StatusNotFound {
		t.Errorf("another county answered %d, want 404", resp.Status)
	}
	if msg := textOf(t, ctx, "main"); !strings.Contains(msg, "不在您的管辖范围内") {
		t.Errorf("another county's page says %q, want it to say it is out of scope", msg)
	}
	if body := textOf(t, ctx, "body"); strings.Contains(body, "连云区") {
		t.Errorf("the refusal names the other county: %q", body)
	}

	logout := "header form[action='/logout'] button"
	if label := textOf(t, ctx, logout); label != "退出" {
		t.Fatalf("logout button reads %q, want 退出", label)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(logout)),
		chromedp.WaitVisible(chromedp.ID("login-form")),
	); err != nil {
		t.Fatalf("log out: %v", err)
	}
	if got := currentPath(t, ctx); got != "/login" {
		t.Errorf("after logout the browser is at %s, want /login", got)
	}
	// The session must be gone, not just the page changed.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/areas/320706000000"),
		chromedp.WaitVisible(chromedp.ID("login-form")),
	); err != nil {
		t.Fatalf("reopen the county page after logout: %v", err)
	}
	if got, want := currentPath(t, ctx), "/login?next="+url.QueryEscape("/areas/320706000000"); got != want {
		t.Errorf("after logout the county page sent the browser to %s, want %s", got, want)
	}
}

// A wrong password shows the error on the login page and keeps the typed
// username but never the password.
func TestWrongPasswordShowsErrorAndKeepsUsername(t *testing.T) {
	base := startServer(t)
	ctx := newBrowser(t)

	if err := chromedp.Do(ctx,
		fillLogin(base, "county", "Wrong#2026x"),
		chromedp.WaitVisible(chromedp.CSS(".alert.error")),
	); err != nil {
		t.Fatalf("submit a wrong password: %v", err)
	}
	if msg := textOf(t, ctx, ".alert.error"); msg != "用户名或密码错误" {
		t.Errorf("error reads %q, want 用户名或密码错误", msg)
	}
	if got := currentPath(t, ctx); got != "/login" {
		t.Errorf("browser is at %s, want to stay on /login", got)
	}
	user, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("username")))
	if err != nil {
		t.Fatalf("read #username: %v", err)
	}
	if user != "county" {
		t.Errorf("#username = %q after the error, want the typed county", user)
	}
	pass, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("password")))
	if err != nil {
		t.Fatalf("read #password: %v", err)
	}
	if pass != "" {
		t.Errorf("#password kept %q after the error, want it empty", pass)
	}

	// The kept username is enough: typing only the password logs in.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("area-name")),
	); err != nil {
		t.Fatalf("log in after the error with the kept username: %v", err)
	}
	if got := textOf(t, ctx, "#area-name"); got != "海州区" {
		t.Errorf("#area-name = %q after the second try, want 海州区", got)
	}
}
