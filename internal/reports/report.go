package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/plan"
	"tanfang/internal/policy/mask"
	"tanfang/internal/registry"
	"tanfang/internal/store"
	"tanfang/internal/visits"
)

// Report is an area's figures for a month or a quarter (R-OBJ-3, R-OVS-1,
// R-OVS-2). Elders and Pairing are as of AsOf (the snapshot); every other
// figure belongs to the period and is read from the plan's rollups, the
// registry's versions and the follow-ups, so a record that arrives late
// still counts in its own period.
type Report struct {
	Area        areas.Area `json:"area"`
	Period      string     `json:"period"`
	Label       string     `json:"label"`
	From        string     `json:"from"`
	To          string     `json:"to"`
	GeneratedAt time.Time  `json:"generated_at"`
	AsOf        time.Time  `json:"as_of"`
	// Closed is set once the period is closed for the area: the report is
	// then the one frozen at the close, and Corrections list every figure
	// found different since.
	Closed      *Closed      `json:"closed,omitempty"`
	Corrections []Correction `json:"corrections"`

	Elders     Elders          `json:"elders"`
	Pairing    Coverage        `json:"pairing"`
	Compliance plan.Compliance `json:"compliance"`
	// Months has each calendar month's monthly visit rate.
	Months    []MonthFigures `json:"months"`
	Changes   Changes        `json:"changes"`
	Problems  Problems       `json:"problems"`
	Referrals []Count        `json:"referrals"`
	Children  []ChildReport  `json:"children"`
}

// Closed says who closed a period and when.
type Closed struct {
	At time.Time `json:"at"`
	By string    `json:"by"`
}

// Changes are the registry's changes in the period (按月更新): new files,
// files that left (death, moving out, transfer out), transfers in, other
// status changes, edits and class changes.
type Changes struct {
	New            int            `json:"new"`
	Deceased       int            `json:"deceased"`
	MovedOut       int            `json:"moved_out"`
	TransferredOut int            `json:"transferred_out"`
	TransferredIn  int            `json:"transferred_in"`
	StatusChanged  int            `json:"status_changed"`
	Updated        int            `json:"updated"`
	ClassChanged   int            `json:"class_changed"`
	ClassMoves     []ClassMove    `json:"class_moves"`
	Items          []ChangeItem   `json:"items"`
	ByStatus       map[string]int `json:"by_status"`
}

// Left is how many files left the area's registry in the period.
func (c Changes) Left() int { return c.Deceased + c.MovedOut + c.TransferredOut }

// ClassMove counts elders whose class went from one class to another.
type ClassMove struct {
	From string `json:"from"`
	To   string `json:"to"`
	N    int    `json:"n"`
}

// ChangeItem is one change of the registry, the name masked.
type ChangeItem struct {
	At         time.Time `json:"at"`
	ElderID    int64     `json:"elder_id"`
	NameMasked string    `json:"name_masked"`
	Kind       string    `json:"kind"`
	KindLabel  string    `json:"kind_label"`
	AreaCode   string    `json:"area_code"`
	Detail     string    `json:"detail"`
}

// Problems are the follow-ups opened (problems found), resolved and
// verified by a return visit in the period, and the emergencies raised and
// closed in it; Open and Overdue are as of the generation.
type Problems struct {
	Found             int     `json:"found"`
	FoundByKind       []Count `json:"found_by_kind"`
	FoundBySeverity   []Count `json:"found_by_severity"`
	Resolved          int     `json:"resolved"`
	Verified          int     `json:"verified"`
	EmergenciesRaised int     `json:"emergencies_raised"`
	EmergenciesClosed int     `json:"emergencies_closed"`
	Open              int     `json:"open"`
	Overdue           int     `json:"overdue"`
}

// ChildReport is a child area's line of a report.
type ChildReport struct {
	Area       areas.Area   `json:"area"`
	Files      int          `json:"files"`
	InScope    int          `json:"in_scope"`
	Compliance plan.Figures `json:"compliance"`
	// Monthly sums the period's months: elder-months in scope and contacted.
	Monthly  plan.Figures `json:"monthly"`
	Found    int          `json:"found"`
	Resolved int          `json:"resolved"`
}

// periodArg checks a period string for an area report: known and begun.
func (s *Service) periodArg(raw string) (Period, error) {
	p, err := ParsePeriod(raw)
	if err != nil {
		return p, &FieldError{"period", err.Error()}
	}
	if !p.Start().Before(s.now()) {
		return p, &FieldError{"period", fmt.Sprintf("%s尚未开始，无法生成报表", p.Label())}
	}
	return p, nil
}

