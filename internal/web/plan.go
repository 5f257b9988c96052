package web

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/plan"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/registry"
	"tanfang/internal/store"
)

// Visitors, pairing, the weekly plan, tasks, campaigns and compliance
// (issue 5; R-USR-2, R-TEAM, R-FRQ-1..5, R-OVS-2): the JSON API first, then
// the pages.

func (s *Server) planRoutes() {
	s.apiRoute("POST /api/v1/visitors", s.apiVisitorCreate)
	s.apiRoute("GET /api/v1/visitors", s.apiVisitorList)
	s.apiRoute("GET /api/v1/visitors/{id}", s.apiVisitorGet)
	s.apiRoute("PATCH /api/v1/visitors/{id}", s.apiVisitorPatch)
	s.apiRoute("POST /api/v1/teams", s.apiTeamCreate)
	s.apiRoute("GET /api/v1/teams", s.apiTeamList)
	s.apiRoute("PATCH /api/v1/teams/{id}", s.apiTeamPatch)
	s.apiRoute("PUT /api/v1/elders/{id}/visitor", s.apiPair)
	s.apiRoute("DELETE /api/v1/elders/{id}/visitor", s.apiUnpair)
	s.apiRoute("GET /api/v1/elders/{id}/pairings", s.apiPairings)
	s.apiRoute("GET /api/v1/elders/{id}/week", s.apiElderWeek)
	s.apiRoute("GET /api/v1/elders/unpaired", s.apiUnpaired)
	s.apiRoute("GET /api/v1/exports/pairings.xlsx", s.apiRoster)
	s.apiRoute("GET /api/v1/tasks", s.apiTasks)
	s.apiRoute("GET /api/v1/stats/compliance", s.apiCompliance)
	s.apiRoute("POST /api/v1/campaigns", s.apiCampaignCreate)
	s.apiRoute("GET /api/v1/campaigns", s.apiCampaignList)
	s.apiRoute("GET /api/v1/campaigns/{id}", s.apiCampaignGet)
	s.apiRoute("GET /api/v1/plan-rules/{county}", s.apiRulesGet)
	s.apiRoute("PUT /api/v1/plan-rules/{county}", s.apiRulesPut)

	s.mux.HandleFunc("GET /tasks", s.page(s.tasksPage))
	s.mux.HandleFunc("GET /compliance", s.page(s.compliancePage))
	s.mux.HandleFunc("GET /visitors", s.page(s.visitorsPage))
	s.mux.HandleFunc("POST /visitors", s.page(s.visitorSubmit))
	s.mux.HandleFunc("POST /visitors/{id}/deactivate", s.page(s.visitorDeactivateSubmit))
	s.mux.HandleFunc("GET /visitors/roster.xlsx", s.page(s.rosterDownload))
	s.mux.HandleFunc("POST /elders/{id}/visitor", s.page(s.pairSubmit))
	s.mux.HandleFunc("GET /campaigns", s.page(s.campaignsPage))
	s.mux.HandleFunc("POST /campaigns", s.page(s.campaignSubmit))
	s.mux.HandleFunc("GET /campaigns/{id}", s.page(s.campaignPage))

	staff := []string{auth.RoleVillage, auth.RoleTown, auth.RoleCounty, auth.RoleCity, auth.RoleAdmin}
	s.addNav(navItem{Order: 5, Label: "我的任务", Href: func(*caller) string { return "/tasks" }, Roles: []string{auth.RoleVisitor}})
	s.addNav(navItem{Order: 40, Label: "探访人员", Href: func(*caller) string { return "/visitors" }, Roles: staff})
	s.addNav(navItem{Order: 45, Label: "加密探访", Href: func(*caller) string { return "/campaigns" }, Roles: staff})
	s.addNav(navItem{Order: 60, Label: "达标情况", Href: func(*caller) string { return "/compliance" }, Roles: staff})
	s.elderSections = append(s.elderSections, s.planSection)
}

