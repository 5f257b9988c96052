package assess

import (
	"fmt"
	"slices"
	"strings"
)

// RiskEvents are the A.2.14 care-risk events of the last 30 days, per
// category: 0 无, 1 一次, 2 两次, 3 三次及以上.
type RiskEvents struct {
	Fall      int `json:"fall"`      // 跌倒
	Choking   int `json:"choking"`   // 噎食
	SelfHarm  int `json:"self_harm"` // 自杀、自伤
	Wandering int `json:"wandering"` // 走失
	Other     int `json:"other"`     // 其他
}

// maxRiskCount is the top answer, meaning "3次及以上".
const maxRiskCount = 3

type riskCategory struct {
	name  string
	count int
}

func (r RiskEvents) categories() []riskCategory {
	return []riskCategory{
		{"跌倒", r.Fall},
		{"噎食", r.Choking},
		{"自杀、自伤", r.SelfHarm},
		{"走失", r.Wandering},
		{"其他", r.Other},
	}
}

// Input is one assessment: the 26 item scores by code, and the facts behind
// the C.4 adjustment grounds.
type Input struct {
	Items          map[string]int `json:"items"`
	Coma           bool           `json:"coma"`            // A.5.11 昏迷
	Dementia       bool           `json:"dementia"`        // A.4.1 痴呆 F00–F03
	MentalDisorder bool           `json:"mental_disorder"` // A.4.1 精神科诊断 F04–F99
	RiskEvents     RiskEvents     `json:"risk_events"`     // A.2.14
}

// IndicatorScore is the sum of one indicator's items.
type IndicatorScore struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Score int    `json:"score"`
	Max   int    `json:"max"`
}

// Ground is one C.4 ground that changed the level, or the cap at 完全失能.
type Ground struct {
	Rule string `json:"rule"` // "coma", "diagnosis", "risk_events", "cap"
	Text string `json:"text"`
}

// Result is everything an assessment record keeps (DOMAIN §1).
type Result struct {
	Indicators       []IndicatorScore `json:"indicators"`
	Total            int              `json:"total"`
	InitialLevel     int              `json:"initial_level"`
	InitialLevelName string           `json:"initial_level_name"`
	Grounds          []Ground         `json:"grounds"`
	FinalLevel       int              `json:"final_level"`
	FinalLevelName   string           `json:"final_level_name"`
	BodyLabel        BodyLabel        `json:"body_label"`
	BodyReason       string           `json:"body_reason"`
	Settings         []SettingNote    `json:"settings"`
}

// MaxLevel is 能力完全丧失 (完全失能); no ground raises a level beyond it.
const MaxLevel = 4

// Level maps a total to the initial level of the C.3 bands (DOMAIN §1.3).
func Level(total int) int {
	switch {
	case total >= 90:
		return 0
	case total >= 66:
		return 1
	case total >= 46:
		return 2
	case total >= 30:
		return 3
	}
	return 4
}

// LevelName is the common short name of a level (能力完好, 轻度失能, …).
func LevelName(level int) string {
	switch level {
	case 0:
		return "能力完好"
	case 1:
		return "轻度失能"
	case 2:
		return "中度失能"
	case 3:
		return "重度失能"
	case 4:
		return "完全失能"
	}
	return ""
}

// LevelStandardName is the name GB/T 42195-2022 prints for a level.
func LevelStandardName(level int) string {
	switch level {
	case 0:
		return "能力完好"
	case 1:
		return "能力轻度受损（轻度失能）"
	case 2:
		return "能力中度受损（中度失能）"
	case 3:
		return "能力重度受损（重度失能）"
	case 4:
		return "能力完全丧失（完全失能）"
	}
	return ""
}

// BodyLabel is the body condition an assessment implies for the elder's record.
type BodyLabel string

const (
	BodyNone         BodyLabel = ""
	BodyDisabled     BodyLabel = "disabled"      // 失能
	BodySemiDisabled BodyLabel = "semi_disabled" // 半失能
)

// Body labels an assessment by DOMAIN §1.5: a final level of 重度失能 or
// 完全失能 is 失能; otherwise meeting the settings' predicate is 半失能. The
// sentence names the fact that decided, for the screen's "why?".
func Body(total, finalLevel int, s Settings) (BodyLabel, string) {
	if finalLevel >= 3 {
		return BodyDisabled, "能力评估最终等级为" + LevelName(finalLevel)
	}
	if s.Predicate.Holds(total, finalLevel) {
		return BodySemiDisabled, s.Predicate.explain(total, finalLevel)
	}
	return BodyNone, ""
}

