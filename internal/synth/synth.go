// Package synth makes up elders and visitors for the demo city and the
// benchmarks: deterministic for a seed, with plausible frequencies, and
// built so that nobody can mistake them for real people.
//
// How the data shows it is made up:
//   - ID numbers carry the county's code, a real birth date and a valid
//     check character, but their sequence digits are always in the block
//     900–999 (IDSeqBlock); the demo never makes any other.
//   - Phone numbers are 11-digit mobiles in 170 00xx xxxx (PhonePrefix),
//     a block of a virtual-operator range; visitors get 170 0000 0000
//     upwards in order, elders and their contacts 170 0005 0000 – 170 0009
//     9999 at random.
//   - Names are random pairs of given-name characters; well-known people's
//     names are drawn again.
//
// The package is pure: it reads no clock; the caller passes today.
package synth

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"tanfang/internal/policy/age"
	"tanfang/internal/policy/classify"
	"tanfang/internal/policy/idcard"
	"tanfang/internal/registry"
)

// IDSeqBlock is the first sequence code of made-up ID numbers: synthetic
// numbers use 900–999 only (odd for men, even for women).
const IDSeqBlock = 900

// PhonePrefix starts every made-up phone number (170 00xx xxxx).
const PhonePrefix = "170000"

// Contact is the first contact or the village's designated contact.
type Contact struct {
	Name      string
	Relation  string // child, relative, village; "" for a village contact
	Phone     string
	Reachable bool
}

// Person is one made-up elder: the plain facts of annex 3's first part, in
// the registry's code words, so a bulk writer can store them directly and
// Input can feed them through the registry.
type Person struct {
	AreaCode   string // village or grid, 12 digits
	Name       string
	IDNumber   string // 18 characters, valid, sequence in IDSeqBlock
	Birth      age.Date
	Female     bool
	Phone      string // "" when the elder has no phone of their own
	Address    string
	AtHome     bool // lives at the registered residence
	Living     string
	Body       []string // body condition codes, form order
	Diseases   string
	Economic   []string // economic status codes, form order
	FPS        bool     // family-planning special family (计生特殊家庭)
	LeftBehind bool
	Partner    string // partner condition code
	Child      string // cared-for child's condition code
	// DisabilityCert is a 20-character certificate number or "".
	DisabilityCert string
	CertGrade      int // 1–4, 0 without a certificate
	// Monthly amounts in fen.
	PensionFen, AssistanceFen, SubsidyFen int64
	First                                 Contact
	Village                               Contact // set when the first contact cannot be reached
	Willing                               bool
	DeclineReason                         string
	ConsentSigner                         string
	ConsentSignedOn                       age.Date
	ConsentHome                           bool
	ConsentHomeForCall                    bool
	Help                                  []string // help channel codes
	Collector                             string
	CollectedOn                           age.Date
}

// Generator draws people from one seeded source. It remembers the ID
// numbers it has made, so none repeats, and is not safe for concurrent use.
type Generator struct {
	rng      *rand.Rand
	today    age.Date
	used     map[idKey]int
	visitors int
}

type idKey struct {
	region string
	birth  age.Date
	female bool
}

// NewGenerator returns a generator for seed; today fixes ages and the dates
// of consent and collection.
func NewGenerator(seed int64, today age.Date) *Generator {
	return &Generator{
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x7a6e66616e67)),
		today: today,
		used:  map[idKey]int{},
	}
}

func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }

func (g *Generator) pick(s []rune) string { return string(s[g.rng.IntN(len(s))]) }

func (g *Generator) surname() string {
	total := 0
	for _, s := range surnames {
		total += s.w
	}
	n := g.rng.IntN(total)
	for _, s := range surnames {
		if n < s.w {
			return s.s
		}
		n -= s.w
	}
	return surnames[0].s
}

