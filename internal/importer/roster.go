package importer

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"tanfang/internal/registry"
)

// The roster is annex 3's first part (R-REC) as one row per elder, the
// table offices keep as their 台账. Field names are the registry's JSON
// names, so its per-field messages land on the right column.

func fromRegistry(cs []registry.Choice, aliases map[string][]string) *choiceSet {
	out := make([]choice, len(cs))
	for i, c := range cs {
		out[i] = choice{code: c.Code, label: c.Label, aliases: aliases[c.Code]}
	}
	return newChoiceSet(out)
}

var (
	genderChoices = newChoiceSet([]choice{{"male", "男", []string{"男性"}}, {"female", "女", []string{"女性"}}})
	livingChoices = fromRegistry(registry.LivingSituations, map[string][]string{
		"alone":                {"独居老人"},
		"empty_nest":           {"空巢老人"},
		"with_dependent_child": {"与无生活自理能力子女共同居住", "长期与无自理能力子女共同居住", "与失能子女共同居住"},
		"with_family":          {"与家人同住", "与子女同住", "与子女共同居住"},
	})
	bodyChoices = fromRegistry(registry.BodyConditions, map[string][]string{
		"self_care":         {"能自理", "生活自理", "可自理"},
		"semi_disabled":     {"部分失能"},
		"disabled":          {"完全失能", "全失能"},
		"severe_disability": {"重度残疾"},
		"severe_illness":    {"患重病", "大病"},
	})
	economicChoices = fromRegistry(registry.EconomicStatuses, map[string][]string{
		"tekun":              {"特困", "特困人员", "特困供养", "分散供养特困人员", "五保"},
		"dibao":              {"低保户", "低保对象", "最低生活保障"},
		"dibao_edge":         {"低边", "低保边缘户", "低保边缘家庭"},
		"resident_pension":   {"城乡居民养老保险", "城乡居民基本养老保险", "居民养老"},
		"enterprise_pension": {"企业职工养老保险", "企业职工基本养老保险", "企业退休"},
		"public_retired":     {"机关事业单位退休", "事业单位退休", "机关退休"},
	})
	partnerChoices = fromRegistry(registry.PartnerConditions, map[string][]string{"none": {"健康", "正常"}})
	childChoices   = fromRegistry(registry.ChildConditions, map[string][]string{"none": {"健康", "正常"}})
	helpChoices    = fromRegistry(registry.HelpChannels, map[string][]string{
		"party_government": {"党委政府", "政府"},
		"town_village":     {"乡镇街道", "村社区", "村居", "村委会", "居委会", "乡镇", "街道", "村居委会"},
		"social_worker":    {"社会工作者", "社工站"},
		"other":            {"其它"},
	})
	relationChoices = fromRegistry(registry.Relations, map[string][]string{
		"child":    {"儿子", "女儿", "儿女", "长子", "次子", "长女", "次女"},
		"relative": {"亲属", "配偶", "老伴", "兄弟", "姐妹", "兄弟姐妹", "孙子", "孙女", "外孙", "外孙女", "父母"},
		"village":  {"村委会", "居委会", "村居", "社区", "村干部", "网格员"},
	})
)

