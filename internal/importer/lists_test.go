package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"tanfang/internal/registry"
	"tanfang/internal/store"
)

// R-OBJ-4: department lists reconciled by ID number: agreeing, disagreeing
// (fixed in one step, audited), census candidates, elsewhere.
func testReconcileLists(t *testing.T, fx *fixture) {
	db := fx.db
	ctx := context.Background()
	a, b, c := id("1941-01-01", 61), id("1941-01-02", 62), id("1941-01-03", 63)
	d, e := id("1941-01-04", 64), id("1941-01-05", 65)
	yes, no := true, false
	for _, p := range []struct {
		num, area, name string
		fps             bool
	}{{a, xinbaVillage, "甲样本", false}, {b, xinbaVillage, "乙样本", true}, {c, lianyunVillage, "丙样本", false}} {
		fps := &no
		if p.fps {
			fps = &yes
		}
		if _, err := fx.reg.Create(ctx, admin, city, registry.Input{Name: &p.name, IDNumber: &p.num, AreaCode: &p.area, FamilyPlanningSpecial: fps}); err != nil {
			t.Fatal(err)
		}
	}
	health := book(t, [][]any{
		{"卫健委计划生育特殊家庭老年人名单"},
		{"序号", "姓名", "身份证号码", "乡镇", "村居", "家庭类别"},
		{1, "甲样本", a, "新坝镇", "新坝村", "独生子女死亡"},
		{2, "乙样本", b, nil, nil, "独生子女伤残"},
		{3, "丙样本", c, nil, nil, nil},
		{4, "丁样本", d, "新坝镇", "新坝村", nil},
		{5, "戊样本", e, "墟沟街道", "东园社区", nil},
		{6, "己样本", "3.20706E+17", nil, nil, nil},
	}, nil)
	rep, err := fx.im.Reconcile(ctx, KindHealth, Request{Actor: admin, Scope: haizhou, FileName: "卫健.xlsx", Data: health})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 6 || rep.Agreeing != 1 || len(rep.Disagreeing) != 1 || len(rep.Missing) != 1 || rep.Elsewhere != 1 || rep.OutsideScope != 1 || len(rep.Problems) != 1 {
		t.Fatalf("report %+v", rep)
	}
	if m := rep.Disagreeing[0]; m.Row != 3 || !m.Fixable || !strings.Contains(m.Differences[0], "计划生育特殊家庭") {
		t.Fatalf("disagreeing %+v", m)
	}
	if m := rep.Missing[0]; m.Row != 6 || m.Name != "丁样本" || m.AreaCode != xinbaVillage || m.Region != "海州区" || strings.Contains(m.IDNumberMasked, d[6:14]) {
		t.Fatalf("missing %+v", m)
	}
	other := registry.Actor{UserID: 9, Username: "other"}
	if _, err := fx.im.Apply(ctx, other, haizhou, rep.ImportID, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another user applied: %v", err)
	}
	applied, err := fx.im.Apply(ctx, admin, haizhou, rep.ImportID, nil)
	if err != nil || applied.Applied != 1 {
		t.Fatalf("apply: %+v %v", applied, err)
	}
	h, _, _ := fx.reg.HolderOf(ctx, db, a)
	got, _ := fx.reg.Get(ctx, admin, haizhou, h.ElderID)
	if !got.FamilyPlanningSpecial || got.Version != 2 {
		t.Fatalf("after apply: %+v", got)
	}
	var reason string
	if err := db.QueryRow(ctx, "SELECT reason FROM elder_versions WHERE elder_id = ? AND version = 2", h.ElderID).Scan(&reason); err != nil || !strings.Contains(reason, "卫健部门") {
		t.Fatalf("version reason %q %v", reason, err)
	}
	if _, err := fx.im.Apply(ctx, admin, haizhou, rep.ImportID, nil); !errors.Is(err, ErrGone) {
		t.Fatalf("applied twice: %v", err)
	}

	disabled := book(t, [][]any{
		{"姓名", "身份证号码", "残疾类别", "残疾等级", "残疾证号"},
		{"甲样本", a, "肢体", "一级", a + "41"},
		{"乙样本", b, "视力", "二级", nil},
		{"庚样本", b[:17] + "0", nil, nil, nil},
	}, nil)
	rep, err = fx.im.Reconcile(ctx, KindDisability, Request{Actor: admin, Scope: haizhou, Data: disabled})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Disagreeing) != 2 || rep.Disagreeing[0].Fixable == false || rep.Disagreeing[1].Fixable || len(rep.Problems) != 1 {
		t.Fatalf("disability report %+v", rep)
	}
	if !strings.Contains(rep.Disagreeing[0].Differences[0], "肢体残疾1级") || !strings.Contains(strings.Join(rep.Disagreeing[1].Differences, ";"), "未提供残疾证号") {
		t.Fatalf("differences %+v", rep.Disagreeing)
	}
	// Ids the list cannot fix are refused by name, and refusing them uses
	// nothing up: the right apply still works afterwards.
	var nf *NotFixableError
	if _, err := fx.im.Apply(ctx, admin, haizhou, rep.ImportID, []int64{h.ElderID, rep.Disagreeing[1].ElderID, 999999}); !errors.As(err, &nf) ||
		len(nf.ElderIDs) != 2 || !strings.Contains(nf.Error(), "999999") {
		t.Fatalf("apply with ids the list cannot fix: %v", err)
	}
	if _, err := fx.im.Apply(ctx, admin, haizhou, rep.ImportID, []int64{h.ElderID}); err != nil {
		t.Fatal(err)
	}
	got, _ = fx.reg.Get(ctx, admin, haizhou, h.ElderID)
	if got.DisabilityCategory != 4 || got.DisabilityGrade != 1 {
		t.Fatalf("after disability apply: %+v", got)
	}
	// Without a certificate, a category or grade that cannot be read is
	// reported in its own column, with its value.
	rep, err = fx.im.Reconcile(ctx, KindDisability, Request{Actor: admin, Scope: haizhou, Data: book(t, [][]any{
		{"姓名", "身份证号码", "残疾类别", "残疾等级", "残疾证号"},
		{"甲样本", a, "鼻子", "一级", nil},
		{"乙样本", b, "视力", "九级", nil},
	}, nil)})
	if err != nil {
		t.Fatal(err)
	}
	var where []string
	for _, p := range rep.Problems {
		where = append(where, fmt.Sprintf("%d %s %s", p.Row, p.Column, p.Value))
	}
	if strings.Join(where, "; ") != "2 残疾类别 鼻子; 3 残疾等级 九级" {
		t.Fatalf("problems at %q", where)
	}
}
