package web

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/registry"
	"tanfang/internal/reports"
	"tanfang/internal/store"
)

// Dashboards and reports (R-OBJ-3, R-OVS-1, R-OVS-2, R-AREA-2): every
// government account sees its own area and drills down; counties and the
// city close periods and write the progress report.
func (s *Server) reportsRoutes() {
	s.apiRoute("GET /api/v1/stats/overview", s.apiOverview)
	s.apiRoute("GET /api/v1/reports", s.apiReport)
	s.apiRoute("GET /api/v1/reports/monthly.xlsx", s.apiReportMonthly)
	s.apiRoute("GET /api/v1/reports/quarterly.xlsx", s.apiReportQuarterly)
	s.apiRoute("POST /api/v1/reports/close", s.apiReportClose)
	s.apiRoute("GET /api/v1/reports/written", s.apiWritten)
	s.apiRoute("PUT /api/v1/reports/written", s.apiWrittenSave)
	s.apiRoute("GET /api/v1/reports/written.docx", s.apiWrittenDocx)

	s.mux.HandleFunc("GET /dashboard", s.page(s.dashboardPage))
	s.mux.HandleFunc("GET /reports", s.page(s.reportPage))
	s.mux.HandleFunc("GET /reports/report.xlsx", s.page(s.reportDownload))
	s.mux.HandleFunc("POST /reports/close", s.page(s.reportCloseSubmit))
	s.mux.HandleFunc("GET /reports/written", s.page(s.writtenPage))
	s.mux.HandleFunc("POST /reports/written", s.page(s.writtenSubmit))
	s.mux.HandleFunc("GET /reports/written.docx", s.page(s.writtenDownload))

	staff := []string{auth.RoleAdmin, auth.RoleCity, auth.RoleCounty, auth.RoleTown, auth.RoleVillage}
	s.addNav(navItem{Order: 1, Label: "统计看板", Href: func(*caller) string { return "/dashboard" }, Roles: staff})
	s.addNav(navItem{Order: 65, Label: "月报季报", Href: func(*caller) string { return "/reports" }, Roles: staff})
}

// canClose: counties and the city close periods and write the progress
// report (R-OVS-1).
func canClose(role string) bool { return role == auth.RoleCity || role == auth.RoleCounty }

// reportsError turns the reports package's typed errors into the API's.
func reportsError(err error) error {
	var fe *reports.FieldError
	var ce *reports.ConflictError
	switch {
	case errors.As(err, &fe):
		return badField(fe.Field, fe.Message)
	case errors.As(err, &ce):
		return &statusError{http.StatusConflict, errConflict, ce.Message}
	}
	return err
}

// ---- API ----

