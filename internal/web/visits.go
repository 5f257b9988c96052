package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/outbox"
	"tanfang/internal/policy/age"
	"tanfang/internal/registry"
	"tanfang/internal/store"
	"tanfang/internal/visits"
)

// Visits, follow-ups, emergencies, notifications (R-VST-1..6, R-EMG-1,
// R-EMG-4, R-EMG-5): the JSON API first, then the pages and the service
// worker that lets the visitor's pages work offline.

func (s *Server) visitsRoutes() {
	s.apiRoute("POST /api/v1/visits", s.apiVisitCreate)
	s.apiRoute("GET /api/v1/visits", s.apiVisitList)
	s.apiRoute("GET /api/v1/visits/{id}", s.apiVisitGet)
	s.apiRoute("PATCH /api/v1/visits/{id}", s.apiVisitEdit)
	s.apiRoute("PUT /api/v1/visits/{id}/photo", s.apiVisitPhoto)
	s.apiRoute("GET /api/v1/followups", s.apiFollowups)
	s.apiRoute("GET /api/v1/followups/{id}", s.apiFollowup)
	s.apiRoute("PATCH /api/v1/followups/{id}", s.apiFollowupMove)
	s.apiRoute("GET /api/v1/providers", s.apiProviders)
	s.apiRoute("POST /api/v1/providers", s.apiProviderAdd)
	s.apiRoute("POST /api/v1/emergencies", s.apiEmergencyRaise)
	s.apiRoute("GET /api/v1/emergencies", s.apiEmergencies)
	s.apiRoute("GET /api/v1/emergencies/{id}", s.apiEmergency)
	s.apiRoute("POST /api/v1/emergencies/{id}/notes", s.apiEmergencyNote)
	s.apiRoute("GET /api/v1/inbox", s.apiInbox)
	s.apiRoute("GET /api/v1/benefit-flags", s.apiBenefitFlags)
	s.apiRoute("GET /api/v1/visit-settings", s.apiVisitSettings)
	s.apiRoute("PUT /api/v1/visit-settings", s.apiVisitSettingsSave)
	s.apiRoute("GET /api/v1/notify-endpoints", s.apiEndpoints)
	s.apiRoute("POST /api/v1/notify-endpoints", s.apiEndpointAdd)
	s.apiRoute("DELETE /api/v1/notify-endpoints/{id}", s.apiEndpointDisable)

	// Browsers want the manifest's own type; Go's table does not know it.
	_ = mime.AddExtensionType(".webmanifest", "application/manifest+json")
	s.mux.HandleFunc("GET /sw.js", s.serviceWorker)
	s.mux.HandleFunc("GET /visits/new", s.page(s.visitNewPage))
	s.mux.Handle("POST /visits/new", http.MaxBytesHandler(s.page(s.visitSubmit), visits.MaxPhotoBytes+256<<10))
	s.mux.HandleFunc("GET /visits", s.page(s.visitListPage))
	s.mux.HandleFunc("GET /visits/{id}", s.page(s.visitPage))
	s.mux.HandleFunc("GET /visits/{id}/photo", s.page(s.visitPhoto))
	s.mux.HandleFunc("GET /visits/{id}/edit", s.page(s.visitEditPage))
	s.mux.HandleFunc("POST /visits/{id}/edit", s.page(s.visitEditSubmit))
	s.mux.HandleFunc("POST /visits/{id}/home", s.page(s.visitSetHome))
	s.mux.HandleFunc("GET /followups", s.page(s.followupListPage))
	s.mux.HandleFunc("GET /followups/{id}", s.page(s.followupPage))
	s.mux.HandleFunc("POST /followups/{id}", s.page(s.followupSubmit))
	s.mux.HandleFunc("GET /providers", s.page(s.providersPage))
	s.mux.HandleFunc("POST /providers", s.page(s.providerSubmit))
	s.mux.HandleFunc("GET /emergencies", s.page(s.emergencyListPage))
	s.mux.HandleFunc("GET /emergencies/new", s.page(s.emergencyNewPage))
	s.mux.HandleFunc("POST /emergencies", s.page(s.emergencySubmit))
	s.mux.HandleFunc("GET /emergencies/{id}", s.page(s.emergencyPage))
	s.mux.HandleFunc("POST /emergencies/{id}", s.page(s.emergencyNoteSubmit))
	s.mux.HandleFunc("GET /inbox", s.page(s.inboxPage))
	s.mux.HandleFunc("GET /benefits", s.page(s.benefitsPage))

	recorders := []string{auth.RoleVisitor, auth.RoleVillage, auth.RoleTown}
	staff := []string{auth.RoleVillage, auth.RoleTown, auth.RoleCounty, auth.RoleCity, auth.RoleAdmin}
	s.addNav(navItem{Order: 20, Label: "填写探访", Href: func(*caller) string { return "/visits/new" }, Roles: recorders})
	s.addNav(navItem{Order: 30, Label: "跟踪事项", Href: func(*caller) string { return "/followups" }})
	s.addNav(navItem{Order: 35, Label: "紧急情况", Href: func(*caller) string { return "/emergencies" }})
	s.addNav(navItem{Order: 50, Label: "福利提示", Href: func(*caller) string { return "/benefits" }, Roles: staff})
	s.addNav(navItem{Order: 70, Label: "服务组织", Href: func(*caller) string { return "/providers" }, Roles: staff})
	s.addNav(navItem{Order: 80, Label: "消息", Href: func(*caller) string { return "/inbox" }})
	s.elderSections = append(s.elderSections, s.visitSection)
}

// visitLabelSets name the code-word lists templates translate with vl.
var visitLabelSets = map[string][]visits.Choice{
	"status": visits.Statuses, "kind": visits.Kinds, "severity": visits.Severities, "level": visits.Levels,
	"refer": visits.ReferTypes, "mode": visits.Modes, "outcome": visits.Outcomes, "what": visits.EmergencyKinds,
	"called": visits.Called, "service": visits.ServiceNeeds, "hardship": visits.Hardships,
}

