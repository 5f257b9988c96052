package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
)

// ConflictError is a close of a period already closed.
type ConflictError struct{ Message string }

func (e *ConflictError) Error() string { return "conflict: " + e.Message }

// Is lets callers test errors.Is(err, store.ErrConflict).
func (e *ConflictError) Is(target error) bool { return target == store.ErrConflict }

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func currentWeek(now time.Time) string { return schedule.WeekOf(now).String() }

// Figure is one number of a report that belongs to its period, named so
// that a later value can be set against the one reported.
type Figure struct {
	Item  string `json:"item"`
	Label string `json:"label"`
	Value int    `json:"value"`
}

// Figures lists the report's period figures in a fixed order. Counts as of
// the generation (files, pairing, open follow-ups) are not among them: they
// move every day and are not corrections.
func (r Report) Figures() []Figure {
	fs := []Figure{
		{"compliance.in_scope", "应探访人次（按周计）", r.Compliance.InScope},
		{"compliance.met", "按时完成人次（按周计）", r.Compliance.Met},
	}
	for _, c := range Classes {
		f := r.Compliance.ByClass[c]
		fs = append(fs, Figure{"compliance." + c + ".in_scope", c + "类应探访人次", f.InScope},
			Figure{"compliance." + c + ".met", c + "类按时完成人次", f.Met})
	}
	for _, m := range r.Months {
		l := monthLabel(m.Month)
		fs = append(fs, Figure{"month." + m.Month + ".in_scope", l + "纳入探访人数", m.InScope},
			Figure{"month." + m.Month + ".contacted", l + "已探访人数", m.Contacted},
			Figure{"month." + m.Month + ".contact_days", l + "探访人次（按天计）", m.ContactDays})
	}
	c := r.Changes
	p := r.Problems
	return append(fs,
		Figure{"changes.new", "新建档案", c.New},
		Figure{"changes.deceased", "去世", c.Deceased},
		Figure{"changes.moved_out", "迁出", c.MovedOut},
		Figure{"changes.transferred_out", "转出", c.TransferredOut},
		Figure{"changes.transferred_in", "转入", c.TransferredIn},
		Figure{"changes.status_changed", "其他状态变更", c.StatusChanged},
		Figure{"changes.class_changed", "类别变化", c.ClassChanged},
		Figure{"problems.found", "发现问题", p.Found},
		Figure{"problems.resolved", "办结问题", p.Resolved},
		Figure{"problems.verified", "回访确认", p.Verified},
		Figure{"referrals.done", "转介完成", r.ReferralsDone()},
		Figure{"emergencies.raised", "紧急情况", p.EmergenciesRaised},
		Figure{"emergencies.closed", "紧急情况处置完毕", p.EmergenciesClosed},
	)
}

func monthLabel(m string) string {
	if mm, err := schedule.ParseMonth(m); err == nil {
		return fmt.Sprintf("%d年%d月", mm.Year, int(mm.Month))
	}
	return m
}

// Correction is a figure of a closed period found different after the
// close: Reported is what the closed report says, Previous the value
// before this finding (Reported, or the last correction), Value the new one.
type Correction struct {
	Item     string    `json:"item"`
	Label    string    `json:"label"`
	Reported int       `json:"reported"`
	Previous int       `json:"previous"`
	Value    int       `json:"value"`
	FoundAt  time.Time `json:"found_at"`
}

