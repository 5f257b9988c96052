package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/classes"
	"tanfang/internal/pii"
	"tanfang/internal/policy/age"
	"tanfang/internal/store"
)

// Service keeps elders' files on a database, sealing personal numbers with
// Keys, with an injected clock. Callers pass the acting user and the scope
// of their area; a file outside the scope is reported as store.ErrNotFound,
// so a caller cannot tell "elsewhere" from "nowhere".
type Service struct {
	DB   *store.DB
	Keys *pii.Keys
	Now  func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// scopeRange is the code range of sc; an empty scope sees nothing (its
// range would otherwise cover every code).
func scopeRange(sc areas.Scope) (lo, hi string, ok bool) {
	if sc.Prefix == "" {
		return "", "", false
	}
	lo, hi = sc.Range()
	return lo, hi, true
}

// load reads one file in scope; in a PostgreSQL transaction the row is
// locked, so concurrent writers queue instead of racing on the version.
func (s *Service) load(ctx context.Context, q store.Querier, sc areas.Scope, id int64, lock bool) (row, error) {
	lo, hi, ok := scopeRange(sc)
	if !ok {
		return row{}, store.ErrNotFound
	}
	query := "SELECT " + selectCols + " FROM elders WHERE id = ? AND area_code >= ? AND area_code < ?"
	if lock && s.DB.Dialect == store.Postgres {
		query += " FOR UPDATE"
	}
	r, err := scanRow(q.QueryRow(ctx, query, id, lo, hi))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return r, fmt.Errorf("load elder %d: %w", id, err)
	}
	return r, err
}

func (a Actor) entry(action string, r *row, outcome, detail string, at time.Time) audit.Entry {
	return audit.Entry{
		At: at, ActorID: a.UserID, Actor: a.Username, Action: action, TargetType: "elder",
		TargetID: strconv.FormatInt(r.ID, 10), AreaCode: r.AreaCode, IP: a.IP, Outcome: outcome, Detail: detail,
	}
}

// areaMemo keeps what checkArea read of each area code, so a batch of
// files in the same villages reads each village once.
type areaMemo map[string]areaFact

type areaFact struct {
	level          string
	found, retired bool
}

// load reads the facts of many codes at once, before checks that would
// otherwise read them one by one.
func (m areaMemo) load(ctx context.Context, q store.Querier, codes []string) error {
	var todo []any
	for _, c := range codes {
		if _, ok := m[c]; !ok && c != "" {
			m[c] = areaFact{} // not found unless the query says otherwise
			todo = append(todo, c)
		}
	}
	return store.Chunks(len(todo), func(lo, hi int) error {
		rows, err := q.Query(ctx, "SELECT code, level, retired_at IS NOT NULL FROM areas WHERE code IN ("+store.Placeholders(hi-lo)+")", todo[lo:hi]...)
		if err != nil {
			return fmt.Errorf("look up areas: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var code string
			f := areaFact{found: true}
			if err := rows.Scan(&code, &f.level, &f.retired); err != nil {
				return err
			}
			m[code] = f
		}
		return rows.Err()
	})
}

// check accepts only a village or grid, in the caller's scope, that is
// still in use. A nil memo reads every time.
func (m areaMemo) check(ctx context.Context, q store.Querier, c *checker, inScope bool, field, code string) {
	if code == "" || c.failed(field) {
		return
	}
	if !inScope {
		c.add(field, "不在您的管辖范围内")
		return
	}
	f, ok := m[code]
	if !ok {
		err := q.QueryRow(ctx, "SELECT level, retired_at IS NOT NULL FROM areas WHERE code = ?", code).Scan(&f.level, &f.retired)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			c.add(field, "区划代码%s暂时无法核对，请稍后再试", code)
			return
		default:
			f.found = true
		}
		if m != nil {
			m[code] = f
		}
	}
	switch {
	case !f.found:
		c.add(field, "区划代码%s不存在", code)
	case f.level != areas.Village && f.level != areas.Grid:
		c.add(field, "老人档案须建在村（居）或网格，%s是%s级区划", code, areas.LevelName(f.level))
	case f.retired:
		c.add(field, "区划%s已撤销，请选择现用的村（居）或网格", code)
	}
}

// household resolves HouseholdWith: the household id to join, or 0 for a
// household of one's own; ok is false when the input does not touch it.
func (s *Service) household(ctx context.Context, q store.Querier, c *checker, sc areas.Scope, with *int64, self int64) (id int64, ok bool) {
	if with == nil {
		return 0, false
	}
	if *with == 0 {
		return 0, true
	}
	if *with == self {
		c.add("household_with", "不能与本人同户")
		return 0, false
	}
	other, err := s.load(ctx, q, sc, *with, false)
	if err != nil {
		c.add("household_with", "未找到编号为%d的老人档案", *with)
		return 0, false
	}
	return other.HouseholdID, true
}

