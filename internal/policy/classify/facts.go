// Package classify sorts elders with special difficulties into classes A, B
// and C of 连民养老〔2023〕16号 section 二 (R-CLS-1..4), and says which rule
// matched in words a user can check against the facts.
package classify

import (
	"encoding/json"
	"fmt"

	"tanfang/internal/policy/age"
)

// Living is the 居住状况 of annex 3, plus with_family for none of them.
type Living string

const (
	Alone              Living = "alone"                // 独居
	EmptyNest          Living = "empty_nest"           // 空巢
	WithDependentChild Living = "with_dependent_child" // 长期与无生活自理能力子女共同居住
	WithFamily         Living = "with_family"
)

// Label is the Chinese name, or "" for an unknown value.
func (v Living) Label() string {
	switch v {
	case Alone:
		return "独居"
	case EmptyNest:
		return "空巢"
	case WithDependentChild:
		return "长期与无生活自理能力子女共同居住"
	case WithFamily:
		return "与家人共同居住"
	}
	return ""
}

// Body is one box of the 身体状况 question of annex 3 (several may be ticked).
type Body string

const (
	SelfCare         Body = "self_care"         // 自理
	SemiDisabled     Body = "semi_disabled"     // 半失能
	Disabled         Body = "disabled"          // 失能
	SevereDisability Body = "severe_disability" // 重残
	SevereIllness    Body = "severe_illness"    // 重病
)

// Label is the Chinese name, or "" for an unknown value.
func (v Body) Label() string {
	switch v {
	case SelfCare:
		return "自理"
	case SemiDisabled:
		return "半失能"
	case Disabled:
		return "失能"
	case SevereDisability:
		return "重残"
	case SevereIllness:
		return "重病"
	}
	return ""
}

// Economic is one box of the 对象状况 question of annex 3.
type Economic string

const (
	Tekun             Economic = "tekun"              // 特困供养人员
	Dibao             Economic = "dibao"              // 低保
	DibaoEdge         Economic = "dibao_edge"         // 低保边缘
	ResidentPension   Economic = "resident_pension"   // 居民养老保险
	EnterprisePension Economic = "enterprise_pension" // 企业养老保险
	PublicRetired     Economic = "public_retired"     // 机关、事业单位退休
)

// Label is the Chinese name, or "" for an unknown value.
func (v Economic) Label() string {
	switch v {
	case Tekun:
		return "特困供养人员"
	case Dibao:
		return "低保"
	case DibaoEdge:
		return "低保边缘"
	case ResidentPension:
		return "居民养老保险"
	case EnterprisePension:
		return "企业养老保险"
	case PublicRetired:
		return "机关、事业单位退休"
	}
	return ""
}

// Condition is the state of a partner or of a child the elder looks after.
// "" reads as none.
type Condition string

const (
	CondNone          Condition = "none"
	CondDisabled      Condition = "disabled"       // 失能
	CondDemented      Condition = "demented"       // 失智
	CondDisability    Condition = "disability"     // 残疾 (partner only)
	CondSevereIllness Condition = "severe_illness" // 重病
)

// Label is the Chinese name, or "" for an unknown value.
func (v Condition) Label() string {
	switch v {
	case CondNone, "":
		return "无"
	case CondDisabled:
		return "失能"
	case CondDemented:
		return "失智"
	case CondDisability:
		return "残疾"
	case CondSevereIllness:
		return "重病"
	}
	return ""
}

func (v Condition) present() bool { return v != "" && v != CondNone }

// Assessment is what classification needs from the latest ability
// assessment (GB/T 42195-2022).
type Assessment struct {
	Total      int `json:"total"`
	FinalLevel int `json:"final_level"`
}

