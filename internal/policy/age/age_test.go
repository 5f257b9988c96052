package age

import (
	"testing"
	"time"
)

// DOMAIN §2: age in 周岁, birthdays and 29 February.
func TestYears(t *testing.T) {
	d := func(s string) Date {
		v, err := ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		birth, on string
		want      int
	}{
		{"1946-12-03", "2026-12-02", 79},
		{"1946-12-03", "2026-12-03", 80},
		{"1946-12-03", "2026-12-04", 80},
		{"1948-02-29", "2027-02-28", 78}, // common year: not yet
		{"1948-02-29", "2027-03-01", 79}, // common year: turns on 1 March
		{"1948-02-29", "2028-02-28", 79},
		{"1948-02-29", "2028-02-29", 80}, // leap year: on the day
		{"1960-01-01", "1959-12-31", 0},  // before birth
		{"1960-01-01", "2020-01-01", 60},
	}
	for _, c := range cases {
		if got := Years(d(c.birth), d(c.on)); got != c.want {
			t.Errorf("Years(%s, %s) = %d, want %d", c.birth, c.on, got, c.want)
		}
	}
}

func TestDateOfUsesShanghai(t *testing.T) {
	// 2026-12-06 16:30 UTC is already Monday 00:30 in Shanghai.
	got := DateOf(time.Date(2026, 12, 6, 16, 30, 0, 0, time.UTC))
	if got != (Date{2026, time.December, 7}) {
		t.Fatalf("DateOf = %v", got)
	}
}

func TestBirthdayOn(t *testing.T) {
	b := Date{1948, time.February, 29}
	if got := BirthdayOn(b, 2027); got != (Date{2027, time.March, 1}) {
		t.Fatalf("got %v", got)
	}
	if got := BirthdayOn(b, 2028); got != (Date{2028, time.February, 29}) {
		t.Fatalf("got %v", got)
	}
}
