package visits_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"tanfang/internal/visits"
)

// checkedVisit is a completed home visit an hour before now, every rating
// fine, as the phone would send it.
func checkedVisit(now time.Time) visits.Input {
	return visits.Input{
		ClientID: uuid.NewString(), ElderID: 1, Mode: "home", Outcome: "done",
		StartedAt: now.Add(-time.Hour).Format(time.RFC3339), EndedAt: now.Add(-30 * time.Minute).Format(time.RFC3339),
		Findings: visits.Findings{Expression: "good", Mobility: "good", Mental: "good", Illness: "same", House: "safe",
			Gas: "safe", WaterHeating: "safe", Electricity: "safe", Hygiene: "good", Supporter: "good"},
	}
}

// R-VST-6, DOMAIN §7: a record's free text refuses control characters and
// bidirectional overrides, which hide or reorder what pages show; the
// multi-line fields keep line breaks, stored as LF.
func TestRecordText(t *testing.T) {
	now := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	set := map[string]func(*visits.Input, string){
		"findings.illness_kind": func(in *visits.Input, v string) { in.Findings.IllnessKind = v },
		"needs":                 func(in *visits.Input, v string) { in.Needs = v },
		"needs_response":        func(in *visits.Input, v string) { in.NeedsResponse = v },
		"problems":              func(in *visits.Input, v string) { in.Problems = v },
		"handling":              func(in *visits.Input, v string) { in.Handling = v },
		"education":             func(in *visits.Input, v string) { in.Education = v },
		"late_reason":           func(in *visits.Input, v string) { in.LateReason = v },
	}
	multiLine := map[string]bool{"needs": true, "needs_response": true, "problems": true, "handling": true, "education": true}
	for field, fn := range set {
		for _, b := range []string{"\x00", "\t", "\r", "\x1b", "\x7f", "\u0080", "\u009f", "\u202a", "\u202e", "\u2066", "\u2069"} {
			in := checkedVisit(now)
			fn(&in, "燃气"+b+"灶老化")
			_, err := in.Check(now, visits.DefaultRules())
			if got := byField(err)[field]; !strings.Contains(got, "控制字符") {
				t.Errorf("%s with %U: %q", field, []rune(b)[0], got)
			}
		}
		in := checkedVisit(now)
		fn(&in, "燃气灶\r\n老化")
		rec, err := in.Check(now, visits.DefaultRules())
		got := byField(err)[field]
		switch {
		case multiLine[field] && got != "":
			t.Errorf("%s with a line break: %q", field, got)
		case multiLine[field] && !strings.Contains(rec.Needs+rec.NeedsResponse+rec.Problems+rec.Handling+rec.Education, "燃气灶\n老化"):
			t.Errorf("%s: line break not kept as LF: %+v", field, rec)
		case !multiLine[field] && !strings.Contains(got, "控制字符"):
			t.Errorf("%s is one line, but a line break passed: %q", field, got)
		}
	}
}

func byField(err error) map[string]string {
	var ve *visits.ValidationError
	if errors.As(err, &ve) {
		return ve.ByField()
	}
	return nil
}

// R-VST-6: when a visit may have happened. Not in the future (five minutes
// of a phone's clock running ahead allowed), not over a year ago, not ending
// before it began or more than 12 hours after; a visit of no length passes,
// since the end time is often forgotten.
func TestRecordTimes(t *testing.T) {
	now := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	cases := []struct {
		name         string
		start, end   time.Duration // from now
		field, msg   string        // the first error; empty when accepted
		late, reason bool
	}{
		{"an hour ago", -time.Hour, -30 * time.Minute, "", "", false, false},
		{"no length", -time.Hour, -time.Hour, "", "", false, false},
		{"phone four minutes ahead", 4 * time.Minute, 4 * time.Minute, "", "", false, false},
		{"six minutes ahead", 6 * time.Minute, 7 * time.Minute, "started_at", "开始时间不能晚于现在", false, false},
		{"ends six minutes ahead", -time.Hour, 6 * time.Minute, "ended_at", "结束时间不能晚于现在", false, false},
		{"a year ago", -366*day + time.Minute, -366*day + time.Hour, "", "", true, true},
		{"over a year ago", -366*day - time.Minute, -366*day + time.Hour, "started_at", "探访时间早于一年前，不能补录", true, true},
		{"ten years ago", -3653 * day, -3653*day + time.Hour, "started_at", "探访时间早于一年前，不能补录", true, true},
		{"ends before it starts", -time.Hour, -2 * time.Hour, "ended_at", "结束时间不能早于开始时间", false, false},
		{"twelve hours", -13 * time.Hour, -time.Hour, "", "", false, false},
		{"over twelve hours", -13 * time.Hour, -time.Hour + time.Second, "ended_at", "一次探访不能超过12小时", false, false},
		{"over a day", -3 * day, -time.Hour, "ended_at", "一次探访不能超过12小时", true, true},
	}
	for _, c := range cases {
		in := checkedVisit(now)
		in.StartedAt, in.EndedAt = now.Add(c.start).Format(time.RFC3339), now.Add(c.end).Format(time.RFC3339)
		if c.reason {
			in.LateReason = "手机丢失，补录"
		}
		rec, err := in.Check(now, visits.DefaultRules())
		if c.field == "" {
			if err != nil || rec.Late != c.late {
				t.Errorf("%s: %v, late %v", c.name, err, rec.Late)
			}
			continue
		}
		var ve *visits.ValidationError
		if !errors.As(err, &ve) || ve.First().Field != c.field || !strings.Contains(ve.First().Message, c.msg) {
			t.Errorf("%s: %v, want %s: %s", c.name, err, c.field, c.msg)
		}
	}
}
