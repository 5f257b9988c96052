package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/classes"
	"tanfang/internal/pii"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/idcard"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

var (
	admin   = Actor{UserID: 1, Username: "admin", Role: "admin", IP: "127.0.0.1"}
	visitor = Actor{UserID: 2, Username: "visitor1", Role: "visitor", IP: "127.0.0.1"}
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// suite shares one loaded database among the scenarios of a run: loading
// the division list is the slow part. Each scenario works in a world of
// its own (a town at home, one in another county, its own ID numbers), so
// none sees another's files.
type suite struct {
	db      *store.DB
	keys    *pii.Keys
	home    []place // towns of 连云区 and 赣榆区 with at least two villages
	away    []place // towns of 海州区 and 东海县
	next    int
	numbers []string // every ID and phone number a scenario typed
}

type place struct {
	town     areas.Area
	villages []areas.Area
	masked   string // county and town, as a DuplicateError names them
}

type world struct {
	*suite
	n           int
	s           *Service
	clk         *clock
	home        areas.Scope // a town
	town        string      // its code
	v1, v2      string      // two of its villages
	homeMasked  string      // "连云区墟沟街道…"
	away        areas.Scope // a town of another county
	awayVillage string
	awayMasked  string
}

func newSuite(t *testing.T, db *store.DB) *suite {
	t.Helper()
	ctx := context.Background()
	st := areas.Store{DB: db}
	if _, err := st.LoadDivisions(ctx, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.New(bytes.Repeat([]byte{9}, pii.SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	su := &suite{db: db, keys: keys}
	for _, c := range []struct {
		counties []string
		dst      *[]place
	}{
		{[]string{"320703000000", "320707000000"}, &su.home},
		{[]string{"320706000000", "320722000000"}, &su.away},
	} {
		for _, code := range c.counties {
			county, err := st.Get(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			towns, err := st.Children(ctx, code, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, town := range towns {
				if v, err := st.Children(ctx, town.Code, false); err == nil && len(v) >= 2 {
					*c.dst = append(*c.dst, place{town, v, county.Name + town.Name + "…"})
				}
			}
		}
	}
	return su
}

// world gives the next scenario its own areas and a service whose clock
// reads 2026-11-15 10:00 in Shanghai.
func (su *suite) world(t *testing.T) *world {
	t.Helper()
	n := su.next
	su.next++
	if n >= len(su.home) || n >= len(su.away) {
		t.Fatalf("only %d towns to give scenarios", min(len(su.home), len(su.away)))
	}
	h, a := su.home[n], su.away[n]
	clk := &clock{time.Date(2026, 11, 15, 10, 0, 0, 0, age.Shanghai)}
	return &world{
		suite: su, n: n, clk: clk,
		s:    &Service{DB: su.db, Keys: su.keys, Now: clk.now},
		home: areas.ScopeOf(h.town), town: h.town.Code, v1: h.villages[0].Code, v2: h.villages[1].Code, homeMasked: h.masked,
		away: areas.ScopeOf(a.town), awayVillage: a.villages[0].Code, awayMasked: a.masked,
	}
}

// id makes a valid made-up ID number unique to the world.
func (w *world) id(birth string, female bool, k int) string {
	d, err := age.ParseDate(birth)
	if err != nil {
		panic(err)
	}
	v := idcard.Synthetic("320703", d, female, w.n*25+k)
	w.numbers = append(w.numbers, v)
	return v
}

func (w *world) phone(p string) *string {
	w.numbers = append(w.numbers, p)
	return &p
}

func ptr[T any](v T) *T { return &v }

func basic(name, id, area string) Input {
	return Input{Name: &name, IDNumber: &id, AreaCode: &area}
}

// complete fills every field the census asks for.
func (w *world) complete(name, id, phone, area string) Input {
	in := basic(name, id, area)
	in.Phone = w.phone(phone)
	in.Address = ptr("海滨路12号")
	in.AtRegisteredResidence = ptr(true)
	in.LivingSituation = ptr("alone")
	in.BodyConditions = &[]string{"self_care"}
	in.EconomicStatus = &[]string{"resident_pension"}
	in.PensionMonthly = ptr(Amount("235"))
	in.AssistanceMonthly = ptr(Amount("0"))
	in.SubsidyMonthly = ptr(Amount("0"))
	in.FirstContact = &FirstContactInput{Name: ptr("张示例"), Relation: ptr("child"), Phone: w.phone("13912345678"), Reachable: ptr(true)}
	in.VillageContact = &VillageContactInput{Name: ptr("赵村干"), Phone: w.phone("15150001234")}
	in.Willing = ptr(true)
	in.ConsentHome = ptr(true)
	in.Collector = ptr("李采集")
	return in
}

func (w *world) create(t *testing.T, sc areas.Scope, in Input) Elder {
	t.Helper()
	e, err := w.s.Create(context.Background(), admin, sc, in)
	if err != nil {
		t.Fatalf("create %s: %v", *in.Name, err)
	}
	return e
}

func fieldsOf(err error) map[string]string {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	return ve.ByField()
}

// TestRegistry runs every scenario on both databases.
func TestRegistry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		su := newSuite(t, db)
		for _, sc := range []struct {
			name string
			fn   func(*testing.T, *world)
		}{
			{"create_get_list", testCreateGetList},
			{"scoping", testScoping},
			{"duplicate", testDuplicate},
			{"version_conflict_and_history", testVersionConflictAndHistory},
			{"status", testStatus},
			{"transfer", testTransfer},
			{"changed_in_month", testChangedInMonth},
			{"reveal", testReveal},
			{"household", testHousehold},
			{"validation", testValidation},
			{"create_many", testCreateMany},
			// Last but one: it reads what every scenario above wrote.
			{"no_numbers_in_clear", testNoNumbersInClear},
			// Last: it re-seals every row under a new key.
			{"rekey", testRekey},
		} {
			w := su.world(t)
			if !t.Run(sc.name, func(t *testing.T) { sc.fn(t, w) }) {
				return
			}
		}
	})
}

// Issue 3 contract: create answers id, masked number, birth date, gender,
// 周岁 and version; lists never carry full numbers.
func testCreateGetList(t *testing.T, w *world) {
	ctx := context.Background()
	s := w.s
	id1 := w.id("1944-11-16", true, 1) // turns 82 tomorrow
	e := w.create(t, w.home, w.complete("王样本", " "+strings.ToLower(id1)+" ", "138 0013 8000", w.v1))
	if e.ID == 0 || e.Version != 1 || e.Gender != "female" || e.BirthDate != "1944-11-16" || e.Age != 81 {
		t.Fatalf("created %+v", e)
	}
	if e.IDNumberMasked != id1[:6]+"********"+id1[14:] || e.PhoneMasked != "138****8000" || e.IDNumber != "" || e.Phone != "" {
		t.Fatalf("numbers: %q %q %q %q", e.IDNumberMasked, e.PhoneMasked, e.IDNumber, e.Phone)
	}
	if e.Incomplete || len(e.Missing) != 0 || e.HouseholdID != e.ID || e.Status != StatusActive || !e.Active {
		t.Fatalf("complete file reported %v %v, household %d, status %s", e.Incomplete, e.Missing, e.HouseholdID, e.Status)
	}
	if e.PensionMonthly == nil || *e.PensionMonthly != 23500 || e.AssistanceMonthly == nil || *e.AssistanceMonthly != 0 {
		t.Fatalf("amounts %v %v", e.PensionMonthly, e.AssistanceMonthly)
	}

	got, err := s.Get(ctx, admin, w.home, e.ID)
	if err != nil || got.Name != "王样本" || got.FirstContact.PhoneMasked != "139****5678" || got.VillageContact.Name != "赵村干" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	entries, err := audit.List(ctx, w.db, audit.Query{TargetType: "elder", TargetID: fmt.Sprint(e.ID)})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range entries {
		actions = append(actions, en.Action)
	}
	if !slices.Equal(actions, []string{"elder.read", "elder.create"}) {
		t.Fatalf("audit actions %v", actions)
	}

	w.create(t, w.home, basic("张测试", w.id("1950-03-01", false, 2), w.v2))
	w.create(t, w.home, basic("李示例", w.id("1948-02-29", false, 3), w.v1))

	cases := []struct {
		name string
		f    Filter
		want []string
	}{
		{"all", Filter{}, []string{"王样本", "李示例", "张测试"}},
		{"village subtree", Filter{AreaCode: w.v2}, []string{"张测试"}},
		{"town subtree", Filter{AreaCode: w.town}, []string{"王样本", "李示例", "张测试"}},
		{"name substring", Filter{Name: "示"}, []string{"李示例"}},
		{"name with a LIKE wildcard", Filter{Name: "%"}, nil},
		{"exact ID, typed loosely", Filter{IDNumber: strings.ToLower(id1)}, []string{"王样本"}},
		{"phone, other spelling", Filter{Phone: "+86 138-0013-8000"}, []string{"王样本"}},
		{"incomplete", Filter{Incomplete: ptr(true)}, []string{"李示例", "张测试"}},
		{"complete", Filter{Incomplete: ptr(false)}, []string{"王样本"}},
		{"status", Filter{Status: StatusDeceased}, nil},
		{"class, computed on create (R-CLS-1 A1: 81, alone)", Filter{Class: "A"}, []string{"王样本"}},
		{"page 2 of size 2", Filter{Page: 2, PageSize: 2}, []string{"张测试"}},
	}
	for _, c := range cases {
		items, total, err := s.List(ctx, admin, w.home, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var names []string
		for _, it := range items {
			names = append(names, it.Name)
			if it.IDNumber != "" || it.Phone != "" || it.FirstContact.Phone != "" {
				t.Fatalf("%s: list item carries a full number", c.name)
			}
		}
		if !slices.Equal(names, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, names, c.want)
		}
		wantTotal := len(c.want)
		if c.f.Page == 2 {
			wantTotal = 3
		}
		if total != wantTotal {
			t.Errorf("%s: total %d, want %d", c.name, total, wantTotal)
		}
	}
	if _, _, err := s.List(ctx, admin, w.home, Filter{IDNumber: "12345"}); fieldsOf(err)["id_number"] == "" {
		t.Fatalf("bad ID filter: %v", err)
	}
	if _, _, err := s.List(ctx, admin, w.home, Filter{AreaCode: w.awayVillage}); fieldsOf(err)["area_code"] == "" {
		t.Fatalf("area filter outside scope: %v", err)
	}
}

// R-USR-1: each area sees only its own; elsewhere is indistinguishable
// from nowhere.
func testScoping(t *testing.T, w *world) {
	ctx := context.Background()
	s := w.s
	village := areas.Scope{Code: w.v1, Prefix: w.v1}
	e := w.create(t, village, basic("王样本", w.id("1940-01-02", true, 1), w.v1))
	for name, sc := range map[string]areas.Scope{
		"other county": w.away, "neighbouring village": {Code: w.v2, Prefix: w.v2}, "empty scope": {},
	} {
		if _, err := s.Get(ctx, admin, sc, e.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s Get: %v", name, err)
		}
		if items, total, err := s.List(ctx, admin, sc, Filter{}); err != nil || total != 0 || len(items) != 0 {
			t.Fatalf("%s List: %d, %v", name, total, err)
		}
		if _, err := s.Update(ctx, admin, sc, e.ID, 1, Input{Address: ptr("x")}, ""); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s Update: %v", name, err)
		}
		if _, err := s.History(ctx, admin, sc, e.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s History: %v", name, err)
		}
		if _, _, err := s.Reveal(ctx, admin, sc, e.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s Reveal: %v", name, err)
		}
		if _, err := s.SetStatus(ctx, admin, sc, e.ID, 1, Status{Kind: StatusAway, From: "2026-11-01"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s SetStatus: %v", name, err)
		}
	}
	_, err := s.Create(ctx, admin, village, basic("张测试", w.id("1941-01-02", false, 2), w.awayVillage))
	if got := fieldsOf(err)["area_code"]; got != "不在您的管辖范围内" {
		t.Fatalf("create outside scope: %v", err)
	}
	_, err = s.Create(ctx, admin, w.home, basic("张测试", w.id("1941-01-02", false, 2), w.town))
	if got := fieldsOf(err)["area_code"]; !strings.Contains(got, "村（居）或网格") {
		t.Fatalf("create at town level: %v", err)
	}
	_, err = s.Update(ctx, admin, village, e.ID, 1, Input{AreaCode: &w.v2}, "")
	if got := fieldsOf(err)["area_code"]; !strings.Contains(got, "转移") {
		t.Fatalf("moving by patch: %v", err)
	}
}

// Issue 3 §3: one active file per ID number in the whole system; the
// answer names the county and town holding it, not the village or person.
func testDuplicate(t *testing.T, w *world) {
	ctx := context.Background()
	s := w.s
	id := w.id("1945-06-30", false, 1)
	first := w.create(t, w.home, basic("王样本", id, w.v1))

	_, err := s.Create(ctx, admin, w.away, basic("王样本", "  "+id[:9]+" "+id[9:], w.awayVillage))
	var dup *DuplicateError
	if !errors.As(err, &dup) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate from another county: %v", err)
	}
	if dup.AreaMasked != w.homeMasked || dup.AreaCode != w.town || dup.ElderID != 0 {
		t.Fatalf("duplicate names %+v, want %s %s", dup, w.homeMasked, w.town)
	}
	if strings.Contains(dup.Error(), "王") || strings.Contains(dup.Error(), w.v1) {
		t.Fatalf("duplicate message reveals too much: %s", dup.Error())
	}
	// The refusal is audited, though the create rolled back (DOMAIN §7:
	// probing numbers leaves a trace); the entry holds no number.
	if got := deniedCreates(t, w, w.awayVillage); !slices.Equal(got, []string{"admin  duplicate"}) {
		t.Fatalf("audited refusals %q", got)
	}
	_, err = s.Create(ctx, admin, w.home, basic("王样本", id, w.v2))
	if !errors.As(err, &dup) || dup.ElderID != first.ID {
		t.Fatalf("duplicate in own scope: %v %+v", err, dup)
	}

	// A patch that turns another file's number into this one is refused too.
	other := w.create(t, w.home, basic("张测试", w.id("1946-01-01", true, 2), w.v2))
	if _, err := s.Update(ctx, admin, w.home, other.ID, 1, Input{IDNumber: &id}, "更正"); !errors.As(err, &dup) {
		t.Fatalf("patch to a held number: %v", err)
	}

	// Once moved out, the file no longer holds the number: the elder may
	// come back, or settle elsewhere …
	if _, err := s.SetStatus(ctx, admin, w.home, first.ID, 1, Status{Kind: StatusMovedOut, From: "2026-11-01"}); err != nil {
		t.Fatal(err)
	}
	again := w.create(t, w.away, basic("王样本", id, w.awayVillage))
	if again.ID == first.ID {
		t.Fatal("new file reused the old id")
	}
	// … and reviving the old file now collides with the new one.
	_, err = s.SetStatus(ctx, admin, w.home, first.ID, 2, Status{Kind: StatusActive, Reason: "迁回"})
	if !errors.As(err, &dup) || dup.AreaMasked != w.awayMasked {
		t.Fatalf("reviving a file whose number is held: %v", err)
	}

	// A file that says the elder died holds the number for good: no new
	// file, no patch onto it, no revival of an older file, until the death
	// is corrected on that file.
	if _, err := s.SetStatus(ctx, admin, w.away, again.ID, 1, Status{Kind: StatusDeceased, From: "2026-11-10"}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Create(ctx, admin, w.home, basic("王样本", id, w.v1))
	var dec *DeceasedError
	if !errors.As(err, &dec) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("new file for someone deceased: %v", err)
	}
	if dec.AreaMasked != w.awayMasked || dec.AreaCode != w.away.Code || dec.ElderID != 0 ||
		!strings.HasPrefix(dec.Error(), "该身份证号码对应的老人已登记去世，如登记有误，请先更正原档案的状态") ||
		!strings.Contains(dec.Error(), w.awayMasked) || strings.Contains(dec.Error(), w.awayVillage) {
		t.Fatalf("deceased names %+v: %s", dec, dec.Error())
	}
	if f := fieldsOf(err); f["id_number"] != dec.Error() {
		t.Fatalf("a form sees %v", f)
	}
	if got := deniedCreates(t, w, w.v1); !slices.Equal(got, []string{"admin  duplicate"}) {
		t.Fatalf("audited refusals in %s: %q", w.v1, got)
	}
	if _, err := audit.Verify(ctx, w.db); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, admin, w.away, basic("王样本", id, w.awayVillage)); !errors.As(err, &dec) || dec.ElderID != again.ID {
		t.Fatalf("deceased in own scope: %v %+v", err, dec)
	}
	if _, err := s.Update(ctx, admin, w.home, other.ID, 1, Input{IDNumber: &id}, "更正"); !errors.As(err, &dec) {
		t.Fatalf("patch to a deceased elder's number: %v", err)
	}
	if _, err := s.SetStatus(ctx, admin, w.home, first.ID, 2, Status{Kind: StatusActive, Reason: "迁回"}); !errors.As(err, &dec) {
		t.Fatalf("reviving an older file of someone deceased: %v", err)
	}
	if n := countFiles(t, w, id); n != 2 {
		t.Fatalf("%d files hold the number, want the two made above", n)
	}
	// Correcting the death frees the number for the corrected file only.
	if _, err := s.SetStatus(ctx, admin, w.away, again.ID, 2, Status{Kind: StatusActive, Reason: "误报去世"}); err != nil {
		t.Fatalf("correcting a death: %v", err)
	}
}

// deniedCreates lists the refused creates audited in an area, as "actor
// target detail".
func deniedCreates(t *testing.T, w *world, area string) []string {
	t.Helper()
	rows, err := w.db.Query(context.Background(), "SELECT actor, target_id, detail FROM audit_log WHERE action = 'elder.create' AND outcome = ? AND area_code = ? ORDER BY id", audit.Denied, area)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var actor, target, detail string
		if err := rows.Scan(&actor, &target, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, actor+" "+target+" "+detail)
	}
	return out
}

