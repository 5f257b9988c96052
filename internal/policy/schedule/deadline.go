package schedule

import (
	"slices"
	"time"
)

// Deadline is an event-driven obligation (DOMAIN §6): a home visit within
// 24 hours of a hospital discharge, contact during a weather warning
// (R-EMG-2), two sightings a day in a heat wave.
type Deadline struct {
	Name    string   // shown on pages, e.g. "出院后24小时内上门"
	Classes []string // classes it reaches; empty means all
	Modes   []Mode   // modes that satisfy it; empty means any
	// Times is how many completed contacts are needed; below 1 means 1.
	// Each record counts, unlike the weekly count: two sightings on one
	// day are the point of "一天两见面".
	Times  int
	From   time.Time
	Within time.Duration
}

// DeadlineStatus is where an elder stands against a Deadline.
type DeadlineStatus string

const (
	DeadlinePending     DeadlineStatus = "pending"      // not yet due, not yet met
	DeadlineMet         DeadlineStatus = "met"          // enough contacts in time
	DeadlineOverdue     DeadlineStatus = "overdue"      // due passed without them
	DeadlineNotRequired DeadlineStatus = "not_required" // the class is not reached
)

// Due is the instant by which the contacts must have started.
func (d Deadline) Due() time.Time { return d.From.Add(d.Within) }

// Check tells whether an elder of class was contacted in time, as seen at
// now. Only completed contacts starting in [From, Due) count.
func (d Deadline) Check(class string, contacts []Contact, now time.Time) DeadlineStatus {
	if len(d.Classes) > 0 && !slices.Contains(d.Classes, class) {
		return DeadlineNotRequired
	}
	due := d.Due()
	n := 0
	for _, c := range contacts {
		if c.Outcome != OutcomeDone || c.At.Before(d.From) || !c.At.Before(due) {
			continue
		}
		if len(d.Modes) == 0 || slices.Contains(d.Modes, c.Mode) {
			n++
		}
	}
	switch {
	case n >= max(d.Times, 1):
		return DeadlineMet
	case now.Before(due):
		return DeadlinePending
	default:
		return DeadlineOverdue
	}
}