// isStaff: government accounts manage visitors, pairing and campaigns;
// visitors see their own tasks.
func isStaff(role string) bool {
	switch role {
	case auth.RoleAdmin, auth.RoleCity, auth.RoleCounty, auth.RoleTown, auth.RoleVillage:
		return true
	}
	return false
}

// canRaise: campaigns and frequency rules are the county's and city's
// business (R-FRQ-5).
func canRaise(role string) bool {
	return role == auth.RoleAdmin || role == auth.RoleCity || role == auth.RoleCounty
}

// planError maps the plan package's typed errors to API errors.
func planError(err error) error {
	var fe *plan.FieldError
	var ce *plan.ConflictError
	switch {
	case errors.As(err, &fe):
		return badField(fe.Field, fe.Message)
	case errors.As(err, &ce):
		return &statusError{http.StatusConflict, errConflict, ce.Message}
	}
	return err
}

// actorOf is the audit template the plan service fills in.
func (s *Server) actorOf(c caller) audit.Entry { return c.auditEntry(s.Now(), "", "", "") }

// weekParam reads ?week=2026-W49, the current week when absent.
func (s *Server) weekParam(r *http.Request) (schedule.Week, error) {
	v := r.URL.Query().Get("week")
	if v == "" {
		return schedule.WeekOf(s.Now()), nil
	}
	w, err := schedule.ParseWeek(v)
	if err != nil {
		return w, badField("week", err.Error())
	}
	return w, nil
}

// periodParam reads ?week= or ?month=, the current week when neither.
func (s *Server) periodParam(r *http.Request) (plan.Period, error) {
	q := r.URL.Query()
	if m := q.Get("month"); m != "" {
		if q.Get("week") != "" {
			return plan.Period{}, badField("month", "周次和月份只能选一个")
		}
		mm, err := schedule.ParseMonth(m)
		if err != nil {
			return plan.Period{}, badField("month", err.Error())
		}
		return plan.Period{Month: &mm}, nil
	}
	w, err := s.weekParam(r)
	if err != nil {
		return plan.Period{}, err
	}
	return plan.Period{Week: &w}, nil
}

// ownVisitor is the visitor record of a visitor account.
func (s *Server) ownVisitor(r *http.Request, c caller) (plan.Visitor, error) {
	v, err := s.Plan.VisitorOfUser(r.Context(), c.User.ID)
	if errors.Is(err, store.ErrNotFound) {
		return v, &statusError{http.StatusNotFound, errNotFound, "您的账号还没有关联探访人员档案，请联系村（社区）"}
	}
	return v, err
}

// ---- API: visitors and teams ----

