package plan

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"tanfang/internal/policy/age"
	"tanfang/internal/policy/calendar"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
)

// chunk is how many elder ids one statement of EnsureWeek covers, so that
// SQLite's single writer is never held for long.
const chunk = 25_000

// profile is what every elder under one area prefix shares in a week: the
// county's rules and the campaigns reaching the area.
type profile struct {
	prefix    string
	rules     schedule.Rules
	festivals []calendar.Festival
	raises    []schedule.Raise
}

// weekPlan holds the requirement of each (profile, class, consent) key for
// one week, computed once with schedule.Required and applied in SQL.
type weekPlan struct {
	week           schedule.Week
	monday, sunday string
	// profiles are ordered longest prefix first, the root ("") last, so the
	// first whose prefix an area code starts with is the deepest.
	profiles []profile
	values   map[int]reqValue
}

type reqValue struct {
	home, call int
	notes      int64
}

var classIndex = map[string]int{"A": 0, "B": 1, "C": 2}

func key(profile int, class string, consent bool) int {
	return profile*6 + classIndex[class]*2 + boolInt(consent)
}

// profileOf returns the index of the deepest profile covering an area.
func (p *weekPlan) profileOf(area string) int {
	for i, pr := range p.profiles {
		if strings.HasPrefix(area, pr.prefix) {
			return i
		}
	}
	return len(p.profiles) - 1
}

// keySQL is the SQL of key() over the given columns; its arguments are the
// profile prefixes.
func (p *weekPlan) keySQL(area, class, consent string) (string, []any) {
	var b strings.Builder
	var args []any
	root := len(p.profiles) - 1
	if root == 0 {
		b.WriteString("(0")
	} else {
		b.WriteString("((CASE")
		for i, pr := range p.profiles[:root] {
			fmt.Fprintf(&b, " WHEN substr(%s, 1, %d) = ? THEN %d", area, len(pr.prefix), i)
			args = append(args, pr.prefix)
		}
		fmt.Fprintf(&b, " ELSE %d END) * 6", root)
	}
	fmt.Fprintf(&b, " + (CASE %s WHEN 'A' THEN 0 WHEN 'B' THEN 2 ELSE 4 END) + %s)", class, consent)
	return b.String(), args
}