// Report returns an area's report for a period: the frozen one with its
// corrections when the period is closed for the area, else generated now.
func (s *Service) Report(ctx context.Context, sc areas.Scope, areaCode, period string) (Report, error) {
	a, err := s.area(ctx, sc, areaCode)
	if err != nil {
		return Report{}, err
	}
	p, err := s.periodArg(period)
	if err != nil {
		return Report{}, err
	}
	frozen, ok, err := s.closed(ctx, a.Code, p)
	if err != nil || !ok {
		if err == nil {
			return s.generate(ctx, a, p)
		}
		return Report{}, err
	}
	live, err := s.generate(ctx, a, p)
	if err != nil {
		return Report{}, err
	}
	if _, err := s.reconcile(ctx, a.Code, p, frozen, live); err != nil {
		return Report{}, err
	}
	frozen.Corrections, err = s.corrections(ctx, a.Code, p)
	return frozen, err
}

// closed loads the report frozen at the close of a period, if any.
func (s *Service) closed(ctx context.Context, code string, p Period) (Report, bool, error) {
	var body string
	err := s.DB.QueryRow(ctx, "SELECT body FROM report_closes WHERE area_code = ? AND period = ?", code, p.String()).Scan(&body)
	if isNoRows(err) {
		return Report{}, false, nil
	}
	if err != nil {
		return Report{}, false, fmt.Errorf("read close: %w", err)
	}
	var r Report
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return Report{}, false, fmt.Errorf("read close of %s %s: %w", code, p, err)
	}
	return r, true, nil
}

// generate computes a report now.
func (s *Service) generate(ctx context.Context, a areas.Area, p Period) (Report, error) {
	now := s.now()
	from, to := p.Days()
	r := Report{Area: a, Period: p.String(), Label: p.Label(), From: from.String(), To: to.String(),
		GeneratedAt: now, Corrections: []Correction{}, Children: []ChildReport{}}
	at, err := s.ensureFresh(ctx)
	if err != nil {
		return r, err
	}
	r.AsOf = at
	kids, err := s.children(ctx, a)
	if err != nil {
		return r, err
	}
	codes := []string{a.Code}
	for _, k := range kids {
		codes = append(codes, k.Code)
	}
	counts, err := s.readCounts(ctx, codes)
	if err != nil {
		return r, err
	}
	r.Elders = counts[a.Code]
	cur := currentWeek(now)
	weeks, err := s.readWeeks(ctx, []string{cur}, []string{a.Code})
	if err != nil {
		return r, err
	}
	r.Pairing = coverage(weeks[cur][a.Code])

	// plan.Compliance counts index ranges of the rollup, one per week,
	// child, class and progress: no row is read and nothing sorted.
	r.Compliance, err = s.Plan.Compliance(ctx, areas.ScopeOf(a), a.Code, plan.Period{Weeks: p.Weeks()}, a.Level != areas.Village)
	if err != nil {
		return r, fmt.Errorf("compliance: %w", err)
	}
	r.Compliance.Period = p.String()
	months, byChildMonth, err := s.monthsLive(ctx, a, kids, p)
	if err != nil {
		return r, err
	}
	r.Months = months
	if r.Changes, err = s.changes(ctx, a, p); err != nil {
		return r, err
	}
	byChildProblems, err := s.problems(ctx, a, kids, p, &r)
	if err != nil {
		return r, err
	}
	open, err := s.openFollowups(ctx, a, nil, now)
	if err != nil {
		return r, err
	}
	r.Problems.Open, r.Problems.Overdue = open.total.Open, open.total.Overdue
	compByChild := map[string]plan.Figures{}
	for _, c := range r.Compliance.Children {
		compByChild[c.AreaCode] = c.Figures
	}
	for _, k := range kids {
		m := byChildMonth[k.Code]
		pr := byChildProblems[k.Code]
		r.Children = append(r.Children, ChildReport{Area: k, Files: counts[k.Code].Files, InScope: counts[k.Code].InScope,
			Compliance: compByChild[k.Code], Monthly: plan.Figures{InScope: m.InScope, Met: m.Contacted, Rate: rate(m.Contacted, m.InScope)},
			Found: pr.found, Resolved: pr.resolved})
	}
	return r, nil
}

