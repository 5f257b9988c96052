package bench

import (
	"context"
	"fmt"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/plan"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/assess"
	"tanfang/internal/policy/classify"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
)

// account is a login the bench uses.
type account struct {
	user     auth.User
	password string
	token    string
	// For visitor accounts: the visitor they are, and that visitor's
	// elders, whom their visits go to.
	visitorID int64
	elders    []int64
}

type accounts struct {
	city     account
	visitors []account
}

func (r *run) createUser(ctx context.Context, username, role, area string) (account, error) {
	pw := password()
	svc := &auth.Service{DB: r.db, Cost: 4}
	u, err := svc.CreateUser(ctx, auth.NewUser{Username: username, DisplayName: username, Password: pw, Role: role, AreaCode: area},
		audit.Entry{Actor: "bench", IP: "local"})
	if err != nil {
		return account{}, fmt.Errorf("account %s: %w", username, err)
	}
	return account{user: u, password: pw}, nil
}

// accounts makes the city account, which also stands as the recorder of
// the loaded visits.
func (r *run) accounts(ctx context.Context) (*accounts, error) {
	city, err := r.createUser(ctx, "bench-city", auth.RoleCity, areas.CityCode)
	if err != nil {
		return nil, err
	}
	return &accounts{city: city}, nil
}

// load writes the elders, visitors and pairings, then the weeks. The
// indexes of the big tables are dropped first and built once at the end.
func (r *run) load(ctx context.Context, acc *accounts) error {
	l := &loader{db: r.db, keys: r.keys, now: r.now, today: age.DateOf(r.now), ts: store.FormatTime(r.now), seed: r.cfg.Seed,
		rules: classify.DefaultCRules(), set: assess.DefaultSettings()}
	begin := time.Now()
	dropped, err := dropIndexes(ctx, r.db, "elders", "elder_versions", "class_history", "visits")
	if err != nil {
		return err
	}
	r.logf("loading %d elders", r.cfg.Elders)
	fig, err := l.loadElders(ctx, r.cfg.Elders)
	if err != nil {
		return fmt.Errorf("load elders: %w", err)
	}
	r.res.Load = fig
	r.logf("%d elders (%d in scope), %d visitors, %d pairings in %.1f s", fig.Elders, fig.InScope, fig.Visitors, fig.Pairings, fig.ElderSeconds)
	// The roster is written now, while the generator still knows every ID
	// number it made, and before memory is measured.
	rosterStart := time.Now()
	if r.roster, err = r.writeRoster(ctx, l.gen, r.work, r.cfg.ImportRows); err != nil {
		return fmt.Errorf("roster: %w", err)
	}
	roster := time.Since(rosterStart)
	r.logf("roster of %d rows written in %.1f s (not counted in the load)", r.cfg.ImportRows, roster.Seconds())

	if _, err := r.db.Exec(ctx, `CREATE TABLE bench_days (week TEXT NOT NULL, i INTEGER NOT NULL, bit INTEGER NOT NULL,
		call_at TEXT NOT NULL, call_end TEXT NOT NULL, call_rec TEXT NOT NULL,
		home_at TEXT NOT NULL, home_end TEXT NOT NULL, home_rec TEXT NOT NULL, late_rec TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("bench days: %w", err)
	}
	f := &weekFiller{db: r.db, plan: &plan.Service{DB: r.db, Keys: r.keys, Now: func() time.Time { return r.now }}, now: r.now,
		recorder: acc.city.user.ID, logf: r.logf}
	first := schedule.WeekOf(r.now)
	for range r.cfg.Weeks - 1 {
		first = first.Prev()
	}
	w := first
	for k := range r.cfg.Weeks {
		wf, err := f.fill(ctx, w, k)
		if err != nil {
			return err
		}
		r.res.WeekLoad = append(r.res.WeekLoad, wf)
		r.res.Visits += wf.Visits
		r.logf("week %s: %d visits in %.1f s", wf.Week, wf.Visits, wf.Seconds)
		w = w.Next()
	}
	start := time.Now()
	if err := buildIndexes(ctx, r.db, dropped); err != nil {
		return err
	}
	r.res.Load.IndexSeconds = time.Since(start).Seconds()
	r.logf("%d indexes built in %.1f s", len(dropped), r.res.Load.IndexSeconds)
	// Follow-ups point at the visit that found the problem, found through
	// the visits' index.
	w = first
	for k := range r.cfg.Weeks {
		n, err := f.followups(ctx, w, k)
		if err != nil {
			return err
		}
		r.res.WeekLoad[k].Followups = n
		w = w.Next()
	}
	if _, err := r.db.Exec(ctx, "DROP TABLE bench_days"); err != nil {
		return err
	}
	if r.db.Dialect == store.Postgres {
		// Autovacuum would analyse the new tables within minutes; the bench
		// does not wait for it.
		if _, err := r.db.Exec(ctx, "ANALYZE"); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
	}
	r.res.Load.Seconds = (time.Since(begin) - roster).Seconds()
	for _, t := range loadedTables {
		var n int
		if err := r.db.QueryRow(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n); err != nil {
			return fmt.Errorf("count %s: %w", t, err)
		}
		r.res.Load.Rows += n
	}
	return nil
}

// loadedTables are the tables the load fills; their rows, over the load's
// time, are its write rate.
var loadedTables = []string{"elders", "elder_versions", "class_history", "visitors", "pairings",
	"plan_weeks", "plan_months", "visits", "followups", "followup_events"}

func sumSeconds(ws []WeekFigures) float64 {
	s := 0.0
	for _, w := range ws {
		s += w.Seconds
	}
	return s
}

// visitorAccounts gives the first n villages with the most visitors a
// visitor account each, linked to the village's first visitor, whose
// elders its visits go to.
func (r *run) visitorAccounts(ctx context.Context, acc *accounts, n int) error {
	rows, err := r.db.Query(ctx, `SELECT area_code, MIN(id) FROM visitors GROUP BY area_code ORDER BY COUNT(*) DESC, area_code LIMIT ?`, n)
	if err != nil {
		return fmt.Errorf("villages for clients: %w", err)
	}
	type pick struct {
		area string
		id   int64
	}
	var picks []pick
	for rows.Next() {
		var p pick
		if err := rows.Scan(&p.area, &p.id); err != nil {
			rows.Close()
			return err
		}
		picks = append(picks, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(picks) < n {
		return fmt.Errorf("only %d villages have visitors, %d clients asked", len(picks), n)
	}
	for i, p := range picks {
		a, err := r.createUser(ctx, fmt.Sprintf("bench-visitor-%d", i+1), auth.RoleVisitor, p.area)
		if err != nil {
			return err
		}
		if _, err := r.db.Exec(ctx, "UPDATE visitors SET user_id = ? WHERE id = ?", a.user.ID, p.id); err != nil {
			return fmt.Errorf("link visitor: %w", err)
		}
		a.visitorID = p.id
		er, err := r.db.Query(ctx, "SELECT elder_id FROM pairings WHERE visitor_id = ? AND role = 'primary' AND ended_at = '' ORDER BY elder_id", p.id)
		if err != nil {
			return err
		}
		for er.Next() {
			var id int64
			if err := er.Scan(&id); err != nil {
				er.Close()
				return err
			}
			a.elders = append(a.elders, id)
		}
		er.Close()
		if err := er.Err(); err != nil {
			return err
		}
		if len(a.elders) == 0 {
			return fmt.Errorf("visitor %d has no elders", p.id)
		}
		acc.visitors = append(acc.visitors, a)
	}
	return nil
}
