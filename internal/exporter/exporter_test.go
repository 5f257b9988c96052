package exporter

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// R-OVS-3, DOMAIN §7: an export names its scope, filters and time, keeps
// the header in view, and says whether personal numbers are masked.
func TestWriterSheetsAndNotes(t *testing.T) {
	for _, unmasked := range []bool{false, true} {
		w, err := New(Meta{
			Title: "老人名册", Caller: "haizhou（县区民政局）", Scope: "海州区",
			Filters: []Filter{{"所属区划", "新坝镇"}}, At: time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC), Unmasked: unmasked,
		}, []Column{{Header: "姓名"}, {Header: "身份证号码", Text: true}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range [][]any{{"张测试", "320706********0016"}, {"李样本", nil}} {
			if err := w.Row(r...); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := w.Finish(&buf); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.GetSheetList(); len(got) != 2 || got[0] != "老人名册" || got[1] != NotesSheet {
			t.Fatalf("sheets %v", got)
		}
		rows, _ := f.GetRows("老人名册")
		if len(rows) != 3 || rows[0][1] != "身份证号码" || rows[1][1] != "320706********0016" {
			t.Fatalf("rows %q", rows)
		}
		panes, err := f.GetPanes("老人名册")
		if err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Fatalf("panes %+v %v", panes, err)
		}
		notes, _ := f.GetRows(NotesSheet)
		text := ""
		for _, r := range notes {
			text += strings.Join(r, "=") + "\n"
		}
		for _, want := range []string{"导出时间=2026-12-03 10:00:00", "管辖范围=海州区", "筛选条件：所属区划=新坝镇", "记录条数=2", "haizhou"} {
			if !strings.Contains(text, want) {
				t.Errorf("notes lack %q:\n%s", want, text)
			}
		}
		if got := strings.Contains(text, "未脱敏"); got != unmasked {
			t.Errorf("unmasked=%v but notes say:\n%s", unmasked, text)
		}
	}
}

func TestDisposition(t *testing.T) {
	got := Disposition("elders.xlsx", "老人名册.xlsx")
	if !strings.Contains(got, `filename="elders.xlsx"`) || !strings.Contains(got, "filename*=UTF-8''%E8%80%81") {
		t.Fatal(got)
	}
}