// holder finds what stops a file other than except from holding idNumber
// as an active file, under any key of the ring (see Holder.refusal).
func (s *Service) holder(ctx context.Context, q store.Querier, idNumber string, except int64) (*DuplicateError, error) {
	hs, err := s.holdersExcept(ctx, q, []string{idNumber}, except)
	if err != nil {
		return nil, err
	}
	if h, ok := hs[idNumber]; ok {
		return h.refusal()
	}
	return nil, nil
}

// DeceasedError says the latest file of an ID number records the elder as
// deceased, so no file may hold the number again until that file is
// corrected. Like a DuplicateError it names only county and town.
type DeceasedError struct {
	AreaCode   string // the town (乡镇街道) holding the file
	AreaMasked string // e.g. "连云区墟沟街道…"
	ElderID    int64  // the file, only when it lies in the caller's scope
}

func (e *DeceasedError) Error() string {
	return "该身份证号码对应的老人已登记去世，如登记有误，请先更正原档案的状态（原档案在" + e.AreaMasked + "）"
}

func (e *DeceasedError) Unwrap() error { return store.ErrConflict }

// As lets forms and imports, which show field problems beside the field,
// show this one on id_number.
func (e *DeceasedError) As(target any) bool {
	if ve, ok := target.(**ValidationError); ok {
		*ve = &ValidationError{Fields: []FieldError{{Field: "id_number", Message: e.Error()}}}
		return true
	}
	return false
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// maskDuplicate replaces the holder's village by its town, names county and
// town only, and keeps the file id only for a caller who may open it.
func (s *Service) maskDuplicate(ctx context.Context, sc areas.Scope, d *DuplicateError) {
	if !sc.Contains(d.AreaCode) {
		d.ElderID = 0
	}
	chain, err := areas.Store{DB: s.DB}.Ancestors(ctx, d.AreaCode)
	d.AreaCode, d.AreaMasked = "", "其他地区"
	if err != nil {
		return
	}
	var name strings.Builder
	for _, a := range chain {
		switch a.Level {
		case areas.County:
			name.WriteString(a.Name)
		case areas.Town:
			name.WriteString(a.Name)
			d.AreaCode = a.Code
		}
	}
	if name.Len() > 0 {
		d.AreaMasked = name.String() + "…"
	}
}

func (s *Service) insertVersion(ctx context.Context, tx *store.Tx, r *row, kind, fromArea string, changes map[string]Change, reason string, a Actor, at time.Time) error {
	v, err := versionRow(r, kind, fromArea, changes, reason, a, at)
	if err != nil {
		return err
	}
	if err := tx.InsertMany(ctx, versionInsert, [][]any{v}); err != nil {
		return fmt.Errorf("record version %d of elder %d: %w", r.Version, r.ID, err)
	}
	// Every write of a file passes here, so the class follows the facts in
	// the same transaction (R-CLS-4).
	if _, err := classes.Recompute(ctx, tx, r.ID, kind, at); err != nil {
		return err
	}
	r.Class, err = classes.LoadSummary(ctx, tx, r.ID)
	return err
}

// write seals r, refreshes its incomplete flag and stores it over version
// prev; it reports a conflict if another writer got there first.
func (s *Service) write(ctx context.Context, tx *store.Tx, r *row, prev int, today age.Date) error {
	r.seal(s.Keys)
	r.Incomplete = len(Completeness(r.elder(today))) > 0
	names, vals := r.writeCols()
	res, err := tx.Exec(ctx, "UPDATE elders SET "+strings.Join(names, " = ?, ")+" = ? WHERE id = ? AND version = ?",
		append(vals, r.ID, prev)...)
	if err != nil {
		if store.IsUniqueViolation(err) {
			return errRace
		}
		return fmt.Errorf("update elder %d: %w", r.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("update elder %d: %w", r.ID, store.ErrConflict)
	}
	return nil
}

// errRace marks a unique-index violation: another writer registered the
// same ID number between our check and our write.
var errRace = errors.New("duplicate ID number written concurrently")

// refusal words a refused write for a caller of scope sc: a concurrent
// registration of the number (errRace) becomes the *DuplicateError the
// check would have given, once the failed transaction is gone, and the
// holder a *DuplicateError or *DeceasedError names is masked. Other errors
// pass unchanged.
func (s *Service) refusal(ctx context.Context, sc areas.Scope, err error, idNumber string, except int64) error {
	if errors.Is(err, errRace) {
		d, herr := s.holder(ctx, s.DB, idNumber, except)
		if herr != nil || d == nil {
			return fmt.Errorf("%w: %w", store.ErrConflict, errors.Join(err, herr))
		}
		err = d
	}
	return s.word(ctx, sc, err)
}

// word masks the holder a *DuplicateError or *DeceasedError names, for a
// caller of scope sc; other errors pass unchanged.
func (s *Service) word(ctx context.Context, sc areas.Scope, err error) error {
	var dup *DuplicateError
	var dec *DeceasedError
	switch {
	case errors.As(err, &dup):
		s.maskDuplicate(ctx, sc, dup)
	case errors.As(err, &dec):
		m := DuplicateError{AreaCode: dec.AreaCode, ElderID: dec.ElderID}
		s.maskDuplicate(ctx, sc, &m)
		dec.AreaCode, dec.AreaMasked, dec.ElderID = m.AreaCode, m.AreaMasked, m.ElderID
	}
	return err
}

// Create registers a new file in an area of sc. It returns a
// *ValidationError listing every field's problem, a *DuplicateError when
// the ID number already has an active file anywhere, or a *DeceasedError
// when its latest file says the elder has died; those two refusals are
// audited. The file, its first version and an audit entry commit together.
func (s *Service) Create(ctx context.Context, actor Actor, sc areas.Scope, in Input) (Elder, error) {
	now := s.now()
	var r row
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		rows, errs, err := s.createMany(ctx, tx, actor, sc, []Input{in}, "", now)
		if len(rows) > 0 {
			r = rows[0]
		}
		if err == nil {
			err = errs[0]
		}
		return err
	})
	if err != nil {
		err = s.refusal(ctx, sc, err, r.idNumber, 0)
		if errors.As(err, new(*DuplicateError)) || errors.As(err, new(*DeceasedError)) {
			// Probing numbers must leave a trace: the refusal is audited in a
			// transaction of its own, the create's having rolled back. The
			// entry names no number and, as no file was made, no target.
			e := actor.entry("elder.create", &r, audit.Denied, "duplicate", now)
			e.TargetID = ""
			if aerr := audit.Log(ctx, s.DB, e); aerr != nil {
				return Elder{}, fmt.Errorf("audit refused create: %w", aerr)
			}
		}
		return Elder{}, err
	}
	return r.elder(age.DateOf(now)), nil
}