var rosterSpec = newSpec([]field{
	{name: "seq", label: "序号", aliases: []string{"编号"}, kind: kIgnored},
	{name: "name", label: "姓名", aliases: []string{"老人姓名"}, kind: kText, hint: "必填"},
	{name: "gender", label: "性别", kind: kGender, choices: genderChoices, hint: "男或女；可不填，以身份证号码为准，填写时须与号码一致"},
	{name: "id_number", label: "身份证号码", aliases: []string{"身份证号", "公民身份号码", "身份证", "身份证件号码", "证件号码"}, kind: kID,
		hint: "必填，18位（15位旧号码自动升级）；该列须设为文本格式，否则Excel会把号码变成3.20706E+17并丢失后几位"},
	{name: "birth_date", label: "出生年月", aliases: []string{"出生日期", "出生年月日"}, kind: kYearMonth, hint: "如1950-03或1950年3月；可不填，以身份证号码为准"},
	{name: "phone", label: "联系电话", aliases: []string{"本人电话", "老人电话", "电话", "联系方式", "手机号码", "手机"}, kind: kPhone, hint: "老人本人的手机或座机，没有可不填"},
	{name: "area_code", label: "区划代码", aliases: []string{"村居区划代码", "所属村居代码", "村居代码", "统计用区划代码", "所属村居区划代码"}, kind: kAreaCode,
		hint: "所属村（居）的12位统计用区划代码；填了代码可不填下面三列名称"},
	{name: "county", label: "县（区）", aliases: []string{"县区", "区县", "县市区", "所属县区"}, kind: kCounty},
	{name: "town", label: "乡镇（街道）", aliases: []string{"乡镇", "乡镇街道", "街道", "所属乡镇", "所属乡镇街道"}, kind: kTown},
	{name: "village", label: "村（居）", aliases: []string{"村居", "所属村居", "村社区", "社区", "村", "村委会", "村居委会"}, kind: kVillage,
		hint: "村（居）名称；同名村（居）在多个乡镇时须同时填写乡镇（街道）"},
	{name: "address", label: "门牌号/详细地址", aliases: []string{"门牌号", "详细地址", "住址", "家庭住址", "地址", "现住址", "居住地址", "现居住地址"}, kind: kText},
	{name: "at_registered_residence", label: "是否在户籍地居住", aliases: []string{"在户籍地居住", "户籍地居住"}, kind: kBool, hint: "是或否"},
	{name: "body_conditions", label: "身体状况", kind: kMulti, choices: bodyChoices, hint: "可多选，用顿号分隔，如“半失能、重病”"},
	{name: "diseases", label: "疾病情况", aliases: []string{"所患疾病", "疾病", "重病病种", "患病情况", "病种"}, kind: kText},
	{name: "living_situation", label: "居住状况", aliases: []string{"居住情况"}, kind: kChoice, choices: livingChoices},
	{name: "economic_status", label: "经济状况", aliases: []string{"对象状况", "对象类别"}, kind: kMulti, choices: economicChoices, hint: "可多选，用顿号分隔；都不是填“无”"},
	{name: "family_planning_special", label: "计划生育特殊家庭", aliases: []string{"是否计划生育特殊家庭", "计生特殊家庭", "是否计生特殊家庭"}, kind: kBool, hint: "是或否"},
	{name: "left_behind", label: "农村留守", aliases: []string{"是否农村留守", "留守", "是否留守", "留守老人"}, kind: kBool, hint: "是或否"},
	{name: "partner_condition", label: "配偶状况", kind: kChoice, choices: partnerChoices},
	{name: "cares_for_child_condition", label: "照料子女状况", aliases: []string{"长期照料子女状况", "照料子女"}, kind: kChoice, choices: childChoices},
	{name: "disability_certificate", label: "残疾证号", aliases: []string{"残疾人证号", "第二代残疾人证号", "残疾证号码"}, kind: kCert, hint: "第二代残疾人证20位号码，文本格式"},
	{name: "pension_monthly", label: "月养老金（元）", aliases: []string{"月养老金", "养老金"}, kind: kAmount, hint: "没有填0或“无”"},
	{name: "assistance_monthly", label: "月社会救助（元）", aliases: []string{"月社会救助", "月社会救助金", "社会救助", "社会救助金"}, kind: kAmount, hint: "没有填0或“无”"},
	{name: "subsidy_monthly", label: "月福利补贴（元）", aliases: []string{"月福利补贴", "福利补贴"}, kind: kAmount, hint: "没有填0或“无”"},
	// Annex 3 asks the three amounts in one cell; the template has a column each.
	{name: "amounts", label: "月养老金/社会救助/福利补贴", kind: kAmounts},
	{name: "first_contact.name", label: "第一联系人姓名", aliases: []string{"第一联系人"}, kind: kText, hint: "首先为子女；联系不上子女时为近亲属；都没有时为村（居）委会"},
	{name: "first_contact.relation", label: "第一联系人关系", aliases: []string{"第一联系人与老人关系", "与老人关系"}, kind: kChoice, choices: relationChoices},
	{name: "first_contact.phone", label: "第一联系人电话", aliases: []string{"第一联系人联系电话"}, kind: kPhone},
	{name: "first_contact.address", label: "第一联系人地址", aliases: []string{"第一联系人住址"}, kind: kText},
	{name: "village_contact.name", label: "村（居）指定联系人", aliases: []string{"村居指定联系人姓名", "指定联系人"}, kind: kText},
	{name: "village_contact.phone", label: "村（居）指定联系人电话", aliases: []string{"指定联系人电话"}, kind: kPhone},
	{name: "willing", label: "是否愿意接受探访", aliases: []string{"愿意接受探访", "探访意愿", "是否愿意探访"}, kind: kBool, hint: "是或否；否时须填原因、签字人和签字日期"},
	{name: "decline_reason", label: "不愿意原因", aliases: []string{"不愿意接受探访原因", "不愿意的原因", "不愿接受探访的原因"}, kind: kText},
	{name: "consent_signer", label: "签字人", aliases: []string{"老人或家属签字"}, kind: kText},
	{name: "consent_signed_on", label: "签字日期", kind: kDate, hint: "如2024-03-05"},
	{name: "consent_home", label: "同意上门探访", aliases: []string{"同意上门", "是否同意上门探访", "是否同意上门"}, kind: kBool, hint: "是或否"},
	{name: "consent_home_for_call", label: "上门可替代电话探访", aliases: []string{"上门可替代电话", "上门探访可替代电话探访"}, kind: kBool, hint: "是或否"},
	{name: "help_channels", label: "求助渠道", kind: kMulti, choices: helpChoices, hint: "可多选，用顿号分隔；其他渠道写“其他：渠道名称”"},
	{name: "help_channels_other", label: "其他求助渠道", kind: kText},
	{name: "measures", label: "已采取措施", aliases: []string{"已采取的措施", "采取措施"}, kind: kText},
	{name: "collector", label: "采集员", aliases: []string{"信息采集员", "采集人"}, kind: kText},
	{name: "collected_on", label: "采集日期", aliases: []string{"采集时间"}, kind: kDate, hint: "如2024-03-05"},
	// Columns an export adds: they follow from the file, so an edited
	// export can be imported again.
	{name: "file_no", label: "档案编号", kind: kIgnored},
	{name: "age", label: "年龄", aliases: []string{"周岁"}, kind: kIgnored},
	{name: "class", label: "探访类别", aliases: []string{"类别", "分类", "老人类别"}, kind: kIgnored},
	{name: "status", label: "档案状态", aliases: []string{"状态"}, kind: kIgnored},
	{name: "missing", label: "缺项", kind: kIgnored},
	{name: "city", label: "市", aliases: []string{"设区市", "所属市"}, kind: kIgnored},
	{name: "disability", label: "残疾类别等级", kind: kIgnored},
}, "id_number", 3)

