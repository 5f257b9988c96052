package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"tanfang/internal/areas"
	"tanfang/internal/auth"
	"tanfang/internal/classes"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/assess"
	"tanfang/internal/policy/classify"
	"tanfang/internal/registry"
)

// Classes A/B/C and the ability assessment (R-CLS-1..4, DOMAIN §1): the
// JSON API first, then the pages.

func (s *Server) classesRoutes() {
	s.apiRoute("POST /api/v1/classification/preview", s.apiClassPreview)
	s.apiRoute("GET /api/v1/elders/{id}/class", s.apiElderClass)
	s.apiRoute("POST /api/v1/elders/{id}/class-override", s.apiClassOverride)
	s.apiRoute("DELETE /api/v1/elders/{id}/class-override", s.apiClassOverrideRemove)
	s.apiRoute("GET /api/v1/assessment-items", s.apiAssessmentItems)
	s.apiRoute("POST /api/v1/elders/{id}/assessments", s.apiAssess)
	s.apiRoute("GET /api/v1/elders/{id}/assessments", s.apiAssessments)
	s.apiRoute("GET /api/v1/assessments/{id}", s.apiAssessment)
	s.apiRoute("GET /api/v1/counties/{code}/class-rules", s.apiClassRules)
	s.apiRoute("PUT /api/v1/counties/{code}/class-rules", s.apiClassRulesSave)
	s.apiRoute("GET /api/v1/counties/{code}/class-rules/versions", s.apiClassRulesVersions)
	s.apiRoute("GET /api/v1/counties/{code}/assessment-settings", s.apiAssessSettings)
	s.apiRoute("PUT /api/v1/counties/{code}/assessment-settings", s.apiAssessSettingsSave)
	s.apiRoute("GET /api/v1/counties/{code}/assessment-settings/versions", s.apiAssessSettingsVersions)
	s.classesPages()
}

func (c caller) classActor() classes.Actor {
	return classes.Actor{UserID: c.User.ID, Username: c.User.Username, Role: c.User.Role, IP: c.IP}
}

// classesError maps the classes package's typed errors to API errors.
func classesError(err error) error {
	var fe *classes.FieldError
	var ie assess.InputError
	var stale *classes.ErrStale
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return badField(fe.Field, fe.Message)
	case errors.As(err, &ie) && len(ie) > 0:
		// The field names the first item at fault; the message lists all.
		return badField(ie[0].Code, ie.Error())
	case errors.As(err, &stale):
		return &statusError{http.StatusConflict, errConflict, stale.Error()}
	case errors.Is(err, classes.ErrForbidden):
		return errForbiddenRole
	}
	return err
}

// factFields are the JSON names of classify.Facts, which decodes itself
// and so cannot refuse unknown fields on its own.
var factFields = []string{"birth_date", "birth_day_assumed", "living_situation", "body_conditions", "disability_grade",
	"economic_status", "family_planning_special", "left_behind", "partner_condition", "cares_for_child_condition", "assessment"}

