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
	"tanfang/internal/policy/mask"
	"tanfang/internal/store"
)

// Choice is a code word with its Chinese label.
type Choice struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// AssessReasons are the reasons of an assessment DOMAIN §1 lists.
var AssessReasons = []Choice{
	{"first", "首次评估"}, {"regular", "常规评估"}, {"immediate", "即时评估"}, {"reassessment", "复评"}, {"other", "其他"},
}

// ReasonLabel is the Chinese label of an assessment reason.
func ReasonLabel(code string) string {
	for _, c := range AssessReasons {
		if c.Code == code {
			return c.Label
		}
	}
	return code
}

// AssessInput is one assessment as typed: the contract's scores and
// adjustment grounds, plus who assessed, when and why. Reason defaults to
// first (首次评估) for an elder's first assessment and regular after it;
// the assessor to the account; the date to today.
type AssessInput struct {
	assess.Input
	Reason     string `json:"reason"`
	Assessor   string `json:"assessor"`
	AssessedOn string `json:"assessed_on"`
}

// Assessment is one stored assessment with its scores, levels and the
// settings it was scored under (DOMAIN §1).
type Assessment struct {
	ID             int64             `json:"id"`
	ElderID        int64             `json:"elder_id"`
	NameMasked     string            `json:"name_masked"`
	Reason         string            `json:"reason"`
	ReasonLabel    string            `json:"reason_label"`
	Assessor       string            `json:"assessor"`
	AssessedOn     string            `json:"assessed_on"`
	Items          map[string]int    `json:"items"`
	Coma           bool              `json:"coma"`
	Dementia       bool              `json:"dementia"`
	MentalDisorder bool              `json:"mental_disorder"`
	RiskEvents     assess.RiskEvents `json:"risk_events"`
	assess.Result
	SettingsUsed    assess.Settings `json:"settings_used"`
	SettingsVersion int             `json:"settings_version"`
	CreatedBy       int64           `json:"created_by"`
	CreatedAt       time.Time       `json:"created_at"`
	// Class is the elder's class after this assessment was recorded.
	Class *Summary `json:"class,omitempty"`
}

// MayAssess reports whether a role records assessments: the offices that
// keep elders' files type in the assessors' results; visitors do not.
func MayAssess(role string) bool {
	switch role {
	case auth.RoleAdmin, auth.RoleCity, auth.RoleCounty, auth.RoleTown, auth.RoleVillage:
		return true
	}
	return false
}

