// Package registry keeps the elder's file (一户一档, R-OBJ-3, R-REC): one
// file per person with every field of annex 3's first part, its history of
// versions, status over time and transfers between areas. ID, phone and
// certificate numbers are sealed at rest (internal/pii) and shown masked;
// every read of a file and every change is audited (R-OVS-3, DOMAIN §7).
package registry

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"tanfang/internal/classes"
	"tanfang/internal/store"
)

// Choice is a code word with its Chinese label, in form order.
type Choice struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// Code words of the annex 3 questions; classification (R-CLS) reads them.
var (
	LivingSituations = []Choice{
		{"alone", "独居"}, {"empty_nest", "空巢"},
		{"with_dependent_child", "长期与无生活自理能力子女共同居住"}, {"with_family", "与家人共同居住"},
	}
	BodyConditions = []Choice{
		{"self_care", "自理"}, {"semi_disabled", "半失能"}, {"disabled", "失能"},
		{"severe_disability", "重残"}, {"severe_illness", "重病"},
	}
	EconomicStatuses = []Choice{
		{"tekun", "特困供养人员"}, {"dibao", "低保"}, {"dibao_edge", "低保边缘"},
		{"resident_pension", "居民养老保险"}, {"enterprise_pension", "企业养老保险"}, {"public_retired", "机关、事业单位退休"},
	}
	PartnerConditions = []Choice{
		{"none", "无"}, {"disabled", "失能"}, {"demented", "失智"}, {"disability", "残疾"}, {"severe_illness", "重病"},
	}
	ChildConditions = []Choice{
		{"none", "无"}, {"disabled", "失能"}, {"demented", "失智"}, {"severe_illness", "重病"},
	}
	HelpChannels = []Choice{
		{"party_government", "党政机关"}, {"town_village", "乡镇（街道）、村（社区）"}, {"enterprise", "企业"},
		{"social_org", "社会组织"}, {"social_worker", "社工"}, {"volunteer", "志愿者"}, {"other", "其他"},
	}
	// Relations of the first contact, in the order R-REC-2 prefers them.
	Relations = []Choice{{"child", "子女"}, {"relative", "近亲属"}, {"village", "村（居）委会"}}
	Statuses  = []Choice{
		{StatusActive, "正常"}, {StatusAway, "暂时外出"}, {StatusHospital, "住院"}, {StatusInstitution, "入住机构"},
		{StatusMovedOut, "迁出"}, {StatusDeceased, "去世"}, {StatusDeclined, "拒绝探访"},
	}
)

// Statuses of a file over time; nothing is ever deleted.
const (
	StatusActive      = "active"
	StatusAway        = "away"
	StatusHospital    = "hospital"
	StatusInstitution = "institution"
	StatusMovedOut    = "moved_out"
	StatusDeceased    = "deceased"
	StatusDeclined    = "declined"
)

// Label returns the Chinese label of code among choices, or code itself.
func Label(choices []Choice, code string) string {
	for _, c := range choices {
		if c.Code == code {
			return c.Label
		}
	}
	return code
}

func known(choices []Choice, code string) bool {
	for _, c := range choices {
		if c.Code == code {
			return true
		}
	}
	return false
}

// Money is an amount in fen, written in JSON as a number of yuan (1250.5).
type Money int64

func (m Money) String() string { return fmt.Sprintf("%d.%02d", m/100, m%100) }

func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }

// FirstContact is the first contact of R-REC-2.
type FirstContact struct {
	Name        string `json:"name"`
	Relation    string `json:"relation"` // child, relative or village
	Phone       string `json:"phone,omitempty"`
	PhoneMasked string `json:"phone_masked"`
	Address     string `json:"address"`
	Reachable   bool   `json:"reachable"`
}

// VillageContact is the contact the village designates.
type VillageContact struct {
	Name        string `json:"name"`
	Phone       string `json:"phone,omitempty"`
	PhoneMasked string `json:"phone_masked"`
}

