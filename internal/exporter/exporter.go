// Package exporter writes the xlsx files the platform hands out: a data
// sheet with Chinese headers and a frozen header row, streamed so that a
// whole county fits in bounded memory, and a sheet saying who exported what,
// under which filters and scope, and whether personal numbers are masked
// (R-OVS-3, DOMAIN §7: masked by default; an unmasked file says so).
package exporter

import (
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/xuri/excelize/v2"

	"tanfang/internal/policy/age"
)

// ContentType is the media type of the files written here.
const ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Filter is one condition that narrowed the rows, as the user would say it.
type Filter struct {
	Label string
	Value string
}

// Meta describes an export for its notes sheet.
type Meta struct {
	Title    string // the data sheet's name, e.g. 老人名册
	Caller   string // who exported, e.g. "xinba（乡镇街道）"
	Scope    string // the caller's area, e.g. "连云港市海州区新坝镇"
	Filters  []Filter
	At       time.Time
	Unmasked bool
	// Note is an extra line for the notes sheet (e.g. where the rows came from).
	Note string
}

// Column is one column of the data sheet.
type Column struct {
	Header string
	Width  float64 // characters; 0 for the default
	Text   bool    // format the column as text, so Excel keeps long digit strings intact
}

// Writer streams one data sheet and adds the notes sheet on Finish.
type Writer struct {
	f     *excelize.File
	sw    *excelize.StreamWriter
	meta  Meta
	sheet string
	next  int
	rows  int
}

// NotesSheet is the name of the sheet describing the export.
const NotesSheet = "导出说明"

// New starts a workbook whose first sheet holds columns under a frozen,
// bold header row.
func New(meta Meta, columns []Column) (*Writer, error) {
	f := excelize.NewFile()
	sheet := meta.Title
	if sheet == "" {
		sheet = "数据"
	}
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, fmt.Errorf("export: name sheet: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	w := &Writer{f: f, sw: sw, meta: meta, sheet: sheet, next: 2}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return nil, err
	}
	for i, c := range columns {
		width := c.Width
		if width == 0 {
			width = max(10, float64(len([]rune(c.Header)))*2+2)
		}
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return nil, err
		}
		if c.Text {
			if err := sw.SetColStyle(i+1, i+1, text); err != nil {
				return nil, err
			}
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, fmt.Errorf("export: freeze header: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F4F7"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"},
	})
	if err != nil {
		return nil, err
	}
	head := make([]any, len(columns))
	for i, c := range columns {
		head[i] = excelize.Cell{StyleID: bold, Value: c.Header}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return nil, fmt.Errorf("export: header: %w", err)
	}
	return w, nil
}

// Row appends one data row; values are strings, numbers or nil.
func (w *Writer) Row(values ...any) error {
	cell, err := excelize.CoordinatesToCellName(1, w.next)
	if err != nil {
		return err
	}
	if err := w.sw.SetRow(cell, values); err != nil {
		return fmt.Errorf("export: row %d: %w", w.next, err)
	}
	w.next++
	w.rows++
	return nil
}

// Rows is how many data rows were written.
func (w *Writer) Rows() int { return w.rows }

// Finish adds the notes sheet and writes the workbook to out.
func (w *Writer) Finish(out io.Writer) error {
	defer w.f.Close()
	if err := w.sw.Flush(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if _, err := w.f.NewSheet(NotesSheet); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	masking := "已脱敏（身份证号码、电话只显示部分数字）"
	if w.meta.Unmasked {
		masking = "未脱敏：本文件含完整身份证号码和电话，属敏感个人信息，导出已记入审计日志，请妥善保管，用后删除"
	}
	at := w.meta.At.In(age.Shanghai).Format("2006-01-02 15:04:05")
	lines := [][2]string{
		{"导出内容", w.sheet},
		{"导出时间", at + "（北京时间）"},
		{"导出人", w.meta.Caller},
		{"管辖范围", w.meta.Scope},
		{"号码显示", masking},
		{"记录条数", fmt.Sprint(w.rows)},
	}
	if len(w.meta.Filters) == 0 {
		lines = append(lines, [2]string{"筛选条件", "无（管辖范围内全部）"})
	}
	for _, f := range w.meta.Filters {
		lines = append(lines, [2]string{"筛选条件：" + f.Label, f.Value})
	}
	if w.meta.Note != "" {
		lines = append(lines, [2]string{"说明", w.meta.Note})
	}
	for i, l := range lines {
		for j, v := range l {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := w.f.SetCellStr(NotesSheet, cell, v); err != nil {
				return err
			}
		}
	}
	if err := w.f.SetColWidth(NotesSheet, "A", "A", 18); err != nil {
		return err
	}
	if err := w.f.SetColWidth(NotesSheet, "B", "B", 80); err != nil {
		return err
	}
	if _, err := w.f.WriteTo(out); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	return nil
}

// Disposition is a Content-Disposition header value naming a download in
// Chinese (RFC 6266 with an ASCII fallback).
func Disposition(asciiName, name string) string {
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, asciiName, url.PathEscape(name))
}
