package plan

import (
	"context"
	"database/sql"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"tanfang/internal/areas"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/mask"
	"tanfang/internal/store"
)

// rosterHeaders are the columns of the filing roster (备案名单).
var rosterHeaders = []any{"序号", "县（区）", "乡镇（街道）", "村（社区）", "老人姓名", "身份证号", "联系电话", "类别",
	"结对探访人员", "人员类别", "工作单位", "职务", "探访人员电话", "结对日期", "备岗探访人员", "备岗人员电话"}

// RosterSheet is the name of the roster's worksheet.
const RosterSheet = "结对备案名单"

// Roster writes the county filing roster of the pairings (备案名单,
// R-TEAM-1) of an area in scope as xlsx: every in-scope elder with the
// primary and backup visitor, unpaired elders with the visitor cells
// empty. Names, ID numbers and phone numbers are masked (R-OVS-3). It
// returns how many elders were listed.
func (s *Service) Roster(ctx context.Context, sc areas.Scope, areaCode string, w io.Writer) (int, error) {
	lo, hi, err := s.areaRange(ctx, sc, areaCode)
	if err != nil {
		return 0, err
	}
	type line struct {
		name, idMasked, phone, class, area string
		pName, pKind, pUnit, pTitle        sql.NullString
		pPhone, pStarted, bName, bPhone    sql.NullString
	}
	rows, err := s.DB.Query(ctx, `SELECT e.name, e.id_masked, e.phone_masked, e.class, e.area_code,
			pv.name, pv.kind, pv.unit, pv.title, pv.phone_masked, pp.started_at, bv.name, bv.phone_masked
		FROM elders e
		LEFT JOIN pairings pp ON pp.elder_id = e.id AND pp.role = 'primary' AND pp.ended_at = ''
		LEFT JOIN visitors pv ON pv.id = pp.visitor_id
		LEFT JOIN pairings bp ON bp.elder_id = e.id AND bp.role = 'backup' AND bp.ended_at = ''
		LEFT JOIN visitors bv ON bv.id = bp.visitor_id
		WHERE e.area_code >= ? AND e.area_code < ? AND `+inScopeElders+`
		ORDER BY e.area_code, e.class, e.id`, lo, hi)
	if err != nil {
		return 0, fmt.Errorf("roster: %w", err)
	}
	var lines []line
	var codes []string
	for rows.Next() {
		var l line
		if err := rows.Scan(&l.name, &l.idMasked, &l.phone, &l.class, &l.area, &l.pName, &l.pKind, &l.pUnit, &l.pTitle,
			&l.pPhone, &l.pStarted, &l.bName, &l.bPhone); err != nil {
			rows.Close()
			return 0, err
		}
		lines = append(lines, l)
		codes = append(codes, countyOf(l.area), townOf(l.area), villageOf(l.area))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	names, err := s.areaNames(ctx, codes)
	if err != nil {
		return 0, err
	}

	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", RosterSheet); err != nil {
		return 0, err
	}
	sw, err := f.NewStreamWriter(RosterSheet)
	if err != nil {
		return 0, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F4F7"}}})
	if err != nil {
		return 0, err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return 0, err
	}
	for i, width := range []float64{6, 12, 14, 16, 10, 22, 15, 6, 12, 14, 20, 12, 15, 12, 12, 15} {
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return 0, err
		}
	}
	if err := sw.SetRow("A1", rosterHeaders, excelize.RowOpts{StyleID: bold}); err != nil {
		return 0, err
	}
	for i, l := range lines {
		started := ""
		if l.pStarted.Valid {
			started = store.MustTime(l.pStarted.String).In(age.Shanghai).Format("2006-01-02")
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{
			i + 1, names[countyOf(l.area)], names[townOf(l.area)], names[villageOf(l.area)], mask.Name(l.name), l.idMasked, l.phone, l.class,
			l.pName.String, KindLabel(l.pKind.String), l.pUnit.String, l.pTitle.String, l.pPhone.String, started, l.bName.String, l.bPhone.String,
		}); err != nil {
			return 0, err
		}
	}
	if err := sw.Flush(); err != nil {
		return 0, err
	}
	if _, err := f.WriteTo(w); err != nil {
		return 0, fmt.Errorf("write roster: %w", err)
	}
	return len(lines), nil
}

func countyOf(code string) string  { return pad(code, 6) }
func townOf(code string) string    { return pad(code, 9) }
func villageOf(code string) string { return pad(code, 12) }

// pad keeps the first n digits of a code and fills it to 12 with zeros,
// naming the ancestor at that level.
func pad(code string, n int) string {
	if len(code) < n {
		return ""
	}
	return code[:n] + "000000000000"[:12-n]
}