// visitLabel is the Chinese word for a code of one of visitLabelSets.
func visitLabel(set, code string) string { return visits.Label(visitLabelSets[set], code) }

// visitLabelList joins the words for several codes.
func visitLabelList(set string, codes []string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = visitLabel(set, c)
	}
	return strings.Join(out, "、")
}

func (c caller) visitActor() visits.Actor {
	return visits.Actor{UserID: c.User.ID, Username: c.User.Username, Role: c.User.Role, AreaCode: c.User.AreaCode, Scope: c.Scope, IP: c.IP}
}

// visitsError maps the visits and outbox packages' typed errors to API errors.
func visitsError(err error) error {
	var ve *visits.ValidationError
	var fe *visits.ForbiddenError
	var re *visits.RulesError
	var oe *outbox.InvalidError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve):
		f := ve.First()
		return badField(f.Field, f.Message)
	case errors.As(err, &re):
		return badField(re.Field, re.Message)
	case errors.As(err, &oe):
		return badField(oe.Field, oe.Message)
	case errors.As(err, &fe):
		return &statusError{http.StatusForbidden, errForbidden, fe.Message}
	case errors.Is(err, store.ErrConflict):
		return &statusError{http.StatusConflict, errConflict, err.Error()}
	}
	return err
}

func queryID(r *http.Request, name, label string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, badField(name, label+"应为正整数")
	}
	return id, nil
}

func queryLimit(r *http.Request, def, most int) int {
	n, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || n <= 0 {
		return def
	}
	return min(n, most)
}

// ---- API: visits ----

