package demo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/pii"
	"tanfang/internal/plan"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/idcard"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/registry"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
	"tanfang/internal/synth"
	"tanfang/internal/visits"
)

// now is a Thursday afternoon; 重阳 2026-10-18 lies in the first of the
// seven weeks before it that the test builds (DOMAIN §5).
var now = time.Date(2026, 12, 3, 15, 0, 0, 0, age.Shanghai)

func build(t *testing.T, db *store.DB) (*pii.Keys, int64, Summary) {
	t.Helper()
	ctx := context.Background()
	if _, err := (areas.Store{DB: db}).LoadDivisions(ctx, now); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.New([]byte(strings.Repeat("k", pii.SecretSize)))
	if err != nil {
		t.Fatal(err)
	}
	u, err := (&auth.Service{DB: db, Cost: bcrypt.MinCost}).CreateUser(ctx, auth.NewUser{Username: "visitor", DisplayName: "探访员",
		Password: "Demo#2026", Role: auth.RoleVisitor, AreaCode: HomeVillage}, audit.Entry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Build(ctx, db, keys, now, Options{Elders: 50, Weeks: 7, Seed: 7, VisitorUser: "visitor"})
	if err != nil {
		t.Fatal(err)
	}
	return keys, u.ID, sum
}

func TestBuild(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys, userID, sum := build(t, db)
		clock := func() time.Time { return now }
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := db.QueryRow(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		// Every county-level unit of the division list has elders.
		if n := count("SELECT COUNT(DISTINCT SUBSTR(area_code, 1, 6)) FROM elders"); n != 7 || sum.Counties != 7 {
			t.Errorf("elders in %d counties", n)
		}
		// R-CLS-1..3: every class is present.
		for _, c := range []string{"A", "B", "C"} {
			if sum.ByClass[c] == 0 {
				t.Errorf("no class %s elder: %v", c, sum.ByClass)
			}
		}
		if n := count("SELECT COUNT(*) FROM elders WHERE area_code = ?", HomeVillage); n < 15 {
			t.Errorf("新坝村 has %d elders", n)
		}
		for _, c := range []string{"A", "B", "C", "none"} {
			if count("SELECT COUNT(*) FROM elders WHERE area_code = ? AND class = ?", HomeVillage, c) == 0 {
				t.Errorf("新坝村 has no elder of class %s", c)
			}
		}

		// The demo visitor's task list of this week is full.
		ps := &plan.Service{DB: db, Keys: keys, Now: clock}
		v, err := ps.VisitorOfUser(ctx, userID)
		if err != nil {
			t.Fatal(err)
		}
		tasks, err := ps.Tasks(ctx, v.ID, schedule.WeekOf(now))
		if err != nil {
			t.Fatal(err)
		}
		if len(tasks.Items) < 8 {
			t.Errorf("the demo visitor has %d tasks this week", len(tasks.Items))
		}
		// R-FRQ-5: the 重阳 week asked for more.
		festival, err := ps.Tasks(ctx, v.ID, schedule.WeekOf(time.Date(2026, 10, 18, 12, 0, 0, 0, age.Shanghai)))
		if err != nil {
			t.Fatal(err)
		}
		noted := false
		for _, it := range festival.Items {
			noted = noted || strings.Contains(strings.Join(it.Notes, ""), "重阳")
		}
		if !noted {
			t.Error("no task of the 重阳 week names the festival")
		}

		// The weeks of visits, some late, none in the future.
		first := weekStart(now).AddDate(0, 0, -7*sum.Weeks)
		if n := count("SELECT COUNT(*) FROM visits WHERE started_at < ? OR started_at > ?", store.FormatTime(first), store.FormatTime(now)); n != 0 {
			t.Errorf("%d visits outside the twelve weeks", n)
		}
		if n := count("SELECT COUNT(*) FROM visits WHERE started_at < ?", store.FormatTime(first.AddDate(0, 0, 7))); n == 0 {
			t.Error("no visits in the first week")
		}
		if sum.LateVisits == 0 || count("SELECT COUNT(*) FROM visits WHERE late = 1") != sum.LateVisits {
			t.Errorf("late visits: %d counted, summary %d", count("SELECT COUNT(*) FROM visits WHERE late = 1"), sum.LateVisits)
		}

		// Follow-ups in every state, some overdue, some escalated (R-EMG-4).
		for _, s := range []string{visits.StatusOpen, visits.StatusInProgress, visits.StatusReferred, visits.StatusResolved, visits.StatusVerified} {
			if n := count("SELECT COUNT(*) FROM followups WHERE status = ?", s); n == 0 {
				t.Errorf("no follow-up %s", s)
			}
		}
		if n := count("SELECT COUNT(*) FROM followups WHERE status IN ('open', 'in_progress', 'referred') AND due_at < ?", store.FormatTime(now)); n == 0 {
			t.Error("no overdue follow-up")
		}
		if n := count("SELECT COUNT(*) FROM followups WHERE level <> 'village'"); n == 0 {
			t.Error("no escalated follow-up")
		}

		// R-EMG-1: emergencies, some still open.
		vs := &visits.Service{DB: db, Keys: keys, Now: clock}
		open, err := vs.Emergencies(ctx, cityScope, true, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(open) == 0 || sum.Emergencies <= len(open) {
			t.Errorf("%d open of %d emergencies", len(open), sum.Emergencies)
		}
		if count("SELECT COUNT(*) FROM campaigns") != 1 || count("SELECT COUNT(*) FROM elder_transfers") != 1 {
			t.Error("want one campaign and one transfer")
		}
		if un, err := ps.Unpaired(ctx, cityScope, "", 10); err != nil || un.Total == 0 {
			t.Errorf("no unpaired elder (%v)", err)
		}

		// DOMAIN §2: ID numbers valid, in the 9xx block, matching birth date,
		// sex and age; every phone in the fictional block.
		reg := &registry.Service{DB: db, Keys: keys, Now: clock}
		today := age.DateOf(now)
		n := 0
		err = reg.Each(ctx, cityScope, registry.Filter{}, true, func(e registry.Elder) error {
			n++
			id, err := idcard.ParseAt(e.IDNumber, today)
			if err != nil {
				return err
			}
			if id.Birth.String() != e.BirthDate || id.Female != (e.Gender == "female") || e.IDNumber[14] != '9' {
				t.Errorf("ID number of %s does not match %s %s", e.IDNumberMasked, e.BirthDate, e.Gender)
			}
			if a := age.Years(id.Birth, today); a != e.Age || a < 60 || a > 101 {
				t.Errorf("age %d (file says %d)", a, e.Age)
			}
			for _, p := range []string{e.Phone, e.FirstContact.Phone, e.VillageContact.Phone} {
				if p != "" && !strings.HasPrefix(p, synth.PhonePrefix) {
					t.Errorf("phone %s outside the fictional block", p)
				}
			}
			return nil
		})
		if err != nil || n != sum.Elders {
			t.Fatalf("read %d of %d files: %v", n, sum.Elders, err)
		}
		if n := count("SELECT COUNT(*) FROM visitors WHERE phone_masked NOT LIKE '170%'"); n != 0 {
			t.Errorf("%d visitors with a phone outside the fictional block", n)
		}

		// The demo never adds to a database with elders.
		if _, err := Build(ctx, db, keys, now, Options{Elders: 50}); !errors.Is(err, ErrNotEmpty) {
			t.Errorf("second build: %v", err)
		}
		if count("SELECT COUNT(*) FROM elders") != sum.Elders {
			t.Error("second build added elders")
		}
		if _, err := audit.Verify(ctx, db); err != nil {
			t.Errorf("audit chain: %v", err)
		}
	})
}
