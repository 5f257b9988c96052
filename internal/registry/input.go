package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"tanfang/internal/policy/age"
	"tanfang/internal/policy/idcard"
	"tanfang/internal/policy/mask"
	"tanfang/internal/policy/text"
)

// Amount is a monthly amount in yuan as typed: "" not known, "0" none,
// "1250.5". In JSON it may be a number or a string.
type Amount string

func (a *Amount) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		s = n.String()
	}
	*a = Amount(s)
	return nil
}

// FirstContactInput patches the first contact; nil fields stay.
type FirstContactInput struct {
	Name      *string `json:"name"`
	Relation  *string `json:"relation"` // child, relative or village
	Phone     *string `json:"phone"`
	Address   *string `json:"address"`
	Reachable *bool   `json:"reachable"`
}

// VillageContactInput patches the village-designated contact.
type VillageContactInput struct {
	Name  *string `json:"name"`
	Phone *string `json:"phone"`
}

// Input creates a file or patches one: nil fields are left as they are, an
// empty string clears a text field. Create needs Name, IDNumber, AreaCode.
type Input struct {
	Name     *string `json:"name"`
	IDNumber *string `json:"id_number"`
	// BirthDate (YYYY-MM-DD, or YYYY-MM as annex 3 asks) and Gender (male,
	// female) are not stored: both come from the ID number; when typed they
	// are checked against it, to catch a number typed wrongly.
	BirthDate              *string              `json:"birth_date"`
	Gender                 *string              `json:"gender"`
	Phone                  *string              `json:"phone"`
	AreaCode               *string              `json:"area_code"` // create only; moves go through Transfer
	Address                *string              `json:"address"`
	AtRegisteredResidence  *bool                `json:"at_registered_residence"`
	LivingSituation        *string              `json:"living_situation"`
	BodyConditions         *[]string            `json:"body_conditions"`
	Diseases               *string              `json:"diseases"`
	EconomicStatus         *[]string            `json:"economic_status"`
	FamilyPlanningSpecial  *bool                `json:"family_planning_special"`
	LeftBehind             *bool                `json:"left_behind"`
	PartnerCondition       *string              `json:"partner_condition"`
	CaresForChildCondition *string              `json:"cares_for_child_condition"`
	DisabilityCertificate  *string              `json:"disability_certificate"`
	PensionMonthly         *Amount              `json:"pension_monthly"`
	AssistanceMonthly      *Amount              `json:"assistance_monthly"`
	SubsidyMonthly         *Amount              `json:"subsidy_monthly"`
	FirstContact           *FirstContactInput   `json:"first_contact"`
	VillageContact         *VillageContactInput `json:"village_contact"`
	Willing                *bool                `json:"willing"`
	DeclineReason          *string              `json:"decline_reason"`
	ConsentSigner          *string              `json:"consent_signer"`
	ConsentSignedOn        *string              `json:"consent_signed_on"`
	ConsentHome            *bool                `json:"consent_home"`
	ConsentHomeForCall     *bool                `json:"consent_home_for_call"`
	HelpChannels           *[]string            `json:"help_channels"`
	HelpChannelsOther      *string              `json:"help_channels_other"`
	Measures               *string              `json:"measures"`
	Collector              *string              `json:"collector"`
	CollectedOn            *string              `json:"collected_on"`
	// HouseholdWith links the elder into the household of another elder in
	// the caller's scope (a couple); 0 gives the elder a household of their own.
	HouseholdWith *int64 `json:"household_with"`
}

// checker collects every field's problem instead of stopping at the first.
type checker struct {
	errs  []FieldError
	today age.Date
}

