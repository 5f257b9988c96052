package plan

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"tanfang/internal/areas"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

var (
	countyScope  = areas.Scope{Code: county, Prefix: "320706"}
	villageScope = areas.Scope{Code: village, Prefix: village}
	otherScope   = areas.Scope{Code: "320703000000", Prefix: "320703"}
)

const (
	home  = schedule.ModeHome
	phone = schedule.ModePhone
	done  = schedule.OutcomeDone
)

// R-FRQ-1..3 with the injected clock: a week is pending until Sunday 24:00
// Shanghai, then met, partial or missed; the rows keep the verdict.
func TestStatusesWithClock(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "2026-11-30 08:00")
		w := week(t, "2026-W49")
		met := f.addElder(elder{class: "B", consent: true})
		part := f.addElder(elder{class: "A", consent: true})
		none := f.addElder(elder{class: "C", consent: true})
		f.ensure(w)
		f.contact(met, "2026-12-01 10:00", home, done, false)
		f.contact(met, "2026-12-02 10:00", phone, done, false)
		f.contact(part, "2026-12-01 10:00", home, done, false)
		f.contact(none, "2026-12-02 10:00", phone, schedule.OutcomeNotHome, false)
		cases := []struct {
			now  string
			id   int64
			want schedule.Status
		}{
			{"2026-12-06 23:59", met, schedule.StatusMet},
			{"2026-12-06 23:59", part, schedule.StatusPending},
			{"2026-12-06 23:59", none, schedule.StatusPending},
			{"2026-12-07 00:00", met, schedule.StatusMet},
			{"2026-12-07 00:00", part, schedule.StatusPartial},
			{"2026-12-07 00:00", none, schedule.StatusMissed},
		}
		for _, c := range cases {
			f.clock.Set(sh(t, c.now))
			if got := f.week(c.id, w); got.Status != c.want {
				t.Errorf("at %s elder %d: %s, want %s", c.now, c.id, got.Status, c.want)
			}
		}
		// Owed is what is still missing: A needs one more home visit and two calls.
		if got := f.week(part, w).Owed; got != (schedule.Requirement{Home: 1, Call: 2}) {
			t.Errorf("owed %+v", got)
		}
	})
}

// A missed week stays missed: records entered late for it count as late,
// never as on time, and the compliance figures do not move.
func TestLateRecordsNeverOnTime(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "2026-11-30 08:00")
		w := week(t, "2026-W49")
		id := f.addElder(elder{class: "B", consent: true})
		f.ensure(w)
		f.clock.Set(sh(t, "2026-12-08 09:00"))
		f.contact(id, "2026-12-03 10:00", home, done, true)
		f.contact(id, "2026-12-04 10:00", phone, done, true)
		got := f.week(id, w)
		if got.Status != schedule.StatusMissed || got.Done != (schedule.Requirement{Home: 1, Call: 1}) || got.Late != got.Done {
			t.Errorf("late-filled week: %+v", got)
		}
		c, err := f.svc.Compliance(context.Background(), countyScope, village, Period{Week: &w}, false)
		if err != nil {
			t.Fatal(err)
		}
		if c.InScope != 1 || c.Met != 0 || c.Missed != 1 {
			t.Errorf("compliance %+v", c.Figures)
		}
	})
}

