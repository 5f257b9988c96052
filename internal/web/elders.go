package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"tanfang/internal/areas"
	"tanfang/internal/auth"
	"tanfang/internal/policy/age"
	"tanfang/internal/registry"
	"tanfang/internal/store"
)

// eldersRoutes serves the registry (一户一档, issue 3): the JSON API and
// the list, file, create and edit pages.
func (s *Server) eldersRoutes() {
	s.apiRoute("POST /api/v1/elders", s.apiRegistry(s.apiElderCreate))
	s.apiRoute("GET /api/v1/elders", s.apiRegistry(s.apiElderList))
	s.apiRoute("GET /api/v1/elders/changes", s.apiRegistry(s.apiElderChanges))
	s.apiRoute("GET /api/v1/elders/{id}", s.apiRegistry(s.apiElderGet))
	s.apiRoute("PATCH /api/v1/elders/{id}", s.apiRegistry(s.apiElderPatch))
	s.apiRoute("GET /api/v1/elders/{id}/history", s.apiRegistry(s.apiElderHistory))
	s.apiRoute("POST /api/v1/elders/{id}/status", s.apiRegistry(s.apiElderStatus))
	s.apiRoute("POST /api/v1/elders/{id}/transfer", s.apiRegistry(s.apiElderTransfer))
	s.apiRoute("POST /api/v1/elders/{id}/reveal", s.apiRegistry(s.apiElderReveal))

	s.mux.HandleFunc("GET /elders", s.page(s.elderListPage))
	s.mux.HandleFunc("GET /elders/new", s.page(s.elderNewPage))
	s.mux.HandleFunc("POST /elders/new", s.page(s.elderCreateSubmit))
	s.mux.HandleFunc("GET /elders/{id}", s.page(s.elderPage))
	s.mux.HandleFunc("GET /elders/{id}/edit", s.page(s.elderEditPage))
	s.mux.HandleFunc("POST /elders/{id}/edit", s.page(s.elderEditSubmit))
	s.mux.HandleFunc("POST /elders/{id}/status", s.page(s.elderStatusSubmit))
	s.mux.HandleFunc("POST /elders/{id}/reveal", s.page(s.elderRevealSubmit))
	s.mux.HandleFunc("GET /elders/{id}/history", s.page(s.elderHistoryPage))
	s.addNav(navItem{Order: 10, Label: "老人档案", Href: func(*caller) string { return "/elders" }})
}

func (c caller) actor() registry.Actor {
	return registry.Actor{UserID: c.User.ID, Username: c.User.Username, Role: c.User.Role, IP: c.IP}
}

// canEditFiles: government staff register and edit files; visitors read
// the files of their area and record visits.
func canEditFiles(role string) bool {
	switch role {
	case auth.RoleAdmin, auth.RoleCity, auth.RoleCounty, auth.RoleTown, auth.RoleVillage:
		return true
	}
	return false
}

// canTransfer: moving a file takes an office that oversees more than one
// village; a village asks its town.
func canTransfer(role string) bool {
	return canEditFiles(role) && role != auth.RoleVillage
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, store.ErrNotFound
	}
	return id, nil
}

// registryError maps the registry's typed errors to API errors.
func (s *Server) registryError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *registry.ValidationError
	var de *registry.DuplicateError
	var dd *registry.DeceasedError
	var vc *registry.VersionConflict
	switch {
	case errors.As(err, &dd):
		// Before ValidationError, which it also reads as for forms.
		body := map[string]any{"code": errConflict, "field": "id_number", "message": dd.Error(), "area_code": dd.AreaCode}
		if dd.ElderID != 0 {
			body["elder_id"] = dd.ElderID
		}
		writeJSON(w, http.StatusConflict, map[string]any{"error": body})
	case errors.As(err, &ve):
		first := ve.Fields[0]
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": map[string]any{
			"code": errInvalid, "field": first.Field, "message": first.Message, "fields": ve.Fields,
		}})
	case errors.As(err, &de):
		body := map[string]any{"code": errConflict, "field": "id_number", "message": de.Error(), "area_code": de.AreaCode}
		if de.ElderID != 0 {
			body["elder_id"] = de.ElderID
		}
		writeJSON(w, http.StatusConflict, map[string]any{"error": body})
	case errors.As(err, &vc):
		writeJSON(w, http.StatusConflict, map[string]any{"error": map[string]any{
			"code": errConflict, "field": "version", "message": vc.Error(), "current": vc.Current,
		}})
	case errors.Is(err, registry.ErrForbidden):
		s.renderAPIError(w, r, errForbiddenRole)
	default:
		s.renderAPIError(w, r, err)
	}
}

// apiRegistry renders the registry's typed errors (field lists, 409s with
// the current file) for the handlers of this file.
func (s *Server) apiRegistry(h apiHandler) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		if err := h(w, r, c); err != nil {
			s.registryError(w, r, err)
		}
		return nil
	}
}