// rowInput is one roster row read into a registry input, with the
// problems found on the way; area holds the village code, if resolved.
type rowInput struct {
	in       registry.Input
	name     string
	idNumber string // as typed, for finding duplicate rows
	area     string
	problems []Problem
}

// Problem is one problem of one row, in the terms the user sees.
type Problem struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Value   string `json:"value"`
	Message string `json:"message"`
}

// problemValueRunes is how much of a cell a problem repeats: enough to
// find the cell, not a copy of whatever was pasted into it.
const problemValueRunes = 100

func (p Problem) clipped() Problem {
	n := 0
	for i := range p.Value {
		if n == problemValueRunes {
			p.Value = fmt.Sprintf("%s…（共%d字）", p.Value[:i], utf8.RuneCountInString(p.Value))
			break
		}
		n++
	}
	return p
}

var illnessNote = regexp.MustCompile(`重病[(（]([^)）]+)[)）]`)

// readRoster reads one row. Blank cells leave the file's value as it is:
// an import fills in and corrects, it never clears.
func readRoster(t *table, ix *areaIndex, num int, cells []cell) rowInput {
	sp := rosterSpec
	var ri rowInput
	bad := func(f int, v, format string, args ...any) {
		ri.problems = append(ri.problems, Problem{Row: num, Column: t.columnName(sp, f), Value: v, Message: fmt.Sprintf(format, args...)})
	}
	in := &ri.in
	var county, town, village, code string
	for f, fd := range sp.fields {
		if !t.has(f) {
			continue
		}
		v, isNum := t.value(cells, f)
		if v == "" {
			continue
		}
		switch fd.kind {
		case kIgnored:
		case kText:
			if isNum {
				v = plainNumber(v)
			}
			if strings.HasSuffix(fd.name, "name") || fd.name == "consent_signer" || fd.name == "collector" {
				v = compactName(v)
			}
			setText(in, fd.name, v)
		case kID:
			id, msg := readID(v, isNum)
			if msg != "" {
				bad(f, v, "%s", msg)
				continue
			}
			ri.idNumber = id
			in.IDNumber = &id
		case kPhone:
			p, msg := readPhone(v, isNum)
			if msg != "" {
				bad(f, v, "%s", strings.Replace(msg, "电话号码", fd.label, 1))
				continue
			}
			setText(in, fd.name, p)
		case kDate, kYearMonth:
			d, ok := parseDate(v, isNum)
			if !ok || (fd.kind == kDate && d.day == 0) {
				example := "年-月-日，如2024-03-05"
				if fd.kind == kYearMonth {
					example = "年-月，如1950-03或1950年3月"
				}
				bad(f, v, "%s“%s”不是有效日期，应为%s", fd.label, v, example)
				continue
			}
			setText(in, fd.name, d.String())
		case kBool:
			b, ok := readBool(v)
			if !ok {
				bad(f, v, "%s应填“是”或“否”，不能填“%s”", fd.label, v)
				continue
			}
			setBool(in, fd.name, b)
		case kGender, kChoice:
			c, ok := fd.choices.choose(v)
			if !ok {
				bad(f, v, "%s“%s”不是可选项，可选：%s", fd.label, v, fd.choices.labels())
				continue
			}
			setText(in, fd.name, c)
		case kMulti:
			if len(splitMulti(v)) == 0 {
				continue // only separators: as blank, the file's answers stay
			}
			if fd.name == "body_conditions" {
				if m := illnessNote.FindStringSubmatch(v); m != nil && (in.Diseases == nil) {
					d := strings.TrimSpace(m[1])
					in.Diseases = &d
					v = illnessNote.ReplaceAllString(v, "重病")
				}
			}
			codes, other, unknown := fd.choices.chooseMany(v)
			if len(unknown) > 0 && !(len(codes) == 0 && len(unknown) == 1 && key(unknown[0]) == "无") {
				bad(f, v, "%s中的“%s”不是可选项，可选：%s", fd.label, strings.Join(unknown, "、"), fd.choices.labels())
				continue
			}
			codes = slices.Compact(codes)
			setList(in, fd.name, codes)
			if other != "" && in.HelpChannelsOther == nil {
				in.HelpChannelsOther = &other
			}
		case kAmount:
			a, ok := readAmount(v, isNum)
			if !ok {
				bad(f, v, "%s“%s”不是金额，应填数字（元），没有填0", fd.label, v)
				continue
			}
			amt := registry.Amount(a)
			setAmount(in, fd.name, &amt)
		case kAmounts:
			parts := splitMulti(v)
			if len(parts) != 3 {
				bad(f, v, "%s应依次填写三个金额（元），用“/”分隔，没有填0，如200/0/0", fd.label)
				continue
			}
			for i, name := range []string{"pension_monthly", "assistance_monthly", "subsidy_monthly"} {
				a, ok := readAmount(parts[i], false)
				if !ok {
					bad(f, v, "%s中的“%s”不是金额，应填数字（元），没有填0", fd.label, parts[i])
					break
				}
				amt := registry.Amount(a)
				setAmount(in, name, &amt)
			}
		case kCert:
			if sciNotation.MatchString(fold(v)) || (isNum && len(plainNumber(v)) > 15) {
				bad(f, v, "残疾证号被Excel存成了数字（%s），后几位已丢失，请把该列设为文本后重新填写", general(fold(v)))
				continue
			}
			in.DisabilityCertificate = &v
		case kAreaCode:
			code = plainNumber(v)
		case kCounty:
			county = v
		case kTown:
			town = v
		case kVillage:
			village = v
		}
	}
	if in.Name != nil {
		ri.name = *in.Name
	}
	ri.area = ri.resolveArea(t, ix, num, code, county, town, village)
	return ri
}

