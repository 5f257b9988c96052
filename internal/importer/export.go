package importer

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/exporter"
	"tanfang/internal/registry"
)

// The roster export: the files of an area as the import template's
// columns (so an edited export can be imported again) plus what follows
// from a file (its number, age, class, status, what it lacks). Numbers are
// masked unless a permitted role asks otherwise (R-OVS-3, DOMAIN §7).

// UnmaskRoles may export full ID and phone numbers: the city and county
// bureaus that file rosters, and administrators.
var UnmaskRoles = map[string]bool{auth.RoleAdmin: true, auth.RoleCity: true, auth.RoleCounty: true}

var statusLabels = func() map[string]string {
	m := map[string]string{}
	for _, s := range registry.Statuses {
		m[s.Code] = s.Label
	}
	return m
}()

// exportColumns lists the roster fields an export writes, then the extras.
var exportColumns = []string{
	"file_no", "name", "gender", "id_number", "birth_date", "age", "phone", "area_code", "county", "town", "village",
	"address", "at_registered_residence", "body_conditions", "diseases", "living_situation", "economic_status",
	"family_planning_special", "left_behind", "partner_condition", "cares_for_child_condition", "disability",
	"pension_monthly", "assistance_monthly", "subsidy_monthly",
	"first_contact.name", "first_contact.relation", "first_contact.phone", "first_contact.address",
	"village_contact.name", "village_contact.phone", "willing", "decline_reason", "consent_signer", "consent_signed_on",
	"consent_home", "consent_home_for_call", "help_channels", "help_channels_other", "measures", "collector", "collected_on",
	"class", "status", "missing",
}

