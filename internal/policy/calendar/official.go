package calendar

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sync"
)

// The holiday-cn files for 2020–2026, copied from the project's shared data.
// A new year is added by dropping its file here or, at run time, with
// Holidays.With.
//
//go:embed holiday-cn/*.json
var officialFiles embed.FS

// Official returns the embedded arrangements. They are parsed once; tests
// guarantee they parse, so a failure here is a broken build and panics.
func Official() Holidays { return official() }

var official = sync.OnceValue(func() Holidays {
	h, err := loadHolidays(officialFiles, "holiday-cn")
	if err != nil {
		panic(err)
	}
	return h
})

func loadHolidays(fsys fs.FS, dir string) (Holidays, error) {
	names, err := fs.Glob(fsys, dir+"/*.json")
	if err != nil {
		return Holidays{}, fmt.Errorf("list holiday files: %w", err)
	}
	var years []HolidayYear
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return Holidays{}, fmt.Errorf("read %s: %w", name, err)
		}
		y, err := ParseHolidayYear(data)
		if err != nil {
			return Holidays{}, fmt.Errorf("%s: %w", name, err)
		}
		if base := path.Base(name); base != fmt.Sprintf("%d.json", y.Year) {
			return Holidays{}, fmt.Errorf("%s: file holds year %d", name, y.Year)
		}
		years = append(years, y)
	}
	return NewHolidays(years...), nil
}
