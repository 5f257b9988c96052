package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"tanfang/internal/areas"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/idcard"
	"tanfang/internal/policy/mask"
	"tanfang/internal/registry"
	"tanfang/internal/store"
)

// Department lists (R-OBJ-4): the health commission (卫健) sends the elders
// of family-planning special families, the disabled persons' federation
// (残联) the disabled, each by ID number. Reconciling a list against the
// registry shows who agrees, whose facts disagree (fixable in one step,
// audited), and who is on the list but has no file yet: the candidates for
// the census (摸排), so that "no household missed, no person missed" can be
// checked.

var listSpec = newSpec([]field{
	{name: "seq", label: "序号", aliases: []string{"编号"}, kind: kIgnored},
	{name: "name", label: "姓名", kind: kText},
	{name: "id_number", label: "身份证号码", aliases: []string{"身份证号", "公民身份号码", "身份证", "证件号码"}, kind: kID},
	{name: "certificate", label: "残疾证号", aliases: []string{"残疾人证号", "残疾证号码", "第二代残疾人证号"}, kind: kCert},
	{name: "category", label: "残疾类别", aliases: []string{"类别", "残疾类型"}, kind: kText},
	{name: "grade", label: "残疾等级", aliases: []string{"等级", "残疾级别"}, kind: kText},
	{name: "area_code", label: "区划代码", aliases: []string{"村居代码", "统计用区划代码"}, kind: kAreaCode},
	{name: "county", label: "县（区）", aliases: []string{"县区", "区县"}, kind: kCounty},
	{name: "town", label: "乡镇（街道）", aliases: []string{"乡镇", "乡镇街道", "街道"}, kind: kTown},
	{name: "village", label: "村（居）", aliases: []string{"村居", "所属村居", "村社区", "社区"}, kind: kVillage},
	{name: "other", label: "家庭类别", aliases: []string{"特殊家庭类别", "地址", "住址", "性别", "备注", "联系电话"}, kind: kIgnored},
}, "id_number", 1)

// ListKinds names the department lists in Chinese.
var ListKinds = map[string]string{
	KindHealth:     "卫健部门计划生育特殊家庭名单",
	KindDisability: "残联残疾人名单",
}

var categoryNames = map[string]int{"视力": 1, "听力": 2, "言语": 3, "肢体": 4, "智力": 5, "精神": 6, "多重": 7}

// ListMatch is a list row whose person has a file in the caller's scope
// with facts that disagree.
type ListMatch struct {
	Row            int      `json:"row"`
	ElderID        int64    `json:"elder_id"`
	Name           string   `json:"name"`
	IDNumberMasked string   `json:"id_number_masked"`
	AreaCode       string   `json:"area_code"`
	Differences    []string `json:"differences"`
	Fixable        bool     `json:"fixable"` // Apply can set the registry to the list's facts
}

// ListEntry is a list row with no file anywhere: a census candidate.
type ListEntry struct {
	Row            int    `json:"row"`
	Name           string `json:"name"`
	IDNumberMasked string `json:"id_number_masked"`
	AreaCode       string `json:"area_code,omitempty"` // when the list names a village
	Region         string `json:"region"`              // county of issue read from the ID number
}

// ListReport is the outcome of reconciling a list.
type ListReport struct {
	ImportID     int64       `json:"import_id"`
	Kind         string      `json:"kind"`
	FileSHA256   string      `json:"file_sha256"`
	Rows         int         `json:"rows"`
	Agreeing     int         `json:"agreeing"`
	Disagreeing  []ListMatch `json:"disagreeing"`
	Missing      []ListEntry `json:"missing"`
	Elsewhere    int         `json:"elsewhere"`     // has a file in an area outside the caller's scope
	OutsideScope int         `json:"outside_scope"` // no file, and the list places the person outside the scope
	Closed       int         `json:"closed"`        // the file is closed: deceased or moved out
	Problems     []Problem   `json:"problems"`
	Applied      int         `json:"applied,omitempty"`
}

// fix is what Apply writes for one disagreeing match.
type fix struct {
	elderID int64
	version int
	patch   registry.Input
}

