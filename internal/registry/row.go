package registry

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"tanfang/internal/classes"
	"tanfang/internal/pii"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/mask"
	"tanfang/internal/store"
)

// Kinds bound into each sealed value, so one column's ciphertext cannot be
// passed off as another's.
const (
	kindID    = "id_number"
	kindPhone = "phone"
	kindCert  = "disability_certificate"
)

// row is one elders row. The clear personal numbers beside it are filled
// only on write paths, after opening the sealed columns.
type row struct {
	ID                        int64
	Name, Gender, BirthDate   string
	BirthDayAssumed           bool
	IDEnc                     []byte
	IDHmac, IDMasked          string
	PhoneEnc                  []byte
	PhoneHmac, PhoneMasked    string
	AreaCode, Address         string
	AtRegistered              *bool
	Living, Body, Diseases    string
	Economic                  string
	FPS, LeftBehind           bool
	Partner, ChildCond        string
	CertEnc                   []byte
	CertMasked                string
	CertCategory, CertGrade   int
	Pension, Assistance       *int64
	Subsidy                   *int64
	FCName, FCRelation        string
	FCPhoneEnc                []byte
	FCPhoneMasked, FCAddress  string
	FCReachable               bool
	VCName                    string
	VCPhoneEnc                []byte
	VCPhoneMasked             string
	Willing                   *bool
	DeclineReason, Signer     string
	SignedOn                  string
	ConsentHome, HomeForCall  bool
	Help, HelpOther, Measures string
	Collector, CollectedOn    string
	HouseholdID               int64
	Status, StatusFrom        string
	StatusTo, StatusReason    string
	Active                    bool
	Incomplete                bool
	Version                   int
	CreatedAt, UpdatedAt      string
	idNumber, phone, cert     string
	fcPhone, vcPhone          string
	// Class is read-only here: internal/classes writes it (see insertVersion).
	Class classes.Summary
}

type col struct {
	name string
	ptr  any
}

// cols lists the columns in one place for SELECT, INSERT and UPDATE.
func (r *row) cols() []col {
	return []col{
		{"id", &r.ID}, {"name", &r.Name}, {"gender", &r.Gender}, {"birth_date", &r.BirthDate},
		{"birth_day_assumed", &r.BirthDayAssumed},
		{"id_enc", &r.IDEnc}, {"id_hmac", &r.IDHmac}, {"id_masked", &r.IDMasked},
		{"phone_enc", &r.PhoneEnc}, {"phone_hmac", &r.PhoneHmac}, {"phone_masked", &r.PhoneMasked},
		{"area_code", &r.AreaCode}, {"address", &r.Address}, {"at_registered_residence", &r.AtRegistered},
		{"living_situation", &r.Living}, {"body_conditions", &r.Body}, {"diseases", &r.Diseases},
		{"economic_status", &r.Economic}, {"family_planning_special", &r.FPS}, {"left_behind", &r.LeftBehind},
		{"partner_condition", &r.Partner}, {"cares_for_child_condition", &r.ChildCond},
		{"disability_cert_enc", &r.CertEnc}, {"disability_cert_masked", &r.CertMasked},
		{"disability_category", &r.CertCategory}, {"disability_grade", &r.CertGrade},
		{"pension_fen", &r.Pension}, {"assistance_fen", &r.Assistance}, {"subsidy_fen", &r.Subsidy},
		{"first_contact_name", &r.FCName}, {"first_contact_relation", &r.FCRelation},
		{"first_contact_phone_enc", &r.FCPhoneEnc}, {"first_contact_phone_masked", &r.FCPhoneMasked},
		{"first_contact_address", &r.FCAddress}, {"first_contact_reachable", &r.FCReachable},
		{"village_contact_name", &r.VCName}, {"village_contact_phone_enc", &r.VCPhoneEnc},
		{"village_contact_phone_masked", &r.VCPhoneMasked},
		{"willing", &r.Willing}, {"decline_reason", &r.DeclineReason}, {"consent_signer", &r.Signer},
		{"consent_signed_on", &r.SignedOn}, {"consent_home", &r.ConsentHome}, {"consent_home_for_call", &r.HomeForCall},
		{"help_channels", &r.Help}, {"help_channels_other", &r.HelpOther}, {"measures", &r.Measures},
		{"collector", &r.Collector}, {"collected_on", &r.CollectedOn}, {"household_id", &r.HouseholdID},
		{"status", &r.Status}, {"status_from", &r.StatusFrom}, {"status_to", &r.StatusTo},
		{"status_reason", &r.StatusReason}, {"active", &r.Active},
		{"incomplete", &r.Incomplete}, {"version", &r.Version},
		{"created_at", &r.CreatedAt}, {"updated_at", &r.UpdatedAt},
	}
}

// selectCols adds the class columns, which are read but never written here.
var selectCols = func() string {
	var names []string
	for _, c := range (&row{}).cols() {
		names = append(names, c.name)
	}
	return strings.Join(append(names, classes.SummaryColumns...), ", ")
}()

