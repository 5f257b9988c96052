package visits

import (
	"slices"
	"strings"
)

// Choice is a code word with the Chinese label the record form shows.
type Choice struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// Answer scales of annex 3's second part (R-VST-6).
var (
	Conditions = []Choice{{"good", "较好"}, {"fair", "一般"}, {"poor", "较差"}}
	Trends     = []Choice{{"better", "转好"}, {"same", "无变化"}, {"worse", "转严重"}}
	Safeties   = []Choice{{"safe", "安全"}, {"fairly_safe", "较安全"}, {"unsafe", "不安全"}}
	// ServiceNeeds are R-VST-5's services; the same words name what a
	// provider of the referral directory offers.
	ServiceNeeds = []Choice{
		{"meal", "助餐"}, {"bath", "助浴"}, {"daily_care", "日常照料"},
		{"rehab", "康复护理"}, {"adaptation", "适老化改造"}, {"doctor", "家庭医生"},
	}
	// Hardships are R-VST-4's five areas of difficulty.
	Hardships = []Choice{{"food", "吃"}, {"clothing", "穿"}, {"housing", "住"}, {"transport", "行"}, {"medical", "医"}}
	Modes     = []Choice{{"home", "上门"}, {"phone", "电话"}, {"video", "视频"}}
	Outcomes  = []Choice{{"done", "完成"}, {"not_home", "未见到本人（空访）"}, {"refused", "拒绝探访"}}
)

// Label returns the label of code among choices, or code itself.
func Label(choices []Choice, code string) string {
	for _, c := range choices {
		if c.Code == code {
			return c.Label
		}
	}
	return code
}

func known(choices []Choice, code string) bool {
	return slices.ContainsFunc(choices, func(c Choice) bool { return c.Code == code })
}

// Findings are the ratings of one visit; "" is not assessed.
type Findings struct {
	Expression   string `json:"expression"`
	Mobility     string `json:"mobility"`
	Mental       string `json:"mental"`
	Illness      string `json:"illness"`
	IllnessKind  string `json:"illness_kind"`
	House        string `json:"house"`
	Gas          string `json:"gas"`
	WaterHeating string `json:"water_heating"`
	Electricity  string `json:"electricity"`
	Hygiene      string `json:"hygiene"`
	Supporter    string `json:"supporter"`
}

// rated is one rated item of the form: its JSON field, label, scale and value.
type rated struct {
	Field, Label string
	Scale        []Choice
	Value        *string
}

func (f *Findings) items() []rated {
	return []rated{
		{"expression", "表达能力", Conditions, &f.Expression},
		{"mobility", "行动能力", Conditions, &f.Mobility},
		{"mental", "精神状态", Conditions, &f.Mental},
		{"illness", "疾病情况", Trends, &f.Illness},
		{"house", "房屋安全", Safeties, &f.House},
		{"gas", "燃气安全", Safeties, &f.Gas},
		{"water_heating", "用水取暖安全", Safeties, &f.WaterHeating},
		{"electricity", "用电安全", Safeties, &f.Electricity},
		{"hygiene", "家庭卫生状况", Conditions, &f.Hygiene},
		{"supporter", "赡养（扶养）人履责情况", Conditions, &f.Supporter},
	}
}

// Follow-up kinds (R-VST-1..5).
const (
	KindHealth      = "health"
	KindSafety      = "safety"
	KindFamilyDuty  = "family_duty"
	KindHardship    = "hardship_benefits"
	KindServiceNeed = "service_need"
)

// Kinds in the order pages list them.
var Kinds = []Choice{
	{KindHealth, "健康关注"}, {KindSafety, "居家安全"}, {KindFamilyDuty, "家庭赡养"},
	{KindHardship, "困难帮扶与福利"}, {KindServiceNeed, "服务需求"},
}

// Severities, most urgent first; each has its own due delay (Rules.DueDays).
const (
	SevUrgent = "urgent"
	SevHigh   = "high"
	SevMedium = "medium"
	SevLow    = "low"
)

var Severities = []Choice{{SevUrgent, "紧急"}, {SevHigh, "高"}, {SevMedium, "中"}, {SevLow, "低"}}

// Concern is a finding of a visit that needs following up.
type Concern struct {
	Kind     string
	Source   string // the finding it comes from: "gas", "needs", …
	Severity string
	Summary  string
}

