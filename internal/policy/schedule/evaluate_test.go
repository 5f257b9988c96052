package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestCount(t *testing.T) {
	c := func(at string, m Mode, o Outcome, late bool) Contact {
		return Contact{At: sh(t, at), Mode: m, Outcome: o, Late: late}
	}
	cases := []struct {
		name     string
		contacts []Contact
		want     Done
	}{
		{"empty", nil, Done{}},
		// Same-day duplicates of one kind count once; home and call are separate kinds.
		{"same day twice", []Contact{
			c("2026-11-30 09:00", ModeHome, OutcomeDone, false),
			c("2026-11-30 16:00", ModeHome, OutcomeDone, false),
			c("2026-11-30 18:00", ModePhone, OutcomeDone, false),
		}, Done{Home: 1, Call: 1}},
		// R-FRQ-1..3: phone and video are both calls, so together they count once a day.
		{"phone and video same day", []Contact{
			c("2026-12-01 09:00", ModePhone, OutcomeDone, false),
			c("2026-12-01 20:00", ModeVideo, OutcomeDone, false),
			c("2026-12-02 20:00", ModeVideo, OutcomeDone, false),
		}, Done{Call: 2}},
		// 空访 and refusals do not count but are tallied.
		{"not home and refused", []Contact{
			c("2026-12-02 10:00", ModeHome, OutcomeNotHome, false),
			c("2026-12-03 10:00", ModeHome, OutcomeRefused, false),
			c("2026-12-03 11:00", ModePhone, OutcomeNotHome, false),
		}, Done{NotHome: 2, Refused: 1}},
		// DESIGN "Time": Monday 00:00 opens the week, the next Monday 00:00 is outside.
		{"week edges", []Contact{
			c("2026-11-29 23:59", ModeHome, OutcomeDone, false),
			c("2026-11-30 00:00", ModeHome, OutcomeDone, false),
			c("2026-12-06 23:59", ModeHome, OutcomeDone, false),
			c("2026-12-07 00:00", ModeHome, OutcomeDone, false),
		}, Done{Home: 2}},
		// Days are Shanghai days: 16:30 and 23:00 UTC on 1 December are 2 and 3 December.
		{"UTC input", []Contact{
			{At: time.Date(2026, 12, 1, 16, 30, 0, 0, time.UTC), Mode: ModeHome, Outcome: OutcomeDone},
			{At: time.Date(2026, 12, 2, 15, 59, 0, 0, time.UTC), Mode: ModeHome, Outcome: OutcomeDone},
			{At: time.Date(2026, 12, 2, 16, 1, 0, 0, time.UTC), Mode: ModeHome, Outcome: OutcomeDone},
		}, Done{Home: 2}},
		// Late records count but are flagged, unless an on-time record covers the day.
		{"late", []Contact{
			c("2026-12-04 10:00", ModeHome, OutcomeDone, true),
			c("2026-12-04 10:30", ModePhone, OutcomeDone, true),
			c("2026-12-04 19:00", ModePhone, OutcomeDone, false),
			c("2026-12-05 10:00", ModeVideo, OutcomeDone, true),
			c("2026-12-05 11:00", ModeVideo, OutcomeDone, true),
			c("2026-12-06 08:00", ModeHome, OutcomeDone, false), // on time first, late after
			c("2026-12-06 09:00", ModeHome, OutcomeDone, true),
		}, Done{Home: 2, Call: 2, Late: 2}},
		{"unknown mode or outcome", []Contact{
			c("2026-12-04 10:00", Mode("wechat_text"), OutcomeDone, false),
			c("2026-12-04 10:00", ModeHome, Outcome(""), false),
		}, Done{}},
	}
	for _, tc := range cases {
		if got := Count(tc.contacts, plainWeek); got != tc.want {
			t.Errorf("%s: Count = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	during := sh(t, "2026-12-03 12:00")
	after := plainWeek.End() // the first instant after the week
	cases := []struct {
		name      string
		req       Requirement
		done      Done
		hc        bool
		now       time.Time
		want      Status
		owed      Requirement
		homeAsCal int
	}{
		{"nothing owed", Requirement{}, Done{Home: 1}, false, after, StatusNotRequired, Requirement{}, 0},
		{"A met early", Requirement{2, 2}, Done{Home: 2, Call: 2}, false, during, StatusMet, Requirement{}, 0},
		{"A pending", Requirement{2, 2}, Done{Home: 1}, false, during, StatusPending, Requirement{1, 2}, 0},
		{"A pending before any contact", Requirement{2, 2}, Done{}, false, plainWeek.Start(), StatusPending, Requirement{2, 2}, 0},
		{"A partial", Requirement{2, 2}, Done{Home: 1}, false, after, StatusPartial, Requirement{1, 2}, 0},
		{"A missed", Requirement{2, 2}, Done{NotHome: 3, Refused: 1}, false, after, StatusMissed, Requirement{2, 2}, 0},
		{"extra contacts do not hurt", Requirement{1, 1}, Done{Home: 3, Call: 4}, false, after, StatusMet, Requirement{}, 0},
		// R-FRQ-4: with consent a surplus home visit stands in for a call.
		{"B home for call", Requirement{1, 1}, Done{Home: 2}, true, after, StatusMet, Requirement{}, 1},
		{"B home for call, no consent", Requirement{1, 1}, Done{Home: 2}, false, after, StatusPartial, Requirement{0, 1}, 0},
		{"A one surplus covers one call", Requirement{2, 2}, Done{Home: 3}, true, after, StatusPartial, Requirement{0, 1}, 1},
		{"C home for call", Requirement{0, 1}, Done{Home: 1}, true, during, StatusMet, Requirement{}, 1},
		{"C home without consent is partial", Requirement{0, 1}, Done{Home: 1}, false, after, StatusPartial, Requirement{0, 1}, 0},
		// Never the reverse: calls do not cover home visits.
		{"calls never cover home", Requirement{1, 1}, Done{Call: 3}, true, after, StatusPartial, Requirement{1, 0}, 0},
		{"home needed first", Requirement{1, 1}, Done{Home: 1}, true, during, StatusPending, Requirement{0, 1}, 0},
	}
	for _, c := range cases {
		got := Evaluate(c.req, c.done, c.hc, c.now, plainWeek)
		if got.Status != c.want || got.Owed != c.owed || got.HomeAsCall != c.homeAsCal {
			t.Errorf("%s: Evaluate = %+v, want %s owed %+v home-as-call %d", c.name, got, c.want, c.owed, c.homeAsCal)
		}
	}
	for _, s := range []Status{StatusPending, StatusMet, StatusPartial, StatusMissed, StatusNotRequired} {
		if l := s.Label(); l == string(s) || l == "" {
			t.Errorf("%s has no Chinese label", s)
		}
	}
}

// R-FRQ-1, R-FRQ-4, R-FRQ-5 end to end: an A elder without consent to home
// visits in the 中秋 week of 2026.
func TestAssess(t *testing.T) {
	r := DefaultRules()
	w := WeekOfDate(date(t, "2026-09-25"))
	ew := ElderWeek{Class: "A", Festivals: r.FestivalsIn(w)}
	var contacts []Contact
	for _, at := range []string{"2026-09-21 09:00", "2026-09-22 09:00", "2026-09-23 09:00", "2026-09-24 09:00", "2026-09-24 19:00"} {
		contacts = append(contacts, Contact{At: sh(t, at), Mode: ModePhone, Outcome: OutcomeDone})
	}
	a := Assess(ew, contacts, w, r, sh(t, "2026-09-25 08:00"))
	if a.Required != (Requirement{0, 5}) || a.Done.Call != 4 || a.Status != StatusPending || a.Owed != (Requirement{0, 1}) {
		t.Errorf("Assess = %+v", a)
	}
	if len(a.Notes) != 2 || !strings.Contains(a.Notes[0], "中秋") || !strings.Contains(a.Notes[1], "未同意上门") {
		t.Errorf("notes = %q", a.Notes)
	}
	contacts = append(contacts, Contact{At: sh(t, "2026-09-27 10:00"), Mode: ModeVideo, Outcome: OutcomeDone})
	if a := Assess(ew, contacts, w, r, w.End()); a.Status != StatusMet {
		t.Errorf("with a Sunday video call: %+v", a)
	}
}

// DOMAIN §6: a home visit within 24 hours of leaving hospital; R-EMG-2 and
// "一天两见面" in a heat wave.
func TestDeadline(t *testing.T) {
	discharge := Deadline{
		Name:    "出院后24小时内上门",
		Classes: []string{"A", "B"},
		Modes:   []Mode{ModeHome},
		From:    sh(t, "2026-12-02 10:00"),
		Within:  24 * time.Hour,
	}
	if !discharge.Due().Equal(sh(t, "2026-12-03 10:00")) {
		t.Fatalf("Due = %v", discharge.Due())
	}
	phone := Contact{At: sh(t, "2026-12-02 15:00"), Mode: ModePhone, Outcome: OutcomeDone}
	emptyVisit := Contact{At: sh(t, "2026-12-03 09:00"), Mode: ModeHome, Outcome: OutcomeNotHome}
	before := Contact{At: sh(t, "2026-12-02 09:00"), Mode: ModeHome, Outcome: OutcomeDone}
	inTime := Contact{At: sh(t, "2026-12-03 09:30"), Mode: ModeHome, Outcome: OutcomeDone}
	tooLate := Contact{At: sh(t, "2026-12-03 10:00"), Mode: ModeHome, Outcome: OutcomeDone}
	heat := Deadline{Name: "高温一天两见面", Times: 2, From: sh(t, "2026-07-20 00:00"), Within: 24 * time.Hour}
	visit := func(at string, m Mode) Contact { return Contact{At: sh(t, at), Mode: m, Outcome: OutcomeDone} }
	cases := []struct {
		name     string
		d        Deadline
		class    string
		contacts []Contact
		now      string
		want     DeadlineStatus
	}{
		{"met", discharge, "A", []Contact{phone, emptyVisit, inTime}, "2026-12-03 09:40", DeadlineMet},
		{"pending", discharge, "B", []Contact{phone, emptyVisit, before}, "2026-12-03 09:59", DeadlinePending},
		{"overdue at due", discharge, "A", []Contact{phone, emptyVisit}, "2026-12-03 10:00", DeadlineOverdue},
		{"visit after due", discharge, "A", []Contact{tooLate}, "2026-12-04 10:00", DeadlineOverdue},
		{"class not reached", discharge, "C", nil, "2026-12-04 10:00", DeadlineNotRequired},
		{"heat once", heat, "C", []Contact{visit("2026-07-20 08:00", ModePhone)}, "2026-07-21 00:00", DeadlineOverdue},
		{"heat twice", heat, "C", []Contact{visit("2026-07-20 08:00", ModeHome), visit("2026-07-20 18:00", ModeVideo)}, "2026-07-20 19:00", DeadlineMet},
	}
	for _, c := range cases {
		if got := c.d.Check(c.class, c.contacts, sh(t, c.now)); got != c.want {
			t.Errorf("%s: Check = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestParseModeAndOutcome(t *testing.T) {
	for _, s := range []string{"home", "phone", "video"} {
		m, err := ParseMode(s)
		if err != nil || string(m) != s || m.Label() == s {
			t.Errorf("ParseMode(%s) = %v, %v", s, m, err)
		}
	}
	if m, _ := ParseMode("video"); !m.IsCall() {
		t.Error("video is a call")
	}
	if _, err := ParseMode("letter"); err == nil || !strings.Contains(err.Error(), "探访方式") {
		t.Errorf("ParseMode(letter) = %v", err)
	}
	for _, s := range []string{"done", "not_home", "refused"} {
		o, err := ParseOutcome(s)
		if err != nil || string(o) != s || o.Label() == s {
			t.Errorf("ParseOutcome(%s) = %v, %v", s, o, err)
		}
	}
	if _, err := ParseOutcome("maybe"); err == nil || !strings.Contains(err.Error(), "探访结果") {
		t.Errorf("ParseOutcome(maybe) = %v", err)
	}
}
