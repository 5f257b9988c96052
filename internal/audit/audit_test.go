package audit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"tanfang/internal/audit"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

func seed(t *testing.T, db *store.DB, n int) {
	t.Helper()
	at := time.Date(2026, 12, 3, 1, 2, 3, 0, time.UTC)
	for i := 0; i < n; i++ {
		if err := audit.Log(context.Background(), db, audit.Entry{At: at, Actor: "u1", Action: "login", Outcome: audit.OK, IP: "127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
	}
}

func wantBroken(t *testing.T, db *store.DB, id int64) {
	t.Helper()
	_, err := audit.Verify(context.Background(), db)
	var be *audit.BrokenError
	if !errors.As(err, &be) {
		t.Fatalf("Verify = %v, want a BrokenError", err)
	}
	if be.ID != id {
		t.Fatalf("Verify names row %d (%s), want %d", be.ID, be.Reason, id)
	}
}

// DOMAIN §7 / R-OVS-3: records protected from tampering.
func TestVerifyDetectsTampering(t *testing.T) {
	cases := []struct {
		name   string
		tamper string
		badRow int64
	}{
		{"altered field", "UPDATE audit_log SET outcome = 'denied' WHERE id = 3", 3},
		{"altered and rehashed row", "UPDATE audit_log SET hash = 'x', outcome = 'denied' WHERE id = 2", 2},
		{"removed middle row", "DELETE FROM audit_log WHERE id = 4", 4},
		{"removed newest row", "DELETE FROM audit_log WHERE id = 5", 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				seed(t, db, 5)
				if n, err := audit.Verify(context.Background(), db); err != nil || n != 5 {
					t.Fatalf("clean log: %d rows, %v", n, err)
				}
				if _, err := db.Exec(context.Background(), c.tamper); err != nil {
					t.Fatal(err)
				}
				wantBroken(t, db, c.badRow)
			})
		})
	}
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					if err := audit.Log(context.Background(), db, audit.Entry{At: time.Now(), Actor: "c", Action: "read", Outcome: audit.OK}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if n, err := audit.Verify(context.Background(), db); err != nil || n != 40 {
			t.Fatalf("after concurrent appends: %d rows, %v", n, err)
		}
		list, err := audit.List(context.Background(), db, audit.Query{Limit: 5})
		if err != nil || len(list) != 5 || list[0].ID != 40 {
			t.Fatalf("List: %v %v", list, err)
		}
	})
}

// R-OVS-3: entries appended together chain like entries appended one by
// one, across the statement sizes a batch is cut into (300 = 256+16+16+12×1).
func TestAppendManyChains(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seed(t, db, 2)
		at := time.Date(2026, 12, 3, 1, 2, 3, 0, time.UTC)
		es := make([]audit.Entry, 300)
		for i := range es {
			es[i] = audit.Entry{At: at, Actor: "importer", Action: "elder.create", TargetType: "elder", Outcome: audit.OK}
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return audit.AppendMany(ctx, tx, es) }); err != nil {
			t.Fatal(err)
		}
		seed(t, db, 1)
		if n, err := audit.Verify(ctx, db); err != nil || n != 303 {
			t.Fatalf("Verify = %d rows, %v; want 303 rows and an intact chain", n, err)
		}
		if _, err := db.Exec(ctx, "UPDATE audit_log SET action = 'elder.update' WHERE id = 200"); err != nil {
			t.Fatal(err)
		}
		wantBroken(t, db, 200)
	})
}

// Callers sharing a grouped transaction append in turn, each from the
// head the previous one left; one that fails after appending takes its
// entry back, and the next one chains from the head before it.
func TestGroupedAppendsChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seed(t, db, 1)
		at := time.Date(2026, 12, 4, 1, 2, 3, 0, time.UTC)
		fail := errors.New("refused after its audit entry")
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := range 60 {
			wg.Go(func() {
				err := db.InTxGrouped(ctx, func(tx *store.Tx) error {
					e := audit.Entry{At: at, Actor: "visitor", Action: "visit.create", TargetType: "visit", Outcome: audit.OK}
					if err := audit.Append(ctx, tx, e); err != nil {
						return err
					}
					if i%3 == 0 {
						return fail
					}
					return nil
				})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, fail):
					t.Errorf("caller %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if n, err := audit.Verify(ctx, db); err != nil || n != int64(1+ok) || ok != 40 {
			t.Fatalf("Verify = %d rows, %v after %d appends kept; want 41 rows and an intact chain", n, err, ok)
		}
	})
}
