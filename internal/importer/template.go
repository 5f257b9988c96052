package importer

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"tanfang/internal/policy/age"
	"tanfang/internal/policy/idcard"
)

// The template offices fill in: the roster's columns in annex 3's order,
// drop-down lists for the choices, text format where Excel would otherwise
// turn digits into numbers, an example row of a made-up person (skipped on
// import) and a sheet of instructions.

const (
	templateSheet = "老人信息"
	notesSheet    = "填写说明"
	choicesSheet  = "选项"
	templateRows  = 5000
	// exampleMark in the 序号 column marks the example row, which imports skip.
	exampleMark = "示例"
)

var yesNo = newChoiceSet([]choice{{"yes", "是", nil}, {"no", "否", nil}})

// example is the made-up person of the template's second row.
func example() map[string]string {
	id := idcard.Synthetic("320706", age.Date{Year: 1943, Month: 5, Day: 12}, true, 7)
	return map[string]string{
		"seq": exampleMark, "name": "王样本", "gender": "女", "id_number": id, "birth_date": "1943-05",
		"phone": "13800000000", "county": "海州区", "town": "新坝镇", "village": "新坝村",
		"address": "新坝村三组12号", "at_registered_residence": "是", "body_conditions": "半失能、重病",
		"diseases": "高血压", "living_situation": "独居", "economic_status": "低保、居民养老保险",
		"family_planning_special": "否", "left_behind": "否", "partner_condition": "无", "cares_for_child_condition": "无",
		"pension_monthly": "200", "assistance_monthly": "800", "subsidy_monthly": "0",
		"first_contact.name": "李样本", "first_contact.relation": "子女", "first_contact.phone": "13900000000",
		"first_contact.address": "连云港市海州区（示例）", "village_contact.name": "赵样本", "village_contact.phone": "13700000000",
		"willing": "是", "consent_home": "是", "consent_home_for_call": "是", "help_channels": "乡镇（街道）、村（社区）、志愿者",
		"collector": "孙样本", "collected_on": "2026-11-20",
	}
}

// templateFields are the roster's columns a template shows.
func templateFields() []int {
	var out []int
	for i, f := range rosterSpec.fields {
		if (f.kind != kIgnored && f.kind != kAmounts) || f.name == "seq" {
			out = append(out, i)
		}
	}
	return out
}

// WriteTemplate writes the roster template.
func WriteTemplate(out io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", templateSheet); err != nil {
		return err
	}
	for _, s := range []string{notesSheet, choicesSheet} {
		if _, err := f.NewSheet(s); err != nil {
			return err
		}
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return err
	}
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F4F7"}}})
	if err != nil {
		return err
	}
	ex := example()
	choiceCol := 0
	for i, fi := range templateFields() {
		fd := rosterSpec.fields[fi]
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetCellStr(templateSheet, col+"1", fd.label); err != nil {
			return err
		}
		if err := f.SetCellStr(templateSheet, col+"2", ex[fd.name]); err != nil {
			return err
		}
		if err := f.SetColWidth(templateSheet, col, col, max(10, float64(len([]rune(fd.label)))*2+2)); err != nil {
			return err
		}
		switch fd.kind {
		case kID, kPhone, kCert, kAreaCode, kYearMonth:
			if err := f.SetColStyle(templateSheet, col, text); err != nil {
				return err
			}
		}
		choices := fd.choices
		if fd.kind == kBool {
			choices = yesNo
		}
		if choices == nil {
			continue
		}
		choiceCol++
		src, _ := excelize.ColumnNumberToName(choiceCol)
		if err := f.SetCellStr(choicesSheet, src+"1", fd.label); err != nil {
			return err
		}
		for j, c := range choices.list {
			if err := f.SetCellStr(choicesSheet, fmt.Sprintf("%s%d", src, j+2), c.label); err != nil {
				return err
			}
		}
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("%s2:%s%d", col, col, templateRows+1)
		dv.SetSqrefDropList(fmt.Sprintf("'%s'!$%s$2:$%s$%d", choicesSheet, src, src, len(choices.list)+1))
		if fd.kind == kMulti {
			// A drop-down offers one answer; several are typed with 、 between them.
			dv.SetInput(fd.label, "可多选，用顿号“、”分隔")
		} else {
			dv.SetError(excelize.DataValidationErrorStyleStop, fd.label, "请从下拉列表中选择："+choices.labels())
		}
		if err := f.AddDataValidation(templateSheet, dv); err != nil {
			return err
		}
	}
	if err := f.SetRowStyle(templateSheet, 1, 1, head); err != nil {
		return err
	}
	if err := f.SetPanes(templateSheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := writeNotes(f); err != nil {
		return err
	}
	if err := f.SetSheetVisible(choicesSheet, false); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	_, err = f.WriteTo(out)
	return err
}

func writeNotes(f *excelize.File) error {
	lines := [][2]string{
		{"说明", "每位老人一行。第2行是虚构的示例（序号列为“示例”），导入时自动跳过，可删除。列的顺序可以调整，列名须保留；空白单元格导入时不改变档案中已有的内容。"},
		{"导入", "先“试导入”查看每一行将新建、更新、不变还是有问题，改正后再正式导入；正式导入时只要有一行有问题，整个文件都不导入。"},
		{"身份证号码", "已建档的老人按身份证号码匹配并更新；在其他村（居）建档的老人不会被移动，请办理档案转移。"},
	}
	for _, fi := range templateFields() {
		fd := rosterSpec.fields[fi]
		if fd.name == "seq" {
			continue
		}
		var req []string
		if fd.hint != "" {
			req = append(req, fd.hint)
		}
		switch {
		case fd.kind == kBool:
			req = append(req, "填“是”或“否”")
		case fd.choices != nil && fd.kind != kGender:
			req = append(req, "可选："+fd.choices.labels())
		}
		lines = append(lines, [2]string{fd.label, strings.Join(req, "；")})
	}
	for i, l := range lines {
		if err := f.SetCellStr(notesSheet, fmt.Sprintf("A%d", i+1), l[0]); err != nil {
			return err
		}
		if err := f.SetCellStr(notesSheet, fmt.Sprintf("B%d", i+1), l[1]); err != nil {
			return err
		}
	}
	if err := f.SetColWidth(notesSheet, "A", "A", 24); err != nil {
		return err
	}
	return f.SetColWidth(notesSheet, "B", "B", 100)
}