// valueSQL maps a key column to one of the requirement's values.
func (p *weekPlan) valueSQL(k string, pick func(reqValue) int64) string {
	keys := make([]int, 0, len(p.values))
	for k := range p.values {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var b strings.Builder
	b.WriteString("(CASE " + k)
	for _, kk := range keys {
		fmt.Fprintf(&b, " WHEN %d THEN %d", kk, pick(p.values[kk]))
	}
	b.WriteString(" ELSE 0 END)")
	return b.String()
}

var (
	pickHome  = func(v reqValue) int64 { return int64(v.home) }
	pickCall  = func(v reqValue) int64 { return int64(v.call) }
	pickNotes = func(v reqValue) int64 { return v.notes }
	// pickInScope sets in_scope with the requirement, so that drawing up a
	// week writes each index entry once.
	pickInScope = func(v reqValue) int64 { return int64(boolInt(v.home+v.call > 0)) }
)

// specialSQL selects elders whose file excuses some days of the week: not
// willing to be visited, or a status that keeps visitors away. Its
// arguments are the week's Sunday and Monday. NULL-safe, so NOT works.
const specialSQL = `(COALESCE(e.willing, 1) = 0 OR (e.status IN ('away', 'hospital', 'institution', 'moved_out', 'deceased', 'declined')
	AND (e.status_from = '' OR e.status_from <= ?) AND (e.status_to = '' OR e.status_to >= ?)))`

var statusReasons = map[string]string{
	"away": "外出", "hospital": "住院", "institution": "入住机构", "moved_out": "迁出", "deceased": "去世", "declined": "拒绝探访",
}

// unavailable turns a file's status and willingness into the periods on
// which it may not be visited.
func unavailable(willing sql.NullBool, status, from, to string) []schedule.Period {
	var ps []schedule.Period
	if willing.Valid && !willing.Bool {
		ps = append(ps, schedule.Period{Reason: "不愿接受探访"})
	}
	if reason, ok := statusReasons[status]; ok {
		p := schedule.Period{Reason: reason}
		p.From, _ = age.ParseDate(from)
		p.To, _ = age.ParseDate(to)
		ps = append(ps, p)
	}
	return ps
}

// loadRules returns the default rules and each county's own, by prefix.
func (s *Service) loadRules(ctx context.Context) (map[string]schedule.Rules, error) {
	rows, err := s.DB.Query(ctx, "SELECT county_code, rules FROM plan_rules")
	if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	defer rows.Close()
	out := map[string]schedule.Rules{}
	for rows.Next() {
		var code, text string
		if err := rows.Scan(&code, &text); err != nil {
			return nil, err
		}
		var r schedule.Rules
		if err := json.Unmarshal([]byte(text), &r); err != nil {
			return nil, fmt.Errorf("rules of %s: %w", code, err)
		}
		out[code[:6]] = r
	}
	return out, rows.Err()
}

// raisesIn loads the campaigns whose period overlaps the week.
func (s *Service) raisesIn(ctx context.Context, monday, sunday string) (map[string][]schedule.Raise, error) {
	rows, err := s.DB.Query(ctx, `SELECT name, area_prefix, classes, add_home, add_call, home_to_call FROM campaigns
		WHERE starts_on <> '' AND starts_on <= ? AND ends_on >= ? ORDER BY id`, sunday, monday)
	if err != nil {
		return nil, fmt.Errorf("load campaigns: %w", err)
	}
	defer rows.Close()
	out := map[string][]schedule.Raise{}
	for rows.Next() {
		var r schedule.Raise
		var prefix, classes string
		if err := rows.Scan(&r.Name, &prefix, &classes, &r.Add.Home, &r.Add.Call, &r.HomeToCall); err != nil {
			return nil, err
		}
		if classes != "" {
			r.Classes = strings.Split(classes, ",")
		}
		out[prefix] = append(out[prefix], r)
	}
	return out, rows.Err()
}

// prepare computes the week's profiles and the requirement of every key.
func (s *Service) prepare(ctx context.Context, w schedule.Week) (*weekPlan, error) {
	days := w.Days()
	p := &weekPlan{week: w, monday: days[0].String(), sunday: days[6].String(), values: map[int]reqValue{}}
	county, err := s.loadRules(ctx)
	if err != nil {
		return nil, err
	}
	raises, err := s.raisesIn(ctx, p.monday, p.sunday)
	if err != nil {
		return nil, err
	}
	prefixes := map[string]bool{"": true}
	for pr := range county {
		prefixes[pr] = true
	}
	for pr := range raises {
		prefixes[pr] = true
	}
	var list []string
	for pr := range prefixes {
		list = append(list, pr)
	}
	sort.Slice(list, func(i, j int) bool {
		if len(list[i]) != len(list[j]) {
			return len(list[i]) > len(list[j])
		}
		return list[i] < list[j]
	})
	for _, pr := range list {
		prof := profile{prefix: pr, rules: schedule.DefaultRules()}
		for c, r := range county {
			if strings.HasPrefix(pr, c) {
				prof.rules = r
			}
		}
		for cp, rs := range raises {
			if strings.HasPrefix(pr, cp) {
				prof.raises = append(prof.raises, rs...)
			}
		}
		prof.festivals = prof.rules.FestivalsIn(w)
		p.profiles = append(p.profiles, prof)
	}
	notes := newNoteIDs(s.DB)
	for i, prof := range p.profiles {
		for class := range classIndex {
			for _, consent := range []bool{false, true} {
				ew := schedule.ElderWeek{Class: class, ConsentHome: consent, Festivals: prof.festivals, Campaigns: prof.raises}
				req, ns := schedule.Required(ew, w, prof.rules)
				id, err := notes.id(ctx, ns)
				if err != nil {
					return nil, err
				}
				p.values[key(i, class, consent)] = reqValue{req.Home, req.Call, id}
			}
		}
	}
	return p, nil
}

// noteIDs finds or stores the text of a requirement's notes.
type noteIDs struct {
	db    *store.DB
	cache map[string]int64
}

func newNoteIDs(db *store.DB) *noteIDs { return &noteIDs{db: db, cache: map[string]int64{"": 0}} }

// noteSep joins a requirement's notes in one stored text.
const noteSep = "；"

func (n *noteIDs) id(ctx context.Context, notes []string) (int64, error) {
	text := strings.Join(notes, noteSep)
	if id, ok := n.cache[text]; ok {
		return id, nil
	}
	var id int64
	err := n.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO plan_notes (text) VALUES (?) ON CONFLICT (text) DO NOTHING", text); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT id FROM plan_notes WHERE text = ?", text).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("plan note: %w", err)
	}
	n.cache[text] = id
	return id, nil
}

