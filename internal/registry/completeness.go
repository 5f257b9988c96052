package registry

// Completeness lists, in Chinese and form order, what a file still lacks
// for the census (R-OBJ-3, R-REC). A file with no contact who can be reached
// is incomplete (R-REC-2): the first contact, or failing that the village's.
// The elder's own phone is not required: many elders have none, and the
// contacts are how they are reached.
func Completeness(e Elder) []string {
	missing := []string{}
	need := func(ok bool, what string) {
		if !ok {
			missing = append(missing, what)
		}
	}
	need(e.Address != "", "住址（门牌号）")
	need(e.AtRegisteredResidence != nil, "是否在户籍地居住")
	need(len(e.BodyConditions) > 0, "身体状况")
	need(e.LivingSituation != "", "居住状况")
	need(len(e.EconomicStatus) > 0, "对象状况")
	need(e.PensionMonthly != nil, "月养老金（没有填0）")
	need(e.AssistanceMonthly != nil, "月社会救助金（没有填0）")
	need(e.SubsidyMonthly != nil, "月福利补贴（没有填0）")
	fc, vc := e.FirstContact, e.VillageContact
	if fc.Name == "" {
		missing = append(missing, "第一联系人")
	} else {
		need(fc.Relation != "", "第一联系人关系")
		need(fc.PhoneMasked != "", "第一联系人电话")
	}
	// A first contact missing or without a phone is listed above; one who
	// cannot be reached needs the village's contact instead.
	if fc.Name != "" && fc.PhoneMasked != "" && !fc.Reachable && (vc.Name == "" || vc.PhoneMasked == "") {
		missing = append(missing, "村（居）指定联系人（第一联系人联系不上）")
	}
	need(e.Willing != nil, "探访意愿")
	need(e.Collector != "", "采集员")
	return missing
}
