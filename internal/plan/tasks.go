package plan

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/policy/mask"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
)

// Task is one elder's week on a visitor's list.
type Task struct {
	ElderID    int64  `json:"elder_id"`
	NameMasked string `json:"name_masked"`
	AreaCode   string `json:"area_code"`
	AreaName   string `json:"area_name"`
	Class      string `json:"class"`
	// Required is what the week asks; Done counts days with a completed
	// contact of each kind, late records included; Late counts those days
	// whose only records are late. Owed and Status judge on-time contacts.
	Required      schedule.Requirement `json:"required"`
	Done          schedule.Requirement `json:"done"`
	Late          schedule.Requirement `json:"late"`
	Owed          schedule.Requirement `json:"owed"`
	HomeAsCall    int                  `json:"home_as_call"`
	Status        schedule.Status      `json:"status"`
	StatusLabel   string               `json:"status_label"`
	Notes         []string             `json:"notes"`
	DueAt         time.Time            `json:"due_at"`
	Overdue       bool                 `json:"overdue"`
	LastContactAt *time.Time           `json:"last_contact_at"`
	Deadlines     []TaskDeadline       `json:"deadlines"`
}

// TaskDeadline is a campaign's deadline reaching the elder.
type TaskDeadline struct {
	CampaignID  int64                   `json:"campaign_id"`
	Name        string                  `json:"name"`
	DueAt       time.Time               `json:"due_at"`
	Status      schedule.DeadlineStatus `json:"status"`
	StatusLabel string                  `json:"status_label"`
}

var deadlineLabels = map[schedule.DeadlineStatus]string{
	schedule.DeadlinePending: "待联系", schedule.DeadlineMet: "已联系", schedule.DeadlineOverdue: "已逾期", schedule.DeadlineNotRequired: "无需联系",
}

// TaskList is a visitor's elders for one week, the highest risk first.
type TaskList struct {
	Week      schedule.Week `json:"week"`
	VisitorID int64         `json:"visitor_id"`
	Items     []Task        `json:"items"`
}

// weekRow is a plan_weeks row as reads need it.
type weekRow struct {
	elderID                  int64
	name, area, class, notes string
	req                      schedule.Requirement
	homeForCall              bool
	done, late               schedule.Requirement
	last                     string
}

// status judges the row with schedule.Evaluate on on-time contacts only.
func (r weekRow) status(w schedule.Week, now time.Time) schedule.Result {
	onTime := schedule.Done{Home: r.done.Home - r.late.Home, Call: r.done.Call - r.late.Call}
	return schedule.Evaluate(r.req, onTime, r.homeForCall, now, w)
}

