package visits_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"tanfang/internal/outbox"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
	"tanfang/internal/visits"
)

func fieldOf(err error) string {
	var ve *visits.ValidationError
	if errors.As(err, &ve) {
		return ve.First().Field
	}
	return ""
}

// The same submission, retried and duplicated at once, makes one record
// and moves the plan's rollups once (DESIGN "Nothing lost").
func TestRecordOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.addElder("1940-05-01")
		// A deadline campaign counts every record, not every day, so a
		// second application of the same visit would show in it.
		if _, err := db.Exec(ctx, `INSERT INTO campaigns (name, area_code, area_prefix, deadline_from, deadline_due, deadline_times, created_at)
			VALUES ('寒潮', ?, '320706102', ?, ?, 1, ?)`, town, store.FormatTime(f.clock.Now().Add(-48*time.Hour)),
			store.FormatTime(f.clock.Now().Add(48*time.Hour)), store.FormatTime(f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		in := f.visit(id)
		first, created, err := f.svc.Record(ctx, f.visitor, in, nil)
		if err != nil || !created {
			t.Fatalf("first: %v created=%v", err, created)
		}
		for range 4 {
			v, created, err := f.svc.Record(ctx, f.visitor, in, nil)
			if err != nil || created || v.ID != first.ID {
				t.Fatalf("retry: %v created=%v id %d want %d", err, created, v.ID, first.ID)
			}
		}
		var wg sync.WaitGroup
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, created, err := f.svc.Record(ctx, f.visitor, in, nil)
				if err != nil || created || v.ID != first.ID {
					t.Errorf("concurrent: %v created=%v id %d", err, created, v.ID)
				}
			}()
		}
		wg.Wait()
		if n := f.count(`SELECT COUNT(*) FROM visits`); n != 1 {
			t.Fatalf("%d visits", n)
		}
		if n := f.count(`SELECT contacts FROM campaign_contacts WHERE elder_id = ?`, id); n != 1 {
			t.Fatalf("campaign counted %d contacts, want 1", n)
		}
		if n := f.count(`SELECT done_home FROM plan_weeks WHERE week = '2026-W49' AND elder_id = ?`, id); n != 1 {
			t.Fatalf("week done_home %d", n)
		}
		// A different visit is counted: the check above can fail.
		f.record(f.visitor, f.visit(id))
		if n := f.count(`SELECT contacts FROM campaign_contacts WHERE elder_id = ?`, id); n != 2 {
			t.Fatalf("campaign counted %d contacts after a second visit, want 2", n)
		}
		// The same client_id from another account is not a retry.
		if _, _, err := f.svc.Record(ctx, f.village, in, nil); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("reused client_id by another account: %v", err)
		}
	})
}

// R-VST-6: a record entered more than 48 hours after the visit needs a
// reason and counts late; time spent queued on the phone does not count.
func lateRule(t *testing.T, f *fixture) {
	ctx := context.Background()
	id := f.addElder("1940-05-01")
	in := f.visit(id)
	start := f.clock.Now().Add(-48*time.Hour - time.Minute)
	in.StartedAt, in.EndedAt = start.Format(time.RFC3339), start.Add(30*time.Minute).Format(time.RFC3339)
	if _, _, err := f.svc.Record(ctx, f.visitor, in, nil); fieldOf(err) != "late_reason" {
		t.Fatalf("late without reason: %v", err)
	}
	in.LateReason = "手机故障，补录"
	if v := f.record(f.visitor, in); !v.Late {
		t.Fatal("not marked late")
	}
	// Saved on the phone an hour after the visit, sent two days later.
	q := f.visit(id)
	q.StartedAt, q.EndedAt = start.Format(time.RFC3339), start.Add(30*time.Minute).Format(time.RFC3339)
	q.RecordedAt = start.Add(time.Hour).Format(time.RFC3339)
	if v := f.record(f.visitor, q); v.Late || !v.RecordedAt.Equal(start.Add(time.Hour)) {
		t.Fatalf("queued record: late=%v recorded %v", v.Late, v.RecordedAt)
	}
	// Just inside the limit.
	r := f.visit(id)
	s2 := f.clock.Now().Add(-47 * time.Hour)
	r.StartedAt, r.EndedAt = s2.Format(time.RFC3339), s2.Add(time.Hour).Format(time.RFC3339)
	if v := f.record(f.visitor, r); v.Late {
		t.Fatal("47 hours counted late")
	}
}

