package plan

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
)

// Figures are elder-weeks in scope (owed at least one contact) and how
// many of them were met on time; Rate is Met/InScope (0 when none).
type Figures struct {
	InScope int     `json:"in_scope"`
	Met     int     `json:"met"`
	Rate    float64 `json:"rate"`
}

func (f *Figures) add(o Figures) { f.InScope += o.InScope; f.Met += o.Met }

func (f *Figures) finish() { f.Rate = rate(f.Met, f.InScope) }

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(of)*10000) / 10000
}

// MonthFigures are the monthly visit rate's terms (月探访率, DOMAIN §6):
// elders in scope in the month and those with at least one completed
// contact in it.
type MonthFigures struct {
	InScope   int                     `json:"in_scope"`
	Contacted int                     `json:"contacted"`
	Rate      float64                 `json:"rate"`
	ByClass   map[string]MonthFigures `json:"by_class,omitempty"`
}

// Compliance is how well an area's, or a visitor's, elders were visited in
// a week or a month. For a month, the elder-weeks are those of every ISO
// week overlapping the month.
type Compliance struct {
	AreaCode  string   `json:"area_code,omitempty"`
	AreaName  string   `json:"area_name,omitempty"`
	VisitorID int64    `json:"visitor_id,omitempty"`
	Period    string   `json:"period"`
	Weeks     []string `json:"weeks"`
	Figures
	// Of the elder-weeks not met: still running, over with some on-time
	// contact, over with none.
	Pending          int                `json:"pending"`
	Partial          int                `json:"partial"`
	Missed           int                `json:"missed"`
	ByClass          map[string]Figures `json:"by_class"`
	MonthlyVisitRate *float64           `json:"monthly_visit_rate,omitempty"`
	Monthly          *MonthFigures      `json:"monthly,omitempty"`
	Children         []Compliance       `json:"children,omitempty"`
}

// Period is a week, a calendar month or a run of weeks (a campaign's);
// exactly one is set.
type Period struct {
	Week  *schedule.Week
	Month *schedule.Month
	Weeks []schedule.Week
}

func (p Period) weeks() []schedule.Week {
	switch {
	case p.Month != nil:
		return p.Month.Weeks()
	case p.Week != nil:
		return []schedule.Week{*p.Week}
	}
	return p.Weeks
}

func (p Period) String() string {
	switch {
	case p.Month != nil:
		return p.Month.String()
	case p.Week != nil:
		return p.Week.String()
	case len(p.Weeks) > 0:
		return p.Weeks[0].String() + "/" + p.Weeks[len(p.Weeks)-1].String()
	}
	return ""
}

// childDigits is how many digits name a child of an area at each level.
var childDigits = map[string]int{areas.City: 6, areas.County: 9, areas.Town: 12, areas.Village: 15}

// tally accumulates plan_weeks groups.
type tally struct {
	c   Compliance
	now time.Time
}

func newTally(now time.Time) *tally {
	return &tally{c: Compliance{ByClass: map[string]Figures{"A": {}, "B": {}, "C": {}}}, now: now}
}

func (t *tally) add(w schedule.Week, class string, n, met, some int) {
	f := Figures{InScope: n, Met: met}
	t.c.Figures.add(f)
	bc := t.c.ByClass[class]
	bc.add(f)
	t.c.ByClass[class] = bc
	if t.now.Before(w.End()) {
		t.c.Pending += n - met
	} else {
		t.c.Partial += some
		t.c.Missed += n - met - some
	}
}

func (t *tally) finish() Compliance {
	t.c.finish()
	for k, f := range t.c.ByClass {
		f.finish()
		t.c.ByClass[k] = f
	}
	return t.c
}

// weeksIn is the SQL list of a period's weeks and its arguments.
func weeksIn(ws []schedule.Week) (string, []any, []string) {
	if len(ws) == 0 {
		return "(NULL)", nil, []string{}
	}
	args := make([]any, len(ws))
	names := make([]string, len(ws))
	for i, w := range ws {
		args[i], names[i] = w.String(), w.String()
	}
	return "(?" + strings.Repeat(", ?", len(ws)-1) + ")", args, names
}

