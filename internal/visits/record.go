package visits

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"tanfang/internal/policy/age"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/policy/text"
)

// Location is where the phone was when the visit was recorded.
type Location struct {
	Lat       float64 `json:"lat"`
	Lng       float64 `json:"lng"`
	AccuracyM float64 `json:"accuracy_m"`
}

// Input is a visit as the phone submits it (the contract of POST
// /api/v1/visits). Times are RFC 3339. RecordedAt is when the phone saved
// the form: a visit queued offline is not late because the network was.
type Input struct {
	ClientID        string    `json:"client_id"`
	ElderID         int64     `json:"elder_id"`
	Mode            string    `json:"mode"`
	StartedAt       string    `json:"started_at"`
	EndedAt         string    `json:"ended_at"`
	Outcome         string    `json:"outcome"`
	Findings        Findings  `json:"findings"`
	FamilyContactOn string    `json:"family_contact_on"`
	ServiceNeeds    []string  `json:"service_needs"`
	Hardships       []string  `json:"hardships"`
	Needs           string    `json:"needs"`
	NeedsResponse   string    `json:"needs_response"`
	Problems        string    `json:"problems"`
	ProblemsKind    string    `json:"problems_kind"`
	Handling        string    `json:"handling"`
	Education       string    `json:"education"`
	LateReason      string    `json:"late_reason"`
	RecordedAt      string    `json:"recorded_at"`
	Location        *Location `json:"location"`
}

// Record is a checked visit.
type Record struct {
	ClientID        string
	ElderID         int64
	Mode            string
	Outcome         string
	StartedAt       time.Time
	EndedAt         time.Time
	RecordedAt      time.Time
	Findings        Findings
	FamilyContactOn string
	ServiceNeeds    []string
	Hardships       []string
	Needs           string
	NeedsResponse   string
	Problems        string
	ProblemsKind    string
	Handling        string
	Education       string
	Late            bool
	LateReason      string
	Location        *Location
}

// Contact is the record as the weekly count sees it.
func (r Record) Contact() schedule.Contact {
	return schedule.Contact{At: r.StartedAt, Mode: schedule.Mode(r.Mode), Outcome: schedule.Outcome(r.Outcome), Late: r.Late}
}

// clockSkew is how far ahead of the server a phone's clock may run.
const clockSkew = 5 * time.Minute

// maxBackfill is how long after a visit it may still be recorded: a year
// and a day; older is a wrong year, or a record that no longer helps.
const maxBackfill = 366 * 24 * time.Hour

// maxDuration bounds one visit; longer is a typing mistake.
const maxDuration = 12 * time.Hour

type checker struct{ errs []FieldError }

func (c *checker) add(field, format string, args ...any) {
	c.errs = append(c.errs, FieldError{field, fmt.Sprintf(format, args...)})
}

func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return &ValidationError{Fields: c.errs}
}

// digitRun finds what looks like a phone or ID number in free text, which
// would then sit in the database in clear (DOMAIN §7).
var digitRun = regexp.MustCompile(`[0-9０-９]{7,}`)

// text trims s and checks it as one line of free text.
func (c *checker) text(field, label string, s string, max int) string {
	return c.freeText(field, label, s, max, false)
}

// lines is free text that may run over several lines (a textarea); CRLF,
// as browsers send it, is kept as LF.
func (c *checker) lines(field, label string, s string, max int) string {
	return c.freeText(field, label, s, max, true)
}