// ExportElders writes the files of sc matching f as a roster workbook to
// out and audits the export. With unmasked, only UnmaskRoles may export
// (others get registry.ErrForbidden, audited as denied) and the file says
// that it holds full numbers.
func (im *Importer) ExportElders(ctx context.Context, actor registry.Actor, sc areas.Scope, f registry.Filter, unmasked bool, meta exporter.Meta, out io.Writer) (int, error) {
	entry := audit.Entry{At: im.now(), ActorID: actor.UserID, Actor: actor.Username, Action: "export.elders",
		TargetType: "area", TargetID: sc.Code, AreaCode: sc.Code, IP: actor.IP, Outcome: audit.OK}
	keys := filterKeys(f)
	if unmasked && !UnmaskRoles[actor.Role] {
		entry.Outcome, entry.Detail = audit.Denied, "unmasked=1 role="+actor.Role
		if err := audit.Log(ctx, im.DB, entry); err != nil {
			return 0, err
		}
		return 0, registry.ErrForbidden
	}
	ix, err := loadAreas(ctx, im.Areas, sc)
	if err != nil {
		return 0, err
	}
	cols := make([]exporter.Column, len(exportColumns))
	fields := make([]field, len(exportColumns))
	for i, name := range exportColumns {
		fields[i] = rosterSpec.fields[rosterSpec.index(name)]
		cols[i] = exporter.Column{Header: fields[i].label}
		switch fields[i].kind {
		case kID, kPhone, kAreaCode:
			cols[i].Text, cols[i].Width = true, 22
		}
	}
	meta.Unmasked = unmasked
	w, err := exporter.New(meta, cols)
	if err != nil {
		return 0, err
	}
	err = im.Registry.Each(ctx, sc, f, unmasked, func(e registry.Elder) error {
		vals := make([]any, len(fields))
		for i, fd := range fields {
			vals[i] = exportValue(ix, fd, e, unmasked)
		}
		return w.Row(vals...)
	})
	if err != nil {
		return 0, err
	}
	entry.Detail = fmt.Sprintf("rows=%d unmasked=%d filters=%s", w.Rows(), b2i(unmasked), strings.Join(keys, ","))
	if err := audit.Log(ctx, im.DB, entry); err != nil {
		return 0, err
	}
	return w.Rows(), w.Finish(out)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// filterKeys names the filters used, never their values (a name or number
// searched for must not reach the audit log).
func filterKeys(f registry.Filter) []string {
	var keys []string
	for k, set := range map[string]bool{
		"area_code": f.AreaCode != "", "status": f.Status != "", "incomplete": f.Incomplete != nil, "name": f.Name != "",
		"id_number": f.IDNumber != "", "phone": f.Phone != "", "class": f.Class != "",
	} {
		if set {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func yesNoText(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

func optYesNo(b *bool) any {
	if b == nil {
		return nil
	}
	return yesNoText(*b)
}

func labelOf(cs *choiceSet, code string) string {
	for _, c := range cs.list {
		if c.code == code {
			return c.label
		}
	}
	return code
}

func labelsOf(cs *choiceSet, codes []string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = labelOf(cs, c)
	}
	return strings.Join(out, "、")
}

func money(m *registry.Money) any {
	if m == nil {
		return nil
	}
	return m.String()
}

func pick(unmasked bool, clear, masked string) string {
	if unmasked {
		return clear
	}
	return masked
}

func yearMonth(date string) string {
	if len(date) >= len("2006-01") {
		return date[:len("2006-01")]
	}
	return date
}

func exportValue(ix *areaIndex, fd field, e registry.Elder, unmasked bool) any {
	county, town, village := ix.path(e.AreaCode)
	switch fd.name {
	case "file_no":
		return e.ID
	case "name":
		return e.Name
	case "gender":
		return labelOf(genderChoices, e.Gender)
	case "id_number":
		return pick(unmasked, e.IDNumber, e.IDNumberMasked)
	case "birth_date":
		// The template asks for the month; the day would also tell what
		// the masked ID number hides.
		return pick(unmasked, e.BirthDate, yearMonth(e.BirthDate))
	case "age":
		return e.Age
	case "phone":
		return pick(unmasked, e.Phone, e.PhoneMasked)
	case "area_code":
		return e.AreaCode
	case "county":
		return county
	case "town":
		return town
	case "village":
		return village
	case "address":
		return e.Address
	case "at_registered_residence":
		return optYesNo(e.AtRegisteredResidence)
	case "body_conditions":
		return labelsOf(fd.choices, e.BodyConditions)
	case "diseases":
		return e.Diseases
	case "living_situation":
		return labelOf(fd.choices, e.LivingSituation)
	case "economic_status":
		return labelsOf(fd.choices, e.EconomicStatus)
	case "family_planning_special":
		return yesNoText(e.FamilyPlanningSpecial)
	case "left_behind":
		return yesNoText(e.LeftBehind)
	case "partner_condition":
		return labelOf(fd.choices, e.PartnerCondition)
	case "cares_for_child_condition":
		return labelOf(fd.choices, e.CaresForChildCondition)
	case "disability":
		if e.DisabilityCategory == 0 {
			return nil
		}
		return disabilityText(e.DisabilityCategory, e.DisabilityGrade)
	case "pension_monthly":
		return money(e.PensionMonthly)
	case "assistance_monthly":
		return money(e.AssistanceMonthly)
	case "subsidy_monthly":
		return money(e.SubsidyMonthly)
	case "first_contact.name":
		return e.FirstContact.Name
	case "first_contact.relation":
		return labelOf(fd.choices, e.FirstContact.Relation)
	case "first_contact.phone":
		return pick(unmasked, e.FirstContact.Phone, e.FirstContact.PhoneMasked)
	case "first_contact.address":
		return e.FirstContact.Address
	case "village_contact.name":
		return e.VillageContact.Name
	case "village_contact.phone":
		return pick(unmasked, e.VillageContact.Phone, e.VillageContact.PhoneMasked)
	case "willing":
		return optYesNo(e.Willing)
	case "decline_reason":
		return e.DeclineReason
	case "consent_signer":
		return e.ConsentSigner
	case "consent_signed_on":
		return e.ConsentSignedOn
	case "consent_home":
		return yesNoText(e.ConsentHome)
	case "consent_home_for_call":
		return yesNoText(e.ConsentHomeForCall)
	case "help_channels":
		return labelsOf(fd.choices, e.HelpChannels)
	case "help_channels_other":
		return e.HelpChannelsOther
	case "measures":
		return e.Measures
	case "collector":
		return e.Collector
	case "collected_on":
		return e.CollectedOn
	case "class":
		return e.Class
	case "status":
		return statusLabels[e.Status]
	case "missing":
		return strings.Join(e.Missing, "、")
	}
	panic("importer: no export for " + fd.name)
}