// ensure draws up the week unless it was drawn up already; reads call it
// for the current week. A read arriving while the weekly job draws the
// week up waits for it, then finds the week done.
func (s *Service) ensure(ctx context.Context, w schedule.Week) error {
	if _, ok := s.planned.Load(w.String()); ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	done, err := s.drawnUp(ctx, w)
	if err != nil || done {
		return err
	}
	return s.ensureWeek(ctx, w)
}

// drawnUp reports whether week w was drawn up, remembering it.
func (s *Service) drawnUp(ctx context.Context, w schedule.Week) (bool, error) {
	if _, ok := s.planned.Load(w.String()); ok {
		return true, nil
	}
	var at string
	err := s.DB.QueryRow(ctx, "SELECT planned_at FROM plan_week_runs WHERE week = ?", w.String()).Scan(&at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	}
	s.planned.Store(w.String(), true)
	return true, nil
}

// EnsureWeek draws up week w the first time it is called for it: a row for
// every in-scope elder (class A, B or C, file active) with its class, its
// primary visitor and the requirement of schedule.Required under the
// county's rules, festivals and campaigns. Every later call refreshes the
// requirement of the rows already drawn up from the files' current consent,
// status and willingness and the current campaigns, keeping each row's
// class (see the package doc). Safe to run concurrently with visits and
// with itself; it works in chunks of elder ids, each its own transaction.
func (s *Service) EnsureWeek(ctx context.Context, w schedule.Week) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ensureWeek(ctx, w)
}

// ensureWeek is EnsureWeek with s.mu held.
func (s *Service) ensureWeek(ctx context.Context, w schedule.Week) error {
	p, err := s.prepare(ctx, w)
	if err != nil {
		return err
	}
	done, err := s.drawnUp(ctx, w)
	if err != nil {
		return err
	}
	bounds := "SELECT MIN(elder_id), MAX(elder_id) FROM plan_weeks WHERE week = ?"
	if !done {
		// Rows are inserted with the current facts, so there is nothing
		// to refresh yet.
		if err := s.eachChunk(ctx, "SELECT MIN(id), MAX(id) FROM elders", nil, func(tx *store.Tx, lo, hi int64) error {
			return p.insert(ctx, tx, lo, hi)
		}); err != nil {
			return fmt.Errorf("draw up %s: %w", w, err)
		}
	} else if err := s.eachChunk(ctx, bounds, []any{w.String()}, func(tx *store.Tx, lo, hi int64) error {
		return p.refresh(ctx, tx, lo, hi)
	}); err != nil {
		return fmt.Errorf("refresh %s: %w", w, err)
	}
	if err := s.refreshSpecial(ctx, p); err != nil {
		return fmt.Errorf("refresh %s: %w", w, err)
	}
	var months []string
	for _, d := range w.Days() {
		if m := fmt.Sprintf("%04d-%02d", d.Year, int(d.Month)); !slices.Contains(months, m) {
			months = append(months, m)
		}
	}
	if err := s.eachChunk(ctx, bounds, []any{w.String()}, func(tx *store.Tx, lo, hi int64) error {
		entered, err := p.derive(ctx, tx, lo, hi)
		if err != nil {
			return err
		}
		return p.monthsInScope(ctx, tx, months, lo, hi, entered, !done)
	}); err != nil {
		return fmt.Errorf("progress %s: %w", w, err)
	}
	now := store.FormatTime(s.now())
	if _, err := s.DB.Exec(ctx, `INSERT INTO plan_week_runs (week, planned_at, refreshed_at) VALUES (?, ?, ?)
		ON CONFLICT (week) DO UPDATE SET refreshed_at = excluded.refreshed_at`, w.String(), now, now); err != nil {
		return fmt.Errorf("mark %s: %w", w, err)
	}
	s.planned.Store(w.String(), true)
	return nil
}

