package synth

import (
	"reflect"
	"strings"
	"testing"

	"tanfang/internal/policy/age"
	"tanfang/internal/policy/assess"
	"tanfang/internal/policy/classify"
	"tanfang/internal/policy/idcard"
	"tanfang/internal/policy/mask"
)

var today = age.Date{Year: 2026, Month: 12, Day: 3}

const village = "320706102206"

func sample(seed int64, n int) []Person {
	g := NewGenerator(seed, today)
	out := make([]Person, n)
	for i := range out {
		out[i] = g.Elder(village)
	}
	return out
}

func TestDeterministic(t *testing.T) {
	a, b := sample(7, 200), sample(7, 200)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave different people")
	}
	if c := sample(8, 200); reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave the same people")
	}
	g, h := NewGenerator(7, today), NewGenerator(7, today)
	for range 50 {
		if v, w := g.Visitor(""), h.Visitor(""); v != w {
			t.Fatalf("visitors differ: %+v %+v", v, w)
		}
	}
}

// DOMAIN §2: every number is valid, carries the birth date and sex, lies in
// the documented block, and no number repeats.
func TestIDNumbers(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range sample(1, 5000) {
		n, err := idcard.ParseAt(p.IDNumber, today)
		if err != nil {
			t.Fatalf("%s: %v", p.IDNumber, err)
		}
		if n.Birth != p.Birth || n.Female != p.Female || n.Region != "320706" {
			t.Fatalf("%s does not match %v female=%v", p.IDNumber, p.Birth, p.Female)
		}
		if p.IDNumber[14] != '9' {
			t.Fatalf("%s: sequence outside the %d block", p.IDNumber, IDSeqBlock)
		}
		if seen[p.IDNumber] {
			t.Fatalf("%s made twice", p.IDNumber)
		}
		seen[p.IDNumber] = true
		if p.DisabilityCert != "" {
			d, err := idcard.ParseDisability(p.DisabilityCert, p.IDNumber)
			if err != nil || d.Grade != p.CertGrade {
				t.Fatalf("certificate %s: %v (grade %d)", p.DisabilityCert, err, p.CertGrade)
			}
		}
	}
	if Region("320771001001") != "320700" || Region("320722100200") != "320722" {
		t.Fatal("Region")
	}
}

// Many people on one day exhaust its 50 codes; the generator moves on
// instead of repeating a number.
func TestIDNumbersNeverRepeatUnderPressure(t *testing.T) {
	g := NewGenerator(3, today)
	seen := map[string]bool{}
	birth := age.Date{Year: 1950, Month: 5, Day: 5}
	for range 120 {
		id, b := g.idNumber("320706", birth, true)
		if seen[id] {
			t.Fatalf("%s repeated", id)
		}
		seen[id] = true
		if n, err := idcard.Parse(id); err != nil || n.Birth != b {
			t.Fatalf("%s: %v, birth %v", id, err, b)
		}
	}
}

// The pyramid: ages 60–100, fewer with each band, more women among
// the oldest.
func TestAgesAndSexes(t *testing.T) {
	ps := sample(2, 20000)
	bands := map[int]int{}
	women := map[bool][2]int{} // old (90+)?: {women, all}
	for _, p := range ps {
		a := p.Age(today)
		if a < 60 || a > 100 {
			t.Fatalf("age %d", a)
		}
		bands[a/10]++
		w := women[a >= 90]
		w[1]++
		if p.Female {
			w[0]++
		}
		women[a >= 90] = w
	}
	if !(bands[6] > bands[7] && bands[7] > bands[8] && bands[8] > bands[9] && bands[9] > 0 && bands[10] > 0) {
		t.Errorf("bands by decade %v do not fall with age", bands)
	}
	share := func(w [2]int) float64 { return float64(w[0]) / float64(w[1]) }
	if young, old := share(women[false]), share(women[true]); old < young+0.1 || young < 0.45 || young > 0.6 {
		t.Errorf("women: %.2f under 90, %.2f from 90", young, old)
	}
}

// R-CLS-1..3 with the default county rules: roughly A 15–20%, B 15–20%,
// C the rest, and a few not in scope.
func TestClassMix(t *testing.T) {
	ps := sample(4, 20000)
	n := map[string]int{}
	rules := map[string]bool{}
	for _, p := range ps {
		r := classify.Classify(p.Facts(), today, classify.DefaultCRules(), assess.DefaultSettings())
		n[r.Class]++
		for _, x := range r.Reasons {
			rules[x.Rule] = true
		}
	}
	pct := func(c string) float64 { return 100 * float64(n[c]) / float64(len(ps)) }
	if a := pct("A"); a < 14 || a > 21 {
		t.Errorf("class A %.1f%%", a)
	}
	if b := pct("B"); b < 14 || b > 21 {
		t.Errorf("class B %.1f%%", b)
	}
	if c := pct("C"); c < 45 {
		t.Errorf("class C %.1f%%", c)
	}
	if x := pct("none"); x < 2 || x > 15 {
		t.Errorf("not in scope %.1f%%", x)
	}
	for _, r := range []string{"A1", "A2", "A3", "B1", "B2", "B3", "C1", "C2", "C3", "C4", "C5"} {
		if !rules[r] {
			t.Errorf("no elder matched rule %s", r)
		}
	}
}