// Tasks lists a visitor's elders for week w (their planned weeks where the
// visitor is the primary visitor), drawing up the current week first if no
// one has yet. Order: class A first, then overdue, then the most owed.
// The caller checks that the visitor is in scope.
func (s *Service) Tasks(ctx context.Context, visitorID int64, w schedule.Week) (TaskList, error) {
	now := s.now()
	if w == schedule.WeekOf(now) {
		if err := s.ensure(ctx, w); err != nil {
			return TaskList{}, err
		}
	}
	out := TaskList{Week: w, VisitorID: visitorID, Items: []Task{}}
	rows, err := s.DB.Query(ctx, `SELECT w.elder_id, e.name, w.area_code, w.class, w.req_home, w.req_call, w.home_for_call,
			w.done_home, w.done_call, w.late_home, w.late_call, w.last_contact_at, COALESCE(n.text, '')
		FROM plan_weeks w JOIN elders e ON e.id = w.elder_id LEFT JOIN plan_notes n ON n.id = w.notes_id
		WHERE w.visitor_id = ? AND w.week = ? AND w.planned = 1`, visitorID, w.String())
	if err != nil {
		return out, fmt.Errorf("tasks: %w", err)
	}
	var list []weekRow
	for rows.Next() {
		var r weekRow
		if err := rows.Scan(&r.elderID, &r.name, &r.area, &r.class, &r.req.Home, &r.req.Call, &r.homeForCall,
			&r.done.Home, &r.done.Call, &r.late.Home, &r.late.Call, &r.last, &r.notes); err != nil {
			rows.Close()
			return out, err
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	codes := make([]string, len(list))
	ids := make([]int64, len(list))
	for i, r := range list {
		codes[i], ids[i] = r.area, r.elderID
	}
	names, err := s.areaNames(ctx, codes)
	if err != nil {
		return out, err
	}
	deadlines, err := s.deadlinesFor(ctx, list, w, now)
	if err != nil {
		return out, err
	}
	for _, r := range list {
		res := r.status(w, now)
		t := Task{
			ElderID: r.elderID, NameMasked: mask.Name(r.name), AreaCode: r.area, AreaName: names[r.area], Class: r.class,
			Required: r.req, Done: r.done, Late: r.late, Owed: res.Owed, HomeAsCall: res.HomeAsCall,
			Status: res.Status, StatusLabel: res.Status.Label(), Notes: splitNotes(r.notes), DueAt: w.End(),
			Overdue:   res.Status == schedule.StatusMissed || res.Status == schedule.StatusPartial,
			Deadlines: deadlines[r.elderID],
		}
		if t.Deadlines == nil {
			t.Deadlines = []TaskDeadline{}
		}
		for _, d := range t.Deadlines {
			if d.Status == schedule.DeadlineOverdue {
				t.Overdue = true
			}
		}
		if r.last != "" {
			at := store.MustTime(r.last)
			t.LastContactAt = &at
		}
		out.Items = append(out.Items, t)
	}
	sort.SliceStable(out.Items, func(i, j int) bool {
		a, b := out.Items[i], out.Items[j]
		switch {
		case a.Class != b.Class:
			return a.Class < b.Class
		case a.Overdue != b.Overdue:
			return a.Overdue
		case a.Owed.Home+a.Owed.Call != b.Owed.Home+b.Owed.Call:
			return a.Owed.Home+a.Owed.Call > b.Owed.Home+b.Owed.Call
		}
		return a.ElderID < b.ElderID
	})
	return out, nil
}

func splitNotes(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, noteSep)
}

// deadlinesFor finds the campaign deadlines running during week w that
// reach each elder, with where the elder stands at now.
func (s *Service) deadlinesFor(ctx context.Context, list []weekRow, w schedule.Week, now time.Time) (map[int64][]TaskDeadline, error) {
	out := map[int64][]TaskDeadline{}
	if len(list) == 0 {
		return out, nil
	}
	cs, err := s.deadlineCampaigns(ctx, store.FormatTime(w.Start()), store.FormatTime(w.End()))
	if err != nil || len(cs) == 0 {
		return out, err
	}
	for _, c := range cs {
		var reached []int64
		for _, r := range list {
			if strings.HasPrefix(r.area, c.prefix) && listHas(c.classes, r.class) {
				reached = append(reached, r.elderID)
			}
		}
		if len(reached) == 0 {
			continue
		}
		counts, err := s.campaignCounts(ctx, c.id, reached)
		if err != nil {
			return nil, err
		}
		for _, id := range reached {
			st := schedule.DeadlinePending
			switch {
			case counts[id] >= max(c.times, 1):
				st = schedule.DeadlineMet
			case !now.Before(c.due):
				st = schedule.DeadlineOverdue
			}
			out[id] = append(out[id], TaskDeadline{CampaignID: c.id, Name: c.name, DueAt: c.due, Status: st, StatusLabel: deadlineLabels[st]})
		}
	}
	return out, nil
}

type deadlineCampaign struct {
	id              int64
	name            string
	prefix, classes string
	times           int
	due             time.Time
}

// deadlineCampaigns lists the campaigns whose deadline window overlaps
// [from, to).
func (s *Service) deadlineCampaigns(ctx context.Context, from, to string) ([]deadlineCampaign, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, name, area_prefix, classes, deadline_times, deadline_due FROM campaigns
		WHERE deadline_due > ? AND deadline_from < ? ORDER BY deadline_due, id`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []deadlineCampaign
	for rows.Next() {
		var c deadlineCampaign
		var due string
		if err := rows.Scan(&c.id, &c.name, &c.prefix, &c.classes, &c.times, &due); err != nil {
			return nil, err
		}
		c.due = store.MustTime(due)
		out = append(out, c)
	}
	return out, rows.Err()
}

// campaignCounts returns the contacts counted toward a campaign for each of
// the given elders.
func (s *Service) campaignCounts(ctx context.Context, campaignID int64, elders []int64) (map[int64]int, error) {
	out := map[int64]int{}
	for len(elders) > 0 {
		batch := elders[:min(len(elders), 500)]
		elders = elders[len(batch):]
		args := []any{campaignID}
		for _, id := range batch {
			args = append(args, id)
		}
		rows, err := s.DB.Query(ctx, "SELECT elder_id, contacts FROM campaign_contacts WHERE campaign_id = ? AND elder_id IN (?"+
			strings.Repeat(", ?", len(batch)-1)+")", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ElderWeek is one elder's planned week with its verdict, for the elder's
// page and tests.
type ElderWeek struct {
	Week        schedule.Week        `json:"week"`
	ElderID     int64                `json:"elder_id"`
	Class       string               `json:"class"`
	VisitorID   int64                `json:"visitor_id"`
	Planned     bool                 `json:"planned"`
	Required    schedule.Requirement `json:"required"`
	Done        schedule.Requirement `json:"done"`
	Late        schedule.Requirement `json:"late"`
	Owed        schedule.Requirement `json:"owed"`
	Status      schedule.Status      `json:"status"`
	StatusLabel string               `json:"status_label"`
	Notes       []string             `json:"notes"`
}

// Week returns the week w of an elder in scope, drawing up the current
// week first if no one has yet; store.ErrNotFound when the elder is out
// of scope or the week has no row for it. A row that was never planned
// (a contact with an elder out of scope) is not_required.
func (s *Service) Week(ctx context.Context, sc areas.Scope, elderID int64, w schedule.Week) (ElderWeek, error) {
	if _, _, err := elderInScope(ctx, s.DB, sc, elderID); err != nil {
		return ElderWeek{}, err
	}
	if w == schedule.WeekOf(s.now()) {
		if err := s.ensure(ctx, w); err != nil {
			return ElderWeek{}, err
		}
	}
	var r weekRow
	var visitor int64
	var planned bool
	err := s.DB.QueryRow(ctx, `SELECT w.class, w.visitor_id, w.planned, w.req_home, w.req_call, w.home_for_call,
			w.done_home, w.done_call, w.late_home, w.late_call, COALESCE(n.text, '')
		FROM plan_weeks w LEFT JOIN plan_notes n ON n.id = w.notes_id WHERE w.week = ? AND w.elder_id = ?`, w.String(), elderID).
		Scan(&r.class, &visitor, &planned, &r.req.Home, &r.req.Call, &r.homeForCall, &r.done.Home, &r.done.Call, &r.late.Home, &r.late.Call, &r.notes)
	if err != nil {
		return ElderWeek{}, notFound(err)
	}
	if !planned {
		r.req = schedule.Requirement{}
	}
	res := r.status(w, s.now())
	return ElderWeek{Week: w, ElderID: elderID, Class: r.class, VisitorID: visitor, Planned: planned, Required: r.req,
		Done: r.done, Late: r.late, Owed: res.Owed, Status: res.Status, StatusLabel: res.Status.Label(), Notes: splitNotes(r.notes)}, nil
}