// countFiles counts the files of an ID number, active or not.
func countFiles(t *testing.T, w *world, id string) int {
	t.Helper()
	var n int
	if err := w.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM elders WHERE id_hmac = ?", w.keys.Lookups(kindID, id)[0]).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func testVersionConflictAndHistory(t *testing.T, w *world) {
	ctx := context.Background()
	s := w.s
	e := w.create(t, w.home, w.complete("王样本", w.id("1939-05-05", true, 1), "13800138000", w.v1))

	w.clk.t = w.clk.t.Add(time.Hour)
	up, err := s.Update(ctx, admin, w.home, e.ID, 1, Input{Phone: w.phone("13900139000"), Address: ptr("海滨路14号")}, "老人换了手机")
	if err != nil || up.Version != 2 || up.PhoneMasked != "139****9000" || up.Address != "海滨路14号" {
		t.Fatalf("update: %+v, %v", up, err)
	}
	_, err = s.Update(ctx, admin, w.home, e.ID, 1, Input{Address: ptr("别处")}, "")
	var vc *VersionConflict
	if !errors.As(err, &vc) || !errors.Is(err, store.ErrConflict) || vc.Current.Version != 2 || vc.Current.Address != "海滨路14号" {
		t.Fatalf("stale version: %v", err)
	}
	same, err := s.Update(ctx, admin, w.home, e.ID, 2, Input{Address: ptr("海滨路14号")}, "")
	if err != nil || same.Version != 2 {
		t.Fatalf("no-op patch: version %d, %v", same.Version, err)
	}

	hist, err := s.History(ctx, admin, w.home, e.ID)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %d versions, %v", len(hist), err)
	}
	if hist[0].Kind != "created" || hist[0].Changes["name"].New != "王样本" || hist[0].Actor != "admin" || hist[0].Changes["phone"].New != "138****8000" {
		t.Fatalf("version 1: %+v", hist[0])
	}
	h := hist[1]
	if h.Kind != "updated" || h.Version != 2 || h.Reason != "老人换了手机" || len(h.Changes) != 2 ||
		h.Changes["phone"] != (Change{Old: "138****8000", New: "139****9000"}) ||
		h.Changes["address"] != (Change{Old: "海滨路12号", New: "海滨路14号"}) || !h.At.Equal(w.clk.t) {
		t.Fatalf("version 2: %+v", h)
	}
	// A corrected digit in the middle of the ID number leaves the mask
	// unchanged, yet is still a change; birth date and sex follow it.
	fixed := w.id("1939-05-06", true, 1)
	up, err = s.Update(ctx, admin, w.home, e.ID, 2, Input{IDNumber: &fixed}, "身份证号码录错")
	if err != nil || up.Version != 3 || up.BirthDate != "1939-05-06" {
		t.Fatalf("ID correction: %+v, %v", up, err)
	}
	hist, _ = s.History(ctx, admin, w.home, e.ID)
	c, ok := hist[2].Changes["id_number"]
	if !ok || c.New != up.IDNumberMasked || hist[2].Changes["birth_date"] != (Change{Old: "1939-05-05", New: "1939-05-06"}) {
		t.Fatalf("ID change recorded as %+v", hist[2].Changes)
	}
}

