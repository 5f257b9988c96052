package reports

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"tanfang/internal/policy/age"
	"tanfang/internal/policy/schedule"
)

// Period is what a report covers and what is closed: a calendar month
// (按月更新) or a quarter (按季调度, R-OBJ-3), in Shanghai.
type Period struct {
	Year int
	// Quarter is 1..4 for a quarter, 0 for a month.
	Quarter int
	Month   time.Month
}

// ParsePeriod reads "2026-11" or "2026-Q4".
func ParsePeriod(s string) (Period, error) {
	s = strings.TrimSpace(s)
	if y, q, ok := strings.Cut(s, "-Q"); ok {
		year, err1 := strconv.Atoi(y)
		n, err2 := strconv.Atoi(q)
		if err1 != nil || err2 != nil || len(y) != 4 || n < 1 || n > 4 {
			return Period{}, fmt.Errorf("季度“%s”格式不对，应写成 2026-Q4 这样的形式", s)
		}
		return Period{Year: year, Quarter: n}, nil
	}
	m, err := schedule.ParseMonth(s)
	if err != nil || len(s) != 7 {
		return Period{}, fmt.Errorf("期间“%s”格式不对，月份写成 2026-11，季度写成 2026-Q4", s)
	}
	return Period{Year: m.Year, Month: m.Month}, nil
}

// MonthPeriod is the period of one calendar month.
func MonthPeriod(m schedule.Month) Period { return Period{Year: m.Year, Month: m.Month} }

// IsQuarter tells a quarter from a month.
func (p Period) IsQuarter() bool { return p.Quarter != 0 }

func (p Period) String() string {
	if p.IsQuarter() {
		return fmt.Sprintf("%04d-Q%d", p.Year, p.Quarter)
	}
	return fmt.Sprintf("%04d-%02d", p.Year, int(p.Month))
}

var quarterNames = [...]string{"", "第一季度", "第二季度", "第三季度", "第四季度"}

// Label is the period's Chinese name: 2026年11月, 2026年第四季度.
func (p Period) Label() string {
	if p.IsQuarter() {
		return fmt.Sprintf("%d年%s", p.Year, quarterNames[p.Quarter])
	}
	return fmt.Sprintf("%d年%d月", p.Year, int(p.Month))
}

// Months lists the calendar months of the period.
func (p Period) Months() []schedule.Month {
	if !p.IsQuarter() {
		return []schedule.Month{{Year: p.Year, Month: p.Month}}
	}
	first := time.Month(3*p.Quarter - 2)
	return []schedule.Month{{Year: p.Year, Month: first}, {Year: p.Year, Month: first + 1}, {Year: p.Year, Month: first + 2}}
}

// Start is the first instant of the period in Shanghai.
func (p Period) Start() time.Time { return p.Months()[0].Start() }

// End is the first instant after the period.
func (p Period) End() time.Time {
	ms := p.Months()
	return ms[len(ms)-1].End()
}

// Weeks lists the ISO weeks overlapping the period, as the plan counts a
// month's compliance.
func (p Period) Weeks() []schedule.Week {
	first := schedule.WeekOf(p.Start())
	last := schedule.WeekOf(p.End().Add(-time.Second))
	var ws []schedule.Week
	for w := first; ; w = w.Next() {
		ws = append(ws, w)
		if w == last {
			return ws
		}
	}
}

// Days is the period's first and last day.
func (p Period) Days() (from, to age.Date) {
	return age.DateOf(p.Start()), age.DateOf(p.End().Add(-time.Second))
}