// R-FRQ-5, DOMAIN §5: 中秋 2026 (25 September) raises 2026-W39 by one home
// visit for A and B and a call for C; the notes say why.
func TestFestivalWeek(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "2026-09-21 00:00")
		a := f.addElder(elder{class: "A", consent: true})
		b := f.addElder(elder{class: "B"}) // no consent: calls replace home visits
		c := f.addElder(elder{class: "C", consent: true})
		for _, w := range []schedule.Week{week(t, "2026-W39"), week(t, "2026-W40")} {
			f.ensure(w)
		}
		cases := []struct {
			id    int64
			w     string
			req   schedule.Requirement
			notes []string
		}{
			{a, "2026-W39", schedule.Requirement{Home: 3, Call: 2}, []string{"节日周（中秋）加上门1次"}},
			{b, "2026-W39", schedule.Requirement{Call: 3}, []string{"节日周（中秋）", "未同意上门探访，上门改为电话"}},
			{c, "2026-W39", schedule.Requirement{Call: 2}, []string{"节日周（中秋）加电话1次"}},
			{a, "2026-W40", schedule.Requirement{Home: 2, Call: 2}, nil},
		}
		for _, tc := range cases {
			got := f.week(tc.id, week(t, tc.w))
			if got.Required != tc.req || len(got.Notes) != len(tc.notes) {
				t.Errorf("%s elder %d: %+v %q, want %+v", tc.w, tc.id, got.Required, got.Notes, tc.req)
				continue
			}
			for i, n := range tc.notes {
				if !strings.Contains(got.Notes[i], n) {
					t.Errorf("%s elder %d: note %q lacks %q", tc.w, tc.id, got.Notes[i], n)
				}
			}
		}
	})
}

// A class change mid-week applies from the next week; an elder entering
// scope mid-week is planned from the next week too.
func TestClassChangeMidWeek(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "2026-11-30 00:05")
		w := week(t, "2026-W49")
		id := f.addElder(elder{class: "C", consent: true})
		f.ensure(w)
		f.clock.Set(sh(t, "2026-12-02 15:00"))
		f.exec("UPDATE elders SET class = 'A' WHERE id = ?", id)
		late := f.addElder(elder{class: "B", consent: true})
		f.ensure(w) // the hourly refresh
		if got := f.week(id, w); got.Class != "C" || got.Required != (schedule.Requirement{Call: 1}) {
			t.Errorf("this week: %+v", got)
		}
		if _, err := f.svc.Week(context.Background(), countyScope, late, w); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("elder entering scope mid-week planned this week: %v", err)
		}
		f.clock.Set(sh(t, "2026-12-07 00:00"))
		f.ensure(w.Next())
		if got := f.week(id, w.Next()); got.Class != "A" || got.Required != (schedule.Requirement{Home: 2, Call: 2}) {
			t.Errorf("next week: %+v", got)
		}
		if got := f.week(late, w.Next()); got.Class != "B" {
			t.Errorf("next week, new elder: %+v", got)
		}
	})
}

// Unavailable days (status with dates, unwillingness) excuse contacts, and
// the refresh follows the file's consent and status within the week.
func TestUnavailableAndConsent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "2026-11-30 00:05")
		w := week(t, "2026-W49")
		hospital := f.addElder(elder{class: "A", consent: true, status: "hospital", from: "2026-11-20", to: "2026-12-03"})
		dead := f.addElder(elder{class: "B", consent: true})
		unwilling := f.addElder(elder{class: "A", consent: true, willing: ptr(false)})
		consent := f.addElder(elder{class: "B"})
		f.ensure(w)
		f.clock.Set(sh(t, "2026-12-03 09:00"))
		f.exec("UPDATE elders SET status = 'deceased', status_from = '2026-12-02', active = 0 WHERE id = ?", dead)
		f.exec("UPDATE elders SET consent_home = 1 WHERE id = ?", consent)
		f.ensure(w)
		cases := []struct {
			id   int64
			req  schedule.Requirement
			note string
			st   schedule.Status
		}{
			{hospital, schedule.Requirement{Home: 1, Call: 1}, "本周有4天不可探访（住院）", schedule.StatusPending},
			{dead, schedule.Requirement{Home: 1, Call: 1}, "本周有5天不可探访（去世）", schedule.StatusPending},
			{unwilling, schedule.Requirement{}, "不愿接受探访", schedule.StatusNotRequired},
			{consent, schedule.Requirement{Home: 1, Call: 1}, "", schedule.StatusPending},
		}
		for _, c := range cases {
			got := f.week(c.id, w)
			if got.Required != c.req || got.Status != c.st || (c.note != "") != (len(got.Notes) > 0) ||
				(c.note != "" && !strings.Contains(strings.Join(got.Notes, "；"), c.note)) {
				t.Errorf("elder %d: %+v, want %+v %q %s", c.id, got, c.req, c.note, c.st)
			}
		}
		// Back from hospital early: the refresh restores the full requirement.
		f.exec("UPDATE elders SET status = 'active', status_from = '2026-12-01', status_to = '' WHERE id = ?", hospital)
		f.ensure(w)
		if got := f.week(hospital, w); got.Required != (schedule.Requirement{Home: 2, Call: 2}) || len(got.Notes) != 0 {
			t.Errorf("after hospital: %+v", got)
		}
	})
}