// monthsLive reads each month of the period from plan_months, for the area
// and summed over the period for each child, with the conditions of
// plan.Compliance's monthly visit rate (TestReports holds them equal).
func (s *Service) monthsLive(ctx context.Context, a areas.Area, kids []areas.Area, p Period) ([]MonthFigures, map[string]monthSums, error) {
	lo, hi := areas.ScopeOf(a).Range()
	childOf := childIndex(kids)
	byChild := map[string]monthSums{}
	var out []MonthFigures
	for _, m := range p.Months() {
		byClass := map[string]monthSums{}
		if m.Start().Before(s.now()) {
			err := s.scanMonth(ctx, m, lo, hi, func(area, class string, x monthSums) {
				t := byClass[class]
				t.add(x)
				byClass[class] = t
				if c := childOf(area); c != "" {
					t := byChild[c]
					t.add(x)
					byChild[c] = t
				}
			})
			if err != nil {
				return nil, nil, err
			}
		}
		out = append(out, monthFigures(m, byClass))
	}
	return out, byChild, nil
}

// childIndex maps an area code to the child of kids holding it ("" for
// none); children share a level, so the first digits say which.
func childIndex(kids []areas.Area) func(code string) string {
	byPrefix, digits := map[string]string{}, 0
	for _, k := range kids {
		p := areas.PrefixOf(k.Code, k.Level)
		byPrefix[p], digits = k.Code, len(p)
	}
	return func(code string) string {
		if digits == 0 || len(code) < digits {
			return ""
		}
		return byPrefix[code[:digits]]
	}
}

var changeKinds = map[string]string{
	"created": "新建档案", "updated": "修改", "status": "状态变更", "transferred_in": "转入", "transferred_out": "转出",
	"deceased": "去世", "moved_out": "迁出",
}

