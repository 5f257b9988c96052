package demo

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"tanfang/internal/policy/age"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/visits"
)

// simulate runs the weeks from first to now: each week is drawn up on its
// Monday and its visits happen on their days; every morning the daily
// jobs run (age crossings, escalation of overdue follow-ups).
func (w *world) simulate(first time.Time) error {
	w.known = map[int64]bool{}
	for k := 0; k <= w.weeks; k++ {
		monday := first.AddDate(0, 0, 7*k)
		w.at(monday.Add(5*time.Minute), func() error { return w.planWeek(monday) })
		for d := range 7 {
			w.at(monday.AddDate(0, 0, d).Add(7*time.Hour), w.daily)
		}
	}
	if err := w.scheduleHappenings(first); err != nil {
		return err
	}
	if err := w.run(); err != nil {
		return err
	}
	// The present: what is overdue now has been escalated by now.
	w.clock = w.now
	if err := w.daily(); err != nil {
		return err
	}
	return w.topUp()
}

// topUp makes sure a small city still shows follow-ups taken up, referred
// and resolved: if a state is missing, the village has just moved an item
// there from a state that has more than one.
func (w *world) topUp() error {
	w.clock = w.now.Add(-time.Hour)
	moves := map[string]visits.Move{
		visits.StatusInProgress: {Status: visits.StatusInProgress, Reason: "已安排人员上门查看"},
		visits.StatusReferred:   {Status: visits.StatusReferred, ReferType: visits.ReferTown, Reason: "村里无法独立解决，转乡镇协调"},
		visits.StatusResolved:   {Status: visits.StatusResolved, Reason: "家属已落实照料责任"},
	}
	for _, target := range []string{visits.StatusInProgress, visits.StatusReferred, visits.StatusResolved} {
		all, err := w.vis.Followups(w.ctx, cityScope, visits.Filter{Limit: 1000})
		if err != nil {
			return err
		}
		n := map[string]int{}
		for _, f := range all {
			n[f.Status]++
		}
		if n[target] > 0 {
			continue
		}
		for _, f := range all {
			if n[f.Status] > 1 && visits.CanMove(f.Status, target) {
				if err := w.move(f.ID, moves[target], nil)(); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

// daily is what the server's jobs do every morning.
func (w *world) daily() error {
	if _, err := w.cls.RunDaily(w.ctx, w.clock); err != nil {
		return err
	}
	n, err := w.vis.Escalate(w.ctx)
	w.sum.Escalated += n
	return err
}

// planWeek draws up the week and schedules each paired elder's contacts
// from what the plan asks of the week (class, festival, campaign, status).
func (w *world) planWeek(monday time.Time) error {
	wk := schedule.WeekOf(monday)
	if err := w.plan.EnsureWeek(w.ctx, wk); err != nil {
		return err
	}
	type row struct {
		elder, visitor int64
		req            schedule.Requirement
	}
	var list []row
	rows, err := w.db.Query(w.ctx, `SELECT elder_id, COALESCE(visitor_id, 0), req_home, req_call FROM plan_weeks
		WHERE week = ? AND planned = 1 ORDER BY elder_id`, wk.String())
	if err != nil {
		return fmt.Errorf("week %s: %w", wk, err)
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.elder, &r.visitor, &r.req.Home, &r.req.Call); err != nil {
			rows.Close()
			return err
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range list {
		e := w.byID[r.elder]
		if e == nil || e.primary == nil || e.primary.id != r.visitor {
			continue // unpaired: nobody comes, and the week is missed
		}
		w.scheduleWeek(e, r.req, monday)
	}
	return nil
}

// scheduleWeek plans the visitor's contacts with one elder for a week:
// each required contact is made with the visitor's diligence, on a day of
// its own, in working hours.
func (w *world) scheduleWeek(e *elder, req schedule.Requirement, monday time.Time) {
	v := e.primary
	days := w.rng.Perm(7)
	// Home visits mostly on weekdays, calls any day.
	next := 0
	day := func() time.Time {
		d := days[next%7]
		next++
		if d >= 5 && w.chance(0.6) {
			d = w.rng.IntN(5)
		}
		return monday.AddDate(0, 0, d)
	}
	for range req.Home {
		if w.chance(v.diligence) {
			w.contact(e, "home", w.between(day().Add(8*time.Hour+30*time.Minute), 9*time.Hour), true)
		}
	}
	for range req.Call {
		if w.chance(v.diligence) {
			mode := "phone"
			if w.chance(0.15) {
				mode = "video"
			}
			w.contact(e, mode, w.between(day().Add(8*time.Hour), 11*time.Hour), true)
		}
	}
}

// contact schedules one visit or call starting at start: most are
// recorded within the hour, some days late with a reason (补录); a visit
// that finds nobody home may be made again the next day.
func (w *world) contact(e *elder, mode string, start time.Time, retry bool) {
	dur := time.Duration(4+w.rng.IntN(12)) * time.Minute
	if mode == "home" {
		dur = time.Duration(20+w.rng.IntN(40)) * time.Minute
	}
	end := start.Add(dur)
	outcome := "done"
	switch r := w.rng.Float64(); {
	case r < 0.004:
		outcome = "refused"
	case mode == "home" && r < 0.06, mode != "home" && r < 0.035:
		outcome = "not_home"
	}
	late := w.chance(0.035)
	recorded := end.Add(time.Duration(1+w.rng.IntN(40)) * time.Minute)
	if late {
		recorded = end.Add(49*time.Hour + time.Duration(w.rng.IntN(60))*time.Hour)
	}
	w.at(recorded, func() error { return w.record(e, mode, start, end, recorded, outcome, late) })
	if outcome == "not_home" && retry && w.chance(0.6) {
		w.contact(e, mode, start.Add(24*time.Hour+time.Duration(w.rng.IntN(180))*time.Minute), false)
	}
}

// incident is a finding that can turn bad between visits, with its bad
// answer and whether a call rates it (home visits rate everything).
type incident struct {
	field, bad string
	call       bool
}

var incidents = []incident{
	{"gas", "unsafe", false}, {"electricity", "unsafe", false}, {"house", "unsafe", false},
	{"water_heating", "unsafe", false}, {"hygiene", "poor", false}, {"supporter", "poor", false},
	{"illness", "worse", true}, {"mental", "poor", true}, {"mobility", "poor", true},
}

var education = []string{
	"提醒冬季取暖注意通风，防范一氧化碳中毒", "提醒按时服药，定期测量血压", "提醒雨雪天气减少外出，防止跌倒",
	"提醒防范电信诈骗，陌生来电不转账", "提醒使用电器后及时断电", "讲解秋冬季流感预防知识",
}

func setFinding(f *visits.Findings, field, value string) {
	switch field {
	case "expression":
		f.Expression = value
	case "mobility":
		f.Mobility = value
	case "mental":
		f.Mental = value
	case "illness":
		f.Illness = value
	case "house":
		f.House = value
	case "gas":
		f.Gas = value
	case "water_heating":
		f.WaterHeating = value
	case "electricity":
		f.Electricity = value
	case "hygiene":
		f.Hygiene = value
	case "supporter":
		f.Supporter = value
	}
}

func (w *world) pickOf(s ...string) string { return s[w.rng.IntN(len(s))] }

// findings rates a completed contact: steady answers from the elder's
// condition, the problems still open, and now and then a new one.
func (w *world) findings(e *elder, home bool) (visits.Findings, bool) {
	impaired := len(e.p.Body) > 0 && e.p.Body[0] != "self_care"
	f := visits.Findings{Expression: "good", Mobility: "good", Mental: "good", Illness: "same"}
	if impaired {
		f.Mobility, f.Expression = "fair", w.pickOf("good", "fair")
	} else if w.chance(0.3) {
		f.Mobility = "fair"
	}
	if w.chance(0.2) {
		f.Mental = "fair"
	}
	if w.chance(0.05) {
		f.Illness = "better"
	}
	if home {
		f.House, f.Gas = w.pickOf("safe", "safe", "fairly_safe"), w.pickOf("safe", "safe", "safe", "fairly_safe")
		f.WaterHeating, f.Electricity = w.pickOf("safe", "safe", "fairly_safe"), w.pickOf("safe", "safe", "safe", "fairly_safe")
		f.Hygiene, f.Supporter = w.pickOf("good", "good", "fair"), w.pickOf("good", "good", "fair")
	}
	fresh := false
	p := 0.008
	if home {
		p = 0.022
	}
	if w.chance(p) {
		in := incidents[w.rng.IntN(len(incidents))]
		if (home || in.call) && !e.problems[in.field] {
			e.problems[in.field] = true
			fresh = true
		}
	}
	for _, in := range incidents {
		if e.problems[in.field] && (home || in.call) {
			setFinding(&f, in.field, in.bad)
		}
	}
	if f.Illness == "worse" {
		f.IllnessKind = w.pickOf("血压偏高", "咳嗽气喘", "关节疼痛加重", "食欲下降")
	}
	return f, fresh
}

// record submits one visit as the visitor's phone would, with the clock
// at the moment the server receives it.
func (w *world) record(e *elder, mode string, start, end, recorded time.Time, outcome string, late bool) error {
	v := e.primary
	if v == nil || e.p.AreaCode != v.area || w.clock.Before(e.outUntil) && start.Before(e.outUntil) {
		return nil // moved, unpaired, or away meanwhile
	}
	in := visits.Input{
		ClientID: uuid.NewString(), ElderID: e.id, Mode: mode, Outcome: outcome,
		StartedAt: start.Format(time.RFC3339), EndedAt: end.Format(time.RFC3339), RecordedAt: recorded.Format(time.RFC3339),
	}
	fresh := false
	if outcome == "done" {
		in.Findings, fresh = w.findings(e, mode == "home")
		if w.chance(0.6) {
			in.FamilyContactOn = age.DateOf(start).AddDays(-w.rng.IntN(20)).String()
		}
		if mode == "home" || w.chance(0.4) {
			in.Education = w.pickOf(education...)
		}
		if mode == "home" && w.chance(0.012) {
			in.ServiceNeeds = []string{w.pickOf("meal", "bath", "daily_care", "adaptation")}
			in.Needs = "老人希望村里帮助联系相关服务"
			fresh = true
		}
	}
	if late {
		in.LateReason = w.pickOf("当天手机没有信号，事后补录", "外出办事，回村后补录", "手机故障，修好后补录")
	}
	_, created, err := w.vis.Record(w.ctx, v.actor, in, nil)
	if err != nil {
		return fmt.Errorf("visit of elder %d: %w", e.id, err)
	}
	if created {
		w.sum.Visits++
		if late {
			w.sum.LateVisits++
		}
	}
	if fresh {
		return w.followNew(e)
	}
	return nil
}

// followNew finds the follow-ups a visit opened and plays out how the
// village handles them.
func (w *world) followNew(e *elder) error {
	list, err := w.vis.Followups(w.ctx, cityScope, visits.Filter{ElderID: e.id, Status: visits.StatusOpen})
	if err != nil {
		return err
	}
	for _, f := range list {
		if w.known[f.ID] {
			continue
		}
		w.known[f.ID] = true
		w.lifecycle(e, f)
	}
	return nil
}

// handling is how the village deals with one follow-up, taken in turn so
// that even a small city shows every state: left alone (it escalates),
// taken up, referred to the town or a department, resolved (the next
// visit's ratings then verify it).
type handling struct {
	start, refer, resolve bool
}

var handlings = []handling{
	{}, {true, false, true}, {true, true, true}, {true, false, true}, {true, false, false},
	{true, true, false}, {true, false, true}, {true, false, true}, {true, true, true}, {true, false, true},
}

// lifecycle schedules a follow-up's handling within a fraction of its
// time, some of it late.
func (w *world) lifecycle(e *elder, f visits.Followup) {
	h := handlings[w.followups%len(handlings)]
	w.followups++
	if !h.start {
		return
	}
	due := f.DueAt.Sub(f.CreatedAt)
	t := w.between(f.CreatedAt.Add(time.Hour), due/2+time.Hour)
	w.at(t, w.move(f.ID, visits.Move{Status: visits.StatusInProgress, Reason: w.pickOf(
		"已联系子女，约定本周上门处理", "村委会已安排人员上门查看", "已告知老人及家属注意事项，跟进中")}, nil))
	if h.refer {
		t = w.between(t.Add(2*time.Hour), 36*time.Hour)
		m := visits.Move{Status: visits.StatusReferred, ReferType: visits.ReferTown, Reason: "村里无法独立解决，转乡镇协调"}
		if w.chance(0.4) {
			m = visits.Move{Status: visits.StatusReferred, ReferType: visits.ReferDepartment, ReferTo: w.pickOf("县住建局", "燃气公司", "供电所", "镇卫生院"),
				Reason: "需专业部门处理"}
		}
		w.at(t, w.move(f.ID, m, nil))
	}
	if h.resolve {
		t = w.between(t.Add(4*time.Hour), due*3/2+24*time.Hour)
		w.at(t, w.move(f.ID, visits.Move{Status: visits.StatusResolved, Reason: w.pickOf(
			"已维修更换，隐患消除", "家属已落实照料责任", "已协调相关服务，老人情况好转")}, func() { delete(e.problems, f.Source) }))
	}
}

// move moves a follow-up as the village's staff would; a move the item's
// current status no longer allows (a visit reopened it) is skipped.
func (w *world) move(id int64, m visits.Move, done func()) func() error {
	return func() error {
		_, err := w.vis.MoveFollowup(w.ctx, staff, id, m)
		var ve *visits.ValidationError
		if errors.As(err, &ve) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("follow-up %d: %w", id, err)
		}
		if done != nil {
			done()
		}
		return nil
	}
}