// R-FRQ-5, R-EMG-3: a campaign adds contacts or turns home visits into
// calls in the weeks it covers, for its area and classes only; a deadline
// campaign counts who was contacted in time (R-EMG-2).
func TestCampaigns(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "2026-11-30 08:00")
		w := week(t, "2026-W49")
		a := f.addElder(elder{class: "A", consent: true})
		b := f.addElder(elder{class: "B", consent: true, area: village2})
		c := f.addElder(elder{class: "C", consent: true})
		away := f.addElder(elder{class: "A", consent: true, area: elsewhere})
		f.ensure(w)

		cold, err := f.svc.CreateCampaign(ctx, countyScope, actor, CampaignInput{Name: "寒潮橙色预警", AreaCode: town,
			Classes: []string{"A", "B"}, StartsOn: "2026-12-01", EndsOn: "2026-12-02", Add: schedule.Requirement{Call: 1},
			DeadlineHours: 12, DeadlineTimes: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateCampaign(ctx, countyScope, actor, CampaignInput{Name: "流感防控", AreaCode: village,
			StartsOn: "2026-11-30", EndsOn: "2026-12-13", HomeToCall: true}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			id   int64
			req  schedule.Requirement
			note string
		}{
			{a, schedule.Requirement{Call: 5}, "流感防控：暂停上门，上门改为电话"},
			{b, schedule.Requirement{Home: 1, Call: 2}, "寒潮橙色预警：加电话1次"},
			{c, schedule.Requirement{Call: 1}, ""},
		}
		for _, tc := range cases {
			got := f.week(tc.id, w)
			if got.Required != tc.req || !strings.Contains(strings.Join(got.Notes, "；"), tc.note) {
				t.Errorf("elder %d: %+v %q, want %+v %q", tc.id, got.Required, got.Notes, tc.req, tc.note)
			}
		}
		if got := f.week(away, w); got.Required != (schedule.Requirement{Home: 2, Call: 2}) {
			t.Errorf("another county: %+v", got)
		}

		// The deadline runs 12 hours from creation (08:00 to 20:00).
		f.contact(a, "2026-11-30 09:00", phone, done, false)
		f.contact(b, "2026-11-30 21:00", phone, done, false) // too late
		f.contact(c, "2026-11-30 10:00", phone, done, false) // class C is not reached
		progress := func(now string) DeadlineFigures {
			f.clock.Set(sh(t, now))
			got, err := f.svc.Campaign(ctx, countyScope, cold.ID)
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.svc.CampaignProgress(ctx, countyScope, got)
			if err != nil {
				t.Fatal(err)
			}
			if p.Weeks == nil || p.Weeks.InScope != 3 {
				t.Errorf("raise progress %+v", p.Weeks)
			}
			return *p.Deadline
		}
		if got := progress("2026-11-30 19:00"); got != (DeadlineFigures{InScope: 2, Met: 1, Pending: 1, Rate: 0.5}) {
			t.Errorf("before due: %+v", got)
		}
		if got := progress("2026-11-30 20:00"); got != (DeadlineFigures{InScope: 2, Met: 1, Overdue: 1, Rate: 0.5}) {
			t.Errorf("after due: %+v", got)
		}
		// The village sees the county campaign, within its own area.
		vp, err := f.svc.CampaignProgress(ctx, villageScope, cold)
		if err != nil {
			t.Fatal(err)
		}
		if vp.AreaCode != village || vp.Deadline.InScope != 1 || vp.Deadline.Met != 1 {
			t.Errorf("village view %+v %+v", vp.AreaCode, vp.Deadline)
		}
		if _, err := f.svc.Campaign(ctx, otherScope, cold.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("other county sees the campaign: %v", err)
		}
		// Tasks show the deadline.
		v := f.addVisitor("王建国", "13900001111", village)
		f.pair(a, v.ID, RolePrimary)
		tl, err := f.svc.Tasks(ctx, v.ID, w)
		if err != nil {
			t.Fatal(err)
		}
		if len(tl.Items) != 1 || len(tl.Items[0].Deadlines) != 1 || tl.Items[0].Deadlines[0].Status != schedule.DeadlineMet {
			t.Errorf("tasks %+v", tl.Items)
		}
		for _, bad := range []struct {
			in    CampaignInput
			field string
		}{
			{CampaignInput{AreaCode: town, Add: schedule.Requirement{Call: 1}, StartsOn: "2026-12-01", EndsOn: "2026-12-02"}, "name"},
			{CampaignInput{Name: "x", AreaCode: town}, "add"},
			{CampaignInput{Name: "x", AreaCode: "320703000000", DeadlineHours: 2}, "area_code"},
			{CampaignInput{Name: "x", AreaCode: town, Add: schedule.Requirement{Call: 1}, StartsOn: "2026-12-03", EndsOn: "2026-12-02"}, "ends_on"},
			{CampaignInput{Name: "x", AreaCode: town, DeadlineHours: 200}, "deadline_hours"},
			{CampaignInput{Name: "x", AreaCode: town, DeadlineHours: 2, Classes: []string{"D"}}, "classes"},
		} {
			_, err := f.svc.CreateCampaign(ctx, countyScope, actor, bad.in)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != bad.field {
				t.Errorf("%+v: %v, want a field error on %s", bad.in, err, bad.field)
			}
		}
	})
}