func testStatus(t *testing.T, w *world) {
	ctx := context.Background()
	s := w.s
	e := w.create(t, w.home, basic("王样本", w.id("1938-08-08", false, 1), w.v1))

	for name, c := range map[string]struct {
		st    Status
		field string
	}{
		"return before admission": {Status{Kind: StatusHospital, From: "2026-11-10", To: "2026-11-01"}, "to"},
		"unknown status":          {Status{Kind: "vanished"}, "kind"},
		"death without date":      {Status{Kind: StatusDeceased}, "from"},
		"death in the future":     {Status{Kind: StatusDeceased, From: "2026-12-01"}, "from"},
		"bad date":                {Status{Kind: StatusAway, From: "2026-02-30"}, "from"},
		"declined without reason": {Status{Kind: StatusDeclined}, "reason"},
	} {
		if _, err := s.SetStatus(ctx, admin, w.home, e.ID, 1, c.st); fieldsOf(err)[c.field] == "" {
			t.Errorf("%s: %v, want an error on %s", name, err, c.field)
		}
	}
	// Status dates: not before birth, a return within two years of leaving,
	// and no end for a status that has none (issue 3 §5).
	for _, c := range []struct {
		name   string
		st     Status
		field  string
		substr string
	}{
		{"away before birth", Status{Kind: StatusAway, From: "1938-08-07"}, "from", "早于老人的出生日期1938-08-08"},
		{"death before birth", Status{Kind: StatusDeceased, From: "1900-01-01"}, "from", "出生日期"},
		{"declined before birth", Status{Kind: StatusDeclined, From: "1938-01-01", Reason: "不需要"}, "from", "出生日期"},
		{"away over two years", Status{Kind: StatusAway, From: "2026-11-10", To: "2028-11-11"}, "to", "超过2年"},
		{"hospital over two years", Status{Kind: StatusHospital, From: "2026-11-10", To: "2036-11-10"}, "to", "超过2年"},
		{"institution with an end", Status{Kind: StatusInstitution, From: "2026-11-10", To: "2026-12-01"}, "to", "该状态没有结束日期"},
		{"moved out with an end", Status{Kind: StatusMovedOut, From: "2026-11-10", To: "2026-12-01"}, "to", "该状态没有结束日期"},
		{"deceased with an end", Status{Kind: StatusDeceased, From: "2026-11-10", To: "2026-12-01"}, "to", "该状态没有结束日期"},
		{"declined with an end", Status{Kind: StatusDeclined, To: "2026-12-01", Reason: "不需要"}, "to", "该状态没有结束日期"},
		{"active with an end", Status{Kind: StatusActive, To: "2026-12-01"}, "to", "该状态没有结束日期"},
	} {
		_, err := s.SetStatus(ctx, admin, w.home, e.ID, 1, c.st)
		if got := fieldsOf(err)[c.field]; !strings.Contains(got, c.substr) {
			t.Errorf("%s: %v, want an error on %s mentioning %q", c.name, err, c.field, c.substr)
		}
	}
	// Born on the day the stay begins, back exactly two years later: both
	// limits are inclusive.
	other := w.create(t, w.home, basic("张测试", w.id("1940-02-29", true, 2), w.v2))
	if got, err := s.SetStatus(ctx, admin, w.home, other.ID, 1, Status{Kind: StatusAway, From: "2026-11-10", To: "2028-11-10"}); err != nil || got.StatusTo != "2028-11-10" {
		t.Fatalf("away for exactly two years: %+v, %v", got, err)
	}
	if got, err := s.SetStatus(ctx, admin, w.home, other.ID, 2, Status{Kind: StatusAway, From: "1940-02-29"}); err != nil || got.StatusFrom != "1940-02-29" {
		t.Fatalf("away from the day of birth: %+v, %v", got, err)
	}

	got, err := s.SetStatus(ctx, admin, w.home, e.ID, 1, Status{Kind: StatusHospital, From: "2026-11-10", To: "2026-11-30", Reason: "骨折"})
	if err != nil || got.Status != StatusHospital || got.StatusFrom != "2026-11-10" || got.StatusTo != "2026-11-30" || !got.Active || got.Version != 2 {
		t.Fatalf("hospital: %+v, %v", got, err)
	}
	if _, err := s.SetStatus(ctx, admin, w.home, e.ID, 1, Status{Kind: StatusActive}); !errors.As(err, new(*VersionConflict)) {
		t.Fatalf("stale status change: %v", err)
	}
	got, err = s.SetStatus(ctx, admin, w.home, e.ID, 2, Status{Kind: StatusActive})
	if err != nil || got.Status != StatusActive || got.StatusFrom != "2026-11-15" || got.StatusTo != "" {
		t.Fatalf("back to active: %+v, %v", got, err)
	}
	got, err = s.SetStatus(ctx, admin, w.home, e.ID, 3, Status{Kind: StatusDeceased, From: "2026-11-14"})
	if err != nil || got.Active || got.Status != StatusDeceased {
		t.Fatalf("deceased: %+v, %v", got, err)
	}
	if _, err := s.SetStatus(ctx, admin, w.home, e.ID, 4, Status{Kind: StatusActive}); fieldsOf(err)["reason"] == "" {
		t.Fatalf("undoing a death without reason: %v", err)
	}
	items, _, err := s.List(ctx, admin, w.home, Filter{Status: StatusDeceased})
	if err != nil || len(items) != 1 || items[0].ID != e.ID {
		t.Fatalf("deceased list: %v, %v", items, err)
	}
	hist, err := s.History(ctx, admin, w.home, e.ID)
	if err != nil || len(hist) != 4 || hist[3].Kind != "status" || hist[3].Changes["status"] != (Change{Old: StatusActive, New: StatusDeceased}) {
		t.Fatalf("status history: %+v, %v", hist, err)
	}
}