// Reconcile compares a department list with the registry and records it;
// the file is kept sealed for KeepFor so Apply can act on it.
func (im *Importer) Reconcile(ctx context.Context, kind string, req Request) (*ListReport, error) {
	if ListKinds[kind] == "" {
		return nil, &FileError{"名单类型应为health（卫健）或disability（残联）"}
	}
	rep, _, err := im.reconcile(ctx, kind, req)
	if err != nil {
		return nil, err
	}
	rec := record{Kind: kind, Actor: req.Actor, AreaCode: req.Scope.Code, FileName: req.FileName, SHA256: rep.FileSHA256, Size: len(req.Data), At: im.now()}
	err = im.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if rec.ID, err = insertRecord(ctx, tx, rec, StatusReconciled); err != nil {
			return err
		}
		return im.finishCounts(ctx, tx, rec, listCounts(rep, StatusReconciled), req.Data)
	})
	if err != nil {
		return nil, err
	}
	rep.ImportID = rec.ID
	return rep, nil
}

// listCounts stores a reconciliation in the imports columns: agreeing as
// unchanged, disagreeing as updated, census candidates as created.
func listCounts(rep *ListReport, status string) counts {
	bad := map[int]bool{}
	for _, p := range rep.Problems {
		bad[p.Row] = true
	}
	return counts{status, rep.Rows, len(rep.Missing), len(rep.Disagreeing), rep.Agreeing, len(bad), rep.Problems}
}

// NotFixableError names elder ids given to Apply that are not among the
// disagreeing files the list can fix.
type NotFixableError struct{ ElderIDs []int64 }

func (e *NotFixableError) Error() string {
	ids := make([]string, len(e.ElderIDs))
	for i, id := range e.ElderIDs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return "档案编号" + strings.Join(ids, "、") + "不在本次核对可更正的不一致名单中，请刷新核对结果后再选择"
}