// R-TEAM-1: re-pairing ends the previous pairing with time, actor and
// reason; the current week's tasks follow the new primary, past weeks
// keep theirs; unpaired in-scope elders are listed per area.
func TestPairingHistoryAndUnpaired(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "2026-11-23 09:00")
		a := f.addElder(elder{class: "A", consent: true, name: "张三明"})
		b := f.addElder(elder{class: "B", consent: true, area: village2})
		f.addElder(elder{class: "none"})
		f.addElder(elder{class: "A", inactive: true})
		v1 := f.addVisitor("李志强", "13900002222", village)
		v2 := f.addVisitor("赵敏", "13900003333", village)
		f.pair(a, v1.ID, RolePrimary)
		f.ensure(week(t, "2026-W48"))
		f.clock.Set(sh(t, "2026-12-01 10:00"))
		f.ensure(week(t, "2026-W49"))
		f.pair(a, v2.ID, RoleBackup)
		if _, err := f.svc.Pair(ctx, countyScope, actor, a, v2.ID, RolePrimary, "原探访人员调岗"); err != nil {
			t.Fatal(err)
		}
		hist, err := f.svc.Pairings(ctx, countyScope, a)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 3 {
			t.Fatalf("history %+v", hist)
		}
		if h := hist[0]; h.VisitorID != v1.ID || h.EndedAt == nil || h.EndReason != "原探访人员调岗" || h.EndedBy != "" {
			t.Errorf("first pairing %+v", h)
		}
		if h := hist[1]; h.Role != RoleBackup || h.EndedAt == nil || h.EndReason != "转为主要探访人员" {
			t.Errorf("backup pairing %+v", h)
		}
		if h := hist[2]; h.Role != RolePrimary || h.VisitorID != v2.ID || h.EndedAt != nil {
			t.Errorf("current pairing %+v", h)
		}
		if got := f.week(a, week(t, "2026-W48")).VisitorID; got != v1.ID {
			t.Errorf("past week moved to visitor %d", got)
		}
		if got := f.week(a, week(t, "2026-W49")).VisitorID; got != v2.ID {
			t.Errorf("current week with visitor %d", got)
		}
		// Pairing outside the scope, or with someone outside it, is refused.
		if _, err := f.svc.Pair(ctx, otherScope, actor, a, v1.ID, RolePrimary, ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("other county pairs: %v", err)
		}
		if _, err := f.svc.Pairings(ctx, otherScope, a); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("other county reads history: %v", err)
		}
		un, err := f.svc.Unpaired(ctx, countyScope, town, 100)
		if err != nil {
			t.Fatal(err)
		}
		if un.Total != 1 || len(un.Items) != 1 || un.Items[0].ID != b || un.Items[0].AreaName == "" {
			t.Errorf("unpaired %+v", un)
		}
		if un, _ := f.svc.Unpaired(ctx, countyScope, village, 100); un.Total != 0 {
			t.Errorf("unpaired in the village %+v", un)
		}
		// Deactivating a visitor ends their pairings: the elder is unpaired again.
		if _, err := f.svc.UpdateVisitor(ctx, countyScope, actor, v2.ID, VisitorPatch{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		if un, _ := f.svc.Unpaired(ctx, countyScope, village, 100); un.Total != 1 || un.Items[0].NameMasked != "张*明" {
			t.Errorf("after deactivation %+v", un)
		}
		if got := f.week(a, week(t, "2026-W49")).VisitorID; got != 0 {
			t.Errorf("deactivated visitor keeps the week: %d", got)
		}
	})
}

