package demo

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"

	"tanfang/internal/areas"
	"tanfang/internal/classes"
	"tanfang/internal/plan"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/assess"
	"tanfang/internal/policy/classify"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/registry"
	"tanfang/internal/visits"
)

// scheduleHappenings puts the rarer events on the timeline: the cold-wave
// campaign of last week, emergencies (some still open), stays in hospital
// and away, one transfer into HomeVillage and a few ability assessments.
func (w *world) scheduleHappenings(first time.Time) error {
	lastWeek := first.AddDate(0, 0, 7*(w.weeks-1))
	w.at(lastWeek.AddDate(0, 0, 1).Add(7*time.Hour+30*time.Minute), func() error { return w.coldWave(lastWeek.AddDate(0, 0, 1)) })

	span := w.now.Sub(first)
	paired := w.pairedElders()
	if len(paired) == 0 {
		return errors.New("no paired elders")
	}
	// Emergencies: spread over the weeks; the last two, in the last days,
	// are still open, one of them in HomeVillage.
	n := max(4, len(w.elders)/500)
	for i := range n {
		e := paired[w.rng.IntN(len(paired))]
		at := w.between(first.Add(24*time.Hour), span-4*24*time.Hour)
		open := i >= n-2
		if open {
			at = w.between(w.now.Add(-60*time.Hour), 48*time.Hour)
			if i == n-1 {
				if home := w.homePaired(); len(home) > 0 {
					e = home[w.rng.IntN(len(home))]
				}
			}
		}
		w.at(at, func() error { return w.emergency(e, open) })
	}
	// Stays away from home: a stay with family over winter, some still
	// going on; a short stay in hospital.
	for i := range max(3, len(w.elders)/120) {
		e := paired[w.rng.IntN(len(paired))]
		at := w.between(first, span-24*time.Hour).Truncate(time.Hour)
		kind, days, why := registry.StatusAway, 14+w.rng.IntN(30), "到子女家居住"
		if i%2 == 1 {
			kind, days, why = registry.StatusHospital, 4+w.rng.IntN(10), "住院治疗"
		}
		w.at(at, func() error { return w.stay(e, kind, days, why) })
	}
	// A family moves into HomeVillage three weeks ago.
	if len(w.home) > 0 {
		for _, e := range paired {
			if e.p.AreaCode != HomeVillage {
				w.at(w.now.AddDate(0, 0, -21).Truncate(time.Hour), func() error { return w.transfer(e) })
				break
			}
		}
	}
	// Assessments: two in HomeVillage, the rest anywhere; the first finds
	// a score below 65 (半失能), which can change the class. The elder out
	// of scope is left so, for the village's list.
	var home []*elder
	for _, e := range w.homePaired() {
		if e.class != classify.ClassNone {
			home = append(home, e)
		}
	}
	for i := range 4 {
		e := paired[w.rng.IntN(len(paired))]
		if i < 2 && len(home) > i {
			e = home[i]
		}
		frac := 0.85
		if i == 0 {
			frac = 0.55
		}
		at := w.between(first.AddDate(0, 0, 14), span/2).Truncate(time.Hour)
		w.at(at, func() error { return w.assess(e, frac) })
	}
	return nil
}

func (w *world) pairedElders() []*elder {
	var out []*elder
	for _, e := range w.elders {
		if e.primary != nil {
			out = append(out, e)
		}
	}
	return out
}

func (w *world) homePaired() []*elder {
	var out []*elder
	for _, e := range w.inVillage(HomeVillage) {
		if e.primary != nil {
			out = append(out, e)
		}
	}
	return out
}

// coldWave is the city's campaign for a cold-wave warning (R-FRQ-5,
// R-EMG-2): class A elders get an extra call that week and must be
// reached within 12 hours; most are, some late, a few not at all.
func (w *world) coldWave(tuesday time.Time) error {
	d := age.DateOf(tuesday)
	c, err := w.plan.CreateCampaign(w.ctx, cityScope, planActor, plan.CampaignInput{
		Name: "寒潮蓝色预警加密探访", Reason: "市气象台发布寒潮蓝色预警，48小时内气温下降8℃以上",
		AreaCode: areas.CityCode, Classes: []string{"A"}, StartsOn: d.String(), EndsOn: d.AddDays(3).String(),
		Add: schedule.Requirement{Call: 1}, DeadlineHours: 12, DeadlineModes: []string{"home", "phone", "video"}, DeadlineTimes: 1,
	})
	if err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	w.sum.Campaigns++
	due := c.Deadline.Due
	for _, e := range w.pairedElders() {
		if e.class != "A" {
			continue
		}
		switch r := w.rng.Float64(); {
		case r < 0.87:
			w.contact(e, w.pickOf("phone", "phone", "phone", "home"), w.between(w.clock.Add(10*time.Minute), due.Sub(w.clock)-time.Hour), false)
		case r < 0.95:
			w.contact(e, "phone", w.between(due, 20*time.Hour), false)
		}
	}
	return nil
}

