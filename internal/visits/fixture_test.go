package visits_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/pii"
	"tanfang/internal/plan"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/idcard"
	"tanfang/internal/registry"
	"tanfang/internal/store"
	"tanfang/internal/visits"
)

// The tests live in 海州区 › 新坝镇 › 新坝村.
const (
	county  = "320706000000"
	town    = "320706102000"
	village = "320706102206"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture: the real areas, a visitor account linked to a visitors row,
// village, town and county accounts, and a service on an injected clock.
type fixture struct {
	t       *testing.T
	db      *store.DB
	keys    *pii.Keys
	clock   *clock
	svc     *visits.Service
	visitor visits.Actor
	village visits.Actor
	town    visits.Actor
	county  visits.Actor
	n       int
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	// Thursday 3 December 2026, 10:00 in Shanghai.
	c := &clock{t: time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)}
	st := areas.Store{DB: db}
	if _, err := st.LoadDivisions(ctx, c.Now()); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.New(bytes.Repeat([]byte{5}, pii.SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, keys: keys, clock: c, svc: &visits.Service{DB: db, Keys: keys, Now: c.Now}}
	authSvc := &auth.Service{DB: db, Now: c.Now, Cost: bcrypt.MinCost}
	actor := func(name, role, area string) visits.Actor {
		u, err := authSvc.CreateUser(ctx, auth.NewUser{Username: name, Password: "Test#2026pw", Role: role, AreaCode: area}, audit.Entry{Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		a, err := st.Get(ctx, area)
		if err != nil {
			t.Fatal(err)
		}
		return visits.Actor{UserID: u.ID, Username: name, Role: role, AreaCode: area, Scope: areas.ScopeOf(a), IP: "127.0.0.1"}
	}
	f.visitor = actor("visitor1", auth.RoleVisitor, village)
	f.village = actor("xinbacun", auth.RoleVillage, village)
	f.town = actor("xinba", auth.RoleTown, town)
	f.county = actor("haizhou", auth.RoleCounty, county)
	ps := &plan.Service{DB: db, Keys: keys, Now: c.Now}
	uid := f.visitor.UserID
	if _, err := ps.CreateVisitor(ctx, f.village.Scope, audit.Entry{Actor: "test"}, plan.VisitorInput{
		Name: "测试探访员", Phone: "13700001234", AreaCode: village, Kind: "volunteer", UserID: &uid}); err != nil {
		t.Fatal(err)
	}
	return f
}

// addElder registers a made-up elder through the registry, with a child
// as first contact.
func (f *fixture) addElder(birth string) int64 {
	f.t.Helper()
	f.n++
	b, err := age.ParseDate(birth)
	if err != nil {
		f.t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	rs := &registry.Service{DB: f.db, Keys: f.keys, Now: f.clock.Now}
	e, err := rs.Create(context.Background(), registry.Actor{UserID: f.village.UserID, Username: "xinbacun", Role: auth.RoleVillage},
		f.village.Scope, registry.Input{
			Name: str("王测试"), IDNumber: str(idcard.Synthetic("320706", b, true, f.n)), AreaCode: str(village),
			FirstContact: &registry.FirstContactInput{Name: str("王子女"), Relation: str("child"), Phone: str("13900002222")},
		})
	if err != nil {
		f.t.Fatal(err)
	}
	return e.ID
}

// visit is a completed home visit an hour ago with every finding fine.
func (f *fixture) visit(elderID int64) visits.Input {
	now := f.clock.Now()
	return visits.Input{
		ClientID: uuid.NewString(), ElderID: elderID, Mode: "home", Outcome: "done",
		StartedAt: now.Add(-time.Hour).Format(time.RFC3339), EndedAt: now.Add(-30 * time.Minute).Format(time.RFC3339),
		Findings: visits.Findings{Expression: "good", Mobility: "good", Mental: "good", Illness: "same", House: "safe",
			Gas: "safe", WaterHeating: "safe", Electricity: "safe", Hygiene: "good", Supporter: "good"},
	}
}

func (f *fixture) record(a visits.Actor, in visits.Input) visits.Visit {
	f.t.Helper()
	v, _, err := f.svc.Record(context.Background(), a, in, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}
