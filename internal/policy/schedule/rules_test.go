package schedule

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"tanfang/internal/policy/calendar"
)

// A week without festivals: 2026-W49 (30 November – 6 December).
var plainWeek = Week{2026, 49}

func TestRequired(t *testing.T) {
	r := DefaultRules()
	zhongqiu := []calendar.Festival{{Key: calendar.Zhongqiu, Name: "中秋"}}
	hospital := func(from, to string) Period {
		return Period{From: date(t, from), To: date(t, to), Reason: "住院"}
	}
	cases := []struct {
		name  string
		ew    ElderWeek
		want  Requirement
		notes []string // each note must contain its entry, in order
	}{
		// R-FRQ-1..3: the ordinary weekly minimums.
		{"A", ElderWeek{Class: "A", ConsentHome: true}, Requirement{2, 2}, nil},
		{"B", ElderWeek{Class: "B", ConsentHome: true}, Requirement{1, 1}, nil},
		{"C", ElderWeek{Class: "C", ConsentHome: true}, Requirement{0, 1}, nil},
		{"unknown class", ElderWeek{Class: "D", ConsentHome: true}, Requirement{}, []string{"类别“D”"}},
		// R-FRQ-4: without consent every home visit becomes a call.
		{"A no consent", ElderWeek{Class: "A"}, Requirement{0, 4}, []string{"未同意上门探访，上门改为电话"}},
		{"C no consent", ElderWeek{Class: "C"}, Requirement{0, 1}, nil},
		// R-FRQ-5: a festival week adds a home visit for A and B, a call for C.
		{"A festival", ElderWeek{Class: "A", ConsentHome: true, Festivals: zhongqiu}, Requirement{3, 2}, []string{"节日周（中秋）加上门1次"}},
		{"B festival", ElderWeek{Class: "B", ConsentHome: true, Festivals: zhongqiu}, Requirement{2, 1}, []string{"节日周（中秋）"}},
		{"C festival", ElderWeek{Class: "C", ConsentHome: true, Festivals: zhongqiu}, Requirement{0, 2}, []string{"加电话1次"}},
		{"B festival no consent", ElderWeek{Class: "B", Festivals: zhongqiu}, Requirement{0, 3}, []string{"节日周", "上门改为电话"}},
		{"two festivals one week add once", ElderWeek{Class: "B", ConsentHome: true, Festivals: []calendar.Festival{
			{Key: calendar.Chuxi, Name: "除夕"}, {Key: calendar.Chunjie, Name: "春节"}}}, Requirement{2, 1}, []string{"节日周（除夕、春节）"}},
		// R-FRQ-5, R-EMG-2: campaign raises, for the classes they reach.
		{"cold wave adds a call", ElderWeek{Class: "A", ConsentHome: true, Campaigns: []Raise{
			{Name: "寒潮橙色预警", Add: Requirement{Call: 1}}}}, Requirement{2, 3}, []string{"寒潮橙色预警：加电话1次"}},
		{"raise for C only", ElderWeek{Class: "A", ConsentHome: true, Campaigns: []Raise{
			{Name: "C类加密", Classes: []string{"C"}, Add: Requirement{Call: 1}}}}, Requirement{2, 2}, nil},
		// R-EMG-3: an epidemic turns home visits into calls, festival extra included.
		{"epidemic", ElderWeek{Class: "A", ConsentHome: true, Festivals: zhongqiu, Campaigns: []Raise{
			{Name: "流感防控", HomeToCall: true}}}, Requirement{0, 5}, []string{"节日周", "流感防控：暂停上门，上门改为电话"}},
		{"epidemic and no consent note once", ElderWeek{Class: "B", Campaigns: []Raise{
			{Name: "流感防控", HomeToCall: true}}}, Requirement{0, 2}, []string{"流感防控"}},
		// Unavailable days scale the requirement, rounding up.
		{"in hospital all week", ElderWeek{Class: "A", ConsentHome: true, Unavailable: []Period{
			hospital("2026-11-25", "2026-12-10")}}, Requirement{}, []string{"本周均不可探访（住院），无需探访"}},
		{"deceased, open-ended", ElderWeek{Class: "B", ConsentHome: true, Unavailable: []Period{
			{From: date(t, "2026-11-27"), Reason: "去世"}}}, Requirement{}, []string{"（去世）"}},
		{"A away 3 days keeps 4", ElderWeek{Class: "A", ConsentHome: true, Unavailable: []Period{
			hospital("2026-11-30", "2026-12-02")}}, Requirement{2, 2}, []string{"本周有3天不可探访（住院），按可探访的4天折算为上门2次、电话2次"}},
		{"A away 4 days keeps 3", ElderWeek{Class: "A", ConsentHome: true, Unavailable: []Period{
			hospital("2026-11-20", "2026-12-03")}}, Requirement{1, 1}, []string{"按可探访的3天折算为上门1次、电话1次"}},
		{"A no consent, 2 days left", ElderWeek{Class: "A", Unavailable: []Period{
			{To: date(t, "2026-12-04"), Reason: "外出"}}}, Requirement{0, 2}, []string{"上门改为电话", "5天不可探访（外出）"}},
		{"C one day left still owed a call", ElderWeek{Class: "C", ConsentHome: true, Unavailable: []Period{
			hospital("2026-11-30", "2026-12-03"), {From: date(t, "2026-12-04"), To: date(t, "2026-12-05"), Reason: "外出"}}},
			Requirement{0, 1}, []string{"6天不可探访（住院、外出）"}},
		{"period outside the week", ElderWeek{Class: "A", ConsentHome: true, Unavailable: []Period{
			hospital("2026-12-07", "2026-12-09")}}, Requirement{2, 2}, nil},
		// Same-day contacts count once, so no kind can exceed the available days.
		{"raise beyond one a day is capped", ElderWeek{Class: "A", ConsentHome: true, Campaigns: []Raise{
			{Name: "高温", Add: Requirement{Call: 6}}}}, Requirement{2, 7}, []string{"高温：加电话6次", "每类最多要求7次"}},
	}
	for _, c := range cases {
		got, notes := Required(c.ew, plainWeek, r)
		if got != c.want {
			t.Errorf("%s: Required = %+v, want %+v (notes %q)", c.name, got, c.want, notes)
			continue
		}
		if len(notes) != len(c.notes) {
			t.Errorf("%s: notes %q, want %d matching %q", c.name, notes, len(c.notes), c.notes)
			continue
		}
		for i, n := range notes {
			if !strings.Contains(n, c.notes[i]) {
				t.Errorf("%s: note %q lacks %q", c.name, n, c.notes[i])
			}
		}
	}
}