func (s *Server) apiVisitCreate(w http.ResponseWriter, r *http.Request, c caller) error {
	var in visits.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v, created, err := s.Visits.Record(r.Context(), c.visitActor(), in, nil)
	if err != nil {
		return visitsError(err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, v)
	return nil
}

func (s *Server) apiVisitList(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := queryID(r, "elder_id", "老人编号")
	if err != nil {
		return err
	}
	if id == 0 {
		return badField("elder_id", "请指定老人编号（elder_id）")
	}
	vs, err := s.Visits.List(r.Context(), c.Scope, id, queryLimit(r, 50, 500))
	if err != nil {
		return visitsError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": vs})
	return nil
}

func (s *Server) apiVisitGet(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := s.Visits.Get(r.Context(), c.Scope, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) apiVisitEdit(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in visits.EditInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v, err := s.Visits.Edit(r.Context(), c.visitActor(), id, in)
	var vc *visits.VisitConflict
	if errors.As(err, &vc) {
		// Both versions, so the client can show them side by side.
		writeJSON(w, http.StatusConflict, map[string]any{
			"error":     apiError{Code: errConflict, Message: vc.Error()},
			"current":   vc.Current,
			"submitted": in,
		})
		return nil
	}
	if err != nil {
		return visitsError(err)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) apiVisitPhoto(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, visits.MaxPhotoBytes+1))
	if err != nil {
		return badField("photo", "照片读取失败")
	}
	if err := s.Visits.SetPhoto(r.Context(), c.visitActor(), id, data); err != nil {
		return visitsError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- API: follow-ups ----

func followupFilter(r *http.Request) (visits.Filter, error) {
	q := r.URL.Query()
	id, err := queryID(r, "elder_id", "老人编号")
	if err != nil {
		return visits.Filter{}, err
	}
	return visits.Filter{ElderID: id, AreaCode: q.Get("area"), Status: q.Get("status"), Kind: q.Get("kind"),
		Level: q.Get("level"), Limit: queryLimit(r, 200, 1000)}, nil
}

func (s *Server) apiFollowups(w http.ResponseWriter, r *http.Request, c caller) error {
	f, err := followupFilter(r)
	if err != nil {
		return err
	}
	items, err := s.Visits.Followups(r.Context(), c.Scope, f)
	if err != nil {
		return visitsError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) apiFollowup(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	it, evs, err := s.Visits.Followup(r.Context(), c.Scope, id)
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []visits.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"item": it, "history": evs})
	return nil
}

func (s *Server) apiFollowupMove(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var m visits.Move
	if err := decodeJSON(r, &m); err != nil {
		return err
	}
	it, err := s.Visits.MoveFollowup(r.Context(), c.visitActor(), id, m)
	if err != nil {
		return visitsError(err)
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}

func (s *Server) apiProviders(w http.ResponseWriter, r *http.Request, c caller) error {
	ps, err := s.Visits.Providers(r.Context(), c.Area.Code, r.URL.Query().Get("service"))
	if err != nil {
		return visitsError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ps})
	return nil
}

func (s *Server) apiProviderAdd(w http.ResponseWriter, r *http.Request, c caller) error {
	var in visits.ProviderInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p, err := s.Visits.AddProvider(r.Context(), c.visitActor(), in)
	if err != nil {
		return visitsError(err)
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

// ---- API: emergencies, inbox, benefits, settings, endpoints ----

func (s *Server) apiEmergencyRaise(w http.ResponseWriter, r *http.Request, c caller) error {
	var in visits.EmergencyInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	m, created, err := s.Visits.RaiseEmergency(r.Context(), c.visitActor(), in)
	if err != nil {
		return visitsError(err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, m)
	return nil
}

func (s *Server) apiEmergencies(w http.ResponseWriter, r *http.Request, c caller) error {
	st := r.URL.Query().Get("status")
	if st != "" && st != "open" && st != "all" {
		return badField("status", "status 应为 open 或 all")
	}
	ms, err := s.Visits.Emergencies(r.Context(), c.Scope, st == "open", queryLimit(r, 100, 500))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ms})
	return nil
}

func (s *Server) apiEmergency(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	m, err := s.Visits.Emergency(r.Context(), c.Scope, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) apiEmergencyNote(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Note  string `json:"note"`
		Close bool   `json:"close"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	m, err := s.Visits.NoteEmergency(r.Context(), c.visitActor(), id, in.Note, in.Close)
	if err != nil {
		return visitsError(err)
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) apiInbox(w http.ResponseWriter, r *http.Request, c caller) error {
	msgs, err := outbox.InboxFor(r.Context(), s.DB, c.User.ID, c.User.AreaCode, c.User.Role, queryLimit(r, 50, 200))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": msgs})
	return nil
}

func (s *Server) apiBenefitFlags(w http.ResponseWriter, r *http.Request, c caller) error {
	rows, err := s.Visits.BenefitList(r.Context(), c.Scope, r.URL.Query().Get("area"))
	if err != nil {
		return visitsError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": rows})
	return nil
}

func (s *Server) apiVisitSettings(w http.ResponseWriter, r *http.Request, c caller) error {
	rules, err := s.Visits.Rules(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rules)
	return nil
}

func (s *Server) apiVisitSettingsSave(w http.ResponseWriter, r *http.Request, c caller) error {
	var in visits.Rules
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.Visits.SetRules(r.Context(), c.visitActor(), in); err != nil {
		return visitsError(err)
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// Endpoints belong to the staff of an area; visitors have none.
func mayManageEndpoints(role string) bool {
	switch role {
	case auth.RoleVillage, auth.RoleTown, auth.RoleCounty, auth.RoleCity, auth.RoleAdmin:
		return true
	}
	return false
}

func (s *Server) apiEndpoints(w http.ResponseWriter, r *http.Request, c caller) error {
	if !mayManageEndpoints(c.User.Role) {
		return errForbiddenRole
	}
	lo, hi := c.Scope.Range()
	eps, err := outbox.Endpoints(r.Context(), s.DB, lo, hi)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": eps})
	return nil
}

func (s *Server) apiEndpointAdd(w http.ResponseWriter, r *http.Request, c caller) error {
	var in struct {
		AreaCode string `json:"area_code"`
		Channel  string `json:"channel"`
		Target   string `json:"target"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if !mayManageEndpoints(c.User.Role) {
		return errForbiddenRole
	}
	if in.AreaCode == "" {
		in.AreaCode = c.Area.Code
	}
	if _, err := s.Areas.GetIn(r.Context(), c.Scope, in.AreaCode); err != nil {
		return badField("area_code", "区划不存在或不在您的管辖范围内")
	}
	ep, secret, err := outbox.AddEndpoint(r.Context(), s.DB, s.Keys, s.Now(), in.AreaCode, in.Channel, in.Target, c.User.ID)
	if err != nil {
		return visitsError(err)
	}
	e := c.auditEntry(s.Now(), "notify.endpoint_add", "notify_endpoint", strconv.FormatInt(ep.ID, 10))
	e.AreaCode, e.Detail = ep.AreaCode, "channel="+ep.Channel
	if err := audit.Log(r.Context(), s.DB, e); err != nil {
		return err
	}
	out := map[string]any{"endpoint": ep}
	if secret != "" {
		out["secret"] = secret
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) apiEndpointDisable(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if !mayManageEndpoints(c.User.Role) {
		return errForbiddenRole
	}
	ep, err := outbox.GetEndpoint(r.Context(), s.DB, id)
	if err != nil || !c.Scope.Contains(ep.AreaCode) {
		return store.ErrNotFound
	}
	if err := outbox.DisableEndpoint(r.Context(), s.DB, id); err != nil {
		return err
	}
	e := c.auditEntry(s.Now(), "notify.endpoint_disable", "notify_endpoint", strconv.FormatInt(id, 10))
	e.AreaCode = ep.AreaCode
	if err := audit.Log(r.Context(), s.DB, e); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- Service worker and page alerts ----

// serviceWorker serves static/sw.js at the root, so its scope covers the
// visitor's pages (/tasks, /visits/new).
func (s *Server) serviceWorker(w http.ResponseWriter, r *http.Request) {
	b, err := staticFiles.ReadFile("static/sw.js")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Service-Worker-Allowed", "/")
	_, _ = w.Write(b)
}

// pageAlert is a line at the top of every page: an open emergency.
type pageAlert struct{ Text, Href string }

// pageAlerts lists the open emergencies a village, town or visitor account
// must see on every page until they are closed (R-EMG-1).
func (s *Server) pageAlerts(c *caller) []pageAlert {
	if s.Visits == nil || c == nil {
		return nil
	}
	switch c.User.Role {
	case auth.RoleVillage, auth.RoleTown, auth.RoleVisitor:
	default:
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ms, err := s.Visits.Emergencies(ctx, c.Scope, true, 5)
	if err != nil {
		s.Log.Error("page alerts", "err", err)
		return nil
	}
	var out []pageAlert
	for _, m := range ms {
		out = append(out, pageAlert{
			Text: fmt.Sprintf("紧急情况未结束：%s（%s），%s上报", m.ElderMasked, m.WhatLabel(), m.RaisedAt.In(age.Shanghai).Format("01-02 15:04")),
			Href: fmt.Sprintf("/emergencies/%d", m.ID),
		})
	}
	return out
}

// ---- Pages: the visit form ----

type ratedGroup struct {
	Title string
	Items []visits.Rated
}

type visitFormData struct {
	Form      url.Values
	Errors    map[string]string
	Elders    []visits.ElderOption
	ElderID   string
	ClientID  string
	Fresh     bool // a new form: the page's script sets the times to now
	Groups    []ratedGroup
	Modes     []visits.Choice
	Outcomes  []visits.Choice
	Needs     []visits.Choice
	Hardships []visits.Choice
	Kinds     []visits.Choice
	LateHours int
	User      string
}

const formTime = "2006-01-02T15:04"

func (s *Server) visitForm(r *http.Request, c *caller, form url.Values, errs map[string]string) visitFormData {
	rules, err := s.Visits.Rules(r.Context())
	if err != nil {
		rules = visits.DefaultRules()
	}
	q := visits.RatedQuestions()
	d := visitFormData{Form: form, Errors: errs, Groups: []ratedGroup{{"健康状况", q[:4]}, {"居家安全", q[4:8]}, {"生活与赡养", q[8:]}},
		Modes: visits.Modes, Outcomes: visits.Outcomes, Needs: visits.ServiceNeeds, Hardships: visits.Hardships, Kinds: visits.Kinds,
		LateHours: rules.LateAfterHours, User: c.User.Username}
	if form == nil {
		now := s.Now().In(age.Shanghai)
		d.Fresh = true
		d.Form = url.Values{"mode": {"home"}, "outcome": {"done"},
			"started_at": {now.Add(-30 * time.Minute).Format(formTime)}, "ended_at": {now.Format(formTime)},
			"elder_id": {r.URL.Query().Get("elder_id")}, "client_id": {uuid.NewString()}}
	}
	d.ElderID, d.ClientID = d.Form.Get("elder_id"), d.Form.Get("client_id")
	include, _ := strconv.ParseInt(d.ElderID, 10, 64)
	if d.Elders, err = s.Visits.FormElders(r.Context(), c.visitActor(), 500, include); err != nil {
		s.Log.Error("form elders", "err", err)
	}
	return d
}

func (s *Server) visitNewPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	s.render(w, http.StatusOK, "visit_form", pageData{Title: "填写探访记录", Caller: c, CSRF: csrf, Data: s.visitForm(r, c, nil, nil)})
}

// formInstant reads a datetime-local value as Shanghai time; anything else
// is passed on for the visit check to report.
func formInstant(v string) string {
	if t, err := time.ParseInLocation(formTime, v, age.Shanghai); err == nil {
		return t.Format(time.RFC3339)
	}
	return v
}

func formFloat(v string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return f, err == nil
}

// visitFormInput reads the form (urlencoded, or multipart with a photo).
func visitFormInput(r *http.Request) (visits.Input, []byte, error) {
	if err := r.ParseMultipartForm(visits.MaxPhotoBytes + 128<<10); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return visits.Input{}, nil, badField("photo", fmt.Sprintf("照片不能超过%d MB，请压缩后再上传", visits.MaxPhotoBytes>>20))
		}
		return visits.Input{}, nil, badField("", "表单内容无法读取")
	}
	f := r.Form
	elderID, _ := strconv.ParseInt(f.Get("elder_id"), 10, 64)
	in := visits.Input{
		ClientID: f.Get("client_id"), ElderID: elderID, Mode: f.Get("mode"), Outcome: f.Get("outcome"),
		StartedAt: formInstant(f.Get("started_at")), EndedAt: formInstant(f.Get("ended_at")),
		Findings: visits.Findings{Expression: f.Get("expression"), Mobility: f.Get("mobility"), Mental: f.Get("mental"),
			Illness: f.Get("illness"), IllnessKind: f.Get("illness_kind"), House: f.Get("house"), Gas: f.Get("gas"),
			WaterHeating: f.Get("water_heating"), Electricity: f.Get("electricity"), Hygiene: f.Get("hygiene"), Supporter: f.Get("supporter")},
		FamilyContactOn: f.Get("family_contact_on"), ServiceNeeds: f["service_needs"], Hardships: f["hardships"],
		Needs: f.Get("needs"), NeedsResponse: f.Get("needs_response"), Problems: f.Get("problems"), ProblemsKind: f.Get("problems_kind"),
		Handling: f.Get("handling"), Education: f.Get("education"), LateReason: f.Get("late_reason"), RecordedAt: f.Get("recorded_at"),
	}
	if in.Outcome != "done" {
		// Ratings left on the form by a changed mind are not findings.
		in.Findings = visits.Findings{}
	}
	if lat, ok := formFloat(f.Get("lat")); ok {
		if lng, ok := formFloat(f.Get("lng")); ok {
			acc, _ := formFloat(f.Get("accuracy_m"))
			in.Location = &visits.Location{Lat: lat, Lng: lng, AccuracyM: acc}
		}
	}
	var photo []byte
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["photo"]; len(fhs) > 0 && fhs[0].Size > 0 {
			if fhs[0].Size > visits.MaxPhotoBytes {
				return in, nil, badField("photo", fmt.Sprintf("照片不能超过%d MB，请压缩后再上传", visits.MaxPhotoBytes>>20))
			}
			file, err := fhs[0].Open()
			if err != nil {
				return in, nil, badField("photo", "照片读取失败")
			}
			defer file.Close()
			if photo, err = io.ReadAll(io.LimitReader(file, visits.MaxPhotoBytes+1)); err != nil {
				return in, nil, badField("photo", "照片读取失败")
			}
		}
	}
	return in, photo, nil
}

// visitSubmit takes the form as a page post, or, from the offline queue of
// visits.js (Accept: application/json), answers JSON like the API.
func (s *Server) visitSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	wantJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	in, photo, err := visitFormInput(r)
	var v visits.Visit
	created := false
	if err == nil {
		v, created, err = s.Visits.Record(r.Context(), c.visitActor(), in, photo)
		err = visitsError(err)
	}
	if wantJSON {
		if err != nil {
			s.renderAPIError(w, r, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		writeJSON(w, status, map[string]any{"id": v.ID, "created": created, "url": fmt.Sprintf("/visits/%d", v.ID)})
		return
	}
	if err != nil {
		var fe *fieldError
		var se *statusError
		switch {
		case errors.As(err, &fe):
			s.render(w, http.StatusUnprocessableEntity, "visit_form", pageData{Title: "填写探访记录", Caller: c, CSRF: csrf,
				Error: "请检查标红的项目：" + fe.Message, Data: s.visitForm(r, c, r.Form, map[string]string{strings.TrimPrefix(fe.Field, "findings."): fe.Message})})
		case errors.As(err, &se):
			s.render(w, se.Status, "visit_form", pageData{Title: "填写探访记录", Caller: c, CSRF: csrf, Error: se.Message, Data: s.visitForm(r, c, r.Form, nil)})
		default:
			s.notFoundOr(w, c, csrf, err)
		}
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/visits/%d?saved=1", v.ID), http.StatusSeeOther)
}

// ---- Pages: a visit ----

type visitPageData struct {
	V         visits.Visit
	Items     []visits.FindingItem
	Followups []visits.Followup
	CanEdit   bool
	CanHome   bool
	Home      *visits.Location
	Distance  string // from the elder's home, when both positions are known
	Labels    visitLabels
}

// visitLabels turns a visit's code words into the form's words.
type visitLabels struct{ Mode, Outcome, Needs, Hardships, ProblemsKind string }

func labelsOf(v visits.Visit) visitLabels {
	join := func(cs []visits.Choice, codes []string) string {
		out := make([]string, len(codes))
		for i, c := range codes {
			out[i] = visits.Label(cs, c)
		}
		return strings.Join(out, "、")
	}
	return visitLabels{visits.Label(visits.Modes, v.Mode), visits.Label(visits.Outcomes, v.Outcome), join(visits.ServiceNeeds, v.ServiceNeeds),
		join(visits.Hardships, v.Hardships), visits.Label(visits.Kinds, v.ProblemsKind)}
}

func (s *Server) loadVisit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) (visits.Visit, bool) {
	id, err := pathID(r)
	if err == nil {
		var v visits.Visit
		if v, err = s.Visits.Get(r.Context(), c.Scope, id); err == nil {
			return v, true
		}
	}
	s.notFoundOr(w, c, csrf, err)
	return visits.Visit{}, false
}

func (s *Server) visitPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	v, ok := s.loadVisit(w, r, c, csrf)
	if !ok {
		return
	}
	s.renderVisit(w, r, c, csrf, v, "", visitFlash(r))
}

func visitFlash(r *http.Request) string {
	switch {
	case r.URL.Query().Get("saved") == "1":
		return "探访记录已保存"
	case r.URL.Query().Get("home") == "1":
		return "已将本次定位设为老人住址位置"
	}
	return ""
}

func (s *Server) renderVisit(w http.ResponseWriter, r *http.Request, c *caller, csrf string, v visits.Visit, errMsg, flash string) {
	fs, err := s.Visits.Followups(r.Context(), c.Scope, visits.Filter{ElderID: v.ElderID, Limit: 50})
	if err != nil {
		s.serverError(w, err)
		return
	}
	var mine []visits.Followup
	for _, f := range fs {
		if f.VisitID != nil && *f.VisitID == v.ID {
			mine = append(mine, f)
		}
	}
	d := visitPageData{V: v, Items: v.Findings.Items(), Followups: mine, Labels: labelsOf(v),
		CanEdit: v.RecordedBy == c.User.ID || c.User.Role == auth.RoleVillage || c.User.Role == auth.RoleTown,
		CanHome: v.Location != nil && v.CountsAsHome && (c.User.Role == auth.RoleVillage || c.User.Role == auth.RoleTown)}
	if home, ok, err := s.Visits.HomeLocation(r.Context(), c.Scope, v.ElderID); err == nil && ok {
		d.Home = &home
	}
	if v.DistanceM != nil {
		d.Distance = fmt.Sprintf("%.0f米", *v.DistanceM)
	} else if d.Home != nil && v.Location != nil && v.Mode == "home" {
		d.Distance = fmt.Sprintf("%.0f米", visits.Distance(*d.Home, *v.Location))
	}
	s.render(w, http.StatusOK, "visit_view", pageData{Title: "探访记录", Caller: c, CSRF: csrf, Error: errMsg, Flash: flash, Data: d})
}

func (s *Server) visitPhoto(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	id, err := pathID(r)
	if err != nil {
		s.notFound(w, c, csrf)
		return
	}
	ct, data, err := s.Visits.Photo(r.Context(), c.Scope, id)
	if err != nil {
		s.notFoundOr(w, c, csrf, err)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	_, _ = w.Write(data)
}

func (s *Server) visitSetHome(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	v, ok := s.loadVisit(w, r, c, csrf)
	if !ok {
		return
	}
	if err := visitsError(s.Visits.SetHomeFromVisit(r.Context(), c.visitActor(), v.ID)); err != nil {
		_, msg, _ := visitsMessage(err)
		if msg == "" {
			s.serverError(w, err)
			return
		}
		s.renderVisit(w, r, c, csrf, v, msg, "")
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/visits/%d?home=1", v.ID), http.StatusSeeOther)
}

// visitsMessage is the field, Chinese message and status of an API-shaped
// error, or "" when it is not one a user can act on.
func visitsMessage(err error) (string, string, int) {
	var fe *fieldError
	var se *statusError
	switch {
	case errors.As(err, &fe):
		return fe.Field, fe.Message, http.StatusUnprocessableEntity
	case errors.As(err, &se):
		return "", se.Message, se.Status
	}
	return "", "", 0
}

type visitListData struct {
	ElderID int64
	Visits  []visits.Visit
	Labels  map[int64]visitLabels
}

func (s *Server) visitListPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	id, err := queryID(r, "elder_id", "老人编号")
	if err != nil || id == 0 {
		s.notFound(w, c, csrf)
		return
	}
	vs, err := s.Visits.List(r.Context(), c.Scope, id, 200)
	if err != nil {
		s.notFoundOr(w, c, csrf, err)
		return
	}
	d := visitListData{ElderID: id, Visits: vs, Labels: map[int64]visitLabels{}}
	for _, v := range vs {
		d.Labels[v.ID] = labelsOf(v)
	}
	s.render(w, http.StatusOK, "visit_list", pageData{Title: "探访记录", Caller: c, CSRF: csrf, Data: d})
}

// ---- Pages: editing a visit, with both versions on a conflict ----

type visitEditData struct {
	V         visits.Visit
	Form      url.Values
	Errors    map[string]string
	Groups    []ratedGroup
	Needs     []visits.Choice
	Hardships []visits.Choice
	Kinds     []visits.Choice
	Current   *visits.Visit // the stored version, when the edit was stale
	Diff      []diffRow
}

type diffRow struct{ Label, Mine, Theirs string }

func visitValues(v visits.Visit) url.Values {
	f := v.Findings
	return url.Values{"version": {strconv.Itoa(v.Version)}, "expression": {f.Expression}, "mobility": {f.Mobility}, "mental": {f.Mental},
		"illness": {f.Illness}, "illness_kind": {f.IllnessKind}, "house": {f.House}, "gas": {f.Gas}, "water_heating": {f.WaterHeating},
		"electricity": {f.Electricity}, "hygiene": {f.Hygiene}, "supporter": {f.Supporter}, "family_contact_on": {v.FamilyContactOn},
		"service_needs": v.ServiceNeeds, "hardships": v.Hardships, "needs": {v.Needs}, "needs_response": {v.NeedsResponse},
		"problems": {v.Problems}, "problems_kind": {v.ProblemsKind}, "handling": {v.Handling}, "education": {v.Education}}
}

func (s *Server) renderVisitEdit(w http.ResponseWriter, c *caller, csrf string, status int, v visits.Visit, form url.Values, errMsg string, errs map[string]string, cur *visits.Visit) {
	q := visits.RatedQuestions()
	d := visitEditData{V: v, Form: form, Errors: errs, Groups: []ratedGroup{{"健康状况", q[:4]}, {"居家安全", q[4:8]}, {"生活与赡养", q[8:]}},
		Needs: visits.ServiceNeeds, Hardships: visits.Hardships, Kinds: visits.Kinds, Current: cur}
	if cur != nil {
		theirs := visitValues(*cur)
		for _, k := range []struct{ key, label string }{
			{"expression", "表达能力"}, {"mobility", "行动能力"}, {"mental", "精神状态"}, {"illness", "疾病情况"}, {"illness_kind", "疾病种类"},
			{"house", "房屋安全"}, {"gas", "燃气安全"}, {"water_heating", "用水取暖安全"}, {"electricity", "用电安全"},
			{"hygiene", "家庭卫生"}, {"supporter", "赡养人履责"}, {"family_contact_on", "子女最近联系"}, {"needs", "需求"},
			{"needs_response", "需求回应"}, {"problems", "发现的问题"}, {"handling", "问题处理"}, {"education", "健康教育和安全提醒"},
		} {
			if m, t := form.Get(k.key), theirs.Get(k.key); m != t {
				d.Diff = append(d.Diff, diffRow{k.label, m, t})
			}
		}
		// The form continues from the stored version.
		d.Form.Set("version", strconv.Itoa(cur.Version))
	}
	s.render(w, status, "visit_edit", pageData{Title: "修改探访记录", Caller: c, CSRF: csrf, Error: errMsg, Data: d})
}

func (s *Server) visitEditPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	v, ok := s.loadVisit(w, r, c, csrf)
	if !ok {
		return
	}
	s.renderVisitEdit(w, c, csrf, http.StatusOK, v, visitValues(v), "", nil, nil)
}

func (s *Server) visitEditSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	v, ok := s.loadVisit(w, r, c, csrf)
	if !ok {
		return
	}
	_ = r.ParseForm()
	f := r.PostForm
	version, _ := strconv.Atoi(f.Get("version"))
	// The form shows every field, so it sends them all: a box left
	// unticked clears its list.
	val := func(k string) *string { v := f.Get(k); return &v }
	list := func(k string) *[]string { v := f[k]; return &v }
	in := visits.EditInput{Version: version, Reason: f.Get("reason"),
		Findings: &visits.FindingsPatch{Expression: val("expression"), Mobility: val("mobility"), Mental: val("mental"),
			Illness: val("illness"), IllnessKind: val("illness_kind"), House: val("house"), Gas: val("gas"),
			WaterHeating: val("water_heating"), Electricity: val("electricity"), Hygiene: val("hygiene"), Supporter: val("supporter")},
		FamilyContactOn: val("family_contact_on"), ServiceNeeds: list("service_needs"), Hardships: list("hardships"),
		Needs: val("needs"), NeedsResponse: val("needs_response"), Problems: val("problems"), ProblemsKind: val("problems_kind"),
		Handling: val("handling"), Education: val("education")}
	_, err := s.Visits.Edit(r.Context(), c.visitActor(), v.ID, in)
	var vc *visits.VisitConflict
	if errors.As(err, &vc) {
		s.renderVisitEdit(w, c, csrf, http.StatusConflict, v, f, vc.Error(), nil, &vc.Current)
		return
	}
	if err != nil {
		field, msg, status := visitsMessage(visitsError(err))
		if msg == "" {
			s.notFoundOr(w, c, csrf, err)
			return
		}
		s.renderVisitEdit(w, c, csrf, status, v, f, msg, map[string]string{strings.TrimPrefix(field, "findings."): msg}, nil)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/visits/%d?saved=1", v.ID), http.StatusSeeOther)
}

// ---- Pages: follow-ups ----

type followupListData struct {
	Items    []visits.Followup
	Filter   visits.Filter
	Area     string
	Statuses []visits.Choice
	Kinds    []visits.Choice
	Levels   []visits.Choice
	Rules    visits.Rules
}

func (s *Server) followupListPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	f, err := followupFilter(r)
	if err != nil {
		s.notFound(w, c, csrf)
		return
	}
	if _, ok := r.URL.Query()["status"]; !ok {
		f.Status = "active"
	}
	items, err := s.Visits.Followups(r.Context(), c.Scope, f)
	if err != nil {
		if _, msg, _ := visitsMessage(visitsError(err)); msg != "" {
			s.render(w, http.StatusUnprocessableEntity, "message", pageData{Title: "跟踪事项", Caller: c, CSRF: csrf, Data: msg})
			return
		}
		s.notFoundOr(w, c, csrf, err)
		return
	}
	rules, _ := s.Visits.Rules(r.Context())
	s.render(w, http.StatusOK, "followup_list", pageData{Title: "跟踪事项", Caller: c, CSRF: csrf, Data: followupListData{
		Items: items, Filter: f, Area: r.URL.Query().Get("area"),
		Statuses: append([]visits.Choice{{Code: "active", Label: "未办结"}, {Code: "overdue", Label: "已逾期"}}, visits.Statuses...),
		Kinds:    visits.Kinds, Levels: visits.Levels, Rules: rules,
	}})
}

type followupPageData struct {
	F         visits.Followup
	History   []visits.Event
	Next      []visits.Choice
	CanMove   bool
	Providers []visits.Provider
	Visits    []visits.Visit // return visits after it was resolved
	Refer     []visits.Choice
	Form      url.Values
}

func (s *Server) followupPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	s.renderFollowup(w, r, c, csrf, http.StatusOK, nil, "", "")
}

func (s *Server) renderFollowup(w http.ResponseWriter, r *http.Request, c *caller, csrf string, status int, form url.Values, errMsg, flash string) {
	id, err := pathID(r)
	if err != nil {
		s.notFound(w, c, csrf)
		return
	}
	it, evs, err := s.Visits.Followup(r.Context(), c.Scope, id)
	if err != nil {
		s.notFoundOr(w, c, csrf, err)
		return
	}
	d := followupPageData{F: it, History: evs, Next: visits.NextStatuses(it.Status), Refer: visits.ReferTypes, Form: form,
		CanMove: c.User.Role != auth.RoleVisitor}
	if d.Form == nil {
		d.Form = url.Values{}
	}
	if d.CanMove {
		if d.Providers, err = s.Visits.Providers(r.Context(), it.AreaCode, ""); err != nil {
			s.serverError(w, err)
			return
		}
		if it.ResolvedAt != nil {
			vs, err := s.Visits.List(r.Context(), c.Scope, it.ElderID, 20)
			if err != nil {
				s.serverError(w, err)
				return
			}
			for _, v := range vs {
				if v.Outcome == "done" && !v.StartedAt.Before(*it.ResolvedAt) {
					d.Visits = append(d.Visits, v)
				}
			}
		}
	}
	s.render(w, status, "followup_view", pageData{Title: "跟踪事项", Caller: c, CSRF: csrf, Error: errMsg, Flash: flash, Data: d})
}

func (s *Server) followupSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	id, err := pathID(r)
	if err != nil {
		s.notFound(w, c, csrf)
		return
	}
	_ = r.ParseForm()
	f := r.PostForm
	version, _ := strconv.Atoi(f.Get("version"))
	provider, _ := strconv.ParseInt(f.Get("provider_id"), 10, 64)
	visitID, _ := strconv.ParseInt(f.Get("visit_id"), 10, 64)
	_, err = s.Visits.MoveFollowup(r.Context(), c.visitActor(), id, visits.Move{Status: f.Get("status"), Reason: f.Get("reason"),
		Version: version, ReferType: f.Get("refer_type"), ReferTo: f.Get("refer_to"), ProviderID: provider, VisitID: visitID})
	if err != nil {
		_, msg, status := visitsMessage(visitsError(err))
		if msg == "" {
			s.notFoundOr(w, c, csrf, err)
			return
		}
		s.renderFollowup(w, r, c, csrf, status, f, msg, "")
		return
	}
	s.renderFollowup(w, r, c, csrf, http.StatusOK, nil, "", "已更新："+visits.Label(visits.Statuses, f.Get("status")))
}

type providersData struct {
	Items    []visits.Provider
	Services []visits.Choice
	CanAdd   bool
	Form     url.Values
}

func (s *Server) providersPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	s.renderProviders(w, r, c, csrf, http.StatusOK, nil, "", "")
}