// Close freezes an area's report for a period that has ended (结账). The
// frozen report is what every later read shows; later changes to the data
// become corrections. actor is completed with the action and target.
func (s *Service) Close(ctx context.Context, sc areas.Scope, actor audit.Entry, areaCode, period string) (Report, error) {
	a, err := s.area(ctx, sc, areaCode)
	if err != nil {
		return Report{}, err
	}
	p, err := s.periodArg(period)
	if err != nil {
		return Report{}, err
	}
	now := s.now()
	if now.Before(p.End()) {
		return Report{}, &FieldError{"period", fmt.Sprintf("%s尚未结束，结束后才能结账", p.Label())}
	}
	if _, ok, err := s.closed(ctx, a.Code, p); err != nil {
		return Report{}, err
	} else if ok {
		return Report{}, &ConflictError{fmt.Sprintf("%s%s已结账，不能重复结账；之后的变动记为更正", a.Name, p.Label())}
	}
	r, err := s.generate(ctx, a, p)
	if err != nil {
		return Report{}, err
	}
	r.Closed = &Closed{At: now, By: actor.Actor}
	body, err := json.Marshal(r)
	if err != nil {
		return Report{}, err
	}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO report_closes (area_code, period, closed_at, closed_by, closer, body) VALUES (?, ?, ?, ?, ?, ?)`,
			a.Code, p.String(), store.FormatTime(now), actor.ActorID, actor.Actor, string(body)); err != nil {
			if store.IsUniqueViolation(err) {
				return &ConflictError{fmt.Sprintf("%s%s已结账，不能重复结账", a.Name, p.Label())}
			}
			return fmt.Errorf("close %s %s: %w", a.Code, p, err)
		}
		actor.At, actor.Action, actor.TargetType, actor.TargetID, actor.AreaCode = now, "report.close", "report", a.Code+"/"+p.String(), a.Code
		if actor.Outcome == "" {
			actor.Outcome = audit.OK
		}
		return audit.Append(ctx, tx, actor)
	})
	return r, err
}

// corrections lists an area's corrections to a period, oldest first.
func (s *Service) corrections(ctx context.Context, code string, p Period) ([]Correction, error) {
	rows, err := s.DB.Query(ctx, `SELECT item, label, reported, previous, value, found_at FROM report_corrections
		WHERE area_code = ? AND period = ? ORDER BY id`, code, p.String())
	if err != nil {
		return nil, fmt.Errorf("corrections: %w", err)
	}
	defer rows.Close()
	out := []Correction{}
	for rows.Next() {
		var c Correction
		var at string
		if err := rows.Scan(&c.Item, &c.Label, &c.Reported, &c.Previous, &c.Value, &at); err != nil {
			return nil, fmt.Errorf("corrections: %w", err)
		}
		c.FoundAt = store.MustTime(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// reconcile records, for each figure of live that differs from the last
// known value (the frozen report's, or the last correction's), a
// correction. It returns how many it recorded.
func (s *Service) reconcile(ctx context.Context, code string, p Period, frozen, live Report) (int, error) {
	reported := map[string]int{}
	for _, f := range frozen.Figures() {
		reported[f.Item] = f.Value
	}
	now := store.FormatTime(s.now())
	n := 0
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		// Touching the close row serialises two reconciliations of it on
		// PostgreSQL; SQLite has one writer anyway.
		if _, err := tx.Exec(ctx, "UPDATE report_closes SET closed_at = closed_at WHERE area_code = ? AND period = ?", code, p.String()); err != nil {
			return err
		}
		last := map[string]int{}
		for k, v := range reported {
			last[k] = v
		}
		rows, err := tx.Query(ctx, "SELECT item, value FROM report_corrections WHERE area_code = ? AND period = ? ORDER BY id", code, p.String())
		if err != nil {
			return err
		}
		for rows.Next() {
			var item string
			var v int
			if err := rows.Scan(&item, &v); err != nil {
				rows.Close()
				return err
			}
			last[item] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, f := range live.Figures() {
			if prev := last[f.Item]; prev != f.Value {
				if _, err := tx.Exec(ctx, `INSERT INTO report_corrections (area_code, period, item, label, reported, previous, value, found_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, code, p.String(), f.Item, f.Label, reported[f.Item], prev, f.Value, now); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("corrections of %s %s: %w", code, p, err)
	}
	return n, nil
}

// reconcileWindow is how far back the daily sweep looks for corrections;
// older periods are checked when their report is opened.
const reconcileWindow = 400 * 24 * time.Hour

// Reconcile checks every period closed within the last reconcileWindow
// against the data now and records the corrections it finds; it returns
// how many. The job runs it daily, so a correction is on record even
// before anyone opens the report.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	type closeRow struct{ code, period string }
	rows, err := s.DB.Query(ctx, "SELECT area_code, period FROM report_closes WHERE closed_at >= ? ORDER BY closed_at",
		store.FormatTime(s.now().Add(-reconcileWindow)))
	if err != nil {
		return 0, fmt.Errorf("closed periods: %w", err)
	}
	var list []closeRow
	for rows.Next() {
		var c closeRow
		if err := rows.Scan(&c.code, &c.period); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	total := 0
	for _, c := range list {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		a, err := areas.Store{DB: s.DB}.Get(ctx, c.code)
		if err != nil {
			return total, err
		}
		p, err := ParsePeriod(c.period)
		if err != nil {
			return total, err
		}
		frozen, ok, err := s.closed(ctx, a.Code, p)
		if err != nil || !ok {
			return total, err
		}
		live, err := s.generate(ctx, a, p)
		if err != nil {
			return total, err
		}
		n, err := s.reconcile(ctx, a.Code, p, frozen, live)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