func (s *Server) apiOverview(w http.ResponseWriter, r *http.Request, c caller) error {
	if !isStaff(c.User.Role) {
		return errForbiddenRole
	}
	o, err := s.Reports.Overview(r.Context(), c.Scope, r.URL.Query().Get("area_code"))
	if err != nil {
		return reportsError(err)
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) apiReport(w http.ResponseWriter, r *http.Request, c caller) error {
	if !isStaff(c.User.Role) {
		return errForbiddenRole
	}
	q := r.URL.Query()
	if q.Get("period") == "" {
		return badField("period", "请指定期间，月份如2026-11，季度如2026-Q4")
	}
	rep, err := s.Reports.Report(r.Context(), c.Scope, q.Get("area_code"), q.Get("period"))
	if err != nil {
		return reportsError(err)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) apiReportMonthly(w http.ResponseWriter, r *http.Request, c caller) error {
	m := r.URL.Query().Get("month")
	if _, err := schedule.ParseMonth(m); err != nil || len(m) != 7 {
		return badField("month", "月份应写成2026-11这样的形式")
	}
	return s.writeReportXLSX(w, r, c, m)
}

func (s *Server) apiReportQuarterly(w http.ResponseWriter, r *http.Request, c caller) error {
	q := r.URL.Query().Get("quarter")
	if p, err := reports.ParsePeriod(q); err != nil || !p.IsQuarter() {
		return badField("quarter", "季度应写成2026-Q4这样的形式")
	}
	return s.writeReportXLSX(w, r, c, q)
}

// writeReportXLSX sends an area's report for a period as a workbook; the
// export is audited (its change list names elders, masked).
func (s *Server) writeReportXLSX(w http.ResponseWriter, r *http.Request, c caller, period string) error {
	if !isStaff(c.User.Role) {
		return errForbiddenRole
	}
	rep, err := s.Reports.Report(r.Context(), c.Scope, r.URL.Query().Get("area_code"), period)
	if err != nil {
		return reportsError(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteXLSX(&buf); err != nil {
		return err
	}
	e := c.auditEntry(s.Now(), "report.export", "report", rep.Area.Code+"/"+rep.Period)
	e.AreaCode = rep.Area.Code
	if err := audit.Log(r.Context(), s.DB, e); err != nil {
		return err
	}
	name := rep.Area.Name + rep.Label + "探访关爱报表.xlsx"
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", `attachment; filename="report-`+rep.Area.Code+"-"+rep.Period+`.xlsx"; filename*=UTF-8''`+url.PathEscape(name))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
	return nil
}

func (s *Server) apiReportClose(w http.ResponseWriter, r *http.Request, c caller) error {
	var in struct {
		AreaCode string `json:"area_code"`
		Period   string `json:"period"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if !canClose(c.User.Role) {
		return errForbiddenRole
	}
	if in.Period == "" {
		return badField("period", "请指定要结账的期间，月份如2026-11，季度如2026-Q4")
	}
	rep, err := s.Reports.Close(r.Context(), c.Scope, c.auditEntry(s.Now(), "", "", ""), in.AreaCode, in.Period)
	if err != nil {
		return reportsError(err)
	}
	writeJSON(w, http.StatusCreated, rep)
	return nil
}

func (s *Server) apiWritten(w http.ResponseWriter, r *http.Request, c caller) error {
	if !canClose(c.User.Role) {
		return errForbiddenRole
	}
	q := r.URL.Query()
	wr, err := s.Reports.Written(r.Context(), c.Scope, q.Get("area_code"), q.Get("period"))
	if err != nil {
		return reportsError(err)
	}
	writeJSON(w, http.StatusOK, wr)
	return nil
}

func (s *Server) apiWrittenSave(w http.ResponseWriter, r *http.Request, c caller) error {
	var in struct {
		AreaCode string            `json:"area_code"`
		Period   string            `json:"period"`
		Version  int               `json:"version"`
		Sections map[string]string `json:"sections"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if !canClose(c.User.Role) {
		return errForbiddenRole
	}
	wr, err := s.Reports.SaveWritten(r.Context(), c.Scope, c.auditEntry(s.Now(), "", "", ""), in.AreaCode, in.Period, in.Version, in.Sections)
	if err != nil {
		return reportsError(err)
	}
	writeJSON(w, http.StatusOK, wr)
	return nil
}

func (s *Server) apiWrittenDocx(w http.ResponseWriter, r *http.Request, c caller) error {
	return s.writeWrittenDocx(w, r, c)
}

// writeWrittenDocx sends the written progress report as a Word document.
func (s *Server) writeWrittenDocx(w http.ResponseWriter, r *http.Request, c caller) error {
	if !canClose(c.User.Role) {
		return errForbiddenRole
	}
	q := r.URL.Query()
	wr, err := s.Reports.Written(r.Context(), c.Scope, q.Get("area_code"), q.Get("period"))
	if err != nil {
		return reportsError(err)
	}
	var buf bytes.Buffer
	if err := wr.WriteDOCX(&buf, s.Now()); err != nil {
		return err
	}
	e := c.auditEntry(s.Now(), "report.export_written", "report", wr.Area.Code+"/"+wr.Period)
	e.AreaCode = wr.Area.Code
	if err := audit.Log(r.Context(), s.DB, e); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
	w.Header().Set("Content-Disposition", `attachment; filename="progress-`+wr.Area.Code+"-"+wr.Period+`.docx"; filename*=UTF-8''`+url.PathEscape(wr.Title+".docx"))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
	return nil
}

// ---- Pages ----

// reportPageError renders the reports package's errors on a page.
func (s *Server) reportPageError(w http.ResponseWriter, c *caller, csrf string, err error) {
	err = reportsError(err)
	var fe *fieldError
	if errors.As(err, &fe) {
		s.render(w, http.StatusUnprocessableEntity, "message", pageData{Title: "输入有误", Caller: c, CSRF: csrf, Data: fe.Message})
		return
	}
	s.pageError(w, c, csrf, err)
}

// crumb is one link of the path from the caller's area down.
type crumb struct{ Code, Name string }

// crumbs lists an area's ancestors within the caller's scope, and itself.
func (s *Server) crumbs(r *http.Request, c *caller, a areas.Area) ([]crumb, error) {
	anc, err := s.Areas.Ancestors(r.Context(), a.Code)
	if err != nil {
		return nil, err
	}
	var out []crumb
	for _, x := range anc {
		if c.Scope.Contains(x.Code) && x.Code != a.Code {
			out = append(out, crumb{x.Code, x.Name})
		}
	}
	return out, nil
}

type dashboardData struct {
	O        reports.Overview
	Crumbs   []crumb
	Written  bool // the area has a written progress report
	Month    string
	Quarter  string
	Statuses []statusCount
}

type statusCount struct {
	Code, Label string
	N           int
}

func (s *Server) dashboardPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !isStaff(c.User.Role) {
		s.pageError(w, c, csrf, errForbiddenRole)
		return
	}
	o, err := s.Reports.Overview(r.Context(), c.Scope, r.URL.Query().Get("area_code"))
	if err != nil {
		s.reportPageError(w, c, csrf, err)
		return
	}
	cr, err := s.crumbs(r, c, o.Area)
	if err != nil {
		s.serverError(w, err)
		return
	}
	now := s.Now()
	d := dashboardData{O: o, Crumbs: cr, Written: canClose(c.User.Role) && (o.Area.Level == areas.County || o.Area.Level == areas.City),
		Month: schedule.MonthOf(now).String(), Quarter: quarterOf(now)}
	for _, st := range registry.Statuses {
		if n := o.Elders.ByStatus[st.Code]; n > 0 {
			d.Statuses = append(d.Statuses, statusCount{st.Code, st.Label, n})
		}
	}
	s.render(w, http.StatusOK, "dashboard", pageData{Title: o.Area.Name + "统计看板", Caller: c, CSRF: csrf, Data: d})
}

// quarterOf names the Shanghai quarter of an instant ("2026-Q4").
func quarterOf(t time.Time) string {
	y, m, _ := t.In(age.Shanghai).Date()
	return strconv.Itoa(y) + "-Q" + strconv.Itoa((int(m)+2)/3)
}

// periodChoices are the months and quarters a report page offers: the
// current ones and the twelve months and four quarters before.
func periodChoices(now time.Time) (months, quarters []reports.Period) {
	m := schedule.MonthOf(now)
	for i := 0; i < 13; i++ {
		months = append(months, reports.MonthPeriod(m))
		m = schedule.MonthOf(m.Start().Add(-time.Hour))
	}
	q, _ := reports.ParsePeriod(quarterOf(now))
	for i := 0; i < 5; i++ {
		quarters = append(quarters, q)
		q = reports.Period{Year: q.Year, Quarter: q.Quarter - 1}
		if q.Quarter == 0 {
			q = reports.Period{Year: q.Year - 1, Quarter: 4}
		}
	}
	return months, quarters
}

type reportPageData struct {
	R        reports.Report
	Crumbs   []crumb
	Months   []reports.Period
	Quarters []reports.Period
	CanClose bool // the caller may close, and the period has ended and is open
	Written  bool
	Figures  []reports.Figure
	// Corrected is the latest corrected value of each corrected figure.
	Corrected map[string]string
}

func (s *Server) reportPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	s.renderReport(w, r, c, csrf, http.StatusOK, "")
}

func (s *Server) renderReport(w http.ResponseWriter, r *http.Request, c *caller, csrf string, status int, flash string) {
	if !isStaff(c.User.Role) {
		s.pageError(w, c, csrf, errForbiddenRole)
		return
	}
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		q = r.PostForm
	}
	period := q.Get("period")
	now := s.Now()
	if period == "" {
		period = schedule.MonthOf(schedule.MonthOf(now).Start().Add(-time.Hour)).String()
	}
	rep, err := s.Reports.Report(r.Context(), c.Scope, q.Get("area_code"), period)
	if err != nil {
		s.reportPageError(w, c, csrf, err)
		return
	}
	cr, err := s.crumbs(r, c, rep.Area)
	if err != nil {
		s.serverError(w, err)
		return
	}
	p, _ := reports.ParsePeriod(rep.Period)
	d := reportPageData{R: rep, Crumbs: cr, Figures: rep.Figures(),
		CanClose: canClose(c.User.Role) && rep.Closed == nil && !now.Before(p.End()),
		Written:  canClose(c.User.Role) && (rep.Area.Level == areas.County || rep.Area.Level == areas.City)}
	d.Months, d.Quarters = periodChoices(now)
	d.Corrected = map[string]string{}
	for _, c := range rep.Corrections {
		d.Corrected[c.Item] = strconv.Itoa(c.Value)
	}
	s.render(w, status, "report_view", pageData{Title: rep.Area.Name + rep.Label + "报表", Caller: c, CSRF: csrf, Flash: flash, Data: d})
}

func (s *Server) reportDownload(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if err := s.writeReportXLSX(w, r, *c, r.URL.Query().Get("period")); err != nil {
		s.reportPageError(w, c, csrf, err)
	}
}

func (s *Server) reportCloseSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !canClose(c.User.Role) {
		s.pageError(w, c, csrf, errForbiddenRole)
		return
	}
	rep, err := s.Reports.Close(r.Context(), c.Scope, c.auditEntry(s.Now(), "", "", ""), r.PostFormValue("area_code"), r.PostFormValue("period"))
	if err != nil {
		s.reportPageError(w, c, csrf, err)
		return
	}
	s.renderReport(w, r, c, csrf, http.StatusOK, rep.Area.Name+rep.Label+"已结账，报表数据就此固定；之后的变动将记为更正。")
}

type writtenPageData struct {
	W      reports.Written
	Crumbs []crumb
}

func (s *Server) writtenPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	q := r.URL.Query()
	s.renderWritten(w, r, c, csrf, http.StatusOK, q.Get("area_code"), q.Get("period"), "", "")
}

