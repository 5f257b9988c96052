package classify

import (
	"encoding/json"
	"strings"
	"testing"

	"tanfang/internal/policy/age"
	"tanfang/internal/policy/assess"
)

func date(t *testing.T, s string) age.Date {
	t.Helper()
	d, err := age.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// born returns a birth date that makes the elder n 周岁 on evalDay.
func born(t *testing.T, n int) age.Date {
	t.Helper()
	d := date(t, "2026-03-10")
	d.Year -= n
	return d
}

var evalDay = age.Date{Year: 2026, Month: 6, Day: 15}

func rules(r Result) string {
	var ids []string
	for _, x := range r.Reasons {
		ids = append(ids, x.Rule)
	}
	return strings.Join(ids, ",")
}

func texts(r Result) string {
	var ts []string
	for _, x := range r.Reasons {
		ts = append(ts, x.Text)
	}
	return strings.Join(ts, " | ")
}

func TestClassify(t *testing.T) {
	def := assess.DefaultSettings()
	atMost := def
	atMost.Predicate = assess.PredTotalAtMost65
	cases := []struct {
		name  string
		f     func(*Facts)
		on    string // default evalDay
		s     assess.Settings
		class string
		rules string
		text  string
	}{
		// R-CLS-1 A1 and R-CLS-4: the day before and the day of the 80th birthday.
		{"79 alone, day before 80th", func(f *Facts) { f.BirthDate = date(t, "1946-12-03"); f.LivingSituation = Alone }, "2026-12-02", def, ClassC, "C2", "79周岁"},
		{"80 alone, on 80th birthday", func(f *Facts) { f.BirthDate = date(t, "1946-12-03"); f.LivingSituation = Alone }, "2026-12-03", def, ClassA, "A1", "80周岁及以上独居(80周岁)"},
		{"82 empty nest", func(f *Facts) { f.BirthDate = born(t, 82); f.LivingSituation = EmptyNest }, "", def, ClassA, "A1", "80周岁及以上空巢(82周岁)"},
		{"29 Feb birthday, 28 Feb of the 80th year", func(f *Facts) { f.BirthDate = date(t, "1944-02-29"); f.LivingSituation = Alone }, "2024-02-28", def, ClassC, "C2", "79周岁"},
		{"29 Feb birthday, 29 Feb of the 80th year", func(f *Facts) { f.BirthDate = date(t, "1944-02-29"); f.LivingSituation = Alone }, "2024-02-29", def, ClassA, "A1", "(80周岁)"},
		{"birth day assumed", func(f *Facts) {
			f.BirthDate = date(t, "1940-05-01")
			f.BirthDayAssumed = true
			f.LivingSituation = Alone
		}, "", def, ClassA, "A1", "出生日不详按当月1日计"},
		{"85 with family is not A1", func(f *Facts) { f.BirthDate = born(t, 85); f.LivingSituation = WithFamily }, "", def, ClassNone, "NONE", "不符合"},

		// R-CLS-1 A2 and R-OBJ-2: 失能/半失能 below 65 points, default predicate.
		{"dibao alone, total 64", func(f *Facts) { f.EconomicStatus = []Economic{Dibao}; f.Assessment = &Assessment{64, 2} }, "", def, ClassA, "A2", "低保家庭中半失能(能力评估总分64分，低于65分)且独居"},
		{"dibao alone, total 65", func(f *Facts) { f.EconomicStatus = []Economic{Dibao}; f.Assessment = &Assessment{65, 2} }, "", def, ClassC, "C2", ""},
		{"dibao alone, total 66", func(f *Facts) { f.EconomicStatus = []Economic{Dibao}; f.Assessment = &Assessment{66, 1} }, "", def, ClassC, "C2", ""},
		{"dibao alone, total 65, predicate <= 65", func(f *Facts) { f.EconomicStatus = []Economic{Dibao}; f.Assessment = &Assessment{65, 2} }, "", atMost, ClassA, "A2", "不高于65分"},
		{"dibao empty nest, final level 3", func(f *Facts) {
			f.LivingSituation = EmptyNest
			f.EconomicStatus = []Economic{Dibao}
			f.Assessment = &Assessment{70, 3}
		}, "", def, ClassA, "A2", "失能(能力评估最终等级为重度失能)且空巢"},
		{"dibao alone, declared semi-disabled", func(f *Facts) { f.EconomicStatus = []Economic{Dibao}; f.BodyConditions = []Body{SemiDisabled} }, "", def, ClassA, "A2", "低保家庭中半失能且独居"},
		{"dibao edge is not dibao", func(f *Facts) { f.EconomicStatus = []Economic{DibaoEdge}; f.BodyConditions = []Body{Disabled} }, "", def, ClassC, "C2,C5", ""},

		// R-CLS-1 A3.
		{"family planning, with family, disabled", func(f *Facts) {
			f.LivingSituation = WithFamily
			f.FamilyPlanningSpecial = true
			f.BodyConditions = []Body{Disabled}
		}, "", def, ClassA, "A3", "计划生育特殊家庭中失能"},
		{"family planning, with family, self-care", func(f *Facts) { f.LivingSituation = WithFamily; f.FamilyPlanningSpecial = true }, "", def, ClassC, "C6", "计划生育特殊家庭"},

		// R-CLS-2 B1: 重残 is grade 1 or 2.
		{"alone, grade 2", func(f *Facts) { f.DisabilityGrade = 2 }, "", def, ClassB, "B1", "未满80周岁(70周岁)独居且重残(残疾人证二级)"},
		{"alone, grade 3", func(f *Facts) { f.DisabilityGrade = 3 }, "", def, ClassC, "C2", ""},
		{"alone, severe illness", func(f *Facts) { f.BodyConditions = []Body{SevereIllness} }, "", def, ClassB, "B1", "独居且重病"},
		{"empty nest, severe illness is not B1", func(f *Facts) { f.LivingSituation = EmptyNest; f.BodyConditions = []Body{SevereIllness} }, "", def, ClassB, "B2", "本人重病"},

		// R-CLS-2 B2: a couple where only the partner is disabled.
		{"couple, partner disabled", func(f *Facts) { f.LivingSituation = EmptyNest; f.PartnerCondition = CondDisabled }, "", def, ClassB, "B2", "两位老年人共同居住(空巢)且老伴失能"},
		{"couple, partner demented", func(f *Facts) { f.LivingSituation = EmptyNest; f.PartnerCondition = CondDemented }, "", def, ClassB, "B2", "老伴失智"},
		{"couple, self grade 4", func(f *Facts) { f.LivingSituation = EmptyNest; f.DisabilityGrade = 4 }, "", def, ClassB, "B2", "本人残疾(残疾人证四级)"},
		{"couple, both well", func(f *Facts) { f.LivingSituation = EmptyNest; f.PartnerCondition = CondNone }, "", def, ClassC, "C1", "60至79周岁空巢老年人(空巢，70周岁)"},
		{"partner disabled but not a two-elder home", func(f *Facts) { f.LivingSituation = WithFamily; f.PartnerCondition = CondDisabled }, "", def, ClassNone, "NONE", ""},

		// R-CLS-2 B3.
		{"cares for seriously ill child", func(f *Facts) { f.LivingSituation = WithFamily; f.CaresForChildCondition = CondSevereIllness }, "", def, ClassB, "B3", "长期照料患重大疾病子女"},
		{"lives with dependent child", func(f *Facts) { f.LivingSituation = WithDependentChild }, "", def, ClassB, "B3", "长期与无生活自理能力子女共同居住"},

		// A beats B: only the winning class's reasons are listed.
		{"A over B", func(f *Facts) {
			f.FamilyPlanningSpecial = true
			f.BodyConditions = []Body{SevereIllness}
		}, "", def, ClassA, "A3", "计划生育特殊家庭中独居"},
		{"several A reasons", func(f *Facts) {
			f.BirthDate = born(t, 83)
			f.FamilyPlanningSpecial = true
			f.EconomicStatus = []Economic{Dibao}
			f.BodyConditions = []Body{Disabled}
		}, "", def, ClassA, "A1,A2,A3", "计划生育特殊家庭中独居、失能"},

		// R-CLS-3 default C rules.
		{"left behind", func(f *Facts) { f.LivingSituation = WithFamily; f.LeftBehind = true }, "", def, ClassC, "C3", "农村留守老年人(农村留守)"},
		{"tekun", func(f *Facts) { f.LivingSituation = WithFamily; f.EconomicStatus = []Economic{ResidentPension, Tekun} }, "", def, ClassC, "C4", "分散供养特困老年人(特困供养人员)"},
		{"grade 3 with family", func(f *Facts) { f.LivingSituation = WithFamily; f.DisabilityGrade = 3 }, "", def, ClassNone, "NONE", ""},
		{"grade 1 with family", func(f *Facts) { f.LivingSituation = WithFamily; f.DisabilityGrade = 1 }, "", def, ClassC, "C5", "重残(残疾人证一级)"},

		// R-OBJ-1: under 60 is out of scope whatever else holds.
		{"under 60", func(f *Facts) {
			f.BirthDate = born(t, 59)
			f.BodyConditions = []Body{Disabled}
			f.FamilyPlanningSpecial = true
		}, "", def, ClassNone, "AGE", "未满60周岁(59周岁)"},
		{"none matching", func(f *Facts) { f.LivingSituation = WithFamily; f.EconomicStatus = []Economic{PublicRetired} }, "", def, ClassNone, "NONE", "60周岁及以上(70周岁)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := Facts{BirthDate: born(t, 70), LivingSituation: Alone}
			c.f(&f)
			if err := f.Validate(); err != nil {
				t.Fatalf("facts invalid: %v", err)
			}
			on := evalDay
			if c.on != "" {
				on = date(t, c.on)
			}
			r := Classify(f, on, DefaultCRules(), c.s)
			if r.Class != c.class || rules(r) != c.rules || !strings.Contains(texts(r), c.text) {
				t.Errorf("got %s [%s] %q, want %s [%s] containing %q", r.Class, rules(r), texts(r), c.class, c.rules, c.text)
			}
			if r.Age != age.Years(f.BirthDate, on) || r.RuleSetVersion != 1 {
				t.Errorf("age %d version %d", r.Age, r.RuleSetVersion)
			}
		})
	}
}