// Score validates an assessment and computes its totals and levels.
// Errors are *SettingsError or InputError.
func Score(in Input, s Settings) (Result, error) {
	if err := s.Validate(); err != nil {
		return Result{}, err
	}
	items := Items()
	if err := validate(in, items); err != nil {
		return Result{}, err
	}

	var r Result
	for _, ind := range Indicators() {
		sum := 0
		for _, it := range items {
			if it.Indicator == ind.Code {
				sum += in.Items[it.Code]
			}
		}
		r.Indicators = append(r.Indicators, IndicatorScore{ind.Code, ind.Name, sum, ind.Max})
		r.Total += sum
	}
	r.InitialLevel = Level(r.Total)
	r.FinalLevel, r.Grounds = adjust(in, r.InitialLevel, s)
	r.InitialLevelName = LevelName(r.InitialLevel)
	r.FinalLevelName = LevelName(r.FinalLevel)
	r.BodyLabel, r.BodyReason = Body(r.Total, r.FinalLevel, s)
	r.Settings = s.Notes()
	return r, nil
}

func validate(in Input, items []Item) error {
	var errs InputError
	known := make(map[string]bool, len(items))
	for _, it := range items {
		known[it.Code] = true
		v, ok := in.Items[it.Code]
		switch {
		case !ok:
			errs = append(errs, &ItemError{Code: it.Code, Name: it.Name, Problem: Missing, Max: it.Max})
		case v < 0 || v > it.Max:
			errs = append(errs, &ItemError{Code: it.Code, Name: it.Name, Problem: OutOfRange, Got: v, Max: it.Max})
		}
	}
	var unknown []string
	for code := range in.Items {
		if !known[code] {
			unknown = append(unknown, code)
		}
	}
	slices.Sort(unknown)
	for _, code := range unknown {
		errs = append(errs, &ItemError{Code: code, Problem: Unknown})
	}
	for _, c := range in.RiskEvents.categories() {
		if c.count < 0 || c.count > maxRiskCount {
			errs = append(errs, &ItemError{Code: "A.2.14", Name: "照护风险事件·" + c.name,
				Problem: OutOfRange, Got: c.count, Max: maxRiskCount, Count: true})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// adjust applies the C.4 grounds (DOMAIN §1.4) to the initial level.
func adjust(in Input, initial int, s Settings) (int, []Ground) {
	coma := in.Coma || (s.ComaTrigger == ComaFlagOrB39 && in.Items["B.3.9"] == 0)
	if coma {
		// The elder is rated 完全失能 whatever else holds, so the other
		// grounds cannot change the outcome and are not listed.
		var source string
		if in.Coma {
			source = "A.5.11昏迷为“有”"
		} else {
			source = "B.3.9意识水平为0分"
		}
		return MaxLevel, []Ground{{"coma", fmt.Sprintf("处于昏迷状态（%s），直接评定为%s", source, LevelStandardName(MaxLevel))}}
	}

	var grounds []Ground
	raise := 0
	if d := diagnosis(in); d != "" {
		raise++
		grounds = append(grounds, Ground{"diagnosis", d + "，在原有能力级别上提高一个等级"})
	}
	if r := riskEvents(in.RiskEvents, s.RiskCounting); r != "" {
		if raise == 0 || s.Stacking == StackEach {
			raise++
			grounds = append(grounds, Ground{"risk_events", r + "，提高一个等级"})
		} else {
			grounds = append(grounds, Ground{"risk_events", r + "；与疾病诊断依据合计只提高一个等级"})
		}
	}
	level := initial + raise
	if level > MaxLevel {
		grounds = append(grounds, Ground{"cap", fmt.Sprintf("初步等级%s（%d级）提高%d个等级后超过最高等级，按%s评定",
			LevelName(initial), initial, raise, LevelStandardName(MaxLevel))})
		level = MaxLevel
	}
	return level, grounds
}

func diagnosis(in Input) string {
	switch {
	case in.Dementia && in.MentalDisorder:
		return "确诊痴呆（F00–F03），并经精神科专科医生诊断患有其他精神和行为障碍（F04–F99）"
	case in.Dementia:
		return "确诊痴呆（F00–F03）"
	case in.MentalDisorder:
		return "经精神科专科医生诊断患有精神和行为障碍（F04–F99）"
	}
	return ""
}

// riskEvents describes the events that meet ground 3, or returns "".
func riskEvents(r RiskEvents, counting RiskCounting) string {
	var parts []string
	sum, atLeast := 0, false
	for _, c := range r.categories() {
		if c.count == 0 || (counting == RiskPerCategory && c.count < 2) {
			continue
		}
		parts = append(parts, c.name+timesText(c.count))
		sum += c.count
		atLeast = atLeast || c.count == maxRiskCount
	}
	if counting == RiskPerCategory {
		if len(parts) == 0 {
			return ""
		}
		return "近30天内" + strings.Join(parts, "、") + "（同一类照护风险事件2次及以上）"
	}
	if sum < 2 {
		return ""
	}
	total := fmt.Sprintf("%d次", sum)
	if atLeast {
		total = "至少" + total
	}
	return fmt.Sprintf("近30天内照护风险事件合计%s（%s），达到2次及以上", total, strings.Join(parts, "、"))
}

func timesText(n int) string {
	if n == maxRiskCount {
		return "3次及以上"
	}
	return fmt.Sprintf("%d次", n)
}
