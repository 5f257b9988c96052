package plan

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/policy/mask"
	"tanfang/internal/store"
)

// Choice is a stored code word with its Chinese label.
type Choice struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// Kinds of visitor (R-USR-2, R-TEAM-2), in the order forms offer them.
var Kinds = []Choice{
	{"village_cadre", "村居干部"},
	{"work_team", "驻村工作队员"},
	{"grid_worker", "网格员"},
	{"volunteer", "志愿者"},
	{"social_worker", "社会工作者"},
	{"family_doctor", "家庭医生"},
	{"silver_adviser", "银发顾问"},
	{"service_staff", "物业/快递/邮政人员"},
	{"peer", "低龄老人(老伙伴)"},
	{"party_cadre", "党员干部"},
	{"other", "其他"},
}

// KindLabel returns the Chinese label of a kind, or the code itself.
func KindLabel(code string) string {
	for _, k := range Kinds {
		if k.Code == code {
			return k.Label
		}
	}
	return code
}

func knownKind(code string) bool { return KindLabel(code) != code }

// phoneKind binds sealed visitor phones to their purpose, as the registry
// does for elders' phones.
const phoneKind = "phone"

// Visitor is one person who visits, as lists and the API show them: the
// phone only masked.
type Visitor struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	KindLabel   string    `json:"kind_label"`
	Name        string    `json:"name"`
	Unit        string    `json:"unit"`
	Title       string    `json:"title"`
	PhoneMasked string    `json:"phone_masked"`
	AreaCode    string    `json:"area_code"`
	UserID      *int64    `json:"user_id"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// VisitorInput is a new visitor. UserID links an account with the visitor
// role.
type VisitorInput struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	AreaCode string `json:"area_code"`
	Kind     string `json:"kind"`
	Unit     string `json:"unit"`
	Title    string `json:"title"`
	UserID   *int64 `json:"user_id"`
}

// VisitorPatch changes the fields that are not nil. UserID 0 unlinks the
// account; Active false ends the visitor's current pairings.
type VisitorPatch struct {
	Name     *string `json:"name"`
	Phone    *string `json:"phone"`
	AreaCode *string `json:"area_code"`
	Kind     *string `json:"kind"`
	Unit     *string `json:"unit"`
	Title    *string `json:"title"`
	UserID   *int64  `json:"user_id"`
	Active   *bool   `json:"active"`
	Reason   string  `json:"reason"`
}

const visitorCols = "id, kind, name, unit, title, phone_masked, area_code, user_id, active, created_at, updated_at"

func scanVisitor(row interface{ Scan(...any) error }) (Visitor, error) {
	var v Visitor
	var user sql.NullInt64
	var created, updated string
	if err := row.Scan(&v.ID, &v.Kind, &v.Name, &v.Unit, &v.Title, &v.PhoneMasked, &v.AreaCode, &user, &v.Active, &created, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return v, store.ErrNotFound
		}
		return v, err
	}
	if user.Valid {
		v.UserID = &user.Int64
	}
	v.KindLabel = KindLabel(v.Kind)
	v.CreatedAt, v.UpdatedAt = store.MustTime(created), store.MustTime(updated)
	return v, nil
}

// text trims a free-text field and checks its length.
func text(field, label, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		return "", fieldErr(field, "请填写"+label)
	case utf8.RuneCountInString(v) > max:
		return "", fieldErr(field, fmt.Sprintf("%s不能超过%d个字", label, max))
	}
	return v, nil
}

// visitorArea checks that a visitor's area is a village or a grid in scope.
func (s *Service) visitorArea(ctx context.Context, sc areas.Scope, code string) error {
	code = strings.TrimSpace(code)
	if code == "" {
		return fieldErr("area_code", "请填写所属村（社区）或网格")
	}
	a, err := areas.Store{DB: s.DB}.GetIn(ctx, sc, code)
	if errors.Is(err, store.ErrNotFound) {
		return fieldErr("area_code", "区划“"+code+"”不存在或不在您的管辖范围内")
	}
	if err != nil {
		return err
	}
	if a.Retired {
		return fieldErr("area_code", "区划“"+a.Name+"”已撤销")
	}
	if a.Level != areas.Village && a.Level != areas.Grid {
		return fieldErr("area_code", "探访人员应属于村（社区）或网格，“"+a.Name+"”是"+areas.LevelName(a.Level))
	}
	return nil
}

// linkableUser checks that an account may be linked: it has the visitor
// role and lies in scope.
func linkableUser(ctx context.Context, tx *store.Tx, sc areas.Scope, id int64) error {
	var role, area string
	err := tx.QueryRow(ctx, "SELECT role, area_code FROM users WHERE id = ?", id).Scan(&role, &area)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !sc.Contains(area)) {
		return fieldErr("user_id", "账号不存在或不在您的管辖范围内")
	}
	if err != nil {
		return err
	}
	if role != auth.RoleVisitor {
		return fieldErr("user_id", "只能关联“探访人员”角色的账号")
	}
	return nil
}

// sealPhone normalises, seals and masks a phone number.
func (s *Service) sealPhone(phone string) (enc []byte, hmac, masked string, err error) {
	p, perr := mask.NormalizePhone(phone)
	if perr != nil {
		return nil, "", "", fieldErr("phone", perr.Error())
	}
	return s.Keys.Seal(phoneKind, p), s.Keys.Lookup(phoneKind, p), mask.Phone(p), nil
}

// phoneTaken reports an active visitor other than self with the same phone.
func (s *Service) phoneTaken(ctx context.Context, tx *store.Tx, phone string, self int64) error {
	p, _ := mask.NormalizePhone(phone)
	for _, h := range s.Keys.Lookups(phoneKind, p) {
		var id int64
		err := tx.QueryRow(ctx, "SELECT id FROM visitors WHERE phone_hmac = ? AND active = 1 AND id <> ?", h, self).Scan(&id)
		if err == nil {
			return &ConflictError{fmt.Sprintf("该电话号码已登记为探访人员（编号%d）", id)}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	return nil
}

func userTaken(ctx context.Context, tx *store.Tx, userID, self int64) error {
	var id int64
	err := tx.QueryRow(ctx, "SELECT id FROM visitors WHERE user_id = ? AND id <> ?", userID, self).Scan(&id)
	if err == nil {
		return &ConflictError{fmt.Sprintf("该账号已关联探访人员（编号%d）", id)}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

// CreateVisitor registers a visitor in an area of sc. actor is the audit
// entry of the acting account.
func (s *Service) CreateVisitor(ctx context.Context, sc areas.Scope, actor audit.Entry, in VisitorInput) (Visitor, error) {
	name, err := text("name", "姓名", in.Name, 30, true)
	if err != nil {
		return Visitor{}, err
	}
	if strings.TrimSpace(in.Phone) == "" {
		return Visitor{}, fieldErr("phone", "请填写联系电话")
	}
	enc, hmac, masked, err := s.sealPhone(in.Phone)
	if err != nil {
		return Visitor{}, err
	}
	kind := strings.TrimSpace(in.Kind)
	if kind == "" {
		return Visitor{}, fieldErr("kind", "请选择人员类别")
	}
	if !knownKind(kind) {
		return Visitor{}, fieldErr("kind", "人员类别“"+kind+"”不是可选项")
	}
	unit, err := text("unit", "工作单位", in.Unit, 60, false)
	if err != nil {
		return Visitor{}, err
	}
	title, err := text("title", "职务", in.Title, 30, false)
	if err != nil {
		return Visitor{}, err
	}
	if err := s.visitorArea(ctx, sc, in.AreaCode); err != nil {
		return Visitor{}, err
	}
	area := strings.TrimSpace(in.AreaCode)
	now := store.FormatTime(s.now())
	var v Visitor
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		var user any
		if in.UserID != nil && *in.UserID != 0 {
			if err := linkableUser(ctx, tx, sc, *in.UserID); err != nil {
				return err
			}
			if err := userTaken(ctx, tx, *in.UserID, 0); err != nil {
				return err
			}
			user = *in.UserID
		}
		if err := s.phoneTaken(ctx, tx, in.Phone, 0); err != nil {
			return err
		}
		id, err := tx.InsertID(ctx, `INSERT INTO visitors (kind, name, unit, title, phone_enc, phone_hmac, phone_masked, area_code, user_id, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`, kind, name, unit, title, enc, hmac, masked, area, user, now, now)
		if err != nil {
			return fmt.Errorf("insert visitor: %w", err)
		}
		if v, err = scanVisitor(tx.QueryRow(ctx, "SELECT "+visitorCols+" FROM visitors WHERE id = ?", id)); err != nil {
			return err
		}
		return audit.Append(ctx, tx, entry(actor, "visitor.create", "visitor", id, area, ""))
	})
	return v, err
}

// entry fills an audit entry from the actor's template.
func entry(actor audit.Entry, action, targetType string, id int64, area, detail string) audit.Entry {
	actor.Action, actor.TargetType, actor.TargetID = action, targetType, strconv.FormatInt(id, 10)
	actor.AreaCode, actor.Detail = area, detail
	if actor.Outcome == "" {
		actor.Outcome = audit.OK
	}
	return actor
}

// Visitor returns one visitor in scope.
func (s *Service) Visitor(ctx context.Context, sc areas.Scope, id int64) (Visitor, error) {
	v, err := scanVisitor(s.DB.QueryRow(ctx, "SELECT "+visitorCols+" FROM visitors WHERE id = ?", id))
	if err != nil {
		return v, err
	}
	if !sc.Contains(v.AreaCode) {
		return Visitor{}, store.ErrNotFound
	}
	return v, nil
}

// VisitorOfUser returns the active visitor linked to an account, or
// store.ErrNotFound.
func (s *Service) VisitorOfUser(ctx context.Context, userID int64) (Visitor, error) {
	return scanVisitor(s.DB.QueryRow(ctx, "SELECT "+visitorCols+" FROM visitors WHERE user_id = ? AND active = 1", userID))
}

// Visitors lists the visitors of an area in scope (the scope's own area
// when areaCode is empty), active ones only unless all is set.
func (s *Service) Visitors(ctx context.Context, sc areas.Scope, areaCode string, all bool) ([]Visitor, error) {
	lo, hi, err := s.areaRange(ctx, sc, areaCode)
	if err != nil {
		return nil, err
	}
	q := "SELECT " + visitorCols + " FROM visitors WHERE area_code >= ? AND area_code < ?"
	if !all {
		q += " AND active = 1"
	}
	rows, err := s.DB.Query(ctx, q+" ORDER BY area_code, id", lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Visitor{}
	for rows.Next() {
		v, err := scanVisitor(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// areaRange is the code range of an area in scope; empty means the
// scope's own area.
func (s *Service) areaRange(ctx context.Context, sc areas.Scope, code string) (lo, hi string, err error) {
	if sc.Prefix == "" {
		return "", "", store.ErrNotFound
	}
	if code == "" || code == sc.Code {
		lo, hi = sc.Range()
		return lo, hi, nil
	}
	a, err := areas.Store{DB: s.DB}.GetIn(ctx, sc, code)
	if err != nil {
		return "", "", err
	}
	lo, hi = store.PrefixRange(areas.PrefixOf(a.Code, a.Level))
	return lo, hi, nil
}

// UpdateVisitor changes a visitor in scope. Deactivating ends the
// visitor's current pairings, so their elders show as unpaired.
func (s *Service) UpdateVisitor(ctx context.Context, sc areas.Scope, actor audit.Entry, id int64, p VisitorPatch) (Visitor, error) {
	cur, err := s.Visitor(ctx, sc, id)
	if err != nil {
		return cur, err
	}
	var sets, changed []string
	var args []any
	setCol := func(col string, v any) {
		sets = append(sets, col+" = ?")
		args = append(args, v)
	}
	set := func(col string, v any) {
		setCol(col, v)
		changed = append(changed, col)
	}
	if p.Name != nil {
		v, err := text("name", "姓名", *p.Name, 30, true)
		if err != nil {
			return cur, err
		}
		set("name", v)
	}
	if p.Phone != nil {
		enc, hmac, masked, err := s.sealPhone(*p.Phone)
		if err != nil {
			return cur, err
		}
		setCol("phone_enc", enc)
		setCol("phone_hmac", hmac)
		set("phone_masked", masked)
	}
	if p.Kind != nil {
		if !knownKind(strings.TrimSpace(*p.Kind)) {
			return cur, fieldErr("kind", "人员类别“"+*p.Kind+"”不是可选项")
		}
		set("kind", strings.TrimSpace(*p.Kind))
	}
	if p.Unit != nil {
		v, err := text("unit", "工作单位", *p.Unit, 60, false)
		if err != nil {
			return cur, err
		}
		set("unit", v)
	}
	if p.Title != nil {
		v, err := text("title", "职务", *p.Title, 30, false)
		if err != nil {
			return cur, err
		}
		set("title", v)
	}
	if p.AreaCode != nil {
		if err := s.visitorArea(ctx, sc, *p.AreaCode); err != nil {
			return cur, err
		}
		set("area_code", strings.TrimSpace(*p.AreaCode))
	}
	if p.Active != nil && *p.Active != cur.Active {
		set("active", boolInt(*p.Active))
	}
	reason, err := text("reason", "原因", p.Reason, 200, false)
	if err != nil {
		return cur, err
	}
	now := s.now()
	var out Visitor
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if p.UserID != nil {
			if *p.UserID == 0 {
				set("user_id", nil)
			} else {
				if err := linkableUser(ctx, tx, sc, *p.UserID); err != nil {
					return err
				}
				if err := userTaken(ctx, tx, *p.UserID, id); err != nil {
					return err
				}
				set("user_id", *p.UserID)
			}
		}
		active := cur.Active
		if p.Active != nil {
			active = *p.Active
		}
		if p.Phone != nil && active {
			if err := s.phoneTaken(ctx, tx, *p.Phone, id); err != nil {
				return err
			}
		}
		if len(sets) > 0 {
			setCol("updated_at", store.FormatTime(now))
			if _, err := tx.Exec(ctx, "UPDATE visitors SET "+strings.Join(sets, ", ")+" WHERE id = ?", append(args, id)...); err != nil {
				return fmt.Errorf("update visitor: %w", err)
			}
		}
		if !active && cur.Active {
			if reason == "" {
				reason = "探访人员停用"
			}
			if err := endPairingsOfVisitor(ctx, tx, id, actor.ActorID, reason, now); err != nil {
				return err
			}
		}
		var err error
		if out, err = scanVisitor(tx.QueryRow(ctx, "SELECT "+visitorCols+" FROM visitors WHERE id = ?", id)); err != nil {
			return err
		}
		return audit.Append(ctx, tx, entry(actor, "visitor.update", "visitor", id, out.AreaCode, "fields="+strings.Join(changed, ",")))
	})
	return out, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