// Apply sets the facts of the disagreeing files of a reconciled list (all
// fixable ones, or those of elderIDs) to the list's, in one transaction,
// each change a new version of the file, audited.
func (im *Importer) Apply(ctx context.Context, actor registry.Actor, sc areas.Scope, importID int64, elderIDs []int64) (*ListReport, error) {
	r, _, _, err := im.load(ctx, actor, importID)
	if err != nil {
		return nil, err
	}
	if ListKinds[r.Kind] == "" {
		return nil, store.ErrNotFound
	}
	rec, data, err := im.kept(ctx, actor, importID, r.Kind, StatusReconciled)
	if err != nil {
		return nil, err
	}
	rep, fixes, err := im.reconcile(ctx, rec.Kind, Request{Actor: actor, Scope: sc, FileName: rec.FileName, Data: data})
	if err != nil {
		return nil, err
	}
	fixable := map[int64]bool{}
	for _, f := range fixes {
		fixable[f.elderID] = true
	}
	want := map[int64]bool{}
	var unknown []int64
	for _, id := range elderIDs {
		want[id] = true
		if !fixable[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		// Applying nothing would use the reconciliation up.
		return nil, &NotFixableError{ElderIDs: unknown}
	}
	reason := fmt.Sprintf("依据%s（第%d号导入）核对更正", ListKinds[rec.Kind], rec.ID)
	err = im.DB.InTx(ctx, func(tx *store.Tx) error {
		for _, f := range fixes {
			if len(want) > 0 && !want[f.elderID] {
				continue
			}
			if _, _, err := im.Registry.UpdateTx(ctx, tx, actor, sc, f.elderID, f.version, f.patch, reason); err != nil {
				var vc *registry.VersionConflict
				if errors.As(err, &vc) {
					return fmt.Errorf("档案%d在核对后被修改，请重新核对: %w", f.elderID, store.ErrConflict)
				}
				return fmt.Errorf("apply list to elder %d: %w", f.elderID, err)
			}
			rep.Applied++
		}
		c := listCounts(rep, StatusApplied)
		return im.finishCounts(ctx, tx, rec, c, nil)
	})
	if err != nil {
		return nil, err
	}
	rep.ImportID = rec.ID
	return rep, nil
}

func (im *Importer) reconcile(ctx context.Context, kind string, req Request) (*ListReport, []fix, error) {
	sum := sha256.Sum256(req.Data)
	rep := &ListReport{Kind: kind, FileSHA256: hex.EncodeToString(sum[:]), Disagreeing: []ListMatch{}, Missing: []ListEntry{}, Problems: []Problem{}}
	ix, err := loadAreas(ctx, im.Areas, req.Scope)
	if err != nil {
		return nil, nil, err
	}
	t, err := openTable(req.Data, listSpec)
	if err != nil {
		return nil, nil, err
	}
	defer t.close()
	today := age.DateOf(im.now())
	seen := map[string]int{}
	regions := map[string]string{}
	var fixes []fix
	sp := listSpec
	for {
		num, cells, err := t.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		rep.Rows++
		if rep.Rows > MaxRows {
			return nil, nil, &FileError{fmt.Sprintf("文件超过%d行，请拆分后分批核对", MaxRows)}
		}
		bad := func(field, v, msg string) {
			f := sp.index(field)
			rep.Problems = append(rep.Problems, Problem{Row: num, Column: t.columnName(sp, f), Value: v, Message: msg}.clipped())
		}
		raw, isNum := t.value(cells, sp.key)
		typed, msg := readID(raw, isNum)
		if msg != "" {
			bad("id_number", raw, msg)
			continue
		}
		n, err := idcard.ParseAt(typed, today)
		if err != nil {
			bad("id_number", raw, err.Error())
			continue
		}
		if first, dup := seen[n.Value]; dup {
			bad("id_number", raw, fmt.Sprintf("与第%d行的身份证号码相同", first))
			continue
		}
		seen[n.Value] = num
		name, _ := t.value(cells, sp.index("name"))
		name = compactName(name)
		h, found, err := im.Registry.HolderOf(ctx, im.DB, n.Value)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case !found:
			area, outside := listArea(t, ix, cells)
			if outside {
				rep.OutsideScope++
				continue
			}
			region, ok := regions[n.Region]
			if !ok {
				if a, err := im.Areas.Get(ctx, n.Region+"000000"); err == nil {
					region = a.Name
				}
				regions[n.Region] = region
			}
			rep.Missing = append(rep.Missing, ListEntry{Row: num, Name: name, IDNumberMasked: mask.IDNumber(n.Value), AreaCode: area, Region: region})
			continue
		case !h.Active:
			rep.Closed++
			continue
		case !req.Scope.Contains(h.AreaCode):
			rep.Elsewhere++
			continue
		}
		items, _, err := im.Registry.List(ctx, req.Actor, req.Scope, registry.Filter{IDNumber: n.Value, PageSize: 1})
		if err != nil || len(items) == 0 {
			return nil, nil, fmt.Errorf("reconcile row %d: %w", num, errors.Join(err, store.ErrNotFound))
		}
		e := items[0]
		m := ListMatch{Row: num, ElderID: e.ID, Name: e.Name, IDNumberMasked: e.IDNumberMasked, AreaCode: e.AreaCode}
		var patch registry.Input
		switch kind {
		case KindHealth:
			if !e.FamilyPlanningSpecial {
				m.Differences = append(m.Differences, "名单中为计划生育特殊家庭，档案中未标记")
				yes := true
				patch.FamilyPlanningSpecial = &yes
				m.Fixable = true
			}
		case KindDisability:
			cat, grade, cert, problem := listDisability(t, cells, n.Value)
			if problem.message != "" {
				bad(problem.field, problem.value, problem.message)
				continue
			}
			switch {
			case e.DisabilityCategory == 0:
				m.Differences = append(m.Differences, fmt.Sprintf("名单中为%s，档案中未登记残疾证", disabilityText(cat, grade)))
			case e.DisabilityCategory != cat || e.DisabilityGrade != grade:
				m.Differences = append(m.Differences, fmt.Sprintf("名单中为%s，档案中为%s", disabilityText(cat, grade), disabilityText(e.DisabilityCategory, e.DisabilityGrade)))
			}
			if len(m.Differences) > 0 && cert != "" {
				patch.DisabilityCertificate = &cert
				m.Fixable = true
			} else if len(m.Differences) > 0 {
				m.Differences = append(m.Differences, "名单未提供残疾证号，请人工核对")
			}
		}
		if name != "" && name != e.Name {
			m.Differences = append(m.Differences, fmt.Sprintf("姓名不一致：名单为“%s”，档案为“%s”（不自动更正）", name, e.Name))
		}
		if len(m.Differences) == 0 {
			rep.Agreeing++
			continue
		}
		rep.Disagreeing = append(rep.Disagreeing, m)
		if m.Fixable {
			fixes = append(fixes, fix{elderID: e.ID, version: h.Version, patch: patch})
		}
	}
	return rep, fixes, nil
}

