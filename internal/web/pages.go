package web

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/auth"
	"tanfang/internal/policy/age"
	"tanfang/internal/registry"
)

//go:embed templates/*.html
var templateFiles embed.FS

const (
	sessionCookie = "tf_session"
	csrfCookie    = "tf_csrf"
)

// pageSet holds one parsed template per page, each joined with the layout.
type pageSet struct {
	pages map[string]*template.Template
	// frags are templates named frag_*.html, rendered into parts of pages
	// (blocks other parts add to the elder's page).
	frags map[string]*template.Template
}

var funcs = template.FuncMap{
	"levelName": areas.LevelName,
	"roleName":  func(r string) string { return auth.RoleNames[r] },
	// val, has and fieldErr read form values and errors in templates.
	"val": func(v url.Values, k string) string { return v.Get(k) },
	"has": func(v url.Values, k, want string) bool { return slices.Contains(v[k], want) },
	"fieldErr": func(m map[string]string, k string) string {
		return m[k]
	},
	"label": registry.Label,
	"labels": func(cs []registry.Choice, codes []string) string {
		out := make([]string, len(codes))
		for i, c := range codes {
			out[i] = registry.Label(cs, c)
		}
		return strings.Join(out, "、")
	},
	"yesno": func(b *bool) string {
		switch {
		case b == nil:
			return "未填"
		case *b:
			return "是"
		}
		return "否"
	},
	"deref": func(b *bool) bool { return b != nil && *b },
	"list":  func(xs ...string) []string { return xs },
	"versionKind": func(k string) string {
		return map[string]string{"created": "建档", "updated": "修改", "status": "状态变更", "transferred": "档案转移"}[k]
	},
	"fmtTime": func(t time.Time) string { return t.In(age.Shanghai).Format("2006-01-02 15:04") },
	"pct":     pct,
	"vl":      visitLabel,
	"vls":     visitLabelList,
	"classLabel": func(c string) string {
		switch c {
		case "A", "B", "C":
			return c + "类"
		case "none":
			return "不在探访范围"
		}
		return "未分类"
	},
}

func loadPages() (*pageSet, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	ps := &pageSet{pages: map[string]*template.Template{}, frags: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		if strings.HasPrefix(base, "frag_") {
			t, err := template.New(base+".html").Funcs(funcs).ParseFS(templateFiles, n)
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", n, err)
			}
			ps.frags[base] = t
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		ps.pages[base] = t
	}
	return ps, nil
}

// pageData is what every page template receives.
type pageData struct {
	Nav []navLink
	// DemoBuilding shows a banner while serve --demo is still filling the
	// city; Demo a line on every page saying the data are made up.
	DemoBuilding, Demo bool
	Title              string
	Caller             *caller
	CSRF               string
	Error              string
	Flash              string
	Data               any
	// Alerts are open emergencies shown at the top of every page.
	Alerts []pageAlert
}

func (s *Server) render(w http.ResponseWriter, status int, name string, d pageData) {
	d.DemoBuilding, d.Demo = s.demo() == "building", s.demo() != ""
	if d.Caller != nil && d.Nav == nil {
		d.Nav = s.navFor(d.Caller)
	}
	if d.Caller != nil && d.Alerts == nil {
		d.Alerts = s.pageAlerts(d.Caller)
	}
	t := s.pages.pages[name]
	if t == nil {
		s.Log.Error("no template", "name", name)
		http.Error(w, "页面模板缺失", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout.html", d); err != nil {
		s.Log.Error("render", "template", name, "err", err)
		http.Error(w, "页面生成失败", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fragment renders a frag_*.html template to HTML for embedding in a page.
func (s *Server) fragment(name string, data any) (template.HTML, error) {
	t := s.pages.frags[name]
	if t == nil {
		return "", fmt.Errorf("no fragment %s", name)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("fragment %s: %w", name, err)
	}
	return template.HTML(b.String()), nil
}

// csrfToken returns the request's CSRF token, setting the cookie when the
// browser has none yet. Forms echo it in a hidden field (double submit);
// htmx sends it in the X-CSRF-Token header.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
	return tok
}

func csrfOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	sent := r.Header.Get("X-CSRF-Token")
	if sent == "" {
		sent = r.PostFormValue("csrf")
	}
	return subtle.ConstantTimeCompare([]byte(sent), []byte(c.Value)) == 1
}

// pageHandler renders a page for a logged-in caller.
type pageHandler func(w http.ResponseWriter, r *http.Request, c *caller, csrf string)

// page requires a cookie session (redirecting to the login page otherwise)
// and a valid CSRF token on every state-changing request.
func (s *Server) page(h pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		csrf := s.csrfToken(w, r)
		var token string
		if ck, err := r.Cookie(sessionCookie); err == nil {
			token = ck.Value
		}
		c, err := s.resolve(r.Context(), token, clientIP(r))
		if err != nil {
			if !errors.Is(err, auth.ErrNoSession) {
				s.Log.Error("authenticate", "err", err)
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !csrfOK(r) {
			http.Error(w, "页面已过期，请刷新后重试（CSRF校验失败）", http.StatusForbidden)
			return
		}
		h(w, r, &c, csrf)
	}
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "login", pageData{Title: "登录", CSRF: s.csrfToken(w, r), Data: loginForm{Next: safeNext(r.URL.Query().Get("next"))}})
}

type loginForm struct{ Username, Next string }

// safeNext keeps redirects after login on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return next
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	csrf := s.csrfToken(w, r)
	form := loginForm{Username: strings.TrimSpace(r.PostFormValue("username")), Next: safeNext(r.PostFormValue("next"))}
	fail := func(status int, msg string) {
		s.render(w, status, "login", pageData{Title: "登录", CSRF: csrf, Error: msg, Data: form})
	}
	if !csrfOK(r) {
		fail(http.StatusForbidden, "页面已过期，请重新提交")
		return
	}
	if form.Username == "" {
		fail(http.StatusUnprocessableEntity, "请输入用户名")
		return
	}
	token, _, _, err := s.Auth.Login(r.Context(), form.Username, r.PostFormValue("password"), clientIP(r), "web")
	var le *auth.LockedError
	switch {
	case errors.As(err, &le):
		fail(http.StatusLocked, lockedMessage(le, s.Now()))
		return
	case errors.Is(err, auth.ErrBadCredentials):
		fail(http.StatusUnauthorized, "用户名或密码错误")
		return
	case err != nil:
		s.Log.Error("login", "err", err)
		fail(http.StatusInternalServerError, "服务器内部错误，请稍后再试")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, form.Next, http.StatusSeeOther)
}

func (s *Server) logoutSubmit(w http.ResponseWriter, r *http.Request, c *caller, _ string) {
	_ = s.Auth.Logout(r.Context(), c.Token)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) homePage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	switch {
	case c.User.Role == auth.RoleVisitor:
		http.Redirect(w, r, "/tasks", http.StatusSeeOther)
	case isStaff(c.User.Role):
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/areas/"+c.Area.Code, http.StatusSeeOther)
	}
}