func TestPhotoType(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10}, "image/jpeg"},
		{"png", png, "image/png"},
		{"webp", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), "image/webp"},
		{"html named .jpg", []byte("<html><script>alert(1)</script>"), ""},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), ""},
		{"pdf", []byte("%PDF-1.7"), ""},
		{"empty", nil, ""},
		{"too big", append([]byte{0xFF, 0xD8, 0xFF}, make([]byte, visits.MaxPhotoBytes)...), ""},
	} {
		got, err := visits.PhotoType(tc.data)
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("%s: %q %v, want %q", tc.name, got, err, tc.want)
		}
	}
}

func photoStored(t *testing.T, f *fixture) {
	ctx := context.Background()
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...)
	id := f.addElder("1940-05-01")
	if _, _, err := f.svc.Record(ctx, f.visitor, f.visit(id), []byte("GIF89a")); fieldOf(err) != "photo" {
		t.Fatalf("gif accepted: %v", err)
	}
	if n := f.count(`SELECT COUNT(*) FROM visits WHERE elder_id = ?`, id); n != 0 {
		t.Fatalf("a refused photo left %d visits", n)
	}
	v, _, err := f.svc.Record(ctx, f.visitor, f.visit(id), png)
	if err != nil || !v.HasPhoto {
		t.Fatalf("%v has_photo=%v", err, v.HasPhoto)
	}
	ct, data, err := f.svc.Photo(ctx, f.village.Scope, v.ID)
	if err != nil || ct != "image/png" || !bytes.Equal(data, png) {
		t.Fatalf("photo back: %q %d bytes %v", ct, len(data), err)
	}
	if _, _, err := f.svc.Photo(ctx, f.county.Scope, v.ID); err != nil {
		t.Fatalf("county cannot see: %v", err)
	}
}

func validation(t *testing.T, f *fixture) {
	ctx := context.Background()
	id := f.addElder("1940-05-01")
	for _, tc := range []struct {
		name  string
		edit  func(*visits.Input)
		field string
	}{
		{"bad uuid", func(in *visits.Input) { in.ClientID = "123" }, "client_id"},
		{"bad mode", func(in *visits.Input) { in.Mode = "letter" }, "mode"},
		{"ends before start", func(in *visits.Input) { in.EndedAt = f.clock.Now().Add(-2 * time.Hour).Format(time.RFC3339) }, "ended_at"},
		{"future", func(in *visits.Input) {
			in.StartedAt = f.clock.Now().Add(time.Hour).Format(time.RFC3339)
			in.EndedAt = f.clock.Now().Add(2 * time.Hour).Format(time.RFC3339)
		}, "started_at"},
		{"gas missing on a home visit", func(in *visits.Input) { in.Findings.Gas = "" }, "findings.gas"},
		{"rating on an empty visit", func(in *visits.Input) { in.Outcome = "not_home" }, "findings.expression"},
		{"unknown rating", func(in *visits.Input) { in.Findings.Mental = "bad" }, "findings.mental"},
		{"phone number in text", func(in *visits.Input) { in.Problems = "联系13912345678" }, "problems"},
		{"bad location", func(in *visits.Input) { in.Location = &visits.Location{Lat: 91, Lng: 119} }, "location"},
	} {
		in := f.visit(id)
		tc.edit(&in)
		if _, _, err := f.svc.Record(ctx, f.visitor, in, nil); fieldOf(err) != tc.field {
			t.Errorf("%s: %v, want field %s", tc.name, err, tc.field)
		}
	}
	// A phone call need not rate the house; an empty visit (空访) is
	// recorded but is not a home visit.
	call := f.visit(id)
	call.Mode, call.Findings.House, call.Findings.Gas, call.Findings.WaterHeating, call.Findings.Electricity, call.Findings.Hygiene = "phone", "", "", "", "", ""
	f.record(f.visitor, call)
	empty := f.visit(id)
	empty.Outcome, empty.Findings = "not_home", visits.Findings{}
	if v := f.record(f.visitor, empty); v.CountsAsHome {
		t.Error("空访 counts as a home visit")
	}
	if n := f.count(`SELECT done_home FROM plan_weeks WHERE elder_id = ?`, id); n != 0 {
		t.Errorf("空访 moved done_home to %d", n)
	}
	// Nobody is visited before being born (a typo in the year, or in the
	// ID number); the day of birth itself is possible.
	baby := f.addElder("2026-06-01")
	for start, want := range map[string]string{"2026-05-31T23:00:00+08:00": "started_at", "2026-06-01T09:00:00+08:00": ""} {
		b := f.visit(baby)
		t0, _ := time.Parse(time.RFC3339, start)
		b.StartedAt, b.EndedAt, b.LateReason = start, t0.Add(time.Hour).Format(time.RFC3339), "补录"
		_, _, err := f.svc.Record(ctx, f.visitor, b, nil)
		if fieldOf(err) != want || (want != "" && !strings.Contains(err.Error(), "出生日期2026-06-01")) {
			t.Errorf("visit at %s of an elder born 2026-06-01: %v", start, err)
		}
	}
	// Elsewhere does not exist; county staff do not record visits.
	lianyun := f.visit(id)
	if _, _, err := f.svc.Record(ctx, f.county, lianyun, nil); !errors.Is(err, visits.ErrForbidden) {
		t.Errorf("county records: %v", err)
	}
}