// Issue 3 §3: a transfer moves the file and its history; both areas are
// recorded and both see it in their monthly list.
func testTransfer(t *testing.T, w *world) {
	ctx := context.Background()
	s := w.s
	e := w.create(t, w.home, basic("王样本", w.id("1937-07-07", true, 1), w.v1))

	_, err := s.Transfer(ctx, admin, w.home, e.ID, w.town, "")
	if f := fieldsOf(err); f["to_area_code"] == "" || f["reason"] == "" {
		t.Fatalf("transfer to a town without reason: %v", err)
	}
	if _, err := s.Transfer(ctx, admin, w.away, e.ID, w.awayVillage, "迁居"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("transfer by an area that does not hold the file: %v", err)
	}
	moved, err := s.Transfer(ctx, admin, w.home, e.ID, w.awayVillage, "随子女迁居")
	if err != nil || moved.AreaCode != w.awayVillage || moved.Version != 2 {
		t.Fatalf("transfer: %+v, %v", moved, err)
	}
	if _, err := s.Get(ctx, admin, w.home, e.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old area still sees the file: %v", err)
	}
	hist, err := s.History(ctx, admin, w.away, e.ID)
	if err != nil || len(hist) != 2 || hist[0].Kind != "created" {
		t.Fatalf("history at the new area: %v, %v", hist, err)
	}
	if h := hist[1]; h.Kind != "transferred" || h.FromAreaCode != w.v1 || h.AreaCode != w.awayVillage || h.Reason != "随子女迁居" ||
		h.Changes["area_code"] != (Change{Old: w.v1, New: w.awayVillage}) {
		t.Fatalf("transfer version: %+v", h)
	}
	var from, to, reason string
	if err := w.db.QueryRow(ctx, "SELECT from_area_code, to_area_code, reason FROM elder_transfers WHERE elder_id = ?", e.ID).Scan(&from, &to, &reason); err != nil {
		t.Fatal(err)
	}
	if from != w.v1 || to != w.awayVillage || reason != "随子女迁居" {
		t.Fatalf("transfers row %s → %s (%s)", from, to, reason)
	}
	for _, sc := range []areas.Scope{w.home, w.away} {
		ch, err := s.ChangedInMonth(ctx, sc, "2026-11")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(ch, func(m MonthChange) bool {
			return m.Kind == "transferred" && m.ElderID == e.ID && m.FromAreaCode == w.v1 && m.AreaCode == w.awayVillage
		}) {
			t.Fatalf("%s monthly list lacks the transfer: %+v", sc.Code, ch)
		}
	}
}