func (s *Server) renderProviders(w http.ResponseWriter, r *http.Request, c *caller, csrf string, status int, form url.Values, errMsg, flash string) {
	ps, err := s.Visits.Providers(r.Context(), c.Area.Code, "")
	if err != nil {
		s.serverError(w, err)
		return
	}
	if form == nil {
		form = url.Values{}
	}
	r2 := c.User.Role
	s.render(w, status, "followup_providers", pageData{Title: "服务组织名录", Caller: c, CSRF: csrf, Error: errMsg, Flash: flash, Data: providersData{
		Items: ps, Services: visits.ServiceNeeds, Form: form,
		CanAdd: r2 == auth.RoleTown || r2 == auth.RoleCounty || r2 == auth.RoleCity || r2 == auth.RoleAdmin,
	}})
}

func (s *Server) providerSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	_ = r.ParseForm()
	f := r.PostForm
	p, err := s.Visits.AddProvider(r.Context(), c.visitActor(), visits.ProviderInput{Name: f.Get("name"), Services: f["services"], Contact: f.Get("contact")})
	if err != nil {
		_, msg, status := visitsMessage(visitsError(err))
		if msg == "" {
			s.serverError(w, err)
			return
		}
		s.renderProviders(w, r, c, csrf, status, f, msg, "")
		return
	}
	s.renderProviders(w, r, c, csrf, http.StatusOK, nil, "", "已登记："+p.Name)
}

