package calendar

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"tanfang/internal/policy/age"
)

// HolidayYear is one year of the State Council's holiday arrangement, in the
// shape published by the holiday-cn project (DOMAIN §5).
type HolidayYear struct {
	Year int
	Days []HolidayDay
}

// HolidayDay is a day the arrangement names: a day off (Off) or a make-up
// working day (调休, not Off).
type HolidayDay struct {
	Name string
	Date age.Date
	Off  bool
}

// ParseHolidayYear reads one YYYY.json file. An arrangement may name days of
// the neighbouring years (2023's 元旦 break starts on 2022-12-31), so dates
// within a year either side are accepted.
func ParseHolidayYear(data []byte) (HolidayYear, error) {
	var raw struct {
		Year int `json:"year"`
		Days []struct {
			Name     string `json:"name"`
			Date     string `json:"date"`
			IsOffDay *bool  `json:"isOffDay"`
		} `json:"days"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return HolidayYear{}, fmt.Errorf("节假日数据：不是有效的 JSON：%w", err)
	}
	if raw.Year < minYear || raw.Year > maxYear {
		return HolidayYear{}, fmt.Errorf("节假日数据：年份“%d”不在 %d–%d 之内", raw.Year, minYear, maxYear)
	}
	y := HolidayYear{Year: raw.Year, Days: make([]HolidayDay, 0, len(raw.Days))}
	seen := make(map[age.Date]bool, len(raw.Days))
	for i, d := range raw.Days {
		n := i + 1
		date, err := age.ParseDate(d.Date)
		if err != nil {
			return HolidayYear{}, fmt.Errorf("节假日数据：第 %d 条日期“%s”无效", n, d.Date)
		}
		if date.Year < raw.Year-1 || date.Year > raw.Year+1 {
			return HolidayYear{}, fmt.Errorf("节假日数据：第 %d 条日期 %s 不属于 %d 年的安排", n, d.Date, raw.Year)
		}
		if d.Name == "" {
			return HolidayYear{}, fmt.Errorf("节假日数据：第 %d 条（%s）缺少节日名称", n, d.Date)
		}
		if d.IsOffDay == nil {
			return HolidayYear{}, fmt.Errorf("节假日数据：第 %d 条（%s）缺少 isOffDay", n, d.Date)
		}
		if seen[date] {
			return HolidayYear{}, fmt.Errorf("节假日数据：日期 %s 重复出现", d.Date)
		}
		seen[date] = true
		y.Days = append(y.Days, HolidayDay{Name: d.Name, Date: date, Off: *d.IsOffDay})
	}
	return y, nil
}

// Holidays answers whether a day is off work. The zero value knows no year.
// It is immutable, so one value may be shared freely.
type Holidays struct {
	years map[int]HolidayYear
	days  map[age.Date]HolidayDay
}

// NewHolidays combines several years. Where two years name the same day, the
// later year's arrangement wins, being the newer publication.
func NewHolidays(years ...HolidayYear) Holidays {
	h := Holidays{years: make(map[int]HolidayYear, len(years))}
	for _, y := range years {
		h.years[y.Year] = y
	}
	h.index()
	return h
}

// With returns a copy that also holds y, replacing any data for y.Year: the
// way an administrator adds next year's arrangement or corrects one.
func (h Holidays) With(y HolidayYear) Holidays {
	n := Holidays{years: make(map[int]HolidayYear, len(h.years)+1)}
	for k, v := range h.years {
		n.years[k] = v
	}
	n.years[y.Year] = y
	n.index()
	return n
}

func (h *Holidays) index() {
	h.days = make(map[age.Date]HolidayDay)
	for _, yr := range h.Years() {
		for _, d := range h.years[yr].Days {
			h.days[d.Date] = d
		}
	}
}

// Years lists the years whose arrangement is loaded, in order.
func (h Holidays) Years() []int {
	ys := make([]int, 0, len(h.years))
	for y := range h.years {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	return ys
}

// IsOffDay reports whether d is a day off. A day the arrangement names is
// answered from it; any other day is off if it is a Saturday or Sunday.
// known is false when d's year has not been loaded, so the weekend answer
// is only a guess that 调休 may contradict.
func (h Holidays) IsOffDay(d age.Date) (off bool, known bool) {
	if hd, ok := h.days[d]; ok {
		return hd.Off, true
	}
	wd := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Weekday()
	_, loaded := h.years[d.Year]
	return wd == time.Saturday || wd == time.Sunday, loaded
}
