package classify

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// CRule is one county criterion for class C (R-CLS-3), kept as data so a
// county administrator can edit it. Every condition that is set must hold;
// a list condition holds when any of its values applies. Age bounds are in
// 周岁 and inclusive; 0 means no bound.
type CRule struct {
	ID                    string     `json:"id"`
	Label                 string     `json:"label"`
	Living                []Living   `json:"living,omitempty"`
	MinAge                int        `json:"min_age,omitempty"`
	MaxAge                int        `json:"max_age,omitempty"`
	Economic              []Economic `json:"economic,omitempty"`
	Body                  []Body     `json:"body,omitempty"`
	LeftBehind            bool       `json:"left_behind,omitempty"`
	FamilyPlanningSpecial bool       `json:"family_planning_special,omitempty"`
}

// CRuleSet is a county's class C criteria. Version goes into every
// classification result, so a class can be traced to the rules that made it.
type CRuleSet struct {
	Version int     `json:"version"`
	County  string  `json:"county,omitempty"` // 6-digit county code; "" for the city-wide default
	Rules   []CRule `json:"rules"`
}

// DefaultCRules is a starting set built from the groups 16号 names in scope
// (R-OBJ-1) that classes A and B leave out. A and B are tried first, so C5
// and C6 only catch elders who are not already A or B.
func DefaultCRules() CRuleSet {
	return CRuleSet{
		Version: 1,
		Rules: []CRule{
			{ID: "C1", Label: "60至79周岁空巢老年人", Living: []Living{EmptyNest}, MinAge: 60, MaxAge: 79},
			{ID: "C2", Label: "60至79周岁独居老年人", Living: []Living{Alone}, MinAge: 60, MaxAge: 79},
			{ID: "C3", Label: "农村留守老年人", LeftBehind: true},
			{ID: "C4", Label: "分散供养特困老年人", Economic: []Economic{Tekun}},
			{ID: "C5", Label: "失能、半失能、重残或重病老年人", Body: []Body{Disabled, SemiDisabled, SevereDisability, SevereIllness}},
			{ID: "C6", Label: "计划生育特殊家庭老年人", FamilyPlanningSpecial: true},
		},
	}
}

// maxAge bounds age conditions to catch typing slips such as 790.
const maxAge = 150

// Validate checks the set with messages a county administrator can act on.
func (c CRuleSet) Validate() error {
	if c.Version < 1 {
		return fmt.Errorf("C类规则集版本号应为正整数，现为%d", c.Version)
	}
	if c.County != "" {
		if _, err := strconv.Atoi(c.County); err != nil || len(c.County) != 6 {
			return fmt.Errorf("C类规则集的县区代码应为6位数字，现为“%s”", c.County)
		}
	}
	seen := map[string]bool{}
	for i, r := range c.Rules {
		where := fmt.Sprintf("C类规则第%d条", i+1)
		if r.ID != "" {
			where += "（" + r.ID + "）"
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%s：%s", where, fmt.Sprintf(format, args...))
		}
		switch {
		case r.ID == "":
			return fail("缺少规则编号")
		case !strings.HasPrefix(r.ID, "C"):
			return fail("规则编号应以C开头，以免与A、B类规则混淆")
		case seen[r.ID]:
			return fail("规则编号与前面的规则重复")
		case strings.TrimSpace(r.Label) == "":
			return fail("缺少规则名称")
		case r.MinAge != 0 && (r.MinAge < 60 || r.MinAge > maxAge):
			return fail("年龄下限应在60–%d周岁之间，现为%d", maxAge, r.MinAge)
		case r.MaxAge != 0 && (r.MaxAge < 60 || r.MaxAge > maxAge):
			return fail("年龄上限应在60–%d周岁之间，现为%d", maxAge, r.MaxAge)
		case r.MaxAge != 0 && r.MinAge > r.MaxAge:
			return fail("年龄下限%d周岁高于上限%d周岁", r.MinAge, r.MaxAge)
		case len(r.Living) == 0 && r.MinAge == 0 && r.MaxAge == 0 && len(r.Economic) == 0 &&
			len(r.Body) == 0 && !r.LeftBehind && !r.FamilyPlanningSpecial:
			// A rule with no condition would put every elder of 60 or over in
			// class C; a county that means it writes min_age 60.
			return fail("至少需要一个条件")
		}
		seen[r.ID] = true
		for _, v := range r.Living {
			if v.Label() == "" {
				return fail("居住状况“%s”无效", v)
			}
		}
		for _, v := range r.Economic {
			if v.Label() == "" {
				return fail("对象状况“%s”无效", v)
			}
		}
		for _, v := range r.Body {
			if v.Label() == "" {
				return fail("身体状况“%s”无效", v)
			}
		}
	}
	return nil
}

// match returns the reason text when every condition of r holds.
func (r CRule) match(f Facts, d derived) (string, bool) {
	var facts []string
	if len(r.Living) > 0 {
		if !slices.Contains(r.Living, f.LivingSituation) {
			return "", false
		}
		facts = append(facts, f.LivingSituation.Label())
	}
	if r.MinAge != 0 || r.MaxAge != 0 {
		if d.age < r.MinAge || (r.MaxAge != 0 && d.age > r.MaxAge) {
			return "", false
		}
		facts = append(facts, d.ageText())
	}
	if len(r.Economic) > 0 {
		var hit []string
		for _, e := range r.Economic {
			if slices.Contains(f.EconomicStatus, e) {
				hit = append(hit, e.Label())
			}
		}
		if len(hit) == 0 {
			return "", false
		}
		facts = append(facts, strings.Join(hit, "、"))
	}
	if len(r.Body) > 0 {
		var hit []string
		for _, b := range r.Body {
			if d.has(b) {
				hit = append(hit, d.bodyText(b))
			}
		}
		if len(hit) == 0 {
			return "", false
		}
		facts = append(facts, strings.Join(hit, "、"))
	}
	if r.LeftBehind {
		if !f.LeftBehind {
			return "", false
		}
		facts = append(facts, "农村留守")
	}
	if r.FamilyPlanningSpecial {
		if !f.FamilyPlanningSpecial {
			return "", false
		}
		facts = append(facts, "计划生育特殊家庭")
	}
	return r.Label + "(" + strings.Join(facts, "，") + ")", true
}