// A gas hazard opens an urgent safety follow-up owned by the village; it
// goes through its whole life and a return visit verifies it (R-VST-2,
// R-EMG-4).
func TestSafetyFollowupLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.addElder("1940-05-01")
		in := f.visit(id)
		in.Findings.Gas = "unsafe"
		v := f.record(f.visitor, in)
		items, err := f.svc.Followups(ctx, f.village.Scope, visits.Filter{ElderID: id})
		if err != nil || len(items) != 1 {
			t.Fatalf("follow-ups %+v %v", items, err)
		}
		it := items[0]
		if it.Kind != visits.KindSafety || it.Severity != visits.SevUrgent || it.Status != visits.StatusOpen || it.Level != visits.LevelVillage ||
			!it.DueAt.Equal(f.clock.Now().Add(24*time.Hour)) || *it.VisitID != v.ID {
			t.Fatalf("item %+v", it)
		}
		// The village and (urgent) the town are told.
		if n := f.count(`SELECT COUNT(*) FROM outbox WHERE kind = 'followup.opened' AND channel = 'inbox' AND area_code IN (?, ?)`, village, town); n != 2 {
			t.Errorf("%d notifications of the new item", n)
		}
		// The same hazard seen again adds to the item, not a second item.
		again := f.visit(id)
		again.Findings.Gas = "unsafe"
		f.record(f.visitor, again)
		if n := f.count(`SELECT COUNT(*) FROM followups WHERE elder_id = ?`, id); n != 1 {
			t.Fatalf("%d items after the second finding", n)
		}

		move := func(a visits.Actor, m visits.Move) (visits.Followup, error) {
			return f.svc.MoveFollowup(ctx, a, it.ID, m)
		}
		if _, err := move(f.visitor, visits.Move{Status: visits.StatusInProgress, Reason: "已告知"}); !errors.Is(err, visits.ErrForbidden) {
			t.Fatalf("visitor moved an item: %v", err)
		}
		if _, err := move(f.village, visits.Move{Status: visits.StatusVerified, Reason: "x", VisitID: v.ID}); fieldOf(err) != "status" {
			t.Fatalf("open → verified: %v", err)
		}
		if _, err := move(f.village, visits.Move{Status: visits.StatusInProgress}); fieldOf(err) != "reason" {
			t.Fatalf("no reason: %v", err)
		}
		it, err = move(f.village, visits.Move{Status: visits.StatusInProgress, Reason: "已告知家属关闭总阀", Version: it.Version})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := move(f.village, visits.Move{Status: visits.StatusReferred, Reason: "r", Version: it.Version - 1, ReferType: visits.ReferTown}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale version: %v", err)
		}
		p, err := f.svc.AddProvider(ctx, f.town, visits.ProviderInput{Name: "新坝镇适老化改造服务队", Services: []string{"adaptation"}})
		if err != nil {
			t.Fatal(err)
		}
		if ps, _ := f.svc.Providers(ctx, village, "adaptation"); len(ps) != 1 || ps[0].ID != p.ID {
			t.Fatalf("directory %+v", ps)
		}
		it, err = move(f.village, visits.Move{Status: visits.StatusReferred, Reason: "更换燃气软管", ReferType: visits.ReferProvider, ProviderID: p.ID})
		if err != nil || it.ReferredTo != p.Name {
			t.Fatalf("referred: %+v %v", it, err)
		}
		f.clock.Advance(3 * time.Hour)
		if it, err = move(f.town, visits.Move{Status: visits.StatusResolved, Reason: "软管已更换"}); err != nil || it.ResolvedAt == nil {
			t.Fatalf("resolved: %+v %v", it, err)
		}
		// A visit from before the fix cannot verify it.
		if _, err := move(f.village, visits.Move{Status: visits.StatusVerified, Reason: "回访", VisitID: v.ID}); fieldOf(err) != "visit_id" {
			t.Fatalf("verified by an old visit: %v", err)
		}
		// A visit made before the fix, recorded late, verifies nothing.
		early := f.visit(id)
		early.StartedAt, early.EndedAt = f.clock.Now().Add(-2*time.Hour).Format(time.RFC3339), f.clock.Now().Add(-90*time.Minute).Format(time.RFC3339)
		f.record(f.visitor, early)
		if got, _, _ := f.svc.Followup(ctx, f.village.Scope, it.ID); got.Status != visits.StatusResolved {
			t.Fatalf("verified by a visit before the fix: %s", got.Status)
		}
		// The return visit finds the gas safe: verified by it.
		f.clock.Advance(24 * time.Hour)
		back := f.record(f.visitor, f.visit(id))
		got, events, err := f.svc.Followup(ctx, f.village.Scope, it.ID)
		if err != nil || got.Status != visits.StatusVerified || got.VerifyVisitID == nil || *got.VerifyVisitID != back.ID {
			t.Fatalf("after the return visit: %+v %v", got, err)
		}
		var steps []string
		for _, e := range events {
			steps = append(steps, e.Action+":"+e.To+":"+e.Actor)
			if e.Reason == "" {
				t.Errorf("event %+v has no reason", e)
			}
		}
		want := "created:open:visitor1 seen_again:open:visitor1 moved:in_progress:xinbacun moved:referred:xinbacun moved:resolved:xinba verified:verified:visitor1"
		if strings.Join(steps, " ") != want {
			t.Errorf("history\n got %s\nwant %s", strings.Join(steps, " "), want)
		}
		// Outside the village's tree it does not exist.
		other := f.county
		other.Scope.Prefix = "320703"
		if _, _, err := f.svc.Followup(ctx, other.Scope, it.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("seen elsewhere: %v", err)
		}
	})
}