// name makes a name from a surname and the given-name characters of chars;
// a well-known person's name is drawn again.
func (g *Generator) name(surname string, chars []rune) string {
	for {
		n := surname + g.pick(chars)
		if g.chance(0.7) {
			if c := g.pick(chars); !strings.HasSuffix(n, c) {
				n += c
			}
		}
		if !famous[n] {
			return n
		}
	}
}

// ageBands weight five-year bands from 60 to 100 and give the share of
// women in each: fewer people in each older band, more of them women.
var ageBands = []struct {
	from, weight int
	female       float64
}{
	{60, 22, 0.50}, {65, 22, 0.51}, {70, 19, 0.52}, {75, 15, 0.54},
	{80, 10, 0.58}, {85, 6, 0.63}, {90, 3, 0.70}, {95, 1, 0.78},
}

// ageAndSex draws a 周岁 age from 60 to 100 and the sex.
func (g *Generator) ageAndSex() (int, bool) {
	total := 0
	for _, b := range ageBands {
		total += b.weight
	}
	n := g.rng.IntN(total)
	for _, b := range ageBands {
		if n < b.weight {
			years := b.from + g.rng.IntN(5)
			if b.from == 95 {
				years = 95 + g.rng.IntN(6) // up to 100
			}
			return years, g.chance(b.female)
		}
		n -= b.weight
	}
	return 60, false
}

// birthFor returns a birth date at which the elder is `years` 周岁 today.
func (g *Generator) birthFor(years int) age.Date {
	// The day after the birthday of years+1 ago up to this year's birthday.
	latest := age.Date{Year: g.today.Year - years, Month: g.today.Month, Day: g.today.Day}
	for !validDate(latest) {
		latest.Day--
	}
	d := latest.AddDays(-g.rng.IntN(365))
	for age.Years(d, g.today) != years {
		d = d.AddDays(1)
	}
	return d
}

func validDate(d age.Date) bool {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return t.Day() == d.Day
}

// Region is the address code an ID number of the area carries: the
// county's code. 320771 is a statistical unit only, never an issuing one,
// so its people carry the city's code.
func Region(areaCode string) string {
	r := areaCode[:6]
	if r == "320771" {
		return "320700"
	}
	return r
}

// idNumber makes a number in IDSeqBlock not made before. In the rare case
// all 50 codes of a day are taken it moves the birth date a day earlier,
// which can add a year to the age: callers read the age back from the
// date returned.
func (g *Generator) idNumber(region string, birth age.Date, female bool) (string, age.Date) {
	for {
		k := idKey{region, birth, female}
		if n := g.used[k]; n < 50 {
			g.used[k] = n + 1
			return idcard.Synthetic(region, birth, female, IDSeqBlock/2+n), birth
		}
		birth = birth.AddDays(-1)
	}
}

// money draws an amount in whole yuan between lo and hi, in fen.
func (g *Generator) money(lo, hi int) int64 { return int64(lo+g.rng.IntN(hi-lo+1)) * 100 }

// phone is a made-up mobile for an elder or a contact.
func (g *Generator) phone() string {
	return fmt.Sprintf("%s%05d", PhonePrefix, 50000+g.rng.IntN(50000))
}

func (g *Generator) dateWithin(days int) age.Date { return g.today.AddDays(-1 - g.rng.IntN(days)) }

// Elder makes up one elder of the village or grid areaCode.
func (g *Generator) Elder(areaCode string) Person {
	years, female := g.ageAndSex()
	p := Person{AreaCode: areaCode, Female: female}
	p.IDNumber, p.Birth = g.idNumber(Region(areaCode), g.birthFor(years), female)
	years = age.Years(p.Birth, g.today)
	sur := g.surname()
	if female {
		p.Name = g.name(sur, elderFemale)
	} else {
		p.Name = g.name(sur, elderMale)
	}
	if g.chance(0.45) {
		p.Phone = g.phone()
	}
	p.Address = fmt.Sprintf("%s组%d号", []string{"一", "二", "三", "四", "五", "六", "七", "八"}[g.rng.IntN(8)], 1+g.rng.IntN(80))
	p.AtHome = g.chance(0.93)

	g.living(&p, years)
	g.body(&p, years)
	g.economy(&p, years)
	p.FPS = g.chance(0.02)
	p.LeftBehind = (p.Living == "alone" || p.Living == "empty_nest") && g.chance(0.22)
	g.contacts(&p, sur)
	g.consent(&p)
	p.Collector = g.name(g.surname(), childFemale)
	p.CollectedOn = g.dateWithin(300)
	return p
}

