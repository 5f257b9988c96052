package assess

import "fmt"

// The settings below settle the points DOMAIN §1.4 and §1.5 leave open. Each
// value carries a Chinese description so a report can show which reading of
// the standard produced a level or a label.

// Stacking says whether grounds 2 (diagnosis) and 3 (risk events) of C.4 add
// up when both apply (DOMAIN §1.4 a).
type Stacking string

const (
	// StackOnce: both grounds together raise the level by one.
	StackOnce Stacking = "once"
	// StackEach: each ground raises the level by one.
	StackEach Stacking = "each"
)

// Description returns the Chinese wording, or "" for an unknown value.
func (v Stacking) Description() string {
	switch v {
	case StackOnce:
		return "依据2与依据3同时满足时合计只提高一个等级（“在原有能力级别上提高一个等级”）"
	case StackEach:
		return "依据2与依据3各提高一个等级，可累计提高两个等级"
	}
	return ""
}

// RiskCounting says how "two or more care-risk events" is counted (DOMAIN §1.4 b).
type RiskCounting string

const (
	// RiskSum adds the events of all categories.
	RiskSum RiskCounting = "sum"
	// RiskPerCategory needs two or more events in one category.
	RiskPerCategory RiskCounting = "per_category"
)

// Description returns the Chinese wording, or "" for an unknown value.
func (v RiskCounting) Description() string {
	switch v {
	case RiskSum:
		return "近30天内各类照护风险事件合计2次及以上"
	case RiskPerCategory:
		return "近30天内同一类照护风险事件2次及以上"
	}
	return ""
}

// ComaTrigger says what counts as being in a coma (DOMAIN §1.4 c).
type ComaTrigger string

const (
	// ComaFlag: only the A.5.11 昏迷 answer. B.3.9 = 0 also covers 昏睡.
	ComaFlag ComaTrigger = "a511"
	// ComaFlagOrB39: A.5.11 昏迷, or B.3.9 意识水平 scored 0.
	ComaFlagOrB39 ComaTrigger = "a511_or_b39"
)

// Description returns the Chinese wording, or "" for an unknown value.
func (v ComaTrigger) Description() string {
	switch v {
	case ComaFlag:
		return "仅以A.5.11昏迷为“有”认定处于昏迷状态"
	case ComaFlagOrB39:
		return "A.5.11昏迷为“有”，或B.3.9意识水平为0分（昏睡或昏迷），均认定处于昏迷状态"
	}
	return ""
}

// Predicate decides who counts as 失能/半失能 under 16号 annex 1, which says
// "评价在65分以下" (DOMAIN §1.5).
type Predicate string

const (
	// PredTotalBelow65 is the wording of 16号: total < 65.
	PredTotalBelow65 Predicate = "total_below_65"
	// PredTotalAtMost65 includes 65, so the whole 中度失能 band counts.
	PredTotalAtMost65 Predicate = "total_at_most_65"
	// PredLevelAtLeast2 uses the final level after adjustment: 中度失能 or worse.
	PredLevelAtLeast2 Predicate = "final_level_at_least_2"
)

// Description returns the Chinese wording, or "" for an unknown value.
func (v Predicate) Description() string {
	switch v {
	case PredTotalBelow65:
		return "能力评估总分低于65分（16号文“65分以下”）"
	case PredTotalAtMost65:
		return "能力评估总分不高于65分（含65分，覆盖整个中度失能区间）"
	case PredLevelAtLeast2:
		return "能力评估最终等级为中度失能及以上（2–4级）"
	}
	return ""
}

// Holds reports whether an assessment with this total and final level meets
// the predicate. An unknown predicate never holds.
func (v Predicate) Holds(total, finalLevel int) bool {
	switch v {
	case PredTotalBelow65:
		return total < 65
	case PredTotalAtMost65:
		return total <= 65
	case PredLevelAtLeast2:
		return finalLevel >= 2
	}
	return false
}

// explain says in Chinese why the predicate holds for this assessment.
func (v Predicate) explain(total, finalLevel int) string {
	switch v {
	case PredTotalBelow65:
		return fmt.Sprintf("能力评估总分%d分，低于65分", total)
	case PredTotalAtMost65:
		return fmt.Sprintf("能力评估总分%d分，不高于65分", total)
	case PredLevelAtLeast2:
		return "能力评估最终等级为" + LevelName(finalLevel) + "，达到中度失能及以上"
	}
	return ""
}

// Settings gathers the configurable readings of the standard.
type Settings struct {
	Stacking     Stacking     `json:"stacking"`
	RiskCounting RiskCounting `json:"risk_counting"`
	ComaTrigger  ComaTrigger  `json:"coma_trigger"`
	Predicate    Predicate    `json:"predicate"`
}

// DefaultSettings returns the defaults of DOMAIN §1.4 and §1.5.
func DefaultSettings() Settings {
	return Settings{
		Stacking:     StackOnce,
		RiskCounting: RiskSum,
		ComaTrigger:  ComaFlag,
		Predicate:    PredTotalBelow65,
	}
}

// SettingNote names one setting and the value that applied, for reports.
type SettingNote struct {
	Setting string `json:"setting"`
	Value   string `json:"value"`
	Text    string `json:"text"`
}

// Notes lists every setting with its Chinese description.
func (s Settings) Notes() []SettingNote {
	return []SettingNote{
		{"依据2、3是否叠加", string(s.Stacking), s.Stacking.Description()},
		{"照护风险事件计数方式", string(s.RiskCounting), s.RiskCounting.Description()},
		{"昏迷认定", string(s.ComaTrigger), s.ComaTrigger.Description()},
		{"失能/半失能判定", string(s.Predicate), s.Predicate.Description()},
	}
}

// SettingsError reports a setting with a value this package does not know.
type SettingsError struct {
	Setting string // Chinese name, as in Notes
	Value   string
}

func (e *SettingsError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("能力评估设置“%s”未设置", e.Setting)
	}
	return fmt.Sprintf("能力评估设置“%s”的取值“%s”无效", e.Setting, e.Value)
}

// Validate rejects empty or unknown values.
func (s Settings) Validate() error {
	for _, n := range s.Notes() {
		if n.Text == "" {
			return &SettingsError{Setting: n.Setting, Value: n.Value}
		}
	}
	return nil
}