// R-CLS-3: a county's own class C criteria, edited as data.
func TestCustomCounty(t *testing.T) {
	const doc = `{"version": 7, "county": "320707", "rules": [
		{"id": "C1", "label": "75周岁及以上低保边缘老年人", "min_age": 75, "economic": ["dibao_edge"]},
		{"id": "C9", "label": "与家人同住的重病老年人", "living": ["with_family"], "body": ["severe_illness"]}
	]}`
	var set CRuleSet
	if err := json.Unmarshal([]byte(doc), &set); err != nil {
		t.Fatal(err)
	}
	if err := set.Validate(); err != nil {
		t.Fatal(err)
	}
	s := assess.DefaultSettings()
	cases := []struct {
		f     Facts
		class string
		rules string
		text  string
	}{
		{Facts{BirthDate: born(t, 76), LivingSituation: WithFamily, EconomicStatus: []Economic{DibaoEdge}}, ClassC, "C1", "75周岁及以上低保边缘老年人(76周岁，低保边缘)"},
		{Facts{BirthDate: born(t, 74), LivingSituation: WithFamily, EconomicStatus: []Economic{DibaoEdge}}, ClassNone, "NONE", ""},
		{Facts{BirthDate: born(t, 76), LivingSituation: WithFamily, EconomicStatus: []Economic{DibaoEdge}, BodyConditions: []Body{SevereIllness}}, ClassC, "C1,C9", "与家人共同居住，重病"},
		// Default C2 is gone in this county: a 70-year-old living alone is not C here.
		{Facts{BirthDate: born(t, 70), LivingSituation: Alone}, ClassNone, "NONE", ""},
	}
	for i, c := range cases {
		r := Classify(c.f, evalDay, set, s)
		if r.Class != c.class || rules(r) != c.rules || !strings.Contains(texts(r), c.text) || r.RuleSetVersion != 7 {
			t.Errorf("case %d: got %s [%s] %q v%d, want %s [%s] containing %q", i, r.Class, rules(r), texts(r), r.RuleSetVersion, c.class, c.rules, c.text)
		}
	}
}