// A resolved item whose problem the return visit still finds is reopened;
// text findings are verified by a person naming the return visit.
func reopenAndManualVerify(t *testing.T, f *fixture) {
	ctx := context.Background()
	id := f.addElder("1940-05-01")
	in := f.visit(id)
	in.Findings.Illness, in.Findings.IllnessKind = "worse", "高血压"
	in.ServiceNeeds, in.Needs = []string{"meal"}, "希望有人送饭"
	f.record(f.visitor, in)
	items, _ := f.svc.Followups(ctx, f.village.Scope, visits.Filter{ElderID: id})
	if len(items) != 2 {
		t.Fatalf("%d items", len(items))
	}
	var health, need visits.Followup
	for _, it := range items {
		switch it.Kind {
		case visits.KindHealth:
			health = it
		case visits.KindServiceNeed:
			need = it
		}
	}
	if health.Severity != visits.SevHigh || !strings.Contains(health.Summary, "高血压") || need.Severity != visits.SevLow {
		t.Fatalf("items %+v", items)
	}
	for _, it := range items {
		if _, err := f.svc.MoveFollowup(ctx, f.village, it.ID, visits.Move{Status: visits.StatusResolved, Reason: "已处理"}); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Advance(time.Hour)
	still := f.visit(id)
	still.Findings.Illness = "worse"
	v := f.record(f.visitor, still)
	h, _, _ := f.svc.Followup(ctx, f.village.Scope, health.ID)
	n, _, _ := f.svc.Followup(ctx, f.village.Scope, need.ID)
	if h.Status != visits.StatusInProgress || h.ResolvedAt != nil {
		t.Errorf("health not reopened: %+v", h)
	}
	if n.Status != visits.StatusResolved {
		t.Errorf("need changed by a visit: %s", n.Status)
	}
	n, err := f.svc.MoveFollowup(ctx, f.village, need.ID, visits.Move{Status: visits.StatusVerified, Reason: "已开始助餐", VisitID: v.ID})
	if err != nil || n.Status != visits.StatusVerified {
		t.Fatalf("manual verify: %+v %v", n, err)
	}
}

// Overdue items go to the town when due passes, and to the county seven
// days later (defaults), each told through the outbox.
func TestEscalation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.addElder("1940-05-01")
		in := f.visit(id)
		in.Findings.House = "unsafe" // high: due in 3 days
		f.record(f.visitor, in)
		items, _ := f.svc.Followups(ctx, f.village.Scope, visits.Filter{ElderID: id})
		it := items[0]
		escalate := func() int {
			n, err := f.svc.Escalate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		level := func() string {
			got, _, _ := f.svc.Followup(ctx, f.county.Scope, it.ID)
			return got.Level
		}
		f.clock.Advance(3*24*time.Hour - time.Second)
		if escalate() != 0 || level() != visits.LevelVillage {
			t.Fatal("escalated before due")
		}
		f.clock.Advance(2 * time.Second)
		if escalate() != 1 || level() != visits.LevelTown {
			t.Fatal("not escalated to the town once overdue")
		}
		if escalate() != 0 {
			t.Fatal("escalated twice")
		}
		if n := f.count(`SELECT COUNT(*) FROM outbox WHERE kind = 'followup.escalated' AND area_code = ? AND role = 'town'`, town); n != 1 {
			t.Fatalf("%d town notifications", n)
		}
		if got, _ := f.svc.Followups(ctx, f.town.Scope, visits.Filter{Status: "overdue", Level: visits.LevelTown}); len(got) != 1 || !got[0].Overdue {
			t.Fatalf("town's overdue list %+v", got)
		}
		f.clock.Advance(7*24*time.Hour - 2*time.Second)
		if escalate() != 0 {
			t.Fatal("escalated to the county early")
		}
		f.clock.Advance(2 * time.Second)
		if escalate() != 1 || level() != visits.LevelCounty {
			t.Fatal("not escalated to the county")
		}
		if n := f.count(`SELECT COUNT(*) FROM outbox WHERE kind = 'followup.escalated' AND area_code = ? AND role = 'county'`, county); n != 1 {
			t.Fatalf("%d county notifications", n)
		}
		// A resolved item stops climbing; settings change the delays.
		if err := f.svc.SetRules(ctx, f.village, visits.DefaultRules()); !errors.Is(err, visits.ErrForbidden) {
			t.Fatalf("village changed the settings: %v", err)
		}
	})
}

