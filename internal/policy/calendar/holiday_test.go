package calendar

import (
	"strings"
	"testing"
	"testing/fstest"
)

// DOMAIN §5: official days off and make-up working days (调休).
func TestOfficialIsOffDay(t *testing.T) {
	h := Official()
	cases := []struct {
		date       string
		off, known bool
	}{
		{"2026-01-01", true, true},   // 元旦
		{"2026-01-04", false, true},  // Sunday made a working day
		{"2026-01-05", false, true},  // ordinary Monday
		{"2026-01-10", true, true},   // ordinary Saturday
		{"2026-10-01", true, true},   // 国庆
		{"2022-12-31", true, true},   // named only in the 2023 file
		{"2020-01-19", false, true},  // Sunday worked before 春节 2020
		{"2027-01-01", false, false}, // Friday, year not loaded: a guess
		{"2027-01-02", true, false},  // Saturday, year not loaded
	}
	for _, c := range cases {
		off, known := h.IsOffDay(mustDate(t, c.date))
		if off != c.off || known != c.known {
			t.Errorf("IsOffDay(%s) = %v,%v want %v,%v", c.date, off, known, c.off, c.known)
		}
	}
	if ys := h.Years(); len(ys) != 7 || ys[0] != 2020 || ys[6] != 2026 {
		t.Errorf("Years = %v", ys)
	}
}

func TestWithAddsAndReplacesYear(t *testing.T) {
	y2027, err := ParseHolidayYear([]byte(`{"year":2027,"days":[
		{"name":"元旦","date":"2027-01-01","isOffDay":true},
		{"name":"春节","date":"2027-02-07","isOffDay":false}]}`))
	if err != nil {
		t.Fatal(err)
	}
	base := Official()
	h := base.With(y2027)
	if off, known := h.IsOffDay(mustDate(t, "2027-02-07")); off || !known {
		t.Errorf("2027-02-07 (Sunday worked) = %v,%v", off, known)
	}
	if off, known := h.IsOffDay(mustDate(t, "2027-01-01")); !off || !known {
		t.Errorf("2027-01-01 = %v,%v", off, known)
	}
	if _, known := base.IsOffDay(mustDate(t, "2027-01-01")); known {
		t.Error("With changed the original")
	}
	// Replacing 2026 with an empty arrangement drops its named days.
	h = h.With(HolidayYear{Year: 2026})
	if off, _ := h.IsOffDay(mustDate(t, "2026-10-01")); off {
		t.Error("replaced 2026 still has 国庆 off")
	}
}

func TestLaterYearWinsOnSharedDay(t *testing.T) {
	a := HolidayYear{Year: 2022, Days: []HolidayDay{{Name: "x", Date: mustDate(t, "2022-12-31"), Off: false}}}
	b := HolidayYear{Year: 2023, Days: []HolidayDay{{Name: "元旦", Date: mustDate(t, "2022-12-31"), Off: true}}}
	for _, h := range []Holidays{NewHolidays(a, b), NewHolidays(b, a)} {
		if off, _ := h.IsOffDay(mustDate(t, "2022-12-31")); !off {
			t.Error("the 2023 arrangement should win")
		}
	}
}

func TestParseHolidayYearErrors(t *testing.T) {
	cases := []struct{ json, want string }{
		{`{"year":2026,"days":[`, "JSON"},
		{`{"year":1800,"days":[]}`, "年份"},
		{`{"year":2026,"days":[{"name":"元旦","date":"2026-02-30","isOffDay":true}]}`, "第 1 条日期"},
		{`{"year":2026,"days":[{"name":"元旦","date":"2028-01-01","isOffDay":true}]}`, "不属于"},
		{`{"year":2026,"days":[{"name":"","date":"2026-01-01","isOffDay":true}]}`, "名称"},
		{`{"year":2026,"days":[{"name":"元旦","date":"2026-01-01"}]}`, "isOffDay"},
		{`{"year":2026,"days":[{"name":"元旦","date":"2026-01-01","isOffDay":true},{"name":"元旦","date":"2026-01-01","isOffDay":true}]}`, "重复"},
	}
	for _, c := range cases {
		_, err := ParseHolidayYear([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseHolidayYear(%s) = %v, want error containing %q", c.json, err, c.want)
		}
	}
}

func TestLoadHolidaysChecksFileName(t *testing.T) {
	fsys := fstest.MapFS{"d/2025.json": {Data: []byte(`{"year":2026,"days":[]}`)}}
	if _, err := loadHolidays(fsys, "d"); err == nil {
		t.Error("a 2026 arrangement in 2025.json was accepted")
	}
}