// R-CLS-3: county rule sets are checked before use.
func TestCRuleSetValidate(t *testing.T) {
	if err := DefaultCRules().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	ok := CRule{ID: "C1", Label: "x", LeftBehind: true}
	cases := []struct {
		set  CRuleSet
		want string
	}{
		{CRuleSet{Version: 0}, "版本号"},
		{CRuleSet{Version: 1, County: "3207"}, "6位数字"},
		{CRuleSet{Version: 1, Rules: []CRule{{Label: "x", LeftBehind: true}}}, "第1条：缺少规则编号"},
		{CRuleSet{Version: 1, Rules: []CRule{{ID: "A1", Label: "x", LeftBehind: true}}}, "以C开头"},
		{CRuleSet{Version: 1, Rules: []CRule{ok, ok}}, "第2条（C1）：规则编号与前面的规则重复"},
		{CRuleSet{Version: 1, Rules: []CRule{{ID: "C1", LeftBehind: true}}}, "缺少规则名称"},
		{CRuleSet{Version: 1, Rules: []CRule{{ID: "C1", Label: "x"}}}, "至少需要一个条件"},
		{CRuleSet{Version: 1, Rules: []CRule{{ID: "C1", Label: "x", MinAge: 50}}}, "年龄下限应在60"},
		{CRuleSet{Version: 1, Rules: []CRule{{ID: "C1", Label: "x", MinAge: 80, MaxAge: 70}}}, "年龄下限80周岁高于上限70周岁"},
		{CRuleSet{Version: 1, Rules: []CRule{{ID: "C1", Label: "x", Living: []Living{"cave"}}}}, "居住状况“cave”无效"},
		{CRuleSet{Version: 1, Rules: []CRule{{ID: "C1", Label: "x", Economic: []Economic{"rich"}}}}, "对象状况“rich”无效"},
		{CRuleSet{Version: 1, Rules: []CRule{{ID: "C1", Label: "x", Body: []Body{"tired"}}}}, "身体状况“tired”无效"},
	}
	for _, c := range cases {
		err := c.set.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.set, err, c.want)
		}
	}
}

