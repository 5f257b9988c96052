package visits

import (
	"fmt"
	"slices"

	"tanfang/internal/policy/age"
)

// BenefitFacts are the parts of an elder's file the benefit rules read
// (R-VST-4). Amounts are monthly, in fen; nil is "not asked", 0 is "none".
type BenefitFacts struct {
	Birth           age.Date
	Economic        []string // registry code words: tekun, dibao, dibao_edge, *_pension, public_retired
	Body            []string // self_care, semi_disabled, disabled, severe_disability, severe_illness
	DisabilityGrade int      // 1–4 from the certificate, 0 none
	Pension         *int64
	Assistance      *int64
	Subsidy         *int64
}

// BenefitFlag says an elder may qualify for a benefit the file does not
// show them receiving. It is a prompt to check and help apply, never a
// decision: the file records amounts, not which scheme pays them.
type BenefitFlag struct {
	Code    string `json:"code"`
	Benefit string `json:"benefit"`
	Reason  string `json:"reason"`
}

func none(fen *int64) bool { return fen == nil || *fen == 0 }

func hasAny(list []string, codes ...string) bool {
	for _, c := range codes {
		if slices.Contains(list, c) {
			return true
		}
	}
	return false
}

// CheckBenefits applies the benefit rules to one elder on today.
func CheckBenefits(f BenefitFacts, today age.Date, r Rules) []BenefitFlag {
	var out []BenefitFlag
	years := -1
	if !f.Birth.IsZero() {
		years = age.Years(f.Birth, today)
	}
	poor := hasAny(f.Economic, "dibao", "tekun")
	severe := f.DisabilityGrade == 1 || f.DisabilityGrade == 2 || slices.Contains(f.Body, "severe_disability")
	if years >= r.OldAgeSubsidyAge && none(f.Subsidy) {
		out = append(out, BenefitFlag{"old_age_subsidy", "高龄津贴",
			fmt.Sprintf("已满%d周岁，档案未记录福利补贴", r.OldAgeSubsidyAge)})
	}
	if slices.Contains(f.Economic, "dibao_edge") && !poor && (severe || hasAny(f.Body, "disabled", "severe_illness")) {
		out = append(out, BenefitFlag{"dibao_single", "最低生活保障（单人户）",
			"低保边缘家庭中的重病、重度残疾或失能人员，可按单人户申请纳入低保"})
	}
	if severe && none(f.Subsidy) {
		out = append(out, BenefitFlag{"severe_disability_care", "重度残疾人护理补贴",
			"持一、二级残疾人证或登记为重残，档案未记录福利补贴"})
	}
	if hasAny(f.Body, "disabled", "semi_disabled") && hasAny(f.Economic, "dibao", "tekun", "dibao_edge") && none(f.Subsidy) {
		out = append(out, BenefitFlag{"disabled_elder_care", "经济困难失能老年人护理补贴",
			"失能或半失能，家庭经济困难，档案未记录福利补贴"})
	}
	if poor && none(f.Assistance) {
		out = append(out, BenefitFlag{"assistance_missing", "低保金或特困供养金",
			"登记为低保或特困人员，档案未记录社会救助金额，请核实是否按时足额领取"})
	}
	if years >= 60 && none(f.Pension) && !hasAny(f.Economic, "resident_pension", "enterprise_pension", "public_retired") {
		out = append(out, BenefitFlag{"resident_pension", "城乡居民基本养老保险待遇",
			"已满60周岁，档案未记录任何养老金，请核实是否领取城乡居民基础养老金"})
	}
	return out
}
