package reports

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/plan"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
	"tanfang/internal/visits"
)

// Service reads and writes the dashboards' snapshots and the reports on
// one database with an injected clock. Plan counts the reports' weekly
// compliance; Visits lists open emergencies.
type Service struct {
	DB     *store.DB
	Plan   *plan.Service
	Visits *visits.Service
	Now    func() time.Time
	// MaxAge is how old the current snapshot may be before a read rebuilds
	// it itself, in case the job is not running; 10 minutes when zero.
	MaxAge time.Duration

	mu sync.Mutex // one refresh at a time in this process
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// FieldError is bad input in one field, with a Chinese message.
type FieldError struct{ Field, Message string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// rate is n/of rounded as plan rounds it (0 when of is 0).
func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(of)*10000) / 10000
}

// Classes are the classes in the plan's scope, in order.
var Classes = []string{"A", "B", "C"}

// Elders are the active files of an area.
type Elders struct {
	Files int `json:"files"`
	// InScope have class A, B or C (the plan's elders).
	InScope int `json:"in_scope"`
	// ByClass has A, B, C, "none" (not in scope) and "" (not yet classified).
	ByClass    map[string]int `json:"by_class"`
	ByStatus   map[string]int `json:"by_status"`
	Incomplete int            `json:"incomplete"`
}

// Coverage is how many of the elders drawn up this week have a primary
// visitor (结对覆盖).
type Coverage struct {
	Planned int     `json:"planned"`
	Paired  int     `json:"paired"`
	Rate    float64 `json:"rate"`
}

// WeekFigures are one week's compliance as plan.Compliance counts it, plus
// the days with a completed contact.
type WeekFigures struct {
	Week string `json:"week"`
	plan.Figures
	Pending int                     `json:"pending"`
	Partial int                     `json:"partial"`
	Missed  int                     `json:"missed"`
	ByClass map[string]plan.Figures `json:"by_class"`
	Home    int                     `json:"home"`
	Calls   int                     `json:"calls"`
	Late    int                     `json:"late"`
}

// MonthFigures are the monthly visit rate's terms (DOMAIN §6) and the
// days with a completed contact in the month.
type MonthFigures struct {
	Month string `json:"month"`
	plan.MonthFigures
	ContactDays int `json:"contact_days"`
}

// Count is one labelled count of a breakdown.
type Count struct {
	Code    string `json:"code"`
	Label   string `json:"label"`
	N       int    `json:"n"`
	Overdue int    `json:"overdue,omitempty"`
}

// Followups are the open follow-ups (open, in progress, referred).
type Followups struct {
	Open       int     `json:"open"`
	Overdue    int     `json:"overdue"`
	ByKind     []Count `json:"by_kind"`
	BySeverity []Count `json:"by_severity"`
	ByAge      []Count `json:"by_age"`
}

// Emergencies are the open emergencies, oldest first.
type Emergencies struct {
	Open  int                `json:"open"`
	Items []visits.Emergency `json:"items"`
}

// Child is one row of the drill-down: a child area's figures.
type Child struct {
	Area        areas.Area   `json:"area"`
	Files       int          `json:"files"`
	InScope     int          `json:"in_scope"`
	Incomplete  int          `json:"incomplete"`
	Pairing     Coverage     `json:"pairing"`
	Week        plan.Figures `json:"week"`
	Month       plan.Figures `json:"month"`
	Followups   int          `json:"followups_open"`
	Overdue     int          `json:"followups_overdue"`
	Emergencies int          `json:"emergencies_open"`
}

// VisitorRow is a village's primary visitor and their week.
type VisitorRow struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Planned int    `json:"planned"`
	plan.Figures
	Home  int `json:"home"`
	Calls int `json:"calls"`
}

// TrendPoint is one week of the trend.
type TrendPoint struct {
	Week string `json:"week"`
	plan.Figures
	ByClass map[string]plan.Figures `json:"by_class"`
	Home    int                     `json:"home"`
	Calls   int                     `json:"calls"`
}

