package assess

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// full returns an assessment with every item at its maximum (total 90).
func full() Input {
	in := Input{Items: map[string]int{}}
	for _, it := range Items() {
		in.Items[it.Code] = it.Max
	}
	return in
}

// withTotal lowers items in catalogue order until the total is n, touching
// B.3.9 last so the coma trigger stays out of the way above total 2.
func withTotal(t *testing.T, n int) Input {
	t.Helper()
	in := full()
	deficit := 90 - n
	items := Items()
	b39 := slices.IndexFunc(items, func(it Item) bool { return it.Code == "B.3.9" })
	last := items[b39]
	items = append(slices.Delete(items, b39, b39+1), last)
	for _, it := range items {
		d := min(deficit, it.Max)
		in.Items[it.Code] -= d
		deficit -= d
	}
	if deficit != 0 {
		t.Fatalf("cannot reach total %d", n)
	}
	return in
}

// DOMAIN §1.2: 26 items, indicator maxima 32/15/28/15, total 90.
func TestCatalogue(t *testing.T) {
	items := Items()
	if len(items) != 26 {
		t.Fatalf("%d items, want 26", len(items))
	}
	sums := map[string]int{}
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it.Code] {
			t.Errorf("duplicate code %s", it.Code)
		}
		seen[it.Code] = true
		if len(it.Options) != it.Max+1 {
			t.Errorf("%s: %d options for max %d", it.Code, len(it.Options), it.Max)
		}
		for i, o := range it.Options {
			if o.Score != it.Max-i || o.Text == "" {
				t.Errorf("%s option %d = %+v", it.Code, i, o)
			}
		}
		sums[it.Indicator] += it.Max
	}
	total := 0
	for _, ind := range Indicators() {
		if sums[ind.Code] != ind.Max {
			t.Errorf("%s %s: items sum to %d, declared %d", ind.Code, ind.Name, sums[ind.Code], ind.Max)
		}
		total += ind.Max
	}
	if total != 90 {
		t.Errorf("total max %d, want 90", total)
	}
	want := map[string]int{"B.2.4": 3, "B.3.7": 1, "B.3.8": 1, "B.3.9": 2, "B.4.1": 2, "B.4.2": 2, "B.4.4": 3, "B.1.1": 4}
	for _, it := range items {
		if m, ok := want[it.Code]; ok && it.Max != m {
			t.Errorf("%s max %d, want %d", it.Code, it.Max, m)
		}
	}
}

// Items must hand out copies: editing wording must not reach Score.
func TestItemsAreCopies(t *testing.T) {
	a := Items()
	a[0].Max = 99
	a[0].Options[0].Text = "x"
	b := Items()
	if b[0].Max != 4 || b[0].Options[0].Text == "x" {
		t.Fatal("Items shares state between calls")
	}
}

// DOMAIN §1.3: level bands at every edge.
func TestLevelEdges(t *testing.T) {
	cases := []struct {
		total, level int
		name         string
	}{
		{90, 0, "能力完好"}, {89, 1, "轻度失能"}, {66, 1, "轻度失能"},
		{65, 2, "中度失能"}, {46, 2, "中度失能"}, {45, 3, "重度失能"},
		{30, 3, "重度失能"}, {29, 4, "完全失能"}, {0, 4, "完全失能"},
	}
	for _, c := range cases {
		// At 0, B.3.9 is 0 too; the default settings do not read that as coma.
		r, err := Score(withTotal(t, c.total), DefaultSettings())
		if err != nil {
			t.Fatalf("total %d: %v", c.total, err)
		}
		if r.Total != c.total {
			t.Fatalf("total = %d, want %d", r.Total, c.total)
		}
		if r.InitialLevel != c.level || r.FinalLevel != c.level || r.InitialLevelName != c.name || len(r.Grounds) != 0 {
			t.Errorf("total %d: initial %d final %d %q grounds %v, want level %d %q",
				c.total, r.InitialLevel, r.FinalLevel, r.InitialLevelName, r.Grounds, c.level, c.name)
		}
	}
}