// R-OBJ-3 按月更新: what changed in an area during a Shanghai calendar month.
func testChangedInMonth(t *testing.T, w *world) {
	ctx := context.Background()
	s := w.s
	w.clk.t = time.Date(2026, 10, 20, 9, 0, 0, 0, age.Shanghai)
	a := w.create(t, w.home, basic("王样本", w.id("1936-01-01", true, 1), w.v1))
	// 00:30 on 1 November in Shanghai is still 31 October in UTC.
	w.clk.t = time.Date(2026, 10, 31, 16, 30, 0, 0, time.UTC)
	b := w.create(t, w.home, basic("张测试", w.id("1936-02-02", false, 2), w.v2))
	w.clk.t = time.Date(2026, 11, 30, 23, 59, 0, 0, age.Shanghai)
	if _, err := s.Update(ctx, admin, w.home, a.ID, 1, Input{Address: ptr("海滨路1号")}, ""); err != nil {
		t.Fatal(err)
	}
	w.clk.t = time.Date(2026, 12, 1, 0, 1, 0, 0, age.Shanghai)
	if _, err := s.SetStatus(ctx, admin, w.home, b.ID, 1, Status{Kind: StatusAway, From: "2026-12-01"}); err != nil {
		t.Fatal(err)
	}
	w.create(t, w.away, basic("李示例", w.id("1936-03-03", true, 3), w.awayVillage))

	type entry struct {
		id   int64
		kind string
	}
	for month, want := range map[string][]entry{
		"2026-10": {{a.ID, "created"}},
		"2026-11": {{b.ID, "created"}, {a.ID, "updated"}},
		"2026-12": {{b.ID, "status"}},
		"2027-01": nil,
	} {
		ch, err := s.ChangedInMonth(ctx, w.home, month)
		if err != nil {
			t.Fatal(err)
		}
		var got []entry
		for _, m := range ch {
			got = append(got, entry{m.ElderID, m.Kind})
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", month, got, want)
		}
	}
	ch, _ := s.ChangedInMonth(ctx, w.home, "2026-11")
	if ch[1].Name != "王样本" || !slices.Equal(ch[1].Fields, []string{"address"}) || ch[1].IDNumberMasked != a.IDNumberMasked {
		t.Fatalf("monthly entry %+v", ch[1])
	}
	if _, err := s.ChangedInMonth(ctx, w.home, "2026-13"); fieldsOf(err)["month"] == "" {
		t.Fatalf("bad month: %v", err)
	}
}

// DOMAIN §7: a permitted role may see the full numbers, and each time is
// audited; visitors may not.
func testReveal(t *testing.T, w *world) {
	ctx := context.Background()
	s := w.s
	id := w.id("1942-12-12", false, 1)
	e := w.create(t, w.home, w.complete("王样本", id, "0518-85812345", w.v1))
	gotID, phone, err := s.Reveal(ctx, admin, w.home, e.ID)
	if err != nil || gotID != id || phone != "0518-85812345" {
		t.Fatalf("Reveal = %q %q %v", gotID, phone, err)
	}
	if _, _, err := s.Reveal(ctx, visitor, w.home, e.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("visitor Reveal: %v", err)
	}
	entries, err := audit.List(ctx, w.db, audit.Query{TargetType: "elder", TargetID: fmt.Sprint(e.ID)})
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, en := range entries {
		if en.Action == "elder.reveal" {
			outcomes = append(outcomes, en.Actor+":"+en.Outcome)
		}
	}
	if !slices.Equal(outcomes, []string{"visitor1:denied", "admin:ok"}) {
		t.Fatalf("reveal audit %v", outcomes)
	}
	if n, err := audit.Verify(ctx, w.db); err != nil || n == 0 {
		t.Fatalf("audit chain: %d, %v", n, err)
	}
}