// R-EMG-1: an emergency reaches the first contact, the village and the
// town at once, stays open until staff close it, and keeps its handling.
func TestEmergency(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.addElder("1940-05-01")
		in := visits.EmergencyInput{ClientID: "6f1c1c1e-8f3a-4d0e-9a57-2f1e5b7d9c01", ElderID: id, What: "fall", Called: []string{"120", "family"}, Actions: "已扶至床上等待急救"}
		m, created, err := f.svc.RaiseEmergency(ctx, f.visitor, in)
		if err != nil || !created || m.Status != visits.EmergencyOpen || m.ElderMasked != "王*试" {
			t.Fatalf("raise: %+v %v", m, err)
		}
		if again, created, err := f.svc.RaiseEmergency(ctx, f.visitor, in); err != nil || created || again.ID != m.ID {
			t.Fatalf("retry: %+v %v", again, err)
		}
		rows, err := outbox.RowsFor(ctx, db, "emergency", m.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, r := range rows {
			got[r.Channel+":"+r.AreaCode+":"+r.Role+":"+r.ToMasked] = true
			if strings.Contains(r.Subject, "王测试") {
				t.Errorf("clear name in %q", r.Subject)
			}
		}
		for _, want := range []string{"inbox:" + village + ":village:", "inbox:" + town + ":town:", "sms:" + village + "::139****2222"} {
			if !got[want] {
				t.Errorf("no notification %s in %v", want, got)
			}
		}
		if open, _ := f.svc.Emergencies(ctx, f.town.Scope, true, 10); len(open) != 1 {
			t.Fatalf("town sees %d open", len(open))
		}
		if _, err := f.svc.NoteEmergency(ctx, f.visitor, m.ID, "120已到达", false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.NoteEmergency(ctx, f.visitor, m.ID, "已送医", true); !errors.Is(err, visits.ErrForbidden) {
			t.Fatalf("visitor closed: %v", err)
		}
		m, err = f.svc.NoteEmergency(ctx, f.village, m.ID, "已送县人民医院，子女已到场", true)
		if err != nil || m.Status != visits.EmergencyClosed || m.Handling == "" || len(m.Notes) != 3 {
			t.Fatalf("closed: %+v %v", m, err)
		}
		if open, _ := f.svc.Emergencies(ctx, f.village.Scope, true, 10); len(open) != 0 {
			t.Fatal("closed emergency still open")
		}
		if all, _ := f.svc.Emergencies(ctx, f.village.Scope, false, 10); len(all) != 1 {
			t.Fatal("not archived")
		}
	})
}

