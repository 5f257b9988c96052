package visits

import (
	"fmt"
	"time"
)

// Rules are the settings of this part that the policy leaves to the
// implementing authority; the defaults are shown on the settings page so a
// user asking "why this date?" sees the rule.
type Rules struct {
	// LateAfterHours: a visit entered later than this after it started
	// needs a reason and counts as late (补录).
	LateAfterHours int `json:"late_after_hours"`
	// DueDays is how long a follow-up may stay open, by severity.
	DueDays map[string]int `json:"due_days"`
	// An overdue follow-up goes to the town this many days after its due
	// date, and to the county this many days after it (R-EMG-4).
	TownAfterDays   int `json:"escalate_town_after_days"`
	CountyAfterDays int `json:"escalate_county_after_days"`
	// FamilyContactDays: no visit or call from the family recorded for this
	// many days sends the first contact a reminder (R-VST-3).
	FamilyContactDays int `json:"family_contact_days"`
	// OldAgeSubsidyAge is the age from which an elder without a recorded
	// welfare subsidy is flagged for the old-age subsidy (高龄津贴, R-VST-4).
	OldAgeSubsidyAge int `json:"old_age_subsidy_age"`
}

// DefaultRules are the settings used until an administrator changes them.
func DefaultRules() Rules {
	return Rules{
		LateAfterHours:    48,
		DueDays:           map[string]int{SevUrgent: 1, SevHigh: 3, SevMedium: 7, SevLow: 14},
		TownAfterDays:     0,
		CountyAfterDays:   7,
		FamilyContactDays: 30,
		OldAgeSubsidyAge:  80,
	}
}

// RulesError names the setting at fault.
type RulesError struct{ Field, Message string }

func (e *RulesError) Error() string { return e.Field + ": " + e.Message }

// Validate checks that every setting is usable.
func (r Rules) Validate() error {
	if r.LateAfterHours < 1 || r.LateAfterHours > 24*30 {
		return &RulesError{"late_after_hours", "补录时限应在1到720小时之间"}
	}
	for _, s := range Severities {
		d, ok := r.DueDays[s.Code]
		if !ok || d < 1 || d > 365 {
			return &RulesError{"due_days." + s.Code, fmt.Sprintf("“%s”级跟踪事项的办理期限应在1到365天之间", s.Label)}
		}
	}
	for k := range r.DueDays {
		if !known(Severities, k) {
			return &RulesError{"due_days." + k, "未知的紧急程度：" + k}
		}
	}
	if r.TownAfterDays < 0 || r.TownAfterDays > 90 {
		return &RulesError{"escalate_town_after_days", "逾期上报乡镇的天数应在0到90之间"}
	}
	if r.CountyAfterDays <= r.TownAfterDays || r.CountyAfterDays > 180 {
		return &RulesError{"escalate_county_after_days", "逾期上报县区的天数应大于上报乡镇的天数，且不超过180"}
	}
	if r.FamilyContactDays < 7 || r.FamilyContactDays > 365 {
		return &RulesError{"family_contact_days", "子女未联系提醒天数应在7到365之间"}
	}
	if r.OldAgeSubsidyAge < 60 || r.OldAgeSubsidyAge > 120 {
		return &RulesError{"old_age_subsidy_age", "高龄津贴提示年龄应在60到120之间"}
	}
	return nil
}

// Due is when a follow-up of severity opened at from must be resolved.
func (r Rules) Due(from time.Time, severity string) time.Time {
	return from.Add(time.Duration(r.DueDays[severity]) * 24 * time.Hour)
}

// Levels a follow-up climbs when overdue.
const (
	LevelVillage = "village"
	LevelTown    = "town"
	LevelCounty  = "county"
)

// Level is where a follow-up due at due, still unresolved at now, belongs.
func (r Rules) Level(due, now time.Time) string {
	day := 24 * time.Hour
	switch {
	case !now.Before(due.Add(time.Duration(r.CountyAfterDays) * day)):
		return LevelCounty
	case now.After(due) && !now.Before(due.Add(time.Duration(r.TownAfterDays)*day)):
		return LevelTown
	}
	return LevelVillage
}

// IsLate reports whether a record made at recorded of a visit that started
// at started is late.
func (r Rules) IsLate(started, recorded time.Time) bool {
	return recorded.Sub(started) > time.Duration(r.LateAfterHours)*time.Hour
}
