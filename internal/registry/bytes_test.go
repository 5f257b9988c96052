package registry

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"tanfang/internal/store"
)

// Issue 3 §6: the raw SQLite file, and its write-ahead log, hold no ID or
// phone number in clear. Names are kept in clear for search, so finding
// the name shows the bytes read are the ones written. (On PostgreSQL the
// no_numbers_in_clear scenario of TestRegistry reads every column.)
func TestSQLiteFileHoldsNoNumbersInClear(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tanfang.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	su := newSuite(t, db)
	w := su.world(t)
	var ids []int64
	for i, name := range []string{"欧阳样本", "司马测试", "上官示例"} {
		id := w.id("1941-0"+string(rune('1'+i))+"-15", i%2 == 0, i)
		in := w.complete(name, id, "1380013800"+string(rune('0'+i)), w.v1)
		in.DisabilityCertificate = ptr(id + "42")
		ids = append(ids, w.create(t, w.home, in).ID)
	}
	if _, err := w.s.Update(ctx, admin, w.home, ids[0], 1, Input{Phone: w.phone("0518-85812345")}, "换号"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.s.Reveal(ctx, admin, w.home, ids[1]); err != nil {
		t.Fatal(err)
	}

	var raw []byte
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	if !bytes.Contains(raw, []byte("司马测试")) {
		t.Fatal("the files read do not hold the data written")
	}
	for _, n := range w.numbers {
		for _, form := range []string{n, string(bytes.ReplaceAll([]byte(n), []byte("-"), nil))} {
			if bytes.Contains(raw, []byte(form)) {
				t.Errorf("database file holds %s in clear", form)
			}
		}
	}
	if len(w.numbers) < 8 {
		t.Fatalf("only %d numbers checked", len(w.numbers))
	}
}
