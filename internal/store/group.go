package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
)

// maxGroup bounds how many callers share one grouped transaction, and so
// how long the first of them waits for the last.
const maxGroup = 32

// grouper runs the functions given to InTxGrouped on SQLite's one write
// connection, as many as are waiting in one transaction.
type grouper struct {
	start  sync.Once
	mu     sync.RWMutex // held to send jobs; stopping takes it to close
	closed bool
	jobs   chan *groupJob
	quit   chan struct{}
	done   chan struct{}
}

type groupJob struct {
	ctx    context.Context
	fn     func(*Tx) error
	result chan error
}

// InTxGrouped runs fn in a write transaction like InTx. fn may share the
// transaction with the functions of other callers waiting at the same
// time, each inside a savepoint of its own, so that fn's error undoes only
// fn's writes; it returns once the shared transaction has committed, or
// with the error that failed it. The commit is then paid once per group
// rather than once per caller: on SQLite its system calls for the
// write-ahead log, on PostgreSQL its wait for the disk, during which the
// audit chain's head row stays locked and every other writer waits too.
// That is what lets the database keep up with many phones sending visits.
// fn runs on another goroutine and must not begin a transaction of its
// own; on PostgreSQL it may run twice (see runGroup).
func (db *DB) InTxGrouped(ctx context.Context, fn func(*Tx) error) error {
	g := &db.group
	g.start.Do(func() {
		g.jobs, g.quit, g.done = make(chan *groupJob, maxGroup), make(chan struct{}), make(chan struct{})
		go db.runGroups()
	})
	job := &groupJob{ctx: ctx, fn: fn, result: make(chan error, 1)}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return fmt.Errorf("begin: %w", sql.ErrConnDone)
	}
	select {
	case g.jobs <- job:
		g.mu.RUnlock()
	case <-ctx.Done():
		g.mu.RUnlock()
		return ctx.Err()
	}
	// Once taken, the job's outcome is known only after the group commits:
	// waiting for it even if ctx ends keeps a caller from reporting a
	// failure for writes that did commit.
	return <-job.result
}

func (db *DB) runGroups() {
	g := &db.group
	defer close(g.done)
	for {
		var batch []*groupJob
		select {
		case j := <-g.jobs:
			batch = append(batch, j)
		case <-g.quit:
			// No job is sent once quit is closed; run those still queued.
			if len(g.jobs) == 0 {
				return
			}
			batch = append(batch, <-g.jobs)
		}
	waiting:
		for len(batch) < maxGroup {
			select {
			case j := <-g.jobs:
				batch = append(batch, j)
			default:
				break waiting
			}
		}
		db.runGroup(batch)
	}
}

// runGroup runs batch in one transaction and tells each job its outcome.
func (db *DB) runGroup(batch []*groupJob) {
	ctx := context.Background()
	results := make([]error, len(batch))
	err := db.InTx(ctx, func(t *Tx) error {
		for i, j := range batch {
			if results[i] = j.ctx.Err(); results[i] != nil {
				continue
			}
			if _, err := t.tx.ExecContext(ctx, "SAVEPOINT grouped"); err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			results[i] = runJob(j.fn, t)
			if results[i] != nil {
				if _, err := t.tx.ExecContext(ctx, "ROLLBACK TO grouped"); err != nil {
					return fmt.Errorf("roll back to savepoint: %w", err)
				}
				t.kept = nil
			}
			if _, err := t.tx.ExecContext(ctx, "RELEASE grouped"); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
		return nil
	})
	for i, j := range batch {
		if err != nil && results[i] == nil {
			results[i] = err
		}
		if retryAlone(results[i]) && j.ctx.Err() == nil {
			// PostgreSQL ended the group's transaction, or this job's
			// statement, to break a deadlock or a serialization conflict;
			// the job's writes are undone, so it runs again on its own.
			results[i] = db.InTx(j.ctx, func(t *Tx) error { return runJob(j.fn, t) })
		}
		j.result <- results[i]
	}
}

// retryAlone reports whether err is PostgreSQL breaking a deadlock or a
// serialization conflict, after which a transaction may simply run again.
func retryAlone(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// runJob runs one caller's function, turning a panic into its error so
// that one caller's bug does not stop every caller's writes.
func runJob(fn func(*Tx) error, t *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in grouped transaction: %v", p)
		}
	}()
	return fn(t)
}

// stopGroups ends the grouper after the jobs already sent have run.
func (db *DB) stopGroups() {
	g := &db.group
	g.start.Do(func() {}) // one never started stays so
	if g.quit == nil {
		return
	}
	g.mu.Lock()
	already := g.closed
	g.closed = true
	g.mu.Unlock()
	if !already {
		close(g.quit)
	}
	<-g.done
}
