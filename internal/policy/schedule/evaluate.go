package schedule

import "time"

// Status is where an elder's week stands.
type Status string

const (
	StatusPending     Status = "pending"      // week still running, not yet met
	StatusMet         Status = "met"          // every required contact made
	StatusPartial     Status = "partial"      // week over, contacted but short
	StatusMissed      Status = "missed"       // week over, no completed contact
	StatusNotRequired Status = "not_required" // nothing was owed
)

// Label is the Chinese word shown on pages.
func (s Status) Label() string {
	switch s {
	case StatusPending:
		return "进行中"
	case StatusMet:
		return "已达标"
	case StatusPartial:
		return "部分完成"
	case StatusMissed:
		return "未探访"
	case StatusNotRequired:
		return "无需探访"
	}
	return string(s)
}

// Result is the verdict on a week.
type Result struct {
	Status Status
	Owed   Requirement // contacts still missing, by kind
	// HomeAsCall is how many surplus home visits stood in for calls.
	HomeAsCall int
}

// Evaluate compares what was done in w with what was required, as seen at
// now. With the elder's consent (homeForCall, R-FRQ-4) home visits beyond
// those required cover missing calls; a call never covers a home visit.
// After the week ends, any completed contact makes a shortfall partial
// rather than missed, even one of a kind that did not count.
func Evaluate(req Requirement, done Done, homeForCall bool, now time.Time, w Week) Result {
	if req.IsZero() {
		return Result{Status: StatusNotRequired}
	}
	r := Result{Owed: Requirement{
		Home: max(req.Home-done.Home, 0),
		Call: max(req.Call-done.Call, 0),
	}}
	if homeForCall {
		r.HomeAsCall = min(max(done.Home-req.Home, 0), r.Owed.Call)
		r.Owed.Call -= r.HomeAsCall
	}
	switch {
	case r.Owed.IsZero():
		r.Status = StatusMet
	case now.Before(w.End()):
		r.Status = StatusPending
	case done.Home+done.Call > 0:
		r.Status = StatusPartial
	default:
		r.Status = StatusMissed
	}
	return r
}

// Assessment is one elder's week from facts to verdict, for pages and
// reports.
type Assessment struct {
	Result
	Required Requirement
	Done     Done
	Notes    []string // why Required differs from the class's ordinary one
}

// Assess runs Required, Count and Evaluate for one elder and week.
func Assess(ew ElderWeek, contacts []Contact, w Week, r Rules, now time.Time) Assessment {
	req, notes := Required(ew, w, r)
	done := Count(contacts, w)
	return Assessment{
		Result:   Evaluate(req, done, ew.HomeForCall, now, w),
		Required: req,
		Done:     done,
		Notes:    notes,
	}
}