func (s *Server) apiVisitorCreate(w http.ResponseWriter, r *http.Request, c caller) error {
	if !isStaff(c.User.Role) {
		return errForbiddenRole
	}
	var in plan.VisitorInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v, err := s.Plan.CreateVisitor(r.Context(), c.Scope, s.actorOf(c), in)
	if err != nil {
		return planError(err)
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) apiVisitorList(w http.ResponseWriter, r *http.Request, c caller) error {
	if !isStaff(c.User.Role) {
		return errForbiddenRole
	}
	q := r.URL.Query()
	vs, err := s.Plan.Visitors(r.Context(), c.Scope, q.Get("area_code"), q.Get("all") == "1" || q.Get("all") == "true")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": vs})
	return nil
}

func (s *Server) apiVisitorGet(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := s.Plan.Visitor(r.Context(), c.Scope, id)
	if err != nil {
		return err
	}
	if !isStaff(c.User.Role) && (v.UserID == nil || *v.UserID != c.User.ID) {
		return store.ErrNotFound
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) apiVisitorPatch(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var p plan.VisitorPatch
	if err := decodeJSON(r, &p); err != nil {
		return err
	}
	if _, err := s.Plan.Visitor(r.Context(), c.Scope, id); err != nil {
		return err
	}
	if !isStaff(c.User.Role) {
		return errForbiddenRole
	}
	v, err := s.Plan.UpdateVisitor(r.Context(), c.Scope, s.actorOf(c), id, p)
	if err != nil {
		return planError(err)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) apiTeamCreate(w http.ResponseWriter, r *http.Request, c caller) error {
	if !isStaff(c.User.Role) {
		return errForbiddenRole
	}
	var in plan.TeamInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, err := s.Plan.CreateTeam(r.Context(), c.Scope, s.actorOf(c), in)
	if err != nil {
		return planError(err)
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) apiTeamList(w http.ResponseWriter, r *http.Request, c caller) error {
	if !isStaff(c.User.Role) {
		return errForbiddenRole
	}
	ts, err := s.Plan.Teams(r.Context(), c.Scope, r.URL.Query().Get("area_code"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ts})
	return nil
}

func (s *Server) apiTeamPatch(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var p plan.TeamPatch
	if err := decodeJSON(r, &p); err != nil {
		return err
	}
	if _, err := s.Plan.Team(r.Context(), c.Scope, id); err != nil {
		return err
	}
	if !isStaff(c.User.Role) {
		return errForbiddenRole
	}
	t, err := s.Plan.UpdateTeam(r.Context(), c.Scope, s.actorOf(c), id, p)
	if err != nil {
		return planError(err)
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// ---- API: pairing ----

func (s *Server) apiPair(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		VisitorID int64  `json:"visitor_id"`
		Role      string `json:"role"`
		Reason    string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if !isStaff(c.User.Role) {
		if _, err := s.Plan.Pairings(r.Context(), c.Scope, id); err != nil {
			return err
		}
		return errForbiddenRole
	}
	if in.VisitorID <= 0 {
		return badField("visitor_id", "请选择探访人员")
	}
	p, err := s.Plan.Pair(r.Context(), c.Scope, s.actorOf(c), id, in.VisitorID, in.Role, in.Reason)
	if err != nil {
		return planError(err)
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) apiUnpair(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if !isStaff(c.User.Role) {
		if _, err := s.Plan.Pairings(r.Context(), c.Scope, id); err != nil {
			return err
		}
		return errForbiddenRole
	}
	q := r.URL.Query()
	if err := s.Plan.Unpair(r.Context(), c.Scope, s.actorOf(c), id, q.Get("role"), q.Get("reason")); err != nil {
		return planError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiPairings(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ps, err := s.Plan.Pairings(r.Context(), c.Scope, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ps})
	return nil
}

func (s *Server) apiElderWeek(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	wk, err := s.weekParam(r)
	if err != nil {
		return err
	}
	ew, err := s.Plan.Week(r.Context(), c.Scope, id, wk)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ew)
	return nil
}

func (s *Server) apiUnpaired(w http.ResponseWriter, r *http.Request, c caller) error {
	if !isStaff(c.User.Role) {
		return errForbiddenRole
	}
	list, err := s.Plan.Unpaired(r.Context(), c.Scope, r.URL.Query().Get("area_code"), queryLimit(r, 200, 1000))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func (s *Server) apiRoster(w http.ResponseWriter, r *http.Request, c caller) error {
	return s.writeRoster(w, r, c)
}

// rosterDownload serves the roster to pages, which log in with a cookie.
func (s *Server) rosterDownload(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if err := s.writeRoster(w, r, *c); err != nil {
		s.pageError(w, c, csrf, err)
	}
}

// writeRoster sends the county filing roster as xlsx, audited.
func (s *Server) writeRoster(w http.ResponseWriter, r *http.Request, c caller) error {
	if !isStaff(c.User.Role) {
		return errForbiddenRole
	}
	area := r.URL.Query().Get("area_code")
	if area == "" {
		area = c.Area.Code
	}
	var buf bytes.Buffer
	n, err := s.Plan.Roster(r.Context(), c.Scope, area, &buf)
	if err != nil {
		return err
	}
	e := c.auditEntry(s.Now(), "export.pairings", "area", area)
	e.AreaCode, e.Detail = area, "rows="+strconv.Itoa(n)
	if err := audit.Log(r.Context(), s.DB, e); err != nil {
		return err
	}
	name := "结对备案名单-" + area + ".xlsx"
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", `attachment; filename="pairings-`+area+`.xlsx"; filename*=UTF-8''`+url.PathEscape(name))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
	return nil
}

// ---- API: tasks, compliance ----

// tasksVisitor decides whose tasks a caller asks for: a visitor account
// its own; government accounts any visitor in scope.
func (s *Server) tasksVisitor(r *http.Request, c caller) (plan.Visitor, error) {
	id, err := queryID(r, "visitor_id", "探访人员编号")
	if err != nil {
		return plan.Visitor{}, err
	}
	if c.User.Role == auth.RoleVisitor {
		own, err := s.ownVisitor(r, c)
		if err != nil {
			return own, err
		}
		if id != 0 && id != own.ID {
			return own, store.ErrNotFound
		}
		return own, nil
	}
	if !isStaff(c.User.Role) {
		return plan.Visitor{}, errForbiddenRole
	}
	if id == 0 {
		return plan.Visitor{}, badField("visitor_id", "请指定探访人员（visitor_id）")
	}
	return s.Plan.Visitor(r.Context(), c.Scope, id)
}

func (s *Server) apiTasks(w http.ResponseWriter, r *http.Request, c caller) error {
	v, err := s.tasksVisitor(r, c)
	if err != nil {
		return err
	}
	wk, err := s.weekParam(r)
	if err != nil {
		return err
	}
	tl, err := s.Plan.Tasks(r.Context(), v.ID, wk)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tl)
	return nil
}

func (s *Server) apiCompliance(w http.ResponseWriter, r *http.Request, c caller) error {
	p, err := s.periodParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if q.Get("visitor_id") != "" || c.User.Role == auth.RoleVisitor {
		if q.Get("area_code") != "" {
			return badField("area_code", "按区域或按探访人员统计，只能选一个")
		}
		v, err := s.tasksVisitor(r, c)
		if err != nil {
			return err
		}
		out, err := s.Plan.VisitorCompliance(r.Context(), v.ID, p)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	if !isStaff(c.User.Role) {
		return errForbiddenRole
	}
	out, err := s.Plan.Compliance(r.Context(), c.Scope, q.Get("area_code"), p, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ---- API: campaigns and rules ----

func (s *Server) apiCampaignCreate(w http.ResponseWriter, r *http.Request, c caller) error {
	var in plan.CampaignInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if !canRaise(c.User.Role) {
		return errForbiddenRole
	}
	cp, err := s.Plan.CreateCampaign(r.Context(), c.Scope, s.actorOf(c), in)
	if err != nil {
		return planError(err)
	}
	writeJSON(w, http.StatusCreated, cp)
	return nil
}

func (s *Server) apiCampaignList(w http.ResponseWriter, r *http.Request, c caller) error {
	running := r.URL.Query().Get("running")
	cs, err := s.Plan.Campaigns(r.Context(), c.Scope, running == "1" || running == "true")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": cs})
	return nil
}

func (s *Server) apiCampaignGet(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	cp, err := s.Plan.Campaign(r.Context(), c.Scope, id)
	if err != nil {
		return err
	}
	pr, err := s.Plan.CampaignProgress(r.Context(), c.Scope, cp)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaign": cp, "progress": pr})
	return nil
}

func (s *Server) apiRulesGet(w http.ResponseWriter, r *http.Request, c caller) error {
	if !isStaff(c.User.Role) {
		return errForbiddenRole
	}
	cr, err := s.Plan.Rules(r.Context(), c.Scope, r.PathValue("county"))
	if err != nil {
		return planError(err)
	}
	writeJSON(w, http.StatusOK, cr)
	return nil
}

func (s *Server) apiRulesPut(w http.ResponseWriter, r *http.Request, c caller) error {
	var in schedule.Rules
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if _, err := s.Plan.Rules(r.Context(), c.Scope, r.PathValue("county")); err != nil {
		return planError(err)
	}
	if !canRaise(c.User.Role) {
		return errForbiddenRole
	}
	cr, err := s.Plan.SetRules(r.Context(), c.Scope, s.actorOf(c), r.PathValue("county"), in)
	if err != nil {
		return planError(err)
	}
	writeJSON(w, http.StatusOK, cr)
	return nil
}

// ---- Pages ----

// pageError renders an error from the plan service on a page.
func (s *Server) pageError(w http.ResponseWriter, c *caller, csrf string, err error) {
	var fe *plan.FieldError
	var se *statusError
	var ce *plan.ConflictError
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, c, csrf)
	case errors.As(err, &se):
		s.render(w, se.Status, "message", pageData{Title: "无法查看", Caller: c, CSRF: csrf, Data: se.Message})
	case errors.As(err, &fe):
		s.render(w, http.StatusUnprocessableEntity, "message", pageData{Title: "输入有误", Caller: c, CSRF: csrf, Data: fe.Message})
	case errors.As(err, &ce):
		s.render(w, http.StatusConflict, "message", pageData{Title: "无法保存", Caller: c, CSRF: csrf, Data: ce.Message})
	default:
		s.serverError(w, err)
	}
}

type tasksPageData struct {
	Visitor  plan.Visitor
	List     plan.TaskList
	Overdue  []plan.Task // last week's unmet elders, while viewing the current week
	Current  bool
	ForOther bool // a government account viewing a visitor's tasks
	Prev     string
	Next     string
	Visitors []plan.Visitor // for government accounts choosing whose tasks
}

// tasksPage is "我的任务": the visitor's elders of the week, highest risk
// first, what is still owed by mode, deadlines and notes; last week's
// unmet elders stay on top in red until recorded late.
func (s *Server) tasksPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if isStaff(c.User.Role) && r.URL.Query().Get("visitor_id") == "" {
		vs, err := s.Plan.Visitors(r.Context(), c.Scope, "", false)
		if err != nil {
			s.serverError(w, err)
			return
		}
		s.render(w, http.StatusOK, "plan_tasks", pageData{Title: "探访任务", Caller: c, CSRF: csrf, Data: tasksPageData{Visitors: vs}})
		return
	}
	v, err := s.tasksVisitor(r, *c)
	if err != nil {
		s.pageError(w, c, csrf, err)
		return
	}
	wk, err := s.weekParam(r)
	if err != nil {
		s.pageError(w, c, csrf, err)
		return
	}
	tl, err := s.Plan.Tasks(r.Context(), v.ID, wk)
	if err != nil {
		s.serverError(w, err)
		return
	}
	d := tasksPageData{Visitor: v, List: tl, Current: wk == schedule.WeekOf(s.Now()), ForOther: c.User.Role != auth.RoleVisitor,
		Prev: wk.Prev().String(), Next: wk.Next().String()}
	if d.Current {
		last, err := s.Plan.Tasks(r.Context(), v.ID, wk.Prev())
		if err != nil {
			s.serverError(w, err)
			return
		}
		for _, t := range last.Items {
			if t.Overdue {
				d.Overdue = append(d.Overdue, t)
			}
		}
	}
	title := "我的任务"
	if c.User.Role != auth.RoleVisitor {
		title = v.Name + "的探访任务"
	}
	s.render(w, http.StatusOK, "plan_tasks", pageData{Title: title, Caller: c, CSRF: csrf, Data: d})
}

type compliancePageData struct {
	C      plan.Compliance
	Total  complianceRow
	Rows   []complianceRow
	Month  bool
	Week   string
	MonthV string
	Query  string // the period part of links, "week=2026-W49"
	Up     string // the parent area, when in scope
}

// complianceRow is one line of the compliance table, rates as percentages.
type complianceRow struct {
	Code, Name               string
	InScope, Met             int
	Pending, Partial, Missed int
	Rate, A, B, C, Monthly   string
	Low                      bool // below 90%, shown in red
}

func pct(r float64, of int) string {
	if of == 0 {
		return "—"
	}
	return strconv.FormatFloat(r*100, 'f', 1, 64) + "%"
}

func rowOf(c plan.Compliance) complianceRow {
	row := complianceRow{Code: c.AreaCode, Name: c.AreaName, InScope: c.InScope, Met: c.Met, Pending: c.Pending, Partial: c.Partial,
		Missed: c.Missed, Rate: pct(c.Rate, c.InScope), Low: c.InScope > 0 && c.Rate < 0.9, Monthly: "—"}
	row.A = pct(c.ByClass["A"].Rate, c.ByClass["A"].InScope)
	row.B = pct(c.ByClass["B"].Rate, c.ByClass["B"].InScope)
	row.C = pct(c.ByClass["C"].Rate, c.ByClass["C"].InScope)
	if c.Monthly != nil {
		row.Monthly = pct(c.Monthly.Rate, c.Monthly.InScope)
	}
	return row
}

func (s *Server) compliancePage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !isStaff(c.User.Role) {
		s.pageError(w, c, csrf, errForbiddenRole)
		return
	}
	p, err := s.periodParam(r)
	if err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			s.render(w, http.StatusUnprocessableEntity, "message", pageData{Title: "输入有误", Caller: c, CSRF: csrf, Data: fe.Message})
			return
		}
		s.serverError(w, err)
		return
	}
	out, err := s.Plan.Compliance(r.Context(), c.Scope, r.URL.Query().Get("area_code"), p, true)
	if err != nil {
		s.pageError(w, c, csrf, err)
		return
	}
	d := compliancePageData{C: out, Total: rowOf(out), Month: p.Month != nil}
	for _, k := range out.Children {
		d.Rows = append(d.Rows, rowOf(k))
	}
	if p.Month != nil {
		d.MonthV, d.Query = p.Month.String(), "month="+p.Month.String()
	} else {
		d.Week, d.Query = p.Week.String(), "week="+p.Week.String()
	}
	if out.AreaCode != c.Area.Code {
		if a, err := s.Areas.Get(r.Context(), out.AreaCode); err == nil && c.Scope.Contains(a.ParentCode) {
			d.Up = a.ParentCode
		}
	}
	s.render(w, http.StatusOK, "plan_compliance", pageData{Title: "达标情况 · " + out.AreaName, Caller: c, CSRF: csrf, Data: d})
}

type visitorsPageData struct {
	AreaCode string
	Visitors []plan.Visitor
	Unpaired plan.UnpairedList
	Kinds    []plan.Choice
	Form     url.Values
	Errors   map[string]string
}

func (s *Server) visitorsPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	s.renderVisitors(w, r, c, csrf, http.StatusOK, url.Values{}, nil, "", r.URL.Query().Get("flash"))
}

func (s *Server) renderVisitors(w http.ResponseWriter, r *http.Request, c *caller, csrf string, status int, form url.Values, errs map[string]string, errMsg, flash string) {
	if !isStaff(c.User.Role) {
		s.pageError(w, c, csrf, errForbiddenRole)
		return
	}
	area := r.URL.Query().Get("area_code")
	vs, err := s.Plan.Visitors(r.Context(), c.Scope, area, false)
	if err != nil {
		s.pageError(w, c, csrf, err)
		return
	}
	un, err := s.Plan.Unpaired(r.Context(), c.Scope, area, 200)
	if err != nil {
		s.pageError(w, c, csrf, err)
		return
	}
	if area == "" {
		area = c.Area.Code
	}
	if form.Get("area_code") == "" {
		form.Set("area_code", area)
	}
	s.render(w, status, "plan_visitors", pageData{Title: "探访人员与结对", Caller: c, CSRF: csrf, Error: errMsg, Flash: flash,
		Data: visitorsPageData{AreaCode: area, Visitors: vs, Unpaired: un, Kinds: plan.Kinds, Form: form, Errors: errs}})
}

func (s *Server) visitorSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !isStaff(c.User.Role) {
		s.pageError(w, c, csrf, errForbiddenRole)
		return
	}
	f := r.PostForm
	_, err := s.Plan.CreateVisitor(r.Context(), c.Scope, s.actorOf(*c), plan.VisitorInput{
		Name: f.Get("name"), Phone: f.Get("phone"), AreaCode: f.Get("area_code"), Kind: f.Get("kind"), Unit: f.Get("unit"), Title: f.Get("title"),
	})
	var fe *plan.FieldError
	var ce *plan.ConflictError
	switch {
	case errors.As(err, &fe):
		s.renderVisitors(w, r, c, csrf, http.StatusUnprocessableEntity, f, map[string]string{fe.Field: fe.Message}, fe.Message, "")
	case errors.As(err, &ce):
		s.renderVisitors(w, r, c, csrf, http.StatusConflict, f, nil, ce.Message, "")
	case err != nil:
		s.serverError(w, err)
	default:
		http.Redirect(w, r, "/visitors?area_code="+url.QueryEscape(r.URL.Query().Get("area_code"))+"&flash="+url.QueryEscape("已登记探访人员："+strings.TrimSpace(f.Get("name"))), http.StatusSeeOther)
	}
}

func (s *Server) visitorDeactivateSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	id, err := pathID(r)
	if err != nil {
		s.notFound(w, c, csrf)
		return
	}
	if _, err := s.Plan.Visitor(r.Context(), c.Scope, id); err != nil {
		s.pageError(w, c, csrf, err)
		return
	}
	if !isStaff(c.User.Role) {
		s.pageError(w, c, csrf, errForbiddenRole)
		return
	}
	v, err := s.Plan.UpdateVisitor(r.Context(), c.Scope, s.actorOf(*c), id, plan.VisitorPatch{Active: new(bool), Reason: r.PostFormValue("reason")})
	if err != nil {
		s.pageError(w, c, csrf, err)
		return
	}
	http.Redirect(w, r, "/visitors?flash="+url.QueryEscape("已停用："+v.Name+"，其结对老人已列入未结对名单"), http.StatusSeeOther)
}

func (s *Server) pairSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	id, err := pathID(r)
	if err != nil {
		s.notFound(w, c, csrf)
		return
	}
	if _, err := s.Plan.Pairings(r.Context(), c.Scope, id); err != nil {
		s.pageError(w, c, csrf, err)
		return
	}
	if !isStaff(c.User.Role) {
		s.pageError(w, c, csrf, errForbiddenRole)
		return
	}
	vid, _ := strconv.ParseInt(r.PostFormValue("visitor_id"), 10, 64)
	if vid <= 0 {
		s.pageError(w, c, csrf, &plan.FieldError{Field: "visitor_id", Message: "请选择探访人员"})
		return
	}
	if _, err := s.Plan.Pair(r.Context(), c.Scope, s.actorOf(*c), id, vid, r.PostFormValue("role"), r.PostFormValue("reason")); err != nil {
		s.pageError(w, c, csrf, err)
		return
	}
	http.Redirect(w, r, "/elders/"+strconv.FormatInt(id, 10)+"#plan", http.StatusSeeOther)
}

