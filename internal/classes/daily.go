package classes

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"tanfang/internal/policy/age"
	"tanfang/internal/store"
)

// batch is how many files one transaction reclassifies: enough to make
// commits cheap, few enough that SQLite's one writer is never held long.
const batch = 50

// RunDaily reclassifies every file due on now's Shanghai day: the
// age crossings classify.NextChange foresaw (an elder living alone becomes
// class A on the 80th birthday), files never classified, and files a
// county's new rules left due.
func (s *Service) RunDaily(ctx context.Context, now time.Time) (Applied, error) {
	return s.recomputeDue(ctx, now, everywhere[0], everywhere[1], CauseDaily, time.Time{})
}

// recomputeDue works through the due files with codes in [lo, hi) until
// none is left or, when deadline is set, the deadline passes; Pending then
// counts what is left. A recomputed file is no longer due (its next check
// lies after today), so each query simply takes the next batch; done only
// guards against a file that would somehow stay due.
func (s *Service) recomputeDue(ctx context.Context, now time.Time, lo, hi, cause string, deadline time.Time) (Applied, error) {
	today := age.DateOf(now).String()
	var ap Applied
	done := map[int64]bool{}
	for {
		if !deadline.IsZero() && time.Now().After(deadline) {
			n, err := countDue(ctx, s.DB, today, lo, hi)
			ap.Pending = n
			return ap, err
		}
		ids, err := dueIDs(ctx, s.DB, today, lo, hi)
		if err != nil {
			return ap, err
		}
		var fresh []int64
		for _, id := range ids {
			if !done[id] {
				fresh = append(fresh, id)
				done[id] = true
			}
		}
		if len(fresh) == 0 {
			return ap, nil
		}
		changed := 0
		err = s.DB.InTx(ctx, func(tx *store.Tx) error {
			changed = 0
			for _, id := range fresh {
				c, err := Recompute(ctx, tx, id, cause, now)
				if err != nil {
					return err
				}
				if c {
					changed++
				}
			}
			return nil
		})
		if err != nil {
			return ap, fmt.Errorf("reclassify: %w", err)
		}
		ap.Reclassified += len(fresh)
		ap.Changed += changed
	}
}

// due is the condition of a due file and its arguments. It names no other
// column unless it must, so the query runs on the index of class_next_check
// rather than scanning every file: inactive files need no test, since
// Recompute leaves them with no next check.
func due(today, lo, hi string) (string, []any) {
	where := "class_next_check <> '' AND class_next_check <= ?"
	args := []any{today}
	if lo != everywhere[0] || hi != everywhere[1] {
		where += " AND area_code >= ? AND area_code < ?"
		args = append(args, lo, hi)
	}
	return where, args
}

func dueIDs(ctx context.Context, db *store.DB, today, lo, hi string) ([]int64, error) {
	where, args := due(today, lo, hi)
	ids, err := store.Int64s(db.Query(ctx, "SELECT id FROM elders WHERE "+where+" LIMIT ?", append(args, batch)...))
	if err != nil {
		return nil, fmt.Errorf("due files: %w", err)
	}
	return ids, nil
}

func countDue(ctx context.Context, db *store.DB, today, lo, hi string) (int, error) {
	where, args := due(today, lo, hi)
	var n int
	err := db.QueryRow(ctx, "SELECT COUNT(*) FROM elders WHERE "+where, args...).Scan(&n)
	return n, err
}

// Start runs the reclassification job until ctx ends: at once, then every
// hour. Only files due on the Shanghai day are touched, so age crossings
// are applied once, early on the day they happen, and a county's rule
// change left unfinished by its request is completed within the hour.
// serve calls it; several app servers may each run one, since a second
// pass over the same file finds nothing to change.
func (s *Service) Start(ctx context.Context, log *slog.Logger) {
	run := func() {
		ap, err := s.RunDaily(ctx, s.now())
		if err != nil {
			if ctx.Err() == nil {
				log.Error("daily reclassification", "err", err)
			}
			return
		}
		if ap.Reclassified > 0 {
			log.Info("daily reclassification", "files", ap.Reclassified, "changed", ap.Changed)
		}
	}
	go func() {
		run()
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				run()
			}
		}
	}()
}