// R-VST-3: a poor supporter, or no family contact for the configured days,
// reminds the first contact, at most once a week.
func familyReminders(t *testing.T, f *fixture) {
	ctx := context.Background()
	a := f.addElder("1940-05-01")
	b := f.addElder("1941-05-01")
	in := f.visit(a)
	in.Findings.Supporter = "poor"
	f.record(f.visitor, in)
	if n := f.count(`SELECT COUNT(*) FROM outbox WHERE kind = 'family.reminder' AND channel = 'sms'`); n != 1 {
		t.Fatalf("%d SMS reminders", n)
	}
	if n := f.count(`SELECT COUNT(*) FROM followups WHERE elder_id = ? AND kind = 'family_duty'`, a); n != 1 {
		t.Fatalf("%d family-duty items", n)
	}
	f.record(f.visitor, in2(f, a))
	if n := f.count(`SELECT COUNT(*) FROM family_reminders WHERE elder_id = ?`, a); n != 1 {
		t.Fatalf("reminded again within a week: %d", n)
	}
	// b: visited, the family's last call recorded on the visit day.
	vb := f.visit(b)
	vb.FamilyContactOn = "2026-12-03"
	f.record(f.visitor, vb)
	noContact := func(id int64) int {
		return f.count(`SELECT COUNT(*) FROM family_reminders WHERE elder_id = ? AND reason = 'no_family_contact'`, id)
	}
	f.clock.Advance(29 * 24 * time.Hour)
	if _, err := f.svc.RemindFamilies(ctx); err != nil || noContact(a)+noContact(b) != 0 {
		t.Fatalf("early reminders: %d %d %v", noContact(a), noContact(b), err)
	}
	f.clock.Advance(2 * 24 * time.Hour)
	if n, err := f.svc.RemindFamilies(ctx); err != nil || n < 2 || noContact(a) != 1 || noContact(b) != 1 {
		t.Fatalf("reminders after 31 days: %d (a %d, b %d) %v", n, noContact(a), noContact(b), err)
	}
	if _, err := f.svc.RemindFamilies(ctx); err != nil || noContact(a) != 1 || noContact(b) != 1 {
		t.Fatalf("reminded twice: %v", err)
	}
}