// A couple living together shares one household (一户一档).
func testHousehold(t *testing.T, w *world) {
	ctx := context.Background()
	s := w.s
	a := w.create(t, w.home, basic("王样本", w.id("1940-04-04", true, 1), w.v1))
	in := basic("张测试", w.id("1939-03-03", false, 2), w.v1)
	in.HouseholdWith = &a.ID
	b := w.create(t, w.home, in)
	if b.HouseholdID != a.HouseholdID {
		t.Fatalf("household %d, want %d", b.HouseholdID, a.HouseholdID)
	}
	members, err := s.Household(ctx, w.home, a.ID)
	if err != nil || len(members) != 1 || members[0].ID != b.ID {
		t.Fatalf("household of a: %+v, %v", members, err)
	}
	alone, err := s.Update(ctx, admin, w.home, b.ID, 1, Input{HouseholdWith: ptr(int64(0))}, "分户")
	if err != nil || alone.HouseholdID != b.ID {
		t.Fatalf("leave household: %+v, %v", alone, err)
	}
	stranger := w.create(t, w.away, basic("李示例", w.id("1939-03-04", false, 3), w.awayVillage))
	for _, other := range []int64{9999999, stranger.ID, b.ID} {
		_, err = s.Update(ctx, admin, w.home, b.ID, 2, Input{HouseholdWith: &other}, "")
		if fieldsOf(err)["household_with"] == "" {
			t.Fatalf("join household of %d: %v", other, err)
		}
	}
}

// Issue 3 §7: every field's problem comes back at once, in Chinese, on the
// field at fault, so a form can show each beside its field.
func testValidation(t *testing.T, w *world) {
	ctx := context.Background()
	id := w.id("1950-05-05", true, 1)
	in := Input{
		Name:                   ptr("王样本"),
		IDNumber:               &id,
		BirthDate:              ptr("1950-05-06"),
		Gender:                 ptr("male"),
		Phone:                  w.phone("12345"),
		AreaCode:               &w.v1,
		Address:                ptr("电话13800138000"),
		LivingSituation:        ptr("lonely"),
		BodyConditions:         &[]string{"self_care", "disabled"},
		EconomicStatus:         &[]string{"rich"},
		PartnerCondition:       ptr("disability"),
		CaresForChildCondition: ptr("disability"),
		DisabilityCertificate:  ptr(w.id("1950-05-05", true, 2) + "41"),
		PensionMonthly:         ptr(Amount("-10")),
		AssistanceMonthly:      ptr(Amount("12.345")),
		SubsidyMonthly:         ptr(Amount("abc")),
		FirstContact:           &FirstContactInput{Relation: ptr("neighbour"), Phone: w.phone("0518-123")},
		VillageContact:         &VillageContactInput{Phone: w.phone("15150001234")},
		Willing:                ptr(false),
		ConsentHome:            ptr(true),
		ConsentSignedOn:        ptr("2027-01-01"),
		HelpChannels:           &[]string{"police"},
		Collector:              ptr("李3"),
	}
	_, err := w.s.Create(ctx, admin, w.home, in)
	got := fieldsOf(err)
	if got == nil {
		t.Fatalf("Create: %v, want a ValidationError", err)
	}
	want := map[string]string{
		"birth_date":                "1950-05-06",
		"gender":                    "性别",
		"phone":                     "手机号码",
		"address":                   "电话号码",
		"living_situation":          "lonely",
		"body_conditions":           "自理",
		"economic_status":           "rich",
		"cares_for_child_condition": "disability",
		"disability_certificate":    "不一致",
		"pension_monthly":           "负数",
		"assistance_monthly":        "两位小数",
		"subsidy_monthly":           "金额",
		"first_contact.relation":    "neighbour",
		"first_contact.phone":       "第一联系人电话",
		"first_contact.name":        "姓名",
		"village_contact.name":      "姓名",
		"decline_reason":            "原因",
		"consent_signer":            "签字",
		"consent_signed_on":         "晚于今天",
		"consent_home":              "上门",
		"help_channels":             "police",
		"collector":                 "数字",
	}
	for field, part := range want {
		if !strings.Contains(got[field], part) {
			t.Errorf("%s: %q, want it to mention %q", field, got[field], part)
		}
	}
	for field := range got {
		if _, ok := want[field]; !ok {
			t.Errorf("unexpected error on %s: %s", field, got[field])
		}
	}
	if _, _, err := w.s.List(ctx, admin, w.home, Filter{}); err != nil {
		t.Fatal(err)
	} else if items, _, _ := w.s.List(ctx, admin, w.home, Filter{}); len(items) != 0 {
		t.Fatal("an invalid file was stored")
	}

	// The ID number's own problems, each on id_number (DOMAIN §2).
	for bad, part := range map[string]string{
		"":                                   "未填写",
		"32070319500505":                     "18位",
		"320703195013050012":                 "出生日期",
		"320703202701010012":                 "晚于今天",
		id[:17] + string(otherCheck(id[17])): "校验位",
		id[:5] + "A" + id[6:]:                "不是数字",
	} {
		_, err := w.s.Create(ctx, admin, w.home, basic("王样本", bad, w.v1))
		if msg := fieldsOf(err)["id_number"]; !strings.Contains(msg, part) {
			t.Errorf("ID %q: %q, want it to mention %q", bad, msg, part)
		}
	}
	if _, err := w.s.Create(ctx, admin, w.home, Input{}); len(fieldsOf(err)) != 3 {
		t.Errorf("empty create: %v, want name, id_number and area_code", err)
	}
}

func otherCheck(c byte) byte {
	if c == '0' {
		return '1'
	}
	return '0'
}