// ---- Pages: emergencies ----

type emergencyNewData struct {
	ElderID  string
	Elders   []visits.ElderOption
	Kinds    []visits.Choice
	Called   []visits.Choice
	ClientID string
	Form     url.Values
}

func (s *Server) emergencyNewPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	s.renderEmergencyNew(w, r, c, csrf, http.StatusOK, url.Values{"elder_id": {r.URL.Query().Get("elder_id")}}, "")
}

func (s *Server) renderEmergencyNew(w http.ResponseWriter, r *http.Request, c *caller, csrf string, status int, form url.Values, errMsg string) {
	include, _ := strconv.ParseInt(form.Get("elder_id"), 10, 64)
	elders, err := s.Visits.FormElders(r.Context(), c.visitActor(), 500, include)
	if err != nil {
		s.serverError(w, err)
		return
	}
	cid := form.Get("client_id")
	if cid == "" {
		cid = uuid.NewString()
	}
	s.render(w, status, "visit_emergency_new", pageData{Title: "上报紧急情况", Caller: c, CSRF: csrf, Error: errMsg, Data: emergencyNewData{
		ElderID: form.Get("elder_id"), Elders: elders, Kinds: visits.EmergencyKinds, Called: visits.Called, ClientID: cid, Form: form}})
}

func (s *Server) emergencySubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	_ = r.ParseForm()
	f := r.PostForm
	elderID, _ := strconv.ParseInt(f.Get("elder_id"), 10, 64)
	m, _, err := s.Visits.RaiseEmergency(r.Context(), c.visitActor(), visits.EmergencyInput{ClientID: f.Get("client_id"), ElderID: elderID,
		What: f.Get("what"), Detail: f.Get("detail"), Called: f["called"], Actions: f.Get("actions")})
	if err != nil {
		_, msg, status := visitsMessage(visitsError(err))
		if msg == "" {
			s.notFoundOr(w, c, csrf, err)
			return
		}
		s.renderEmergencyNew(w, r, c, csrf, status, f, msg)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/emergencies/%d?raised=1", m.ID), http.StatusSeeOther)
}

