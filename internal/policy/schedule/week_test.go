package schedule

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"tanfang/internal/policy/age"
)

func date(t *testing.T, s string) age.Date {
	t.Helper()
	d, err := age.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sh is a wall-clock time in Shanghai.
func sh(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, age.Shanghai)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// DESIGN "Time": ISO 8601 weeks, including week-year edges.
func TestWeekOfDate(t *testing.T) {
	cases := []struct{ day, want string }{
		{"2024-12-29", "2024-W52"},
		{"2024-12-30", "2025-W01"}, // Monday before New Year opens 2025's first week
		{"2026-01-01", "2026-W01"},
		{"2026-12-28", "2026-W53"}, // 2026 has 53 weeks
		{"2026-12-31", "2026-W53"},
		{"2027-01-01", "2026-W53"}, // 2027's first days still belong to 2026
		{"2027-01-03", "2026-W53"},
		{"2027-01-04", "2027-W01"},
		{"2021-01-03", "2020-W53"},
		{"2026-12-06", "2026-W49"},
	}
	for _, c := range cases {
		if got := WeekOfDate(date(t, c.day)).String(); got != c.want {
			t.Errorf("WeekOfDate(%s) = %s, want %s", c.day, got, c.want)
		}
	}
}

// DESIGN "Time": the week is Shanghai's, not UTC's. Sunday 23:59 and
// Monday 00:01 in Shanghai are the same UTC day but different weeks.
func TestWeekOfUsesShanghai(t *testing.T) {
	sun := sh(t, "2026-12-06 23:59")
	mon := sh(t, "2026-12-07 00:01")
	if sun.UTC().YearDay() != mon.UTC().YearDay() {
		t.Fatal("test premise: both fall on one UTC day")
	}
	if got := WeekOf(sun); got != (Week{2026, 49}) {
		t.Errorf("Sunday 23:59 in %v", got)
	}
	if got := WeekOf(mon.UTC()); got != (Week{2026, 50}) {
		t.Errorf("Monday 00:01 in %v", got)
	}
	w := Week{2026, 49}
	if !w.Contains(sun) || w.Contains(mon) || !w.Contains(w.Start()) || w.Contains(w.End()) {
		t.Error("Contains disagrees with Monday 00:00 to Sunday 24:00")
	}
}

func TestWeekBounds(t *testing.T) {
	w := Week{2026, 53}
	if got, want := w.Start(), sh(t, "2026-12-28 00:00"); !got.Equal(want) {
		t.Errorf("Start = %v, want %v", got, want)
	}
	if got, want := w.End(), sh(t, "2027-01-04 00:00"); !got.Equal(want) {
		t.Errorf("End = %v, want %v", got, want)
	}
	days := w.Days()
	if days[0] != date(t, "2026-12-28") || days[6] != date(t, "2027-01-03") {
		t.Errorf("Days = %v", days)
	}
	if w.Next() != (Week{2027, 1}) || (Week{2027, 1}).Prev() != w || (Week{2025, 1}).Prev() != (Week{2024, 52}) {
		t.Error("Next/Prev across the year end")
	}
}

// Every week of a decade: days map back to it, weeks tile time, and the
// text form round-trips.
func TestWeeksTile(t *testing.T) {
	w := WeekOfDate(date(t, "2020-01-01"))
	for range 52 * 11 {
		for _, d := range w.Days() {
			if WeekOfDate(d) != w {
				t.Fatalf("%s: day %s maps to %v", w, d, WeekOfDate(d))
			}
		}
		if n := w.Next(); !n.Start().Equal(w.End()) || n.Prev() != w {
			t.Fatalf("%s and %s do not meet", w, n)
		}
		if w.End().Sub(w.Start()) != 7*24*time.Hour {
			t.Fatalf("%s is not 7 days", w)
		}
		p, err := ParseWeek(w.String())
		if err != nil || p != w {
			t.Fatalf("ParseWeek(%s) = %v, %v", w, p, err)
		}
		w = w.Next()
	}
}

func TestParseWeekErrors(t *testing.T) {
	for _, s := range []string{"2026W49", "2026-w49", "2026-W4", "2026-W00", "abcd-W01", "2026-W-1", "2026-W+9", "+026-W01", ""} {
		if _, err := ParseWeek(s); err == nil || !strings.Contains(err.Error(), "周次") {
			t.Errorf("ParseWeek(%q) = %v, want a 周次 error", s, err)
		}
	}
	if _, err := ParseWeek("2025-W53"); err == nil || !strings.Contains(err.Error(), "52") {
		t.Errorf("2025-W53: %v, want 只有 52 周", err)
	}
	if _, err := ParseWeek("2026-W53"); err != nil {
		t.Errorf("2026-W53: %v", err)
	}
}

func TestWeekAndMonthJSON(t *testing.T) {
	type doc struct {
		W Week
		M Month
	}
	b, err := json.Marshal(doc{Week{2026, 9}, Month{2026, time.November}})
	if err != nil || string(b) != `{"W":"2026-W09","M":"2026-11"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil || d.W != (Week{2026, 9}) || d.M != (Month{2026, time.November}) {
		t.Fatalf("Unmarshal = %+v, %v", d, err)
	}
	if err := json.Unmarshal([]byte(`{"W":"2026-W99"}`), &d); err == nil {
		t.Error("2026-W99 accepted")
	}
}

// DOMAIN §6: the monthly visit rate is counted per Shanghai calendar month.
func TestMonth(t *testing.T) {
	m, err := ParseMonth("2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Start().Equal(sh(t, "2026-11-01 00:00")) || !m.End().Equal(sh(t, "2026-12-01 00:00")) {
		t.Errorf("bounds %v – %v", m.Start(), m.End())
	}
	if got := MonthOf(sh(t, "2026-12-01 00:30").UTC()); got != (Month{2026, time.December}) {
		t.Errorf("MonthOf = %v", got) // 30 November in UTC
	}
	if m.Contains(m.End()) || !m.Contains(m.Start()) {
		t.Error("Contains")
	}
	cases := []struct{ month, weeks string }{
		{"2026-11", "2026-W44 2026-W45 2026-W46 2026-W47 2026-W48 2026-W49"},
		{"2026-12", "2026-W49 2026-W50 2026-W51 2026-W52 2026-W53"},
		{"2027-01", "2026-W53 2027-W01 2027-W02 2027-W03 2027-W04"},
		{"2026-02", "2026-W05 2026-W06 2026-W07 2026-W08 2026-W09"},
	}
	for _, c := range cases {
		m, err := ParseMonth(c.month)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, w := range m.Weeks() {
			s = append(s, w.String())
		}
		if got := strings.Join(s, " "); got != c.weeks {
			t.Errorf("%s weeks = %s, want %s", c.month, got, c.weeks)
		}
	}
	for _, s := range []string{"2026-13", "2026-1", "202611", "2026-11-01"} {
		if _, err := ParseMonth(s); err == nil || !strings.Contains(err.Error(), "月份") {
			t.Errorf("ParseMonth(%q) = %v", s, err)
		}
	}
}
