// Package demo fills an empty database with a living, made-up 连云港: elders
// in every county on the real division codes, visitors paired with them,
// and the last twelve weeks of visits, follow-ups, emergencies, a cold-wave
// campaign and the 重阳 festival week. Everything goes through the real
// services with their clocks set to the moment each thing happens, so the
// rollups, classes, follow-ups, escalations and notifications are the ones
// the product itself made. The people come from internal/synth.
package demo

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/classes"
	"tanfang/internal/pii"
	"tanfang/internal/plan"
	"tanfang/internal/policy/age"
	"tanfang/internal/registry"
	"tanfang/internal/store"
	"tanfang/internal/synth"
	"tanfang/internal/visits"
)

// HomeVillage is 新坝村 of 新坝镇, 海州区: the village of the demo village
// and visitor accounts, given a full list of its own.
const HomeVillage = "320706102206"

// DefaultWeeks is how many weeks of visits precede the current week.
const DefaultWeeks = 12

// ErrNotEmpty is returned when the database already has elders: the demo
// never adds to existing data.
var ErrNotEmpty = errors.New("the database already has elders; demo data is only added to an empty database")

// Options size and seed the demo city.
type Options struct {
	// Elders is the total number of elders (default DefaultElders; at least 50).
	Elders int
	// Weeks of visits before the current one (default DefaultWeeks, at
	// least 2: the cold-wave campaign is in the last full week).
	Weeks int
	// Seed makes the city; the same seed and clock give the same people.
	Seed int64
	// VisitorUser is the username of a visitor account to register as a
	// visitor of HomeVillage and pair with most of its elders ("" none).
	VisitorUser string
	// Progress receives a line per stage; nil discards them.
	Progress io.Writer
}

// Summary counts what Build made.
type Summary struct {
	Elders, Villages, Counties int
	ByClass                    map[string]int
	Visitors, Paired, Unpaired int
	Weeks, Visits, LateVisits  int
	Followups                  map[string]int // by status
	Escalated                  int
	Emergencies, OpenEmerg     int
	Campaigns                  int
	StatusChanges, Transfers   int
	Assessments                int
	Took                       time.Duration
}

// DefaultElders is the size that builds in about twenty seconds on a
// two-core machine with SQLite.
const DefaultElders = 400

// world is the state of one build: the services on one shared clock, the
// queue of what happens next and what the simulation remembers.
type world struct {
	ctx   context.Context
	db    *store.DB
	rng   *rand.Rand
	gen   *synth.Generator
	now   time.Time // the real now: nothing happens after it
	clock time.Time // the services' now
	out   io.Writer
	weeks int

	reg  *registry.Service
	plan *plan.Service
	vis  *visits.Service
	cls  *classes.Service
	auth *auth.Service

	queue eventQueue
	seq   int

	elders     []*elder
	byID       map[int64]*elder
	visitors   []*visitor
	home       []*visitor      // HomeVillage's visitors, the demo account's first
	known      map[int64]bool  // follow-ups whose handling is scheduled
	followups  int             // follow-ups handled, to take handlings in turn
	unpairedIn map[string]bool // counties with an unpaired elder
	sum        Summary
}