func (ri *rowInput) resolveArea(t *table, ix *areaIndex, num int, code, county, town, village string) string {
	sp := rosterSpec
	if code != "" {
		if !digitsOnly(code) || (len(code) != 12 && len(code) != 15) {
			ri.problems = append(ri.problems, Problem{Row: num, Column: t.columnName(sp, sp.index("area_code")), Value: code,
				Message: fmt.Sprintf("区划代码“%s”应为12位村（居）统计用区划代码", code)})
			return ""
		}
		return code
	}
	hit := ix.resolve(fold(county), fold(town), fold(village))
	if hit.problem != "" {
		col := sp.index("village")
		if !t.has(col) && t.has(sp.index("area_code")) {
			col = sp.index("area_code")
		}
		ri.problems = append(ri.problems, Problem{Row: num, Column: t.columnName(sp, col), Value: strings.Trim(county+"/"+town+"/"+village, "/"), Message: hit.problem})
	}
	return hit.code
}

// columnName is the header a field has in the file, or its template label.
func (t *table) columnName(sp *spec, f int) string {
	if t.header[f] != "" {
		return t.header[f]
	}
	return sp.fields[f].label
}

// compactName drops spaces typed inside a Chinese name ("张 三").
func compactName(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), "")
}

func setText(in *registry.Input, name, v string) {
	p := &v
	switch name {
	case "name":
		in.Name = p
	case "gender":
		in.Gender = p
	case "birth_date":
		in.BirthDate = p
	case "phone":
		in.Phone = p
	case "address":
		in.Address = p
	case "diseases":
		in.Diseases = p
	case "living_situation":
		in.LivingSituation = p
	case "partner_condition":
		in.PartnerCondition = p
	case "cares_for_child_condition":
		in.CaresForChildCondition = p
	case "first_contact.name":
		firstContact(in).Name = p
	case "first_contact.relation":
		firstContact(in).Relation = p
	case "first_contact.phone":
		firstContact(in).Phone = p
	case "first_contact.address":
		firstContact(in).Address = p
	case "village_contact.name":
		villageContact(in).Name = p
	case "village_contact.phone":
		villageContact(in).Phone = p
	case "decline_reason":
		in.DeclineReason = p
	case "consent_signer":
		in.ConsentSigner = p
	case "consent_signed_on":
		in.ConsentSignedOn = p
	case "help_channels_other":
		in.HelpChannelsOther = p
	case "measures":
		in.Measures = p
	case "collector":
		in.Collector = p
	case "collected_on":
		in.CollectedOn = p
	default:
		panic("importer: no text field " + name)
	}
}