// R-CLS-4: the daily job finds elders crossing an age boundary.
func TestNextChange(t *testing.T) {
	custom := CRuleSet{Version: 1, Rules: []CRule{{ID: "C1", Label: "x", MinAge: 75, Living: []Living{WithFamily}}}}
	cases := []struct {
		birth, on string
		set       CRuleSet
		want      string // "" for none
	}{
		{"1966-07-01", "2026-06-15", DefaultCRules(), "2026-07-01"}, // 59: the 60th birthday
		{"1950-03-10", "2026-06-15", DefaultCRules(), "2030-03-10"}, // 76: the 80th
		{"1946-12-03", "2026-12-02", DefaultCRules(), "2026-12-03"}, // the day before 80
		{"1946-12-03", "2026-12-03", DefaultCRules(), ""},           // 80 today: nothing ahead
		{"1944-02-29", "2023-06-01", DefaultCRules(), "2024-02-29"}, // 80th falls in a leap year
		{"1952-02-29", "2026-06-15", custom, "2027-03-01"},          // 74: 75th in a common year
		{"1952-02-29", "2026-06-15", CRuleSet{}, "2032-02-29"},
	}
	for _, c := range cases {
		got, ok := NextChange(Facts{BirthDate: date(t, c.birth)}, date(t, c.on), c.set)
		if (c.want == "") == ok || (ok && got.String() != c.want) {
			t.Errorf("NextChange(%s, %s) = %v %v, want %q", c.birth, c.on, got, ok, c.want)
		}
		if ok {
			// The class can only change by age on that day if the age changes.
			before := age.Years(date(t, c.birth), got.AddDays(-1))
			if age.Years(date(t, c.birth), got) != before+1 {
				t.Errorf("%s: no birthday on %v", c.birth, got)
			}
		}
	}
}

