package reports

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"tanfang/internal/policy/age"
	"tanfang/internal/registry"
)

// Sheet names of the workbook, one per section.
const (
	SheetSummary     = "汇总"
	SheetElders      = "在册概况"
	SheetCompliance  = "探访完成情况"
	SheetMonths      = "月探访率"
	SheetChildren    = "下级区划"
	SheetChanges     = "档案变动"
	SheetChangeItems = "档案变动明细"
	SheetProblems    = "问题处理"
	SheetCorrections = "更正记录"
)

// classNames label the classes of a file.
var classNames = map[string]string{"A": "A类", "B": "B类", "C": "C类", "none": "不在探访范围", "": "未分类"}

// ClassName is the Chinese label of a class code.
func ClassName(c string) string {
	if n, ok := classNames[c]; ok {
		return n
	}
	return c
}

// book writes sheets with a bold, frozen header row.
type book struct {
	f         *excelize.File
	head, pct int
	first     bool
	err       error
}

func (b *book) sheet(name string, header []any, widths []float64, rows [][]any) {
	if b.err != nil {
		return
	}
	if b.first {
		b.err = b.f.SetSheetName("Sheet1", name)
		b.first = false
	} else {
		_, b.err = b.f.NewSheet(name)
	}
	if b.err != nil {
		return
	}
	sw, err := b.f.NewStreamWriter(name)
	if err != nil {
		b.err = err
		return
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		b.err = err
		return
	}
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			b.err = err
			return
		}
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{StyleID: b.head}); err != nil {
		b.err = err
		return
	}
	for i, r := range rows {
		cells := make([]any, len(r))
		for j, v := range r {
			if p, ok := v.(percent); ok {
				cells[j] = excelize.Cell{StyleID: b.pct, Value: float64(p)}
			} else {
				cells[j] = v
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, cells); err != nil {
			b.err = err
			return
		}
	}
	b.err = sw.Flush()
}

// percent is a rate written with a percentage format.
type percent float64

