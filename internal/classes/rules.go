package classes

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/assess"
	"tanfang/internal/policy/classify"
	"tanfang/internal/store"
)

// Kinds of versioned county settings.
const (
	kindRules    = "class_rules"
	kindSettings = "assessment"
)

// defaultVersion is the version the built-in defaults count as, so a
// county's first own version is 2.
const defaultVersion = 1

// Meta says where a version of county settings came from.
type Meta struct {
	CountyCode string     `json:"county_code"`
	Version    int        `json:"version"`
	Default    bool       `json:"default"` // the built-in defaults; the county has not edited them
	Reason     string     `json:"reason"`
	CreatedBy  int64      `json:"created_by"`
	CreatedAt  *time.Time `json:"created_at"`
}

// CountyRules is one version of a county's class C rules (R-CLS-3).
type CountyRules struct {
	Meta
	Rules []classify.CRule `json:"rules"`
}

// Set is the rule set classify reads.
func (c CountyRules) Set() classify.CRuleSet {
	return classify.CRuleSet{Version: c.Version, County: c.CountyCode[:min(6, len(c.CountyCode))], Rules: c.Rules}
}

// CountySettings is one version of a county's assessment settings (DOMAIN
// §1.4, §1.5), with the Chinese notes a report shows.
type CountySettings struct {
	Meta
	Settings assess.Settings      `json:"settings"`
	Notes    []assess.SettingNote `json:"notes"`
}

type versionRow struct {
	Meta
	body string
}

func scanVersions(rows *sql.Rows, county string) ([]versionRow, error) {
	defer rows.Close()
	var out []versionRow
	for rows.Next() {
		v := versionRow{Meta: Meta{CountyCode: county}}
		var at string
		if err := rows.Scan(&v.Version, &v.body, &v.Reason, &v.CreatedBy, &at); err != nil {
			return nil, err
		}
		t := store.MustTime(at)
		v.CreatedAt = &t
		out = append(out, v)
	}
	return out, rows.Err()
}

// versionsOf lists a county's versions of one kind, newest first; limit 0
// means all.
func versionsOf(ctx context.Context, q store.Querier, kind, county string, limit int) ([]versionRow, error) {
	query := "SELECT version, body, reason, created_by, created_at FROM county_settings WHERE kind = ? AND county_code = ? ORDER BY version DESC"
	if limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := q.Query(ctx, query, kind, county)
	if err != nil {
		return nil, fmt.Errorf("county settings %s of %s: %w", kind, county, err)
	}
	return scanVersions(rows, county)
}

func rulesOf(v versionRow) (CountyRules, error) {
	c := CountyRules{Meta: v.Meta}
	if err := json.Unmarshal([]byte(v.body), &c.Rules); err != nil {
		return c, fmt.Errorf("class rules %s v%d: %w", v.CountyCode, v.Version, err)
	}
	return c, nil
}

func settingsOf(v versionRow) (CountySettings, error) {
	c := CountySettings{Meta: v.Meta}
	if err := json.Unmarshal([]byte(v.body), &c.Settings); err != nil {
		return c, fmt.Errorf("assessment settings %s v%d: %w", v.CountyCode, v.Version, err)
	}
	c.Notes = c.Settings.Notes()
	return c, nil
}

func defaultRules(county string) CountyRules {
	d := classify.DefaultCRules()
	return CountyRules{Meta: Meta{CountyCode: county, Version: d.Version, Default: true}, Rules: d.Rules}
}

func defaultSettings(county string) CountySettings {
	s := assess.DefaultSettings()
	return CountySettings{Meta: Meta{CountyCode: county, Version: defaultVersion, Default: true}, Settings: s, Notes: s.Notes()}
}

// rulesFor is the county's current class C rules.
func rulesFor(ctx context.Context, q store.Querier, county string) (CountyRules, error) {
	vs, err := versionsOf(ctx, q, kindRules, county, 1)
	if err != nil || len(vs) == 0 {
		return defaultRules(county), err
	}
	return rulesOf(vs[0])
}

// settingsFor is the county's current assessment settings.
func settingsFor(ctx context.Context, q store.Querier, county string) (CountySettings, error) {
	vs, err := versionsOf(ctx, q, kindSettings, county, 1)
	if err != nil || len(vs) == 0 {
		return defaultSettings(county), err
	}
	return settingsOf(vs[0])
}