// living draws the living situation: the very old more often alone.
func (g *Generator) living(p *Person, years int) {
	alone := 0.28
	if years >= 80 {
		alone = 0.35
	}
	switch r := g.rng.Float64(); {
	case r < alone:
		p.Living = "alone"
	case r < alone+0.45:
		p.Living = "empty_nest"
	case r < alone+0.49:
		p.Living = "with_dependent_child"
	default:
		p.Living = "with_family"
	}
	p.Partner, p.Child = "none", "none"
	switch p.Living {
	case "empty_nest":
		switch r := g.rng.Float64(); {
		case r < 0.05:
			p.Partner = "disabled"
		case r < 0.08:
			p.Partner = "demented"
		case r < 0.11:
			p.Partner = "disability"
		case r < 0.15:
			p.Partner = "severe_illness"
		}
	case "with_dependent_child":
		p.Child = []string{"disabled", "demented", "severe_illness"}[g.rng.IntN(3)]
	}
	if p.Child == "none" && g.chance(0.01) {
		p.Child = "severe_illness"
	}
}

// body draws the body conditions, more impaired with age, and for some a
// disability certificate whose grade 1 or 2 makes 重残.
func (g *Generator) body(p *Person, years int) {
	impaired := 0.08 + float64(years-60)*0.006
	if p.Living == "with_family" {
		// Elders who live with family are on the list mostly because
		// they cannot look after themselves.
		impaired *= 3
	}
	switch r := g.rng.Float64(); {
	case r < impaired*0.4:
		p.Body = []string{"disabled"}
	case r < impaired:
		p.Body = []string{"semi_disabled"}
	default:
		p.Body = []string{"self_care"}
	}
	if g.chance(0.05) {
		grade := 1 + g.rng.IntN(4)
		p.DisabilityCert = fmt.Sprintf("%s%d%d", p.IDNumber, 1+g.rng.IntN(7), grade)
		p.CertGrade = grade
		if grade <= 2 {
			p.Body = append(p.Body, "severe_disability")
		}
	}
	if g.chance(0.05) {
		p.Body = append(p.Body, "severe_illness")
	}
	var ds []string
	for _, i := range g.rng.Perm(len(diseases))[:g.rng.IntN(3)] {
		ds = append(ds, diseases[i])
	}
	p.Diseases = strings.Join(ds, "、")
	p.Body = inOrder(registry.BodyConditions, p.Body)
}

// economy draws the economic status and monthly amounts (Lianyungang
// levels of recent years, rounded).
func (g *Generator) economy(p *Person, years int) {
	var e []string
	switch r := g.rng.Float64(); {
	case r < 0.04:
		e = append(e, "tekun")
		p.AssistanceFen = g.money(1050, 1250)
	case r < 0.14:
		e = append(e, "dibao")
		p.AssistanceFen = g.money(300, 850)
	case r < 0.19:
		e = append(e, "dibao_edge")
	}
	switch r := g.rng.Float64(); {
	case r < 0.68:
		e = append(e, "resident_pension")
		p.PensionFen = g.money(180, 320)
	case r < 0.90:
		e = append(e, "enterprise_pension")
		p.PensionFen = g.money(2100, 3600)
	case r < 0.96:
		e = append(e, "public_retired")
		p.PensionFen = g.money(4200, 7500)
	}
	if years >= 80 {
		p.SubsidyFen = g.money(50, 300)
	}
	p.Economic = inOrder(registry.EconomicStatuses, e)
}