func setBool(in *registry.Input, name string, v bool) {
	p := &v
	switch name {
	case "at_registered_residence":
		in.AtRegisteredResidence = p
	case "family_planning_special":
		in.FamilyPlanningSpecial = p
	case "left_behind":
		in.LeftBehind = p
	case "willing":
		in.Willing = p
	case "consent_home":
		in.ConsentHome = p
	case "consent_home_for_call":
		in.ConsentHomeForCall = p
	default:
		panic("importer: no yes/no field " + name)
	}
}

func setList(in *registry.Input, name string, v []string) {
	if v == nil {
		v = []string{}
	}
	switch name {
	case "body_conditions":
		in.BodyConditions = &v
	case "economic_status":
		in.EconomicStatus = &v
	case "help_channels":
		in.HelpChannels = &v
	default:
		panic("importer: no list field " + name)
	}
}

func setAmount(in *registry.Input, name string, a *registry.Amount) {
	switch name {
	case "pension_monthly":
		in.PensionMonthly = a
	case "assistance_monthly":
		in.AssistanceMonthly = a
	case "subsidy_monthly":
		in.SubsidyMonthly = a
	default:
		panic("importer: no amount field " + name)
	}
}

func firstContact(in *registry.Input) *registry.FirstContactInput {
	if in.FirstContact == nil {
		in.FirstContact = &registry.FirstContactInput{}
	}
	return in.FirstContact
}

func villageContact(in *registry.Input) *registry.VillageContactInput {
	if in.VillageContact == nil {
		in.VillageContact = &registry.VillageContactInput{}
	}
	return in.VillageContact
}
