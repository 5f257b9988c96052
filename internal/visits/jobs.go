package visits

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/mask"
)

// BenefitRow is an elder the benefit rules flag, name masked.
type BenefitRow struct {
	ElderID    int64         `json:"elder_id"`
	NameMasked string        `json:"name_masked"`
	AreaCode   string        `json:"area_code"`
	Age        int           `json:"age"`
	Flags      []BenefitFlag `json:"flags"`
}

// BenefitList applies the benefit rules to the active elders under area
// (in scope; "" the whole scope) and lists those flagged, for the village
// to check and help apply (R-VST-4).
func (s *Service) BenefitList(ctx context.Context, sc areas.Scope, area string) ([]BenefitRow, error) {
	lo, hi := sc.Range()
	if area != "" {
		var err error
		if lo, hi, err = areaRange(ctx, s.DB, sc, area); err != nil {
			return nil, err
		}
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return nil, err
	}
	today := age.DateOf(s.now())
	rows, err := s.DB.Query(ctx, `SELECT id, name, area_code, birth_date, economic_status, body_conditions, disability_grade,
		pension_fen, assistance_fen, subsidy_fen FROM elders WHERE area_code >= ? AND area_code < ? AND active = 1 ORDER BY area_code, id`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("benefit list: %w", err)
	}
	defer rows.Close()
	out := []BenefitRow{}
	for rows.Next() {
		var r BenefitRow
		var name, birth, econ, body string
		var f BenefitFacts
		var pension, assistance, subsidy sql.NullInt64
		if err := rows.Scan(&r.ElderID, &name, &r.AreaCode, &birth, &econ, &body, &f.DisabilityGrade, &pension, &assistance, &subsidy); err != nil {
			return nil, err
		}
		f.Birth, _ = age.ParseDate(birth)
		f.Economic, f.Body = splitNonEmpty(econ), splitNonEmpty(body)
		f.Pension, f.Assistance, f.Subsidy = fen(pension), fen(assistance), fen(subsidy)
		if r.Flags = CheckBenefits(f, today, rules); len(r.Flags) == 0 {
			continue
		}
		r.NameMasked = mask.Name(name)
		if !f.Birth.IsZero() {
			r.Age = age.Years(f.Birth, today)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func splitNonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func fen(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

// RunJobs escalates overdue follow-ups and checks family contact every
// interval until ctx ends; serve starts it. Several app servers may run it:
// each step is conditional on the row's state, so none is done twice.
func (s *Service) RunJobs(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.Escalate(ctx); err != nil && ctx.Err() == nil {
			log.Error("escalate follow-ups", "err", err)
		} else if n > 0 {
			log.Info("follow-ups escalated", "count", n)
		}
		if n, err := s.RemindFamilies(ctx); err != nil && ctx.Err() == nil {
			log.Error("family reminders", "err", err)
		} else if n > 0 {
			log.Info("family reminders written", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