// bad tells, per rated field, the answer that opens a follow-up and with
// what kind and severity. Gas and electricity hazards can kill within the
// day, so they are urgent; other unsafe findings and worsening illness are
// high; a poor rating is medium (R-VST-1, R-VST-2, R-VST-3).
var bad = map[string]struct {
	answer, kind, severity string
}{
	"expression":    {"poor", KindHealth, SevMedium},
	"mobility":      {"poor", KindHealth, SevMedium},
	"mental":        {"poor", KindHealth, SevMedium},
	"illness":       {"worse", KindHealth, SevHigh},
	"house":         {"unsafe", KindSafety, SevHigh},
	"gas":           {"unsafe", KindSafety, SevUrgent},
	"water_heating": {"unsafe", KindSafety, SevHigh},
	"electricity":   {"unsafe", KindSafety, SevUrgent},
	"hygiene":       {"poor", KindServiceNeed, SevMedium},
	"supporter":     {"poor", KindFamilyDuty, SevMedium},
}

// Concerns lists what a visit's record calls for following up, one per
// source. Only a completed visit's ratings count: nobody was seen on an
// empty visit. Needs and problems count whatever the outcome, since a
// visitor may see a hazard from outside.
func Concerns(r Record) []Concern {
	var out []Concern
	if r.Outcome == "done" {
		f := r.Findings
		for _, it := range f.items() {
			b := bad[it.Field]
			if *it.Value != b.answer {
				continue
			}
			summary := it.Label + Label(it.Scale, b.answer)
			if it.Field == "illness" && f.IllnessKind != "" {
				summary += "（" + f.IllnessKind + "）"
			}
			out = append(out, Concern{b.kind, it.Field, b.severity, summary})
		}
	}
	if len(r.Hardships) > 0 {
		out = append(out, Concern{KindHardship, "hardships", SevMedium, "生活困难：" + labels(Hardships, r.Hardships)})
	}
	if len(r.ServiceNeeds) > 0 || r.Needs != "" {
		var parts []string
		if len(r.ServiceNeeds) > 0 {
			parts = append(parts, labels(ServiceNeeds, r.ServiceNeeds))
		}
		if r.Needs != "" {
			parts = append(parts, r.Needs)
		}
		out = append(out, Concern{KindServiceNeed, "needs", SevLow, "服务需求：" + strings.Join(parts, "；")})
	}
	if r.Problems != "" {
		kind := r.ProblemsKind
		if kind == "" {
			kind = KindHardship
		}
		out = append(out, Concern{kind, "problems", SevMedium, "发现问题：" + r.Problems})
	}
	return out
}

// Cleared reports whether a completed visit rated source as no longer bad,
// which verifies a resolved follow-up from it (跟踪回访). Text sources
// (needs, problems) are verified by a person.
func Cleared(r Record, source string) bool {
	if r.Outcome != "done" {
		return false
	}
	b, ok := bad[source]
	if !ok {
		return false
	}
	for _, it := range r.Findings.items() {
		if it.Field == source {
			return *it.Value != "" && *it.Value != b.answer
		}
	}
	return false
}

func labels(choices []Choice, codes []string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = Label(choices, c)
	}
	return strings.Join(out, "、")
}

// Rated is one rated question of the form with its answer scale.
type Rated struct {
	Field, Label string
	Scale        []Choice
}

// RatedQuestions lists the rated questions in form order: health (4),
// home safety (4), then hygiene and the supporter.
func RatedQuestions() []Rated {
	var f Findings
	var out []Rated
	for _, it := range f.items() {
		out = append(out, Rated{it.Field, it.Label, it.Scale})
	}
	return out
}

// FindingItem is one rated field as pages show it.
type FindingItem struct {
	Field, Label, Code, Text string
	Bad                      bool // the answer that opens a follow-up
}

// Items lists the rated fields in form order.
func (f Findings) Items() []FindingItem {
	var out []FindingItem
	for _, it := range f.items() {
		text := "未评估"
		if *it.Value != "" {
			text = Label(it.Scale, *it.Value)
		}
		out = append(out, FindingItem{it.Field, it.Label, *it.Value, text, *it.Value == bad[it.Field].answer})
	}
	return out
}