// R-FRQ-5, DOMAIN §5: the festival weeks of 2026 and 2027 under the default
// list, found week by week from the lunar calendar.
func TestFestivalWeeks(t *testing.T) {
	r := DefaultRules()
	want := map[int]map[string]string{
		2026: {"2026-W08": "春节", "2026-W10": "元宵", "2026-W14": "清明", "2026-W25": "端午", "2026-W39": "中秋", "2026-W42": "重阳"},
		2027: {"2027-W05": "春节", "2027-W07": "元宵", "2027-W14": "清明", "2027-W23": "端午", "2027-W37": "中秋", "2027-W40": "重阳"},
	}
	for year, weeks := range want {
		got := map[string]string{}
		for w := (Week{year, 1}); w.Year == year; w = w.Next() {
			fs := r.FestivalsIn(w)
			if len(fs) > 0 {
				got[w.String()] = festivalNames(fs)
			}
			// An A elder is owed one more home visit exactly in those weeks.
			req, _ := Required(ElderWeek{Class: "A", ConsentHome: true, Festivals: fs}, w, r)
			wantHome := 2
			if _, ok := weeks[w.String()]; ok {
				wantHome = 3
			}
			if req.Home != wantHome {
				t.Errorf("%s: A owed %d home visits, want %d", w, req.Home, wantHome)
			}
		}
		if !reflect.DeepEqual(got, weeks) {
			t.Errorf("%d festival weeks = %v, want %v", year, got, weeks)
		}
	}
	// 除夕 is optional and shares 春节's week in 2026 (Monday 16 February).
	r.FestivalKeys = append(r.FestivalKeys, calendar.Chuxi)
	if got := festivalNames(r.FestivalsIn(Week{2026, 8})); got != "除夕、春节" {
		t.Errorf("2026-W08 = %s", got)
	}
}

func TestRulesJSONAndValidate(t *testing.T) {
	b, err := json.Marshal(DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	var back Rules
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, DefaultRules()) {
		t.Errorf("round trip: %s", b)
	}
	if !strings.Contains(string(b), `"A":{"home":2,"call":2}`) {
		t.Errorf("JSON shape: %s", b)
	}
	if err := back.Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	bad := []struct {
		edit func(*Rules)
		want string
	}{
		{func(r *Rules) { r.PerClass["B"] = Requirement{Home: -1} }, "B类的次数不能为负数"},
		{func(r *Rules) { r.FestivalExtra["C"] = Requirement{Call: -1} }, "节日周加次：C类"},
		{func(r *Rules) { r.FestivalExtra["D"] = Requirement{Call: 1} }, "D类没有每周探访频次"},
		{func(r *Rules) { r.FestivalKeys = []string{"qixi"} }, "qixi"},
	}
	for _, c := range bad {
		r := DefaultRules()
		c.edit(&r)
		if err := r.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate = %v, want %q", err, c.want)
		}
	}
	if err := (Raise{Name: "x", Add: Requirement{Home: -1}}).Validate(); err == nil {
		t.Error("negative raise accepted")
	}
	if err := (Raise{Add: Requirement{Home: 1}}).Validate(); err == nil {
		t.Error("nameless raise accepted")
	}
}
