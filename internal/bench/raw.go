package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
)

// raws are the limits of this machine and database, measured in the run.
type raws struct {
	// Plain multi-row INSERTs of elders rows into a table without
	// indexes or constraints.
	bulkRowsPerSec float64
	// One-row write transactions from the clients' number of goroutines.
	tx Throughput
	// A no-op handler under the same clients and request bodies.
	http Throughput
	// A no-op GET from one client.
	httpGet Latencies
	// SELECT COUNT(*) over the compliance week's rollup rows.
	count     Latencies
	countRows int
	// The rollup rows of the task list's visitor and week, no joins.
	taskRows Latencies
	// week is the compliance week (the last full one when there is one).
	week schedule.Week
}

func (r *run) rawLimits(ctx context.Context, acc *accounts) (*raws, error) {
	out := &raws{week: schedule.WeekOf(r.now)}
	if r.cfg.Weeks > 1 {
		out.week = out.week.Prev()
	}
	var err error
	if out.bulkRowsPerSec, err = r.rawBulk(ctx); err != nil {
		return nil, err
	}
	r.logf("raw: bulk INSERT %.0f rows/s", out.bulkRowsPerSec)
	if out.tx, err = r.rawTx(ctx); err != nil {
		return nil, err
	}
	r.logf("raw: %.0f one-row write transactions/s", out.tx.PerSec)
	if out.http, out.httpGet, err = r.rawHTTP(ctx, acc); err != nil {
		return nil, err
	}
	r.logf("raw: no-op handler %.0f requests/s, p99 %.1f ms", out.http.PerSec, out.http.Latency.P99)
	if out.count, err = repeat(ctx, r.cfg.Samples, r.cfg.ReadTime/4, func() error {
		return r.db.QueryRow(ctx, "SELECT COUNT(*) FROM plan_weeks WHERE week = ?", out.week.String()).Scan(&out.countRows)
	}); err != nil {
		return nil, err
	}
	r.logf("raw: COUNT(*) of %d rollup rows of %s in %.1f ms", out.countRows, out.week, out.count.P50)
	v := acc.visitors[0]
	cur := schedule.WeekOf(r.now).String()
	if out.taskRows, err = repeat(ctx, r.cfg.Samples, r.cfg.ReadTime/4, func() error {
		rows, err := r.db.Query(ctx, "SELECT * FROM plan_weeks WHERE visitor_id = ? AND week = ?", v.visitorID, cur)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
		}
		return rows.Err()
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// rawBulk copies loaded elders rows into a bare table of the same columns
// with the loader's multi-row INSERTs.
func (r *run) rawBulk(ctx context.Context) (float64, error) {
	cols := strings.Join(elderCols, ", ")
	if _, err := r.db.Exec(ctx, "CREATE TABLE bench_raw AS SELECT "+cols+" FROM elders WHERE 1 = 0"); err != nil {
		return 0, err
	}
	defer r.db.Exec(context.WithoutCancel(ctx), "DROP TABLE bench_raw")
	sample, err := r.sampleRows(ctx, "SELECT "+cols+" FROM elders ORDER BY id LIMIT 20000", len(elderCols))
	if err != nil {
		return 0, err
	}
	if len(sample) == 0 {
		return 0, fmt.Errorf("no elders to copy")
	}
	target := min(100_000, max(10_000, r.cfg.Elders))
	b := newBatch("bench_raw", elderCols...)
	start := time.Now()
	for i := 0; i < target; i++ {
		if b.add(sample[i%len(sample)]...) {
			if err := b.flush(ctx, r.db); err != nil {
				return 0, err
			}
		}
	}
	if err := b.flush(ctx, r.db); err != nil {
		return 0, err
	}
	return float64(b.total) / time.Since(start).Seconds(), nil
}

func (r *run) sampleRows(ctx context.Context, q string, n int) ([][]any, error) {
	rows, err := r.db.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals := make([]any, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

// rawTx commits one-row transactions of a visit's width from as many
// goroutines as there are clients.
func (r *run) rawTx(ctx context.Context) (Throughput, error) {
	if _, err := r.db.Exec(ctx, "CREATE TABLE bench_tx AS SELECT * FROM visits WHERE 1 = 0"); err != nil {
		return Throughput{}, err
	}
	defer r.db.Exec(context.WithoutCancel(ctx), "DROP TABLE bench_tx")
	ts := store.FormatTime(r.now)
	return hammer(ctx, r.cfg.Clients, 1<<40, r.cfg.RawTime, func(ctx context.Context, c, i int) error {
		return r.db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO bench_tx (id, client_id, elder_id, area_code, recorded_by, mode, started_at, ended_at, outcome,
				expression, mobility, mental, illness, house, gas, water_heating, electricity, hygiene, supporter,
				late, recorded_at, received_at, has_photo, version, updated_at)
				VALUES (?, ?, 1, '320706102206', 1, 'home', ?, ?, 'done', 'good', 'good', 'good', 'same', 'safe', 'safe', 'safe', 'safe', 'good', 'good',
				0, ?, ?, 0, 1, ?)`, c<<32|i, fmt.Sprintf("raw-%d-%d", c, i), ts, ts, ts, ts, ts)
			return err
		})
	})
}

// rawHTTP serves a handler that reads the body and answers 201 with a tiny
// JSON object, and drives it with the clients and bodies of the visit
// submissions; then one client's GET round trip.
func (r *run) rawHTTP(ctx context.Context, acc *accounts) (Throughput, Latencies, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Throughput{}, Latencies{}, err
	}
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":1}`))
	})}
	go hs.Serve(ln)
	defer hs.Close()
	cl := newClient("http://"+ln.Addr().String(), r.cfg.Clients)
	tp, err := hammer(ctx, r.cfg.Clients, r.cfg.VisitCount, r.cfg.RawTime, func(ctx context.Context, c, i int) error {
		a := &acc.visitors[c%len(acc.visitors)]
		_, err := cl.do(ctx, http.MethodPost, "/noop", "token", visitBody(a, i), http.StatusCreated)
		return err
	})
	if err != nil {
		return tp, Latencies{}, err
	}
	get, err := repeat(ctx, r.cfg.Samples, r.cfg.ReadTime/4, func() error {
		_, err := cl.do(ctx, http.MethodGet, "/noop", "token", nil, http.StatusCreated)
		return err
	})
	return tp, get, err
}