func (c *checker) freeText(field, label string, s string, max int, multiLine bool) string {
	s = strings.TrimSpace(s)
	if multiLine {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	switch bad := text.Problem(s, multiLine); {
	case utf8.RuneCountInString(s) > max:
		c.add(field, "%s不能超过%d个字", label, max)
	case bad != "":
		c.add(field, "%s中%s，请删除后重新填写", label, bad)
	case digitRun.MatchString(s):
		c.add(field, "%s中不要填写电话号码或身份证号码", label)
	}
	return s
}

func (c *checker) instant(field, label, s string) time.Time {
	if strings.TrimSpace(s) == "" {
		c.add(field, "请填写%s", label)
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		c.add(field, "%s格式不正确，应为带时区的时间，如2026-12-03T09:30:00+08:00", label)
	}
	return t
}

func (c *checker) codes(field, label string, scale []Choice, in []string) []string {
	var out []string
	for _, v := range in {
		if !known(scale, v) {
			c.add(field, "%s中的“%s”无效", label, v)
			continue
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// fields checks the parts of a visit that an edit may change and writes
// them into r: only those e carries, so an edit leaves the rest as stored
// (a new record carries them all). home and done say what the visit was.
func (c *checker) fields(r *Record, e EditInput, home, done bool) {
	if p := e.Findings; p != nil {
		sent := p.byField()
		for _, it := range r.Findings.items() {
			v := sent[it.Field]
			if v == nil {
				continue
			}
			*it.Value = strings.TrimSpace(*v)
			field := "findings." + it.Field
			switch {
			case *it.Value == "":
				needed := done && (it.Field == "expression" || it.Field == "mobility" || it.Field == "mental" || it.Field == "illness" ||
					(home && it.Field != "supporter"))
				if needed {
					c.add(field, "请选择%s", it.Label)
				}
			case !done:
				c.add(field, "未见到老人本人时不能填写%s", it.Label)
			case !known(it.Scale, *it.Value):
				c.add(field, "%s“%s”无效，应为%s", it.Label, *it.Value, labels(it.Scale, codesOf(it.Scale)))
			}
		}
		if p.IllnessKind != nil {
			r.Findings.IllnessKind = c.text("findings.illness_kind", "疾病种类", *p.IllnessKind, 50)
		}
	}
	if e.FamilyContactOn != nil {
		if r.FamilyContactOn = strings.TrimSpace(*e.FamilyContactOn); r.FamilyContactOn != "" {
			d, err := age.ParseDate(r.FamilyContactOn)
			if err != nil {
				c.add("family_contact_on", "子女最近联系日期格式不正确，应为YYYY-MM-DD")
			} else if !r.StartedAt.IsZero() && age.DateOf(r.StartedAt).Before(d) {
				c.add("family_contact_on", "子女最近联系日期不能晚于探访日期")
			}
		}
	}
	if e.ServiceNeeds != nil {
		r.ServiceNeeds = c.codes("service_needs", "服务需求", ServiceNeeds, *e.ServiceNeeds)
	}
	if e.Hardships != nil {
		r.Hardships = c.codes("hardships", "生活困难", Hardships, *e.Hardships)
	}
	for _, t := range []struct {
		field, label string
		in           *string
		dst          *string
	}{
		{"needs", "需求", e.Needs, &r.Needs},
		{"needs_response", "需求回应情况", e.NeedsResponse, &r.NeedsResponse},
		{"problems", "发现的问题", e.Problems, &r.Problems},
		{"handling", "问题处理情况", e.Handling, &r.Handling},
		{"education", "健康教育和安全提醒", e.Education, &r.Education},
	} {
		if t.in != nil {
			*t.dst = c.lines(t.field, t.label, *t.in, 500)
		}
	}
	if e.ProblemsKind != nil {
		r.ProblemsKind = strings.TrimSpace(*e.ProblemsKind)
		if r.ProblemsKind != "" && !known(Kinds, r.ProblemsKind) {
			c.add("problems_kind", "问题类别“%s”无效", r.ProblemsKind)
		}
	}
}

// editable is the part of a submission an edit may change, every field
// present: a new record is checked whole.
func (in Input) editable() EditInput {
	f := in.Findings
	return EditInput{
		Findings: &FindingsPatch{Expression: &f.Expression, Mobility: &f.Mobility, Mental: &f.Mental, Illness: &f.Illness,
			IllnessKind: &f.IllnessKind, House: &f.House, Gas: &f.Gas, WaterHeating: &f.WaterHeating, Electricity: &f.Electricity,
			Hygiene: &f.Hygiene, Supporter: &f.Supporter},
		FamilyContactOn: &in.FamilyContactOn, ServiceNeeds: &in.ServiceNeeds, Hardships: &in.Hardships, Needs: &in.Needs,
		NeedsResponse: &in.NeedsResponse, Problems: &in.Problems, ProblemsKind: &in.ProblemsKind, Handling: &in.Handling,
		Education: &in.Education,
	}
}

func codesOf(cs []Choice) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Code
	}
	return out
}

// Check validates a submission received at now under rules r.
func (in Input) Check(now time.Time, r Rules) (Record, error) {
	var c checker
	var rec Record
	if id, err := uuid.Parse(strings.TrimSpace(in.ClientID)); err != nil || len(strings.TrimSpace(in.ClientID)) != 36 {
		c.add("client_id", "提交编号（client_id）应为UUID，如 1b4e28ba-2fa1-11d2-883f-0016d3cca427")
	} else {
		rec.ClientID = id.String()
	}
	if rec.ElderID = in.ElderID; in.ElderID <= 0 {
		c.add("elder_id", "请选择探访对象")
	}
	if m, err := schedule.ParseMode(in.Mode); err != nil {
		c.add("mode", "%s", err.Error())
	} else {
		rec.Mode = string(m)
	}
	if o, err := schedule.ParseOutcome(in.Outcome); err != nil {
		c.add("outcome", "%s", err.Error())
	} else {
		rec.Outcome = string(o)
	}
	rec.StartedAt = c.instant("started_at", "开始时间", in.StartedAt)
	rec.EndedAt = c.instant("ended_at", "结束时间", in.EndedAt)
	if !rec.StartedAt.IsZero() {
		switch {
		case rec.StartedAt.After(now.Add(clockSkew)):
			c.add("started_at", "开始时间不能晚于现在，请检查手机时间")
		case rec.StartedAt.Before(now.Add(-maxBackfill)):
			c.add("started_at", "探访时间早于一年前，不能补录")
		}
	}
	// A visit of no length is allowed: the end time is often forgotten.
	if !rec.StartedAt.IsZero() && !rec.EndedAt.IsZero() {
		switch {
		case rec.EndedAt.Before(rec.StartedAt):
			c.add("ended_at", "结束时间不能早于开始时间")
		case rec.EndedAt.Sub(rec.StartedAt) > maxDuration:
			c.add("ended_at", "一次探访不能超过12小时，请检查结束时间")
		case rec.EndedAt.After(now.Add(clockSkew)):
			c.add("ended_at", "结束时间不能晚于现在")
		}
	}
	rec.RecordedAt = now
	if s := strings.TrimSpace(in.RecordedAt); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		switch {
		case err != nil:
			c.add("recorded_at", "填报时间格式不正确")
		case t.After(now.Add(clockSkew)):
			c.add("recorded_at", "填报时间不能晚于现在，请检查手机时间")
		case !rec.StartedAt.IsZero() && t.Before(rec.StartedAt):
			c.add("recorded_at", "填报时间不能早于探访开始时间")
		case t.Before(now):
			rec.RecordedAt = t
		}
	}
	c.fields(&rec, in.editable(), rec.Mode == "home", rec.Outcome == "done")
	rec.LateReason = c.text("late_reason", "补录原因", in.LateReason, 200)
	if !rec.StartedAt.IsZero() && r.IsLate(rec.StartedAt, rec.RecordedAt) {
		rec.Late = true
		if rec.LateReason == "" {
			c.add("late_reason", "探访结束已超过%d小时，补录须填写原因", r.LateAfterHours)
		}
	}
	if l := in.Location; l != nil {
		if math.IsNaN(l.Lat) || math.IsNaN(l.Lng) || l.Lat < -90 || l.Lat > 90 || l.Lng < -180 || l.Lng > 180 || (l.Lat == 0 && l.Lng == 0) {
			c.add("location", "定位坐标无效")
		} else if l.AccuracyM < 0 || math.IsNaN(l.AccuracyM) {
			c.add("location", "定位精度无效")
		} else {
			loc := *l
			rec.Location = &loc
		}
	}
	return rec, c.err()
}

// Distance is the great-circle distance in metres between two points.
func Distance(a, b Location) float64 {
	const earth = 6371000.0
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLng := (b.Lng - a.Lng) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * earth * math.Asin(math.Min(1, math.Sqrt(h)))
}