// county resolves a county code the caller may read: a county in its
// scope, or the county a town or village account lies in.
func (s *Service) county(ctx context.Context, sc areas.Scope, code string) (string, error) {
	a, err := areas.Store{DB: s.DB}.Get(ctx, strings.TrimSpace(code))
	if err != nil {
		return "", err
	}
	if a.Level != areas.County {
		if inScope(sc, a.Code) {
			return "", fieldErr("county_code", "%s不是县区级区划，分类规则和评估设置按县区设置", a.Name)
		}
		return "", store.ErrNotFound
	}
	if inScope(sc, a.Code) || (sc.Prefix != "" && strings.HasPrefix(sc.Prefix, a.Code[:6])) {
		return a.Code, nil
	}
	return "", store.ErrNotFound
}

// MayEdit reports whether a role edits county rules and overrides classes:
// the county bureau's business (R-CLS-3), and the system administrator's.
func MayEdit(role string) bool { return role == auth.RoleCounty || role == auth.RoleAdmin }

// Rules returns a county's current class C rules.
func (s *Service) Rules(ctx context.Context, sc areas.Scope, county string) (CountyRules, error) {
	code, err := s.county(ctx, sc, county)
	if err != nil {
		return CountyRules{}, err
	}
	return rulesFor(ctx, s.DB, code)
}