type areaPageData struct {
	Area      areas.Area
	Ancestors []areas.Area
	Children  []areas.Area
	CanManage bool
}

func (s *Server) areaPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	s.renderArea(w, r, c, csrf, http.StatusOK, "", "")
}

func (s *Server) renderArea(w http.ResponseWriter, r *http.Request, c *caller, csrf string, status int, errMsg, flash string) {
	ctx := r.Context()
	a, err := s.Areas.GetIn(ctx, c.Scope, r.PathValue("code"))
	if err != nil {
		s.notFound(w, c, csrf)
		return
	}
	anc, err := s.Areas.Ancestors(ctx, a.Code)
	if err != nil {
		s.serverError(w, err)
		return
	}
	var visible []areas.Area
	for _, x := range anc {
		if c.Scope.Contains(x.Code) {
			visible = append(visible, x)
		}
	}
	kids, err := s.Areas.Children(ctx, a.Code, false)
	if err != nil {
		s.serverError(w, err)
		return
	}
	s.render(w, status, "area", pageData{Title: a.Name, Caller: c, CSRF: csrf, Error: errMsg, Flash: flash, Data: areaPageData{
		Area: a, Ancestors: visible, Children: kids, CanManage: canManageAreas(c.User.Role) && a.Level == areas.Village,
	}})
}

func (s *Server) areaAddGridSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	g, err := s.addGrid(r.Context(), *c, r.PathValue("code"), r.PostFormValue("name"))
	if err != nil {
		var fe *fieldError
		var se *statusError
		switch {
		case errors.As(err, &fe):
			s.renderArea(w, r, c, csrf, http.StatusUnprocessableEntity, fe.Message, "")
		case errors.As(err, &se):
			s.renderArea(w, r, c, csrf, se.Status, se.Message, "")
		case errors.Is(err, areas.ErrInvalid):
			s.renderArea(w, r, c, csrf, http.StatusUnprocessableEntity, strings.TrimPrefix(err.Error(), areas.ErrInvalid.Error()+": "), "")
		default:
			s.notFoundOr(w, c, csrf, err)
		}
		return
	}
	s.renderArea(w, r, c, csrf, http.StatusOK, "", "已新建网格："+g.Name)
}

func (s *Server) notFoundOr(w http.ResponseWriter, c *caller, csrf string, err error) {
	if errors.Is(err, areas.ErrNotFound) {
		s.notFound(w, c, csrf)
		return
	}
	s.serverError(w, err)
}

func (s *Server) notFound(w http.ResponseWriter, c *caller, csrf string) {
	s.render(w, http.StatusNotFound, "message", pageData{Title: "未找到", Caller: c, CSRF: csrf, Data: "您要找的页面不存在，或不在您的管辖范围内。"})
}

func (s *Server) serverError(w http.ResponseWriter, err error) {
	s.Log.Error("page", "err", err)
	http.Error(w, "服务器内部错误", http.StatusInternalServerError)
}