// Assess scores and stores an assessment of an elder in scope under the
// county's current settings, and reclassifies the elder in the same
// transaction. Bad scores give assess.InputError (every item at fault),
// other bad fields a *FieldError.
func (s *Service) Assess(ctx context.Context, actor Actor, sc areas.Scope, elderID int64, in AssessInput) (Assessment, error) {
	now := s.now()
	today := age.DateOf(now)
	if !MayAssess(actor.Role) {
		if _, err := s.loadIn(ctx, s.DB, sc, elderID, false); err != nil {
			return Assessment{}, err
		}
		return Assessment{}, ErrForbidden
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason != "" && ReasonLabel(in.Reason) == in.Reason {
		return Assessment{}, fieldErr("reason", "评估原因“%s”无效，应为首次评估、常规评估、即时评估、复评或其他", in.Reason)
	}
	in.Assessor = strings.TrimSpace(in.Assessor)
	if in.Assessor == "" {
		in.Assessor = actor.Username
	}
	if len([]rune(in.Assessor)) > 50 {
		return Assessment{}, fieldErr("assessor", "评估人员不能超过50字")
	}
	on := today
	if v := strings.TrimSpace(in.AssessedOn); v != "" {
		d, err := age.ParseDate(v)
		if err != nil {
			return Assessment{}, fieldErr("assessed_on", "评估日期“%s”无效，应为YYYY-MM-DD格式的真实日期", v)
		}
		if today.Before(d) {
			return Assessment{}, fieldErr("assessed_on", "评估日期%s晚于今天", d)
		}
		on = d
	}
	var out Assessment
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		e, err := s.loadIn(ctx, tx, sc, elderID, true)
		if err != nil {
			return err
		}
		if birth, err := age.ParseDate(e.BirthDate); err == nil && on.Before(birth) {
			return fieldErr("assessed_on", "评估日期%s早于老人的出生日期", on)
		}
		st, err := settingsFor(ctx, tx, countyOf(e.AreaCode))
		if err != nil {
			return err
		}
		res, err := assess.Score(in.Input, st.Settings)
		if err != nil {
			return err
		}
		if in.Reason == "" {
			in.Reason = "regular"
			if prev, err := latestAssessment(ctx, tx, e.ID); err != nil {
				return err
			} else if prev == nil {
				in.Reason = "first"
			}
		}
		items, _ := json.Marshal(in.Items)
		risks, _ := json.Marshal(in.RiskEvents)
		settings, _ := json.Marshal(st.Settings)
		result, err := json.Marshal(res)
		if err != nil {
			return err
		}
		id, err := tx.InsertID(ctx, `INSERT INTO assessments (elder_id, reason, assessor, assessed_on, items, coma, dementia,
			mental_disorder, risk_events, settings, settings_version, total, initial_level, final_level, body_label, result,
			created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, in.Reason, in.Assessor, on.String(), string(items), boolInt(in.Coma), boolInt(in.Dementia),
			boolInt(in.MentalDisorder), string(risks), string(settings), st.Version, res.Total, res.InitialLevel,
			res.FinalLevel, string(res.BodyLabel), string(result), actor.UserID, store.FormatTime(now))
		if err != nil {
			return fmt.Errorf("store assessment of elder %d: %w", e.ID, err)
		}
		if _, err := Recompute(ctx, tx, e.ID, CauseAssessment, now); err != nil {
			return err
		}
		sm, err := LoadSummary(ctx, tx, e.ID)
		if err != nil {
			return err
		}
		detail := fmt.Sprintf("elder=%d total=%d final_level=%d", e.ID, res.Total, res.FinalLevel)
		if err := audit.Append(ctx, tx, actor.entry(now, "assessment.create", "assessment", itoa(id), e.AreaCode, detail)); err != nil {
			return err
		}
		out = Assessment{ID: id, ElderID: e.ID, NameMasked: mask.Name(e.Name), Reason: in.Reason, ReasonLabel: ReasonLabel(in.Reason),
			Assessor: in.Assessor, AssessedOn: on.String(), Items: in.Items, Coma: in.Coma, Dementia: in.Dementia,
			MentalDisorder: in.MentalDisorder, RiskEvents: in.RiskEvents, Result: res, SettingsUsed: st.Settings,
			SettingsVersion: st.Version, CreatedBy: actor.UserID, CreatedAt: now, Class: &sm}
		return nil
	})
	return out, err
}

const assessCols = `a.id, a.elder_id, e.name, a.reason, a.assessor, a.assessed_on, a.items, a.coma, a.dementia,
	a.mental_disorder, a.risk_events, a.settings, a.settings_version, a.result, a.created_by, a.created_at`

func scanAssessment(sc interface{ Scan(...any) error }) (Assessment, error) {
	var a Assessment
	var name, items, risks, settings, result, at string
	if err := sc.Scan(&a.ID, &a.ElderID, &name, &a.Reason, &a.Assessor, &a.AssessedOn, &items, &a.Coma, &a.Dementia,
		&a.MentalDisorder, &risks, &settings, &a.SettingsVersion, &result, &a.CreatedBy, &at); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return a, store.ErrNotFound
		}
		return a, err
	}
	a.NameMasked, a.ReasonLabel, a.CreatedAt = mask.Name(name), ReasonLabel(a.Reason), store.MustTime(at)
	for _, f := range []struct {
		raw string
		dst any
	}{{items, &a.Items}, {risks, &a.RiskEvents}, {settings, &a.SettingsUsed}, {result, &a.Result}} {
		if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
			return a, fmt.Errorf("assessment %d: %w", a.ID, err)
		}
	}
	return a, nil
}

// Assessments lists an elder's assessments in scope, newest first.
func (s *Service) Assessments(ctx context.Context, sc areas.Scope, elderID int64) ([]Assessment, error) {
	if _, err := s.loadIn(ctx, s.DB, sc, elderID, false); err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, "SELECT "+assessCols+` FROM assessments a JOIN elders e ON e.id = a.elder_id
		WHERE a.elder_id = ? ORDER BY a.assessed_on DESC, a.id DESC`, elderID)
	if err != nil {
		return nil, fmt.Errorf("assessments of elder %d: %w", elderID, err)
	}
	defer rows.Close()
	out := []Assessment{}
	for rows.Next() {
		a, err := scanAssessment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// GetAssessment returns one assessment of an elder in scope and audits the
// read: it is part of the person's file.
func (s *Service) GetAssessment(ctx context.Context, actor Actor, sc areas.Scope, id int64) (Assessment, error) {
	lo, hi, ok := scopeRange(sc)
	if !ok {
		return Assessment{}, store.ErrNotFound
	}
	a, err := scanAssessment(s.DB.QueryRow(ctx, "SELECT "+assessCols+` FROM assessments a
		JOIN elders e ON e.id = a.elder_id WHERE a.id = ? AND e.area_code >= ? AND e.area_code < ?`, id, lo, hi))
	if err != nil {
		return Assessment{}, err
	}
	return a, audit.Log(ctx, s.DB, actor.entry(s.now(), "assessment.read", "assessment", itoa(a.ID), "", fmt.Sprintf("elder=%d", a.ElderID)))
}