// ensurePeriod draws up the current week when the period holds it.
func (s *Service) ensurePeriod(ctx context.Context, p Period) error {
	cur := schedule.WeekOf(s.now())
	for _, w := range p.weeks() {
		if w == cur {
			return s.ensure(ctx, w)
		}
	}
	return nil
}

// Compliance computes an area's figures in scope (the scope's own area when
// areaCode is empty) from the rollups alone, with one row per child area
// when children is set.
func (s *Service) Compliance(ctx context.Context, sc areas.Scope, areaCode string, p Period, children bool) (Compliance, error) {
	if areaCode == "" {
		areaCode = sc.Code
	}
	a, err := areas.Store{DB: s.DB}.GetIn(ctx, sc, areaCode)
	if err != nil {
		return Compliance{}, err
	}
	if err := s.ensurePeriod(ctx, p); err != nil {
		return Compliance{}, err
	}
	lo, hi := store.PrefixRange(areas.PrefixOf(a.Code, a.Level))
	digits := childDigits[a.Level]
	if !children {
		digits = 0
	}
	byChild, err := s.areaTallies(ctx, lo, hi, digits, p)
	if err != nil {
		return Compliance{}, err
	}
	out := byChild[""]
	out.AreaCode, out.AreaName = a.Code, a.Name
	if !children {
		return out, nil
	}
	kids, err := areas.Store{DB: s.DB}.Children(ctx, a.Code, false)
	if err != nil {
		return out, err
	}
	out.Children = []Compliance{}
	for _, k := range kids {
		c, ok := byChild[areas.PrefixOf(k.Code, k.Level)]
		if !ok {
			c = newTally(s.now()).finish()
			c.Period, c.Weeks = out.Period, out.Weeks
		}
		c.AreaCode, c.AreaName = k.Code, k.Name
		out.Children = append(out.Children, c)
	}
	return out, nil
}

