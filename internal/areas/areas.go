// Package areas holds the administrative hierarchy (R-AREA): 连云港市 and its
// counties, towns and villages by their official statistical division codes,
// plus grids (网格) that administrators add under villages. Every query that
// returns people or figures is scoped by a code prefix (see Scope).
package areas

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"time"

	"tanfang/internal/store"
)

// Levels of the hierarchy, as the API names them.
const (
	City    = "city"
	County  = "county"
	Town    = "town"
	Village = "village"
	Grid    = "grid"
)

// CityCode is 连云港市.
const CityCode = "320700000000"

//go:embed data/nbs_2023_320700_lianyungang.csv
var divisionsCSV string

// Area is one unit of the hierarchy.
type Area struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Level      string `json:"level"`
	ParentCode string `json:"parent_code,omitempty"`
	Retired    bool   `json:"retired,omitempty"`
}

// LevelName is the Chinese name of a level for pages.
func LevelName(level string) string {
	switch level {
	case City:
		return "市"
	case County:
		return "县区"
	case Town:
		return "乡镇街道"
	case Village:
		return "村居"
	case Grid:
		return "网格"
	}
	return level
}

// PrefixOf returns the significant digits of a code at its level: the
// prefix every descendant shares (3207, 320703, 320703001, 320703001001).
func PrefixOf(code, level string) string {
	n := map[string]int{City: 4, County: 6, Town: 9, Village: 12}[level]
	if n == 0 || n > len(code) {
		return code
	}
	return code[:n]
}

// Scope is the part of the tree an account may see: its area and everything
// below it.
type Scope struct {
	Code   string
	Prefix string
}

// ScopeOf builds the scope of an area.
func ScopeOf(a Area) Scope { return Scope{Code: a.Code, Prefix: PrefixOf(a.Code, a.Level)} }

// Contains reports whether code lies in the scope.
func (s Scope) Contains(code string) bool {
	return s.Prefix != "" && strings.HasPrefix(code, s.Prefix)
}

// Range is the half-open code range of the scope for SQL (`code >= ? AND code < ?`).
func (s Scope) Range() (string, string) { return store.PrefixRange(s.Prefix) }

// Errors callers branch on.
var (
	ErrNotFound = store.ErrNotFound
	ErrInvalid  = errors.New("invalid area change")
)

// Store reads and changes areas.
type Store struct{ DB *store.DB }