// contacts draws the first contact, mostly a child; some cannot be
// reached, and then the village names its own contact.
func (g *Generator) contacts(p *Person, surname string) {
	childSur := surname
	if p.Female {
		childSur = g.surname() // her children carry their father's name
	}
	switch r := g.rng.Float64(); {
	case r < 0.84:
		chars := childMale
		if g.chance(0.45) {
			chars = childFemale
		}
		p.First = Contact{Name: g.name(childSur, chars), Relation: "child"}
	case r < 0.95:
		p.First = Contact{Name: g.name(g.surname(), childMale), Relation: "relative"}
	default:
		p.First = Contact{Name: g.name(g.surname(), childFemale), Relation: "village"}
	}
	p.First.Phone = g.phone()
	p.First.Reachable = !g.chance(0.07)
	if !p.First.Reachable {
		p.Village = Contact{Name: g.name(g.surname(), childMale), Phone: g.phone(), Reachable: true}
	}
}

// consent draws willingness; a few elders decline, signed by themselves
// or by family.
func (g *Generator) consent(p *Person) {
	p.Help = []string{"town_village"}
	if g.chance(0.3) {
		p.Help = append(p.Help, []string{"party_government", "volunteer", "social_worker", "social_org"}[g.rng.IntN(4)])
	}
	p.Help = inOrder(registry.HelpChannels, p.Help)
	if g.chance(0.03) {
		p.DeclineReason = declineReasons[g.rng.IntN(len(declineReasons))]
		p.ConsentSigner = p.Name
		if g.chance(0.4) {
			p.ConsentSigner = p.First.Name
		}
		p.ConsentSignedOn = g.dateWithin(200)
		return
	}
	p.Willing = true
	p.ConsentHome = g.chance(0.9)
	p.ConsentHomeForCall = p.ConsentHome && g.chance(0.15)
}

// Partner makes up the spouse of an elder who lives as a couple
// (empty_nest): the other sex, a similar age, the same address and first
// contact, and each one's condition as the other's partner condition.
func (g *Generator) Partner(p Person) Person {
	years := age.Years(p.Birth, g.today) - 3 + g.rng.IntN(7)
	if p.Female {
		years += 2
	}
	years = max(60, min(years, 100))
	q := Person{AreaCode: p.AreaCode, Female: !p.Female}
	q.IDNumber, q.Birth = g.idNumber(Region(p.AreaCode), g.birthFor(years), q.Female)
	years = age.Years(q.Birth, g.today)
	if q.Female {
		q.Name = g.name(g.surname(), elderFemale)
	} else {
		q.Name = g.name(g.surname(), elderMale)
	}
	q.Phone = p.Phone
	q.Address, q.AtHome = p.Address, p.AtHome
	q.Living, q.Child = "empty_nest", p.Child
	g.body(&q, years)
	// Whatever p's partner condition said describes q.
	switch p.Partner {
	case "disabled":
		q.Body = inOrder(registry.BodyConditions, append(without(q.Body, "self_care", "semi_disabled"), "disabled"))
	case "severe_illness":
		q.Body = inOrder(registry.BodyConditions, append(q.Body, "severe_illness"))
	}
	q.Economic, q.PensionFen = p.Economic, p.PensionFen
	if years >= 80 {
		q.SubsidyFen = g.money(50, 300)
	}
	q.FPS, q.LeftBehind = p.FPS, p.LeftBehind
	q.Partner = conditionOf(p)
	q.First, q.Village = p.First, p.Village
	q.Help = p.Help
	g.consent(&q)
	q.Collector, q.CollectedOn = p.Collector, p.CollectedOn
	return q
}