// DOMAIN §7: no ID or phone number any scenario typed is stored in clear,
// in any text or binary column of the registry's tables or the audit log.
func testNoNumbersInClear(t *testing.T, w *world) {
	ctx := context.Background()
	needles := map[string]bool{}
	for _, n := range w.numbers {
		needles[n] = true
		needles[strings.ReplaceAll(n, "-", "")] = true
	}
	// Also whatever the files hold now, read back through the key.
	rows, err := w.db.Query(ctx, "SELECT "+selectCols+" FROM elders")
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.open(w.keys); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{r.idNumber, r.phone, r.cert, r.fcPhone, r.vcPhone} {
			if v != "" {
				needles[v] = true
			}
		}
		count++
	}
	rows.Close()
	if count < 15 || len(needles) < 25 {
		t.Fatalf("only %d files and %d numbers to look for: the scenarios did not run", count, len(needles))
	}
	for _, table := range []string{"elders", "elder_versions", "elder_transfers", "audit_log"} {
		rows, err := w.db.Query(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				var b []byte
				switch v := v.(type) {
				case []byte:
					b = v
				case string:
					b = []byte(v)
				default:
					continue
				}
				for n := range needles {
					if bytes.Contains(b, []byte(n)) {
						t.Errorf("%s.%s holds %s in clear", table, cols[i], n)
					}
				}
			}
		}
		rows.Close()
	}
}