type emergencyPageData struct {
	M        visits.Emergency
	Delivery []outbox.Row
	CanClose bool
}

func (s *Server) emergencyPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	flash := ""
	if r.URL.Query().Get("raised") == "1" {
		flash = "已上报，并已通知家属、村（居）委会和乡镇（街道）"
	}
	s.renderEmergency(w, r, c, csrf, http.StatusOK, "", flash)
}

func (s *Server) renderEmergency(w http.ResponseWriter, r *http.Request, c *caller, csrf string, status int, errMsg, flash string) {
	id, err := pathID(r)
	if err != nil {
		s.notFound(w, c, csrf)
		return
	}
	m, err := s.Visits.Emergency(r.Context(), c.Scope, id)
	if err != nil {
		s.notFoundOr(w, c, csrf, err)
		return
	}
	rows, err := outbox.RowsFor(r.Context(), s.DB, "emergency", id)
	if err != nil {
		s.serverError(w, err)
		return
	}
	s.render(w, status, "visit_emergency", pageData{Title: "紧急情况", Caller: c, CSRF: csrf, Error: errMsg, Flash: flash, Data: emergencyPageData{
		M: m, Delivery: rows, CanClose: c.User.Role != auth.RoleVisitor}})
}

func (s *Server) emergencyNoteSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	id, err := pathID(r)
	if err != nil {
		s.notFound(w, c, csrf)
		return
	}
	_ = r.ParseForm()
	closing := r.PostForm.Get("close") == "1"
	if _, err := s.Visits.NoteEmergency(r.Context(), c.visitActor(), id, r.PostForm.Get("note"), closing); err != nil {
		_, msg, status := visitsMessage(visitsError(err))
		if msg == "" {
			s.notFoundOr(w, c, csrf, err)
			return
		}
		s.renderEmergency(w, r, c, csrf, status, msg, "")
		return
	}
	flash := "已记录处置情况"
	if closing {
		flash = "紧急情况已结束并归档"
	}
	s.renderEmergency(w, r, c, csrf, http.StatusOK, "", flash)
}

