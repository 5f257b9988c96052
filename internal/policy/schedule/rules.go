package schedule

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"tanfang/internal/policy/age"
	"tanfang/internal/policy/calendar"
)

// Requirement is a number of contacts in a week, by kind.
type Requirement struct {
	Home int `json:"home"` // 上门探访
	Call int `json:"call"` // phone or video call
}

// IsZero reports whether nothing is asked.
func (q Requirement) IsZero() bool { return q.Home == 0 && q.Call == 0 }

func (q Requirement) plus(o Requirement) Requirement {
	return Requirement{q.Home + o.Home, q.Call + o.Call}
}

// String reads like "上门2次、电话2次"; calls include video calls.
func (q Requirement) String() string {
	var parts []string
	if q.Home > 0 {
		parts = append(parts, fmt.Sprintf("上门%d次", q.Home))
	}
	if q.Call > 0 {
		parts = append(parts, fmt.Sprintf("电话%d次", q.Call))
	}
	if len(parts) == 0 {
		return "无"
	}
	return strings.Join(parts, "、")
}

// Rules is a county's weekly frequency configuration, stored as JSON.
type Rules struct {
	// PerClass is the ordinary weekly requirement of classes A, B and C.
	PerClass map[string]Requirement `json:"per_class"`
	// FestivalExtra is added, once, in a week holding a festival (R-FRQ-5).
	FestivalExtra map[string]Requirement `json:"festival_extra"`
	// FestivalKeys names the festivals that count (calendar keys).
	FestivalKeys []string `json:"festival_keys"`
}

// DefaultRules are the provincial minimums: A 2 home visits and 2 calls,
// B 1 and 1, C 1 call (R-FRQ-1..3); a festival week adds a home visit for
// A and B and a call for C (R-FRQ-5).
func DefaultRules() Rules {
	return Rules{
		PerClass: map[string]Requirement{
			"A": {Home: 2, Call: 2},
			"B": {Home: 1, Call: 1},
			"C": {Home: 0, Call: 1},
		},
		FestivalExtra: map[string]Requirement{
			"A": {Home: 1},
			"B": {Home: 1},
			"C": {Call: 1},
		},
		FestivalKeys: calendar.DefaultFestivalKeys(),
	}
}

// Validate checks a configuration before it is saved.
func (r Rules) Validate() error {
	for _, set := range []struct {
		what string
		m    map[string]Requirement
	}{{"每周探访频次", r.PerClass}, {"节日周加次", r.FestivalExtra}} {
		for _, class := range slices.Sorted(maps.Keys(set.m)) {
			q := set.m[class]
			if q.Home < 0 || q.Call < 0 {
				return fmt.Errorf("%s：%s类的次数不能为负数", set.what, class)
			}
		}
	}
	for class := range r.FestivalExtra {
		if _, ok := r.PerClass[class]; !ok {
			return fmt.Errorf("节日周加次：%s类没有每周探访频次", class)
		}
	}
	return calendar.ValidateFestivalKeys(r.FestivalKeys)
}

// FestivalsIn returns the configured festivals falling in w; the week may
// straddle two calendar years.
func (r Rules) FestivalsIn(w Week) []calendar.Festival {
	days := w.Days()
	var out []calendar.Festival
	for y := days[0].Year; y <= days[6].Year; y++ {
		for _, f := range calendar.Festivals(y, r.FestivalKeys) {
			if WeekOfDate(f.Date) == w {
				out = append(out, f)
			}
		}
	}
	return out
}

// Period is a run of days, both ends included, on which an elder is not to
// be visited: declined, away, in hospital, deceased. A zero From or To leaves
// that end open (a death has no end).
type Period struct {
	From, To age.Date
	Reason   string // shown to the visitor, e.g. "住院"
}

func (p Period) covers(d age.Date) bool {
	return (p.From.IsZero() || !d.Before(p.From)) && (p.To.IsZero() || !p.To.Before(d))
}

// Raise is a campaign's change to the requirement for a week: a weather
// warning, a festival drive, a disease season (R-FRQ-5, R-EMG-2, R-EMG-3).
type Raise struct {
	Name    string      // shown in notes, e.g. "寒潮橙色预警"
	Classes []string    // classes it reaches; empty means all
	Add     Requirement // extra contacts
	// HomeToCall turns every home visit into a call, for epidemics or
	// whenever home visits are impossible (R-EMG-3).
	HomeToCall bool
}

