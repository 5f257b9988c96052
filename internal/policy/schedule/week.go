// Package schedule holds the weekly visit requirement (R-FRQ-1..5, R-EMG-3):
// which contacts an elder is owed in an ISO week, which contacts count, and
// whether the week is met, plus event-driven deadlines and calendar months
// for the monthly visit rate (DOMAIN §6). Weeks and days are read in
// Asia/Shanghai whatever zone the times arrive in.
package schedule

import (
	"fmt"
	"strconv"
	"time"

	"tanfang/internal/policy/age"
)

// Week is an ISO 8601 week: Monday 00:00 to Sunday 24:00 in Shanghai. Year
// is the ISO week-year, which differs from the calendar year near 1 January
// (2024-12-30 is in 2025-W01).
type Week struct {
	Year int
	Num  int
}

// WeekOf returns the Shanghai week an instant falls in; a visit belongs to
// the week of its start time (DESIGN "Time").
func WeekOf(t time.Time) Week {
	y, n := t.In(age.Shanghai).ISOWeek()
	return Week{y, n}
}

// WeekOfDate returns the week holding a calendar day.
func WeekOfDate(d age.Date) Week {
	y, n := utc(d).ISOWeek()
	return Week{y, n}
}

// ParseWeek reads the ISO form "2026-W49".
func ParseWeek(s string) (Week, error) {
	if len(s) != 8 || s[4] != '-' || s[5] != 'W' || !digits(s[:4]) || !digits(s[6:]) {
		return Week{}, badWeek(s)
	}
	y, _ := strconv.Atoi(s[:4])
	n, _ := strconv.Atoi(s[6:])
	if y < 1 || n < 1 {
		return Week{}, badWeek(s)
	}
	if last := weeksIn(y); n > last {
		return Week{}, fmt.Errorf("周次“%s”不存在：%d 年只有 %d 周", s, y, last)
	}
	return Week{y, n}, nil
}

func badWeek(s string) error {
	return fmt.Errorf("周次“%s”格式不对，应写成 2026-W49 这样的形式", s)
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// weeksIn is 52 or 53: 28 December is always in the year's last week.
func weeksIn(year int) int {
	_, n := time.Date(year, time.December, 28, 0, 0, 0, 0, time.UTC).ISOWeek()
	return n
}

func (w Week) String() string { return fmt.Sprintf("%04d-W%02d", w.Year, w.Num) }

// MarshalText writes the ISO form, so weeks travel in JSON and URLs as text.
func (w Week) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText reads the ISO form.
func (w *Week) UnmarshalText(b []byte) error {
	v, err := ParseWeek(string(b))
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// monday is the first day of the week. Week 1 is the week holding 4 January.
func (w Week) monday() age.Date {
	jan4 := time.Date(w.Year, time.January, 4, 0, 0, 0, 0, time.UTC)
	back := (int(jan4.Weekday()) + 6) % 7
	return dateOf(time.Date(w.Year, time.January, 4-back+7*(w.Num-1), 0, 0, 0, 0, time.UTC))
}

// Start is Monday 00:00 in Shanghai.
func (w Week) Start() time.Time {
	start, _ := w.bounds()
	return start
}

// End is the next Monday 00:00 in Shanghai; the week excludes it.
func (w Week) End() time.Time {
	_, end := w.bounds()
	return end
}

// bounds computes both ends at once; Count runs it for every elder-week.
func (w Week) bounds() (start, end time.Time) {
	m := w.monday()
	start = time.Date(m.Year, m.Month, m.Day, 0, 0, 0, 0, age.Shanghai)
	end = time.Date(m.Year, m.Month, m.Day+7, 0, 0, 0, 0, age.Shanghai)
	return start, end
}

// Contains reports whether an instant falls in the week.
func (w Week) Contains(t time.Time) bool {
	start, end := w.bounds()
	return !t.Before(start) && t.Before(end)
}

// Days lists Monday to Sunday.
func (w Week) Days() [7]age.Date {
	var ds [7]age.Date
	m := utc(w.monday())
	for i := range ds {
		ds[i] = dateOf(m.AddDate(0, 0, i))
	}
	return ds
}

// Next is the following week, across year ends.
func (w Week) Next() Week { return WeekOfDate(w.monday().AddDays(7)) }

// Prev is the preceding week, across year ends.
func (w Week) Prev() Week { return WeekOfDate(w.monday().AddDays(-7)) }

// Month is a calendar month in Shanghai, the period of the monthly visit
// rate (月探访率, DOMAIN §6).
type Month struct {
	Year  int
	Month time.Month
}

// MonthOf returns the Shanghai month an instant falls in.
func MonthOf(t time.Time) Month {
	y, m, _ := t.In(age.Shanghai).Date()
	return Month{y, m}
}

// ParseMonth reads "2026-11".
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return Month{}, fmt.Errorf("月份“%s”格式不对，应写成 2026-11 这样的形式", s)
	}
	return Month{t.Year(), t.Month()}, nil
}

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// MarshalText writes "2026-11".
func (m Month) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads "2026-11".
func (m *Month) UnmarshalText(b []byte) error {
	v, err := ParseMonth(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Start is the first day at 00:00 in Shanghai.
func (m Month) Start() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, age.Shanghai) }

// End is the first day of the next month at 00:00 in Shanghai, excluded.
func (m Month) End() time.Time { return time.Date(m.Year, m.Month+1, 1, 0, 0, 0, 0, age.Shanghai) }

// Contains reports whether an instant falls in the month.
func (m Month) Contains(t time.Time) bool {
	return !t.Before(m.Start()) && t.Before(m.End())
}

// Weeks lists the ISO weeks that overlap the month, including those it
// shares with the months either side.
func (m Month) Weeks() []Week {
	first := age.Date{Year: m.Year, Month: m.Month, Day: 1}
	last := dateOf(time.Date(m.Year, m.Month+1, 0, 0, 0, 0, 0, time.UTC))
	end := WeekOfDate(last)
	var ws []Week
	for w := WeekOfDate(first); ; w = w.Next() {
		ws = append(ws, w)
		if w == end {
			return ws
		}
	}
}

// utc and dateOf do day arithmetic in UTC, where every day has 24 hours.
func utc(d age.Date) time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

func dateOf(t time.Time) age.Date {
	y, m, d := t.Date()
	return age.Date{Year: y, Month: m, Day: d}
}