// Elder is one file as the API shows it. IDNumber and Phone (and contacts'
// Phone) stay empty unless the caller filled them from Reveal.
type Elder struct {
	ID                     int64          `json:"id"`
	Name                   string         `json:"name"`
	IDNumber               string         `json:"id_number,omitempty"`
	IDNumberMasked         string         `json:"id_number_masked"`
	Gender                 string         `json:"gender"` // male or female
	BirthDate              string         `json:"birth_date"`
	BirthDayAssumed        bool           `json:"birth_day_assumed"`
	Age                    int            `json:"age"` // 周岁 on the service's today
	Phone                  string         `json:"phone,omitempty"`
	PhoneMasked            string         `json:"phone_masked"`
	AreaCode               string         `json:"area_code"`
	Address                string         `json:"address"`
	AtRegisteredResidence  *bool          `json:"at_registered_residence"`
	LivingSituation        string         `json:"living_situation"`
	BodyConditions         []string       `json:"body_conditions"`
	Diseases               string         `json:"diseases"`
	EconomicStatus         []string       `json:"economic_status"`
	FamilyPlanningSpecial  bool           `json:"family_planning_special"`
	LeftBehind             bool           `json:"left_behind"`
	PartnerCondition       string         `json:"partner_condition"`
	CaresForChildCondition string         `json:"cares_for_child_condition"`
	DisabilityCertMasked   string         `json:"disability_certificate_masked"`
	DisabilityCategory     int            `json:"disability_category"` // 1–7, 0 none
	DisabilityGrade        int            `json:"disability_grade"`    // 1–4, 0 none
	PensionMonthly         *Money         `json:"pension_monthly"`     // nil: not asked
	AssistanceMonthly      *Money         `json:"assistance_monthly"`
	SubsidyMonthly         *Money         `json:"subsidy_monthly"`
	FirstContact           FirstContact   `json:"first_contact"`
	VillageContact         VillageContact `json:"village_contact"`
	Willing                *bool          `json:"willing"` // nil: not asked
	DeclineReason          string         `json:"decline_reason"`
	ConsentSigner          string         `json:"consent_signer"`
	ConsentSignedOn        string         `json:"consent_signed_on"`
	ConsentHome            bool           `json:"consent_home"`
	ConsentHomeForCall     bool           `json:"consent_home_for_call"`
	HelpChannels           []string       `json:"help_channels"`
	HelpChannelsOther      string         `json:"help_channels_other"`
	Measures               string         `json:"measures"`
	Collector              string         `json:"collector"`
	CollectedOn            string         `json:"collected_on"`
	HouseholdID            int64          `json:"household_id"`
	Status                 string         `json:"status"`
	StatusFrom             string         `json:"status_from"`
	StatusTo               string         `json:"status_to"`
	StatusReason           string         `json:"status_reason"`
	Active                 bool           `json:"active"`
	Incomplete             bool           `json:"incomplete"`
	Missing                []string       `json:"missing"`
	Version                int            `json:"version"`
	CreatedAt              time.Time      `json:"created_at"`
	UpdatedAt              time.Time      `json:"updated_at"`
	// Summary carries the read-only class, class_reasons and, under an
	// override, class_computed and class_override_reason (R-CLS-1..4).
	classes.Summary
}

// Actor is who acts, for permission checks and the audit log.
type Actor struct {
	UserID   int64
	Username string
	Role     string
	IP       string
}

// ErrForbidden is returned when the actor's role may not do what it asked.
var ErrForbidden = errors.New("forbidden")

// FieldError is one field's problem, in Chinese, for showing beside it.
// Field is the JSON name; nested contact fields are "first_contact.phone".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError carries every field's problem at once.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// ByField maps each field to its message, for a form.
func (e *ValidationError) ByField() map[string]string {
	m := make(map[string]string, len(e.Fields))
	for _, f := range e.Fields {
		if _, ok := m[f.Field]; !ok {
			m[f.Field] = f.Message
		}
	}
	return m
}

// DuplicateError says an ID number already has an active file. It names the
// county and town holding it but not the village, nor anything of the person.
type DuplicateError struct {
	AreaCode   string // the town (乡镇街道) holding the file
	AreaMasked string // e.g. "连云区墟沟街道…"
	ElderID    int64  // the existing file, only when it lies in the caller's scope
}

func (e *DuplicateError) Error() string {
	return "该身份证号码已在" + e.AreaMasked + "建档，如老人已迁居，请联系该地办理档案转移"
}

func (e *DuplicateError) Unwrap() error { return store.ErrConflict }

// VersionConflict says the file changed since the caller read it.
type VersionConflict struct {
	Current Elder
}

func (e *VersionConflict) Error() string {
	return fmt.Sprintf("该档案已被他人修改（当前为第%d版），请刷新后重新填写", e.Current.Version)
}

func (e *VersionConflict) Unwrap() error { return store.ErrConflict }