// Validate checks a campaign's raise before it is saved: a raise never
// lowers the requirement.
func (r Raise) Validate() error {
	if r.Name == "" {
		return errors.New("加密探访：缺少名称")
	}
	if r.Add.Home < 0 || r.Add.Call < 0 {
		return fmt.Errorf("加密探访“%s”：加的次数不能为负数", r.Name)
	}
	return nil
}

func (r Raise) reaches(class string) bool {
	return len(r.Classes) == 0 || slices.Contains(r.Classes, class)
}

// ElderWeek is what the requirement depends on for one elder in one week.
type ElderWeek struct {
	Class string
	// ConsentHome: the elder agreed beforehand to home visits (R-FRQ-4).
	ConsentHome bool
	// HomeForCall: the elder agreed that a home visit may stand in for a
	// call (R-FRQ-4). It changes what counts, not what is owed (Evaluate).
	HomeForCall bool
	Unavailable []Period
	Festivals   []calendar.Festival // from Rules.FestivalsIn
	Campaigns   []Raise
}

// Required returns the contacts owed in week w and Chinese notes explaining
// every change from the class's ordinary requirement. In order:
//
//  1. the class's requirement (no entry: nothing owed);
//  2. a festival week adds the class's festival extra once, however many
//     festivals fall in it;
//  3. campaigns reaching the class add their contacts;
//  4. a campaign switching home visits to calls, or the lack of consent to
//     home visits, turns each home visit into a call;
//  5. unavailable days scale the requirement in proportion to the days
//     left, rounding up: an elder reachable on some day of the week is owed
//     at least one contact of each kind still required, and one unreachable
//     all week is owed nothing;
//  6. since same-day contacts of one kind count once (Count), neither kind
//     can exceed the available days.
func Required(ew ElderWeek, w Week, r Rules) (Requirement, []string) {
	q, ok := r.PerClass[ew.Class]
	if !ok {
		return Requirement{}, []string{fmt.Sprintf("类别“%s”没有每周探访要求", ew.Class)}
	}
	var notes []string
	if len(ew.Festivals) > 0 {
		if extra := r.FestivalExtra[ew.Class]; !extra.IsZero() {
			q = q.plus(extra)
			notes = append(notes, fmt.Sprintf("节日周（%s）加%s", festivalNames(ew.Festivals), extra))
		}
	}
	for _, c := range ew.Campaigns {
		if c.reaches(ew.Class) && !c.Add.IsZero() {
			q = q.plus(c.Add)
			notes = append(notes, fmt.Sprintf("%s：加%s", c.Name, c.Add))
		}
	}
	for _, c := range ew.Campaigns {
		if c.reaches(ew.Class) && c.HomeToCall && q.Home > 0 {
			q = Requirement{Call: q.Call + q.Home}
			notes = append(notes, fmt.Sprintf("%s：暂停上门，上门改为电话", c.Name))
		}
	}
	if !ew.ConsentHome && q.Home > 0 {
		q = Requirement{Call: q.Call + q.Home}
		notes = append(notes, "未同意上门探访，上门改为电话")
	}

	avail, reasons := available(ew.Unavailable, w)
	switch {
	case avail == 0:
		return Requirement{}, append(notes, fmt.Sprintf("本周均不可探访%s，无需探访", reasons))
	case avail < 7:
		q = Requirement{ceilDiv(q.Home*avail, 7), ceilDiv(q.Call*avail, 7)}
		notes = append(notes, fmt.Sprintf("本周有%d天不可探访%s，按可探访的%d天折算为%s", 7-avail, reasons, avail, q))
	}
	if q.Home > avail || q.Call > avail {
		q = Requirement{min(q.Home, avail), min(q.Call, avail)}
		notes = append(notes, fmt.Sprintf("同一天同类联系只计一次，每类最多要求%d次", avail))
	}
	return q, notes
}

// available counts the week's days outside every period and names the
// reasons of the periods that took days away, as "（住院、外出）".
func available(ps []Period, w Week) (int, string) {
	if len(ps) == 0 {
		return 7, ""
	}
	n := 0
	var reasons []string
	for _, d := range w.Days() {
		free := true
		for _, p := range ps {
			if p.covers(d) {
				free = false
				if p.Reason != "" && !slices.Contains(reasons, p.Reason) {
					reasons = append(reasons, p.Reason)
				}
			}
		}
		if free {
			n++
		}
	}
	if len(reasons) == 0 {
		return n, ""
	}
	return n, "（" + strings.Join(reasons, "、") + "）"
}

func festivalNames(fs []calendar.Festival) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return strings.Join(names, "、")
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
