package schedule

import (
	"testing"
	"time"

	"tanfang/internal/policy/age"
)

// BenchmarkEvaluateMillion assesses 1,000,000 elder-weeks per iteration
// (Required, Count and Evaluate), the size of a county's year of weeks, on
// a pool of varied made-up elders.
func BenchmarkEvaluateMillion(b *testing.B) {
	const elderWeeks = 1_000_000
	r := DefaultRules()
	w := Week{2026, 39} // 中秋
	festivals := r.FestivalsIn(w)
	start := w.Start()
	now := w.End()
	classes := []string{"A", "B", "C"}

	type item struct {
		ew       ElderWeek
		contacts []Contact
	}
	pool := make([]item, 1024)
	for i := range pool {
		ew := ElderWeek{Class: classes[i%3], ConsentHome: i%5 != 0, HomeForCall: i%2 == 0}
		if i%4 == 0 {
			ew.Festivals = festivals
		}
		if i%17 == 0 {
			d := age.DateOf(start).AddDays(i % 7)
			ew.Unavailable = []Period{{From: d, To: d.AddDays(2), Reason: "住院"}}
		}
		var cs []Contact
		for j := range i % 7 {
			m := []Mode{ModeHome, ModePhone, ModeVideo}[(i+j)%3]
			o := []Outcome{OutcomeDone, OutcomeDone, OutcomeDone, OutcomeNotHome}[(i*j)%4]
			cs = append(cs, Contact{At: start.Add(time.Duration(i*j*7919%(7*24*60)) * time.Minute), Mode: m, Outcome: o, Late: j == 3})
		}
		pool[i] = item{ew, cs}
	}

	met := 0
	for b.Loop() {
		for n := range elderWeeks {
			it := &pool[n%len(pool)]
			if Assess(it.ew, it.contacts, w, r, now).Status == StatusMet {
				met++
			}
		}
	}
	if met == 0 {
		b.Fatal("no week met: the pool is not exercising Evaluate")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/elderWeeks, "ns/elder-week")
}
