package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/idcard"
	"tanfang/internal/policy/mask"
	"tanfang/internal/store"
)

// Filter narrows a list. Empty fields do not filter. IDNumber and Phone
// match exactly, through their keyed hashes.
type Filter struct {
	AreaCode   string // an area in scope; its whole subtree
	Status     string
	Incomplete *bool
	Name       string // substring
	IDNumber   string
	Phone      string
	Class      string
	Page       int // from 1
	PageSize   int // 20 when 0, at most MaxPageSize
}

// MaxPageSize caps one page of a list.
const MaxPageSize = 100

// List returns one page of the files in scope that match f, ordered by area
// and then by file id, and how many match in all. Items never carry full
// numbers. Lists are not audited; opening a file (Get) is.
func (s *Service) List(ctx context.Context, actor Actor, sc areas.Scope, f Filter) ([]Elder, int, error) {
	cond, args, err := s.where(ctx, sc, f)
	if err != nil {
		return nil, 0, err
	}
	if cond == "" {
		return []Elder{}, 0, nil
	}
	var total int
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM elders WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count elders: %w", err)
	}
	size := f.PageSize
	if size <= 0 {
		size = 20
	}
	size = min(size, MaxPageSize)
	page := max(f.Page, 1)
	items, err := s.query(ctx, "SELECT "+selectCols+" FROM elders WHERE "+cond+
		fmt.Sprintf(" ORDER BY area_code, id LIMIT %d OFFSET %d", size, (page-1)*size), args...)
	return items, total, err
}

// where turns a filter into SQL conditions over elders, scope included;
// an empty condition means the scope sees nothing.
func (s *Service) where(ctx context.Context, sc areas.Scope, f Filter) (string, []any, error) {
	lo, hi, ok := scopeRange(sc)
	if !ok {
		return "", nil, nil
	}
	c := &checker{}
	where := []string{"area_code >= ?", "area_code < ?"}
	args := []any{lo, hi}
	if code := strings.TrimSpace(f.AreaCode); code != "" {
		a, err := areas.Store{DB: s.DB}.Get(ctx, code)
		if err != nil || !sc.Contains(code) {
			c.add("area_code", "不在您的管辖范围内")
		} else {
			alo, ahi := store.PrefixRange(areas.PrefixOf(a.Code, a.Level))
			where = append(where, "area_code >= ?", "area_code < ?")
			args = append(args, alo, ahi)
		}
	}
	if f.Status != "" {
		if !known(Statuses, f.Status) {
			c.add("status", "状态“%s”不是可选项", f.Status)
		}
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.Incomplete != nil {
		where = append(where, "incomplete = ?")
		args = append(args, b2i(*f.Incomplete))
	}
	if name := strings.TrimSpace(f.Name); name != "" {
		where = append(where, `name LIKE ? ESCAPE '\'`)
		args = append(args, "%"+likeEscaper.Replace(name)+"%")
	}
	if v := strings.TrimSpace(f.IDNumber); v != "" {
		if n, err := idcard.Parse(v); err != nil {
			c.add("id_number", "%s", err.Error())
		} else {
			where, args = s.hashIn(where, args, "id_hmac", kindID, n.Value)
		}
	}
	if v := strings.TrimSpace(f.Phone); v != "" {
		if p, err := mask.NormalizePhone(v); err != nil {
			c.add("phone", "%s", err.Error())
		} else {
			where, args = s.hashIn(where, args, "phone_hmac", kindPhone, p)
		}
	}
	if f.Class != "" {
		where = append(where, "class = ?")
		args = append(args, f.Class)
	}
	if err := c.err(); err != nil {
		return "", nil, err
	}
	return strings.Join(where, " AND "), args, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func (s *Service) hashIn(where []string, args []any, column, kind, value string) ([]string, []any) {
	hashes := s.Keys.Lookups(kind, value)
	for _, h := range hashes {
		args = append(args, h)
	}
	return append(where, column+" IN ("+placeholders(len(hashes))+")"), args
}

func (s *Service) query(ctx context.Context, q string, args ...any) ([]Elder, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list elders: %w", err)
	}
	defer rows.Close()
	today := age.DateOf(s.now())
	out := []Elder{}
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, fmt.Errorf("list elders: %w", err)
		}
		out = append(out, r.elder(today))
	}
	return out, rows.Err()
}

// Household lists the other elders in scope who share the file's household
// (一户一档: a couple living together).
func (s *Service) Household(ctx context.Context, sc areas.Scope, id int64) ([]Elder, error) {
	r, err := s.load(ctx, s.DB, sc, id, false)
	if err != nil {
		return nil, err
	}
	lo, hi, _ := scopeRange(sc)
	return s.query(ctx, "SELECT "+selectCols+" FROM elders WHERE household_id = ? AND id <> ? AND area_code >= ? AND area_code < ? ORDER BY id",
		r.HouseholdID, r.ID, lo, hi)
}