func (s *Server) emergencyListPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	ms, err := s.Visits.Emergencies(r.Context(), c.Scope, false, 200)
	if err != nil {
		s.serverError(w, err)
		return
	}
	s.render(w, http.StatusOK, "visit_emergencies", pageData{Title: "紧急情况", Caller: c, CSRF: csrf, Data: ms})
}

// ---- Pages: inbox and benefits ----

func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	msgs, err := outbox.InboxFor(r.Context(), s.DB, c.User.ID, c.User.AreaCode, c.User.Role, 100)
	if err != nil {
		s.serverError(w, err)
		return
	}
	s.render(w, http.StatusOK, "visit_inbox", pageData{Title: "消息", Caller: c, CSRF: csrf, Data: msgs})
}

type benefitsData struct {
	Rows []visits.BenefitRow
	Age  int
}

func (s *Server) benefitsPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if c.User.Role == auth.RoleVisitor {
		s.forbiddenPage(w, c, csrf)
		return
	}
	rows, err := s.Visits.BenefitList(r.Context(), c.Scope, r.URL.Query().Get("area"))
	if err != nil {
		s.notFoundOr(w, c, csrf, err)
		return
	}
	rules, _ := s.Visits.Rules(r.Context())
	s.render(w, http.StatusOK, "followup_benefits", pageData{Title: "可能符合的福利待遇", Caller: c, CSRF: csrf,
		Data: benefitsData{Rows: rows, Age: rules.OldAgeSubsidyAge}})
}

