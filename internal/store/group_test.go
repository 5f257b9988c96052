package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

// Nothing lost: callers sharing a grouped transaction each get their own
// outcome. A failing or panicking caller's writes are undone, the others'
// commit; a cancelled caller that was never run writes nothing.
func TestGroupedTransactionsKeepCallersApart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "CREATE TABLE counter (n INTEGER NOT NULL UNIQUE)"); err != nil {
			t.Fatal(err)
		}
		const callers = 300
		refused := errors.New("refused")
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = db.InTxGrouped(ctx, func(tx *store.Tx) error {
					if _, err := tx.Exec(ctx, "INSERT INTO counter (n) VALUES (?)", i); err != nil {
						return err
					}
					switch i % 10 {
					case 3:
						return refused
					case 7:
						_, err := tx.Exec(ctx, "INSERT INTO counter (n) VALUES (?)", (i+1)%callers) // may clash with a neighbour
						if err == nil {
							_, err = tx.Exec(ctx, "INSERT INTO counter (n) VALUES (?)", i) // clashes with its own row
						}
						return err
					case 9:
						panic("bug")
					}
					return nil
				})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			switch i % 10 {
			case 3, 7, 9:
				if err == nil {
					t.Fatalf("caller %d: no error", i)
				}
			default:
				if err != nil {
					t.Fatalf("caller %d: %v", i, err)
				}
			}
		}
		var n, bad int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM counter").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM counter WHERE n % 10 IN (3, 7, 9)").Scan(&bad); err != nil {
			t.Fatal(err)
		}
		if n != callers*7/10 || bad != 0 {
			t.Fatalf("%d rows, %d of failed callers; want %d and 0", n, bad, callers*7/10)
		}

		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		err := db.InTxGrouped(cancelled, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO counter (n) VALUES (?)", -1)
			return err
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled caller: %v", err)
		}
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM counter WHERE n = -1").Scan(&n); err != nil || n != 0 {
			t.Fatalf("cancelled caller's row: %d %v", n, err)
		}
	})
}

// Closing the database lets every caller already waiting finish.
func TestGroupedTransactionsFinishBeforeClose(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	if _, err := db.Exec(ctx, "CREATE TABLE counter (n INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.InTxGrouped(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO counter (n) VALUES (%d)", i))
				return err
			})
		}()
	}
	wg.Wait()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.InTxGrouped(ctx, func(*store.Tx) error { return nil }); err == nil {
		t.Fatal("a grouped transaction began on a closed database")
	}
}

// Nothing lost: the checkpointer, not the writer's commits, copies the
// write-ahead log into the database file, and it does so while the
// database stays open.
func TestCheckpointerCopiesTheLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ck.db")
	db := fillerDB(t, path)
	before := fileSize(t, path)
	for range 200 {
		if _, err := db.Exec(ctx, "INSERT INTO filler (s) VALUES (?)", strings.Repeat("x", 4000)); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); fileSize(t, path) < before+200*4000; {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes after 800 kB written: the log was not copied back", fileSize(t, path))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fillerDB opens an SQLite file at path with one table of text rows,
// closed when the test ends.
func fillerDB(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(context.Background(), "CREATE TABLE filler (s TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	return db
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// A steady stream of writes must not grow the write-ahead log without
// end: once the log is long, the checkpointer makes the writer start it
// afresh (building the demo city once left a log of half a gigabyte).
func TestCheckpointerKeepsTheLogShortUnderSteadyWrites(t *testing.T) {
	t.Cleanup(store.SetCheckpointing(100*time.Millisecond, 256, 1<<20)) // after the database closes
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "steady.db")
	db := fillerDB(t, path)
	row := strings.Repeat("x", 4000)
	written, rows := 0, 0
	for start := time.Now(); time.Since(start) < 5*time.Second; {
		if _, err := db.Exec(ctx, "INSERT INTO filler (s) VALUES (?)", row); err != nil {
			t.Fatal(err)
		}
		written += len(row)
		rows++
	}
	wal := fileSize(t, path+"-wal")
	t.Logf("log %d bytes after %d bytes written", wal, written)
	// Without restarts the log holds about three times what was written
	// (each one-row commit writes whole pages); with them, about the
	// last tenth of a second's writes.
	if wal > int64(written/4) {
		t.Fatalf("log of %d bytes after %d bytes written in a steady stream: it was never started afresh", wal, written)
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM filler").Scan(&n); err != nil || n != rows {
		t.Fatalf("%d rows read back of %d written (%v)", n, rows, err)
	}
}