// R-TEAM-1: the county filing roster opens in Excel with Chinese headers,
// a frozen header row, masked names and phones.
func TestRoster(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "2026-12-01 09:00")
		a := f.addElder(elder{class: "A", consent: true, name: "张三明"})
		f.addElder(elder{class: "C", area: village2, name: "李四"})
		v := f.addVisitor("王建国", "13912345678", village)
		f.pair(a, v.ID, RolePrimary)
		var buf bytes.Buffer
		n, err := f.svc.Roster(ctx, countyScope, town, &buf)
		if err != nil || n != 2 {
			t.Fatalf("roster: %d, %v", n, err)
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.GetRows(RosterSheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || rows[0][0] != "序号" || rows[0][8] != "结对探访人员" {
			t.Fatalf("rows %q", rows)
		}
		first := rows[1]
		want := map[int]string{1: "海州区", 2: "新坝镇", 4: "张*明", 7: "A", 8: "王建国", 9: "村居干部", 12: "139****5678", 13: "2026-12-01"}
		for i, w := range want {
			if first[i] != w {
				t.Errorf("column %d (%s) = %q, want %q", i, rows[0][i], first[i], w)
			}
		}
		if rows[2][4] != "李*" || (len(rows[2]) > 8 && rows[2][8] != "") {
			t.Errorf("unpaired line %q", rows[2])
		}
		panes, err := x.GetPanes(RosterSheet)
		if err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Errorf("panes %+v %v", panes, err)
		}
		if slices.ContainsFunc(rows[1:], func(r []string) bool { return strings.Contains(strings.Join(r, ""), "13912345678") }) {
			t.Error("a phone number in clear")
		}
	})
}