// ---- The elder's page: visits, follow-ups and the emergency button ----

type visitSectionData struct {
	ElderID     int64
	Visits      []visits.Visit
	Labels      map[int64]visitLabels
	Followups   []visits.Followup
	Emergencies []visits.Emergency
	CanRecord   bool
}

func (s *Server) visitSection(r *http.Request, c *caller, e registry.Elder) (elderSection, bool) {
	ctx := r.Context()
	vs, err := s.Visits.List(ctx, c.Scope, e.ID, 5)
	if err != nil {
		s.Log.Error("visit section", "err", err)
		return elderSection{}, false
	}
	fs, err := s.Visits.Followups(ctx, c.Scope, visits.Filter{ElderID: e.ID, Status: "active", Limit: 20})
	if err != nil {
		s.Log.Error("visit section", "err", err)
		return elderSection{}, false
	}
	ms, err := s.Visits.Emergencies(ctx, c.Scope, true, 20)
	if err != nil {
		s.Log.Error("visit section", "err", err)
		return elderSection{}, false
	}
	d := visitSectionData{ElderID: e.ID, Visits: vs, Followups: fs, Labels: map[int64]visitLabels{},
		CanRecord: c.User.Role == auth.RoleVisitor || c.User.Role == auth.RoleVillage || c.User.Role == auth.RoleTown}
	for _, v := range vs {
		d.Labels[v.ID] = labelsOf(v)
	}
	for _, m := range ms {
		if m.ElderID == e.ID {
			d.Emergencies = append(d.Emergencies, m)
		}
	}
	var b strings.Builder
	if err := s.pages.pages["visit_section"].ExecuteTemplate(&b, "visit_section", d); err != nil {
		s.Log.Error("visit section", "err", err)
		return elderSection{}, false
	}
	return elderSection{Title: "探访与跟踪", HTML: template.HTML(b.String())}, true
}