func (s *Server) renderWritten(w http.ResponseWriter, r *http.Request, c *caller, csrf string, status int, area, period, errMsg, flash string) {
	if !canClose(c.User.Role) {
		s.pageError(w, c, csrf, errForbiddenRole)
		return
	}
	if period == "" {
		period = schedule.MonthOf(schedule.MonthOf(s.Now()).Start().Add(-time.Hour)).String()
	}
	wr, err := s.Reports.Written(r.Context(), c.Scope, area, period)
	if err != nil {
		s.reportPageError(w, c, csrf, err)
		return
	}
	cr, err := s.crumbs(r, c, wr.Area)
	if err != nil {
		s.serverError(w, err)
		return
	}
	s.render(w, status, "report_written", pageData{Title: wr.Title, Caller: c, CSRF: csrf, Error: errMsg, Flash: flash, Data: writtenPageData{W: wr, Crumbs: cr}})
}

func (s *Server) writtenSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !canClose(c.User.Role) {
		s.pageError(w, c, csrf, errForbiddenRole)
		return
	}
	area, period := r.PostFormValue("area_code"), r.PostFormValue("period")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	texts := map[string]string{}
	for _, k := range reports.WrittenKeys {
		if v, ok := r.PostForm["text_"+k]; ok {
			texts[k] = v[0]
		}
	}
	_, err := s.Reports.SaveWritten(r.Context(), c.Scope, c.auditEntry(s.Now(), "", "", ""), area, period, version, texts)
	var fe *reports.FieldError
	var ce *reports.ConflictError
	switch {
	case errors.As(err, &fe):
		s.renderWritten(w, r, c, csrf, http.StatusUnprocessableEntity, area, period, fe.Message, "")
	case errors.As(err, &ce):
		s.renderWritten(w, r, c, csrf, http.StatusConflict, area, period, ce.Message, "")
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, c, csrf)
	case err != nil:
		s.serverError(w, err)
	default:
		s.renderWritten(w, r, c, csrf, http.StatusOK, area, period, "", "已保存")
	}
}

func (s *Server) writtenDownload(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if err := s.writeWrittenDocx(w, r, *c); err != nil {
		s.reportPageError(w, c, csrf, err)
	}
}