// R-USR-2: visitors are validated field by field, in Chinese, and scoped.
func TestVisitors(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "2026-12-01 09:00")
		v := f.addVisitor("王建国", "139 1234 5678", village)
		if v.PhoneMasked != "139****5678" || v.KindLabel != "村居干部" || !v.Active {
			t.Errorf("visitor %+v", v)
		}
		for _, c := range []struct {
			in    VisitorInput
			field string
		}{
			{VisitorInput{Phone: "13912345679", AreaCode: village, Kind: "volunteer"}, "name"},
			{VisitorInput{Name: "甲", AreaCode: village, Kind: "volunteer"}, "phone"},
			{VisitorInput{Name: "甲", Phone: "12345", AreaCode: village, Kind: "volunteer"}, "phone"},
			{VisitorInput{Name: "甲", Phone: "13912345679", AreaCode: village, Kind: "wizard"}, "kind"},
			{VisitorInput{Name: "甲", Phone: "13912345679", AreaCode: town, Kind: "volunteer"}, "area_code"},
			{VisitorInput{Name: "甲", Phone: "13912345679", AreaCode: elsewhere, Kind: "volunteer"}, "area_code"},
		} {
			_, err := f.svc.CreateVisitor(ctx, countyScope, actor, c.in)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != c.field || fe.Message == "" {
				t.Errorf("%+v: %v, want a field error on %s", c.in, err, c.field)
			}
		}
		_, err := f.svc.CreateVisitor(ctx, countyScope, actor, VisitorInput{Name: "乙", Phone: "13912345678", AreaCode: village2, Kind: "volunteer"})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("same phone twice: %v", err)
		}
		if _, err := f.svc.Visitor(ctx, otherScope, v.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("other county reads the visitor: %v", err)
		}
		list, err := f.svc.Visitors(ctx, villageScope, "", false)
		if err != nil || len(list) != 1 {
			t.Errorf("village list %d %v", len(list), err)
		}
		got, err := f.svc.UpdateVisitor(ctx, villageScope, actor, v.ID, VisitorPatch{Title: ptr("妇女主任"), Phone: ptr("13800001111")})
		if err != nil || got.Title != "妇女主任" || got.PhoneMasked != "138****1111" {
			t.Errorf("update %+v %v", got, err)
		}
		team, err := f.svc.CreateTeam(ctx, villageScope, actor, TeamInput{AreaCode: village, Name: "新坝村探访队", MemberIDs: []int64{v.ID, v.ID}})
		if err != nil || len(team.Members) != 1 || team.Members[0].Name != "王建国" {
			t.Errorf("team %+v %v", team, err)
		}
		if _, err := f.svc.CreateTeam(ctx, countyScope, actor, TeamInput{AreaCode: town, Name: "镇队"}); err == nil {
			t.Error("a team for a town")
		}
	})
}

// R-OVS-2, DOMAIN §6: compliance by area, class, child area and visitor
// from the rollups; the monthly visit rate counts elders contacted at least
// once in the month.
func TestCompliance(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "2026-11-30 08:00")
		w := week(t, "2026-W49")
		a1 := f.addElder(elder{class: "A", consent: true})
		a2 := f.addElder(elder{class: "A", consent: true, area: village2})
		c1 := f.addElder(elder{class: "C", consent: true})
		f.addElder(elder{class: "C", consent: true, willing: ptr(false)}) // not owed anything
		v := f.addVisitor("王建国", "13900001111", village)
		f.pair(a1, v.ID, RolePrimary)
		f.pair(c1, v.ID, RolePrimary)
		f.ensure(w)
		for _, at := range []string{"2026-11-30 09:00", "2026-12-01 09:00"} {
			f.contact(a1, at, home, done, false)
			f.contact(a1, at, phone, done, false)
		}
		f.contact(c1, "2026-12-02 09:00", phone, done, false)
		f.contact(a2, "2026-12-02 09:00", phone, done, false)
		f.clock.Set(sh(t, "2026-12-08 09:00"))

		c, err := f.svc.Compliance(ctx, countyScope, town, Period{Week: &w}, true)
		if err != nil {
			t.Fatal(err)
		}
		if c.InScope != 3 || c.Met != 2 || c.Rate != 0.6667 || c.Partial != 1 || c.Missed != 0 {
			t.Errorf("town %+v partial %d missed %d", c.Figures, c.Partial, c.Missed)
		}
		if c.ByClass["A"] != (Figures{2, 1, 0.5}) || c.ByClass["C"] != (Figures{1, 1, 1}) || c.ByClass["B"] != (Figures{}) {
			t.Errorf("by class %+v", c.ByClass)
		}
		kids := map[string]Figures{}
		for _, k := range c.Children {
			kids[k.AreaCode] = k.Figures
		}
		if kids[village] != (Figures{2, 2, 1}) || kids[village2] != (Figures{1, 0, 0}) {
			t.Errorf("children %+v", kids)
		}
		m := schedule.Month{Year: 2026, Month: 12}
		mc, err := f.svc.Compliance(ctx, countyScope, county, Period{Month: &m}, false)
		if err != nil {
			t.Fatal(err)
		}
		// December's weeks W49..W53: W49 is over, W50 (the current week) is
		// drawn up by this read and still running, the others are not drawn up.
		if mc.InScope != 6 || mc.Met != 2 || mc.Pending != 3 || mc.Partial != 1 || mc.Weeks[0] != "2026-W49" || len(mc.Weeks) != 5 ||
			mc.MonthlyVisitRate == nil || *mc.MonthlyVisitRate != 1 || mc.Monthly.InScope != 3 {
			t.Errorf("month %+v monthly %+v", mc, mc.Monthly)
		}
		nov := schedule.Month{Year: 2026, Month: 11}
		nc, err := f.svc.Compliance(ctx, countyScope, county, Period{Month: &nov}, false)
		if err != nil {
			t.Fatal(err)
		}
		// Only a1 was contacted in November (Monday 30th).
		if nc.Monthly.InScope != 3 || nc.Monthly.Contacted != 1 {
			t.Errorf("november %+v", nc.Monthly)
		}
		vc, err := f.svc.VisitorCompliance(ctx, v.ID, Period{Week: &w})
		if err != nil {
			t.Fatal(err)
		}
		if vc.InScope != 2 || vc.Met != 2 || vc.Rate != 1 {
			t.Errorf("visitor %+v", vc.Figures)
		}
		if _, err := f.svc.Compliance(ctx, otherScope, town, Period{Week: &w}, false); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("other county reads the town: %v", err)
		}
	})
}