// DOMAIN §1.2: per-indicator sums and the total.
func TestIndicatorSums(t *testing.T) {
	in := full()
	in.Items["B.1.3"] = 1 // -3 from B.1
	in.Items["B.2.4"] = 0 // -3 from B.2
	in.Items["B.3.8"] = 0 // -1 from B.3
	in.Items["B.4.1"] = 1 // -1 from B.4
	r, err := Score(in, DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	want := []int{29, 12, 27, 14}
	for i, ind := range r.Indicators {
		if ind.Score != want[i] {
			t.Errorf("%s = %d, want %d", ind.Code, ind.Score, want[i])
		}
	}
	if r.Total != 82 {
		t.Errorf("total %d, want 82", r.Total)
	}
}

// DOMAIN §1.4: the adjustment grounds under every setting.
func TestAdjustment(t *testing.T) {
	def := DefaultSettings()
	each := def
	each.Stacking = StackEach
	perCat := def
	perCat.RiskCounting = RiskPerCategory
	b39 := def
	b39.ComaTrigger = ComaFlagOrB39

	cases := []struct {
		name   string
		total  int
		s      Settings
		edit   func(*Input)
		final  int
		rules  []string
		inText string
	}{
		{"coma flag at 90", 90, def, func(in *Input) { in.Coma = true }, 4, []string{"coma"}, "A.5.11"},
		{"B.3.9=0 is not coma by default", 88, def, func(in *Input) { in.Items["B.3.9"] = 0 }, 1, nil, ""},
		{"B.3.9=0 is coma when configured", 88, b39, func(in *Input) { in.Items["B.3.9"] = 0 }, 4, []string{"coma"}, "B.3.9"},
		{"dementia", 70, def, func(in *Input) { in.Dementia = true }, 2, []string{"diagnosis"}, "F00–F03"},
		{"mental disorder", 70, def, func(in *Input) { in.MentalDisorder = true }, 2, []string{"diagnosis"}, "F04–F99"},
		{"both diagnoses are one ground", 70, each, func(in *Input) { in.Dementia, in.MentalDisorder = true, true }, 2, []string{"diagnosis"}, "F04–F99"},
		{"one risk event", 70, def, func(in *Input) { in.RiskEvents.Fall = 1 }, 1, nil, ""},
		{"risk events summed", 70, def, func(in *Input) { in.RiskEvents.Fall, in.RiskEvents.Choking = 1, 1 }, 2, []string{"risk_events"}, "合计2次"},
		{"summed 3+ shown as at least", 70, def, func(in *Input) { in.RiskEvents.Wandering, in.RiskEvents.Other = 3, 1 }, 2, []string{"risk_events"}, "至少4次"},
		{"per category: 1+1 not enough", 70, perCat, func(in *Input) { in.RiskEvents.Fall, in.RiskEvents.Choking = 1, 1 }, 1, nil, ""},
		{"per category: 2 in one", 70, perCat, func(in *Input) { in.RiskEvents.Fall = 2 }, 2, []string{"risk_events"}, "跌倒2次"},
		{"stack once", 70, def, func(in *Input) { in.Dementia, in.RiskEvents.Fall = true, 2 }, 2, []string{"diagnosis", "risk_events"}, "合计只提高一个等级"},
		{"stack each", 70, each, func(in *Input) { in.Dementia, in.RiskEvents.Fall = true, 2 }, 3, []string{"diagnosis", "risk_events"}, "提高一个等级"},
		{"cap at 4", 20, each, func(in *Input) { in.Dementia, in.RiskEvents.Fall = true, 2 }, 4, []string{"diagnosis", "risk_events", "cap"}, "超过最高等级"},
		{"cap from 3 with each", 40, each, func(in *Input) { in.Dementia, in.RiskEvents.Fall = true, 2 }, 4, []string{"diagnosis", "risk_events", "cap"}, "提高2个等级"},
		{"coma hides the other grounds", 70, each, func(in *Input) { in.Coma, in.Dementia = true, true }, 4, []string{"coma"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := withTotal(t, c.total)
			c.edit(&in)
			r, err := Score(in, c.s)
			if err != nil {
				t.Fatal(err)
			}
			if r.FinalLevel != c.final {
				t.Errorf("final level %d, want %d (grounds %v)", r.FinalLevel, c.final, r.Grounds)
			}
			if r.InitialLevel != Level(r.Total) {
				t.Errorf("initial %d for total %d", r.InitialLevel, r.Total)
			}
			var rules []string
			var text strings.Builder
			for _, g := range r.Grounds {
				rules = append(rules, g.Rule)
				text.WriteString(g.Text)
			}
			if strings.Join(rules, ",") != strings.Join(c.rules, ",") {
				t.Errorf("grounds %v, want %v", rules, c.rules)
			}
			if !strings.Contains(text.String(), c.inText) {
				t.Errorf("grounds %q lack %q", text.String(), c.inText)
			}
		})
	}
}

// DOMAIN §1.5 and R-OBJ-2: body labels and the 65-point predicate.
func TestBodyLabel(t *testing.T) {
	def := DefaultSettings()
	le := def
	le.Predicate = PredTotalAtMost65
	lvl := def
	lvl.Predicate = PredLevelAtLeast2
	cases := []struct {
		total    int
		s        Settings
		dementia bool
		want     BodyLabel
		reason   string
	}{
		{66, def, false, BodyNone, ""},
		{65, def, false, BodyNone, ""},
		{64, def, false, BodySemiDisabled, "总分64分，低于65分"},
		{46, def, false, BodySemiDisabled, "低于65分"},
		{45, def, false, BodyDisabled, "重度失能"},
		{10, def, false, BodyDisabled, "完全失能"},
		{65, le, false, BodySemiDisabled, "不高于65分"},
		{66, le, false, BodyNone, ""},
		{65, lvl, false, BodySemiDisabled, "中度失能"},
		{80, lvl, true, BodySemiDisabled, "中度失能"}, // raised to 2 by the diagnosis
		{80, lvl, false, BodyNone, ""},
		{50, def, true, BodyDisabled, "重度失能"}, // 2 raised to 3
	}
	for _, c := range cases {
		in := withTotal(t, c.total)
		in.Dementia = c.dementia
		r, err := Score(in, c.s)
		if err != nil {
			t.Fatal(err)
		}
		if r.BodyLabel != c.want || !strings.Contains(r.BodyReason, c.reason) || (c.want == BodyNone) != (r.BodyReason == "") {
			t.Errorf("total %d %s dementia=%v: %q %q, want %q with %q", c.total, c.s.Predicate, c.dementia, r.BodyLabel, r.BodyReason, c.want, c.reason)
		}
	}
}

// DOMAIN §1.4/§1.5: a report shows which settings applied.
func TestSettingsNotes(t *testing.T) {
	r, err := Score(full(), DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Settings) != 4 {
		t.Fatalf("notes %v", r.Settings)
	}
	for _, n := range r.Settings {
		if n.Setting == "" || n.Value == "" || n.Text == "" {
			t.Errorf("incomplete note %+v", n)
		}
	}
	if !strings.Contains(r.Settings[3].Text, "低于65分") {
		t.Errorf("predicate note %q", r.Settings[3].Text)
	}
}

// DOMAIN §1.2: every item present and in range, named in Chinese when not.
func TestValidation(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Input)
		want []string
	}{
		{"out of range", func(in *Input) { in.Items["B.2.4"] = 4 }, []string{"B.2.4 上下楼梯的得分应在0–3之间，现为4"}},
		{"negative", func(in *Input) { in.Items["B.3.7"] = -1 }, []string{"B.3.7 攻击行为的得分应在0–1之间，现为-1"}},
		{"missing", func(in *Input) { delete(in.Items, "B.1.3") }, []string{"缺少B.1.3 洗澡的得分"}},
		{"unknown", func(in *Input) { in.Items["B.5.1"] = 1 }, []string{"未知的评估项目代码“B.5.1”"}},
		{"risk count", func(in *Input) { in.RiskEvents.Wandering = 4 }, []string{"A.2.14 照护风险事件·走失的次数应在0–3之间"}},
		{"several at once", func(in *Input) { delete(in.Items, "B.1.1"); in.Items["B.4.5"] = 5 },
			[]string{"缺少B.1.1 进食的得分", "B.4.5 社会交往能力的得分应在0–4之间，现为5"}},
	}
	for _, c := range cases {
		in := full()
		c.edit(&in)
		_, err := Score(in, DefaultSettings())
		var ie InputError
		if !errors.As(err, &ie) || len(ie) != len(c.want) {
			t.Errorf("%s: err %v, want %d problems", c.name, err, len(c.want))
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(ie[i].Error(), w) {
				t.Errorf("%s: %q lacks %q", c.name, ie[i].Error(), w)
			}
		}
		var item *ItemError
		if !errors.As(err, &item) {
			t.Errorf("%s: errors.As cannot reach *ItemError", c.name)
		}
	}

	if _, err := Score(Input{}, DefaultSettings()); err == nil {
		t.Error("empty input accepted")
	}
}

// DOMAIN §1.4: only known readings of the standard are accepted.
func TestSettingsValidation(t *testing.T) {
	s := DefaultSettings()
	s.RiskCounting = "weekly"
	_, err := Score(full(), s)
	var se *SettingsError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "照护风险事件计数方式") {
		t.Errorf("err %v", err)
	}
	if err := (Settings{}).Validate(); err == nil || !strings.Contains(err.Error(), "未设置") {
		t.Errorf("zero settings: %v", err)
	}
	if err := DefaultSettings().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
