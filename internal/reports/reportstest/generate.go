// Package reportstest fills a test database with made-up people for the
// dashboards and reports: files, visitors and pairings, follow-ups,
// emergencies and registry history written straight into their tables,
// and weeks drawn up and contacts applied through the plan's own code
// (plan.EnsureWeek, plan.ApplyContact), as visits would. It keeps what it
// generated, so tests can count the figures directly and hold the
// dashboards and reports to them.
package reportstest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/plan"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
	"tanfang/internal/visits"
)

// Villages the generator fills: three of 新坝镇 and one of 板浦镇 in 海州区,
// one of 墟沟街道 in 连云区.
var Villages = []string{"320706102206", "320706102207", "320706102208", "320706103001", "320703001001"}

// Weeks is how many weeks, up to the current one, are drawn up.
const Weeks = 6

// Elder is a generated file as it is now. Every tenth (index 9, 19, …)
// has no contact at all.
type Elder struct {
	ID         int64
	Area       string
	Class      string
	Status     string
	Active     bool
	Incomplete bool
}

// Contact is a completed contact applied to the rollups.
type Contact struct {
	ElderID int64
	Area    string
	schedule.Contact
}

// Followup is a generated follow-up.
type Followup struct {
	Area, Kind, Severity, Status, ReferredType string
	Created, Due                               time.Time
	Resolved, Verified                         time.Time // zero when not
}

// Active reports whether the follow-up is still open.
func (f Followup) Active() bool { return visits.Active(f.Status) }

// Emergency is a generated emergency.
type Emergency struct {
	Area           string
	Raised, Closed time.Time // Closed zero while open
}

// Change is a generated version of a file: kind created, status (NewStatus)
// or transferred (From → Area).
type Change struct {
	ElderID         int64
	Kind, Area      string
	From, NewStatus string
	At              time.Time
}

// ClassChange is a generated change of class.
type ClassChange struct {
	Area, From, To string
	At             time.Time
}

// World is what Generate wrote.
type World struct {
	Now          time.Time
	Weeks        []schedule.Week
	Elders       []Elder
	Contacts     []Contact
	Followups    []Followup
	Emergencies  []Emergency
	Changes      []Change
	ClassChanges []ClassChange
	// UserID is the account the generated records name.
	UserID int64
}

