package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/store"
)

// API error codes (the contract's closed list).
const (
	errInvalid      = "invalid"
	errUnauthorized = "unauthorized"
	errForbidden    = "forbidden"
	errNotFound     = "not_found"
	errConflict     = "conflict"
	errLocked       = "locked"
	errInternal     = "internal"
)

type apiError struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, field, msg string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Field: field, Message: msg}})
}

// caller is the authenticated account of a request with its area scope.
type caller struct {
	User  auth.User
	Area  areas.Area
	Scope areas.Scope
	Token string
	IP    string
}

func (c caller) auditEntry(now time.Time, action, targetType, targetID string) audit.Entry {
	return audit.Entry{At: now, ActorID: c.User.ID, Actor: c.User.Username, Action: action,
		TargetType: targetType, TargetID: targetID, IP: c.IP, Outcome: audit.OK}
}

type callerKey struct{}

func callerFrom(ctx context.Context) caller {
	c, _ := ctx.Value(callerKey{}).(caller)
	return c
}

// resolve turns a session secret into a caller.
func (s *Server) resolve(ctx context.Context, token, ip string) (caller, error) {
	u, err := s.Auth.Authenticate(ctx, token)
	if err != nil {
		return caller{}, err
	}
	a, err := s.Areas.Get(ctx, u.AreaCode)
	if err != nil {
		return caller{}, fmt.Errorf("account area: %w", err)
	}
	return caller{User: u, Area: a, Scope: areas.ScopeOf(a), Token: token, IP: ip}, nil
}

// apiHandler returns an error to be rendered, or nil after writing.
type apiHandler func(w http.ResponseWriter, r *http.Request, c caller) error

// api authenticates a bearer token and renders returned errors in the
// contract's shape.
func (s *Server) api(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.resolve(r.Context(), bearerToken(r), clientIP(r))
		if err != nil {
			if errors.Is(err, auth.ErrNoSession) {
				writeError(w, http.StatusUnauthorized, errUnauthorized, "", "未登录或登录已过期，请重新登录")
				return
			}
			s.Log.Error("authenticate", "err", err)
			writeError(w, http.StatusInternalServerError, errInternal, "", "服务器内部错误")
			return
		}
		if err := h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)), c); err != nil {
			s.renderAPIError(w, r, err)
		}
	}
}

// Typed errors handlers return.
type (
	// fieldError is bad input in one field.
	fieldError struct{ Field, Message string }
	// statusError is any other client error with its status and code.
	statusError struct {
		Status        int
		Code, Message string
	}
)

func (e *fieldError) Error() string  { return e.Field + ": " + e.Message }
func (e *statusError) Error() string { return e.Code + ": " + e.Message }

func badField(field, msg string) error { return &fieldError{field, msg} }

var errForbiddenRole = &statusError{http.StatusForbidden, errForbidden, "您的角色无权进行此操作"}

func (s *Server) renderAPIError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *fieldError
	var se *statusError
	var ae *auth.InvalidError
	switch {
	case errors.As(err, &fe):
		writeError(w, http.StatusUnprocessableEntity, errInvalid, fe.Field, fe.Message)
	case errors.As(err, &ae):
		writeError(w, http.StatusUnprocessableEntity, errInvalid, ae.Field, ae.Message)
	case errors.As(err, &se):
		writeError(w, se.Status, se.Code, "", se.Message)
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, errNotFound, "", "记录不存在")
	case errors.Is(err, areas.ErrInvalid):
		writeError(w, http.StatusUnprocessableEntity, errInvalid, "", strings.TrimPrefix(err.Error(), areas.ErrInvalid.Error()+": "))
	default:
		s.Log.Error("api", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, errInternal, "", "服务器内部错误")
	}
}

// decodeJSON reads a JSON body into v, refusing unknown fields so a typo in
// a field name is reported instead of silently ignored.
func decodeJSON(r *http.Request, v any) error {
	const limit = 1 << 20
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return badField("", "请求内容读取失败")
	}
	if len(body) > limit {
		return &statusError{http.StatusRequestEntityTooLarge, errInvalid, "请求内容过大（超过1MB）"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		return badField("", "请求内容只能是一个JSON对象")
	}
	if err != nil {
		var ute *json.UnmarshalTypeError
		var syn *json.SyntaxError
		switch {
		case errors.As(err, &ute):
			return badField(ute.Field, "字段类型不正确")
		case errors.As(err, &syn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return badField("", "请求内容不是有效的JSON")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return badField(name, "未知字段："+name)
		}
		return badField("", "请求内容无法解析")
	}
	return nil
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.renderAPIError(w, r, err)
		return
	}
	if strings.TrimSpace(in.Username) == "" {
		writeError(w, http.StatusUnprocessableEntity, errInvalid, "username", "请输入用户名")
		return
	}
	token, _, expires, err := s.Auth.Login(r.Context(), in.Username, in.Password, clientIP(r), "api")
	var le *auth.LockedError
	switch {
	case errors.As(err, &le):
		writeError(w, http.StatusLocked, errLocked, "", lockedMessage(le, s.Now()))
	case errors.Is(err, auth.ErrBadCredentials):
		writeError(w, http.StatusUnauthorized, errUnauthorized, "", "用户名或密码错误")
	case err != nil:
		s.renderAPIError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, map[string]string{"token": token, "expires_at": expires.UTC().Format(time.RFC3339)})
	}
}

