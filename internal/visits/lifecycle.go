package visits

import "slices"

// Follow-up statuses (R-EMG-4): open → in progress → referred → resolved →
// verified by a return visit (跟踪回访).
const (
	StatusOpen       = "open"
	StatusInProgress = "in_progress"
	StatusReferred   = "referred"
	StatusResolved   = "resolved"
	StatusVerified   = "verified"
)

var Statuses = []Choice{
	{StatusOpen, "待处理"}, {StatusInProgress, "处理中"}, {StatusReferred, "已转介"},
	{StatusResolved, "已解决待回访"}, {StatusVerified, "已回访确认"},
}

// next lists the statuses each status may move to. A resolved item goes
// back to in progress when the return visit finds the problem still there;
// a verified item is closed for good (a new finding opens a new item).
var next = map[string][]string{
	StatusOpen:       {StatusInProgress, StatusReferred, StatusResolved},
	StatusInProgress: {StatusReferred, StatusResolved},
	StatusReferred:   {StatusInProgress, StatusResolved},
	StatusResolved:   {StatusVerified, StatusInProgress},
}

// CanMove reports whether a follow-up may go from one status to another.
func CanMove(from, to string) bool { return slices.Contains(next[from], to) }

// NextStatuses lists where a follow-up in status may go, for the page's buttons.
func NextStatuses(status string) []Choice {
	var out []Choice
	for _, s := range next[status] {
		out = append(out, Choice{s, Label(Statuses, s)})
	}
	return out
}

// Active reports whether a follow-up still needs work (and so may escalate).
func Active(status string) bool {
	return status == StatusOpen || status == StatusInProgress || status == StatusReferred
}

// Referral targets (R-VST-2: what the family cannot fix goes to the town;
// R-VST-5: service organisations).
const (
	ReferTown       = "town"
	ReferDepartment = "department"
	ReferProvider   = "provider"
)

var ReferTypes = []Choice{{ReferTown, "乡镇（街道）"}, {ReferDepartment, "相关部门"}, {ReferProvider, "服务组织"}}

// Levels as labels.
var Levels = []Choice{{LevelVillage, "村（居）"}, {LevelTown, "乡镇（街道）"}, {LevelCounty, "县（区）"}}
