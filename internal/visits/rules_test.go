package visits_test

import (
	"slices"
	"testing"
	"time"

	"tanfang/internal/policy/age"
	"tanfang/internal/visits"
)

// R-VST-1..5: which findings open which follow-ups.
func TestConcerns(t *testing.T) {
	fine := visits.Findings{Expression: "good", Mobility: "fair", Mental: "good", Illness: "same", House: "fairly_safe",
		Gas: "safe", WaterHeating: "safe", Electricity: "safe", Hygiene: "fair", Supporter: "good"}
	for _, tc := range []struct {
		name string
		edit func(*visits.Record)
		want []string // kind/source/severity
	}{
		{"all fine", func(r *visits.Record) {}, nil},
		{"gas unsafe (R-VST-2)", func(r *visits.Record) { r.Findings.Gas = "unsafe" }, []string{"safety/gas/urgent"}},
		{"house unsafe", func(r *visits.Record) { r.Findings.House = "unsafe" }, []string{"safety/house/high"}},
		{"fairly safe is no hazard", func(r *visits.Record) { r.Findings.Electricity = "fairly_safe" }, nil},
		{"illness worse (R-VST-1)", func(r *visits.Record) { r.Findings.Illness = "worse" }, []string{"health/illness/high"}},
		{"mental poor", func(r *visits.Record) { r.Findings.Mental = "poor" }, []string{"health/mental/medium"}},
		{"supporter poor (R-VST-3)", func(r *visits.Record) { r.Findings.Supporter = "poor" }, []string{"family_duty/supporter/medium"}},
		{"hardship (R-VST-4)", func(r *visits.Record) { r.Hardships = []string{"food"} }, []string{"hardship_benefits/hardships/medium"}},
		{"service need (R-VST-5)", func(r *visits.Record) { r.ServiceNeeds = []string{"bath"} }, []string{"service_need/needs/low"}},
		{"need as text", func(r *visits.Record) { r.Needs = "想理发" }, []string{"service_need/needs/low"}},
		{"problem with kind", func(r *visits.Record) { r.Problems, r.ProblemsKind = "门锁坏了", "safety" }, []string{"safety/problems/medium"}},
		{"problem without kind", func(r *visits.Record) { r.Problems = "缺冬衣" }, []string{"hardship_benefits/problems/medium"}},
		{"empty visit: ratings ignored, problems kept", func(r *visits.Record) {
			r.Outcome, r.Findings.Gas, r.Problems = "not_home", "unsafe", "院门外有燃气味"
		}, []string{"hardship_benefits/problems/medium"}},
	} {
		r := visits.Record{Outcome: "done", Mode: "home", Findings: fine}
		tc.edit(&r)
		var got []string
		for _, c := range visits.Concerns(r) {
			got = append(got, c.Kind+"/"+c.Source+"/"+c.Severity)
			if c.Summary == "" {
				t.Errorf("%s: empty summary", tc.name)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCleared(t *testing.T) {
	r := visits.Record{Outcome: "done", Findings: visits.Findings{Gas: "fairly_safe", House: "unsafe"}}
	if !visits.Cleared(r, "gas") || visits.Cleared(r, "house") || visits.Cleared(r, "mental") || visits.Cleared(r, "needs") {
		t.Error("cleared wrong")
	}
	r.Outcome = "refused"
	if visits.Cleared(r, "gas") {
		t.Error("a refused visit verified something")
	}
}

// R-EMG-4: the life cycle.
func TestCanMove(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		ok       bool
	}{
		{"open", "in_progress", true}, {"open", "referred", true}, {"open", "resolved", true}, {"open", "verified", false},
		{"in_progress", "referred", true}, {"referred", "resolved", true}, {"referred", "in_progress", true},
		{"resolved", "verified", true}, {"resolved", "in_progress", true}, {"resolved", "open", false},
		{"verified", "in_progress", false}, {"verified", "open", false},
	} {
		if visits.CanMove(tc.from, tc.to) != tc.ok {
			t.Errorf("%s → %s: want %v", tc.from, tc.to, tc.ok)
		}
	}
}

// R-EMG-4: escalation levels by the configurable delays.
func TestLevel(t *testing.T) {
	due := time.Date(2026, 12, 10, 2, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	r := visits.DefaultRules()
	for _, tc := range []struct {
		at   time.Duration
		want string
	}{
		{-time.Hour, "village"}, {0, "village"}, {time.Second, "town"}, {7*day - time.Second, "town"}, {7 * day, "county"},
	} {
		if got := r.Level(due, due.Add(tc.at)); got != tc.want {
			t.Errorf("%v after due: %s, want %s", tc.at, got, tc.want)
		}
	}
	r.TownAfterDays = 2
	if got := r.Level(due, due.Add(day)); got != "village" {
		t.Errorf("town after 2 days: %s one day late", got)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	r.CountyAfterDays = 1
	if err := r.Validate(); err == nil {
		t.Error("county before town accepted")
	}
	if visits.DefaultRules().Due(due, visits.SevMedium) != due.Add(7*day) {
		t.Error("medium due")
	}
}

// R-VST-4: benefit rules.
func TestCheckBenefits(t *testing.T) {
	today := age.Date{Year: 2026, Month: 12, Day: 3}
	fen := func(n int64) *int64 { return &n }
	birth := func(y, m, d int) age.Date { return age.Date{Year: y, Month: time.Month(m), Day: d} }
	for _, tc := range []struct {
		name string
		f    visits.BenefitFacts
		want []string
	}{
		{"80 today, no subsidy", visits.BenefitFacts{Birth: birth(1946, 12, 3), Pension: fen(1), Economic: []string{"resident_pension"}}, []string{"old_age_subsidy"}},
		{"79, no subsidy", visits.BenefitFacts{Birth: birth(1946, 12, 4), Pension: fen(1)}, nil},
		{"80 with subsidy", visits.BenefitFacts{Birth: birth(1940, 1, 1), Pension: fen(1), Subsidy: fen(5000)}, nil},
		{"低保边缘, severe illness", visits.BenefitFacts{Birth: birth(1950, 1, 1), Pension: fen(1), Economic: []string{"dibao_edge"}, Body: []string{"severe_illness"}}, []string{"dibao_single"}},
		{"低保边缘, self-care", visits.BenefitFacts{Birth: birth(1950, 1, 1), Pension: fen(1), Economic: []string{"dibao_edge"}, Body: []string{"self_care"}}, nil},
		{"grade 2 disability", visits.BenefitFacts{Birth: birth(1950, 1, 1), Pension: fen(1), DisabilityGrade: 2}, []string{"severe_disability_care"}},
		{"grade 3 disability", visits.BenefitFacts{Birth: birth(1950, 1, 1), Pension: fen(1), DisabilityGrade: 3}, nil},
		{"低保, disabled, nothing recorded", visits.BenefitFacts{Birth: birth(1950, 1, 1), Pension: fen(1), Economic: []string{"dibao"}, Body: []string{"disabled"}},
			[]string{"disabled_elder_care", "assistance_missing"}},
		{"no pension at all", visits.BenefitFacts{Birth: birth(1950, 1, 1)}, []string{"resident_pension"}},
		{"unknown birth", visits.BenefitFacts{Pension: fen(1)}, nil},
	} {
		var got []string
		for _, fl := range visits.CheckBenefits(tc.f, today, visits.DefaultRules()) {
			got = append(got, fl.Code)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDistance(t *testing.T) {
	// About 111 m per 0.001° of latitude.
	d := visits.Distance(visits.Location{Lat: 34.6, Lng: 119.2}, visits.Location{Lat: 34.601, Lng: 119.2})
	if d < 110 || d > 112 {
		t.Errorf("distance %f", d)
	}
}