// LoadDivisions fills an empty areas table from the embedded NBS 2023 codes
// and returns how many it inserted (0 when the table already has rows).
func (s Store) LoadDivisions(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM areas").Scan(&n); err != nil {
		return 0, fmt.Errorf("count areas: %w", err)
	}
	if n > 0 {
		return 0, nil
	}
	recs, err := ParseDivisions(divisionsCSV)
	if err != nil {
		return 0, err
	}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		for _, a := range recs {
			var parent any
			if a.ParentCode != "" {
				parent = a.ParentCode
			}
			if _, err := tx.Exec(ctx, "INSERT INTO areas (code, name, level, parent_code, updated_at) VALUES (?, ?, ?, ?, ?)",
				a.Code, a.Name, a.Level, parent, store.FormatTime(now)); err != nil {
				return fmt.Errorf("insert area %s: %w", a.Code, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(recs), nil
}

// ParseDivisions reads the NBS CSV (code,name,level,parent_code), mapping
// its level words to ours and dropping the parent of the root (the province
// is not part of the tree).
func ParseDivisions(text string) ([]Area, error) {
	r := csv.NewReader(strings.NewReader(text))
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read divisions: %w", err)
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != "code,name,level,parent_code" {
		return nil, errors.New("divisions: unexpected header")
	}
	levels := map[string]string{"city": City, "county": County, "township": Town, "village": Village}
	known := map[string]bool{}
	out := make([]Area, 0, len(rows)-1)
	for i, row := range rows[1:] {
		lv, ok := levels[row[2]]
		if !ok || len(row[0]) != 12 {
			return nil, fmt.Errorf("divisions line %d: bad code or level %q", i+2, row[2])
		}
		parent := row[3]
		if !known[parent] {
			if lv != City {
				return nil, fmt.Errorf("divisions line %d: parent %s comes later or is missing", i+2, parent)
			}
			parent = ""
		}
		known[row[0]] = true
		out = append(out, Area{Code: row[0], Name: row[1], Level: lv, ParentCode: parent})
	}
	return out, nil
}

const areaCols = "code, name, level, COALESCE(parent_code, ''), retired_at IS NOT NULL"

func scanArea(row interface{ Scan(...any) error }) (Area, error) {
	var a Area
	err := row.Scan(&a.Code, &a.Name, &a.Level, &a.ParentCode, &a.Retired)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// Get returns one area, retired or not.
func (s Store) Get(ctx context.Context, code string) (Area, error) {
	return scanArea(s.DB.QueryRow(ctx, "SELECT "+areaCols+" FROM areas WHERE code = ?", code))
}

// GetIn returns an area only if it lies in scope; otherwise ErrNotFound, so
// callers cannot tell "elsewhere" from "nowhere".
func (s Store) GetIn(ctx context.Context, sc Scope, code string) (Area, error) {
	if !sc.Contains(code) {
		return Area{}, ErrNotFound
	}
	lo, hi := sc.Range()
	return scanArea(s.DB.QueryRow(ctx, "SELECT "+areaCols+" FROM areas WHERE code = ? AND code >= ? AND code < ?", code, lo, hi))
}

// Children lists the direct children of an area in code order; retired
// units are included only when asked.
func (s Store) Children(ctx context.Context, code string, withRetired bool) ([]Area, error) {
	q := "SELECT " + areaCols + " FROM areas WHERE parent_code = ?"
	if !withRetired {
		q += " AND retired_at IS NULL"
	}
	return s.list(ctx, q+" ORDER BY code", code)
}

// Subtree lists an area and all its descendants at the given level (or all
// levels when level is empty), using the indexed code range.
func (s Store) Subtree(ctx context.Context, sc Scope, level string) ([]Area, error) {
	lo, hi := sc.Range()
	q := "SELECT " + areaCols + " FROM areas WHERE code >= ? AND code < ? AND retired_at IS NULL"
	args := []any{lo, hi}
	if level != "" {
		q += " AND level = ?"
		args = append(args, level)
	}
	return s.list(ctx, q+" ORDER BY code", args...)
}

// Ancestors returns the chain from the city down to the area's parent.
func (s Store) Ancestors(ctx context.Context, code string) ([]Area, error) {
	var chain []Area
	cur := code
	for i := 0; i < 6; i++ {
		a, err := s.Get(ctx, cur)
		if err != nil {
			return nil, err
		}
		if a.ParentCode == "" {
			break
		}
		p, err := s.Get(ctx, a.ParentCode)
		if err != nil {
			return nil, err
		}
		chain = append([]Area{p}, chain...)
		cur = p.Code
	}
	return chain, nil
}

func (s Store) list(ctx context.Context, q string, args ...any) ([]Area, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Area
	for rows.Next() {
		a, err := scanArea(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Change records who changed an area and why.
type Change struct {
	At       time.Time `json:"at"`
	ActorID  int64     `json:"actor_id"`
	Field    string    `json:"field"`
	OldValue string    `json:"old_value"`
	NewValue string    `json:"new_value"`
	Reason   string    `json:"reason"`
}

// AddGrid creates a grid under a village; its code is the village code
// followed by a three-digit number.
func (s Store) AddGrid(ctx context.Context, villageCode, name string, actorID int64, now time.Time) (Area, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Area{}, fmt.Errorf("%w: 网格名称不能为空", ErrInvalid)
	}
	var grid Area
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		v, err := scanArea(tx.QueryRow(ctx, "SELECT "+areaCols+" FROM areas WHERE code = ?", villageCode))
		if err != nil {
			return err
		}
		if v.Level != Village || v.Retired {
			return fmt.Errorf("%w: 网格只能建在未撤销的村居之下", ErrInvalid)
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM areas WHERE parent_code = ?", villageCode).Scan(&n); err != nil {
			return err
		}
		if n >= 999 {
			return fmt.Errorf("%w: 该村居的网格已满999个", ErrInvalid)
		}
		grid = Area{Code: fmt.Sprintf("%s%03d", villageCode, n+1), Name: name, Level: Grid, ParentCode: villageCode}
		if _, err := tx.Exec(ctx, "INSERT INTO areas (code, name, level, parent_code, source, updated_at) VALUES (?, ?, ?, ?, 'local', ?)",
			grid.Code, grid.Name, grid.Level, grid.ParentCode, store.FormatTime(now)); err != nil {
			return err
		}
		return logChange(ctx, tx, grid.Code, actorID, now, "created", "", name, "")
	})
	return grid, err
}

// Rename changes an area's name, keeping the old one in its history.
func (s Store) Rename(ctx context.Context, code, name, reason string, actorID int64, now time.Time) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return fmt.Errorf("%w: 名称不能为空", ErrInvalid)
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		a, err := scanArea(tx.QueryRow(ctx, "SELECT "+areaCols+" FROM areas WHERE code = ?", code))
		if err != nil {
			return err
		}
		if a.Name == name {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE areas SET name = ?, updated_at = ? WHERE code = ?", name, store.FormatTime(now), code); err != nil {
			return err
		}
		return logChange(ctx, tx, code, actorID, now, "name", a.Name, name, reason)
	})
}

