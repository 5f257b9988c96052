package registry

import (
	"encoding/json"
	"slices"
	"testing"
)

func filled() Elder {
	zero := Money(0)
	return Elder{
		Address: "海滨路12号", AtRegisteredResidence: ptr(true), BodyConditions: []string{"self_care"},
		LivingSituation: "alone", EconomicStatus: []string{"dibao"},
		PensionMonthly: &zero, AssistanceMonthly: &zero, SubsidyMonthly: &zero,
		FirstContact: FirstContact{Name: "张示例", Relation: "child", PhoneMasked: "139****5678", Reachable: true},
		Willing:      ptr(true), Collector: "李采集",
	}
}

func TestCompleteness(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Elder)
		want   []string
	}{
		{"complete without the elder's own phone", func(*Elder) {}, nil},
		{"nothing filled", func(e *Elder) { *e = Elder{} }, []string{
			"住址（门牌号）", "是否在户籍地居住", "身体状况", "居住状况", "对象状况",
			"月养老金（没有填0）", "月社会救助金（没有填0）", "月福利补贴（没有填0）", "第一联系人", "探访意愿", "采集员"}},
		// R-REC-2: a first contact who cannot be reached needs the village's.
		{"first contact unreachable, no village contact", func(e *Elder) { e.FirstContact.Reachable = false },
			[]string{"村（居）指定联系人（第一联系人联系不上）"}},
		{"first contact unreachable, village contact without phone", func(e *Elder) {
			e.FirstContact.Reachable = false
			e.VillageContact = VillageContact{Name: "赵村干"}
		}, []string{"村（居）指定联系人（第一联系人联系不上）"}},
		{"first contact unreachable, village contact reachable", func(e *Elder) {
			e.FirstContact.Reachable = false
			e.VillageContact = VillageContact{Name: "赵村干", PhoneMasked: "151****1234"}
		}, nil},
		{"first contact without phone or relation", func(e *Elder) {
			e.FirstContact.PhoneMasked, e.FirstContact.Relation = "", ""
		}, []string{"第一联系人关系", "第一联系人电话"}},
		{"a village contact does not replace the first contact", func(e *Elder) {
			e.FirstContact = FirstContact{}
			e.VillageContact = VillageContact{Name: "赵村干", PhoneMasked: "151****1234"}
		}, []string{"第一联系人"}},
		{"amount unknown is not amount none", func(e *Elder) { e.SubsidyMonthly = nil }, []string{"月福利补贴（没有填0）"}},
		{"willingness no still answers the question", func(e *Elder) { e.Willing = ptr(false) }, nil},
	}
	for _, c := range cases {
		e := filled()
		c.change(&e)
		got := Completeness(e)
		if !slices.Equal(got, c.want) && (len(got) != 0 || len(c.want) != 0) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestAmountAndMoneyJSON(t *testing.T) {
	var in struct {
		A, B, C *Amount
	}
	if err := json.Unmarshal([]byte(`{"A": 1250.5, "B": "0", "C": null}`), &in); err != nil {
		t.Fatal(err)
	}
	if in.A == nil || *in.A != "1250.5" || in.B == nil || *in.B != "0" || in.C != nil {
		t.Fatalf("decoded %v %v %v", in.A, in.B, in.C)
	}
	var fen *int64
	c := &checker{}
	c.amount("a", "月养老金", in.A, &fen)
	if fen == nil || *fen != 125050 {
		t.Fatalf("1250.5 yuan = %v fen", fen)
	}
	out, err := json.Marshal(struct{ M Money }{Money(125005)})
	if err != nil || string(out) != `{"M":1250.05}` {
		t.Fatalf("Money JSON %s, %v", out, err)
	}
}
