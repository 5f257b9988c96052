package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/exporter"
	"tanfang/internal/pii"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/idcard"
	"tanfang/internal/registry"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

var (
	admin    = registry.Actor{UserID: 1, Username: "admin", Role: "admin", IP: "127.0.0.1"}
	city     = areas.Scope{Code: "320700000000", Prefix: "3207"}
	haizhou  = areas.Scope{Code: "320706000000", Prefix: "320706"}
	xinba    = areas.Scope{Code: "320706102000", Prefix: "320706102"}
	xinbacun = areas.Scope{Code: "320706102206", Prefix: "320706102206"}
)

const (
	xinbaVillage   = "320706102206" // 新坝镇新坝村委会
	datunVillage   = "320706102200" // 新坝镇大屯村委会
	wuweiXinba     = "320706102209" // 新坝镇武圩村委会; another 武圩村 is in 宁海街道
	lianyunVillage = "320703001001" // 连云区墟沟街道东园社区
)

type fixture struct {
	db  *store.DB
	reg *registry.Service
	im  *Importer
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC) }
	if _, err := (areas.Store{DB: db}).LoadDivisions(ctx, now()); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.New(bytes.Repeat([]byte{7}, pii.SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	reg := &registry.Service{DB: db, Keys: keys, Now: now}
	return &fixture{db: db, reg: reg, im: &Importer{DB: db, Keys: keys, Registry: reg, Areas: areas.Store{DB: db}, Now: now}}
}

func (fx *fixture) count(t testing.TB, table string) int {
	t.Helper()
	var n int
	if err := fx.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// id makes a valid made-up ID number of 海州区 for a birth date.
// badCheck spoils an ID number's check character.
func badCheck(number string) string {
	last := "0"
	if number[17] == '0' {
		last = "1"
	}
	return number[:17] + last
}

func id(birth string, seq int) string {
	d, err := age.ParseDate(birth)
	if err != nil {
		panic(err)
	}
	return idcard.Synthetic("320706", d, seq%2 == 0, seq)
}

// book writes rows into a real xlsx file; float64 values become number
// cells, strings text cells, nil an empty cell.
func book(t *testing.T, rows [][]any, setup func(f *excelize.File)) []byte {
	t.Helper()
	f := excelize.NewFile()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if setup != nil {
		setup(f)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func run(t *testing.T, fx *fixture, sc areas.Scope, data []byte, dry bool) *Report {
	t.Helper()
	rep, err := fx.im.Elders(context.Background(), Request{Actor: admin, Scope: sc, FileName: "台账.xlsx", Data: data, DryRun: dry})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// outcomes maps each row to its outcome and its problems' messages.
func outcomes(rep *Report) map[int]string {
	m := map[int]string{}
	for _, o := range rep.Outcomes {
		m[o.Row] = o.Outcome
	}
	for _, p := range rep.Problems {
		m[p.Row] += " | " + p.Column + ": " + p.Message
	}
	return m
}

func TestImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		t.Run("excel_damage", func(t *testing.T) { testExcelDamage(t, fx) })
		t.Run("gbk_csv", func(t *testing.T) { testGBKCSV(t, fx) })
		t.Run("merged_header", func(t *testing.T) { testMergedHeader(t, fx) })
		t.Run("other_area", func(t *testing.T) { testOtherArea(t, fx) })
		t.Run("interrupted", func(t *testing.T) { testInterrupted(t, fx) })
		t.Run("confirm_twice", func(t *testing.T) { testConfirmTwice(t, fx) })
		t.Run("too_young", func(t *testing.T) { testTooYoung(t, fx) })
		t.Run("separators_only", func(t *testing.T) { testSeparatorsOnly(t, fx) })
		t.Run("many_rows", func(t *testing.T) { testManyRows(t, fx) })
		t.Run("template", func(t *testing.T) { testTemplate(t, fx) })
		t.Run("export", func(t *testing.T) { testExport(t, fx) })
		t.Run("lists", func(t *testing.T) { testReconcileLists(t, fx) })
	})
}

// R-OBJ-3, DOMAIN §2: typical Excel damage is read or reported row by row,
// a dry run changes nothing, a commit with any rejected row applies none.
func testExcelDamage(t *testing.T, fx *fixture) {
	legacy := "320706450607123" // 15 digits: born 1945-06-07
	id5 := id("1950-03-01", 11)
	header := []any{"序号", "姓　名 ", "身份证号码", "出生年月", "区划代码", "乡镇(街道)", " 村（居） ", "身体状况", "经济状况", "联系电话", "居住状况"}
	rows := [][]any{
		{"连云港市特殊困难老年人信息表（海州区）"},
		header,
		{1, "张测试", legacy, "1945-06", float64(320706102206), nil, nil, "半失能、重病", "低保；居民养老保险", float64(13812345678), "独居"},
		{2, "钱数字", 3.20706199001011e17, nil, xinbaVillage, nil, nil, nil, nil, nil, nil},
		{3, "孙序列", id5, float64(18323), nil, "新坝镇", "新坝村", "自理", "无", nil, "空巢"},
		{4, "  李 测试  ", " " + id("1950-03-15", 12) + "  ", "1950年3月", nil, "新坝", "新坝村委会", nil, nil, nil, nil},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{6, "周斜线", id("1950-03-01", 13), "1950/03/01", xinbaVillage, nil, nil, "失能;重残", "特困,低保", nil, nil},
		{7, "吴数月", id("1950-03-20", 14), float64(195003), xinbaVillage, nil, nil, nil, nil, nil, nil},
		{8, "郑重复", id5, nil, xinbaVillage, nil, nil, nil, nil, nil, nil},
		{9, "王歧义", id("1948-01-01", 15), nil, nil, nil, "武圩村", nil, nil, nil, nil},
		{10, "冯确定", id("1948-01-01", 16), nil, nil, "新坝镇", "武圩村", nil, nil, nil, nil},
		{11, "陈选项", id("1948-01-01", 17), nil, xinbaVillage, nil, nil, nil, nil, nil, "住在养老院"},
		{12, "褚完整", float64(0), nil, xinbaVillage, nil, nil, nil, nil, nil, nil},
		{13, "卫不符", id("1951-05-05", 18), "1950-3", xinbaVillage, nil, nil, nil, nil, nil, nil},
	}
	intact := id("1949-09-09", 19)
	data := book(t, rows, func(f *excelize.File) {
		_ = f.MergeCell("Sheet1", "A1", "K1")
		var n int64
		fmt.Sscan(intact, &n)
		_ = f.SetCellInt("Sheet1", "C14", n) // an intact ID number stored as a number
	})

	rep := run(t, fx, haizhou, data, true)
	got := outcomes(rep)
	want := map[int]string{
		3: "created", 4: "rejected | 身份证号码: 身份证号码被Excel存成了数字（3.20706E+17），后几位已丢失，请把该列设为文本后重新填写",
		5: "created", 6: "created", 8: "created", 9: "created",
		10: "rejected | 身份证号码: 与第5行的身份证号码相同，同一人只能有一行",
		11: "rejected | 村（居）: 村（居）名称“武圩村”在多个乡镇（街道）都有",
		12: "created",
		13: "rejected | 居住状况: 居住状况“住在养老院”不是可选项",
		14: "rejected | 身份证号码: 身份证号码被存成了数字（3.20706E+17），Excel只能保留前15位",
		15: "rejected | 出生年月: 填写的出生年月1950-03与身份证号码中的1951-05不一致",
	}
	for row, w := range want {
		if !strings.HasPrefix(got[row], w) {
			t.Errorf("row %d: %q, want %q…", row, got[row], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rows %v, want only %d of them (title, header and blank rows skipped)", got, len(want))
	}
	if rep.Rows != 12 || rep.Created != 6 || rep.Rejected != 6 || rep.HeaderRow != 2 || rep.Status != StatusChecked || rep.ImportID == 0 {
		t.Fatalf("report %+v", rep)
	}
	if n := fx.count(t, "elders"); n != 0 {
		t.Fatalf("dry run wrote %d files", n)
	}

	rep = run(t, fx, haizhou, data, false)
	if rep.Status != StatusRejected || rep.Rejected != 6 || fx.count(t, "elders") != 0 {
		t.Fatalf("commit with rejected rows: %+v, %d files", rep, fx.count(t, "elders"))
	}

	// The good rows alone go in, all at once.
	var good [][]any
	for i, r := range rows {
		if i < 2 || strings.HasPrefix(got[i+1], "created") {
			good = append(good, r)
		}
	}
	clean := book(t, good, nil)
	rep = run(t, fx, haizhou, clean, false)
	if rep.Status != StatusCommitted || rep.Created != 6 || fx.count(t, "elders") != 6 {
		t.Fatalf("commit: %+v", rep)
	}
	ctx := context.Background()
	upgraded, _ := idcard.Parse(legacy)
	h, ok, err := fx.reg.HolderOf(ctx, fx.db, upgraded.Value)
	if err != nil || !ok || h.AreaCode != xinbaVillage || h.Name != "张测试" {
		t.Fatalf("15-digit row stored as %+v %v %v", h, ok, err)
	}
	e, err := fx.reg.Get(ctx, admin, haizhou, h.ElderID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(e.BodyConditions, ",") != "semi_disabled,severe_illness" || strings.Join(e.EconomicStatus, ",") != "dibao,resident_pension" ||
		e.PhoneMasked != "138****5678" || e.LivingSituation != "alone" || e.BirthDate != "1945-06-07" {
		t.Fatalf("row 3 stored as %+v", e)
	}
	li, _, err := fx.reg.HolderOf(ctx, fx.db, id("1950-03-15", 12))
	if err != nil || li.Name != "李测试" {
		t.Fatalf("trailing spaces: %+v %v", li, err)
	}
	fe, _, _ := fx.reg.HolderOf(ctx, fx.db, id("1948-01-01", 16))
	if fe.AreaCode != wuweiXinba {
		t.Fatalf("武圩村 of 新坝镇: %+v", fe)
	}
	var versions int
	if err := fx.db.QueryRow(ctx, "SELECT COUNT(*) FROM elder_versions WHERE reason = ?", fmt.Sprintf("批量导入（第%d号导入）", rep.ImportID)).Scan(&versions); err != nil || versions != 6 {
		t.Fatalf("versions naming the import: %d %v", versions, err)
	}

	rep = run(t, fx, haizhou, clean, false)
	if rep.Unchanged != 6 || rep.Created+rep.Updated+rep.Rejected != 0 {
		t.Fatalf("same file again: %+v", rep)
	}
	good[2][9] = "13900001111"
	rep = run(t, fx, haizhou, book(t, good, nil), true)
	o := outcomes(rep)
	if rep.Updated != 1 || o[3] != "updated" || rep.Outcomes[0].Changes["phone"].New != "139****1111" {
		t.Fatalf("changed phone: %+v", rep)
	}
}

// A CSV saved by Excel on a Chinese Windows is GBK; an ID number that
// went through Excel as a number arrives as 3.20706E+17.
func testGBKCSV(t *testing.T, fx *fixture) {
	text := "姓名,身份证号码,经济状况,是否愿意接受探访,月养老金\r\n" +
		"蒋样本," + id("1940-02-02", 21) + ",低保,是,无\r\n" +
		"沈样本,3.20706E+17,低保,是,0\r\n" +
		"韩样本," + id("1940-02-03", 22) + "  ,低保边缘,否,120.5\r\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	rep := run(t, fx, xinbacun, []byte(gbk), true)
	got := outcomes(rep)
	if got[2] != "created" {
		t.Errorf("row 2: %q", got[2])
	}
	if got[3] != "rejected | 身份证号码: 身份证号码被Excel存成了数字（3.20706E+17），后几位已丢失，请把该列设为文本后重新填写" {
		t.Errorf("row 3: %q", got[3])
	}
	if !strings.HasPrefix(got[4], "rejected") || !strings.Contains(got[4], "须填写原因") {
		t.Errorf("row 4: %q", got[4])
	}
	// The same file as UTF-8 with a byte-order mark reads the same.
	rep2 := run(t, fx, xinbacun, append([]byte("\xEF\xBB\xBF"), text...), true)
	if fmt.Sprint(outcomes(rep2)) != fmt.Sprint(got) {
		t.Errorf("UTF-8 %v, GBK %v", outcomes(rep2), got)
	}
}

// Headers in two rows, a group label merged over its columns.
func testMergedHeader(t *testing.T, fx *fixture) {
	num := id("1939-12-12", 31)
	data := book(t, [][]any{
		{"姓名", "身份证号码", "第一联系人", nil, nil, nil, "村（居）指定联系人", nil, "月养老金/社会救助/福利补贴"},
		{nil, nil, "姓名", "关系", "电话", "地址", "姓名", "电话", nil},
		{"杨样本", num, "朱样本", "女儿", "13900002222", "新坝村五组", "秦样本", "13700003333", "1250.5/0/无"},
	}, func(f *excelize.File) {
		for _, m := range [][2]string{{"A1", "A2"}, {"B1", "B2"}, {"C1", "F1"}, {"G1", "H1"}, {"I1", "I2"}} {
			_ = f.MergeCell("Sheet1", m[0], m[1])
		}
	})
	rep := run(t, fx, xinbacun, data, false)
	if rep.Created != 1 || rep.HeaderRow != 1 || len(rep.Ignored) != 0 {
		t.Fatalf("%+v", rep)
	}
	h, _, _ := fx.reg.HolderOf(context.Background(), fx.db, num)
	e, err := fx.reg.Get(context.Background(), admin, xinbacun, h.ElderID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "杨样本" || e.FirstContact.Name != "朱样本" || e.FirstContact.Relation != "child" || e.FirstContact.PhoneMasked != "139****2222" ||
		e.FirstContact.Address != "新坝村五组" || e.VillageContact.Name != "秦样本" || e.VillageContact.PhoneMasked != "137****3333" ||
		e.PensionMonthly.String() != "1250.50" || e.AssistanceMonthly.String() != "0.00" || e.SubsidyMonthly.String() != "0.00" {
		t.Fatalf("stored %+v", e)
	}
}

// A row for someone whose file is in another area is reported, not moved.
func testOtherArea(t *testing.T, fx *fixture) {
	ctx := context.Background()
	far := id("1935-07-07", 41)
	near := id("1935-07-08", 42)
	name := "许样本"
	for _, c := range []struct{ num, area string }{{far, lianyunVillage}, {near, xinbaVillage}} {
		in := registry.Input{Name: &name, IDNumber: &c.num, AreaCode: &c.area}
		if _, err := fx.reg.Create(ctx, admin, city, in); err != nil {
			t.Fatal(err)
		}
	}
	// Two elders who have died, one here and one in 连云区.
	var dead []registry.Elder
	for i, area := range []string{xinbaVillage, lianyunVillage} {
		num := id("1935-07-09", 43+i)
		e, err := fx.reg.Create(ctx, admin, city, registry.Input{Name: &name, IDNumber: &num, AreaCode: &area})
		if err != nil {
			t.Fatal(err)
		}
		if e, err = fx.reg.SetStatus(ctx, admin, city, e.ID, e.Version, registry.Status{Kind: registry.StatusDeceased, From: "2026-10-01"}); err != nil {
			t.Fatal(err)
		}
		dead = append(dead, e)
	}
	data := book(t, [][]any{
		{"姓名", "身份证号码", "区划代码"},
		{name, far, datunVillage},
		{name, near, datunVillage},
		{name, id("1935-07-09", 43), xinbaVillage},
		{name, id("1935-07-09", 44), datunVillage},
	}, nil)
	rep := run(t, fx, haizhou, data, false)
	got := outcomes(rep)
	if !strings.HasPrefix(got[2], "rejected | 身份证号码: 该身份证号码已在连云区墟沟街道…建档") {
		t.Errorf("row 2: %q", got[2])
	}
	if !strings.HasPrefix(got[3], "rejected | 身份证号码: 该老人已在海州区新坝镇新坝村委会建档（档案编号") {
		t.Errorf("row 3: %q", got[3])
	}
	if got[4] != "unchanged" {
		t.Errorf("row 4, a file here of someone deceased: %q", got[4])
	}
	if !strings.HasPrefix(got[5], "rejected | 身份证号码: 该身份证号码对应的老人已登记为去世") {
		t.Errorf("row 5, someone deceased elsewhere: %q", got[5])
	}
	for i, d := range dead {
		h, _, _ := fx.reg.HolderOf(ctx, fx.db, id("1935-07-09", 43+i))
		if h.ElderID != d.ID || h.Active || h.Version != d.Version {
			t.Errorf("deceased file reopened, changed or duplicated: %+v", h)
		}
	}
	for _, c := range []struct{ num, area string }{{far, lianyunVillage}, {near, xinbaVillage}} {
		h, _, _ := fx.reg.HolderOf(ctx, fx.db, c.num)
		if h.AreaCode != c.area || h.Version != 1 {
			t.Errorf("file moved or changed: %+v", h)
		}
	}
}

// An import that fails half-way, or whose request is cancelled, leaves
// the registry as it was.
func testInterrupted(t *testing.T, fx *fixture) {
	ctx := context.Background()
	before := fx.count(t, "elders")
	beforeImports := fx.count(t, "imports")
	rows := [][]any{{"姓名", "身份证号码", "区划代码"}}
	for i := range 6 {
		rows = append(rows, []any{"尤样本", id("1944-04-04", 50+i), xinbaVillage})
	}
	data := book(t, rows, nil)
	boom := errors.New("disk full")
	fx.im.afterRow = func(n int) error {
		if n == 4 {
			return boom
		}
		return nil
	}
	_, err := fx.im.Elders(ctx, Request{Actor: admin, Scope: haizhou, Data: data})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	fx.im.afterRow = func(n int) error {
		if n == 3 {
			cancel()
		}
		return nil
	}
	_, err = fx.im.Elders(cctx, Request{Actor: admin, Scope: haizhou, Data: data})
	fx.im.afterRow = nil
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if fx.count(t, "elders") != before || fx.count(t, "imports") != beforeImports {
		t.Fatalf("interrupted imports left %d files (was %d)", fx.count(t, "elders"), before)
	}
	rep := run(t, fx, haizhou, data, false)
	if rep.Created != 6 {
		t.Fatalf("after the interruptions: %+v", rep)
	}
}

// The template imports as it is (its example row is skipped), and its
// example row, once made a real row, goes in.
func testTemplate(t *testing.T, fx *fixture) {
	var buf bytes.Buffer
	if err := WriteTemplate(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	dvs, err := f.GetDataValidations(templateSheet)
	if err != nil || len(dvs) < 10 {
		t.Fatalf("%d drop-down lists, %v", len(dvs), err)
	}
	rep := run(t, fx, xinba, buf.Bytes(), true)
	if rep.Rows != 0 || len(rep.Ignored) != 0 {
		t.Fatalf("template as it is: %+v", rep)
	}
	if err := f.SetCellStr(templateSheet, "A2", "1"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := f.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	rep = run(t, fx, xinba, out.Bytes(), true)
	if rep.Created != 1 || len(rep.Problems) != 0 {
		t.Fatalf("example row: %+v", rep)
	}
}

// R-OVS-3: an export is masked by default; an unmasked one needs a
// permitted role, is audited, and imports again unchanged.
func testExport(t *testing.T, fx *fixture) {
	ctx := context.Background()
	county := registry.Actor{UserID: 2, Username: "haizhou", Role: "county"}
	village := registry.Actor{UserID: 3, Username: "xinbacun", Role: "village"}
	f := registry.Filter{AreaCode: "320706102000"}
	var masked bytes.Buffer
	n, err := fx.im.ExportElders(ctx, village, xinba, f, false, exporter.Meta{Title: "老人名册"}, &masked)
	if err != nil || n == 0 {
		t.Fatalf("masked export: %d %v", n, err)
	}
	if bytes.Contains(masked.Bytes(), []byte("320706450607")) {
		t.Fatal("a masked export holds a full ID number")
	}
	if _, err := fx.im.ExportElders(ctx, village, xinba, f, true, exporter.Meta{}, io.Discard); !errors.Is(err, registry.ErrForbidden) {
		t.Fatalf("village unmasked export: %v", err)
	}
	var full bytes.Buffer
	m, err := fx.im.ExportElders(ctx, county, haizhou, f, true, exporter.Meta{Title: "老人名册"}, &full)
	if err != nil || m != n {
		t.Fatalf("unmasked export: %d %v", m, err)
	}
	entries, err := audit.List(ctx, fx.db, audit.Query{TargetType: "area", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, e := range entries {
		if e.Action == "export.elders" {
			outcomes = append(outcomes, e.Actor+":"+e.Outcome+":"+e.Detail)
		}
	}
	// Newest first.
	want := []string{"haizhou:ok:rows=%d unmasked=1 filters=area_code", "xinbacun:denied:unmasked=1 role=village", "xinbacun:ok:rows=%d unmasked=0 filters=area_code"}
	if len(outcomes) != 3 {
		t.Fatalf("audit %q", outcomes)
	}
	for i, w := range want {
		if strings.Contains(w, "%d") {
			w = fmt.Sprintf(w, n)
		}
		if outcomes[i] != w {
			t.Errorf("audit entry %d: %q, want %q", i, outcomes[i], w)
		}
	}
	// The masked file gives the birth month only, as the template asks:
	// the day would tell what the masked ID number hides.
	for _, c := range []struct {
		file    []byte
		pattern string
	}{{masked.Bytes(), `^\d{4}-\d{2}$`}, {full.Bytes(), `^\d{4}-\d{2}-\d{2}$`}} {
		births := column(t, c.file, "出生年月")
		if len(births) != n {
			t.Fatalf("%d birth dates in an export of %d rows", len(births), n)
		}
		for _, b := range births {
			if !regexp.MustCompile(c.pattern).MatchString(b) {
				t.Errorf("birth date %q in an export, want the form %s", b, c.pattern)
			}
		}
	}
	rep := run(t, fx, haizhou, full.Bytes(), true)
	if rep.Unchanged != n || rep.Rows != n || len(rep.Problems) != 0 {
		t.Fatalf("exported file imported again: %+v", rep)
	}
}

// R-REC: a multi-choice cell holding only separators is blank, and a
// blank cell leaves the file's answers as they are.
func testSeparatorsOnly(t *testing.T, fx *fixture) {
	number := id("1940-01-09", 91)
	if rep := run(t, fx, haizhou, book(t, [][]any{{"姓名", "身份证号码", "区划代码", "身体状况", "经济状况"},
		{"冯样本", number, xinbaVillage, "半失能", "低保"}}, nil), false); rep.Created != 1 {
		t.Fatalf("first import %+v", rep)
	}
	for _, cells := range [][]any{{"、、、", "/"}, {" ，；", ""}} {
		rep := run(t, fx, haizhou, book(t, [][]any{{"姓名", "身份证号码", "区划代码", "身体状况", "经济状况"},
			{"冯样本", number, xinbaVillage, cells[0], cells[1]}}, nil), true)
		if rep.Unchanged != 1 || len(rep.Problems) != 0 {
			t.Fatalf("cells %q: %+v", cells, rep)
		}
	}
}

// R-OBJ-1: an import makes files for elders of 60 and over only; a
// younger person (the wrong list, a mistyped number) is refused by name.
func testTooYoung(t *testing.T, fx *fixture) {
	rep := run(t, fx, haizhou, book(t, [][]any{
		{"姓名", "身份证号码", "区划代码"},
		{"孙样本", id("1966-12-03", 81), xinbaVillage}, // 60 on the fixture's day
		{"周样本", id("1966-12-04", 83), xinbaVillage}, // 60 tomorrow
		{"吴样本", id("1990-05-05", 85), xinbaVillage},
		{"郑样本", id("2026-12-02", 87), xinbaVillage},
		{"王样本", badCheck(id("1940-02-02", 89)), xinbaVillage}, // its own fault, not an age
	}, nil), true)
	got := map[int]string{}
	for _, p := range rep.Problems {
		got[p.Row] = p.Column + ": " + p.Message
	}
	if rep.Created != 1 || rep.Rejected != 4 || len(got) != 4 ||
		!strings.Contains(got[3], "现年59岁，未满60周岁") || !strings.Contains(got[4], "现年36岁") || !strings.Contains(got[5], "现年0岁") ||
		!strings.Contains(got[6], "校验") {
		t.Fatalf("created %d rejected %d problems %v", rep.Created, rep.Rejected, got)
	}
}

// R-OBJ-3: a dry run confirmed twice at once (a double click, a retry)
// commits once; the other confirmation is told the file is gone, and the
// import keeps the counts of the commit that happened.
func testConfirmTwice(t *testing.T, fx *fixture) {
	ctx := context.Background()
	rows := [][]any{{"姓名", "身份证号码", "区划代码"}}
	for i := range 5 {
		rows = append(rows, []any{"钱样本", id("1943-03-03", 70+i), xinbaVillage})
	}
	dry := run(t, fx, haizhou, book(t, rows, nil), true)
	if dry.Created != 5 {
		t.Fatalf("dry run %+v", dry)
	}
	before := fx.count(t, "elders")
	var wg sync.WaitGroup
	reps := make([]*Report, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { reps[i], errs[i] = fx.im.Confirm(ctx, admin, haizhou, dry.ImportID) })
	}
	wg.Wait()
	ok, gone := 0, 0
	for i := range 2 {
		switch {
		case errs[i] == nil && reps[i].Created == 5:
			ok++
		case errors.Is(errs[i], ErrGone):
			gone++
		default:
			t.Errorf("confirmation %d: %+v %v", i, reps[i], errs[i])
		}
	}
	if ok != 1 || gone != 1 || fx.count(t, "elders") != before+5 {
		t.Fatalf("two confirmations: %d committed, %d refused, %d new files", ok, gone, fx.count(t, "elders")-before)
	}
	var created int
	if err := fx.db.QueryRow(ctx, "SELECT created FROM imports WHERE id = ?", dry.ImportID).Scan(&created); err != nil || created != 5 {
		t.Fatalf("import record: created %d %v", created, err)
	}
}

// R-OBJ-3: a file of more rows than go to the registry together is read
// as a whole: a duplicate is found across chunks, and every file the
// commit makes has its household, its class, its first version and its
// audit entry, the chain intact.
func testManyRows(t *testing.T, fx *fixture) {
	ctx := context.Background()
	const n = 2*chunkRows + 100
	rows := [][]any{{"姓名", "身份证号码", "区划代码", "居住状况"}}
	for i := range n {
		birth := fmt.Sprintf("1941-%02d-%02d", 1+i%12, 1+i/12%28) // a number's sequence part has room for 500 a day
		rows = append(rows, []any{"韦样本", id(birth, 300+i%200), datunVillage, "独居"})
	}
	rows[chunkRows+200][1] = rows[3][1] // data row chunkRows+199, file row chunkRows+200
	rep := run(t, fx, haizhou, book(t, rows, nil), true)
	dupRow := chunkRows + 201
	if rep.Created != n-1 || rep.Rejected != 1 || len(rep.Problems) != 1 || rep.Problems[0].Row != dupRow ||
		!strings.Contains(rep.Problems[0].Message, "与第4行的身份证号码相同") {
		t.Fatalf("dry run: created %d rejected %d, first problems %+v", rep.Created, rep.Rejected, rep.Problems[:min(3, len(rep.Problems))])
	}
	for i, o := range rep.Outcomes {
		if o.Row != i+2 {
			t.Fatalf("outcome %d is of row %d: outcomes must stay in row order", i, o.Row)
		}
	}
	rows = append(rows[:chunkRows+200], rows[chunkRows+201:]...)
	elders, versions, entries := fx.count(t, "elders"), fx.count(t, "elder_versions"), fx.count(t, "audit_log")
	rep = run(t, fx, haizhou, book(t, rows, nil), false)
	if rep.Status != StatusCommitted || rep.Created != n-1 {
		t.Fatalf("commit: %s, created %d, first problems %+v", rep.Status, rep.Created, rep.Problems[:min(3, len(rep.Problems))])
	}
	if got := fx.count(t, "elders") - elders; got != n-1 {
		t.Fatalf("%d files made, want %d", got, n-1)
	}
	if got := fx.count(t, "elder_versions") - versions; got != n-1 {
		t.Fatalf("%d first versions, want %d", got, n-1)
	}
	if got := fx.count(t, "audit_log") - entries; got < n-1 {
		t.Fatalf("%d audit entries, want one per file at least", got)
	}
	var odd int
	err := fx.db.QueryRow(ctx, "SELECT COUNT(*) FROM elders WHERE area_code = ? AND (household_id <> id OR class <> 'A' OR class_computed_at = '')",
		datunVillage).Scan(&odd)
	if err != nil || odd != 0 {
		t.Fatalf("%d imported files lack their own household or class A (独居, 85 years old): %v", odd, err)
	}
	last := rep.Outcomes[len(rep.Outcomes)-1]
	e, err := fx.reg.Get(ctx, admin, haizhou, last.ElderID)
	if err != nil || e.Class != "A" || len(e.ClassReasons) == 0 {
		t.Fatalf("last row's file %d: %s %v %v", last.ElderID, e.Class, e.ClassReasons, err)
	}
	if _, err := audit.Verify(ctx, fx.db); err != nil {
		t.Fatal(err)
	}
}

// column reads the values under header in the first sheet of an xlsx.
func column(t *testing.T, file []byte, header string) []string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil || len(rows) == 0 {
		t.Fatalf("read sheet: %v", err)
	}
	at := -1
	for i, h := range rows[0] {
		if h == header {
			at = i
		}
	}
	if at < 0 {
		t.Fatalf("no column %s in %q", header, rows[0])
	}
	var out []string
	for _, r := range rows[1:] {
		if at < len(r) {
			out = append(out, r[at])
		}
	}
	return out
}