// derive sets progress and in_scope from each row's counts and requirement
// for elder ids in (lo, hi], writing only rows that change, and returns the
// elders that entered scope.
func (p *weekPlan) derive(ctx context.Context, tx *store.Tx, lo, hi int64) ([]int64, error) {
	rows, err := tx.Query(ctx, "UPDATE plan_weeks SET progress = "+progressOfRow+", in_scope = "+inScopeOfRow+
		" WHERE week = ? AND elder_id > ? AND elder_id <= ? AND (progress <> "+progressOfRow+" OR in_scope <> "+inScopeOfRow+")"+
		" RETURNING elder_id, in_scope", p.week.String(), lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var entered []int64
	for rows.Next() {
		var id int64
		var in bool
		if err := rows.Scan(&id, &in); err != nil {
			return nil, err
		}
		if in {
			entered = append(entered, id)
		}
	}
	return entered, rows.Err()
}

// monthsInScope marks the months of the week in scope for the elders owed
// a contact in it: all of them when the week is first drawn up, else those
// that just entered scope. An elder stays in scope for a month once in it.
func (p *weekPlan) monthsInScope(ctx context.Context, tx *store.Tx, months []string, lo, hi int64, entered []int64, all bool) error {
	const upsert = `INSERT INTO plan_months (month, elder_id, area_code, class, in_scope)
		SELECT ?, elder_id, area_code, class, 1 FROM plan_weeks
		WHERE week = ? AND elder_id > ? AND elder_id <= ? AND in_scope = 1%s
		ON CONFLICT (month, elder_id) DO UPDATE SET in_scope = 1 WHERE plan_months.in_scope = 0`
	for _, m := range months {
		if all {
			if _, err := tx.Exec(ctx, fmt.Sprintf(upsert, ""), m, p.week.String(), lo, hi); err != nil {
				return err
			}
			continue
		}
		for rest := entered; len(rest) > 0; {
			batch := rest[:min(len(rest), 500)]
			rest = rest[len(batch):]
			args := []any{m, p.week.String(), lo, hi}
			for _, id := range batch {
				args = append(args, id)
			}
			cond := " AND elder_id IN (?" + strings.Repeat(", ?", len(batch)-1) + ")"
			if _, err := tx.Exec(ctx, fmt.Sprintf(upsert, cond), args...); err != nil {
				return err
			}
		}
	}
	return nil
}

// eachChunk runs fn in its own transaction for each range (lo, hi] of ids
// between the bounds the query returns.
func (s *Service) eachChunk(ctx context.Context, bounds string, args []any, fn func(tx *store.Tx, lo, hi int64) error) error {
	var minID, maxID sql.NullInt64
	if err := s.DB.QueryRow(ctx, bounds, args...).Scan(&minID, &maxID); err != nil {
		return err
	}
	if !minID.Valid {
		return nil
	}
	for lo := minID.Int64 - 1; lo < maxID.Int64; lo += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.DB.InTx(ctx, func(tx *store.Tx) error { return fn(tx, lo, lo+chunk) }); err != nil {
			return err
		}
	}
	return nil
}

// insert draws up the in-scope elders with ids in (lo, hi]. A row that a
// contact created before the week was drawn up is taken over.
func (p *weekPlan) insert(ctx context.Context, tx *store.Tx, lo, hi int64) error {
	k, kargs := p.keySQL("e.area_code", "e.class", "e.consent_home")
	q := `INSERT INTO plan_weeks (week, elder_id, area_code, class, visitor_id, planned, req_home, req_call, home_for_call, notes_id, in_scope)
		SELECT ?, x.id, x.area_code, x.class, x.visitor, 1, ` + p.valueSQL("x.k", pickHome) + `, ` + p.valueSQL("x.k", pickCall) +
		`, x.hfc, ` + p.valueSQL("x.k", pickNotes) + `, ` + p.valueSQL("x.k", pickInScope) + `
		FROM (SELECT e.id, e.area_code, e.class, e.consent_home_for_call AS hfc,
			COALESCE((SELECT pr.visitor_id FROM pairings pr WHERE pr.elder_id = e.id AND pr.role = 'primary' AND pr.ended_at = ''), 0) AS visitor,
			` + k + ` AS k
			FROM elders e WHERE e.id > ? AND e.id <= ? AND ` + inScopeElders + `) x
		WHERE true
		ON CONFLICT (week, elder_id) DO UPDATE SET area_code = excluded.area_code, class = excluded.class,
			visitor_id = excluded.visitor_id, planned = 1, req_home = excluded.req_home, req_call = excluded.req_call,
			home_for_call = excluded.home_for_call, notes_id = excluded.notes_id, in_scope = excluded.in_scope
		WHERE plan_weeks.planned = 0`
	args := append([]any{p.week.String()}, kargs...)
	args = append(args, lo, hi)
	_, err := tx.Exec(ctx, q, args...)
	return err
}