// conditionOf reads an elder's body as a partner condition.
func conditionOf(p Person) string {
	switch {
	case slices.Contains(p.Body, "disabled"), slices.Contains(p.Body, "semi_disabled"):
		return "disabled"
	case slices.Contains(p.Body, "severe_illness"):
		return "severe_illness"
	case p.CertGrade > 0:
		return "disability"
	}
	return "none"
}

func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(drop, s) })
}

// inOrder keeps each code once, in the order of choices.
func inOrder(choices []registry.Choice, codes []string) []string {
	out := []string{}
	for _, c := range choices {
		if slices.Contains(codes, c.Code) {
			out = append(out, c.Code)
		}
	}
	return out
}

// Facts are what classification reads from the person, without an
// assessment; a bulk writer stores classify.Classify's result beside them.
func (p Person) Facts() classify.Facts {
	f := classify.Facts{
		BirthDate:              p.Birth,
		LivingSituation:        classify.Living(p.Living),
		DisabilityGrade:        p.CertGrade,
		FamilyPlanningSpecial:  p.FPS,
		LeftBehind:             p.LeftBehind,
		PartnerCondition:       classify.Condition(p.Partner),
		CaresForChildCondition: classify.Condition(p.Child),
	}
	for _, b := range p.Body {
		f.BodyConditions = append(f.BodyConditions, classify.Body(b))
	}
	for _, e := range p.Economic {
		f.EconomicStatus = append(f.EconomicStatus, classify.Economic(e))
	}
	return f
}

// Age is the person's age in 周岁 on a day.
func (p Person) Age(on age.Date) int { return age.Years(p.Birth, on) }

// Gender is the registry's code word for the person's sex.
func (p Person) Gender() string {
	if p.Female {
		return "female"
	}
	return "male"
}

func yuan(fen int64) *registry.Amount {
	a := registry.Amount(fmt.Sprintf("%d.%02d", fen/100, fen%100))
	return &a
}

// Input is the registry input that creates the person's file.
func (p Person) Input() registry.Input {
	s := func(v string) *string { return &v }
	b := func(v bool) *bool { return &v }
	l := func(v []string) *[]string { return &v }
	in := registry.Input{
		Name: s(p.Name), IDNumber: s(p.IDNumber), AreaCode: s(p.AreaCode),
		Address: s(p.Address), AtRegisteredResidence: b(p.AtHome),
		LivingSituation: s(p.Living), BodyConditions: l(p.Body), Diseases: s(p.Diseases),
		EconomicStatus: l(p.Economic), FamilyPlanningSpecial: b(p.FPS), LeftBehind: b(p.LeftBehind),
		PartnerCondition: s(p.Partner), CaresForChildCondition: s(p.Child),
		PensionMonthly: yuan(p.PensionFen), AssistanceMonthly: yuan(p.AssistanceFen), SubsidyMonthly: yuan(p.SubsidyFen),
		FirstContact: &registry.FirstContactInput{
			Name: s(p.First.Name), Relation: s(p.First.Relation), Phone: s(p.First.Phone), Reachable: b(p.First.Reachable),
		},
		Willing: b(p.Willing), ConsentHome: b(p.ConsentHome), ConsentHomeForCall: b(p.ConsentHomeForCall),
		HelpChannels: l(p.Help), Collector: s(p.Collector), CollectedOn: s(p.CollectedOn.String()),
	}
	if p.Phone != "" {
		in.Phone = s(p.Phone)
	}
	if p.DisabilityCert != "" {
		in.DisabilityCertificate = s(p.DisabilityCert)
	}
	if p.Village.Name != "" {
		in.VillageContact = &registry.VillageContactInput{Name: s(p.Village.Name), Phone: s(p.Village.Phone)}
	}
	if !p.Willing {
		in.DeclineReason, in.ConsentSigner = s(p.DeclineReason), s(p.ConsentSigner)
		in.ConsentSignedOn = s(p.ConsentSignedOn.String())
	}
	return in
}