// changes reads the registry's versions of the period for the area. A
// transfer inside the area is neither in nor out.
func (s *Service) changes(ctx context.Context, a areas.Area, p Period) (Changes, error) {
	sc := areas.ScopeOf(a)
	lo, hi := sc.Range()
	start, end := store.FormatTime(p.Start()), store.FormatTime(p.End())
	out := Changes{ClassMoves: []ClassMove{}, Items: []ChangeItem{}, ByStatus: map[string]int{}}
	rows, err := s.DB.Query(ctx, `SELECT v.elder_id, e.name, v.kind, v.at, v.area_code, v.from_area_code, v.changes
		FROM elder_versions v JOIN elders e ON e.id = v.elder_id
		WHERE v.at >= ? AND v.at < ? AND ((v.area_code >= ? AND v.area_code < ?) OR (v.from_area_code >= ? AND v.from_area_code < ?))
		ORDER BY v.at, v.id`, start, end, lo, hi, lo, hi)
	if err != nil {
		return out, fmt.Errorf("registry changes: %w", err)
	}
	for rows.Next() {
		var it ChangeItem
		var name, at, from, changes string
		if err := rows.Scan(&it.ElderID, &name, &it.Kind, &at, &it.AreaCode, &from, &changes); err != nil {
			rows.Close()
			return out, fmt.Errorf("registry changes: %w", err)
		}
		it.At, it.NameMasked = store.MustTime(at), mask.Name(name)
		var ch map[string]registry.Change
		if err := json.Unmarshal([]byte(changes), &ch); err != nil {
			rows.Close()
			return out, fmt.Errorf("registry changes: %w", err)
		}
		switch it.Kind {
		case "created":
			out.New++
		case "updated":
			out.Updated++
			fields := make([]string, 0, len(ch))
			for f := range ch {
				fields = append(fields, f)
			}
			sort.Strings(fields)
			it.Detail = fmt.Sprint(len(fields)) + "项：" + joinFields(fields)
		case "status":
			st := ch["status"].New
			it.Detail = registry.Label(registry.Statuses, st)
			switch st {
			case registry.StatusDeceased:
				out.Deceased++
				it.Kind = "deceased"
			case registry.StatusMovedOut:
				out.MovedOut++
				it.Kind = "moved_out"
			default:
				out.StatusChanged++
				out.ByStatus[st]++
			}
		case "transferred":
			in, wasIn := sc.Contains(it.AreaCode), sc.Contains(from)
			switch {
			case in && !wasIn:
				out.TransferredIn++
				it.Kind = "transferred_in"
			case wasIn && !in:
				out.TransferredOut++
				it.Kind = "transferred_out"
			default:
				it.Kind = "updated"
			}
			it.Detail = from + " → " + it.AreaCode
		}
		it.KindLabel = changeKinds[it.Kind]
		out.Items = append(out.Items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("registry changes: %w", err)
	}
	crows, err := s.DB.Query(ctx, `SELECT h.old_class, h.new_class, COUNT(*) FROM class_history h JOIN elders e ON e.id = h.elder_id
		WHERE h.at >= ? AND h.at < ? AND e.area_code >= ? AND e.area_code < ? AND h.old_class <> '' AND h.old_class <> h.new_class
		GROUP BY h.old_class, h.new_class ORDER BY h.old_class, h.new_class`, start, end, lo, hi)
	if err != nil {
		return out, fmt.Errorf("class changes: %w", err)
	}
	defer crows.Close()
	for crows.Next() {
		var m ClassMove
		if err := crows.Scan(&m.From, &m.To, &m.N); err != nil {
			return out, fmt.Errorf("class changes: %w", err)
		}
		out.ClassChanged += m.N
		out.ClassMoves = append(out.ClassMoves, m)
	}
	return out, crows.Err()
}

func joinFields(fs []string) string {
	out := ""
	for i, f := range fs {
		if i > 0 {
			out += "、"
		}
		out += f
	}
	return out
}

type problemCounts struct{ found, resolved int }

// problems counts the follow-ups and emergencies of the period, in total
// and by child.
func (s *Service) problems(ctx context.Context, a areas.Area, kids []areas.Area, p Period, r *Report) (map[string]problemCounts, error) {
	lo, hi := areas.ScopeOf(a).Range()
	start, end := store.FormatTime(p.Start()), store.FormatTime(p.End())
	in := func(t string) bool { return t >= start && t < end }
	childOf := childIndex(kids)
	byChild := map[string]problemCounts{}
	kinds, sevs, refs := map[string]int{}, map[string]int{}, map[string]int{}
	rows, err := s.DB.Query(ctx, `SELECT area_code, kind, severity, referred_type, created_at, COALESCE(resolved_at, ''), COALESCE(verified_at, '')
		FROM followups WHERE area_code >= ? AND area_code < ?
		AND ((created_at >= ? AND created_at < ?) OR (resolved_at >= ? AND resolved_at < ?) OR (verified_at >= ? AND verified_at < ?))`,
		lo, hi, start, end, start, end, start, end)
	if err != nil {
		return nil, fmt.Errorf("problems: %w", err)
	}
	for rows.Next() {
		var code, kind, sev, ref, created, resolved, verified string
		if err := rows.Scan(&code, &kind, &sev, &ref, &created, &resolved, &verified); err != nil {
			rows.Close()
			return nil, fmt.Errorf("problems: %w", err)
		}
		c := childOf(code)
		pc := byChild[c]
		if in(created) {
			r.Problems.Found++
			kinds[kind]++
			sevs[sev]++
			pc.found++
		}
		if in(resolved) {
			r.Problems.Resolved++
			pc.resolved++
			if ref != "" {
				refs[ref]++
			}
		}
		if in(verified) {
			r.Problems.Verified++
		}
		byChild[c] = pc
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("problems: %w", err)
	}
	counts := func(m map[string]int, cs []visits.Choice) []Count {
		out := make([]Count, len(cs))
		for i, c := range cs {
			out[i] = Count{Code: c.Code, Label: c.Label, N: m[c.Code]}
		}
		return out
	}
	r.Problems.FoundByKind = counts(kinds, visits.Kinds)
	r.Problems.FoundBySeverity = counts(sevs, visits.Severities)
	r.Referrals = counts(refs, visits.ReferTypes)
	err = s.DB.QueryRow(ctx, `SELECT COALESCE(SUM(CASE WHEN raised_at >= ? AND raised_at < ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN closed_at >= ? AND closed_at < ? THEN 1 ELSE 0 END), 0)
		FROM emergencies WHERE area_code >= ? AND area_code < ?`, start, end, start, end, lo, hi).
		Scan(&r.Problems.EmergenciesRaised, &r.Problems.EmergenciesClosed)
	if err != nil {
		return nil, fmt.Errorf("emergencies: %w", err)
	}
	return byChild, nil
}

// ReferralsDone is how many referred follow-ups were resolved in the period.
func (r Report) ReferralsDone() int {
	n := 0
	for _, c := range r.Referrals {
		n += c.N
	}
	return n
}