// Version is one recorded change of a file.
type Version struct {
	Version      int               `json:"version"`
	Kind         string            `json:"kind"` // created, updated, status, transferred
	At           time.Time         `json:"at"`
	ActorID      int64             `json:"actor_id"`
	Actor        string            `json:"actor"`
	AreaCode     string            `json:"area_code"`                // where the file was after the change
	FromAreaCode string            `json:"from_area_code,omitempty"` // transfers only
	Changes      map[string]Change `json:"changes"`                  // personal numbers masked
	Reason       string            `json:"reason"`
}

// History returns a file's versions, oldest first, and audits the read.
func (s *Service) History(ctx context.Context, actor Actor, sc areas.Scope, id int64) ([]Version, error) {
	now := s.now()
	r, err := s.load(ctx, s.DB, sc, id, false)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, `SELECT version, kind, at, actor_id, actor, area_code, from_area_code, changes, reason
		FROM elder_versions WHERE elder_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("history of elder %d: %w", id, err)
	}
	defer rows.Close()
	out := []Version{}
	for rows.Next() {
		var v Version
		var at, changes string
		if err := rows.Scan(&v.Version, &v.Kind, &at, &v.ActorID, &v.Actor, &v.AreaCode, &v.FromAreaCode, &changes, &v.Reason); err != nil {
			return nil, fmt.Errorf("history of elder %d: %w", id, err)
		}
		v.At = store.MustTime(at)
		if err := json.Unmarshal([]byte(changes), &v.Changes); err != nil {
			return nil, fmt.Errorf("history of elder %d, version %d: %w", id, v.Version, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := audit.Log(ctx, s.DB, actor.entry("elder.history", &r, audit.OK, "", now)); err != nil {
		return nil, err
	}
	return out, nil
}

// MonthChange is one entry of an area's monthly update list (按月更新).
type MonthChange struct {
	ElderID        int64     `json:"elder_id"`
	Name           string    `json:"name"`
	IDNumberMasked string    `json:"id_number_masked"`
	Kind           string    `json:"kind"` // created, updated, status, transferred
	At             time.Time `json:"at"`
	Version        int       `json:"version"`
	AreaCode       string    `json:"area_code"`                // where the file was after the change
	FromAreaCode   string    `json:"from_area_code,omitempty"` // transfers: the area it left
	Fields         []string  `json:"fields"`                   // names of the changed fields
	Reason         string    `json:"reason"`
}

// ChangedInMonth lists what changed in files of sc during a Shanghai
// calendar month ("2026-11"): files created, edited, changing status, and
// transfers in or out, oldest first.
func (s *Service) ChangedInMonth(ctx context.Context, sc areas.Scope, month string) ([]MonthChange, error) {
	start, err := time.ParseInLocation("2006-01", strings.TrimSpace(month), age.Shanghai)
	if err != nil {
		return nil, &ValidationError{Fields: []FieldError{{Field: "month", Message: fmt.Sprintf("月份“%s”无效，应为年-月，如2026-11", month)}}}
	}
	lo, hi, ok := scopeRange(sc)
	if !ok {
		return []MonthChange{}, nil
	}
	rows, err := s.DB.Query(ctx, `SELECT v.elder_id, e.name, e.id_masked, v.kind, v.at, v.version, v.area_code, v.from_area_code, v.changes, v.reason
		FROM elder_versions v JOIN elders e ON e.id = v.elder_id
		WHERE v.at >= ? AND v.at < ?
		  AND ((v.area_code >= ? AND v.area_code < ?) OR (v.from_area_code >= ? AND v.from_area_code < ?))
		ORDER BY v.at, v.id`,
		store.FormatTime(start), store.FormatTime(start.AddDate(0, 1, 0)), lo, hi, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("changes in %s: %w", month, err)
	}
	defer rows.Close()
	out := []MonthChange{}
	for rows.Next() {
		var m MonthChange
		var at, changes string
		if err := rows.Scan(&m.ElderID, &m.Name, &m.IDNumberMasked, &m.Kind, &at, &m.Version, &m.AreaCode, &m.FromAreaCode, &changes, &m.Reason); err != nil {
			return nil, fmt.Errorf("changes in %s: %w", month, err)
		}
		m.At = store.MustTime(at)
		var ch map[string]Change
		if err := json.Unmarshal([]byte(changes), &ch); err != nil {
			return nil, fmt.Errorf("changes in %s: %w", month, err)
		}
		m.Fields = sortedKeys(ch)
		out = append(out, m)
	}
	return out, rows.Err()
}
