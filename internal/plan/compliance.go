package plan

import (
	"context"
	"fmt"
	"math"
	"sort"
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
	var kids []areas.Area
	if children {
		if kids, err = (areas.Store{DB: s.DB}).Children(ctx, a.Code, false); err != nil {
			return Compliance{}, err
		}
	}
	byChild, err := s.areaTallies(ctx, areas.PrefixOf(a.Code, a.Level), kids, p)
	if err != nil {
		return Compliance{}, err
	}
	out := byChild[""]
	out.AreaCode, out.AreaName = a.Code, a.Name
	if !children {
		return out, nil
	}
	out.Children = []Compliance{}
	for _, k := range kids {
		c := byChild[k.Code]
		c.AreaCode, c.AreaName = k.Code, k.Name
		out.Children = append(out.Children, c)
	}
	return out, nil
}

// segment is a range of area codes counted toward the total and, when
// child is set, toward that child.
type segment struct{ lo, hi, child string }

// segments cuts the range of prefix into the children's ranges and the
// gaps between them (elders filed directly at the area itself).
func segments(prefix string, kids []areas.Area) []segment {
	lo, hi := store.PrefixRange(prefix)
	var ks []segment
	for _, k := range kids {
		klo, khi := store.PrefixRange(areas.PrefixOf(k.Code, k.Level))
		ks = append(ks, segment{klo, khi, k.Code})
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].lo < ks[j].lo })
	var out []segment
	at := lo
	for _, k := range ks {
		if k.lo < at { // nested or overlapping: already covered
			continue
		}
		if at < k.lo {
			out = append(out, segment{at, k.lo, ""})
		}
		out = append(out, k)
		at = k.hi
	}
	if at < hi {
		out = append(out, segment{at, hi, ""})
	}
	return out
}

var classes = []string{"A", "B", "C"}

// areaTallies sums the rollups under prefix, in total (key "") and by child
// area code. Every figure is the size of one index range (see the
// plan_weeks_area index), so no row is read and nothing is sorted.
func (s *Service) areaTallies(ctx context.Context, prefix string, kids []areas.Area, p Period) (map[string]Compliance, error) {
	now := s.now()
	segs := segments(prefix, kids)
	tallies := map[string]*tally{"": newTally(now)}
	for _, k := range kids {
		tallies[k.Code] = newTally(now)
	}
	count := func(q string, args ...any) (int, error) {
		var n int
		err := s.DB.QueryRow(ctx, q, args...).Scan(&n)
		return n, err
	}
	const weekCount = `SELECT COUNT(*) FROM plan_weeks
		WHERE week = ? AND in_scope = 1 AND class = ? AND progress = ? AND area_code >= ? AND area_code < ?`
	for _, w := range p.weeks() {
		for _, seg := range segs {
			for _, class := range classes {
				for progress := range 3 {
					n, err := count(weekCount, w.String(), class, progress, seg.lo, seg.hi)
					if err != nil {
						return nil, fmt.Errorf("compliance: %w", err)
					}
					if n == 0 {
						continue
					}
					met, some := 0, 0
					switch progress {
					case 2:
						met = n
					case 1:
						some = n
					}
					tallies[""].add(w, class, n, met, some)
					if seg.child != "" {
						tallies[seg.child].add(w, class, n, met, some)
					}
				}
			}
		}
	}
	_, _, names := weeksIn(p.weeks())
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
	const monthCount = `SELECT COUNT(*) FROM plan_months
		WHERE month = ? AND in_scope = 1 AND class = ? AND contacted = ? AND area_code >= ? AND area_code < ?`
	for _, seg := range segs {
		for _, class := range classes {
			for contacted := range 2 {
				n, err := count(monthCount, p.Month.String(), class, contacted, seg.lo, seg.hi)
				if err != nil {
					return nil, fmt.Errorf("monthly visit rate: %w", err)
				}
				addMonth(months, "", class, n, n*contacted)
				if seg.child != "" {
					addMonth(months, seg.child, class, n, n*contacted)
				}
			}
		}
	}
	for k, c := range out {
		withMonth(&c, months[k])
		out[k] = c
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
		FROM plan_weeks WHERE visitor_id = ? AND week IN `+in+` AND in_scope = 1
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