// areaTallies sums the rollups of an area range, in total (key "") and,
// when digits > 0, by the first digits of the area code.
func (s *Service) areaTallies(ctx context.Context, lo, hi string, digits int, p Period) (map[string]Compliance, error) {
	ws := p.weeks()
	in, wargs, names := weeksIn(ws)
	// PostgreSQL refuses a constant in GROUP BY, so the total groups by
	// nothing extra.
	group, groupBy := "''", ""
	if digits > 0 {
		group = fmt.Sprintf("substr(area_code, 1, %d)", digits)
		groupBy = ", " + group
	}
	now := s.now()
	tallies := map[string]*tally{"": newTally(now)}
	get := func(k string) *tally {
		if tallies[k] == nil {
			tallies[k] = newTally(now)
		}
		return tallies[k]
	}
	rows, err := s.DB.Query(ctx, `SELECT week, class, `+group+`, COUNT(*), SUM(CASE WHEN progress = 2 THEN 1 ELSE 0 END),
			SUM(CASE WHEN progress = 1 THEN 1 ELSE 0 END)
		FROM plan_weeks WHERE week IN `+in+` AND area_code >= ? AND area_code < ? AND planned = 1 AND req_home + req_call > 0
		GROUP BY week, class`+groupBy, append(wargs, lo, hi)...)
	if err != nil {
		return nil, fmt.Errorf("compliance: %w", err)
	}
	for rows.Next() {
		var week, class, child string
		var n, met, some int
		if err := rows.Scan(&week, &class, &child, &n, &met, &some); err != nil {
			rows.Close()
			return nil, err
		}
		w, err := schedule.ParseWeek(week)
		if err != nil {
			rows.Close()
			return nil, err
		}
		get("").add(w, class, n, met, some)
		if digits > 0 {
			get(child).add(w, class, n, met, some)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := map[string]Compliance{}
	for k, t := range tallies {
		c := t.finish()
		c.Period, c.Weeks = p.String(), names
		out[k] = c
	}
	if p.Month == nil {
		return out, nil
	}
	months := map[string]*MonthFigures{}
	mrows, err := s.DB.Query(ctx, `SELECT class, `+group+`, COUNT(*), SUM(contacted) FROM plan_months
		WHERE month = ? AND area_code >= ? AND area_code < ? AND in_scope = 1 GROUP BY class`+groupBy, p.Month.String(), lo, hi)
	if err != nil {
		return nil, fmt.Errorf("monthly visit rate: %w", err)
	}
	for mrows.Next() {
		var class, child string
		var n, contacted int
		if err := mrows.Scan(&class, &child, &n, &contacted); err != nil {
			mrows.Close()
			return nil, err
		}
		addMonth(months, "", class, n, contacted)
		if digits > 0 {
			addMonth(months, child, class, n, contacted)
		}
	}
	mrows.Close()
	if err := mrows.Err(); err != nil {
		return nil, err
	}
	for k, c := range out {
		withMonth(&c, months[k])
		out[k] = c
	}
	for k, m := range months {
		if _, ok := out[k]; !ok {
			c := newTally(now).finish()
			c.Period, c.Weeks = p.String(), names
			withMonth(&c, m)
			out[k] = c
		}
	}
	return out, nil
}

func addMonth(months map[string]*MonthFigures, key, class string, n, contacted int) {
	m := months[key]
	if m == nil {
		m = &MonthFigures{ByClass: map[string]MonthFigures{}}
		months[key] = m
	}
	m.InScope += n
	m.Contacted += contacted
	bc := m.ByClass[class]
	bc.InScope += n
	bc.Contacted += contacted
	bc.Rate = rate(bc.Contacted, bc.InScope)
	m.ByClass[class] = bc
}

func withMonth(c *Compliance, m *MonthFigures) {
	if m == nil {
		m = &MonthFigures{ByClass: map[string]MonthFigures{}}
	}
	m.Rate = rate(m.Contacted, m.InScope)
	r := m.Rate
	c.Monthly, c.MonthlyVisitRate = m, &r
}

// VisitorCompliance computes the figures of the elder-weeks a visitor was
// responsible for. The caller checks that the visitor is in scope.
func (s *Service) VisitorCompliance(ctx context.Context, visitorID int64, p Period) (Compliance, error) {
	if err := s.ensurePeriod(ctx, p); err != nil {
		return Compliance{}, err
	}
	ws := p.weeks()
	in, wargs, names := weeksIn(ws)
	t := newTally(s.now())
	rows, err := s.DB.Query(ctx, `SELECT week, class, COUNT(*), SUM(CASE WHEN progress = 2 THEN 1 ELSE 0 END),
			SUM(CASE WHEN progress = 1 THEN 1 ELSE 0 END)
		FROM plan_weeks WHERE visitor_id = ? AND week IN `+in+` AND planned = 1 AND req_home + req_call > 0
		GROUP BY week, class`, append([]any{visitorID}, wargs...)...)
	if err != nil {
		return Compliance{}, fmt.Errorf("visitor compliance: %w", err)
	}
	for rows.Next() {
		var week, class string
		var n, met, some int
		if err := rows.Scan(&week, &class, &n, &met, &some); err != nil {
			rows.Close()
			return Compliance{}, err
		}
		w, err := schedule.ParseWeek(week)
		if err != nil {
			rows.Close()
			return Compliance{}, err
		}
		t.add(w, class, n, met, some)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Compliance{}, err
	}
	c := t.finish()
	c.VisitorID, c.Period, c.Weeks = visitorID, p.String(), names
	if p.Month == nil {
		return c, nil
	}
	months := map[string]*MonthFigures{}
	mrows, err := s.DB.Query(ctx, `SELECT class, COUNT(*), SUM(contacted) FROM plan_months
		WHERE month = ? AND in_scope = 1 AND elder_id IN (SELECT elder_id FROM plan_weeks WHERE visitor_id = ? AND week IN `+in+`)
		GROUP BY class`, append([]any{p.Month.String(), visitorID}, wargs...)...)
	if err != nil {
		return c, fmt.Errorf("visitor monthly visit rate: %w", err)
	}
	for mrows.Next() {
		var class string
		var n, contacted int
		if err := mrows.Scan(&class, &n, &contacted); err != nil {
			mrows.Close()
			return c, err
		}
		addMonth(months, "", class, n, contacted)
	}
	mrows.Close()
	if err := mrows.Err(); err != nil {
		return c, err
	}
	withMonth(&c, months[""])
	return c, nil
}
