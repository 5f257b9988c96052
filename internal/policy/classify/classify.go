package classify

import (
	"fmt"
	"slices"
	"strings"

	"tanfang/internal/policy/age"
	"tanfang/internal/policy/assess"
)

// Classes of 16号 section 二, and "none" for elders outside the service.
const (
	ClassA    = "A"
	ClassB    = "B"
	ClassC    = "C"
	ClassNone = "none"
)

// Reason is one rule that matched, in words that name the facts.
type Reason struct {
	Rule string `json:"rule"`
	Text string `json:"text"`
}

// Result is a classification at one date. Reasons hold every rule of the
// winning class that matched; rules of lower classes are left out.
type Result struct {
	Class          string   `json:"class"`
	Reasons        []Reason `json:"reasons"`
	Age            int      `json:"age"`
	RuleSetVersion int      `json:"rule_set_version"` // of the CRuleSet used
}

const (
	scopeAge = 60 // 16号 section 二: 60 周岁及以上
	highAge  = 80 // 高龄
)

// derived holds the facts that follow from Facts at a date: the age and the
// body conditions, widened by the assessment and the certificate grade.
type derived struct {
	age        int
	dayAssumed bool
	grade      int
	bodies     []Body
	assessWhy  map[Body]string // why the assessment implies a condition
}

func derive(f Facts, on age.Date, s assess.Settings) derived {
	d := derived{
		age:        age.Years(f.BirthDate, on),
		dayAssumed: f.BirthDayAssumed,
		grade:      f.DisabilityGrade,
		bodies:     slices.Clone(f.BodyConditions),
		assessWhy:  map[Body]string{},
	}
	if a := f.Assessment; a != nil {
		label, why := assess.Body(a.Total, a.FinalLevel, s)
		if label != assess.BodyNone {
			b := Body(label)
			d.bodies = append(d.bodies, b)
			d.assessWhy[b] = why
		}
	}
	// 重残 is a second-generation certificate of grade 1 or 2 (R-OBJ-2).
	if d.grade == 1 || d.grade == 2 {
		d.bodies = append(d.bodies, SevereDisability)
	}
	return d
}

func (d derived) has(b Body) bool { return slices.Contains(d.bodies, b) }

func (d derived) impaired() bool { return d.has(Disabled) || d.has(SemiDisabled) }

func (d derived) ageText() string {
	if d.dayAssumed {
		return fmt.Sprintf("%d周岁，出生日不详按当月1日计", d.age)
	}
	return fmt.Sprintf("%d周岁", d.age)
}

// bodyText names a condition and, where it was not simply declared, its source.
func (d derived) bodyText(b Body) string {
	if why := d.assessWhy[b]; why != "" {
		return b.Label() + "(" + why + ")"
	}
	if b == SevereDisability && (d.grade == 1 || d.grade == 2) {
		return b.Label() + "(残疾人证" + gradeName(d.grade) + ")"
	}
	return b.Label()
}

// impairedText names 失能 before 半失能 when both hold.
func (d derived) impairedText() string {
	if d.has(Disabled) {
		return d.bodyText(Disabled)
	}
	return d.bodyText(SemiDisabled)
}

func gradeName(g int) string {
	return [...]string{"", "一级", "二级", "三级", "四级"}[g]
}

type rule struct {
	id    string
	class string
	match func(Facts, derived) (string, bool)
}