// Phones are all in the fictional block and normalise as the registry
// will; contacts are mostly children, some unreachable with a village
// contact; a few decline, each with reason and signer.
func TestContactsAndConsent(t *testing.T) {
	ps := sample(5, 5000)
	var child, unreachable, declined, ownPhone int
	check := func(ph string) {
		got, err := mask.NormalizePhone(ph)
		if err != nil || got != ph || !strings.HasPrefix(ph, PhonePrefix) {
			t.Fatalf("phone %q: %v", ph, err)
		}
	}
	for _, p := range ps {
		if p.Phone != "" {
			ownPhone++
			check(p.Phone)
		}
		check(p.First.Phone)
		if p.First.Relation == "child" {
			child++
		}
		if !p.First.Reachable {
			unreachable++
			if p.Village.Name == "" {
				t.Fatal("unreachable first contact without a village contact")
			}
			check(p.Village.Phone)
		}
		if !p.Willing {
			declined++
			if p.DeclineReason == "" || p.ConsentSigner == "" || p.ConsentSignedOn.IsZero() || p.ConsentHome {
				t.Fatalf("decline incomplete: %+v", p)
			}
		}
		for _, name := range []string{p.Name, p.First.Name, p.Collector} {
			if famous[name] || len([]rune(name)) < 2 {
				t.Fatalf("name %q", name)
			}
		}
	}
	frac := func(k int) float64 { return float64(k) / float64(len(ps)) }
	if f := frac(child); f < 0.75 || f > 0.92 {
		t.Errorf("children as first contact: %.2f", f)
	}
	if f := frac(unreachable); f < 0.03 || f > 0.12 {
		t.Errorf("unreachable: %.2f", f)
	}
	if f := frac(declined); f < 0.01 || f > 0.06 {
		t.Errorf("declined: %.2f", f)
	}
	if f := frac(ownPhone); f < 0.3 || f > 0.6 {
		t.Errorf("own phone: %.2f", f)
	}
}

func TestPartner(t *testing.T) {
	g := NewGenerator(6, today)
	for range 300 {
		p := g.Elder(village)
		if p.Living != "empty_nest" {
			continue
		}
		q := g.Partner(p)
		if q.Female == p.Female || q.Address != p.Address || q.Living != "empty_nest" || q.IDNumber == p.IDNumber {
			t.Fatalf("partner %+v of %+v", q, p)
		}
		if a := q.Age(today); a < 60 || a > 100 {
			t.Fatalf("partner age %d", a)
		}
		if p.Partner == "disabled" && conditionOf(q) != "disabled" {
			t.Fatalf("partner said disabled, is %v", q.Body)
		}
		if q.Partner != conditionOf(p) {
			t.Fatalf("partner condition %s, elder %v", q.Partner, p.Body)
		}
	}
}

// R-TEAM-2: visitors of every kind, each with a unique fictional phone.
func TestVisitors(t *testing.T) {
	g := NewGenerator(9, today)
	phones := map[string]bool{}
	kinds := map[string]bool{}
	for range 500 {
		v := g.Visitor("")
		kinds[v.Kind] = true
		if phones[v.Phone] {
			t.Fatalf("phone %s repeated", v.Phone)
		}
		phones[v.Phone] = true
		if got, err := mask.NormalizePhone(v.Phone); err != nil || got != v.Phone || !strings.HasPrefix(v.Phone, PhonePrefix) {
			t.Fatalf("phone %s: %v", v.Phone, err)
		}
		if in := v.Input(village); in.Kind != v.Kind || in.AreaCode != village || in.Name == "" {
			t.Fatalf("input %+v", in)
		}
	}
	for _, k := range VisitorKinds {
		if !kinds[k] {
			t.Errorf("no visitor of kind %s", k)
		}
	}
	if v := g.Visitor("family_doctor"); v.Kind != "family_doctor" || v.Title != "家庭医生" {
		t.Errorf("asked kind: %+v", v)
	}
}

// Input carries the facts the registry needs; amounts are in yuan.
func TestInput(t *testing.T) {
	for _, p := range sample(10, 300) {
		in := p.Input()
		if *in.IDNumber != p.IDNumber || *in.AreaCode != village || *in.LivingSituation != p.Living {
			t.Fatalf("input %+v", in)
		}
		if (in.Phone == nil) != (p.Phone == "") || (in.VillageContact == nil) != (p.Village.Name == "") {
			t.Fatalf("optional fields %+v", in)
		}
		if p.PensionFen == 0 && *in.PensionMonthly != "0.00" {
			t.Fatalf("pension %v", *in.PensionMonthly)
		}
	}
}
