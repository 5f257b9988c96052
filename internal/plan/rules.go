package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
)

// CountyRules is a county's weekly frequency configuration; Custom is false
// while the county uses the provincial defaults.
type CountyRules struct {
	CountyCode string         `json:"county_code"`
	Custom     bool           `json:"custom"`
	Rules      schedule.Rules `json:"rules"`
}

// county checks that code is a county in scope.
func (s *Service) county(ctx context.Context, sc areas.Scope, code string) (areas.Area, error) {
	a, err := areas.Store{DB: s.DB}.GetIn(ctx, sc, code)
	if err != nil {
		return a, err
	}
	if a.Level != areas.County {
		return a, fieldErr("county_code", "频次规则按县区设置，“"+a.Name+"”不是县区")
	}
	return a, nil
}

// Rules returns a county's rules (the defaults when it has none of its own).
func (s *Service) Rules(ctx context.Context, sc areas.Scope, countyCode string) (CountyRules, error) {
	if _, err := s.county(ctx, sc, countyCode); err != nil {
		return CountyRules{}, err
	}
	out := CountyRules{CountyCode: countyCode, Rules: schedule.DefaultRules()}
	var text string
	err := s.DB.QueryRow(ctx, "SELECT rules FROM plan_rules WHERE county_code = ?", countyCode).Scan(&text)
	if err != nil {
		if errors.Is(notFound(err), store.ErrNotFound) {
			return out, nil
		}
		return out, err
	}
	if err := json.Unmarshal([]byte(text), &out.Rules); err != nil {
		return out, fmt.Errorf("rules of %s: %w", countyCode, err)
	}
	out.Custom = true
	return out, nil
}

// SetRules stores a county's own rules after schedule.Rules.Validate and
// refreshes the current week, whose rows keep their classes.
func (s *Service) SetRules(ctx context.Context, sc areas.Scope, actor audit.Entry, countyCode string, r schedule.Rules) (CountyRules, error) {
	if _, err := s.county(ctx, sc, countyCode); err != nil {
		return CountyRules{}, err
	}
	if err := r.Validate(); err != nil {
		return CountyRules{}, fieldErr("rules", err.Error())
	}
	for _, class := range []string{"A", "B", "C"} {
		if _, ok := r.PerClass[class]; !ok {
			return CountyRules{}, fieldErr("rules", "每周探访频次缺少"+class+"类")
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return CountyRules{}, err
	}
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO plan_rules (county_code, rules, updated_at, updated_by) VALUES (?, ?, ?, ?)
			ON CONFLICT (county_code) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			countyCode, string(b), store.FormatTime(now), actor.ActorID); err != nil {
			return err
		}
		e := entry(actor, "plan.rules", "area", 0, countyCode, "")
		e.TargetID = countyCode
		return audit.Append(ctx, tx, e)
	})
	if err != nil {
		return CountyRules{}, err
	}
	if err := s.refreshSpan(ctx, schedule.WeekOf(now).Days()[0].String(), schedule.WeekOf(now).Days()[6].String()); err != nil {
		return CountyRules{}, err
	}
	return CountyRules{CountyCode: countyCode, Custom: true, Rules: r}, nil
}