// R-OBJ-2: facts are checked field by field, in Chinese.
func TestFactsValidate(t *testing.T) {
	base := Facts{BirthDate: born(t, 70), LivingSituation: Alone}
	cases := []struct {
		edit func(*Facts)
		want string
	}{
		{func(f *Facts) { f.BirthDate = age.Date{} }, "缺少出生日期"},
		{func(f *Facts) { f.LivingSituation = "" }, "缺少居住状况"},
		{func(f *Facts) { f.LivingSituation = "boat" }, "居住状况“boat”无效"},
		{func(f *Facts) { f.BodyConditions = []Body{"x"} }, "身体状况“x”无效"},
		{func(f *Facts) { f.DisabilityGrade = 5 }, "现为5"},
		{func(f *Facts) { f.EconomicStatus = []Economic{"x"} }, "对象状况“x”无效"},
		{func(f *Facts) { f.PartnerCondition = "x" }, "老伴状况“x”无效"},
		{func(f *Facts) { f.CaresForChildCondition = CondDisability }, "照料子女状况"},
		{func(f *Facts) { f.Assessment = &Assessment{91, 0} }, "总分应在0–90之间，现为91"},
		{func(f *Facts) { f.Assessment = &Assessment{50, 5} }, "最终等级应在0–4之间"},
	}
	for _, c := range cases {
		f := base
		c.edit(&f)
		err := f.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err %v, want %q", err, c.want)
		}
	}
	if err := base.Validate(); err != nil {
		t.Errorf("base: %v", err)
	}
}

// The API contract's field names, with birth_date as YYYY-MM-DD.
func TestFactsJSON(t *testing.T) {
	in := `{"birth_date":"1946-12-03","living_situation":"empty_nest","body_conditions":["semi_disabled"],
		"disability_grade":2,"economic_status":["dibao"],"family_planning_special":true,"left_behind":false,
		"partner_condition":"demented","cares_for_child_condition":"none","assessment":{"total":60,"final_level":2}}`
	var f Facts
	if err := json.Unmarshal([]byte(in), &f); err != nil {
		t.Fatal(err)
	}
	if f.BirthDate != date(t, "1946-12-03") || f.LivingSituation != EmptyNest || f.DisabilityGrade != 2 ||
		f.PartnerCondition != CondDemented || f.Assessment == nil || f.Assessment.Total != 60 || !f.FamilyPlanningSpecial {
		t.Fatalf("decoded %+v", f)
	}
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"birth_date":"1946-12-03"`) || strings.Count(string(out), "birth_date") != 1 {
		t.Errorf("encoded %s", out)
	}
	var back Facts
	if err := json.Unmarshal(out, &back); err != nil || back.BirthDate != f.BirthDate || back.Assessment.Total != 60 {
		t.Errorf("round trip %+v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"birth_date":"1946-02-30"}`), &f); err == nil || !strings.Contains(err.Error(), "出生日期") {
		t.Errorf("bad date: %v", err)
	}
}
