// Package age computes ages in 周岁 (completed years) the way Chinese
// civil-affairs rules count them, in the Asia/Shanghai calendar.
package age

import (
	"time"
	_ "time/tzdata" // Asia/Shanghai must resolve on machines without zoneinfo.
)

// Shanghai is the zone every policy date is read in.
var Shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// Date is a calendar day with no time of day, so birth dates never shift
// with the zone they are read in.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the Shanghai calendar day of an instant.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Shanghai).Date()
	return Date{y, m, d}
}

// ParseDate reads YYYY-MM-DD and rejects days that do not exist.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, err
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

func (d Date) String() string {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// IsZero reports whether the date was never set.
func (d Date) IsZero() bool { return d.Year == 0 }

// Before reports whether d is an earlier day than o.
func (d Date) Before(o Date) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

// Start is midnight at the start of the day in Shanghai.
func (d Date) Start() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, Shanghai)
}

// AddDays moves the date by n calendar days.
func (d Date) AddDays(n int) Date {
	return DateOf(d.Start().AddDate(0, 0, n))
}

// Years returns the age in 周岁 on day `on` of someone born on `birth`:
// N is reached on the Nth birthday, and a 29 February birthday is reached on
// 1 March in common years (DOMAIN §2). Before birth it returns 0.
func Years(birth, on Date) int {
	if on.Before(birth) {
		return 0
	}
	years := on.Year - birth.Year
	bm, bd := birth.Month, birth.Day
	if bm == time.February && bd == 29 && !isLeap(on.Year) {
		bm, bd = time.March, 1
	}
	if on.Month < bm || (on.Month == bm && on.Day < bd) {
		years--
	}
	return years
}

// BirthdayOn returns the day in year y on which someone born on birth
// completes another year (1 March for 29 February in common years).
func BirthdayOn(birth Date, y int) Date {
	if birth.Month == time.February && birth.Day == 29 && !isLeap(y) {
		return Date{y, time.March, 1}
	}
	return Date{y, birth.Month, birth.Day}
}

func isLeap(y int) bool {
	return y%4 == 0 && (y%100 != 0 || y%400 == 0)
}
