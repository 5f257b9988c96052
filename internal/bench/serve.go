package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/google/uuid"

	"tanfang/internal/areas"
	"tanfang/internal/auth"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/visits"
	"tanfang/internal/web"
)

// visitBody is the i-th visit a visitor's phone submits: one of the
// visitor's elders, mostly home visits, a few empty ones (空访), now and
// then a finding that opens a follow-up.
func visitBody(a *account, i int) []byte {
	now := time.Now()
	start := now.Add(-time.Duration(40+i%80) * time.Minute)
	in := visits.Input{
		ClientID: uuid.NewString(), ElderID: a.elders[(i*7)%len(a.elders)],
		StartedAt: start.Format(time.RFC3339), EndedAt: start.Add(25 * time.Minute).Format(time.RFC3339),
		RecordedAt: start.Add(30 * time.Minute).Format(time.RFC3339), Outcome: "done",
	}
	switch m := i % 20; {
	case m < 11:
		in.Mode = "home"
	case m < 18:
		in.Mode = "phone"
	default:
		in.Mode = "video"
	}
	switch {
	case in.Mode == "home" && i%37 == 0:
		in.Outcome = "not_home"
	case in.Mode == "home":
		in.Findings = visits.Findings{Expression: "good", Mobility: "good", Mental: "good", Illness: "same",
			House: "safe", Gas: "safe", WaterHeating: "safe", Electricity: "safe", Hygiene: "good", Supporter: "good"}
		if i%41 == 0 {
			in.Findings.Gas = "unsafe"
		}
		in.Education = "提醒按时服药，注意用电用气安全"
	default:
		in.Findings = visits.Findings{Expression: "good", Mobility: "fair", Mental: "good", Illness: "same"}
	}
	b, _ := json.Marshal(in)
	return b
}