type planSectionData struct {
	ElderID   int64
	Week      *plan.ElderWeek
	Current   []plan.Pairing
	History   []plan.Pairing
	Visitors  []plan.Visitor
	CanPair   bool
	CSRF      string
	VisitorOf map[int64]plan.Visitor
}

// planSection is the elder page's block: the fixed visitors, this week's
// requirement and where it stands, and for staff the pairing form.
func (s *Server) planSection(r *http.Request, c *caller, e registry.Elder) (elderSection, bool) {
	ctx := r.Context()
	d := planSectionData{ElderID: e.ID, CanPair: isStaff(c.User.Role) && e.Active, VisitorOf: map[int64]plan.Visitor{}}
	if ck, err := r.Cookie(csrfCookie); err == nil {
		d.CSRF = ck.Value
	}
	ps, err := s.Plan.Pairings(ctx, c.Scope, e.ID)
	if err != nil {
		s.Log.Error("plan section", "err", err)
		return elderSection{}, false
	}
	for _, p := range ps {
		if p.EndedAt == nil {
			d.Current = append(d.Current, p)
		} else {
			d.History = append([]plan.Pairing{p}, d.History...)
		}
	}
	if wk, err := s.Plan.Week(ctx, c.Scope, e.ID, schedule.WeekOf(s.Now())); err == nil {
		d.Week = &wk
	} else if !errors.Is(err, store.ErrNotFound) {
		s.Log.Error("plan section", "err", err)
	}
	if d.CanPair {
		// Visitors of the elder's town, so a neighbouring village's cadre may pair too.
		town := e.AreaCode
		if len(town) >= 9 {
			town = town[:9] + "000"
		}
		vs, err := s.Plan.Visitors(ctx, c.Scope, town, false)
		if err != nil {
			vs, err = s.Plan.Visitors(ctx, c.Scope, "", false)
		}
		if err != nil {
			s.Log.Error("plan section", "err", err)
		}
		d.Visitors = vs
	}
	var b strings.Builder
	if err := s.pages.pages["plan_section"].ExecuteTemplate(&b, "plan_section", d); err != nil {
		s.Log.Error("plan section", "err", err)
		return elderSection{}, false
	}
	return elderSection{Title: "结对与本周探访要求", HTML: template.HTML(b.String())}, true
}

