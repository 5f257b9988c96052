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