func lockedMessage(le *auth.LockedError, now time.Time) string {
	mins := int(le.Until.Sub(now).Minutes() + 0.999)
	return fmt.Sprintf("连续%d次密码错误，账号已锁定，请%d分钟后再试", auth.MaxFailures, max(mins, 1))
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request, c caller) error {
	if err := s.Auth.Logout(r.Context(), c.Token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request, c caller) error {
	writeJSON(w, http.StatusOK, map[string]any{
		"id": c.User.ID, "username": c.User.Username, "display_name": c.User.DisplayName,
		"role": c.User.Role, "area": c.Area,
	})
	return nil
}

type areaJSON struct {
	Code       string      `json:"code"`
	Name       string      `json:"name"`
	Level      string      `json:"level"`
	ParentCode string      `json:"parent_code"`
	Retired    bool        `json:"retired"`
	Children   []areaShort `json:"children"`
}

type areaShort struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Level string `json:"level"`
}

func (s *Server) apiArea(w http.ResponseWriter, r *http.Request, c caller) error {
	a, err := s.Areas.GetIn(r.Context(), c.Scope, r.PathValue("code"))
	if err != nil {
		return err
	}
	kids, err := s.Areas.Children(r.Context(), a.Code, false)
	if err != nil {
		return err
	}
	out := areaJSON{Code: a.Code, Name: a.Name, Level: a.Level, ParentCode: a.ParentCode, Retired: a.Retired, Children: []areaShort{}}
	if a.Code == c.Area.Code && !c.Scope.Contains(a.ParentCode) {
		// The caller's own root: its parent is outside the scope, so not shown.
		out.ParentCode = ""
	}
	for _, k := range kids {
		out.Children = append(out.Children, areaShort{k.Code, k.Name, k.Level})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// canManageAreas: grids and renames are the business of the city and
// county bureaus (and the system administrator); towns and villages ask them.
func canManageAreas(role string) bool {
	return role == auth.RoleAdmin || role == auth.RoleCity || role == auth.RoleCounty
}

func (s *Server) apiAreaAddGrid(w http.ResponseWriter, r *http.Request, c caller) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	g, err := s.addGrid(r.Context(), c, r.PathValue("code"), in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, g)
	return nil
}

func (s *Server) addGrid(ctx context.Context, c caller, village, name string) (areas.Area, error) {
	if _, err := s.Areas.GetIn(ctx, c.Scope, village); err != nil {
		return areas.Area{}, err
	}
	if !canManageAreas(c.User.Role) {
		return areas.Area{}, errForbiddenRole
	}
	if strings.TrimSpace(name) == "" {
		return areas.Area{}, badField("name", "请填写网格名称")
	}
	g, err := s.Areas.AddGrid(ctx, village, name, c.User.ID, s.Now())
	if err != nil {
		return g, err
	}
	return g, audit.Log(ctx, s.DB, c.auditEntry(s.Now(), "area.add_grid", "area", g.Code))
}

func (s *Server) apiAreaPatch(w http.ResponseWriter, r *http.Request, c caller) error {
	var in struct {
		Name    *string `json:"name"`
		Retired *bool   `json:"retired"`
		Reason  string  `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	code := r.PathValue("code")
	if _, err := s.Areas.GetIn(r.Context(), c.Scope, code); err != nil {
		return err
	}
	if !canManageAreas(c.User.Role) || code == c.Area.Code {
		return errForbiddenRole
	}
	now := s.Now()
	if in.Name != nil {
		if strings.TrimSpace(*in.Name) == "" {
			return badField("name", "名称不能为空")
		}
		if err := s.Areas.Rename(r.Context(), code, *in.Name, in.Reason, c.User.ID, now); err != nil {
			return err
		}
		if err := audit.Log(r.Context(), s.DB, c.auditEntry(now, "area.rename", "area", code)); err != nil {
			return err
		}
	}
	if in.Retired != nil {
		if !*in.Retired {
			return badField("retired", "已撤销的区划不能恢复，请新建")
		}
		if strings.TrimSpace(in.Reason) == "" {
			return badField("reason", "撤销区划须填写原因")
		}
		if err := s.Areas.Retire(r.Context(), code, in.Reason, c.User.ID, now); err != nil {
			return err
		}
		if err := audit.Log(r.Context(), s.DB, c.auditEntry(now, "area.retire", "area", code)); err != nil {
			return err
		}
	}
	a, err := s.Areas.Get(r.Context(), code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) apiAreaHistory(w http.ResponseWriter, r *http.Request, c caller) error {
	a, err := s.Areas.GetIn(r.Context(), c.Scope, r.PathValue("code"))
	if err != nil {
		return err
	}
	ch, err := s.Areas.Changes(r.Context(), a.Code)
	if err != nil {
		return err
	}
	if ch == nil {
		ch = []areas.Change{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ch})
	return nil
}