// listArea resolves the village a list row names, if any; outside says it
// names one that is not in the caller's scope.
func listArea(t *table, ix *areaIndex, cells []cell) (code string, outside bool) {
	sp := listSpec
	v := func(name string) string { s, _ := t.value(cells, sp.index(name)); return fold(s) }
	if c := plainNumber(v("area_code")); c != "" {
		_, in := ix.byCode[c]
		return c, !in
	}
	if v("village") == "" && v("town") == "" && v("county") == "" {
		return "", false
	}
	hit := ix.resolve(v("county"), v("town"), v("village"))
	return hit.code, hit.code == ""
}

// listDisability reads a disability list row: the 20-character
// certificate gives category and grade (DOMAIN §2); without it the
// category and grade columns do.
func listDisability(t *table, cells []cell, idNumber string) (cat, grade int, cert string, problem cellProblem) {
	sp := listSpec
	raw, isNum := t.value(cells, sp.index("certificate"))
	if raw != "" {
		if sciNotation.MatchString(fold(raw)) || (isNum && len(plainNumber(raw)) > 15) {
			return 0, 0, raw, cellProblem{"certificate", raw, fmt.Sprintf("残疾证号被Excel存成了数字（%s），后几位已丢失，请把该列设为文本后重新填写", general(fold(raw)))}
		}
		d, err := idcard.ParseDisability(raw, idNumber)
		if err != nil {
			return 0, 0, raw, cellProblem{"certificate", raw, err.Error()}
		}
		return d.Category, d.Grade, d.Raw, cellProblem{}
	}
	c, _ := t.value(cells, sp.index("category"))
	g, _ := t.value(cells, sp.index("grade"))
	cat = categoryNames[strings.TrimSuffix(strings.TrimSuffix(c, "残疾"), "类")]
	if n, err := strconv.Atoi(c); err == nil && n >= 1 && n <= 7 {
		cat = n
	}
	grade = gradeOf(g)
	switch {
	case cat == 0:
		return 0, 0, "", cellProblem{"category", c, fmt.Sprintf("缺少残疾证号，残疾类别“%s”无法识别，应为视力、听力、言语、肢体、智力、精神或多重", c)}
	case grade == 0:
		return 0, 0, "", cellProblem{"grade", g, fmt.Sprintf("缺少残疾证号，残疾等级“%s”无法识别，应为一级至四级", g)}
	}
	return cat, grade, "", cellProblem{}
}

// cellProblem is a problem with the cell of field.
type cellProblem struct{ field, value, message string }

func gradeOf(s string) int {
	s = strings.TrimSuffix(strings.TrimSpace(fold(s)), "级")
	for i, w := range []string{"一", "二", "三", "四"} {
		if s == w || s == strconv.Itoa(i+1) {
			return i + 1
		}
	}
	return 0
}

var categoryLabels = []string{"", "视力", "听力", "言语", "肢体", "智力", "精神", "多重"}

func disabilityText(cat, grade int) string {
	if cat < 1 || cat > 7 {
		return fmt.Sprintf("%d级残疾", grade)
	}
	return fmt.Sprintf("%s残疾%d级", categoryLabels[cat], grade)
}
