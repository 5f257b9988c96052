package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"tanfang/internal/registry"
)

// elderForm is what the create and edit templates show: the values as
// typed (kept when the form comes back with errors) and each field's error.
type elderForm struct {
	Values  url.Values
	Errors  map[string]string
	Elder   *registry.Elder // set when editing
	Choices elderChoices
	Action  string
}

type elderChoices struct {
	Living, Body, Economic, Partner, Child, Help, Relations, Statuses []registry.Choice
	Villages                                                          []villageOption
}

type villageOption struct{ Code, Label string }

func choices() elderChoices {
	return elderChoices{
		Living: registry.LivingSituations, Body: registry.BodyConditions, Economic: registry.EconomicStatuses,
		Partner: registry.PartnerConditions, Child: registry.ChildConditions, Help: registry.HelpChannels,
		Relations: registry.Relations, Statuses: registry.Statuses,
	}
}

// villageOptions lists the villages (and grids) a caller may register
// elders in, labelled with their town, for the area drop-down.
func (s *Server) villageOptions(r *http.Request, c *caller) ([]villageOption, error) {
	all, err := s.Areas.Subtree(r.Context(), c.Scope, "")
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	var out []villageOption
	for _, a := range all {
		names[a.Code] = a.Name
		if a.Level == "village" || a.Level == "grid" {
			label := a.Name
			if p := names[a.ParentCode]; p != "" {
				label = p + " · " + a.Name
			}
			out = append(out, villageOption{a.Code, label})
		}
	}
	return out, nil
}

// inputFromForm turns the form into a registry input. Editing sends every
// field (an empty one clears it), except the personal numbers, which are
// shown masked and change only when something new is typed.
func inputFromForm(f url.Values, editing bool) registry.Input {
	str := func(name string) *string {
		if _, ok := f[name]; !ok && editing {
			return nil
		}
		v := strings.TrimSpace(f.Get(name))
		return &v
	}
	typedOnly := func(name string) *string {
		v := strings.TrimSpace(f.Get(name))
		if v == "" {
			return nil
		}
		return &v
	}
	triState := func(name string) *bool {
		switch f.Get(name) {
		case "1":
			b := true
			return &b
		case "0":
			b := false
			return &b
		}
		return nil
	}
	check := func(name string) *bool {
		b := f.Get(name) == "1"
		return &b
	}
	list := func(name string) *[]string {
		v := append([]string{}, f[name]...)
		return &v
	}
	amount := func(name string) *registry.Amount {
		a := registry.Amount(strings.TrimSpace(f.Get(name)))
		return &a
	}
	in := registry.Input{
		Name: str("name"), IDNumber: typedOnly("id_number"), BirthDate: typedOnly("birth_date"), Gender: typedOnly("gender"),
		Phone: typedOnly("phone"), Address: str("address"), AtRegisteredResidence: triState("at_registered_residence"),
		LivingSituation: str("living_situation"), BodyConditions: list("body_conditions"), Diseases: str("diseases"),
		EconomicStatus: list("economic_status"), FamilyPlanningSpecial: check("family_planning_special"), LeftBehind: check("left_behind"),
		PartnerCondition: str("partner_condition"), CaresForChildCondition: str("cares_for_child_condition"),
		DisabilityCertificate: typedOnly("disability_certificate"),
		PensionMonthly:        amount("pension_monthly"), AssistanceMonthly: amount("assistance_monthly"), SubsidyMonthly: amount("subsidy_monthly"),
		FirstContact: &registry.FirstContactInput{Name: str("first_contact.name"), Relation: str("first_contact.relation"),
			Phone: typedOnly("first_contact.phone"), Address: str("first_contact.address"), Reachable: check("first_contact.reachable")},
		VillageContact: &registry.VillageContactInput{Name: str("village_contact.name"), Phone: typedOnly("village_contact.phone")},
		Willing:        triState("willing"), DeclineReason: str("decline_reason"), ConsentSigner: str("consent_signer"),
		ConsentSignedOn: str("consent_signed_on"), ConsentHome: check("consent_home"), ConsentHomeForCall: check("consent_home_for_call"),
		HelpChannels: list("help_channels"), HelpChannelsOther: str("help_channels_other"), Measures: str("measures"),
		Collector: str("collector"), CollectedOn: str("collected_on"),
	}
	if !editing {
		in.AreaCode = str("area_code")
		if in.IDNumber == nil {
			empty := ""
			in.IDNumber = &empty
		}
	}
	return in
}