// RulesHistory lists every version of a county's class C rules, newest
// first, ending with the defaults.
func (s *Service) RulesHistory(ctx context.Context, sc areas.Scope, county string) ([]CountyRules, error) {
	code, err := s.county(ctx, sc, county)
	if err != nil {
		return nil, err
	}
	vs, err := versionsOf(ctx, s.DB, kindRules, code, 0)
	if err != nil {
		return nil, err
	}
	out := make([]CountyRules, 0, len(vs)+1)
	for _, v := range vs {
		c, err := rulesOf(v)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return append(out, defaultRules(code)), nil
}

// Settings returns a county's current assessment settings.
func (s *Service) Settings(ctx context.Context, sc areas.Scope, county string) (CountySettings, error) {
	code, err := s.county(ctx, sc, county)
	if err != nil {
		return CountySettings{}, err
	}
	return settingsFor(ctx, s.DB, code)
}

// SettingsHistory lists every version of a county's assessment settings,
// newest first, ending with the defaults.
func (s *Service) SettingsHistory(ctx context.Context, sc areas.Scope, county string) ([]CountySettings, error) {
	code, err := s.county(ctx, sc, county)
	if err != nil {
		return nil, err
	}
	vs, err := versionsOf(ctx, s.DB, kindSettings, code, 0)
	if err != nil {
		return nil, err
	}
	out := make([]CountySettings, 0, len(vs)+1)
	for _, v := range vs {
		c, err := settingsOf(v)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return append(out, defaultSettings(code)), nil
}

// ErrStale says the county's settings changed since the caller read them.
type ErrStale struct{ Current int }

func (e *ErrStale) Error() string {
	return fmt.Sprintf("规则已被他人修改（当前为第%d版），请刷新后重新编辑", e.Current)
}

func (e *ErrStale) Unwrap() error { return store.ErrConflict }

// Applied reports a saved version and how the county's elders were
// reclassified under it. Pending files are left due today for the
// background job when the time budget ran out.
type Applied struct {
	Reclassified int `json:"reclassified"`
	Changed      int `json:"changed"`
	Pending      int `json:"pending"`
}

// SaveRules stores a new version of a county's class C rules on top of
// version base, then reclassifies the county's elders under it.
func (s *Service) SaveRules(ctx context.Context, actor Actor, sc areas.Scope, county string, base int, rules []classify.CRule, reason string) (CountyRules, Applied, error) {
	code, err := s.county(ctx, sc, county)
	if err != nil {
		return CountyRules{}, Applied{}, err
	}
	if !MayEdit(actor.Role) {
		return CountyRules{}, Applied{}, ErrForbidden
	}
	if rules == nil {
		rules = []classify.CRule{}
	}
	for i := range rules {
		rules[i].ID = strings.TrimSpace(rules[i].ID)
		rules[i].Label = strings.TrimSpace(rules[i].Label)
	}
	set := classify.CRuleSet{Version: base + 1, County: code[:6], Rules: rules}
	if err := set.Validate(); err != nil {
		return CountyRules{}, Applied{}, &FieldError{Field: "rules", Message: err.Error()}
	}
	body, err := json.Marshal(rules)
	if err != nil {
		return CountyRules{}, Applied{}, err
	}
	m, err := s.saveVersion(ctx, actor, kindRules, code, base, string(body), reason)
	if err != nil {
		return CountyRules{}, Applied{}, err
	}
	ap, err := s.applyCounty(ctx, code, "rules")
	return CountyRules{Meta: m, Rules: rules}, ap, err
}

// SaveSettings stores a new version of a county's assessment settings on
// top of version base. New assessments are scored under it; the county's
// elders are reclassified, since the 失能/半失能 predicate is among them.
func (s *Service) SaveSettings(ctx context.Context, actor Actor, sc areas.Scope, county string, base int, st assess.Settings, reason string) (CountySettings, Applied, error) {
	code, err := s.county(ctx, sc, county)
	if err != nil {
		return CountySettings{}, Applied{}, err
	}
	if !MayEdit(actor.Role) {
		return CountySettings{}, Applied{}, ErrForbidden
	}
	if err := st.Validate(); err != nil {
		var se *assess.SettingsError
		if errors.As(err, &se) {
			return CountySettings{}, Applied{}, &FieldError{Field: "settings." + settingKey(se.Setting), Message: se.Error()}
		}
		return CountySettings{}, Applied{}, err
	}
	body, err := json.Marshal(st)
	if err != nil {
		return CountySettings{}, Applied{}, err
	}
	m, err := s.saveVersion(ctx, actor, kindSettings, code, base, string(body), reason)
	if err != nil {
		return CountySettings{}, Applied{}, err
	}
	ap, err := s.applyCounty(ctx, code, "rules")
	return CountySettings{Meta: m, Settings: st, Notes: st.Notes()}, ap, err
}

// settingKey maps a setting's Chinese name (assess.SettingNote) to its JSON key.
func settingKey(name string) string {
	keys := []string{"stacking", "risk_counting", "coma_trigger", "predicate"}
	for i, n := range assess.DefaultSettings().Notes() {
		if n.Setting == name {
			return keys[i]
		}
	}
	return ""
}

func (s *Service) saveVersion(ctx context.Context, actor Actor, kind, county string, base int, body, reason string) (Meta, error) {
	now := s.now()
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) > 200 {
		return Meta{}, fieldErr("reason", "修改原因不能超过200字")
	}
	m := Meta{CountyCode: county, Version: base + 1, Reason: reason, CreatedBy: actor.UserID, CreatedAt: &now}
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		current := defaultVersion
		vs, err := versionsOf(ctx, tx, kind, county, 1)
		if err != nil {
			return err
		}
		if len(vs) > 0 {
			current = vs[0].Version
		}
		if base != current {
			return &ErrStale{Current: current}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO county_settings (kind, county_code, version, body, reason, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, kind, county, m.Version, body, reason, actor.UserID, store.FormatTime(now)); err != nil {
			if store.IsUniqueViolation(err) {
				return &ErrStale{Current: m.Version}
			}
			return fmt.Errorf("save %s of %s: %w", kind, county, err)
		}
		// Every file of the county is due today; applyCounty works through
		// them now, and the background job finishes what it leaves.
		lo, hi := store.PrefixRange(county[:6])
		if _, err := tx.Exec(ctx, "UPDATE elders SET class_next_check = ? WHERE area_code >= ? AND area_code < ? AND active = 1",
			age.DateOf(now).String(), lo, hi); err != nil {
			return fmt.Errorf("mark county %s due: %w", county, err)
		}
		return audit.Append(ctx, tx, actor.entry(now, "county."+kind, "area", county, county, fmt.Sprintf("version=%d", m.Version)))
	})
	return m, err
}

// applyBudget bounds how long a save reclassifies in the request; the
// background job picks up the rest within the hour.
const applyBudget = 20 * time.Second

func (s *Service) applyCounty(ctx context.Context, county, cause string) (Applied, error) {
	lo, hi := store.PrefixRange(county[:6])
	return s.recomputeDue(ctx, s.now(), lo, hi, cause, time.Now().Add(applyBudget))
}