// Get returns one file in scope and audits the read.
func (s *Service) Get(ctx context.Context, actor Actor, sc areas.Scope, id int64) (Elder, error) {
	now := s.now()
	r, err := s.load(ctx, s.DB, sc, id, false)
	if err != nil {
		return Elder{}, err
	}
	if err := audit.Log(ctx, s.DB, actor.entry("elder.read", &r, audit.OK, "", now)); err != nil {
		return Elder{}, err
	}
	return r.elder(age.DateOf(now)), nil
}

// Update applies a patch to the file at version; a stale version gives a
// *VersionConflict holding the current file. The changed fields (personal
// numbers masked) become a new version, audited. A patch that changes
// nothing writes nothing and returns the file as it is.
func (s *Service) Update(ctx context.Context, actor Actor, sc areas.Scope, id int64, version int, patch Input, reason string) (Elder, error) {
	now := s.now()
	var r row
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		r, _, err = s.update(ctx, tx, actor, sc, id, version, patch, reason, now)
		return err
	})
	if err != nil {
		return Elder{}, s.refusal(ctx, sc, err, r.idNumber, id)
	}
	return r.elder(age.DateOf(now)), nil
}

func sortedKeys(m map[string]Change) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// revealRoles may see one file's full numbers (DOMAIN §7); visitors work
// from masked numbers.
var revealRoles = map[string]bool{
	auth.RoleAdmin: true, auth.RoleCity: true, auth.RoleCounty: true, auth.RoleTown: true, auth.RoleVillage: true,
}

// Reveal returns one file's full ID number and phone, for permitted roles
// only; every reveal, and every refused attempt, is audited.
func (s *Service) Reveal(ctx context.Context, actor Actor, sc areas.Scope, id int64) (idNumber, phone string, err error) {
	now := s.now()
	r, err := s.load(ctx, s.DB, sc, id, false)
	if err != nil {
		return "", "", err
	}
	if !revealRoles[actor.Role] {
		if err := audit.Log(ctx, s.DB, actor.entry("elder.reveal", &r, audit.Denied, "role="+actor.Role, now)); err != nil {
			return "", "", err
		}
		return "", "", ErrForbidden
	}
	if idNumber, err = s.Keys.Open(kindID, r.IDEnc); err != nil {
		return "", "", fmt.Errorf("elder %d: %w", id, err)
	}
	if phone, err = s.Keys.Open(kindPhone, r.PhoneEnc); err != nil {
		return "", "", fmt.Errorf("elder %d: %w", id, err)
	}
	if err := audit.Log(ctx, s.DB, actor.entry("elder.reveal", &r, audit.OK, "fields=id_number,phone", now)); err != nil {
		return "", "", err
	}
	return idNumber, phone, nil
}