func (r *run) login(ctx context.Context, cl *client, a *account) error {
	body, _ := json.Marshal(map[string]string{"username": a.user.Username, "password": a.password})
	out, err := cl.do(ctx, http.MethodPost, "/api/v1/login", "", body, http.StatusOK)
	if err != nil {
		return err
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(out, &tok); err != nil || tok.Token == "" {
		return fmt.Errorf("login %s: no token in %s", a.user.Username, out)
	}
	a.token = tok.Token
	return nil
}

// serve runs the real server on a loopback port and measures the visit
// submissions, the task list, the city's week of compliance and the city
// dashboard, and the server's memory over them.
func (r *run) serve(ctx context.Context, acc *accounts, raw *raws) error {
	stop := watch()
	baseRSS, _ := procStatus()
	srv, err := web.New(&web.Server{DB: r.db, Keys: r.keys, Auth: &auth.Service{DB: r.db}, Areas: areas.Store{DB: r.db},
		Log: slog.New(slog.NewTextHandler(r.cfg.Log, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go hs.Serve(ln)
	defer hs.Close()
	cl := newClient("http://"+ln.Addr().String(), r.cfg.Clients)
	if err := r.login(ctx, cl, &acc.city); err != nil {
		return err
	}
	for i := range acc.visitors {
		if err := r.login(ctx, cl, &acc.visitors[i]); err != nil {
			return err
		}
	}

	r.logf("visit submissions: %d clients, up to %d visits or %s", r.cfg.Clients, r.cfg.VisitCount, r.cfg.VisitTime)
	var tp Throughput
	err = r.profile("visits", func() (err error) {
		tp, err = hammer(ctx, r.cfg.Clients, r.cfg.VisitCount, r.cfg.VisitTime, func(ctx context.Context, c, i int) error {
			a := &acc.visitors[c]
			_, err := cl.do(ctx, http.MethodPost, "/api/v1/visits", a.token, visitBody(a, i), http.StatusCreated)
			return err
		})
		return err
	})
	if err != nil {
		// A server that fails or stalls under the load is a finding, not
		// the end of the run: the other phases are still measured.
		r.logf("visit submissions failed: %v", err)
		r.add(Line{ID: "visits_rate", Name: "visits: POST /api/v1/visits", Target: "≥ 2,000/s", Verdict: "MISS",
			Note: "failed: " + err.Error()})
	} else {
		r.logf("visits: %.0f/s, p50 %.1f ms, p99 %.1f ms", tp.PerSec, tp.Latency.P50, tp.Latency.P99)
		clients := fmt.Sprintf("%d clients, %d visits in %.1f s", tp.Clients, tp.Count, tp.Seconds)
		r.add(Line{ID: "visits_rate", Name: "visits: POST /api/v1/visits", Value: tp.PerSec, Unit: "visits/s",
			Target: "≥ 2,000/s", Verdict: verdict(tp.PerSec >= 2000),
			RawName: "no-op handler, same clients", Raw: raw.http.PerSec, RawUnit: "req/s", Note: clients})
		r.add(Line{ID: "visits_tx", Name: "visits against write transactions", Value: tp.PerSec, Unit: "visits/s",
			RawName: fmt.Sprintf("1-row write tx, %d goroutines", raw.tx.Clients), Raw: raw.tx.PerSec, RawUnit: "tx/s"})
		r.add(Line{ID: "visits_p50", Name: "visits: latency p50", Value: tp.Latency.P50, Unit: "ms",
			RawName: "no-op handler p50", Raw: raw.http.Latency.P50, RawUnit: "ms"})
		r.add(Line{ID: "visits_p99", Name: "visits: latency p99", Value: tp.Latency.P99, Unit: "ms",
			Target: "< 100 ms", Verdict: verdict(tp.Latency.P99 < 100),
			RawName: "no-op handler p99", Raw: raw.http.Latency.P99, RawUnit: "ms"})
	}

	if err := r.profile("reads", func() error { return r.reads(ctx, cl, acc, raw) }); err != nil {
		return err
	}
	mem := stop()
	m := Line{ID: "server_rss", Name: "server: peak RSS over the HTTP phases", Value: mem.HWMMB, Unit: "MB",
		Target: "< 150 MB with 100,000 elders", RawName: "RSS before serving", Raw: baseRSS, RawUnit: "MB",
		Note: fmt.Sprintf("Go heap %.0f MB now, peak %.0f MB; VmRSS %.0f MB now", mem.HeapMB, mem.HeapPeakMB, mem.RSSMB)}
	if !mem.HWMReset {
		m.Note += "; the peak could not be reset and covers the whole run"
	}
	if r.cfg.Elders <= 100_000 {
		m.Verdict = verdict(mem.HWMMB < 150)
	}
	r.add(m)
	r.add(Line{ID: "server_heap", Name: "server: Go heap peak", Value: mem.HeapPeakMB, Unit: "MB"})
	return nil
}

// reads measures the task list, the week's compliance and the dashboard.
func (r *run) reads(ctx context.Context, cl *client, acc *accounts, raw *raws) error {
	v := acc.visitors[0]
	cur := schedule.WeekOf(time.Now())
	tasks := fmt.Sprintf("/api/v1/tasks?visitor_id=%d&week=%s", v.visitorID, cur)
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	lat, err := r.read(ctx, cl, v.token, tasks, &list, func() error {
		if len(list.Items) == 0 {
			return fmt.Errorf("the task list of visitor %d is empty", v.visitorID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.addLatency("tasks", "task list: GET /api/v1/tasks", fmt.Sprintf("one visitor, %d elders", len(list.Items)), lat, 10,
		"bare SELECT of its rows", raw.taskRows)

	compliance := fmt.Sprintf("/api/v1/stats/compliance?area_code=%s&week=%s", areas.CityCode, raw.week)
	var comp struct {
		InScope int `json:"in_scope"`
	}
	lat, err = r.read(ctx, cl, acc.city.token, compliance, &comp, func() error {
		if comp.InScope == 0 {
			return fmt.Errorf("compliance of %s counts no elder in scope", raw.week)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.addLatency("compliance", "city week: GET /api/v1/stats/compliance",
		fmt.Sprintf("the city, %s, %d elder-weeks in scope", raw.week, comp.InScope), lat, 2000, "COUNT(*) of the week's rows", raw.count)

	overview := "/api/v1/stats/overview?area_code=" + areas.CityCode
	start := time.Now()
	if _, err := cl.do(ctx, http.MethodGet, overview, acc.city.token, nil, http.StatusOK); err != nil {
		return err
	}
	first := time.Since(start)
	lat, err = r.read(ctx, cl, acc.city.token, overview, nil, nil)
	if err != nil {
		return err
	}
	r.addLatency("dashboard", "city dashboard: GET /api/v1/stats/overview",
		fmt.Sprintf("first call %.0f ms (builds the snapshot)", ms(first)), lat, 300, "COUNT(*) of the week's rows", raw.count)
	return nil
}

// read times repeated GETs of path; the first answer is decoded into out
// (when not nil) and checked.
func (r *run) read(ctx context.Context, cl *client, token, path string, out any, check func() error) (Latencies, error) {
	body, err := cl.do(ctx, http.MethodGet, path, token, nil, http.StatusOK)
	if err != nil {
		return Latencies{}, err
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return Latencies{}, fmt.Errorf("GET %s: %w", path, err)
		}
	}
	if check != nil {
		if err := check(); err != nil {
			return Latencies{}, err
		}
	}
	lat, err := repeat(ctx, r.cfg.Samples, r.cfg.ReadTime, func() error {
		_, err := cl.do(ctx, http.MethodGet, path, token, nil, http.StatusOK)
		return err
	})
	if err == nil {
		r.logf("GET %s: p50 %.1f ms, p99 %.1f ms over %d calls", path, lat.P50, lat.P99, lat.N)
	}
	return lat, err
}

// addLatency adds the p50 and p99 lines of a read; the target applies to
// the p50 (a typical call).
func (r *run) addLatency(id, name, note string, lat Latencies, targetMS float64, rawName string, raw Latencies) {
	r.add(Line{ID: id + "_p50", Name: name + " p50", Value: lat.P50, Unit: "ms",
		Target: fmt.Sprintf("< %s ms", thousands(targetMS)), Verdict: verdict(lat.P50 < targetMS),
		RawName: rawName + " p50", Raw: raw.P50, RawUnit: "ms", Note: fmt.Sprintf("%s; %d calls", note, lat.N)})
	r.add(Line{ID: id + "_p99", Name: name + " p99", Value: lat.P99, Unit: "ms",
		RawName: rawName + " p99", Raw: raw.P99, RawUnit: "ms"})
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// add appends a line, working out its ratio.
func (r *run) add(l Line) {
	if l.Raw > 0 && l.Value > 0 {
		l.Ratio = l.Value / l.Raw
	}
	r.res.Lines = append(r.res.Lines, l)
}