var emergencyKinds = []struct{ what, detail, actions string }{
	{"fall", "老人在家中跌倒，腿部疼痛无法起身", "已拨打120，通知子女，陪同送医"},
	{"sudden_illness", "老人突发胸闷气短，面色发白", "已拨打120，通知家属，等候救护车"},
	{"fall", "老人夜间起床跌倒，头部擦伤", "已简单包扎，联系子女送镇卫生院检查"},
	{"fire_gas", "厨房有燃气异味，老人未察觉", "已关闭燃气阀门、开窗通风，联系燃气公司"},
	{"missing", "老人早上外出后未归，家人联系不上", "已报警并组织村民寻找"},
}

// emergency is raised by the elder's visitor; a closed one is handled and
// closed within two days, and a fall or illness means a stay in hospital.
func (w *world) emergency(e *elder, open bool) error {
	v := e.primary
	if v == nil || e.p.AreaCode != v.area {
		return nil
	}
	k := emergencyKinds[w.rng.IntN(len(emergencyKinds))]
	called := []string{"family"}
	switch k.what {
	case "fall", "sudden_illness":
		called = []string{"120", "family"}
	case "missing":
		called = []string{"110", "family"}
	}
	m, _, err := w.vis.RaiseEmergency(w.ctx, v.actor, visits.EmergencyInput{ClientID: uuid.NewString(), ElderID: e.id,
		What: k.what, Detail: k.detail, Called: called, Actions: k.actions})
	if err != nil {
		return fmt.Errorf("emergency: %w", err)
	}
	w.sum.Emergencies++
	if k.what == "fall" || k.what == "sudden_illness" {
		w.at(w.clock.Add(3*time.Hour), func() error { return w.stay(e, registry.StatusHospital, 5+w.rng.IntN(8), "急诊入院") })
	}
	if open {
		w.sum.OpenEmerg++
		return nil
	}
	w.at(w.clock.Add(time.Duration(6+w.rng.IntN(40))*time.Hour), func() error {
		_, err := w.vis.NoteEmergency(w.ctx, staff, m.ID, w.pickOf("老人已得到妥善处置，家属在身边照料", "已处理完毕，村里将加强探访"), true)
		return err
	})
	return nil
}

// stay marks the elder away or in hospital from today for some days and
// back again when the stay ends (if that is before now).
func (w *world) stay(e *elder, kind string, days int, why string) error {
	if w.clock.Before(e.outUntil) {
		return nil // already away
	}
	if err := w.refreshClass(e); err != nil {
		return err
	}
	from := age.DateOf(w.clock)
	back := from.AddDays(days)
	out, err := w.reg.SetStatus(w.ctx, regActor, cityScope, e.id, e.version,
		registry.Status{Kind: kind, From: from.String(), To: back.String(), Reason: why})
	var vc *registry.VersionConflict
	if errors.As(err, &vc) {
		return nil // someone changed it meanwhile; the stay does not happen
	}
	if err != nil {
		return fmt.Errorf("status of elder %d: %w", e.id, err)
	}
	e.version, e.outUntil = out.Version, back.Start()
	w.sum.StatusChanges++
	w.at(back.Start().Add(10*time.Hour), func() error {
		if err := w.refreshClass(e); err != nil {
			return err
		}
		_, err := w.reg.SetStatus(w.ctx, regActor, cityScope, e.id, e.version,
			registry.Status{Kind: registry.StatusActive, From: back.String(), Reason: "已返回家中"})
		if errors.As(err, &vc) {
			return nil
		}
		e.outUntil = time.Time{}
		w.sum.StatusChanges++
		return err
	})
	return nil
}

// transfer moves an elder's file into HomeVillage (the family moved) and
// pairs the elder with the demo visitor.
func (w *world) transfer(e *elder) error {
	out, err := w.reg.Transfer(w.ctx, regActor, cityScope, e.id, HomeVillage, "随子女迁居新坝村")
	if err != nil {
		return fmt.Errorf("transfer elder %d: %w", e.id, err)
	}
	e.version, e.p.AreaCode = out.Version, HomeVillage
	v := w.home[0]
	if _, err := w.plan.Pair(w.ctx, cityScope, planActor, e.id, v.id, plan.RolePrimary, "迁入本村，重新结对"); err != nil {
		return fmt.Errorf("pair transferred elder: %w", err)
	}
	e.primary = v
	v.elders = append(v.elders, e)
	w.sum.Transfers++
	return nil
}

// assess records an ability assessment (GB/T 42195) whose item scores are
// about frac of each item's maximum.
func (w *world) assess(e *elder, frac float64) error {
	in := assess.Input{Items: map[string]int{}}
	for _, it := range assess.Items() {
		best := it.Options[0].Score
		for _, o := range it.Options {
			if math.Abs(float64(o.Score)-frac*float64(it.Max)) < math.Abs(float64(best)-frac*float64(it.Max)) {
				best = o.Score
			}
		}
		in.Items[it.Code] = best
	}
	_, err := w.cls.Assess(w.ctx, clsActor, cityScope, e.id, classes.AssessInput{Input: in, Assessor: "海州区老年人能力评估中心",
		AssessedOn: age.DateOf(w.clock).String()})
	if err != nil {
		return fmt.Errorf("assess elder %d: %w", e.id, err)
	}
	w.sum.Assessments++
	return w.refreshClass(e)
}