// formFromElder fills the edit form from a stored file.
func formFromElder(e registry.Elder) url.Values {
	v := url.Values{}
	set := func(k, val string) { v.Set(k, val) }
	yn := func(b *bool) string {
		if b == nil {
			return ""
		}
		if *b {
			return "1"
		}
		return "0"
	}
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return ""
	}
	money := func(m *registry.Money) string {
		if m == nil {
			return ""
		}
		return m.String()
	}
	set("name", e.Name)
	set("address", e.Address)
	set("at_registered_residence", yn(e.AtRegisteredResidence))
	set("living_situation", e.LivingSituation)
	v["body_conditions"] = e.BodyConditions
	set("diseases", e.Diseases)
	v["economic_status"] = e.EconomicStatus
	set("family_planning_special", flag(e.FamilyPlanningSpecial))
	set("left_behind", flag(e.LeftBehind))
	set("partner_condition", e.PartnerCondition)
	set("cares_for_child_condition", e.CaresForChildCondition)
	set("pension_monthly", money(e.PensionMonthly))
	set("assistance_monthly", money(e.AssistanceMonthly))
	set("subsidy_monthly", money(e.SubsidyMonthly))
	set("first_contact.name", e.FirstContact.Name)
	set("first_contact.relation", e.FirstContact.Relation)
	set("first_contact.address", e.FirstContact.Address)
	set("first_contact.reachable", flag(e.FirstContact.Reachable))
	set("village_contact.name", e.VillageContact.Name)
	set("willing", yn(e.Willing))
	set("decline_reason", e.DeclineReason)
	set("consent_signer", e.ConsentSigner)
	set("consent_signed_on", e.ConsentSignedOn)
	set("consent_home", flag(e.ConsentHome))
	set("consent_home_for_call", flag(e.ConsentHomeForCall))
	v["help_channels"] = e.HelpChannels
	set("help_channels_other", e.HelpChannelsOther)
	set("measures", e.Measures)
	set("collector", e.Collector)
	set("collected_on", e.CollectedOn)
	set("version", strconv.Itoa(e.Version))
	return v
}

func (s *Server) renderElderForm(w http.ResponseWriter, r *http.Request, c *caller, csrf string, status int, form elderForm, title, errMsg string) {
	vs, err := s.villageOptions(r, c)
	if err != nil {
		s.serverError(w, err)
		return
	}
	form.Choices = choices()
	form.Choices.Villages = vs
	if len(vs) == 1 && form.Values.Get("area_code") == "" {
		// A village account has one place to register people: choose it.
		form.Values.Set("area_code", vs[0].Code)
	}
	if form.Errors == nil {
		form.Errors = map[string]string{}
	}
	s.render(w, status, "elder_form", pageData{Title: title, Caller: c, CSRF: csrf, Error: errMsg, Data: form})
}

// formErrors turns a registry error into per-field messages and a summary.
func formErrors(err error) (map[string]string, string, bool) {
	var ve *registry.ValidationError
	var de *registry.DuplicateError
	var vc *registry.VersionConflict
	switch {
	case errors.As(err, &ve):
		return ve.ByField(), fmt.Sprintf("有%d处需要修改，请看标红的栏目", len(ve.ByField())), true
	case errors.As(err, &de):
		return map[string]string{"id_number": de.Error()}, de.Error(), true
	case errors.As(err, &vc):
		return map[string]string{}, vc.Error(), true
	}
	return nil, "", false
}

func (s *Server) elderNewPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !canEditFiles(c.User.Role) {
		s.forbiddenPage(w, c, csrf)
		return
	}
	v := url.Values{}
	v.Set("area_code", r.URL.Query().Get("area_code"))
	v.Set("first_contact.reachable", "1")
	s.renderElderForm(w, r, c, csrf, http.StatusOK, elderForm{Values: v, Action: "/elders/new"}, "登记老人", "")
}