// Tasks: a visitor's elders with what is owed, class A first, overdue in
// front within a class; the current week is drawn up on first read.
func TestTasks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "2026-12-03 10:00")
		a := f.addElder(elder{class: "A", name: "张三明"})
		b := f.addElder(elder{class: "B", consent: true, hfc: true})
		c := f.addElder(elder{class: "C", consent: true})
		v := f.addVisitor("王建国", "13900001111", village)
		for _, id := range []int64{c, b, a} {
			f.pair(id, v.ID, RolePrimary)
		}
		w := week(t, "2026-W49")
		f.contact(b, "2026-12-01 09:00", home, done, false)
		f.contact(b, "2026-12-02 09:00", home, done, false) // stands in for the call
		tl, err := f.svc.Tasks(ctx, v.ID, w)
		if err != nil {
			t.Fatal(err)
		}
		if tl.Week != w || len(tl.Items) != 3 {
			t.Fatalf("tasks %+v", tl)
		}
		ta, tb, tc := tl.Items[0], tl.Items[1], tl.Items[2]
		if ta.ElderID != a || ta.NameMasked != "张*明" || ta.Required != (schedule.Requirement{Call: 4}) || !strings.HasPrefix(ta.AreaName, "新坝村") ||
			len(ta.Notes) != 1 || ta.Notes[0] != "未同意上门探访，上门改为电话" || ta.Status != schedule.StatusPending {
			t.Errorf("A task %+v", ta)
		}
		if tb.ElderID != b || tb.Status != schedule.StatusMet || tb.HomeAsCall != 1 || tb.Done != (schedule.Requirement{Home: 2}) {
			t.Errorf("B task %+v", tb)
		}
		if tc.ElderID != c || tc.Owed != (schedule.Requirement{Call: 1}) {
			t.Errorf("C task %+v", tc)
		}
		// Next Monday, last week's unmet elders are overdue.
		f.clock.Set(sh(t, "2026-12-07 08:00"))
		tl, _ = f.svc.Tasks(ctx, v.ID, w)
		if !tl.Items[0].Overdue || tl.Items[0].Status != schedule.StatusMissed || tl.Items[1].Overdue {
			t.Errorf("last week %+v", tl.Items)
		}
	})
}