func scanRow(sc interface{ Scan(...any) error }) (row, error) {
	var r row
	cols := r.cols()
	ptrs := make([]any, len(cols))
	for i, c := range cols {
		ptrs[i] = c.ptr
	}
	var cls classes.SummaryScan
	err := sc.Scan(append(ptrs, cls.Targets()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return r, store.ErrNotFound
	}
	r.Class = cls.Summary()
	return r, err
}

// dbValue turns a field into what both drivers store: booleans as 0/1,
// nil pointers and empty blobs as NULL.
func dbValue(p any) any {
	switch v := p.(type) {
	case *bool:
		return b2i(*v)
	case **bool:
		if *v == nil {
			return nil
		}
		return b2i(**v)
	case **int64:
		if *v == nil {
			return nil
		}
		return **v
	case *[]byte:
		if len(*v) == 0 {
			return nil
		}
		return *v
	case *string:
		return *v
	case *int:
		return *v
	case *int64:
		return *v
	}
	panic(fmt.Sprintf("registry: no database form for %T", p))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeCols returns the columns and values of every field but id.
func (r *row) writeCols() ([]string, []any) {
	var names []string
	var vals []any
	for _, c := range r.cols()[1:] {
		names = append(names, c.name)
		vals = append(vals, dbValue(c.ptr))
	}
	return names, vals
}

// seal encrypts the clear numbers and derives their hashes and masks.
func (r *row) seal(k *pii.Keys) {
	r.IDEnc = k.Seal(kindID, r.idNumber)
	r.IDHmac = k.Lookup(kindID, r.idNumber)
	r.IDMasked = mask.IDNumber(r.idNumber)
	r.PhoneEnc, r.PhoneMasked = sealPhone(k, r.phone)
	r.PhoneHmac = ""
	if r.phone != "" {
		r.PhoneHmac = k.Lookup(kindPhone, r.phone)
	}
	r.CertEnc, r.CertMasked = k.Seal(kindCert, r.cert), mask.IDNumber(r.cert)
	r.FCPhoneEnc, r.FCPhoneMasked = sealPhone(k, r.fcPhone)
	r.VCPhoneEnc, r.VCPhoneMasked = sealPhone(k, r.vcPhone)
}

func sealPhone(k *pii.Keys, phone string) ([]byte, string) {
	return k.Seal(kindPhone, phone), maskPhone(phone)
}

// open decrypts the sealed columns into the clear fields.
func (r *row) open(k *pii.Keys) error {
	var err error
	for _, f := range []struct {
		kind string
		enc  []byte
		dst  *string
	}{
		{kindID, r.IDEnc, &r.idNumber}, {kindPhone, r.PhoneEnc, &r.phone}, {kindCert, r.CertEnc, &r.cert},
		{kindPhone, r.FCPhoneEnc, &r.fcPhone}, {kindPhone, r.VCPhoneEnc, &r.vcPhone},
	} {
		if *f.dst, err = k.Open(f.kind, f.enc); err != nil {
			return fmt.Errorf("elder %d: %w", r.ID, err)
		}
	}
	return nil
}

// sealedCurrent reports whether every sealed column is under the current key.
func (r *row) sealedCurrent(k *pii.Keys) bool {
	for _, b := range [][]byte{r.IDEnc, r.PhoneEnc, r.CertEnc, r.FCPhoneEnc, r.VCPhoneEnc} {
		if !k.Current(b) {
			return false
		}
	}
	return true
}

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func money(fen *int64) *Money {
	if fen == nil {
		return nil
	}
	m := Money(*fen)
	return &m
}

// elder builds the API view; it needs no key, since masks are stored.
func (r *row) elder(today age.Date) Elder {
	e := Elder{
		ID: r.ID, Name: r.Name, IDNumberMasked: r.IDMasked, Gender: r.Gender, BirthDate: r.BirthDate,
		BirthDayAssumed: r.BirthDayAssumed, PhoneMasked: r.PhoneMasked, AreaCode: r.AreaCode, Address: r.Address,
		AtRegisteredResidence: r.AtRegistered, LivingSituation: r.Living, BodyConditions: splitList(r.Body),
		Diseases: r.Diseases, EconomicStatus: splitList(r.Economic), FamilyPlanningSpecial: r.FPS,
		LeftBehind: r.LeftBehind, PartnerCondition: r.Partner, CaresForChildCondition: r.ChildCond,
		DisabilityCertMasked: r.CertMasked, DisabilityCategory: r.CertCategory, DisabilityGrade: r.CertGrade,
		PensionMonthly: money(r.Pension), AssistanceMonthly: money(r.Assistance), SubsidyMonthly: money(r.Subsidy),
		FirstContact: FirstContact{Name: r.FCName, Relation: r.FCRelation, PhoneMasked: r.FCPhoneMasked,
			Address: r.FCAddress, Reachable: r.FCReachable},
		VillageContact: VillageContact{Name: r.VCName, PhoneMasked: r.VCPhoneMasked},
		Willing:        r.Willing, DeclineReason: r.DeclineReason, ConsentSigner: r.Signer,
		ConsentSignedOn: r.SignedOn, ConsentHome: r.ConsentHome, ConsentHomeForCall: r.HomeForCall,
		HelpChannels: splitList(r.Help), HelpChannelsOther: r.HelpOther, Measures: r.Measures,
		Collector: r.Collector, CollectedOn: r.CollectedOn, HouseholdID: r.HouseholdID,
		Status: r.Status, StatusFrom: r.StatusFrom, StatusTo: r.StatusTo, StatusReason: r.StatusReason,
		Active: r.Active, Summary: r.Class, Incomplete: r.Incomplete, Version: r.Version,
		CreatedAt: store.MustTime(r.CreatedAt), UpdatedAt: store.MustTime(r.UpdatedAt),
	}
	if b, err := age.ParseDate(r.BirthDate); err == nil {
		e.Age = age.Years(b, today)
	}
	e.Missing = Completeness(e)
	return e
}

// fact is one field as history records it: value compares, shown is
// stored (masked for personal numbers, so history holds none in clear).
type fact struct{ field, value, shown string }

func plain(field, v string) fact { return fact{field, v, v} }

func masked(field, clear, shown string) fact { return fact{field, clear, shown} }

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

func optYesNo(b *bool) string {
	if b == nil {
		return ""
	}
	return yesNo(*b)
}

func optMoney(fen *int64) string {
	if fen == nil {
		return ""
	}
	return Money(*fen).String()
}

func maskPhone(p string) string {
	if p == "" {
		return ""
	}
	return mask.Phone(p)
}

// facts lists the fields history compares. It reads the clear numbers, so
// it works on opened rows, and masks them itself: the stored masks of a
// patched row are refreshed only when it is sealed.
func (r *row) facts() []fact {
	cert := ""
	if r.cert != "" {
		cert = fmt.Sprintf("%s（%d类%d级）", mask.IDNumber(r.cert), r.CertCategory, r.CertGrade)
	}
	household := ""
	if r.HouseholdID != 0 && r.HouseholdID != r.ID {
		household = strconv.FormatInt(r.HouseholdID, 10)
	}
	return []fact{
		plain("name", r.Name),
		masked("id_number", r.idNumber, mask.IDNumber(r.idNumber)),
		plain("gender", r.Gender),
		plain("birth_date", r.BirthDate),
		masked("phone", r.phone, maskPhone(r.phone)),
		plain("area_code", r.AreaCode),
		plain("address", r.Address),
		plain("at_registered_residence", optYesNo(r.AtRegistered)),
		plain("living_situation", r.Living),
		plain("body_conditions", r.Body),
		plain("diseases", r.Diseases),
		plain("economic_status", r.Economic),
		plain("family_planning_special", yesNo(r.FPS)),
		plain("left_behind", yesNo(r.LeftBehind)),
		plain("partner_condition", r.Partner),
		plain("cares_for_child_condition", r.ChildCond),
		masked("disability_certificate", r.cert, cert),
		plain("pension_monthly", optMoney(r.Pension)),
		plain("assistance_monthly", optMoney(r.Assistance)),
		plain("subsidy_monthly", optMoney(r.Subsidy)),
		plain("first_contact.name", r.FCName),
		plain("first_contact.relation", r.FCRelation),
		masked("first_contact.phone", r.fcPhone, maskPhone(r.fcPhone)),
		plain("first_contact.address", r.FCAddress),
		plain("first_contact.reachable", yesNo(r.FCReachable)),
		plain("village_contact.name", r.VCName),
		masked("village_contact.phone", r.vcPhone, maskPhone(r.vcPhone)),
		plain("willing", optYesNo(r.Willing)),
		plain("decline_reason", r.DeclineReason),
		plain("consent_signer", r.Signer),
		plain("consent_signed_on", r.SignedOn),
		plain("consent_home", yesNo(r.ConsentHome)),
		plain("consent_home_for_call", yesNo(r.HomeForCall)),
		plain("help_channels", r.Help),
		plain("help_channels_other", r.HelpOther),
		plain("measures", r.Measures),
		plain("collector", r.Collector),
		plain("collected_on", r.CollectedOn),
		plain("household_with", household),
		plain("status", r.Status),
		plain("status_from", r.StatusFrom),
		plain("status_to", r.StatusTo),
		plain("status_reason", r.StatusReason),
	}
}

// Change is one field's old and new value in a version.
type Change struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// diff compares two opened rows; on create old is nil and every field
// that has a value is listed.
func diff(old, new *row) map[string]Change {
	b := new.facts()
	out := map[string]Change{}
	if old == nil {
		for _, f := range b {
			if f.shown != "" {
				out[f.field] = Change{New: f.shown}
			}
		}
		return out
	}
	a := old.facts()
	for i := range a {
		if a[i].value != b[i].value || a[i].shown != b[i].shown {
			out[a[i].field] = Change{Old: a[i].shown, New: b[i].shown}
		}
	}
	return out
}