func (s *Server) apiElderCreate(w http.ResponseWriter, r *http.Request, c caller) error {
	if !canEditFiles(c.User.Role) {
		return errForbiddenRole
	}
	var in registry.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	e, err := s.Registry.Create(r.Context(), c.actor(), c.Scope, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

// listFilter reads the list filters shared by the API and the page.
func listFilter(q url.Values) (registry.Filter, error) {
	f := registry.Filter{
		AreaCode: strings.TrimSpace(q.Get("area_code")), Status: q.Get("status"), Name: strings.TrimSpace(q.Get("name")),
		IDNumber: strings.TrimSpace(q.Get("id_number")), Phone: strings.TrimSpace(q.Get("phone")), Class: q.Get("class"),
	}
	if v := q.Get("incomplete"); v != "" {
		b := v == "1" || v == "true"
		f.Incomplete = &b
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"page", &f.Page}, {"page_size", &f.PageSize}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return f, badField(p.name, p.name+"应为正整数")
			}
			*p.dst = n
		}
	}
	switch f.Class {
	case "", "A", "B", "C", "none":
	default:
		return f, badField("class", "类别应为A、B、C或none（不在探访范围）")
	}
	if f.PageSize > registry.MaxPageSize {
		return f, badField("page_size", "每页最多"+strconv.Itoa(registry.MaxPageSize)+"条")
	}
	return f, nil
}

func (s *Server) apiElderList(w http.ResponseWriter, r *http.Request, c caller) error {
	f, err := listFilter(r.URL.Query())
	if err != nil {
		return err
	}
	items, total, err := s.Registry.List(r.Context(), c.actor(), c.Scope, f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []registry.Elder{}
	}
	page, size := max(f.Page, 1), f.PageSize
	if size == 0 {
		size = 20
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "total": total, "page": page, "page_size": size})
	return nil
}

func (s *Server) apiElderGet(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	e, err := s.Registry.Get(r.Context(), c.actor(), c.Scope, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// elderPatch is the PATCH body: the changed fields, the version the caller
// read, and why.
type elderPatch struct {
	registry.Input
	Version int    `json:"version"`
	Reason  string `json:"reason"`
}

func (s *Server) apiElderPatch(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if !canEditFiles(c.User.Role) {
		return errForbiddenRole
	}
	var in elderPatch
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Version < 1 {
		return badField("version", "请提供读取档案时的版本号（version）")
	}
	e, err := s.Registry.Update(r.Context(), c.actor(), c.Scope, id, in.Version, in.Input, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) apiElderHistory(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	vs, err := s.Registry.History(r.Context(), c.actor(), c.Scope, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": vs})
	return nil
}

func (s *Server) apiElderStatus(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if !canEditFiles(c.User.Role) {
		return errForbiddenRole
	}
	var in struct {
		registry.Status
		Version int `json:"version"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Version < 1 {
		return badField("version", "请提供读取档案时的版本号（version）")
	}
	e, err := s.Registry.SetStatus(r.Context(), c.actor(), c.Scope, id, in.Version, in.Status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// Transfers move a file between areas; the sending side starts them, and
// only an office that oversees both sides (town, county, city) may do so,
// since a village cannot see the receiving village.
func (s *Server) apiElderTransfer(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if !canTransfer(c.User.Role) {
		return &statusError{http.StatusForbidden, errForbidden, "村（居）不能直接转移档案，请由乡镇（街道）或县区民政办理"}
	}
	var in struct {
		ToAreaCode string `json:"to_area_code"`
		Reason     string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	e, err := s.Registry.Transfer(r.Context(), c.actor(), c.Scope, id, in.ToAreaCode, in.Reason)
	if err != nil {
		return err
	}
	if !c.Scope.Contains(e.AreaCode) {
		// Moved out of the caller's area: only what it is allowed to know.
		writeJSON(w, http.StatusOK, map[string]any{"id": e.ID, "area_code": e.AreaCode, "version": e.Version})
		return nil
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) apiElderReveal(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	idNumber, phone, err := s.Registry.Reveal(r.Context(), c.actor(), c.Scope, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id_number": idNumber, "phone": phone})
	return nil
}

func (s *Server) apiElderChanges(w http.ResponseWriter, r *http.Request, c caller) error {
	sc, err := s.scopeParam(r, c)
	if err != nil {
		return err
	}
	month := r.URL.Query().Get("month")
	if month == "" {
		month = s.Now().In(age.Shanghai).Format("2006-01")
	}
	items, err := s.Registry.ChangedInMonth(r.Context(), sc, month)
	if err != nil {
		return err
	}
	if items == nil {
		items = []registry.MonthChange{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"month": month, "items": items})
	return nil
}

// scopeParam narrows the caller's scope to ?area_code= when given; an area
// outside the caller's scope is not found.
func (s *Server) scopeParam(r *http.Request, c caller) (areas.Scope, error) {
	code := strings.TrimSpace(r.URL.Query().Get("area_code"))
	if code == "" || code == c.Area.Code {
		return c.Scope, nil
	}
	a, err := s.Areas.GetIn(r.Context(), c.Scope, code)
	if err != nil {
		return areas.Scope{}, err
	}
	return areas.ScopeOf(a), nil
}