// Generate writes a world of about 150 elders over Villages, with weeks
// drawn up and contacts for the Weeks weeks up to now. seed makes it
// repeatable.
func Generate(t testing.TB, db *store.DB, now time.Time, seed uint64) *World {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 2026))
	w := &World{Now: now}
	if _, err := (areas.Store{DB: db}).LoadDivisions(ctx, now); err != nil {
		t.Fatal(err)
	}
	ts := func(tm time.Time) string { return store.FormatTime(tm) }
	day := 24 * time.Hour
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.QueryRow(ctx, "SELECT COALESCE(MIN(id), 0) FROM users").Scan(&w.UserID))
	monthStart := schedule.MonthOf(now).Start()
	prevStart := schedule.MonthOf(monthStart.Add(-time.Hour)).Start()
	// inPrev is a random instant of the previous month.
	inPrev := func() time.Time { return prevStart.Add(time.Duration(r.Int64N(int64(monthStart.Sub(prevStart))))) }

	must(db.InTx(ctx, func(tx *store.Tx) error {
		if w.UserID == 0 {
			id, err := tx.InsertID(ctx, `INSERT INTO users (username, password_hash, role, area_code, password_changed_at, created_at)
				VALUES (?, 'x', 'village', ?, ?, ?)`, fmt.Sprintf("gen%d", seed), Villages[0], ts(now), ts(now))
			if err != nil {
				return err
			}
			w.UserID = id
		}
		n := 0
		for vi, v := range Villages {
			var visitorIDs []int64
			for k := 0; k < 3; k++ {
				id, err := tx.InsertID(ctx, `INSERT INTO visitors (kind, name, area_code, created_at, updated_at) VALUES ('volunteer', ?, ?, ?, ?)`,
					fmt.Sprintf("探访员%d-%d", vi, k), v, ts(now), ts(now))
				if err != nil {
					return err
				}
				visitorIDs = append(visitorIDs, id)
			}
			for k := 0; k < 30; k++ {
				n++
				e := Elder{Area: v, Class: []string{"A", "B", "C", "C", "none", ""}[r.IntN(6)], Status: "active", Active: true, Incomplete: r.IntN(4) == 0}
				created := now.Add(-time.Duration(20+r.IntN(60)) * day)
				statusFrom := ""
				switch x := r.IntN(20); {
				case x == 0:
					e.Status, e.Active = "deceased", false
				case x == 1:
					e.Status = "hospital"
				}
				var changedAt time.Time
				if e.Status != "active" {
					changedAt = inPrev()
					statusFrom = age.DateOf(changedAt).String()
				}
				id, err := tx.InsertID(ctx, `INSERT INTO elders (name, gender, birth_date, id_enc, id_hmac, id_masked, area_code, class,
						status, status_from, active, incomplete, consent_home, created_at, updated_at)
					VALUES (?, 'female', '1945-03-01', ?, ?, '320706********0000', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					"样本老人"+fmt.Sprint(n), []byte{1}, fmt.Sprintf("gen-%d-%d", seed, n), v, e.Class, e.Status, statusFrom,
					boolInt(e.Active), boolInt(e.Incomplete), r.IntN(2), ts(created), ts(created))
				if err != nil {
					return err
				}
				e.ID = id
				version := 1
				addVersion := func(c Change, changes map[string]map[string]string) error {
					body, _ := json.Marshal(changes)
					_, err := tx.Exec(ctx, `INSERT INTO elder_versions (elder_id, version, kind, at, actor_id, actor, area_code, from_area_code, changes)
						VALUES (?, ?, ?, ?, ?, 'gen', ?, ?, ?)`, c.ElderID, version, c.Kind, ts(c.At), w.UserID, c.Area, c.From, string(body))
					version++
					w.Changes = append(w.Changes, c)
					return err
				}
				if err := addVersion(Change{ElderID: id, Kind: "created", Area: v, At: created}, map[string]map[string]string{"name": {"new": "x"}}); err != nil {
					return err
				}
				if e.Status != "active" {
					c := Change{ElderID: id, Kind: "status", Area: v, NewStatus: e.Status, At: changedAt}
					if err := addVersion(c, map[string]map[string]string{"status": {"old": "active", "new": e.Status}}); err != nil {
						return err
					}
				}
				// Some files moved here from the first village (or from
				// 连云区 to 海州区) last month.
				if vi > 0 && k < 2 {
					from := Villages[0]
					if v == Villages[1] {
						from = Villages[len(Villages)-1]
					}
					c := Change{ElderID: id, Kind: "transferred", Area: v, From: from, At: inPrev()}
					if err := addVersion(c, map[string]map[string]string{"area_code": {"old": from, "new": v}}); err != nil {
						return err
					}
				}
				if e.Class == "A" || e.Class == "B" {
					if _, err := tx.Exec(ctx, `INSERT INTO class_history (elder_id, at, cause, old_class, new_class) VALUES (?, ?, 'created', '', ?)`,
						id, ts(created), e.Class); err != nil {
						return err
					}
					if k%4 == 0 {
						cc := ClassChange{Area: v, From: "C", To: e.Class, At: inPrev()}
						if _, err := tx.Exec(ctx, `INSERT INTO class_history (elder_id, at, cause, old_class, new_class) VALUES (?, ?, 'assessment', ?, ?)`,
							id, ts(cc.At), cc.From, cc.To); err != nil {
							return err
						}
						w.ClassChanges = append(w.ClassChanges, cc)
					}
				}
				if e.Active && r.IntN(10) < 8 {
					if _, err := tx.Exec(ctx, `INSERT INTO pairings (elder_id, visitor_id, role, started_at) VALUES (?, ?, 'primary', ?)`,
						id, visitorIDs[r.IntN(len(visitorIDs))], ts(created)); err != nil {
						return err
					}
				}
				w.Elders = append(w.Elders, e)
			}
		}
		return nil
	}))

	ps := &plan.Service{DB: db, Now: func() time.Time { return now }}
	wk := schedule.WeekOf(now)
	for i := 0; i < Weeks; i++ {
		w.Weeks = append([]schedule.Week{wk}, w.Weeks...)
		wk = wk.Prev()
	}
	for _, wk := range w.Weeks {
		must(ps.EnsureWeek(ctx, wk))
	}
	first := w.Weeks[0].Start()
	// One transaction for every contact keeps PostgreSQL's round trips few.
	must(db.InTx(ctx, func(tx *store.Tx) error {
		for i, e := range w.Elders {
			// Every tenth file is never reached, so a test can add its first
			// contact of a month.
			if !e.Active || i%10 == 9 {
				continue
			}
			for d := first; d.Before(now); d = d.Add(day) {
				if r.IntN(9) != 0 {
					continue
				}
				c := schedule.Contact{At: d.Add(time.Duration(8+r.IntN(10)) * time.Hour), Mode: schedule.ModeHome, Outcome: schedule.OutcomeDone, Late: r.IntN(10) == 0}
				if r.IntN(3) == 0 {
					c.Mode = schedule.ModePhone
				}
				if !c.At.Before(now) {
					continue
				}
				if r.IntN(12) == 0 {
					c.Outcome = schedule.OutcomeNotHome
				}
				if err := plan.ApplyContact(ctx, tx, e.ID, c); err != nil {
					return err
				}
				if c.Outcome == schedule.OutcomeDone {
					w.Contacts = append(w.Contacts, Contact{ElderID: e.ID, Area: e.Area, Contact: c})
				}
			}
		}
		return nil
	}))

	kinds, sevs := visits.Kinds, visits.Severities
	statuses := []string{visits.StatusOpen, visits.StatusInProgress, visits.StatusReferred, visits.StatusResolved, visits.StatusVerified}
	must(db.InTx(ctx, func(tx *store.Tx) error {
		for i := 0; i < 60; i++ {
			e := w.Elders[r.IntN(len(w.Elders))]
			f := Followup{Area: e.Area, Kind: kinds[r.IntN(len(kinds))].Code, Severity: sevs[r.IntN(len(sevs))].Code,
				Status: statuses[r.IntN(len(statuses))], Created: now.Add(-time.Duration(r.IntN(50*24)) * time.Hour)}
			f.Due = f.Created.Add(time.Duration(3+r.IntN(10)) * day)
			if f.Status == visits.StatusReferred || r.IntN(3) == 0 {
				f.ReferredType = []string{visits.ReferTown, visits.ReferProvider}[r.IntN(2)]
			}
			var resolved, verified any
			if f.Status == visits.StatusResolved || f.Status == visits.StatusVerified {
				f.Resolved = f.Created.Add(time.Duration(r.Int64N(int64(now.Sub(f.Created)))))
				resolved = ts(f.Resolved)
			}
			if f.Status == visits.StatusVerified {
				f.Verified = f.Resolved.Add(time.Duration(r.Int64N(int64(now.Sub(f.Resolved)))))
				verified = ts(f.Verified)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO followups (elder_id, area_code, kind, source, severity, status, summary, due_at, referred_type,
					resolved_at, verified_at, created_at, updated_at) VALUES (?, ?, ?, 'gen', ?, ?, '生成的事项', ?, ?, ?, ?, ?, ?)`,
				e.ID, e.Area, f.Kind, f.Severity, f.Status, ts(f.Due), f.ReferredType, resolved, verified, ts(f.Created), ts(f.Created)); err != nil {
				return err
			}
			w.Followups = append(w.Followups, f)
		}
		for i := 0; i < 8; i++ {
			e := w.Elders[r.IntN(len(w.Elders))]
			m := Emergency{Area: e.Area, Raised: now.Add(-time.Duration(r.IntN(40*24)) * time.Hour)}
			status, closed := visits.EmergencyOpen, any(nil)
			if i%2 == 0 {
				m.Closed = m.Raised.Add(time.Duration(r.Int64N(int64(now.Sub(m.Raised)))))
				status, closed = visits.EmergencyClosed, ts(m.Closed)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO emergencies (elder_id, area_code, what, status, raised_by, raised_at, closed_at)
				VALUES (?, ?, '跌倒', ?, ?, ?, ?)`, e.ID, e.Area, status, w.UserID, ts(m.Raised), closed); err != nil {
				return err
			}
			w.Emergencies = append(w.Emergencies, m)
		}
		return nil
	}))
	return w
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// in reports whether code lies under the area with the given prefix.
func in(code, prefix string) bool { return strings.HasPrefix(code, prefix) }

// Files counts the active files under prefix: all, by class, by status,
// incomplete.
func (w *World) Files(prefix string) (files int, byClass, byStatus map[string]int, incomplete int) {
	byClass, byStatus = map[string]int{}, map[string]int{}
	for _, e := range w.Elders {
		if !e.Active || !in(e.Area, prefix) {
			continue
		}
		files++
		byClass[e.Class]++
		byStatus[e.Status]++
		if e.Incomplete {
			incomplete++
		}
	}
	return
}

// Open counts the open follow-ups under prefix, those overdue at now, by
// kind, and the open emergencies.
func (w *World) Open(prefix string) (open, overdue int, byKind map[string]int, emergencies int) {
	byKind = map[string]int{}
	for _, f := range w.Followups {
		if f.Active() && in(f.Area, prefix) {
			open++
			byKind[f.Kind]++
			if w.Now.After(f.Due) {
				overdue++
			}
		}
	}
	for _, m := range w.Emergencies {
		if m.Closed.IsZero() && in(m.Area, prefix) {
			emergencies++
		}
	}
	return
}

// Contacted is the set of elders under prefix with a completed contact in
// month m.
func (w *World) Contacted(prefix string, m schedule.Month) map[int64]bool {
	out := map[int64]bool{}
	for _, c := range w.Contacts {
		if in(c.Area, prefix) && m.Contains(c.At) {
			out[c.ElderID] = true
		}
	}
	return out
}

// Period counts what happened under prefix in [from, to): new files,
// deaths, transfers in and out, class changes, follow-ups found, resolved,
// verified and resolved after a referral, emergencies raised.
type Period struct {
	New, Deceased, TransferredIn, TransferredOut, ClassChanged int
	Found, Resolved, Verified, Referrals, Emergencies          int
}

// During counts a period's events under prefix.
func (w *World) During(prefix string, from, to time.Time) Period {
	var p Period
	within := func(t time.Time) bool { return !t.IsZero() && !t.Before(from) && t.Before(to) }
	for _, c := range w.Changes {
		if !within(c.At) {
			continue
		}
		switch {
		case c.Kind == "created" && in(c.Area, prefix):
			p.New++
		case c.Kind == "status" && c.NewStatus == "deceased" && in(c.Area, prefix):
			p.Deceased++
		case c.Kind == "transferred" && in(c.Area, prefix) && !in(c.From, prefix):
			p.TransferredIn++
		case c.Kind == "transferred" && in(c.From, prefix) && !in(c.Area, prefix):
			p.TransferredOut++
		}
	}
	for _, c := range w.ClassChanges {
		if within(c.At) && in(c.Area, prefix) {
			p.ClassChanged++
		}
	}
	for _, f := range w.Followups {
		if !in(f.Area, prefix) {
			continue
		}
		if within(f.Created) {
			p.Found++
		}
		if within(f.Resolved) {
			p.Resolved++
			if f.ReferredType != "" {
				p.Referrals++
			}
		}
		if within(f.Verified) {
			p.Verified++
		}
	}
	for _, m := range w.Emergencies {
		if within(m.Raised) && in(m.Area, prefix) {
			p.Emergencies++
		}
	}
	return p
}