// WriteXLSX writes the report as a workbook, one sheet per section, with
// Chinese headers and the header row frozen. Names are masked (R-OVS-3).
func (r Report) WriteXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F4F7"}}})
	if err != nil {
		return err
	}
	pct, err := f.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return err
	}
	b := &book{f: f, head: head, pct: pct, first: true}

	status := "未结账（随数据更新）"
	if r.Closed != nil {
		status = fmt.Sprintf("已结账：%s 由 %s 结账", r.Closed.At.In(age.Shanghai).Format("2006-01-02 15:04"), r.Closed.By)
	}
	summary := [][]any{
		{"地区", r.Area.Name},
		{"区划代码", r.Area.Code},
		{"期间", r.Label},
		{"起止日期", r.From + " 至 " + r.To},
		{"生成时间", r.GeneratedAt.In(age.Shanghai).Format("2006-01-02 15:04")},
		{"结账状态", status},
		{"按时完成率（按周计）", percent(r.Compliance.Rate)},
	}
	for _, m := range r.Months {
		summary = append(summary, []any{monthLabel(m.Month) + "月探访率", percent(m.Rate)})
	}
	for _, fg := range r.Figures() {
		summary = append(summary, []any{fg.Label, fg.Value})
	}
	if len(r.Corrections) > 0 {
		summary = append(summary, []any{"结账后更正", fmt.Sprintf("%d项，见“%s”表", len(r.Corrections), SheetCorrections)})
	}
	b.sheet(SheetSummary, []any{"项目", "数值"}, []float64{28, 40}, summary)

	asOf := r.AsOf.In(age.Shanghai).Format("2006-01-02 15:04")
	elders := [][]any{{"在册档案", r.Elders.Files}, {"纳入探访范围（A、B、C类）", r.Elders.InScope}}
	for _, c := range []string{"A", "B", "C", "none", ""} {
		elders = append(elders, []any{ClassName(c), r.Elders.ByClass[c]})
	}
	for _, st := range registry.Statuses {
		if n, ok := r.Elders.ByStatus[st.Code]; ok {
			elders = append(elders, []any{"状态：" + st.Label, n})
		}
	}
	elders = append(elders, []any{"档案信息不完整", r.Elders.Incomplete},
		[]any{"本周已排探访人数", r.Pairing.Planned}, []any{"已结对人数", r.Pairing.Paired}, []any{"结对覆盖率", percent(r.Pairing.Rate)},
		[]any{"未办结问题（生成时）", r.Problems.Open}, []any{"逾期问题（生成时）", r.Problems.Overdue})
	b.sheet(SheetElders, []any{"项目（截至" + asOf + "）", "人数"}, []float64{30, 12}, elders)

	var comp [][]any
	for _, c := range Classes {
		x := r.Compliance.ByClass[c]
		comp = append(comp, []any{ClassName(c), x.InScope, x.Met, percent(x.Rate)})
	}
	comp = append(comp, []any{"合计", r.Compliance.InScope, r.Compliance.Met, percent(r.Compliance.Rate)})
	b.sheet(SheetCompliance, []any{"类别", "应探访人次（按周计）", "按时完成人次", "按时完成率"}, []float64{14, 20, 16, 14}, comp)

	var months [][]any
	for _, m := range r.Months {
		for _, c := range Classes {
			x := m.ByClass[c]
			months = append(months, []any{monthLabel(m.Month), ClassName(c), x.InScope, x.Contacted, percent(x.Rate), ""})
		}
		months = append(months, []any{monthLabel(m.Month), "合计", m.InScope, m.Contacted, percent(m.Rate), m.ContactDays})
	}
	b.sheet(SheetMonths, []any{"月份", "类别", "纳入探访人数", "已探访人数", "月探访率", "探访人次（按天计）"}, []float64{12, 10, 14, 12, 12, 18}, months)

	var kids [][]any
	for _, c := range r.Children {
		kids = append(kids, []any{c.Area.Code, c.Area.Name, c.Files, c.InScope, c.Compliance.InScope, c.Compliance.Met, percent(c.Compliance.Rate),
			c.Monthly.InScope, c.Monthly.Met, percent(c.Monthly.Rate), c.Found, c.Resolved})
	}
	b.sheet(SheetChildren, []any{"区划代码", "名称", "在册档案", "纳入探访", "应探访人次", "按时完成人次", "按时完成率",
		"纳入探访人数（月合计）", "已探访人数（月合计）", "月探访率", "发现问题", "办结问题"},
		[]float64{15, 20, 10, 10, 12, 12, 12, 20, 20, 10, 10, 10}, kids)

	ch := r.Changes
	changes := [][]any{{"新建档案", ch.New}, {"去世", ch.Deceased}, {"迁出", ch.MovedOut}, {"转出", ch.TransferredOut},
		{"减少合计", ch.Left()}, {"转入", ch.TransferredIn}, {"其他状态变更", ch.StatusChanged}, {"档案修改", ch.Updated}, {"类别变化", ch.ClassChanged}}
	for _, m := range ch.ClassMoves {
		changes = append(changes, []any{"类别变化：" + ClassName(m.From) + " → " + ClassName(m.To), m.N})
	}
	b.sheet(SheetChanges, []any{"项目", "人数"}, []float64{30, 10}, changes)

	var items [][]any
	for _, it := range ch.Items {
		items = append(items, []any{it.At.In(age.Shanghai).Format("2006-01-02 15:04"), it.NameMasked, it.KindLabel, it.AreaCode, it.Detail})
	}
	b.sheet(SheetChangeItems, []any{"时间", "老人", "变动", "区划代码", "说明"}, []float64{18, 10, 10, 15, 40}, items)

	p := r.Problems
	probs := [][]any{{"发现问题", "合计", p.Found}}
	for _, c := range p.FoundByKind {
		probs = append(probs, []any{"发现问题：按类别", c.Label, c.N})
	}
	for _, c := range p.FoundBySeverity {
		probs = append(probs, []any{"发现问题：按紧急程度", c.Label, c.N})
	}
	probs = append(probs, []any{"办结问题", "合计", p.Resolved}, []any{"回访确认", "合计", p.Verified},
		[]any{"转介完成", "合计", r.ReferralsDone()})
	for _, c := range r.Referrals {
		probs = append(probs, []any{"转介完成：按去向", c.Label, c.N})
	}
	probs = append(probs, []any{"紧急情况", "发生", p.EmergenciesRaised}, []any{"紧急情况", "处置完毕", p.EmergenciesClosed})
	b.sheet(SheetProblems, []any{"项目", "分类", "数量"}, []float64{22, 20, 10}, probs)

	if r.Closed != nil {
		var cs [][]any
		for _, c := range r.Corrections {
			cs = append(cs, []any{c.Label, c.Reported, c.Previous, c.Value, c.FoundAt.In(age.Shanghai).Format("2006-01-02 15:04")})
		}
		b.sheet(SheetCorrections, []any{"项目", "结账时上报", "更正前", "更正后", "发现时间"}, []float64{28, 12, 10, 10, 18}, cs)
	}
	if b.err != nil {
		return fmt.Errorf("report workbook: %w", b.err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write report workbook: %w", err)
	}
	return nil
}