func (c *checker) add(field, format string, args ...any) {
	c.errs = append(c.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) failed(field string) bool {
	for _, e := range c.errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return &ValidationError{Fields: c.errs}
}

// digitRun finds what looks like a phone or ID number: seven digits or more
// in a row (a local landline has seven), full-width digits included.
var digitRun = regexp.MustCompile(`[0-9０-９]{7,}`)

// text trims s and checks it as one line of free text: its length, no
// control characters, and no phone or ID number, which would then sit in
// the database in clear.
func (c *checker) text(field, label string, s *string, max int, dst *string) {
	c.freeText(field, label, s, max, false, dst)
}

// lines is text that may run over several lines (a textarea); CRLF, as
// browsers send it, is stored as LF.
func (c *checker) lines(field, label string, s *string, max int, dst *string) {
	c.freeText(field, label, s, max, true, dst)
}

func (c *checker) freeText(field, label string, s *string, max int, multiLine bool, dst *string) {
	if s == nil {
		return
	}
	v := strings.TrimSpace(*s)
	if multiLine {
		v = strings.ReplaceAll(v, "\r\n", "\n")
	}
	switch bad := text.Problem(v, multiLine); {
	case len([]rune(v)) > max:
		c.add(field, "%s过长，最多%d个字", label, max)
	case bad != "":
		c.add(field, "%s中%s，请删除后重新填写", label, bad)
	case digitRun.MatchString(v):
		c.add(field, "%s中不能填写电话号码或证件号码，请填在对应栏目中", label)
	default:
		*dst = v
	}
}

// nameSymbols have no place in a person's name; quotes and brackets come
// from a pasted cell or a broken CSV, the rest from formulas and markup.
const nameSymbols = "\"“”<>=+@#$%^&*{}[]|\\;~`"

func (c *checker) name(field, label string, s *string, dst *string) {
	if s == nil {
		return
	}
	v := strings.TrimSpace(*s)
	first, _ := utf8.DecodeRuneInString(v)
	switch bad := text.Problem(v, false); {
	case len([]rune(v)) > 50:
		c.add(field, "%s过长，最多50个字", label)
	case bad != "":
		c.add(field, "%s中%s，请删除后重新填写", label, bad)
	case strings.ContainsFunc(v, unicode.IsDigit):
		c.add(field, "%s中不能有数字", label)
	case strings.ContainsAny(v, nameSymbols):
		sym, _ := utf8.DecodeRuneInString(v[strings.IndexAny(v, nameSymbols):])
		c.add(field, "%s中不能有符号“%c”", label, sym)
	case v != "" && !unicode.IsLetter(first):
		// "=HYPERLINK(…)", "+张三": no name starts so, and a spreadsheet
		// opening an export would read it as a formula.
		c.add(field, "%s应以文字开头，不能以“%c”开头", label, first)
	default:
		*dst = v
	}
}

func (c *checker) phone(field, label string, s *string, dst *string) {
	if s == nil {
		return
	}
	if strings.TrimSpace(*s) == "" {
		*dst = ""
		return
	}
	p, err := mask.NormalizePhone(*s)
	if err != nil {
		c.add(field, "%s：%s", label, err.Error())
		return
	}
	*dst = p
}

func (c *checker) choice(field, label string, choices []Choice, s *string, dst *string) {
	if s == nil {
		return
	}
	v := strings.TrimSpace(*s)
	if v != "" && !known(choices, v) {
		c.add(field, "%s“%s”不是可选项", label, v)
		return
	}
	*dst = v
}

// list checks a multi-choice answer and stores it in form order, once each.
func (c *checker) list(field, label string, choices []Choice, in *[]string, dst *string) {
	if in == nil {
		return
	}
	for _, v := range *in {
		if !known(choices, strings.TrimSpace(v)) {
			c.add(field, "%s“%s”不是可选项", label, v)
			return
		}
	}
	var out []string
	for _, ch := range choices {
		if slices.ContainsFunc(*in, func(v string) bool { return strings.TrimSpace(v) == ch.Code }) {
			out = append(out, ch.Code)
		}
	}
	*dst = strings.Join(out, ",")
}

func (c *checker) date(field, label string, s *string, dst *string) {
	if s == nil {
		return
	}
	v := strings.TrimSpace(*s)
	if v == "" {
		*dst = ""
		return
	}
	d, err := age.ParseDate(v)
	if err != nil {
		c.add(field, "%s“%s”不是有效日期，应为年-月-日，如2024-03-05", label, v)
		return
	}
	if c.today.Before(d) {
		c.add(field, "%s%s晚于今天", label, v)
		return
	}
	*dst = d.String()
}

var amountPattern = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]{1,2}))?$`)

// maxMonthlyFen bounds a monthly amount: more than 100000 yuan a month is
// a slip of the keyboard (a misplaced point, a yearly sum), not income.
const maxMonthlyFen = 100000 * 100

func (c *checker) amount(field, label string, a *Amount, dst **int64) {
	if a == nil {
		return
	}
	v := strings.TrimSpace(string(*a))
	if v == "" {
		*dst = nil
		return
	}
	if strings.HasPrefix(v, "-") {
		c.add(field, "%s不能为负数；没有请填0", label)
		return
	}
	tooLarge := func() { c.add(field, "%s金额过大（每月超过10万元），请核对", label) }
	m := amountPattern.FindStringSubmatch(v)
	if m == nil {
		// A number in another form (1e9, three decimals) that is too large
		// anyway gets the message that matters.
		if f, err := strconv.ParseFloat(v, 64); v[0] >= '0' && v[0] <= '9' && (err == nil || errors.Is(err, strconv.ErrRange)) && f > maxMonthlyFen/100 {
			tooLarge()
			return
		}
		c.add(field, "%s应为金额（元），最多两位小数，如1250.50；没有请填0", label)
		return
	}
	yuan := strings.TrimLeft(m[1], "0")
	if len(yuan) > 6 {
		tooLarge()
		return
	}
	y, _ := strconv.ParseInt("0"+yuan, 10, 64)
	f, _ := strconv.ParseInt((m[2] + "00")[:2], 10, 64)
	fen := y*100 + f
	if fen > maxMonthlyFen {
		tooLarge()
		return
	}
	*dst = &fen
}

// apply validates the input's fields and writes the valid ones into r.
// Checks that need the database (area, household) and those across fields
// (crossCheck) come after.
func (c *checker) apply(in Input, r *row, creating bool) {
	if in.Name != nil || creating {
		if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
			c.add("name", "请填写姓名")
		} else {
			c.name("name", "姓名", in.Name, &r.Name)
		}
	}
	if in.IDNumber != nil || creating {
		if in.IDNumber == nil {
			c.add("id_number", "请填写身份证号码")
		} else if n, err := idcard.ParseAt(*in.IDNumber, c.today); err != nil {
			c.add("id_number", "%s", err.Error())
		} else {
			r.idNumber = n.Value
			r.BirthDate = n.Birth.String()
			r.BirthDayAssumed = false
			r.Gender = "male"
			if n.Female {
				r.Gender = "female"
			}
		}
	}
	c.typedBirthAndGender(in, r)
	c.phone("phone", "联系电话", in.Phone, &r.phone)
	if in.AreaCode != nil || creating {
		code := ""
		if in.AreaCode != nil {
			code = strings.TrimSpace(*in.AreaCode)
		}
		switch {
		case code == "":
			c.add("area_code", "请选择所在村（居）或网格")
		case creating:
			r.AreaCode = code
		case code != r.AreaCode:
			c.add("area_code", "更换所在村（居）请使用档案转移")
		}
	}
	c.text("address", "住址（门牌号）", in.Address, 200, &r.Address)
	if in.AtRegisteredResidence != nil {
		v := *in.AtRegisteredResidence
		r.AtRegistered = &v
	}
	c.choice("living_situation", "居住状况", LivingSituations, in.LivingSituation, &r.Living)
	c.list("body_conditions", "身体状况", BodyConditions, in.BodyConditions, &r.Body)
	c.text("diseases", "疾病情况", in.Diseases, 200, &r.Diseases)
	c.list("economic_status", "对象状况", EconomicStatuses, in.EconomicStatus, &r.Economic)
	setBool(in.FamilyPlanningSpecial, &r.FPS)
	setBool(in.LeftBehind, &r.LeftBehind)
	c.choice("partner_condition", "配偶状况", PartnerConditions, in.PartnerCondition, &r.Partner)
	c.choice("cares_for_child_condition", "照料子女状况", ChildConditions, in.CaresForChildCondition, &r.ChildCond)
	if in.DisabilityCertificate != nil {
		r.cert = strings.TrimSpace(*in.DisabilityCertificate)
	}
	c.amount("pension_monthly", "月养老金", in.PensionMonthly, &r.Pension)
	c.amount("assistance_monthly", "月社会救助金", in.AssistanceMonthly, &r.Assistance)
	c.amount("subsidy_monthly", "月福利补贴", in.SubsidyMonthly, &r.Subsidy)
	if fc := in.FirstContact; fc != nil {
		c.name("first_contact.name", "第一联系人姓名", fc.Name, &r.FCName)
		c.choice("first_contact.relation", "第一联系人关系", Relations, fc.Relation, &r.FCRelation)
		c.phone("first_contact.phone", "第一联系人电话", fc.Phone, &r.fcPhone)
		c.text("first_contact.address", "第一联系人住址", fc.Address, 200, &r.FCAddress)
		setBool(fc.Reachable, &r.FCReachable)
		if r.FCName == "" && !c.failed("first_contact.name") && (typed(fc.Relation) || typed(fc.Phone) || typed(fc.Address)) {
			c.add("first_contact.name", "请填写第一联系人姓名")
		}
	}
	if vc := in.VillageContact; vc != nil {
		c.name("village_contact.name", "村（居）指定联系人姓名", vc.Name, &r.VCName)
		c.phone("village_contact.phone", "村（居）指定联系人电话", vc.Phone, &r.vcPhone)
		if r.VCName == "" && !c.failed("village_contact.name") && typed(vc.Phone) {
			c.add("village_contact.name", "请填写村（居）指定联系人姓名")
		}
	}
	if in.Willing != nil {
		v := *in.Willing
		r.Willing = &v
	}
	c.text("decline_reason", "不愿接受探访的原因", in.DeclineReason, 200, &r.DeclineReason)
	c.name("consent_signer", "签字人", in.ConsentSigner, &r.Signer)
	c.date("consent_signed_on", "签字日期", in.ConsentSignedOn, &r.SignedOn)
	setBool(in.ConsentHome, &r.ConsentHome)
	setBool(in.ConsentHomeForCall, &r.HomeForCall)
	c.list("help_channels", "求助渠道", HelpChannels, in.HelpChannels, &r.Help)
	c.text("help_channels_other", "其他求助渠道", in.HelpChannelsOther, 100, &r.HelpOther)
	c.lines("measures", "已采取的措施", in.Measures, 1000, &r.Measures)
	c.name("collector", "采集员", in.Collector, &r.Collector)
	c.date("collected_on", "采集日期", in.CollectedOn, &r.CollectedOn)
}

func typed(s *string) bool { return s != nil && strings.TrimSpace(*s) != "" }

func setBool(in *bool, dst *bool) {
	if in != nil {
		*dst = *in
	}
}

// typedBirthAndGender compares what was typed with what the ID number
// encodes, each on its own field, naming both values (DOMAIN §2).
func (c *checker) typedBirthAndGender(in Input, r *row) {
	if c.failed("id_number") || r.idNumber == "" {
		return
	}
	n, err := idcard.Parse(r.idNumber)
	if err != nil {
		return
	}
	if in.BirthDate != nil {
		v := strings.TrimSpace(*in.BirthDate)
		if d, err := age.ParseDate(v); err == nil {
			if err := idcard.CheckAgainst(n, &d, nil); err != nil {
				c.add("birth_date", "%s", err.Error())
			}
		} else if y, m, ok := yearMonth(v); ok {
			if y != n.Birth.Year || m != int(n.Birth.Month) {
				c.add("birth_date", "填写的出生年月%04d-%02d与身份证号码中的%04d-%02d不一致", y, m, n.Birth.Year, int(n.Birth.Month))
			}
		} else if v != "" {
			c.add("birth_date", "出生日期“%s”无效，应为年-月-日（如1950-03-05）或年-月（如1950-03）", v)
		}
	}
	if in.Gender != nil {
		switch g := strings.TrimSpace(*in.Gender); g {
		case "":
		case "male", "female":
			female := g == "female"
			if err := idcard.CheckAgainst(n, nil, &female); err != nil {
				c.add("gender", "%s", err.Error())
			}
		default:
			c.add("gender", "性别应为male（男）或female（女）")
		}
	}
}

func yearMonth(s string) (int, int, bool) {
	ys, ms, ok := strings.Cut(s, "-")
	if !ok || len(ys) != 4 || len(ms) < 1 || len(ms) > 2 {
		return 0, 0, false
	}
	y, err1 := strconv.Atoi(ys)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || m < 1 || m > 12 {
		return 0, 0, false
	}
	return y, m, true
}

// crossCheck applies the rules that join fields, on the merged file.
func (c *checker) crossCheck(r *row) {
	if r.cert == "" {
		r.CertCategory, r.CertGrade = 0, 0
	} else if !c.failed("id_number") {
		d, err := idcard.ParseDisability(r.cert, r.idNumber)
		if err != nil {
			c.add("disability_certificate", "%s", err.Error())
		} else {
			r.cert, r.CertCategory, r.CertGrade = d.Raw, d.Category, d.Grade
		}
	}
	body := splitList(r.Body)
	if slices.Contains(body, "self_care") && (slices.Contains(body, "semi_disabled") || slices.Contains(body, "disabled")) {
		c.add("body_conditions", "身体状况不能同时选“自理”和“半失能”或“失能”")
	} else if slices.Contains(body, "semi_disabled") && slices.Contains(body, "disabled") {
		c.add("body_conditions", "身体状况不能同时选“半失能”和“失能”")
	}
	if r.FCName == "" && (r.FCRelation != "" || r.fcPhone != "" || r.FCAddress != "") && !c.failed("first_contact.name") {
		c.add("first_contact.name", "请填写第一联系人姓名")
	}
	if r.FCName != "" && r.FCRelation == "" && !c.failed("first_contact.relation") {
		c.add("first_contact.relation", "请选择第一联系人与老人的关系（子女、近亲属或村居）")
	}
	if r.VCName == "" && r.vcPhone != "" && !c.failed("village_contact.name") {
		c.add("village_contact.name", "请填写村（居）指定联系人姓名")
	}
	if r.Willing != nil && !*r.Willing {
		if r.DeclineReason == "" && !c.failed("decline_reason") {
			c.add("decline_reason", "老人不愿接受探访时，须填写原因")
		}
		if r.Signer == "" && !c.failed("consent_signer") {
			c.add("consent_signer", "老人不愿接受探访时，须由老人或家属签字，请填写签字人")
		}
		if r.SignedOn == "" && !c.failed("consent_signed_on") {
			c.add("consent_signed_on", "老人不愿接受探访时，须填写签字日期")
		}
		if r.ConsentHome {
			c.add("consent_home", "老人不愿接受探访，不能同时同意上门探访")
		}
	}
	if r.Willing != nil && *r.Willing {
		r.DeclineReason = ""
	}
	if r.HomeForCall && !r.ConsentHome {
		c.add("consent_home_for_call", "须先同意上门探访，才能以上门探访代替电话探访")
	}
}
