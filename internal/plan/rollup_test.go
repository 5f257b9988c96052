package plan

import (
	"context"
	"math/bits"
	"math/rand/v2"
	"testing"
	"time"

	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

// R-FRQ-1..4 and DOMAIN §6 on the SQL side: what ApplyContact counts. Each
// case records contacts for a class-A elder who consented to home visits,
// in 2026-W49 (Monday 30 November to Sunday 6 December), drawn up first.
func TestApplyContact(t *testing.T) {
	t.Parallel()
	const (
		home  = schedule.ModeHome
		phone = schedule.ModePhone
		video = schedule.ModeVideo
		done  = schedule.OutcomeDone
	)
	type rec struct {
		at   string
		m    schedule.Mode
		o    schedule.Outcome
		late bool
	}
	cases := []struct {
		name       string
		recs       []rec
		done, late schedule.Requirement
		months     map[string]int // contact days counted per month
	}{
		// R-FRQ-1: two home visits on one day count once; a call the same day counts too.
		{"same-day duplicates once", []rec{
			{"2026-11-30 09:00", home, done, false}, {"2026-11-30 16:00", home, done, false}, {"2026-11-30 18:00", phone, done, false},
		}, schedule.Requirement{Home: 1, Call: 1}, schedule.Requirement{}, map[string]int{"2026-11": 2}},
		// Phone and video are both calls.
		{"phone and video one day", []rec{
			{"2026-12-01 09:00", phone, done, false}, {"2026-12-01 20:00", video, done, false},
		}, schedule.Requirement{Call: 1}, schedule.Requirement{}, map[string]int{"2026-12": 1}},
		// 空访 (not_home) and refusals do not count as contacts.
		{"empty visit and refusal", []rec{
			{"2026-12-02 10:00", home, schedule.OutcomeNotHome, false}, {"2026-12-03 10:00", home, schedule.OutcomeRefused, false},
			{"2026-12-03 11:00", phone, schedule.OutcomeNotHome, false},
		}, schedule.Requirement{}, schedule.Requirement{}, map[string]int{}},
		// A late record counts as done and as late, until an on-time one covers its day.
		{"late", []rec{
			{"2026-12-04 10:00", home, done, true}, {"2026-12-04 10:30", phone, done, true}, {"2026-12-04 19:00", phone, done, false},
			{"2026-12-05 10:00", video, done, true}, {"2026-12-05 11:00", video, done, true},
		}, schedule.Requirement{Home: 1, Call: 2}, schedule.Requirement{Home: 1, Call: 1}, map[string]int{"2026-12": 3}},
		// DESIGN "Time": Sunday 23:59 is in the week, Monday 00:01 and the Sunday before are not.
		{"week edges in Shanghai", []rec{
			{"2026-11-29 23:59", home, done, false}, {"2026-11-30 00:01", home, done, false},
			{"2026-12-06 23:59", phone, done, false}, {"2026-12-07 00:01", phone, done, false},
		}, schedule.Requirement{Home: 1, Call: 1}, schedule.Requirement{}, map[string]int{"2026-11": 2, "2026-12": 2}},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "2026-11-30 00:00")
		w := week(t, "2026-W49")
		ids := make([]int64, len(cases))
		for i := range cases {
			ids[i] = f.addElder(elder{class: "A", consent: true})
		}
		f.ensure(w)
		for i, c := range cases {
			id := ids[i]
			var contacts []schedule.Contact
			for _, r := range c.recs {
				f.contact(id, r.at, r.m, r.o, r.late)
				contacts = append(contacts, schedule.Contact{At: sh(t, r.at), Mode: r.m, Outcome: r.o, Late: r.late})
			}
			got := f.week(id, w)
			if got.Done != c.done || got.Late != c.late {
				t.Errorf("%s: done %+v late %+v, want %+v late %+v", c.name, got.Done, got.Late, c.done, c.late)
			}
			// The rollup agrees with the pure count over the same records.
			want := schedule.Count(contacts, w)
			if got.Done.Home != want.Home || got.Done.Call != want.Call || got.Late.Home+got.Late.Call != want.Late {
				t.Errorf("%s: rollup %+v/%+v, schedule.Count %+v", c.name, got.Done, got.Late, want)
			}
			for _, m := range []string{"2026-11", "2026-12"} {
				var mask int64
				err := db.QueryRow(context.Background(), "SELECT COALESCE(SUM(days), 0) FROM plan_months WHERE elder_id = ? AND month = ?", id, m).Scan(&mask)
				if err != nil {
					t.Fatal(err)
				}
				if days := bits.OnesCount64(uint64(mask)); days != c.months[m] {
					t.Errorf("%s: %s contact days %d, want %d", c.name, m, days, c.months[m])
				}
			}
		}
	})
}