// refresh recomputes the requirement of the planned rows with elder ids in
// (lo, hi] from each file's current consent, for every elder with nothing
// that excuses days (those are refreshSpecial's), writing only rows that
// change; derive then sets in_scope and progress.
func (p *weekPlan) refresh(ctx context.Context, tx *store.Tx, lo, hi int64) error {
	k, kargs := p.keySQL("w.area_code", "w.class", "e.consent_home")
	q := `UPDATE plan_weeks SET req_home = x.h, req_call = x.c, notes_id = x.n, home_for_call = x.hfc
		FROM (SELECT y.elder_id, ` + p.valueSQL("y.k", pickHome) + ` AS h, ` + p.valueSQL("y.k", pickCall) + ` AS c, ` +
		p.valueSQL("y.k", pickNotes) + ` AS n, y.hfc
			FROM (SELECT w.elder_id, e.consent_home_for_call AS hfc, ` + k + ` AS k
				FROM plan_weeks w JOIN elders e ON e.id = w.elder_id
				WHERE w.week = ? AND w.planned = 1 AND w.elder_id > ? AND w.elder_id <= ? AND NOT ` + specialSQL + `) y) x
		WHERE plan_weeks.week = ? AND plan_weeks.elder_id = x.elder_id
			AND (plan_weeks.req_home <> x.h OR plan_weeks.req_call <> x.c OR plan_weeks.notes_id <> x.n OR plan_weeks.home_for_call <> x.hfc)`
	args := append(kargs, p.week.String(), lo, hi, p.sunday, p.monday, p.week.String())
	_, err := tx.Exec(ctx, q, args...)
	return err
}

// refreshSpecial computes, one by one, the requirement of the planned
// elders whose file excuses days of the week.
func (s *Service) refreshSpecial(ctx context.Context, p *weekPlan) error {
	type special struct {
		id               int64
		area, class      string
		consent, hfc     bool
		willing          sql.NullBool
		status, from, to string
		reqHome, reqCall int
		notesID          int64
		homeForCall      bool
		newHome, newCall int
		newNotes         int64
	}
	rows, err := s.DB.Query(ctx, `SELECT w.elder_id, w.area_code, w.class, e.consent_home, e.consent_home_for_call, e.willing,
			e.status, e.status_from, e.status_to, w.req_home, w.req_call, w.notes_id, w.home_for_call
		FROM elders e JOIN plan_weeks w ON w.week = ? AND w.elder_id = e.id
		WHERE w.planned = 1 AND `+specialSQL, p.week.String(), p.sunday, p.monday)
	if err != nil {
		return err
	}
	var list []special
	for rows.Next() {
		var x special
		if err := rows.Scan(&x.id, &x.area, &x.class, &x.consent, &x.hfc, &x.willing, &x.status, &x.from, &x.to,
			&x.reqHome, &x.reqCall, &x.notesID, &x.homeForCall); err != nil {
			rows.Close()
			return err
		}
		list = append(list, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	notes := newNoteIDs(s.DB)
	var changed []special
	for _, x := range list {
		prof := p.profiles[p.profileOf(x.area)]
		ew := schedule.ElderWeek{Class: x.class, ConsentHome: x.consent, HomeForCall: x.hfc,
			Unavailable: unavailable(x.willing, x.status, x.from, x.to),
			Festivals:   prof.festivals, Campaigns: prof.raises}
		req, ns := schedule.Required(ew, p.week, prof.rules)
		id, err := notes.id(ctx, ns)
		if err != nil {
			return err
		}
		x.newHome, x.newCall, x.newNotes = req.Home, req.Call, id
		if x.newHome != x.reqHome || x.newCall != x.reqCall || x.newNotes != x.notesID || x.hfc != x.homeForCall {
			changed = append(changed, x)
		}
	}
	for len(changed) > 0 {
		batch := changed[:min(len(changed), 1000)]
		changed = changed[len(batch):]
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			for _, x := range batch {
				if _, err := tx.Exec(ctx, `UPDATE plan_weeks SET req_home = ?, req_call = ?, notes_id = ?, home_for_call = ?
					WHERE week = ? AND elder_id = ?`, x.newHome, x.newCall, x.newNotes, boolInt(x.hfc), p.week.String(), x.id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Run draws up and refreshes the current week at start, every interval
// and at each week's start, until ctx ends. Started by `tanfang serve`.
func (s *Service) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	for {
		w := schedule.WeekOf(s.now())
		start := time.Now()
		if err := s.EnsureWeek(ctx, w); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("plan: draw up week", "week", w.String(), "err", err)
		} else {
			log.Info("plan: week drawn up", "week", w.String(), "ms", time.Since(start).Milliseconds())
		}
		wait := min(every, w.End().Sub(s.now())+time.Second)
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(wait, time.Second)):
		}
	}
}