// in2 is the poor-supporter visit again, an hour later.
func in2(f *fixture, id int64) visits.Input {
	f.clock.Advance(time.Hour)
	in := f.visit(id)
	in.Findings.Supporter = "poor"
	return in
}

// Edits carry the version read; a stale one gets the stored version back.
func editConflict(t *testing.T, f *fixture) {
	ctx := context.Background()
	id := f.addElder("1940-05-01")
	v := f.record(f.visitor, f.visit(id))
	e := visits.EditInput{Version: v.Version, Reason: "补充", Education: ptr("提醒关好门窗")}
	got, err := f.svc.Edit(ctx, f.visitor, v.ID, e)
	if err != nil || got.Version != 2 || got.Education != "提醒关好门窗" {
		t.Fatalf("edit: %+v %v", got, err)
	}
	e.Findings = &visits.FindingsPatch{Electricity: ptr("unsafe")}
	var vc *visits.VisitConflict
	if _, err := f.svc.Edit(ctx, f.village, v.ID, e); !errors.As(err, &vc) || vc.Current.Version != 2 || vc.Current.Education != "提醒关好门窗" {
		t.Fatalf("stale edit: %v", err)
	}
	e.Version = 2
	if _, err := f.svc.Edit(ctx, f.village, v.ID, e); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT COUNT(*) FROM followups WHERE elder_id = ? AND source = 'electricity'`, id); n != 1 {
		t.Fatalf("an edited hazard opened %d items", n)
	}
	if n := f.count(`SELECT COUNT(*) FROM visit_versions WHERE visit_id = ?`, v.ID); n != 2 {
		t.Fatalf("%d versions kept", n)
	}
}

func ptr[T any](v T) *T { return &v }

// An edit is a PATCH: what it leaves out stays as recorded, and its errors
// name the field at fault.
func editPatch(t *testing.T, f *fixture) {
	ctx := context.Background()
	id := f.addElder("1940-05-01")
	in := f.visit(id)
	in.Needs, in.Problems, in.FamilyContactOn, in.ServiceNeeds = "想要助餐", "门锁坏了", "2026-11-20", []string{"meal"}
	in.Findings.IllnessKind = "高血压"
	v := f.record(f.visitor, in)

	got, err := f.svc.Edit(ctx, f.visitor, v.ID, visits.EditInput{Version: 1, Reason: "补充宣教", Education: ptr("提醒关好门窗")})
	if err != nil || got.Version != 2 || got.Education != "提醒关好门窗" {
		t.Fatalf("edit one text: %+v %v", got, err)
	}
	if got.Findings != v.Findings || got.Needs != "想要助餐" || got.Problems != "门锁坏了" || got.FamilyContactOn != "2026-11-20" ||
		len(got.ServiceNeeds) != 1 || got.ServiceNeeds[0] != "meal" {
		t.Fatalf("fields left out changed: %+v", got)
	}
	// One rating changes, the others and the illness kind stay.
	got, err = f.svc.Edit(ctx, f.village, v.ID, visits.EditInput{Version: 2, Reason: "核实", Findings: &visits.FindingsPatch{Gas: ptr("unsafe")},
		ServiceNeeds: &[]string{}})
	want := v.Findings
	want.Gas = "unsafe"
	if err != nil || got.Version != 3 || got.Findings != want || len(got.ServiceNeeds) != 0 || got.Needs != "想要助餐" {
		t.Fatalf("edit one rating: %+v %v", got, err)
	}
	if n := f.count(`SELECT COUNT(*) FROM followups WHERE elder_id = ? AND source = 'gas'`, id); n != 1 {
		t.Fatalf("an edited gas hazard opened %d items", n)
	}
	for _, c := range []struct {
		name  string
		e     visits.EditInput
		field string
	}{
		{"too long", visits.EditInput{Version: 3, Reason: "补充", Needs: ptr(strings.Repeat("需", 501))}, "needs"},
		{"no version", visits.EditInput{Reason: "补充", Needs: ptr("助浴")}, "version"},
		{"no reason", visits.EditInput{Version: 3, Needs: ptr("助浴")}, "reason"},
		{"blank reason", visits.EditInput{Version: 3, Reason: "  ", Needs: ptr("助浴")}, "reason"},
		{"rating cleared", visits.EditInput{Version: 3, Reason: "补充", Findings: &visits.FindingsPatch{House: ptr("")}}, "findings.house"},
		{"bad rating", visits.EditInput{Version: 3, Reason: "补充", Findings: &visits.FindingsPatch{Mental: ptr("bad")}}, "findings.mental"},
		{"contact after the visit", visits.EditInput{Version: 3, Reason: "补充", FamilyContactOn: ptr("2026-12-31")}, "family_contact_on"},
		{"unknown kind", visits.EditInput{Version: 3, Reason: "补充", ProblemsKind: ptr("weather")}, "problems_kind"},
	} {
		_, err := f.svc.Edit(ctx, f.village, v.ID, c.e)
		var ve *visits.ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.First().Field != c.field {
			t.Errorf("%s: %v, want one error on %s", c.name, err, c.field)
		}
	}
	// An empty visit takes no ratings, though an edit may leave them out.
	empty := f.visit(id)
	empty.Outcome, empty.Findings = "not_home", visits.Findings{}
	ev := f.record(f.visitor, empty)
	if _, err := f.svc.Edit(ctx, f.visitor, ev.ID, visits.EditInput{Version: 1, Reason: "补充", Needs: ptr("助浴")}); err != nil {
		t.Fatalf("text on an empty visit: %v", err)
	}
	if _, err := f.svc.Edit(ctx, f.visitor, ev.ID, visits.EditInput{Version: 2, Reason: "补充", Findings: &visits.FindingsPatch{Gas: ptr("safe")}}); fieldOf(err) != "findings.gas" {
		t.Fatalf("rating on an empty visit: %v", err)
	}
}

// R-VST-4: the village's list of elders who may qualify for a benefit.
func TestBenefitList(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		old := f.addElder("1938-01-01")
		f.addElder("1960-01-01") // 66, fine once a pension is recorded
		if _, err := db.Exec(ctx, `UPDATE elders SET pension_fen = 15000 WHERE id <> ?`, old); err != nil {
			t.Fatal(err)
		}
		rows, err := f.svc.BenefitList(ctx, f.village.Scope, "")
		if err != nil || len(rows) != 1 || rows[0].ElderID != old || rows[0].Age != 88 {
			t.Fatalf("%+v %v", rows, err)
		}
		codes := map[string]bool{}
		for _, fl := range rows[0].Flags {
			codes[fl.Code] = true
		}
		if !codes["old_age_subsidy"] || !codes["resident_pension"] {
			t.Errorf("flags %+v", rows[0].Flags)
		}
	})
}

// TestRecordChecks runs the checks of a record on one database each, to
// keep the package fast.
func TestRecordChecks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		t.Run("late", func(t *testing.T) { lateRule(t, f) })
		t.Run("photo", func(t *testing.T) { photoStored(t, f) })
		t.Run("validation", func(t *testing.T) { validation(t, f) })
		t.Run("edit", func(t *testing.T) { editConflict(t, f) })
		t.Run("edit_patch", func(t *testing.T) { editPatch(t, f) })
		t.Run("reopen", func(t *testing.T) { reopenAndManualVerify(t, f) })
		t.Run("family", func(t *testing.T) { familyReminders(t, f) })
	})
}