type campaignsPageData struct {
	Campaigns []plan.Campaign
	CanCreate bool
	Form      url.Values
	Errors    map[string]string
	Today     string
}

func (s *Server) campaignsPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	s.renderCampaigns(w, r, c, csrf, http.StatusOK, url.Values{}, nil, "")
}

func (s *Server) renderCampaigns(w http.ResponseWriter, r *http.Request, c *caller, csrf string, status int, form url.Values, errs map[string]string, errMsg string) {
	cs, err := s.Plan.Campaigns(r.Context(), c.Scope, false)
	if err != nil {
		s.pageError(w, c, csrf, err)
		return
	}
	if form.Get("area_code") == "" {
		form.Set("area_code", c.Area.Code)
	}
	today := age.DateOf(s.Now()).String()
	s.render(w, status, "plan_campaigns", pageData{Title: "加密探访", Caller: c, CSRF: csrf, Error: errMsg,
		Data: campaignsPageData{Campaigns: cs, CanCreate: canRaise(c.User.Role), Form: form, Errors: errs, Today: today}})
}

func (s *Server) campaignSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !canRaise(c.User.Role) {
		s.pageError(w, c, csrf, errForbiddenRole)
		return
	}
	f := r.PostForm
	num := func(k string) int { n, _ := strconv.Atoi(strings.TrimSpace(f.Get(k))); return n }
	in := plan.CampaignInput{
		Name: f.Get("name"), Reason: f.Get("reason"), AreaCode: f.Get("area_code"), Classes: f["classes"],
		StartsOn: f.Get("starts_on"), EndsOn: f.Get("ends_on"), Add: schedule.Requirement{Home: num("add_home"), Call: num("add_call")},
		HomeToCall: f.Get("home_to_call") == "1", DeadlineHours: num("deadline_hours"), DeadlineModes: f["deadline_modes"], DeadlineTimes: num("deadline_times"),
	}
	cp, err := s.Plan.CreateCampaign(r.Context(), c.Scope, s.actorOf(*c), in)
	var fe *plan.FieldError
	switch {
	case errors.As(err, &fe):
		s.renderCampaigns(w, r, c, csrf, http.StatusUnprocessableEntity, f, map[string]string{fe.Field: fe.Message}, fe.Message)
	case err != nil:
		s.serverError(w, err)
	default:
		http.Redirect(w, r, "/campaigns/"+strconv.FormatInt(cp.ID, 10), http.StatusSeeOther)
	}
}

type campaignPageData struct {
	C plan.Campaign
	P plan.CampaignProgress
}

func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	id, err := pathID(r)
	if err != nil {
		s.notFound(w, c, csrf)
		return
	}
	cp, err := s.Plan.Campaign(r.Context(), c.Scope, id)
	if err != nil {
		s.pageError(w, c, csrf, err)
		return
	}
	pr, err := s.Plan.CampaignProgress(r.Context(), c.Scope, cp)
	if err != nil {
		s.serverError(w, err)
		return
	}
	s.render(w, http.StatusOK, "plan_campaign", pageData{Title: cp.Name, Caller: c, CSRF: csrf, Data: campaignPageData{C: cp, P: pr}})
}