func (s *Server) elderCreateSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !canEditFiles(c.User.Role) {
		s.forbiddenPage(w, c, csrf)
		return
	}
	_ = r.ParseForm()
	e, err := s.Registry.Create(r.Context(), c.actor(), c.Scope, inputFromForm(r.PostForm, false))
	if err != nil {
		if fe, msg, ok := formErrors(err); ok {
			s.renderElderForm(w, r, c, csrf, http.StatusUnprocessableEntity, elderForm{Values: r.PostForm, Errors: fe, Action: "/elders/new"}, "登记老人", msg)
			return
		}
		s.serverError(w, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/elders/%d?created=1", e.ID), http.StatusSeeOther)
}

func (s *Server) loadElder(w http.ResponseWriter, r *http.Request, c *caller, csrf string) (registry.Elder, bool) {
	id, err := pathID(r)
	if err == nil {
		var e registry.Elder
		e, err = s.Registry.Get(r.Context(), c.actor(), c.Scope, id)
		if err == nil {
			return e, true
		}
	}
	s.notFoundOr(w, c, csrf, err)
	return registry.Elder{}, false
}

func (s *Server) elderEditPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !canEditFiles(c.User.Role) {
		s.forbiddenPage(w, c, csrf)
		return
	}
	e, ok := s.loadElder(w, r, c, csrf)
	if !ok {
		return
	}
	s.renderElderForm(w, r, c, csrf, http.StatusOK, elderForm{Values: formFromElder(e), Elder: &e, Action: fmt.Sprintf("/elders/%d/edit", e.ID)}, "修改档案："+e.Name, "")
}

func (s *Server) elderEditSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !canEditFiles(c.User.Role) {
		s.forbiddenPage(w, c, csrf)
		return
	}
	e, ok := s.loadElder(w, r, c, csrf)
	if !ok {
		return
	}
	_ = r.ParseForm()
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	updated, err := s.Registry.Update(r.Context(), c.actor(), c.Scope, e.ID, version, inputFromForm(r.PostForm, true), r.PostForm.Get("reason"))
	if err != nil {
		if fe, msg, ok := formErrors(err); ok {
			form := elderForm{Values: r.PostForm, Errors: fe, Elder: &e, Action: fmt.Sprintf("/elders/%d/edit", e.ID)}
			var vc *registry.VersionConflict
			if errors.As(err, &vc) {
				form.Elder = &vc.Current
			}
			s.renderElderForm(w, r, c, csrf, http.StatusUnprocessableEntity, form, "修改档案："+e.Name, msg)
			return
		}
		s.notFoundOr(w, c, csrf, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/elders/%d?saved=%d", updated.ID, updated.Version), http.StatusSeeOther)
}

type elderPageData struct {
	E         registry.Elder
	Household []registry.Elder
	Area      string
	CanEdit   bool
	CanReveal bool
	Revealed  map[string]string
	Choices   elderChoices
	StatusErr map[string]string
	Extra     []elderSection
}

// elderSection lets other parts of the product (classes, visits, pairing)
// add a block to the elder's page without editing this file.
type elderSection struct {
	Title string
	HTML  template.HTML
}

func (s *Server) elderPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	e, ok := s.loadElder(w, r, c, csrf)
	if !ok {
		return
	}
	s.renderElder(w, r, c, csrf, http.StatusOK, e, nil, "", flashFor(r))
}

func flashFor(r *http.Request) string {
	q := r.URL.Query()
	switch {
	case q.Get("created") != "":
		return "档案已建立"
	case q.Get("saved") != "":
		return "已保存（第" + q.Get("saved") + "版）"
	}
	return ""
}

func (s *Server) renderElder(w http.ResponseWriter, r *http.Request, c *caller, csrf string, status int, e registry.Elder, revealed map[string]string, errMsg, flash string) {
	hh, err := s.Registry.Household(r.Context(), c.Scope, e.ID)
	if err != nil {
		s.serverError(w, err)
		return
	}
	areaName := e.AreaCode
	if anc, err := s.Areas.Ancestors(r.Context(), e.AreaCode); err == nil {
		var parts []string
		for _, a := range anc[min(1, len(anc)):] {
			parts = append(parts, a.Name)
		}
		if a, err := s.Areas.Get(r.Context(), e.AreaCode); err == nil {
			parts = append(parts, a.Name)
		}
		areaName = strings.Join(parts, " ")
	}
	d := elderPageData{E: e, Household: hh, Area: areaName, CanEdit: canEditFiles(c.User.Role), CanReveal: canEditFiles(c.User.Role),
		Revealed: revealed, Choices: choices()}
	for _, sec := range s.elderSections {
		if x, ok := sec(r, c, e); ok {
			d.Extra = append(d.Extra, x)
		}
	}
	s.render(w, status, "elder", pageData{Title: e.Name, Caller: c, CSRF: csrf, Error: errMsg, Flash: flash, Data: d})
}

