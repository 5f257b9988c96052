package schedule

import (
	"fmt"
	"time"

	"tanfang/internal/policy/age"
)

// Mode is how a contact was made (annex 3: 上门/电话/视频).
type Mode string

const (
	ModeHome  Mode = "home"
	ModePhone Mode = "phone"
	ModeVideo Mode = "video"
)

// ParseMode checks a stored or submitted mode.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeHome, ModePhone, ModeVideo:
		return m, nil
	}
	return "", fmt.Errorf("探访方式“%s”无效，应为上门、电话或视频", s)
}

// IsCall reports whether the mode counts as a call: phone and video alike.
func (m Mode) IsCall() bool { return m == ModePhone || m == ModeVideo }

// Label is the Chinese word used on the record form.
func (m Mode) Label() string {
	switch m {
	case ModeHome:
		return "上门"
	case ModePhone:
		return "电话"
	case ModeVideo:
		return "视频"
	}
	return string(m)
}

// Outcome is what came of a contact.
type Outcome string

const (
	OutcomeDone    Outcome = "done"     // the elder was seen or spoken to
	OutcomeNotHome Outcome = "not_home" // 空访: nobody answered
	OutcomeRefused Outcome = "refused"  // the elder turned the visitor away
)

// ParseOutcome checks a stored or submitted outcome.
func ParseOutcome(s string) (Outcome, error) {
	switch o := Outcome(s); o {
	case OutcomeDone, OutcomeNotHome, OutcomeRefused:
		return o, nil
	}
	return "", fmt.Errorf("探访结果“%s”无效，应为完成、空访或拒访", s)
}

// Label is the Chinese word shown on pages.
func (o Outcome) Label() string {
	switch o {
	case OutcomeDone:
		return "完成"
	case OutcomeNotHome:
		return "空访"
	case OutcomeRefused:
		return "拒访"
	}
	return string(o)
}

// Contact is one recorded visit or call. At is its start time.
type Contact struct {
	At      time.Time
	Mode    Mode
	Outcome Outcome
	// Late marks a record entered after the allowed delay (补录); it still
	// counts, but supervisors see it.
	Late bool
}

// Done is what a week's contacts add up to.
type Done struct {
	Home    int // days with a completed home visit
	Call    int // days with a completed phone or video call
	Late    int // of those, days whose only records are late
	NotHome int // 空访 records, any mode
	Refused int // refusals, any mode
}

// Count tallies the contacts whose start falls in w. Only completed
// contacts count toward the requirement, and several of one kind (home, or
// call) on the same Shanghai day count once, so that a visitor cannot meet
// a week in one afternoon. A counted day is late only if every record of
// that kind on that day is late.
func Count(contacts []Contact, w Week) Done {
	start, end := w.bounds()
	const (
		none = iota
		late
		onTime
	)
	var days [7][2]uint8 // [day of week][0 home, 1 call]
	var d Done
	for _, c := range contacts {
		if c.At.Before(start) || !c.At.Before(end) {
			continue
		}
		switch c.Outcome {
		case OutcomeNotHome:
			d.NotHome++
			continue
		case OutcomeRefused:
			d.Refused++
			continue
		case OutcomeDone:
		default:
			continue
		}
		var kind int
		switch {
		case c.Mode == ModeHome:
			kind = 0
		case c.Mode.IsCall():
			kind = 1
		default:
			continue
		}
		day := (int(c.At.In(age.Shanghai).Weekday()) + 6) % 7
		state := uint8(onTime)
		if c.Late {
			state = late
		}
		days[day][kind] = max(days[day][kind], state)
	}
	for _, day := range days {
		for kind, s := range day {
			if s == none {
				continue
			}
			if kind == 0 {
				d.Home++
			} else {
				d.Call++
			}
			if s == late {
				d.Late++
			}
		}
	}
	return d
}