// Build makes the demo city in db, which must have no elders yet, with now
// as the present; the weeks before it are filled in.
func Build(ctx context.Context, db *store.DB, keys *pii.Keys, now time.Time, opts Options) (Summary, error) {
	start := time.Now()
	var n int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM elders").Scan(&n); err != nil {
		return Summary{}, fmt.Errorf("count elders: %w", err)
	}
	if n > 0 {
		return Summary{}, ErrNotEmpty
	}
	fmt.Fprintln(orDiscard(opts.Progress), "Building the demo city (made-up elders, visitors and their visits)…")
	if opts.Elders == 0 {
		opts.Elders = DefaultElders
	}
	if opts.Elders < 50 {
		return Summary{}, fmt.Errorf("demo: at least 50 elders, asked for %d", opts.Elders)
	}
	if opts.Weeks == 0 {
		opts.Weeks = DefaultWeeks
	}
	if opts.Weeks < 2 {
		return Summary{}, fmt.Errorf("demo: at least 2 weeks, asked for %d", opts.Weeks)
	}
	if opts.Seed == 0 {
		opts.Seed = 2026
	}
	w := &world{ctx: ctx, db: db, rng: rand.New(rand.NewPCG(uint64(opts.Seed), 20231016)), now: now, out: orDiscard(opts.Progress),
		byID: map[int64]*elder{}, unpairedIn: map[string]bool{}}
	clock := func() time.Time { return w.clock }
	w.reg = &registry.Service{DB: db, Keys: keys, Now: clock}
	w.plan = &plan.Service{DB: db, Keys: keys, Now: clock}
	w.vis = &visits.Service{DB: db, Keys: keys, Now: clock}
	w.cls = &classes.Service{DB: db, Keys: keys, Now: clock}
	w.auth = &auth.Service{DB: db, Now: clock, Cost: 4}
	w.sum.ByClass, w.sum.Followups = map[string]int{}, map[string]int{}

	w.weeks, w.sum.Weeks = opts.Weeks, opts.Weeks
	first := weekStart(now).AddDate(0, 0, -7*w.weeks)
	// Files were registered in the census before the weeks shown.
	w.clock = first.AddDate(0, 0, -10).Add(9 * time.Hour)
	w.gen = synth.NewGenerator(opts.Seed, age.DateOf(w.clock))
	steps := []struct {
		name string
		fn   func() error
	}{
		{"elders", func() error { return w.registerElders(opts.Elders) }},
		{"visitors and pairings", func() error { return w.registerVisitors(opts.VisitorUser) }},
		{"weeks of visits", func() error { return w.simulate(first) }},
		{"summary", w.count},
	}
	for _, s := range steps {
		t := time.Now()
		if err := s.fn(); err != nil {
			return w.sum, fmt.Errorf("demo %s: %w", s.name, err)
		}
		fmt.Fprintf(w.out, "  %-24s %6.1fs\n", s.name, time.Since(t).Seconds())
	}
	w.sum.Took = time.Since(start)
	return w.sum, nil
}

// orDiscard is out, or a writer that drops everything when out is nil.
func orDiscard(out io.Writer) io.Writer {
	if out == nil {
		return io.Discard
	}
	return out
}

// weekStart is Monday 00:00 in Shanghai of the week of t.
func weekStart(t time.Time) time.Time {
	d := age.DateOf(t)
	wd := int(d.Start().Weekday()+6) % 7
	return d.AddDays(-wd).Start()
}

// demoActor is who the audit log names for what the build does itself.
const demoActor = "demo"

var (
	cityScope = areas.ScopeOf(areas.Area{Code: areas.CityCode, Level: areas.City})
	regActor  = registry.Actor{Username: demoActor, Role: auth.RoleAdmin, IP: "local"}
	planActor = audit.Entry{Actor: demoActor, IP: "local"}
	staff     = visits.Actor{Username: demoActor, Role: auth.RoleAdmin, AreaCode: areas.CityCode, Scope: cityScope, IP: "local"}
	clsActor  = classes.Actor{Username: demoActor, Role: auth.RoleAdmin, IP: "local"}
)

// event is something that happens at a moment; the queue runs them in
// time order with the services' clock set to it.
type event struct {
	at  time.Time
	seq int
	fn  func() error
}

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// at schedules fn; what would happen after now never does.
func (w *world) at(t time.Time, fn func() error) {
	if t.After(w.now) {
		return
	}
	w.seq++
	heap.Push(&w.queue, event{t, w.seq, fn})
}

// run works through the queue until it is empty.
func (w *world) run() error {
	for w.queue.Len() > 0 {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		e := heap.Pop(&w.queue).(event)
		if e.at.After(w.clock) {
			w.clock = e.at
		}
		if err := e.fn(); err != nil {
			return err
		}
	}
	return nil
}

func (w *world) chance(p float64) bool { return w.rng.Float64() < p }

// between is a random moment in [from, from+d).
func (w *world) between(from time.Time, d time.Duration) time.Time {
	return from.Add(time.Duration(w.rng.Int64N(int64(d))))
}