func (s *Server) elderRevealSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	e, ok := s.loadElder(w, r, c, csrf)
	if !ok {
		return
	}
	idNumber, phone, err := s.Registry.Reveal(r.Context(), c.actor(), c.Scope, e.ID)
	if errors.Is(err, registry.ErrForbidden) {
		s.renderElder(w, r, c, csrf, http.StatusForbidden, e, nil, "您的角色无权查看完整号码", "")
		return
	}
	if err != nil {
		s.serverError(w, err)
		return
	}
	s.renderElder(w, r, c, csrf, http.StatusOK, e, map[string]string{"id_number": idNumber, "phone": phone}, "", "完整号码已显示，本次查看已记录")
}

func (s *Server) elderStatusSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !canEditFiles(c.User.Role) {
		s.forbiddenPage(w, c, csrf)
		return
	}
	e, ok := s.loadElder(w, r, c, csrf)
	if !ok {
		return
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	st := registry.Status{Kind: r.PostFormValue("kind"), From: r.PostFormValue("from"), To: r.PostFormValue("to"), Reason: r.PostFormValue("reason")}
	updated, err := s.Registry.SetStatus(r.Context(), c.actor(), c.Scope, e.ID, version, st)
	if err != nil {
		if fe, msg, ok := formErrors(err); ok {
			var parts []string
			for _, m := range fe {
				parts = append(parts, m)
			}
			slices.Sort(parts)
			if len(parts) > 0 {
				msg = "状态未更改：" + strings.Join(parts, "；")
			}
			s.renderElder(w, r, c, csrf, http.StatusUnprocessableEntity, e, nil, msg, "")
			return
		}
		s.notFoundOr(w, c, csrf, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/elders/%d?saved=%d", updated.ID, updated.Version), http.StatusSeeOther)
}

func (s *Server) elderHistoryPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	id, err := pathID(r)
	if err != nil {
		s.notFound(w, c, csrf)
		return
	}
	e, err := s.Registry.Get(r.Context(), c.actor(), c.Scope, id)
	if err != nil {
		s.notFoundOr(w, c, csrf, err)
		return
	}
	vs, err := s.Registry.History(r.Context(), c.actor(), c.Scope, id)
	if err != nil {
		s.serverError(w, err)
		return
	}
	s.render(w, http.StatusOK, "elder_history", pageData{Title: "档案变更记录：" + e.Name, Caller: c, CSRF: csrf, Data: map[string]any{"E": e, "Versions": vs}})
}

type elderListData struct {
	Items      []registry.Elder
	Total      int
	Page, Last int
	Query      url.Values
	PrevURL    string
	NextURL    string
	Choices    elderChoices
	CanEdit    bool
	Villages   []villageOption
}

func (s *Server) elderListPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	q := r.URL.Query()
	f, err := listFilter(q)
	errMsg := ""
	if err != nil {
		errMsg = err.(*fieldError).Message
		f = registry.Filter{}
	}
	if f.PageSize == 0 {
		f.PageSize = 20
	}
	items, total, err := s.Registry.List(r.Context(), c.actor(), c.Scope, f)
	if err != nil {
		if _, msg, ok := formErrors(err); ok {
			errMsg, items, total = msg, nil, 0
		} else {
			s.notFoundOr(w, c, csrf, err)
			return
		}
	}
	vs, err := s.villageOptions(r, c)
	if err != nil {
		s.serverError(w, err)
		return
	}
	page := max(f.Page, 1)
	last := max(1, (total+f.PageSize-1)/f.PageSize)
	d := elderListData{Items: items, Total: total, Page: page, Last: last, Query: q, Choices: choices(), CanEdit: canEditFiles(c.User.Role), Villages: vs}
	link := func(p int) string {
		q2 := url.Values{}
		for k, v := range q {
			q2[k] = v
		}
		q2.Set("page", strconv.Itoa(p))
		return "/elders?" + q2.Encode()
	}
	if page > 1 {
		d.PrevURL = link(page - 1)
	}
	if page < last {
		d.NextURL = link(page + 1)
	}
	s.render(w, http.StatusOK, "elder_list", pageData{Title: "老人档案", Caller: c, CSRF: csrf, Error: errMsg, Data: d})
}

func (s *Server) forbiddenPage(w http.ResponseWriter, c *caller, csrf string) {
	s.render(w, http.StatusForbidden, "message", pageData{Title: "无权操作", Caller: c, CSRF: csrf, Data: "您的角色无权进行此操作。"})
}
