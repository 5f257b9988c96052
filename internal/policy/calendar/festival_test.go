package calendar

import (
	"strings"
	"testing"

	"tanfang/internal/policy/age"
)

func mustDate(t *testing.T, s string) age.Date {
	t.Helper()
	d, err := age.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// DOMAIN §5: festival days computed from the lunar calendar must match the
// published dates.
func TestFestivalDates(t *testing.T) {
	cases := []struct {
		year int
		key  string
		want string
	}{
		{2026, Chunjie, "2026-02-17"},
		{2027, Chunjie, "2027-02-06"},
		{2026, Zhongqiu, "2026-09-25"},
		{2027, Zhongqiu, "2027-09-15"},
		{2026, Chongyang, "2026-10-18"},
		{2027, Chongyang, "2027-10-08"},
		{2026, Qingming, "2026-04-05"},
		{2025, Qingming, "2025-04-04"},
		{2024, Qingming, "2024-04-04"},
		{2026, Chuxi, "2026-02-16"},
		{2025, Chuxi, "2025-01-28"}, // 腊月廿九: the twelfth month had 29 days
		{2026, Yuanxiao, "2026-03-03"},
		{2026, Duanwu, "2026-06-19"},
		{2025, Duanwu, "2025-05-31"},
		{2025, Zhongqiu, "2025-10-06"},
		{2023, Zhongqiu, "2023-09-29"}, // lunar year with a leap second month
	}
	for _, c := range cases {
		got := Festivals(c.year, []string{c.key})
		if len(got) != 1 {
			t.Fatalf("Festivals(%d, %s) = %v", c.year, c.key, got)
		}
		if got[0].Date != mustDate(t, c.want) || got[0].Key != c.key || got[0].Name != FestivalName(c.key) {
			t.Errorf("Festivals(%d, %s) = %+v, want %s", c.year, c.key, got[0], c.want)
		}
	}
}

// DOMAIN §5, R-FRQ-5: the default list, in date order, each once.
func TestFestivalsDefaultListOrdered(t *testing.T) {
	keys := append([]string{Chongyang}, DefaultFestivalKeys()...) // out of order and repeated
	got := Festivals(2027, keys)
	var names []string
	for i, f := range got {
		names = append(names, f.Name)
		if i > 0 && !got[i-1].Date.Before(f.Date) {
			t.Errorf("not in date order: %v then %v", got[i-1], f)
		}
		if f.Date.Year != 2027 {
			t.Errorf("%s falls in %d", f.Name, f.Date.Year)
		}
	}
	if s := strings.Join(names, ","); s != "春节,元宵,清明,端午,中秋,重阳" {
		t.Errorf("names = %s", s)
	}
}

func TestFestivalsUnknownAndOutOfRange(t *testing.T) {
	if got := Festivals(2026, []string{"qixi"}); len(got) != 0 {
		t.Errorf("unknown key gave %v", got)
	}
	if got := Festivals(1800, DefaultFestivalKeys()); got != nil {
		t.Errorf("1800 gave %v", got)
	}
	if err := ValidateFestivalKeys(AllFestivalKeys()); err != nil {
		t.Errorf("all keys rejected: %v", err)
	}
	err := ValidateFestivalKeys([]string{Chunjie, "qixi"})
	if err == nil || !strings.Contains(err.Error(), "qixi") {
		t.Errorf("ValidateFestivalKeys = %v, want an error naming qixi", err)
	}
}

// Every supported year must compute without the library panicking.
func TestFestivalsEverySupportedYear(t *testing.T) {
	for y := minYear; y <= maxYear; y++ {
		fs := Festivals(y, AllFestivalKeys())
		if len(fs) != len(festivalRules) {
			t.Fatalf("%d: %d festivals", y, len(fs))
		}
		for _, f := range fs {
			if f.Date.Year != y {
				t.Errorf("%d: %s on %s", y, f.Name, f.Date)
			}
		}
	}
}