// Overview is the dashboard of one area (R-OVS-2, R-AREA-2).
type Overview struct {
	Area areas.Area `json:"area"`
	// UpdatedAt is when the snapshot was taken; follow-ups and emergencies
	// are read live.
	UpdatedAt        time.Time    `json:"updated_at"`
	Elders           Elders       `json:"elders"`
	Pairing          Coverage     `json:"pairing"`
	Compliance       WeekFigures  `json:"compliance"`
	Monthly          MonthFigures `json:"monthly"`
	MonthlyVisitRate float64      `json:"monthly_visit_rate"`
	Followups        Followups    `json:"followups"`
	Emergencies      Emergencies  `json:"emergencies"`
	Trend            []TrendPoint `json:"trend"`
	Children         []Child      `json:"children"`
	// Visitors are a village's primary visitors (empty above villages).
	Visitors []VisitorRow `json:"visitors"`
}

// area checks that code (the scope's own when empty) is in scope and at a
// level with figures.
func (s *Service) area(ctx context.Context, sc areas.Scope, code string) (areas.Area, error) {
	if code == "" {
		code = sc.Code
	}
	a, err := areas.Store{DB: s.DB}.GetIn(ctx, sc, code)
	if err != nil {
		return a, err
	}
	if a.Level == areas.Grid {
		return a, &FieldError{"area_code", "网格不单独统计，请选择所属村（居）或以上区划"}
	}
	return a, nil
}

// Overview returns an area's dashboard from the snapshot (rebuilt first if
// stale) and the live open follow-ups and emergencies.
func (s *Service) Overview(ctx context.Context, sc areas.Scope, areaCode string) (Overview, error) {
	a, err := s.area(ctx, sc, areaCode)
	if err != nil {
		return Overview{}, err
	}
	at, err := s.ensureFresh(ctx)
	if err != nil {
		return Overview{}, err
	}
	now := s.now()
	o := Overview{Area: a, UpdatedAt: at, Children: []Child{}, Visitors: []VisitorRow{}}
	kids, err := s.children(ctx, a)
	if err != nil {
		return o, err
	}
	codes := []string{a.Code}
	for _, k := range kids {
		codes = append(codes, k.Code)
	}
	counts, err := s.readCounts(ctx, codes)
	if err != nil {
		return o, err
	}
	cur := schedule.WeekOf(now)
	weeks, err := s.readWeeks(ctx, []string{cur.String()}, codes)
	if err != nil {
		return o, err
	}
	month := schedule.MonthOf(now)
	months, err := s.readMonths(ctx, month.String(), codes)
	if err != nil {
		return o, err
	}
	fu, err := s.openFollowups(ctx, a, kids, now)
	if err != nil {
		return o, err
	}
	o.Elders = counts[a.Code]
	o.Compliance = weekFigures(cur, weeks[cur.String()][a.Code], now)
	o.Pairing = coverage(weeks[cur.String()][a.Code])
	o.Monthly = monthFigures(month, months[a.Code])
	o.MonthlyVisitRate = o.Monthly.Rate
	o.Followups = fu.total
	for _, k := range kids {
		ws := weeks[cur.String()][k.Code]
		wf := weekFigures(cur, ws, now)
		mf := monthFigures(month, months[k.Code])
		e := counts[k.Code]
		f := fu.byChild[k.Code]
		o.Children = append(o.Children, Child{Area: k, Files: e.Files, InScope: e.InScope, Incomplete: e.Incomplete,
			Pairing: coverage(ws), Week: wf.Figures, Month: plan.Figures{InScope: mf.InScope, Met: mf.Contacted, Rate: mf.Rate},
			Followups: f.open, Overdue: f.overdue, Emergencies: f.emergencies})
	}
	o.Emergencies.Open = fu.emergencies
	list, err := s.Visits.Emergencies(ctx, areas.ScopeOf(a), true, 20)
	if err != nil {
		return o, err
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].RaisedAt.Before(list[j].RaisedAt) })
	o.Emergencies.Items = list
	if o.Trend, err = s.trend(ctx, a.Code, cur, now); err != nil {
		return o, err
	}
	if a.Level == areas.Village {
		if o.Visitors, err = s.visitorRows(ctx, a.Code, cur); err != nil {
			return o, err
		}
	}
	return o, nil
}

// children lists the child areas that have figures (grids have none).
func (s *Service) children(ctx context.Context, a areas.Area) ([]areas.Area, error) {
	if a.Level == areas.Village {
		return nil, nil
	}
	return areas.Store{DB: s.DB}.Children(ctx, a.Code, false)
}

