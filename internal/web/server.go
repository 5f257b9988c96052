// Package web serves the HTML pages (Simplified Chinese, server-rendered
// with html/template and htmx) and the JSON API under /api/v1.
package web

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/auth"
	"tanfang/internal/classes"
	"tanfang/internal/pii"
	"tanfang/internal/plan"
	"tanfang/internal/registry"
	"tanfang/internal/reports"
	"tanfang/internal/store"
	"tanfang/internal/visits"
)

//go:embed static
var staticFiles embed.FS

// Server holds what the handlers need. Now is injected so tests can move
// the clock (lockouts, idle sessions, weeks).
type Server struct {
	DB    *store.DB
	Keys  *pii.Keys
	Auth  *auth.Service
	Areas areas.Store
	// Registry is built by New from DB, Keys and Now.
	Registry *registry.Service
	Classes  *classes.Service // built by New, like Registry
	Visits   *visits.Service  // built by New, like Registry
	Plan     *plan.Service    // built by New, like Registry
	Reports  *reports.Service // built by New, like Registry
	Now      func() time.Time
	Log      *slog.Logger
	// SecureCookies marks cookies Secure; on behind HTTPS in production.
	SecureCookies bool

	pages       *pageSet
	openAPI     []byte
	nav         []navItem
	mux         *http.ServeMux
	apiPatterns []string
	// demoState is "", or building/ready/failed while serve --demo fills the city.
	demoState atomic.Value
	// elderSections add blocks to the elder's page (class, pairing, visits).
	elderSections []func(r *http.Request, c *caller, e registry.Elder) (elderSection, bool)
}

// apiRoute registers an authenticated JSON route.
func (s *Server) apiRoute(pattern string, h apiHandler) {
	s.mux.HandleFunc(pattern, s.api(h))
	s.apiPatterns = append(s.apiPatterns, pattern)
}

// APIPatterns lists the registered API routes ("METHOD /path"), so a test
// can hold the OpenAPI document to them.
func (s *Server) APIPatterns() []string { return append([]string(nil), s.apiPatterns...) }

// New wires the routes.
func New(s *Server) (*Server, error) {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	ps, err := loadPages()
	if err != nil {
		return nil, err
	}
	s.pages = ps
	s.Registry = &registry.Service{DB: s.DB, Keys: s.Keys, Now: s.Now}
	s.Classes = &classes.Service{DB: s.DB, Keys: s.Keys, Now: s.Now}
	s.Visits = &visits.Service{DB: s.DB, Keys: s.Keys, Now: s.Now}
	s.Plan = &plan.Service{DB: s.DB, Keys: s.Keys, Now: s.Now}
	s.Reports = &reports.Service{DB: s.DB, Plan: s.Plan, Visits: s.Visits, Now: s.Now}
	if s.openAPI, err = buildOpenAPI(); err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	static, _ := fs.Sub(staticFiles, "static")
	s.mux.Handle("GET /static/", cacheStatic(http.StripPrefix("/static/", http.FileServerFS(static))))
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.openAPI)
	})

	// JSON API. Every route registered here must be in openapi.json (a test checks).
	s.mux.HandleFunc("POST /api/v1/login", s.apiLogin)
	s.apiPatterns = append(s.apiPatterns, "POST /api/v1/login")
	s.apiRoute("POST /api/v1/logout", s.apiLogout)
	s.apiRoute("GET /api/v1/me", s.apiMe)
	s.apiRoute("GET /api/v1/areas/{code}", s.apiArea)
	s.apiRoute("PATCH /api/v1/areas/{code}", s.apiAreaPatch)
	s.apiRoute("POST /api/v1/areas/{code}/grids", s.apiAreaAddGrid)
	s.apiRoute("GET /api/v1/areas/{code}/history", s.apiAreaHistory)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, errNotFound, "", "接口不存在")
	})

	// Pages.
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.loginSubmit)
	s.mux.HandleFunc("POST /logout", s.page(s.logoutSubmit))
	s.mux.HandleFunc("GET /{$}", s.page(s.homePage))
	s.mux.HandleFunc("GET /areas/{code}", s.page(s.areaPage))
	s.mux.HandleFunc("POST /areas/{code}/grids", s.page(s.areaAddGridSubmit))
	s.eldersRoutes()
	s.classesRoutes()
	s.visitsRoutes()
	s.planRoutes()
	s.reportsRoutes()
	s.importsRoutes()
	s.addNav(navItem{Order: 90, Label: "区划", Href: func(c *caller) string { return "/areas/" + c.Area.Code }})
}

// navItem is one link of the page header. Each part of the product adds
// its own in its routes function; roles limits who sees it (all when empty).
type navItem struct {
	Order int
	Label string
	Href  func(c *caller) string
	Roles []string
}

func (s *Server) addNav(n navItem) {
	s.nav = append(s.nav, n)
	sort.SliceStable(s.nav, func(i, j int) bool { return s.nav[i].Order < s.nav[j].Order })
}

type navLink struct{ Label, Href string }

// navFor lists the header links a caller may see.
func (s *Server) navFor(c *caller) []navLink {
	var out []navLink
	for _, n := range s.nav {
		if len(n.Roles) > 0 && !slices.Contains(n.Roles, c.User.Role) {
			continue
		}
		out = append(out, navLink{n.Label, n.Href(c)})
	}
	return out
}

// ServeHTTP adds the cross-cutting layers: panic recovery, security
// headers and a request log without personal data.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	defer func() {
		if p := recover(); p != nil {
			s.Log.Error("panic", "path", r.URL.Path, "panic", p)
			if !rec.wrote {
				writeError(rec, http.StatusInternalServerError, errInternal, "", "服务器内部错误")
			}
		}
		// Only the path is logged: query strings may carry names or numbers.
		s.Log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "ms", time.Since(start).Milliseconds())
	}()
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'")
	s.mux.ServeHTTP(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status, r.wrote = code, true
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// SetDemoState tells pages and /healthz how the demo city's build is going.
func (s *Server) SetDemoState(state string) { s.demoState.Store(state) }

func (s *Server) demo() string {
	v, _ := s.demoState.Load().(string)
	return v
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	body := map[string]string{"status": "ok"}
	if d := s.demo(); d != "" {
		body["demo"] = d
	}
	writeJSON(w, http.StatusOK, body)
}

// clientIP is the peer address; a reverse proxy in front must be trusted
// explicitly before X-Forwarded-For would mean anything, so it is ignored.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}