// Key rotation (docs/operations.md): with the old key kept for reading,
// files are still found by number; Rekey moves them all to the new key,
// after which the old key is no longer needed.
func testRekey(t *testing.T, w *world) {
	ctx := context.Background()
	id := w.id("1943-03-03", true, 1)
	e := w.create(t, w.home, w.complete("王样本", id, "13700137000", w.v1))

	newKeys, err := pii.New(bytes.Repeat([]byte{10}, pii.SecretSize), bytes.Repeat([]byte{9}, pii.SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{DB: w.db, Keys: newKeys, Now: w.clk.now}
	items, _, err := s.List(ctx, admin, w.home, Filter{IDNumber: id})
	if err != nil || len(items) != 1 {
		t.Fatalf("lookup under the old key during rotation: %v, %v", items, err)
	}
	if _, err := s.Create(ctx, admin, w.away, basic("王样本", id, w.awayVillage)); !errors.As(err, new(*DuplicateError)) {
		t.Fatalf("duplicate check during rotation: %v", err)
	}
	n, err := s.Rekey(ctx, admin)
	if err != nil || n < 15 {
		t.Fatalf("Rekey rewrote %d files, %v", n, err)
	}
	if n, err := s.Rekey(ctx, admin); err != nil || n != 0 {
		t.Fatalf("second Rekey rewrote %d files, %v", n, err)
	}
	onlyNew, err := pii.New(bytes.Repeat([]byte{10}, pii.SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	s.Keys = onlyNew
	gotID, phone, err := s.Reveal(ctx, admin, w.home, e.ID)
	if err != nil || gotID != id || phone != "13700137000" {
		t.Fatalf("Reveal after rekey: %q %q %v", gotID, phone, err)
	}
	if items, _, err := s.List(ctx, admin, w.home, Filter{Phone: "13700137000"}); err != nil || len(items) != 1 {
		t.Fatalf("phone lookup after rekey: %v, %v", items, err)
	}
	up, err := s.Update(ctx, admin, w.home, e.ID, 1, Input{Measures: ptr("已联系社工")}, "")
	if err != nil || up.Version != 2 {
		t.Fatalf("update after rekey: %v", err)
	}
}

// Annex 3's monthly amounts: yuan with at most two decimals; more than
// 100000 a month is refused as too large, however it is written.
func TestAmountChecks(t *testing.T) {
	const tooLarge = "月养老金金额过大（每月超过10万元），请核对"
	const format = "月养老金应为金额（元），最多两位小数，如1250.50；没有请填0"
	cases := []struct {
		in   string
		fen  int64
		want string // the message; empty when accepted
	}{
		{"0", 0, ""},
		{"1250.5", 125050, ""},
		{"100000", 10000000, ""},
		{"100000.00", 10000000, ""},
		{"0100000", 10000000, ""},
		{"100000.01", 0, tooLarge},
		{"100001", 0, tooLarge},
		{"12345678", 0, tooLarge},
		{"99999999999999999999999", 0, tooLarge},
		{"1e9", 0, tooLarge},
		{"1E9", 0, tooLarge},
		{"1e999", 0, tooLarge},
		{"100000.001", 0, tooLarge},
		{"1e2", 0, format},
		{"12.345", 0, format},
		{"abc", 0, format},
		{"Inf", 0, format},
		{"-10", 0, "月养老金不能为负数；没有请填0"},
	}
	for _, c := range cases {
		ck := &checker{}
		var fen *int64
		a := Amount(c.in)
		ck.amount("pension_monthly", "月养老金", &a, &fen)
		got := fieldsOf(ck.err())["pension_monthly"]
		if got != c.want {
			t.Errorf("%q: message %q, want %q", c.in, got, c.want)
		}
		if c.want == "" && (fen == nil || *fen != c.fen) {
			t.Errorf("%q: %v fen, want %d", c.in, fen, c.fen)
		}
	}
	// A JSON number too large for the format comes through as the number.
	var in Input
	if err := json.Unmarshal([]byte(`{"pension_monthly": 1e9}`), &in); err != nil {
		t.Fatal(err)
	}
	ck := &checker{}
	var fen *int64
	ck.amount("pension_monthly", "月养老金", in.PensionMonthly, &fen)
	if got := fieldsOf(ck.err())["pension_monthly"]; got != tooLarge {
		t.Errorf("JSON 1e9: %q", got)
	}
}

// Names and free text refuse control characters and bidirectional
// overrides, which hide or reorder what a page shows (issue 3 §7); only
// the multi-line field keeps its line breaks.
func TestControlCharacters(t *testing.T) {
	set := map[string]func(in *Input, v string){
		"name":                  func(in *Input, v string) { in.Name = &v },
		"first_contact.name":    func(in *Input, v string) { in.FirstContact = &FirstContactInput{Name: &v} },
		"first_contact.address": func(in *Input, v string) { in.FirstContact = &FirstContactInput{Name: ptr("王子女"), Address: &v} },
		"village_contact.name":  func(in *Input, v string) { in.VillageContact = &VillageContactInput{Name: &v} },
		"consent_signer":        func(in *Input, v string) { in.ConsentSigner = &v },
		"collector":             func(in *Input, v string) { in.Collector = &v },
		"address":               func(in *Input, v string) { in.Address = &v },
		"diseases":              func(in *Input, v string) { in.Diseases = &v },
		"decline_reason":        func(in *Input, v string) { in.DeclineReason = &v },
		"help_channels_other":   func(in *Input, v string) { in.HelpChannelsOther = &v },
		"measures":              func(in *Input, v string) { in.Measures = &v },
	}
	bad := []string{"\x00", "\t", "\r", "\x1b", "\x7f", "\u0080", "\u009b", "\u202a", "\u202e", "\u2066", "\u2069", "\u200f", "\u200b", "\ufeff"}
	for field, fn := range set {
		for _, b := range bad {
			var in Input
			fn(&in, "王"+b+"样本")
			c := &checker{today: age.Date{Year: 2026, Month: 11, Day: 15}}
			c.apply(in, &row{}, false)
			if got := fieldsOf(c.err())[field]; !strings.Contains(got, "控制字符") {
				t.Errorf("%s with %U: %q", field, []rune(b)[0], got)
			}
		}
		var in Input
		fn(&in, "王样\u200d本") // a joiner is no control character
		c := &checker{}
		c.apply(in, &row{}, false)
		if err := c.err(); err != nil {
			t.Errorf("%s with a zero-width joiner: %v", field, err)
		}
	}
	for _, c := range []struct {
		field, in, want string
	}{
		{"measures", "联系子女\r\n已送医", "联系子女\n已送医"},
		{"measures", "联系子女\n已送医", "联系子女\n已送医"},
		{"address", "新坝村\n三组", ""},
		{"name", "王\n样本", ""},
	} {
		var in Input
		set[c.field](&in, c.in)
		ck := &checker{}
		var r row
		ck.apply(in, &r, false)
		got := fieldsOf(ck.err())[c.field]
		if c.want == "" {
			if !strings.Contains(got, "控制字符") {
				t.Errorf("%s %q: %q, want a control character error", c.field, c.in, got)
			}
		} else if got != "" || r.Measures != c.want {
			t.Errorf("%s %q: stored %q (%s), want %q", c.field, c.in, r.Measures, got, c.want)
		}
	}
	// A wrong encoding's replacement character is named as such, and a
	// name starting like a spreadsheet formula is refused.
	for _, c := range []struct{ field, in, want string }{
		{"address", "新坝村\ufffd组", "乱码"},
		{"name", "=HYPERLINK(\"x\")", "不能有符号“=”"},
		{"name", "+王样本", "不能有符号“+”"},
		{"name", "@王样本", "不能有符号“@”"},
		{"name", "·王样本", "不能以“·”开头"},
		{"first_contact.name", "-王样本", "应以文字开头"},
		{"name", "蔡\"九\"", "不能有符号“\"”"},
		{"name", "王<b>样本", "不能有符号“<”"},
	} {
		var in Input
		set[c.field](&in, c.in)
		ck := &checker{}
		ck.apply(in, &row{}, false)
		if got := fieldsOf(ck.err())[c.field]; !strings.Contains(got, c.want) {
			t.Errorf("%s %q: %q, want %q", c.field, c.in, got, c.want)
		}
	}
	// Reasons of a status change or a patch are checked the same way.
	ck := &checker{today: age.Date{Year: 2026, Month: 11, Day: 15}}
	Status{Kind: StatusDeclined, Reason: "不需要\u202e探访"}.check(ck, StatusActive, "1940-01-01")
	if got := fieldsOf(ck.err())["reason"]; !strings.Contains(got, "控制字符") {
		t.Errorf("status reason: %q", got)
	}
}

// R-OBJ-3, R-REC: many files created in one pass are checked one by one
// as Create checks them: a refused input (a bad field, a number already
// held, a number given twice in the batch) is named and skipped, the
// others get their files, households, classes and versions.
func testCreateMany(t *testing.T, w *world) {
	ctx := context.Background()
	held := w.id("1944-01-01", true, 1)
	w.create(t, w.home, basic("王样本", held, w.v1))
	twice := w.id("1952-02-02", false, 2) // 74: class C now, a change due at 80
	bad := basic("张测试", w.id("1944-03-03", true, 3), w.v1)
	bad.Phone = ptr("12345")
	ins := []Input{
		basic("李示例", w.id("1944-04-04", true, 4), w.v1),
		basic("赵样本", held, w.v1),
		basic("钱样本", twice, w.v2),
		bad,
		basic("孙样本", twice, w.v2),
		basic("周样本", w.id("1944-05-05", false, 5), w.awayVillage),
	}
	ins[0].LivingSituation = ptr("alone")
	ins[2].LivingSituation = ptr("empty_nest")
	var elders []Elder
	var errs []error
	err := w.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		elders, errs, err = w.s.CreateManyTx(ctx, tx, admin, w.home, ins, "批量导入（测试）")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var dup *DuplicateError
	var ve *ValidationError
	switch {
	case errs[0] != nil || elders[0].Class != "A" || elders[0].HouseholdID != elders[0].ID:
		t.Fatalf("input 0: %v, class %q, household %d of file %d", errs[0], elders[0].Class, elders[0].HouseholdID, elders[0].ID)
	case !errors.As(errs[1], &dup) || dup.AreaMasked != w.homeMasked:
		t.Fatalf("input 1 (number held): %v", errs[1])
	case errs[2] != nil || elders[2].ID == 0:
		t.Fatalf("input 2: %v", errs[2])
	case !errors.As(errs[3], &ve) || ve.Fields[0].Field != "phone":
		t.Fatalf("input 3 (bad phone): %v", errs[3])
	case !errors.As(errs[4], &ve) || !strings.Contains(ve.Fields[0].Message, "同批第3份"):
		t.Fatalf("input 4 (number given twice): %v", errs[4])
	case !errors.As(errs[5], &ve) || ve.Fields[0].Field != "area_code":
		t.Fatalf("input 5 (outside the scope): %v", errs[5])
	}
	for _, i := range []int{0, 2} {
		vs, err := w.s.History(ctx, admin, w.home, elders[i].ID)
		if err != nil || len(vs) != 1 || vs[0].Reason != "批量导入（测试）" {
			t.Fatalf("history of input %d: %+v %v", i, vs, err)
		}
	}
	// R-CLS-4: the class written with a new file is the one recomputing
	// it gives: recomputing changes no column and adds no history.
	ids := []int64{elders[0].ID, elders[2].ID}
	before := classColumns(t, w.db, ids)
	err = w.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := classes.RecomputeMany(ctx, tx, ids, "created", w.clk.now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if after := classColumns(t, w.db, ids); after != before {
		t.Fatalf("recomputing new files changed them:\n%s\n%s", before, after)
	}
}

// classColumns renders the class columns and class history of files.
func classColumns(t *testing.T, db *store.DB, ids []int64) string {
	t.Helper()
	var b strings.Builder
	for _, id := range ids {
		vals := make([]any, len(classes.FreshColumns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		q := "SELECT " + strings.Join(classes.FreshColumns, ", ") + ", (SELECT COUNT(*) FROM class_history WHERE elder_id = ?) FROM elders WHERE id = ?"
		var n int
		if err := db.QueryRow(context.Background(), q, id, id).Scan(append(ptrs, &n)...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d: %s history=%d\n", id, fmt.Sprint(vals...), n)
	}
	return b.String()
}
