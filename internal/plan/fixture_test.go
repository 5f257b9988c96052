package plan

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/pii"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
)

// Areas of the tests: 海州区 › 新坝镇 › 新坝村 and a second village of
// the same town, plus 连云区 for "elsewhere".
const (
	county    = "320706000000"
	town      = "320706102000"
	village   = "320706102206"
	village2  = "320706102207"
	elsewhere = "320703001001"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// sh is a wall-clock time in Shanghai.
func sh(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, age.Shanghai)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func week(t testing.TB, s string) schedule.Week {
	t.Helper()
	w, err := schedule.ParseWeek(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var testKeys = func() *pii.Keys {
	k, err := pii.New(bytes.Repeat([]byte{9}, pii.SecretSize))
	if err != nil {
		panic(err)
	}
	return k
}()

// fixture is a migrated database with the real areas and a service whose
// clock the test sets.
type fixture struct {
	t     testing.TB
	db    *store.DB
	svc   *Service
	clock *clock
	n     int
}

func newFixture(t testing.TB, db *store.DB, now string) *fixture {
	t.Helper()
	c := &clock{t: sh(t, now)}
	// Only the areas the tests use: loading all 1,900 costs a second per
	// PostgreSQL test.
	for _, a := range []areas.Area{
		{Code: areas.CityCode, Name: "连云港市", Level: areas.City},
		{Code: county, Name: "海州区", Level: areas.County, ParentCode: areas.CityCode},
		{Code: town, Name: "新坝镇", Level: areas.Town, ParentCode: county},
		{Code: village, Name: "新坝村委会", Level: areas.Village, ParentCode: town},
		{Code: village2, Name: "四里村委会", Level: areas.Village, ParentCode: town},
		{Code: "320703000000", Name: "连云区", Level: areas.County, ParentCode: areas.CityCode},
		{Code: "320703001000", Name: "墟沟街道", Level: areas.Town, ParentCode: "320703000000"},
		{Code: elsewhere, Name: "东园社区居委会", Level: areas.Village, ParentCode: "320703001000"},
	} {
		var parent any
		if a.ParentCode != "" {
			parent = a.ParentCode
		}
		if _, err := db.Exec(context.Background(), "INSERT INTO areas (code, name, level, parent_code, updated_at) VALUES (?, ?, ?, ?, ?)",
			a.Code, a.Name, a.Level, parent, store.FormatTime(c.Now())); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{t: t, db: db, clock: c, svc: &Service{DB: db, Keys: testKeys, Now: c.Now}}
}

var actor = audit.Entry{ActorID: 0, Actor: "test", IP: "127.0.0.1"}

// elder describes a made-up elder's file as the plan reads it.
type elder struct {
	area, class      string
	consent, hfc     bool
	willing          *bool
	status, from, to string
	inactive         bool
	name             string
}

// addElder inserts a made-up elder's file directly (the registry is
// another package's work) and returns its id.
func (f *fixture) addElder(e elder) int64 {
	f.t.Helper()
	f.n++
	if e.area == "" {
		e.area = village
	}
	if e.status == "" {
		e.status = "active"
	}
	if e.name == "" {
		e.name = "测试老人"
	}
	var willing any
	if e.willing != nil {
		willing = boolInt(*e.willing)
	}
	now := store.FormatTime(f.clock.Now())
	var id int64
	err := f.db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		id, err = tx.InsertID(context.Background(), `INSERT INTO elders (name, gender, birth_date, id_enc, id_hmac, id_masked, area_code,
			consent_home, consent_home_for_call, willing, status, status_from, status_to, active, class, created_at, updated_at)
			VALUES (?, 'female', '1940-01-01', ?, ?, '320706********0000', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.name, []byte{1}, fmt.Sprintf("test-%d", f.n), e.area, boolInt(e.consent), boolInt(e.hfc), willing,
			e.status, e.from, e.to, boolInt(!e.inactive), e.class, now, now)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.db.Exec(context.Background(), q, args...); err != nil {
		f.t.Fatal(err)
	}
}

// contact records one contact through ApplyContact in its own transaction,
// as the visit-recording code does.
func (f *fixture) contact(elderID int64, at string, m schedule.Mode, o schedule.Outcome, late bool) {
	f.t.Helper()
	c := schedule.Contact{At: sh(f.t, at), Mode: m, Outcome: o, Late: late}
	if err := f.db.InTx(context.Background(), func(tx *store.Tx) error {
		return ApplyContact(context.Background(), tx, elderID, c)
	}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) ensure(w schedule.Week) {
	f.t.Helper()
	if err := f.svc.EnsureWeek(context.Background(), w); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) week(elderID int64, w schedule.Week) ElderWeek {
	f.t.Helper()
	ew, err := f.svc.Week(context.Background(), areas.Scope{Code: areas.CityCode, Prefix: "3207"}, elderID, w)
	if err != nil {
		f.t.Fatalf("week %s of elder %d: %v", w, elderID, err)
	}
	return ew
}

func (f *fixture) addVisitor(name, phone, area string) Visitor {
	f.t.Helper()
	v, err := f.svc.CreateVisitor(context.Background(), areas.Scope{Code: county, Prefix: "320706"}, actor,
		VisitorInput{Name: name, Phone: phone, AreaCode: area, Kind: "village_cadre"})
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func (f *fixture) pair(elderID, visitorID int64, role string) Pairing {
	f.t.Helper()
	p, err := f.svc.Pair(context.Background(), areas.Scope{Code: county, Prefix: "320706"}, actor, elderID, visitorID, role, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func ptr[T any](v T) *T { return &v }
