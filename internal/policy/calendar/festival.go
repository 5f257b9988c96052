// Package calendar knows the days that change visiting: traditional festivals,
// computed from the lunar calendar (DOMAIN §5, R-FRQ-5), and the official
// public holidays and make-up working days published each year.
package calendar

import (
	"fmt"
	"sort"
	"time"

	lunar "github.com/6tail/lunar-go/calendar"

	"tanfang/internal/policy/age"
)

// Festival keys. They are stored in county configuration, so they never
// change spelling.
const (
	Chuxi     = "chuxi"     // 除夕, last day of the lunar year
	Chunjie   = "chunjie"   // 春节, 正月初一
	Yuanxiao  = "yuanxiao"  // 元宵, 正月十五
	Qingming  = "qingming"  // 清明, a solar term
	Duanwu    = "duanwu"    // 端午, 五月初五
	Zhongqiu  = "zhongqiu"  // 中秋, 八月十五
	Chongyang = "chongyang" // 重阳, 九月初九, the legal 老年节
)

// Festival is one traditional festival on its Gregorian day.
type Festival struct {
	Key  string
	Name string
	Date age.Date
}

type festivalRule struct {
	key, name string
	// on returns the Gregorian day of the festival in Gregorian year y.
	on func(y int) age.Date
}

// Every festival below falls in the same Gregorian year as the lunar year it
// belongs to (春节 is never before 21 January), except 除夕, which closes the
// previous lunar year and so is taken as the eve of this year's 春节.
var festivalRules = []festivalRule{
	{Chuxi, "除夕", func(y int) age.Date { return lunarDay(y, 1, 1).AddDays(-1) }},
	{Chunjie, "春节", func(y int) age.Date { return lunarDay(y, 1, 1) }},
	{Yuanxiao, "元宵", func(y int) age.Date { return lunarDay(y, 1, 15) }},
	{Qingming, "清明", qingming},
	{Duanwu, "端午", func(y int) age.Date { return lunarDay(y, 5, 5) }},
	{Zhongqiu, "中秋", func(y int) age.Date { return lunarDay(y, 8, 15) }},
	{Chongyang, "重阳", func(y int) age.Date { return lunarDay(y, 9, 9) }},
}

// Years outside this range are refused: the lunar tables are only
// trustworthy, and only needed, for the modern era.
const (
	minYear = 1901
	maxYear = 2099
)

// AllFestivalKeys lists every key Festivals understands, in calendar order.
func AllFestivalKeys() []string {
	keys := make([]string, len(festivalRules))
	for i, r := range festivalRules {
		keys[i] = r.key
	}
	return keys
}

// DefaultFestivalKeys are the festivals that raise visiting unless a county
// edits the list: 春节, 元宵, 清明, 端午, 中秋 and 重阳. 除夕 is optional
// because it always falls in or next to the week of 春节.
func DefaultFestivalKeys() []string {
	return []string{Chunjie, Yuanxiao, Qingming, Duanwu, Zhongqiu, Chongyang}
}

// FestivalName returns the Chinese name for a key, or "" if the key is unknown.
func FestivalName(key string) string {
	if r, ok := ruleFor(key); ok {
		return r.name
	}
	return ""
}

// ValidateFestivalKeys checks a configured list before it is saved.
func ValidateFestivalKeys(keys []string) error {
	for _, k := range keys {
		if _, ok := ruleFor(k); !ok {
			return fmt.Errorf("节日列表：不认识的节日“%s”", k)
		}
	}
	return nil
}

// Festivals returns the festivals named by keys that fall in Gregorian year
// `year`, ordered by date. Unknown keys are skipped (ValidateFestivalKeys
// rejects them when the list is configured), repeated keys count once, and
// years outside 1901–2099 have none.
func Festivals(year int, keys []string) []Festival {
	if year < minYear || year > maxYear {
		return nil
	}
	var out []Festival
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		r, ok := ruleFor(k)
		if !ok || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, Festival{Key: r.key, Name: r.name, Date: r.on(year)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date.Before(out[j].Date) })
	return out
}

func ruleFor(key string) (festivalRule, bool) {
	for _, r := range festivalRules {
		if r.key == key {
			return r, true
		}
	}
	return festivalRule{}, false
}

// lunarDay converts a day of a (non-leap) lunar month to the Gregorian day.
func lunarDay(lunarYear, month, day int) age.Date {
	s := lunar.NewLunarFromYmd(lunarYear, month, day).GetSolar()
	return age.Date{Year: s.GetYear(), Month: time.Month(s.GetMonth()), Day: s.GetDay()}
}

// qingming is the day of the 清明 solar term in Beijing time. The term table
// of the lunar year that starts in y runs from the previous 冬至 past the
// next one, so it holds y's 清明.
func qingming(y int) age.Date {
	s := lunar.NewLunarFromYmd(y, 1, 1).GetJieQiTable()["清明"]
	return age.Date{Year: s.GetYear(), Month: time.Month(s.GetMonth()), Day: s.GetDay()}
}