// R-FRQ-1..4: random records, applied one by one, always agree with
// schedule.Count and schedule.Evaluate.
func TestApplyContactMatchesSchedule(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "2026-11-30 00:00")
		w := week(t, "2026-W49")
		rng := rand.New(rand.NewPCG(49, 2026))
		modes := []schedule.Mode{schedule.ModeHome, schedule.ModePhone, schedule.ModeVideo}
		outcomes := []schedule.Outcome{schedule.OutcomeDone, schedule.OutcomeDone, schedule.OutcomeNotHome, schedule.OutcomeRefused}
		type el struct {
			id       int64
			hfc      bool
			contacts []schedule.Contact
		}
		var els []*el
		for i := range 12 {
			hfc := i%2 == 0
			els = append(els, &el{id: f.addElder(elder{class: []string{"A", "B", "C"}[i%3], consent: true, hfc: hfc}), hfc: hfc})
		}
		f.ensure(w)
		for range 150 {
			e := els[rng.IntN(len(els))]
			c := schedule.Contact{
				At:   w.Start().Add(time.Duration(rng.IntN(8*24*60)-12*60) * time.Minute),
				Mode: modes[rng.IntN(3)], Outcome: outcomes[rng.IntN(4)], Late: rng.IntN(3) == 0,
			}
			e.contacts = append(e.contacts, c)
			if err := db.InTx(context.Background(), func(tx *store.Tx) error { return ApplyContact(context.Background(), tx, e.id, c) }); err != nil {
				t.Fatal(err)
			}
		}
		for _, now := range []time.Time{sh(t, "2026-12-03 12:00"), w.End()} {
			f.clock.Set(now)
			for _, e := range els {
				got := f.week(e.id, w)
				count := schedule.Count(e.contacts, w)
				if got.Done.Home != count.Home || got.Done.Call != count.Call || got.Late.Home+got.Late.Call != count.Late {
					t.Fatalf("elder %d: rollup %+v late %+v, Count %+v", e.id, got.Done, got.Late, count)
				}
				var onTime []schedule.Contact
				for _, c := range e.contacts {
					if !c.Late {
						onTime = append(onTime, c)
					}
				}
				want := schedule.Evaluate(got.Required, schedule.Count(onTime, w), e.hfc, now, w)
				if got.Status != want.Status || got.Owed != want.Owed {
					t.Errorf("elder %d at %s: %s owed %+v, want %s owed %+v", e.id, now, got.Status, got.Owed, want.Status, want.Owed)
				}
				var progress int
				if err := db.QueryRow(context.Background(), "SELECT progress FROM plan_weeks WHERE week = ? AND elder_id = ?", w.String(), e.id).Scan(&progress); err != nil {
					t.Fatal(err)
				}
				if (progress == 2) != (want.Status == schedule.StatusMet) {
					t.Errorf("elder %d: progress %d but Evaluate says %s", e.id, progress, want.Status)
				}
			}
		}
	})
}

// The SQL of "met" is schedule.Evaluate's StatusMet over every small
// combination of requirement, on-time counts and consent (R-FRQ-4).
func TestProgressMatchesEvaluate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := schedule.Week{Year: 2026, Num: 49}
		type row struct{ rh, rc, dh, dc, lh, lc, hfc int }
		var rs []row
		id := 0
		for rh := range 3 {
			for rc := range 3 {
				for dh := range 4 {
					for dc := range 3 {
						for _, hfc := range []int{0, 1} {
							rs = append(rs, row{rh, rc, dh, dc, dh / 3, 0, hfc})
						}
					}
				}
			}
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, r := range rs {
				id++
				if _, err := tx.Exec(ctx, `INSERT INTO plan_weeks (week, elder_id, area_code, class, planned, req_home, req_call, home_for_call,
					done_home, done_call, late_home, late_call) VALUES (?, ?, ?, 'A', 1, ?, ?, ?, ?, ?, ?, ?)`,
					w.String(), id, village, r.rh, r.rc, r.hfc, r.dh, r.dc, r.lh, r.lc); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, "UPDATE plan_weeks SET progress = "+progressOfRow)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			var progress int
			if err := db.QueryRow(ctx, "SELECT progress FROM plan_weeks WHERE elder_id = ?", i+1).Scan(&progress); err != nil {
				t.Fatal(err)
			}
			res := schedule.Evaluate(schedule.Requirement{Home: r.rh, Call: r.rc},
				schedule.Done{Home: r.dh - r.lh, Call: r.dc - r.lc}, r.hfc == 1, w.End(), w)
			want := 0
			switch {
			case res.Status == schedule.StatusMet:
				want = 2
			case r.dh-r.lh+r.dc-r.lc > 0:
				want = 1
			}
			if progress != want {
				t.Errorf("%+v: progress %d, Evaluate %s (want %d)", r, progress, res.Status, want)
			}
		}
	})
}

// Visits arrive at once from several phones: the rollup loses none of them,
// also when the week was not drawn up and the row is created by the first.
func TestApplyContactConcurrent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "2026-12-01 08:00")
		w := week(t, "2026-W49")
		id := f.addElder(elder{class: "A", consent: true})
		var contacts []schedule.Contact
		for i := range 24 {
			contacts = append(contacts, schedule.Contact{
				At:      w.Start().Add(time.Duration(i%7)*24*time.Hour + time.Duration(i)*time.Minute),
				Mode:    []schedule.Mode{schedule.ModeHome, schedule.ModePhone, schedule.ModeVideo}[i%3],
				Outcome: schedule.OutcomeDone, Late: i%5 == 0,
			})
		}
		errs := make(chan error, len(contacts))
		for _, c := range contacts {
			go func() {
				errs <- db.InTx(context.Background(), func(tx *store.Tx) error { return ApplyContact(context.Background(), tx, id, c) })
			}()
		}
		timeout := time.After(30 * time.Second)
		for range contacts {
			select {
			case err := <-errs:
				if err != nil {
					t.Fatal(err)
				}
			case <-timeout:
				t.Fatal("concurrent visits did not finish in 30 s: the store deadlocks")
			}
		}
		got := f.week(id, w)
		want := schedule.Count(contacts, w)
		if got.Done.Home != want.Home || got.Done.Call != want.Call || got.Late.Home+got.Late.Call != want.Late {
			t.Errorf("rollup %+v late %+v, Count %+v", got.Done, got.Late, want)
		}
	})
}