func (s *Server) apiClassPreview(w http.ResponseWriter, r *http.Request, c caller) error {
	var raw map[string]json.RawMessage
	if err := decodeJSON(r, &raw); err != nil {
		return err
	}
	var in classes.PreviewInput
	var asOf string
	for _, x := range []struct {
		key string
		dst any
	}{{"as_of", &asOf}, {"ability_total", &in.AbilityTotal}, {"disability_certificate", &in.DisabilityCertificate}, {"county_code", &in.CountyCode}} {
		if v, ok := raw[x.key]; ok {
			delete(raw, x.key)
			if err := json.Unmarshal(v, x.dst); err != nil {
				return badField(x.key, "字段类型不正确")
			}
		}
	}
	for k := range raw {
		if !slices.Contains(factFields, k) {
			return badField(k, "未知字段："+k)
		}
	}
	rest, _ := json.Marshal(raw)
	if err := json.Unmarshal(rest, &in.Facts); err != nil {
		var fe *classify.FactError
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &fe):
			return badField(fe.Field, fe.Msg)
		case errors.As(err, &ute):
			return badField(ute.Field, "字段类型不正确")
		}
		return badField("", "请求内容无法解析")
	}
	if asOf = strings.TrimSpace(asOf); asOf != "" {
		d, err := age.ParseDate(asOf)
		if err != nil {
			return badField("as_of", "日期“"+asOf+"”无效，应为YYYY-MM-DD格式的真实日期")
		}
		in.AsOf = d
	}
	res, err := s.Classes.Preview(r.Context(), c.Scope, in)
	if err != nil {
		return classesError(err)
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) apiElderClass(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := s.Classes.Detail(r.Context(), c.Scope, id)
	if err != nil {
		return classesError(err)
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) apiClassOverride(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Class  string `json:"class"`
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sm, err := s.Classes.SetOverride(r.Context(), c.classActor(), c.Scope, id, in.Class, in.Reason)
	if err != nil {
		return classesError(err)
	}
	writeJSON(w, http.StatusOK, sm)
	return nil
}

func (s *Server) apiClassOverrideRemove(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	sm, err := s.Classes.RemoveOverride(r.Context(), c.classActor(), c.Scope, id)
	if err != nil {
		return classesError(err)
	}
	writeJSON(w, http.StatusOK, sm)
	return nil
}

func (s *Server) apiAssessmentItems(w http.ResponseWriter, r *http.Request, c caller) error {
	writeJSON(w, http.StatusOK, map[string]any{
		"indicators": assess.Indicators(), "items": assess.Items(), "reasons": classes.AssessReasons,
	})
	return nil
}

func (s *Server) apiAssess(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in classes.AssessInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a, err := s.Classes.Assess(r.Context(), c.classActor(), c.Scope, id, in)
	if err != nil {
		return classesError(err)
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) apiAssessments(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	items, err := s.Classes.Assessments(r.Context(), c.Scope, id)
	if err != nil {
		return classesError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) apiAssessment(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a, err := s.Classes.GetAssessment(r.Context(), c.classActor(), c.Scope, id)
	if err != nil {
		return classesError(err)
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) apiClassRules(w http.ResponseWriter, r *http.Request, c caller) error {
	cr, err := s.Classes.Rules(r.Context(), c.Scope, r.PathValue("code"))
	if err != nil {
		return classesError(err)
	}
	writeJSON(w, http.StatusOK, cr)
	return nil
}

func (s *Server) apiClassRulesVersions(w http.ResponseWriter, r *http.Request, c caller) error {
	vs, err := s.Classes.RulesHistory(r.Context(), c.Scope, r.PathValue("code"))
	if err != nil {
		return classesError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": vs})
	return nil
}

func (s *Server) apiClassRulesSave(w http.ResponseWriter, r *http.Request, c caller) error {
	var in struct {
		Version int              `json:"version"`
		Rules   []classify.CRule `json:"rules"`
		Reason  string           `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	cr, ap, err := s.Classes.SaveRules(r.Context(), c.classActor(), c.Scope, r.PathValue("code"), in.Version, in.Rules, in.Reason)
	if err != nil {
		return classesError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": cr, "applied": ap})
	return nil
}

func (s *Server) apiAssessSettings(w http.ResponseWriter, r *http.Request, c caller) error {
	cs, err := s.Classes.Settings(r.Context(), c.Scope, r.PathValue("code"))
	if err != nil {
		return classesError(err)
	}
	writeJSON(w, http.StatusOK, cs)
	return nil
}

func (s *Server) apiAssessSettingsVersions(w http.ResponseWriter, r *http.Request, c caller) error {
	vs, err := s.Classes.SettingsHistory(r.Context(), c.Scope, r.PathValue("code"))
	if err != nil {
		return classesError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": vs})
	return nil
}

func (s *Server) apiAssessSettingsSave(w http.ResponseWriter, r *http.Request, c caller) error {
	var in struct {
		Version  int             `json:"version"`
		Settings assess.Settings `json:"settings"`
		Reason   string          `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	cs, ap, err := s.Classes.SaveSettings(r.Context(), c.classActor(), c.Scope, r.PathValue("code"), in.Version, in.Settings, in.Reason)
	if err != nil {
		return classesError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"settings": cs, "applied": ap})
	return nil
}

// ruleRoles may open the rules pages; county accounts and the
// administrator edit them (classes.MayEdit).
var ruleRoles = []string{auth.RoleAdmin, auth.RoleCity, auth.RoleCounty}

func (s *Server) classesPages() {
	s.mux.HandleFunc("GET /elders/{id}/class", s.page(s.classPage))
	s.mux.HandleFunc("POST /elders/{id}/class-override", s.page(s.classOverrideSubmit))
	s.mux.HandleFunc("GET /elders/{id}/assessments/new", s.page(s.assessFormPage))
	s.mux.HandleFunc("POST /elders/{id}/assessments", s.page(s.assessSubmit))
	s.mux.HandleFunc("GET /assessments/{id}", s.page(s.assessReportPage))
	s.mux.HandleFunc("GET /class-rules", s.page(s.classRulesIndex))
	s.mux.HandleFunc("GET /counties/{code}/class-rules", s.page(s.classRulesPage))
	s.mux.HandleFunc("POST /counties/{code}/class-rules", s.page(s.classRulesSubmit))
	s.mux.HandleFunc("POST /counties/{code}/assessment-settings", s.page(s.assessSettingsSubmit))
	s.addNav(navItem{Order: 60, Label: "分类规则", Href: func(c *caller) string { return "/class-rules" }, Roles: ruleRoles})
	s.elderSections = append(s.elderSections, s.classSection)
}

// countyCode is the county (县区) an area code lies in.
func countyCode(area string) string {
	if len(area) < 6 {
		return ""
	}
	return area[:6] + "000000"
}

// pageErr shows a classes error on a page: a message for the user, or the
// not-found and server-error pages.
func (s *Server) pageErr(w http.ResponseWriter, c *caller, csrf string, err error) {
	switch err := classesError(err); {
	case errors.Is(err, errForbiddenRole):
		s.forbiddenPage(w, c, csrf)
	default:
		s.notFoundOr(w, c, csrf, err)
	}
}

// userMessage is the Chinese message of an API-shaped error, or "".
func userMessage(err error) (string, string, int) {
	var fe *fieldError
	var se *statusError
	switch err := classesError(err); {
	case errors.As(err, &fe):
		return fe.Field, fe.Message, http.StatusUnprocessableEntity
	case errors.As(err, &se):
		return "", se.Message, se.Status
	}
	return "", "", 0
}

// ---- the elder's class ----

type classSectionData struct {
	ElderID     int64
	S           classes.Summary
	Reasons     []classify.Reason
	Assessments []classes.Assessment
	CanAssess   bool
}

func (s *Server) classSection(r *http.Request, c *caller, e registry.Elder) (elderSection, bool) {
	as, err := s.Classes.Assessments(r.Context(), c.Scope, e.ID)
	if err != nil {
		s.Log.Error("class section", "err", err)
		return elderSection{}, false
	}
	html, err := s.fragment("frag_class", classSectionData{ElderID: e.ID, S: e.Summary, Assessments: as[:min(len(as), 5)],
		CanAssess: classes.MayAssess(c.User.Role)})
	if err != nil {
		s.Log.Error("class section", "err", err)
		return elderSection{}, false
	}
	return elderSection{Title: "类别与能力评估", HTML: html}, true
}

type historyView struct {
	classes.HistoryEntry
	CauseLabel string
}

type classPageData struct {
	D           classes.Detail
	History     []historyView
	CanOverride bool
	Choices     []classes.Choice
	Class       string
	Reason      string
	Errors      map[string]string
}

var classChoices = []classes.Choice{
	{Code: classify.ClassA, Label: "A类"}, {Code: classify.ClassB, Label: "B类"}, {Code: classify.ClassC, Label: "C类"},
	{Code: classify.ClassNone, Label: "不属于探访关爱对象"},
}

var causeLabels = map[string]string{
	"created": "建档", "updated": "档案修改", "status": "状态变更", "transferred": "档案转移",
	classes.CauseAssessment: "能力评估", classes.CauseDaily: "每日复核（年龄变化）", classes.CausePartner: "同户老人档案变化",
	classes.CauseRules: "县区规则调整", classes.CauseOverride: "人工调整", classes.CauseOverrideRemoved: "撤销人工调整",
}

func (s *Server) classPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	s.renderClass(w, r, c, csrf, http.StatusOK, classPageData{}, "", flashOf(r))
}

func flashOf(r *http.Request) string {
	switch r.URL.Query().Get("done") {
	case "override":
		return "已人工调整类别"
	case "removed":
		return "已撤销人工调整，恢复按规则计算的类别"
	}
	return ""
}

func (s *Server) renderClass(w http.ResponseWriter, r *http.Request, c *caller, csrf string, status int, pd classPageData, errMsg, flash string) {
	id, err := pathID(r)
	if err == nil {
		pd.D, err = s.Classes.Detail(r.Context(), c.Scope, id)
	}
	if err != nil {
		s.pageErr(w, c, csrf, err)
		return
	}
	for _, h := range pd.D.History {
		pd.History = append(pd.History, historyView{h, causeLabels[h.Cause]})
	}
	pd.CanOverride, pd.Choices = classes.MayEdit(c.User.Role), classChoices
	if pd.Class == "" && pd.D.Override != nil {
		pd.Class = pd.D.Override.Class
	}
	s.render(w, status, "class_detail", pageData{Title: "类别：" + pd.D.NameMasked, Caller: c, CSRF: csrf, Error: errMsg, Flash: flash, Data: pd})
}

func (s *Server) classOverrideSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	id, err := pathID(r)
	if err != nil {
		s.notFound(w, c, csrf)
		return
	}
	pd := classPageData{Class: r.PostFormValue("class"), Reason: r.PostFormValue("reason")}
	done := "override"
	if r.PostFormValue("action") == "remove" {
		_, err = s.Classes.RemoveOverride(r.Context(), c.classActor(), c.Scope, id)
		done = "removed"
	} else {
		_, err = s.Classes.SetOverride(r.Context(), c.classActor(), c.Scope, id, pd.Class, pd.Reason)
	}
	if err != nil {
		if field, msg, status := userMessage(err); msg != "" {
			pd.Errors = map[string]string{field: msg}
			s.renderClass(w, r, c, csrf, status, pd, msg, "")
			return
		}
		s.pageErr(w, c, csrf, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/elders/%d/class?done=%s", id, done), http.StatusSeeOther)
}

// ---- assessments ----

type assessOption struct {
	Score   int
	Text    string
	Checked bool
}

type assessItem struct {
	Code, Name, Note string
	Max              int
	Options          []assessOption
	Error            string
}

type assessGroup struct {
	Code, Name string
	Max        int
	Items      []assessItem
}

type riskField struct {
	Key, Label string
	Value      int
}

type assessFormData struct {
	ElderID                  int64
	Name                     string
	Groups                   []assessGroup
	Reasons                  []classes.Choice
	Reason, Assessor, On     string
	Today                    string
	Coma, Dementia, Disorder bool
	Risks                    []riskField
	Errors                   map[string]string
	Settings                 classes.CountySettings
}

var riskKeys = []struct{ Key, Label string }{
	{"fall", "跌倒"}, {"choking", "噎食"}, {"self_harm", "自杀、自伤"}, {"wandering", "走失"}, {"other", "其他"},
}

func riskValues(r assess.RiskEvents) []riskField {
	vals := []int{r.Fall, r.Choking, r.SelfHarm, r.Wandering, r.Other}
	out := make([]riskField, len(riskKeys))
	for i, k := range riskKeys {
		out[i] = riskField{k.Key, k.Label, vals[i]}
	}
	return out
}

// assessGroups lays out the 26 items by indicator, marking the chosen
// scores and each item's error.
func assessGroups(scores map[string]int, errs map[string]string) []assessGroup {
	var out []assessGroup
	items := assess.Items()
	for _, ind := range assess.Indicators() {
		g := assessGroup{Code: ind.Code, Name: ind.Name, Max: ind.Max}
		for _, it := range items {
			if it.Indicator != ind.Code {
				continue
			}
			v, ok := scores[it.Code]
			ai := assessItem{Code: it.Code, Name: it.Name, Note: it.Note, Max: it.Max, Error: errs[it.Code]}
			for _, o := range it.Options {
				ai.Options = append(ai.Options, assessOption{o.Score, o.Text, ok && v == o.Score})
			}
			g.Items = append(g.Items, ai)
		}
		out = append(out, g)
	}
	return out
}

func (s *Server) assessFormPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !classes.MayAssess(c.User.Role) {
		s.forbiddenPage(w, c, csrf)
		return
	}
	s.renderAssessForm(w, r, c, csrf, http.StatusOK, assessFormData{}, classes.AssessInput{}, "")
}

func (s *Server) renderAssessForm(w http.ResponseWriter, r *http.Request, c *caller, csrf string, status int, fd assessFormData, in classes.AssessInput, errMsg string) {
	e, ok := s.loadElder(w, r, c, csrf)
	if !ok {
		return
	}
	st, err := s.Classes.Settings(r.Context(), c.Scope, countyCode(e.AreaCode))
	if err != nil {
		s.serverError(w, err)
		return
	}
	fd.ElderID, fd.Name, fd.Settings, fd.Reasons = e.ID, e.Name, st, classes.AssessReasons
	fd.Today = age.DateOf(s.Now()).String()
	fd.Groups = assessGroups(in.Items, fd.Errors)
	fd.Risks = riskValues(in.RiskEvents)
	fd.Coma, fd.Dementia, fd.Disorder = in.Coma, in.Dementia, in.MentalDisorder
	s.render(w, status, "assess_form", pageData{Title: "能力评估：" + e.Name, Caller: c, CSRF: csrf, Error: errMsg, Data: fd})
}

func (s *Server) assessSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	id, err := pathID(r)
	if err != nil {
		s.notFound(w, c, csrf)
		return
	}
	in := classes.AssessInput{Reason: r.PostFormValue("reason"), Assessor: r.PostFormValue("assessor"), AssessedOn: r.PostFormValue("assessed_on")}
	in.Items = map[string]int{}
	errs := map[string]string{}
	for _, it := range assess.Items() {
		v := strings.TrimSpace(r.PostFormValue(it.Code))
		if v == "" {
			continue // Score names it as missing
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs[it.Code] = fmt.Sprintf("%s %s的得分应为整数", it.Code, it.Name)
			continue
		}
		in.Items[it.Code] = n
	}
	in.Coma, in.Dementia, in.MentalDisorder = r.PostFormValue("coma") != "", r.PostFormValue("dementia") != "", r.PostFormValue("mental_disorder") != ""
	counts := make([]int, len(riskKeys))
	for i, k := range riskKeys {
		counts[i], _ = strconv.Atoi(r.PostFormValue("risk_" + k.Key))
	}
	in.RiskEvents = assess.RiskEvents{Fall: counts[0], Choking: counts[1], SelfHarm: counts[2], Wandering: counts[3], Other: counts[4]}
	fd := assessFormData{Reason: in.Reason, Assessor: in.Assessor, On: in.AssessedOn, Errors: errs}
	if len(errs) > 0 {
		s.renderAssessForm(w, r, c, csrf, http.StatusUnprocessableEntity, fd, in, "请检查标红的项目")
		return
	}
	a, err := s.Classes.Assess(r.Context(), c.classActor(), c.Scope, id, in)
	var ie assess.InputError
	switch {
	case errors.As(err, &ie):
		for _, p := range ie {
			errs[p.Code] = p.Error()
		}
		s.renderAssessForm(w, r, c, csrf, http.StatusUnprocessableEntity, fd, in, "请检查标红的项目："+ie.Error())
		return
	case err != nil:
		if field, msg, status := userMessage(err); msg != "" && status == http.StatusUnprocessableEntity {
			errs[field] = msg
			s.renderAssessForm(w, r, c, csrf, status, fd, in, msg)
			return
		}
		s.pageErr(w, c, csrf, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/assessments/%d", a.ID), http.StatusSeeOther)
}

type reportItem struct {
	Code, Name string
	Score, Max int
	Text       string
}

type reportGroup struct {
	Code, Name string
	Score, Max int
	Items      []reportItem
}

type assessReportData struct {
	A      classes.Assessment
	Name   string
	Groups []reportGroup
	Risks  []riskField
}

func (s *Server) assessReportPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	id, err := pathID(r)
	var a classes.Assessment
	if err == nil {
		a, err = s.Classes.GetAssessment(r.Context(), c.classActor(), c.Scope, id)
	}
	if err != nil {
		s.pageErr(w, c, csrf, err)
		return
	}
	e, err := s.Registry.Get(r.Context(), c.actor(), c.Scope, a.ElderID)
	if err != nil {
		s.pageErr(w, c, csrf, err)
		return
	}
	d := assessReportData{A: a, Name: e.Name, Risks: riskValues(a.RiskEvents)}
	items := assess.Items()
	for _, ind := range a.Indicators {
		g := reportGroup{Code: ind.Code, Name: ind.Name, Score: ind.Score, Max: ind.Max}
		for _, it := range items {
			if it.Indicator != ind.Code {
				continue
			}
			ri := reportItem{Code: it.Code, Name: it.Name, Score: a.Items[it.Code], Max: it.Max}
			for _, o := range it.Options {
				if o.Score == ri.Score {
					ri.Text = o.Text
				}
			}
			g.Items = append(g.Items, ri)
		}
		d.Groups = append(d.Groups, g)
	}
	s.render(w, http.StatusOK, "assess_report", pageData{Title: "老年人能力评估报告", Caller: c, CSRF: csrf, Data: d})
}

// ---- county rules and settings ----

type checkOpt struct {
	Code, Label string
	Checked     bool
}

type ruleRow struct {
	Index                  int
	ID, Label              string
	MinAge, MaxAge         string
	Living, Economic, Body []checkOpt
	LeftBehind, FPS        bool
}

type settingSelect struct {
	Key, Label string
	Options    []checkOpt
}

type rulesPageData struct {
	County          string
	CountyName      string
	Rules           classes.CountyRules
	Rows            []ruleRow
	History         []classes.CountyRules
	Settings        classes.CountySettings
	Selects         []settingSelect
	SettingsHistory []classes.CountySettings
	CanEdit         bool
	Reason          string
}

func opts(choices []registry.Choice, chosen []string) []checkOpt {
	out := make([]checkOpt, len(choices))
	for i, ch := range choices {
		out[i] = checkOpt{ch.Code, ch.Label, slices.Contains(chosen, ch.Code)}
	}
	return out
}

func strs[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

func ageText(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// blankRules is how many empty rows the form offers for new rules.
const blankRules = 2

func ruleRows(rules []classify.CRule) []ruleRow {
	var rows []ruleRow
	for i, ru := range append(slices.Clone(rules), make([]classify.CRule, blankRules)...) {
		rows = append(rows, ruleRow{Index: i, ID: ru.ID, Label: ru.Label, MinAge: ageText(ru.MinAge), MaxAge: ageText(ru.MaxAge),
			Living:     opts(registry.LivingSituations, strs(ru.Living)),
			Economic:   opts(registry.EconomicStatuses, strs(ru.Economic)),
			Body:       opts(registry.BodyConditions, strs(ru.Body)),
			LeftBehind: ru.LeftBehind, FPS: ru.FamilyPlanningSpecial})
	}
	return rows
}

func settingSelects(st assess.Settings) []settingSelect {
	mk := func(key, label, current string, values ...string) settingSelect {
		ss := settingSelect{Key: key, Label: label}
		for _, v := range values {
			var text string
			switch key {
			case "stacking":
				text = assess.Stacking(v).Description()
			case "risk_counting":
				text = assess.RiskCounting(v).Description()
			case "coma_trigger":
				text = assess.ComaTrigger(v).Description()
			case "predicate":
				text = assess.Predicate(v).Description()
			}
			ss.Options = append(ss.Options, checkOpt{v, text, v == current})
		}
		return ss
	}
	return []settingSelect{
		mk("stacking", "依据2、3是否叠加（§1.4 a）", string(st.Stacking), string(assess.StackOnce), string(assess.StackEach)),
		mk("risk_counting", "照护风险事件计数方式（§1.4 b）", string(st.RiskCounting), string(assess.RiskSum), string(assess.RiskPerCategory)),
		mk("coma_trigger", "昏迷认定（§1.4 c）", string(st.ComaTrigger), string(assess.ComaFlag), string(assess.ComaFlagOrB39)),
		mk("predicate", "失能/半失能判定（16号文“65分以下”）", string(st.Predicate),
			string(assess.PredTotalBelow65), string(assess.PredTotalAtMost65), string(assess.PredLevelAtLeast2)),
	}
}

func (s *Server) classRulesIndex(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if len(c.Scope.Prefix) >= 6 {
		http.Redirect(w, r, "/counties/"+countyCode(c.Area.Code)+"/class-rules", http.StatusSeeOther)
		return
	}
	counties, err := s.Areas.Subtree(r.Context(), c.Scope, areas.County)
	if err != nil {
		s.serverError(w, err)
		return
	}
	s.render(w, http.StatusOK, "class_rules_index", pageData{Title: "分类规则", Caller: c, CSRF: csrf, Data: counties})
}

func (s *Server) classRulesPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	s.renderRules(w, r, c, csrf, http.StatusOK, nil, nil, "", rulesFlash(r))
}

func rulesFlash(r *http.Request) string {
	q := r.URL.Query()
	if q.Get("saved") == "" {
		return ""
	}
	what := "C类规则"
	if q.Get("what") == "settings" {
		what = "能力评估设置"
	}
	msg := fmt.Sprintf("%s已保存为第%s版；已按新版本重新分类%s位老人，其中%s位类别变化", what, q.Get("saved"), q.Get("re"), q.Get("ch"))
	if p := q.Get("pending"); p != "" && p != "0" {
		msg += fmt.Sprintf("；其余%s位将在一小时内完成", p)
	}
	return msg
}

// renderRules shows a county's rules and settings; rows and st, when set,
// are what the user typed and sent back with an error.
func (s *Server) renderRules(w http.ResponseWriter, r *http.Request, c *caller, csrf string, status int, rows []ruleRow, st *assess.Settings, errMsg, flash string) {
	ctx := r.Context()
	code := r.PathValue("code")
	cr, err := s.Classes.Rules(ctx, c.Scope, code)
	if err != nil {
		s.pageErr(w, c, csrf, err)
		return
	}
	hist, err := s.Classes.RulesHistory(ctx, c.Scope, code)
	if err != nil {
		s.pageErr(w, c, csrf, err)
		return
	}
	cs, err := s.Classes.Settings(ctx, c.Scope, code)
	if err != nil {
		s.pageErr(w, c, csrf, err)
		return
	}
	shist, err := s.Classes.SettingsHistory(ctx, c.Scope, code)
	if err != nil {
		s.pageErr(w, c, csrf, err)
		return
	}
	d := rulesPageData{County: cr.CountyCode, Rules: cr, History: hist, Settings: cs, SettingsHistory: shist,
		CanEdit: classes.MayEdit(c.User.Role) && c.Scope.Contains(cr.CountyCode), Reason: r.PostFormValue("reason")}
	if a, err := s.Areas.Get(ctx, cr.CountyCode); err == nil {
		d.CountyName = a.Name
	}
	d.Rows = rows
	if d.Rows == nil {
		d.Rows = ruleRows(cr.Rules)
	}
	sel := cs.Settings
	if st != nil {
		sel = *st
	}
	d.Selects = settingSelects(sel)
	s.render(w, status, "class_rules", pageData{Title: "分类规则：" + d.CountyName, Caller: c, CSRF: csrf, Error: errMsg, Flash: flash, Data: d})
}

// parseRules reads the rule rows of the form; blank rows and rows marked
// for deletion are dropped. It returns the rows as typed for showing again.
func parseRules(r *http.Request) ([]classify.CRule, []ruleRow, error) {
	n, _ := strconv.Atoi(r.PostFormValue("count"))
	n = min(max(n, 0), 100)
	var rules []classify.CRule
	var typed []ruleRow
	var bad error
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("r%d_", i)
		f := r.PostForm
		ru := classify.CRule{
			ID: strings.TrimSpace(f.Get(p + "id")), Label: strings.TrimSpace(f.Get(p + "label")),
			LeftBehind: f.Get(p+"left_behind") != "", FamilyPlanningSpecial: f.Get(p+"fps") != "",
		}
		for _, v := range f[p+"living"] {
			ru.Living = append(ru.Living, classify.Living(v))
		}
		for _, v := range f[p+"economic"] {
			ru.Economic = append(ru.Economic, classify.Economic(v))
		}
		for _, v := range f[p+"body"] {
			ru.Body = append(ru.Body, classify.Body(v))
		}
		minAge, maxAge := strings.TrimSpace(f.Get(p+"min_age")), strings.TrimSpace(f.Get(p+"max_age"))
		for _, a := range []struct {
			text, name string
			dst        *int
		}{{minAge, "年龄下限", &ru.MinAge}, {maxAge, "年龄上限", &ru.MaxAge}} {
			if a.text == "" {
				continue
			}
			v, err := strconv.Atoi(a.text)
			if err != nil && bad == nil {
				bad = fmt.Errorf("第%d行的%s“%s”应为整数（周岁）", i+1, a.name, a.text)
			}
			*a.dst = v
		}
		row := ruleRows([]classify.CRule{ru})[0]
		row.Index, row.MinAge, row.MaxAge = len(typed), minAge, maxAge
		blank := ru.ID == "" && ru.Label == "" && minAge == "" && maxAge == "" && len(ru.Living)+len(ru.Economic)+len(ru.Body) == 0 &&
			!ru.LeftBehind && !ru.FamilyPlanningSpecial
		if f.Get(p+"delete") != "" || blank {
			continue
		}
		rules = append(rules, ru)
		typed = append(typed, row)
	}
	for i := 0; i < blankRules; i++ {
		row := ruleRows(nil)[i]
		row.Index = len(typed)
		typed = append(typed, row)
	}
	return rules, typed, bad
}

func (s *Server) classRulesSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	rules, typed, err := parseRules(r)
	if err != nil {
		s.renderRules(w, r, c, csrf, http.StatusUnprocessableEntity, typed, nil, err.Error(), "")
		return
	}
	base, _ := strconv.Atoi(r.PostFormValue("version"))
	cr, ap, err := s.Classes.SaveRules(r.Context(), c.classActor(), c.Scope, r.PathValue("code"), base, rules, r.PostFormValue("reason"))
	if err != nil {
		if _, msg, status := userMessage(err); msg != "" {
			s.renderRules(w, r, c, csrf, status, typed, nil, msg, "")
			return
		}
		s.pageErr(w, c, csrf, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/counties/%s/class-rules?saved=%d&re=%d&ch=%d&pending=%d", cr.CountyCode, cr.Version,
		ap.Reclassified, ap.Changed, ap.Pending), http.StatusSeeOther)
}

func (s *Server) assessSettingsSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	st := assess.Settings{
		Stacking: assess.Stacking(r.PostFormValue("stacking")), RiskCounting: assess.RiskCounting(r.PostFormValue("risk_counting")),
		ComaTrigger: assess.ComaTrigger(r.PostFormValue("coma_trigger")), Predicate: assess.Predicate(r.PostFormValue("predicate")),
	}
	base, _ := strconv.Atoi(r.PostFormValue("version"))
	cs, ap, err := s.Classes.SaveSettings(r.Context(), c.classActor(), c.Scope, r.PathValue("code"), base, st, r.PostFormValue("reason"))
	if err != nil {
		if _, msg, status := userMessage(err); msg != "" {
			s.renderRules(w, r, c, csrf, status, nil, &st, msg, "")
			return
		}
		s.pageErr(w, c, csrf, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/counties/%s/class-rules?what=settings&saved=%d&re=%d&ch=%d&pending=%d", cs.CountyCode, cs.Version,
		ap.Reclassified, ap.Changed, ap.Pending), http.StatusSeeOther)
}