// inList is "(?, ?, …)" for n values.
func inList(n int) string { return "(?" + strings.Repeat(", ?", n-1) + ")" }

func anys(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// readCounts reads the file counts of the given areas.
func (s *Service) readCounts(ctx context.Context, codes []string) (map[string]Elders, error) {
	out := map[string]Elders{}
	get := func(code string) Elders {
		e, ok := out[code]
		if !ok {
			e = Elders{ByClass: map[string]int{}, ByStatus: map[string]int{}}
		}
		return e
	}
	for _, c := range codes {
		out[c] = get(c)
	}
	rows, err := s.DB.Query(ctx, "SELECT area_code, dim, item, n FROM report_counts WHERE area_code IN "+inList(len(codes)), anys(codes)...)
	if err != nil {
		return nil, fmt.Errorf("read counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var code, dim, item string
		var n int
		if err := rows.Scan(&code, &dim, &item, &n); err != nil {
			return nil, fmt.Errorf("read counts: %w", err)
		}
		e := get(code)
		switch dim {
		case "files":
			e.Files = n
		case "class":
			e.ByClass[item] = n
			if item == "A" || item == "B" || item == "C" {
				e.InScope += n
			}
		case "status":
			e.ByStatus[item] = n
		case "incomplete":
			e.Incomplete = n
		}
		out[code] = e
	}
	return out, rows.Err()
}

// readWeeks reads week snapshots: week -> area -> class -> sums.
func (s *Service) readWeeks(ctx context.Context, weeks, codes []string) (map[string]map[string]map[string]weekSums, error) {
	rows, err := s.DB.Query(ctx, `SELECT week, area_code, class, planned, paired, in_scope, met, partial, home, calls, late
		FROM report_weeks WHERE week IN `+inList(len(weeks))+` AND area_code IN `+inList(len(codes)),
		append(anys(weeks), anys(codes)...)...)
	if err != nil {
		return nil, fmt.Errorf("read weeks: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]map[string]weekSums{}
	for rows.Next() {
		var week, code, class string
		var x weekSums
		if err := rows.Scan(&week, &code, &class, &x.Planned, &x.Paired, &x.InScope, &x.Met, &x.Partial, &x.Home, &x.Calls, &x.Late); err != nil {
			return nil, fmt.Errorf("read weeks: %w", err)
		}
		if out[week] == nil {
			out[week] = map[string]map[string]weekSums{}
		}
		if out[week][code] == nil {
			out[week][code] = map[string]weekSums{}
		}
		out[week][code][class] = x
	}
	return out, rows.Err()
}

// readMonths reads a month's snapshot: area -> class -> sums.
func (s *Service) readMonths(ctx context.Context, month string, codes []string) (map[string]map[string]monthSums, error) {
	rows, err := s.DB.Query(ctx, `SELECT area_code, class, in_scope, contacted, contact_days FROM report_months
		WHERE month = ? AND area_code IN `+inList(len(codes)), append([]any{month}, anys(codes)...)...)
	if err != nil {
		return nil, fmt.Errorf("read month: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]monthSums{}
	for rows.Next() {
		var code, class string
		var x monthSums
		if err := rows.Scan(&code, &class, &x.InScope, &x.Contacted, &x.ContactDays); err != nil {
			return nil, fmt.Errorf("read month: %w", err)
		}
		if out[code] == nil {
			out[code] = map[string]monthSums{}
		}
		out[code][class] = x
	}
	return out, rows.Err()
}

// weekFigures turns a week's sums by class into compliance figures, with
// pending, partial and missed as plan's tally splits them.
func weekFigures(w schedule.Week, byClass map[string]weekSums, now time.Time) WeekFigures {
	f := WeekFigures{Week: w.String(), ByClass: map[string]plan.Figures{}}
	for _, c := range Classes {
		f.ByClass[c] = plan.Figures{}
	}
	for class, x := range byClass {
		f.Home += x.Home
		f.Calls += x.Calls
		f.Late += x.Late
		if x.InScope == 0 {
			continue
		}
		f.InScope += x.InScope
		f.Met += x.Met
		bc := f.ByClass[class]
		bc.InScope += x.InScope
		bc.Met += x.Met
		bc.Rate = rate(bc.Met, bc.InScope)
		f.ByClass[class] = bc
		if now.Before(w.End()) {
			f.Pending += x.InScope - x.Met
		} else {
			f.Partial += x.Partial
			f.Missed += x.InScope - x.Met - x.Partial
		}
	}
	f.Rate = rate(f.Met, f.InScope)
	return f
}

func coverage(byClass map[string]weekSums) Coverage {
	var c Coverage
	for _, x := range byClass {
		c.Planned += x.Planned
		c.Paired += x.Paired
	}
	c.Rate = rate(c.Paired, c.Planned)
	return c
}

func monthFigures(m schedule.Month, byClass map[string]monthSums) MonthFigures {
	f := MonthFigures{Month: m.String(), MonthFigures: plan.MonthFigures{ByClass: map[string]plan.MonthFigures{}}}
	for class, x := range byClass {
		f.ContactDays += x.ContactDays
		if x.InScope == 0 {
			continue
		}
		f.InScope += x.InScope
		f.Contacted += x.Contacted
		f.ByClass[class] = plan.MonthFigures{InScope: x.InScope, Contacted: x.Contacted, Rate: rate(x.Contacted, x.InScope)}
	}
	f.Rate = rate(f.Contacted, f.InScope)
	return f
}

// trend reads the last TrendWeeks weeks up to cur, oldest first.
func (s *Service) trend(ctx context.Context, code string, cur schedule.Week, now time.Time) ([]TrendPoint, error) {
	ws := make([]schedule.Week, TrendWeeks)
	names := make([]string, TrendWeeks)
	w := cur
	for i := TrendWeeks - 1; i >= 0; i-- {
		ws[i], names[i] = w, w.String()
		w = w.Prev()
	}
	sums, err := s.readWeeks(ctx, names, []string{code})
	if err != nil {
		return nil, err
	}
	out := make([]TrendPoint, len(ws))
	for i, w := range ws {
		f := weekFigures(w, sums[w.String()][code], now)
		out[i] = TrendPoint{Week: f.Week, Figures: f.Figures, ByClass: f.ByClass, Home: f.Home, Calls: f.Calls}
	}
	return out, nil
}

// visitorRows reads a village's primary visitors for week w, the weakest
// first.
func (s *Service) visitorRows(ctx context.Context, village string, w schedule.Week) ([]VisitorRow, error) {
	rows, err := s.DB.Query(ctx, `SELECT r.visitor_id, COALESCE(v.name, ''), SUM(r.planned), SUM(r.in_scope), SUM(r.met), SUM(r.home), SUM(r.calls)
		FROM report_visitor_weeks r LEFT JOIN visitors v ON v.id = r.visitor_id
		WHERE r.week = ? AND r.area_code = ? GROUP BY r.visitor_id, v.name`, w.String(), village)
	if err != nil {
		return nil, fmt.Errorf("read visitors: %w", err)
	}
	defer rows.Close()
	out := []VisitorRow{}
	for rows.Next() {
		var v VisitorRow
		if err := rows.Scan(&v.ID, &v.Name, &v.Planned, &v.InScope, &v.Met, &v.Home, &v.Calls); err != nil {
			return nil, fmt.Errorf("read visitors: %w", err)
		}
		v.Rate = rate(v.Met, v.InScope)
		out = append(out, v)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Rate != out[j].Rate {
			return out[i].Rate < out[j].Rate
		}
		return out[i].ID < out[j].ID
	})
	return out, rows.Err()
}

// openCounts are an area's open follow-ups and emergencies.
type openCounts struct{ open, overdue, emergencies int }

type openFigures struct {
	total       Followups
	emergencies int
	byChild     map[string]openCounts
}

// ageBands are the age bands of open follow-ups, in days since opened.
var ageBands = []struct {
	code, label string
	upTo        int // days, inclusive; 0 for no bound
}{{"0-7", "7天内", 7}, {"8-30", "8至30天", 30}, {"31+", "30天以上", 0}}

// openFollowups counts the open follow-ups and emergencies of an area and
// of each child, live: a dashboard must not show an emergency minutes late.
// The database counts them by child, kind, severity, lateness and age
// band, from an index that holds every column read (followups_open).
func (s *Service) openFollowups(ctx context.Context, a areas.Area, kids []areas.Area, now time.Time) (openFigures, error) {
	lo, hi := areas.ScopeOf(a).Range()
	out := openFigures{byChild: map[string]openCounts{}}
	childOf := childIndex(kids)
	// Children share a level: the first digits of a code name its child.
	digits := 12
	if len(kids) > 0 {
		digits = len(areas.PrefixOf(kids[0].Code, kids[0].Level))
	}
	kind, sev, ages := map[string]*Count{}, map[string]*Count{}, map[string]*Count{}
	// Stored times are fixed-width UTC text, so they compare as text. A
	// follow-up is in band i when opened within upTo whole days.
	band := "CASE"
	args := []any{digits, store.FormatTime(now)}
	for i, b := range ageBands {
		if b.upTo > 0 {
			band += fmt.Sprintf(" WHEN created_at > ? THEN %d", i)
			args = append(args, store.FormatTime(now.Add(-time.Duration(b.upTo+1)*24*time.Hour)))
		}
	}
	band += fmt.Sprintf(" ELSE %d END", len(ageBands)-1)
	args = append(args, visits.StatusOpen, visits.StatusInProgress, visits.StatusReferred, lo, hi)
	rows, err := s.DB.Query(ctx, `SELECT substr(area_code, 1, ?), kind, severity, CASE WHEN due_at < ? THEN 1 ELSE 0 END, `+band+`, COUNT(*)
		FROM followups WHERE status IN (?, ?, ?) AND area_code >= ? AND area_code < ?
		GROUP BY 1, 2, 3, 4, 5`, args...)
	if err != nil {
		return out, fmt.Errorf("open follow-ups: %w", err)
	}
	for rows.Next() {
		var prefix, k, sv string
		var overdue, bi, n int
		if err := rows.Scan(&prefix, &k, &sv, &overdue, &bi, &n); err != nil {
			rows.Close()
			return out, fmt.Errorf("open follow-ups: %w", err)
		}
		for _, x := range []struct {
			m    map[string]*Count
			code string
		}{{kind, k}, {sev, sv}, {ages, ageBands[bi].code}} {
			if x.m[x.code] == nil {
				x.m[x.code] = &Count{Code: x.code}
			}
			x.m[x.code].N += n
			x.m[x.code].Overdue += n * overdue
		}
		out.total.Open += n
		out.total.Overdue += n * overdue
		if c := childOf(prefix); c != "" {
			oc := out.byChild[c]
			oc.open += n
			oc.overdue += n * overdue
			out.byChild[c] = oc
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("open follow-ups: %w", err)
	}
	ordered := func(m map[string]*Count, choices []visits.Choice) []Count {
		out := make([]Count, 0, len(choices))
		for _, ch := range choices {
			c := Count{Code: ch.Code, Label: ch.Label}
			if x := m[ch.Code]; x != nil {
				c.N, c.Overdue = x.N, x.Overdue
			}
			out = append(out, c)
		}
		return out
	}
	out.total.ByKind = ordered(kind, visits.Kinds)
	out.total.BySeverity = ordered(sev, visits.Severities)
	bands := make([]visits.Choice, len(ageBands))
	for i, b := range ageBands {
		bands[i] = visits.Choice{Code: b.code, Label: b.label}
	}
	out.total.ByAge = ordered(ages, bands)

	erows, err := s.DB.Query(ctx, `SELECT substr(area_code, 1, ?), COUNT(*) FROM emergencies
		WHERE status = ? AND area_code >= ? AND area_code < ? GROUP BY 1`, digits, visits.EmergencyOpen, lo, hi)
	if err != nil {
		return out, fmt.Errorf("open emergencies: %w", err)
	}
	defer erows.Close()
	for erows.Next() {
		var prefix string
		var n int
		if err := erows.Scan(&prefix, &n); err != nil {
			return out, fmt.Errorf("open emergencies: %w", err)
		}
		out.emergencies += n
		if c := childOf(prefix); c != "" {
			oc := out.byChild[c]
			oc.emergencies += n
			out.byChild[c] = oc
		}
	}
	return out, erows.Err()
}