// Facts are what the class follows from (R-CLS-4). JSON names follow the API
// contract; birth_date is written YYYY-MM-DD.
type Facts struct {
	BirthDate age.Date `json:"birth_date"`
	// BirthDayAssumed marks a birth date known only to the month (annex 3 asks
	// for 出生年月), counted from the 1st; reasons then say so (DOMAIN §2).
	BirthDayAssumed        bool       `json:"birth_day_assumed,omitempty"`
	LivingSituation        Living     `json:"living_situation"`
	BodyConditions         []Body     `json:"body_conditions"`
	DisabilityGrade        int        `json:"disability_grade"` // from the certificate: 0 none, 1–4
	EconomicStatus         []Economic `json:"economic_status"`
	FamilyPlanningSpecial  bool       `json:"family_planning_special"`
	LeftBehind             bool       `json:"left_behind"`
	PartnerCondition       Condition  `json:"partner_condition"`
	CaresForChildCondition Condition  `json:"cares_for_child_condition"`
	// Assessment is the latest assessment, nil when there is none.
	Assessment *Assessment `json:"assessment,omitempty"`
}

// factsJSON has Facts' fields without its methods, so the JSON methods can
// reuse the struct tags and override only birth_date.
type factsJSON Facts

func (f Facts) MarshalJSON() ([]byte, error) {
	birth := ""
	if !f.BirthDate.IsZero() {
		birth = f.BirthDate.String()
	}
	return json.Marshal(struct {
		factsJSON
		BirthDate string `json:"birth_date"`
	}{factsJSON(f), birth})
}

func (f *Facts) UnmarshalJSON(b []byte) error {
	v := struct {
		*factsJSON
		BirthDate string `json:"birth_date"`
	}{factsJSON: (*factsJSON)(f)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	f.BirthDate = age.Date{}
	if v.BirthDate == "" {
		return nil
	}
	d, err := age.ParseDate(v.BirthDate)
	if err != nil {
		return &FactError{Field: "birth_date", Msg: fmt.Sprintf("出生日期“%s”无效，应为YYYY-MM-DD格式的真实日期", v.BirthDate)}
	}
	f.BirthDate = d
	return nil
}

// FactError names the field of Facts at fault.
type FactError struct {
	Field string // JSON name
	Msg   string // Chinese, names the field and the problem
}

func (e *FactError) Error() string { return e.Msg }

// Validate checks that every value is known and every number in range.
// Classify itself reads unknown values as absent.
func (f Facts) Validate() error {
	if f.BirthDate.IsZero() {
		return &FactError{"birth_date", "缺少出生日期"}
	}
	if f.LivingSituation.Label() == "" {
		if f.LivingSituation == "" {
			return &FactError{"living_situation", "缺少居住状况"}
		}
		return &FactError{"living_situation", fmt.Sprintf("居住状况“%s”无效", f.LivingSituation)}
	}
	for _, b := range f.BodyConditions {
		if b.Label() == "" {
			return &FactError{"body_conditions", fmt.Sprintf("身体状况“%s”无效", b)}
		}
	}
	if f.DisabilityGrade < 0 || f.DisabilityGrade > 4 {
		return &FactError{"disability_grade", fmt.Sprintf("残疾等级应为0（无残疾人证）或1–4级，现为%d", f.DisabilityGrade)}
	}
	for _, e := range f.EconomicStatus {
		if e.Label() == "" {
			return &FactError{"economic_status", fmt.Sprintf("对象状况“%s”无效", e)}
		}
	}
	if f.PartnerCondition.Label() == "" {
		return &FactError{"partner_condition", fmt.Sprintf("老伴状况“%s”无效", f.PartnerCondition)}
	}
	if f.CaresForChildCondition.Label() == "" || f.CaresForChildCondition == CondDisability {
		return &FactError{"cares_for_child_condition", fmt.Sprintf("照料子女状况“%s”无效，应为无、失能、失智或重病", f.CaresForChildCondition)}
	}
	if a := f.Assessment; a != nil {
		if a.Total < 0 || a.Total > 90 {
			return &FactError{"assessment", fmt.Sprintf("能力评估总分应在0–90之间，现为%d", a.Total)}
		}
		if a.FinalLevel < 0 || a.FinalLevel > 4 {
			return &FactError{"assessment", fmt.Sprintf("能力评估最终等级应在0–4之间，现为%d", a.FinalLevel)}
		}
	}
	return nil
}