// Retire marks an area as no longer in use. Its rows stay, so people and
// figures recorded under it keep their place in history.
func (s Store) Retire(ctx context.Context, code, reason string, actorID int64, now time.Time) error {
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf("%w: 撤销区划须填写原因", ErrInvalid)
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		a, err := scanArea(tx.QueryRow(ctx, "SELECT "+areaCols+" FROM areas WHERE code = ?", code))
		if err != nil {
			return err
		}
		if a.Retired {
			return nil
		}
		var live int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM areas WHERE parent_code = ? AND retired_at IS NULL", code).Scan(&live); err != nil {
			return err
		}
		if live > 0 {
			return fmt.Errorf("%w: 该区划下还有%d个未撤销的下级单位", ErrInvalid, live)
		}
		// People filed under a unit must be moved first, or they would sit
		// in an area nobody can choose any more.
		var people int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM elders WHERE area_code = ? AND active = 1", code).Scan(&people); err != nil {
			return err
		}
		if people > 0 {
			return fmt.Errorf("%w: 该区划下还有%d位老人的档案，请先办理档案转移", ErrInvalid, people)
		}
		if _, err := tx.Exec(ctx, "UPDATE areas SET retired_at = ?, updated_at = ? WHERE code = ?", store.FormatTime(now), store.FormatTime(now), code); err != nil {
			return err
		}
		return logChange(ctx, tx, code, actorID, now, "retired", "", "true", reason)
	})
}

// Changes returns an area's history, oldest first.
func (s Store) Changes(ctx context.Context, code string) ([]Change, error) {
	rows, err := s.DB.Query(ctx, "SELECT at, COALESCE(actor_id, 0), field, COALESCE(old_value, ''), COALESCE(new_value, ''), reason FROM area_changes WHERE code = ? ORDER BY id", code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var at string
		if err := rows.Scan(&at, &c.ActorID, &c.Field, &c.OldValue, &c.NewValue, &c.Reason); err != nil {
			return nil, err
		}
		c.At = store.MustTime(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

func logChange(ctx context.Context, tx *store.Tx, code string, actorID int64, now time.Time, field, old, new, reason string) error {
	_, err := tx.Exec(ctx, "INSERT INTO area_changes (code, at, actor_id, field, old_value, new_value, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
		code, store.FormatTime(now), actorID, field, old, new, reason)
	return err
}