// abRules are the clauses of 16号 section 二 for classes A and B, in order.
var abRules = []rule{
	// R-CLS-1: 80 周岁及以上的高龄空巢独居老年人.
	{"A1", ClassA, func(f Facts, d derived) (string, bool) {
		if d.age < highAge || !aloneOrEmpty(f) {
			return "", false
		}
		return fmt.Sprintf("80周岁及以上%s(%s)", f.LivingSituation.Label(), d.ageText()), true
	}},
	// R-CLS-1: 低保家庭中失能、半失能的空巢独居老年人.
	{"A2", ClassA, func(f Facts, d derived) (string, bool) {
		if !slices.Contains(f.EconomicStatus, Dibao) || !d.impaired() || !aloneOrEmpty(f) {
			return "", false
		}
		return fmt.Sprintf("低保家庭中%s且%s", d.impairedText(), f.LivingSituation.Label()), true
	}},
	// R-CLS-1: 计划生育特殊家庭中独居、失能、半失能老年人.
	{"A3", ClassA, func(f Facts, d derived) (string, bool) {
		if !f.FamilyPlanningSpecial {
			return "", false
		}
		var parts []string
		if f.LivingSituation == Alone {
			parts = append(parts, Alone.Label())
		}
		if d.impaired() {
			parts = append(parts, d.impairedText())
		}
		if len(parts) == 0 {
			return "", false
		}
		return "计划生育特殊家庭中" + strings.Join(parts, "、"), true
	}},
	// R-CLS-2: 年龄未到 80 周岁，但身体有重残、重病的独居老人.
	{"B1", ClassB, func(f Facts, d derived) (string, bool) {
		if d.age >= highAge || f.LivingSituation != Alone {
			return "", false
		}
		var parts []string
		for _, b := range []Body{SevereDisability, SevereIllness} {
			if d.has(b) {
				parts = append(parts, d.bodyText(b))
			}
		}
		if len(parts) == 0 {
			return "", false
		}
		return fmt.Sprintf("未满80周岁(%s)独居且%s", d.ageText(), strings.Join(parts, "、")), true
	}},
	// R-CLS-2: 两位老年人共同居住且其中一方为失能(失智)、残疾、重病. "其中
	// 一方" is either elder, so the elder's own condition counts as well.
	{"B2", ClassB, func(f Facts, d derived) (string, bool) {
		if f.LivingSituation != EmptyNest {
			return "", false
		}
		var parts []string
		if f.PartnerCondition.present() {
			parts = append(parts, "老伴"+f.PartnerCondition.Label())
		}
		if self := selfCondition(d); self != "" {
			parts = append(parts, "本人"+self)
		}
		if len(parts) == 0 {
			return "", false
		}
		return "两位老年人共同居住(空巢)且" + strings.Join(parts, "、"), true
	}},
	// R-CLS-2: 长期照料失能(失智)、患重大疾病子女的老年人.
	{"B3", ClassB, func(f Facts, d derived) (string, bool) {
		var parts []string
		switch f.CaresForChildCondition {
		case CondDisabled, CondDemented:
			parts = append(parts, "长期照料"+f.CaresForChildCondition.Label()+"子女")
		case CondSevereIllness:
			parts = append(parts, "长期照料患重大疾病子女")
		}
		if f.LivingSituation == WithDependentChild {
			parts = append(parts, WithDependentChild.Label())
		}
		if len(parts) == 0 {
			return "", false
		}
		return strings.Join(parts, "；"), true
	}},
}

func aloneOrEmpty(f Facts) bool {
	return f.LivingSituation == Alone || f.LivingSituation == EmptyNest
}

// selfCondition names the elder's own 失能、残疾 or 重病 for rule B2.
func selfCondition(d derived) string {
	var parts []string
	if d.impaired() {
		parts = append(parts, d.impairedText())
	}
	switch {
	case d.grade > 0:
		parts = append(parts, "残疾(残疾人证"+gradeName(d.grade)+")")
	case d.has(SevereDisability):
		parts = append(parts, SevereDisability.Label())
	}
	if d.has(SevereIllness) {
		parts = append(parts, SevereIllness.Label())
	}
	return strings.Join(parts, "、")
}

// Classify applies the rules of 16号 section 二 to the facts as they stand on
// `on` (R-CLS-4): class A over B over C, C from the county set c, and the
// assessment read through s. Facts should have passed Validate; unknown
// values read as absent.
func Classify(f Facts, on age.Date, c CRuleSet, s assess.Settings) Result {
	d := derive(f, on, s)
	r := Result{Age: d.age, RuleSetVersion: c.Version}
	if d.age < scopeAge {
		r.Class = ClassNone
		r.Reasons = []Reason{{"AGE", fmt.Sprintf("未满60周岁(%s)，不属于特殊困难老年人探访关爱服务对象", d.ageText())}}
		return r
	}
	for _, class := range []string{ClassA, ClassB} {
		for _, ru := range abRules {
			if ru.class != class {
				continue
			}
			if text, ok := ru.match(f, d); ok {
				r.Reasons = append(r.Reasons, Reason{ru.id, text})
			}
		}
		if len(r.Reasons) > 0 {
			r.Class = class
			return r
		}
	}
	for _, cr := range c.Rules {
		if text, ok := cr.match(f, d); ok {
			r.Reasons = append(r.Reasons, Reason{cr.ID, text})
		}
	}
	if len(r.Reasons) > 0 {
		r.Class = ClassC
		return r
	}
	r.Class = ClassNone
	r.Reasons = []Reason{{"NONE", fmt.Sprintf("60周岁及以上(%s)，但不符合A类、B类条件，也不符合本县区C类规则", d.ageText())}}
	return r
}

// NextChange returns the first day after `on` on which the class could change
// by age alone: the 60th or 80th birthday, or a birthday at an age bound of a
// county C rule (R-CLS-4: "an elder turns 80"). It reports false when no
// such birthday is ahead.
func NextChange(f Facts, on age.Date, c CRuleSet) (age.Date, bool) {
	bounds := []int{scopeAge, highAge}
	for _, r := range c.Rules {
		if r.MinAge != 0 {
			bounds = append(bounds, r.MinAge)
		}
		if r.MaxAge != 0 {
			bounds = append(bounds, r.MaxAge+1)
		}
	}
	now := age.Years(f.BirthDate, on)
	next := 0
	for _, b := range bounds {
		if b > now && (next == 0 || b < next) {
			next = b
		}
	}
	if next == 0 {
		return age.Date{}, false
	}
	return age.BirthdayOn(f.BirthDate, f.BirthDate.Year+next), true
}
