package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func setup(t *testing.T, db *store.DB) (*auth.Service, *clock) {
	t.Helper()
	c := &clock{time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)}
	if _, err := (areas.Store{DB: db}).LoadDivisions(context.Background(), c.t); err != nil {
		t.Fatal(err)
	}
	s := &auth.Service{DB: db, Now: c.now, Cost: bcrypt.MinCost}
	if _, err := s.CreateUser(context.Background(), auth.NewUser{Username: "lianyun", Password: "Lianyun#2026", Role: auth.RoleCounty, AreaCode: "320703000000"}, audit.Entry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// DOMAIN §7: 8+ characters of 3 kinds.
func TestCheckPassword(t *testing.T) {
	for pw, ok := range map[string]bool{
		"Abc123!x": true, "abcdefg1!": true, "ABCDEF12a": true, "密码Ab12345": true,
		"Ab1!": false, "abcdefgh": false, "abcdef12": false, "ABCDEFGH1": false,
	} {
		if err := auth.CheckPassword(pw); (err == nil) != ok {
			t.Errorf("CheckPassword(%q) = %v, want ok=%v", pw, err, ok)
		}
	}
}

func TestCreateUserChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		cases := []struct {
			nu    auth.NewUser
			field string
		}{
			{auth.NewUser{Username: "lianyun", Password: "Lianyun#2026", Role: auth.RoleCounty, AreaCode: "320703000000"}, "username"},
			{auth.NewUser{Username: "x1", Password: "Lianyun#2026", Role: "boss", AreaCode: "320703000000"}, "role"},
			{auth.NewUser{Username: "x2", Password: "short", Role: auth.RoleTown, AreaCode: "320703001000"}, "password"},
			{auth.NewUser{Username: "x3", Password: "Lianyun#2026", Role: auth.RoleTown, AreaCode: "999999999999"}, "area"},
			{auth.NewUser{Username: "x4", Password: "Lianyun#2026", Role: auth.RoleCounty, AreaCode: "320703001000"}, "area"},
		}
		for _, c := range cases {
			_, err := s.CreateUser(ctx, c.nu, audit.Entry{Actor: "test"})
			var ie *auth.InvalidError
			if !errors.As(err, &ie) || ie.Field != c.field {
				t.Errorf("%+v: err = %v, want field %s", c.nu, err, c.field)
			}
		}
	})
}

// DOMAIN §7 / R-USR-1: five failures lock for fifteen minutes; idle sessions end after thirty.
func TestLockoutAndIdle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, c := setup(t, db)
		ctx := context.Background()
		for i := 1; i <= 4; i++ {
			if _, _, _, err := s.Login(ctx, "lianyun", "wrong", "127.0.0.1", "api"); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		_, _, _, err := s.Login(ctx, "lianyun", "wrong", "127.0.0.1", "api")
		var le *auth.LockedError
		if !errors.As(err, &le) || !le.Until.Equal(c.t.Add(15*time.Minute)) {
			t.Fatalf("fifth failure: %v", err)
		}
		c.advance(14*time.Minute + 59*time.Second)
		if _, _, _, err := s.Login(ctx, "lianyun", "Lianyun#2026", "127.0.0.1", "api"); !errors.As(err, &le) {
			t.Fatalf("right password while locked: %v", err)
		}
		c.advance(time.Second)
		tok, u, exp, err := s.Login(ctx, "lianyun", "Lianyun#2026", "127.0.0.1", "api")
		if err != nil || u.Role != auth.RoleCounty || !exp.Equal(c.t.Add(30*time.Minute)) {
			t.Fatalf("after the lock: %v %+v %v", err, u, exp)
		}
		c.advance(29 * time.Minute)
		if _, err := s.Authenticate(ctx, tok); err != nil {
			t.Fatalf("29 idle minutes: %v", err)
		}
		c.advance(29 * time.Minute) // last use refreshed the session
		if _, err := s.Authenticate(ctx, tok); err != nil {
			t.Fatalf("used again within 30 minutes: %v", err)
		}
		c.advance(30 * time.Minute)
		if _, err := s.Authenticate(ctx, tok); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("after 30 idle minutes: %v", err)
		}
		if _, err := audit.Verify(ctx, db); err != nil {
			t.Fatal(err)
		}
		list, _ := audit.List(ctx, db, audit.Query{TargetType: "user"})
		var failed, denied, ok int
		for _, e := range list {
			if e.Action != "login" {
				continue
			}
			switch e.Outcome {
			case audit.Failed:
				failed++
			case audit.Denied:
				denied++
			case audit.OK:
				ok++
			}
		}
		if failed != 5 || denied != 1 || ok != 1 {
			t.Fatalf("audited logins: %d failed, %d denied, %d ok", failed, denied, ok)
		}
	})
}

// DOMAIN §7: an unknown username is answered exactly like a real one,
// including the lock after five failures, so accounts cannot be listed.
func TestUnknownUserLocksLikeARealOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, c := setup(t, db)
		ctx := context.Background()
		for i := 1; i <= 4; i++ {
			if _, _, _, err := s.Login(ctx, "nobody", "wrong", "127.0.0.1", "api"); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		var le *auth.LockedError
		if _, _, _, err := s.Login(ctx, "nobody", "wrong", "127.0.0.1", "api"); !errors.As(err, &le) {
			t.Fatalf("fifth failure of an unknown user: %v", err)
		}
		c.advance(15 * time.Minute)
		if _, _, _, err := s.Login(ctx, "nobody", "wrong", "127.0.0.1", "api"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("after the lock: %v", err)
		}
		if _, err := audit.Verify(ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}
