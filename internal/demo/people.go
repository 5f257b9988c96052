package demo

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/auth"
	"tanfang/internal/plan"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/assess"
	"tanfang/internal/policy/classify"
	"tanfang/internal/store"
	"tanfang/internal/synth"
	"tanfang/internal/visits"
)

// elder is what the simulation remembers of one file.
type elder struct {
	id       int64
	p        synth.Person
	class    string
	version  int
	primary  *visitor
	problems map[string]bool // rated findings that are bad until fixed
	outUntil time.Time       // away or in hospital until then: no visits
}

// visitor is one visitor with the account that records their visits.
type visitor struct {
	id        int64
	area      string
	diligence float64 // share of required contacts made
	actor     visits.Actor
	elders    []*elder
}

// homeElders is how many elders HomeVillage gets, so the demo village and
// visitor accounts see a full list.
const homeElders = 20

// perVillage is the mean number of elders in a village with any.
const perVillage = 6

// pickVillages chooses the villages that get elders: HomeVillage, then one
// in every county, then one in every town, then any, in a seeded order.
func (w *world) pickVillages(n int) ([]string, error) {
	all, err := areas.Store{DB: w.db}.Subtree(w.ctx, cityScope, areas.Village)
	if err != nil {
		return nil, err
	}
	w.rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	picked := []string{HomeVillage}
	seen := map[string]bool{HomeVillage: true, HomeVillage[:6]: true, HomeVillage[:9]: true}
	for _, prefix := range []int{6, 9, 12} {
		for _, a := range all {
			if len(picked) >= n {
				return picked, nil
			}
			if !seen[a.Code[:prefix]] && !seen[a.Code] {
				seen[a.Code[:prefix]], seen[a.Code] = true, true
				picked = append(picked, a.Code)
			}
		}
	}
	return picked, nil
}

// registerElders makes total elders through the registry, in batches of
// one transaction each as an import does; a third of the couples living
// as empty nesters are registered together as one household.
func (w *world) registerElders(total int) error {
	home := min(homeElders, total*3/10)
	villages, err := w.pickVillages(max(8, (total-home)/perVillage+1))
	if err != nil {
		return err
	}
	// Share the rest among the other villages, unevenly as in life.
	weights := make([]float64, len(villages))
	sum := 0.0
	for i := 1; i < len(villages); i++ {
		weights[i] = 0.4 + w.rng.Float64()*1.2
		sum += weights[i]
	}
	counts := make([]int, len(villages))
	counts[0] = home
	left := total - home
	for i := 1; i < len(villages) && left > 0; i++ {
		counts[i] = max(1, int(float64(total-home)*weights[i]/sum+0.5))
		if i == len(villages)-1 || counts[i] > left {
			counts[i] = left
		}
		left -= counts[i]
	}
	// partnerOf[i] is the index of the elder whose partner person i is, or -1.
	people := w.homeMix(home)
	partnerOf := make([]int, len(people))
	for i := range partnerOf {
		partnerOf[i] = -1
	}
	for i, v := range villages[1:] {
		i++
		for len(people) < total && counts[i] > 0 {
			p := w.gen.Elder(v)
			people, partnerOf = append(people, p), append(partnerOf, -1)
			counts[i]--
			if p.Living == "empty_nest" && counts[i] > 0 && w.chance(0.33) {
				people, partnerOf = append(people, w.gen.Partner(p)), append(partnerOf, len(people)-1)
				counts[i]--
			}
		}
	}
	const batch = 250
	for lo := 0; lo < len(people); lo += batch {
		hi := min(lo+batch, len(people))
		w.clock = w.clock.Add(7 * time.Minute)
		var made []*elder
		err := w.db.InTx(w.ctx, func(tx *store.Tx) error {
			made = made[:0]
			for i, p := range people[lo:hi] {
				in := p.Input()
				if k := partnerOf[lo+i]; k >= lo {
					in.HouseholdWith = &made[k-lo].id
				} else if k >= 0 {
					in.HouseholdWith = &w.elders[k].id
				}
				e, err := w.reg.CreateTx(w.ctx, tx, regActor, cityScope, in, "演示数据")
				if err != nil {
					return fmt.Errorf("register a made-up elder of %s: %w", p.AreaCode, err)
				}
				made = append(made, &elder{id: e.ID, p: p, class: e.Class, version: e.Version, problems: map[string]bool{}})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, el := range made {
			w.elders = append(w.elders, el)
			w.byID[el.id] = el
		}
	}
	w.sum.Villages = len(villages)
	fmt.Fprintf(w.out, "  %d elders in %d villages\n", len(w.elders), len(villages))
	return nil
}

// homeMix draws n elders for HomeVillage with a mix the demo accounts can
// show: a fifth each of classes A and B, one out of scope, the rest C, one
// of whom declined visits.
func (w *world) homeMix(n int) []synth.Person {
	today := age.DateOf(w.clock)
	want := map[string]int{classify.ClassA: n / 5, classify.ClassB: n / 5, classify.ClassNone: 1}
	want[classify.ClassC] = n - want[classify.ClassA] - want[classify.ClassB] - 1
	var out []synth.Person
	for len(out) < n {
		p := w.gen.Elder(HomeVillage)
		c := classify.Classify(p.Facts(), today, classify.DefaultCRules(), assess.DefaultSettings()).Class
		if want[c] == 0 {
			continue
		}
		want[c]--
		if c == classify.ClassC && want[c] == 0 && p.Willing {
			p.Willing, p.ConsentHome, p.ConsentHomeForCall = false, false, false
			p.DeclineReason, p.ConsentSigner, p.ConsentSignedOn = "子女常回家照看，不需要探访", p.Name, p.CollectedOn
		}
		out = append(out, p)
	}
	return out
}

// randomPassword makes a password nobody knows, for the visitor accounts
// the build makes only so their visits have an author.
func randomPassword() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "Dm#" + hex.EncodeToString(b[:]) + "x"
}

// registerVisitors gives every village with elders about one visitor for
// nine elders, of several kinds, each with an account, and pairs them. In
// HomeVillage the account named visitorUser becomes a visitor paired with
// most of its elders. A few elders stay unpaired, as in any real list.
func (w *world) registerVisitors(visitorUser string) error {
	w.clock = w.clock.Add(26 * time.Hour)
	byVillage := map[string][]*elder{}
	var order []string
	for _, e := range w.elders {
		v := e.p.AreaCode
		if byVillage[v] == nil {
			order = append(order, v)
		}
		byVillage[v] = append(byVillage[v], e)
	}
	password := randomPassword()
	for _, village := range order {
		list := byVillage[village]
		n := (len(list) + 8) / 9
		var team []*visitor
		if village == HomeVillage && visitorUser != "" {
			v, err := w.linkVisitor(village, visitorUser)
			if err != nil {
				return err
			}
			if v != nil {
				team = append(team, v)
				n = max(n-1, 1)
			}
		}
		for i := range n {
			v, err := w.newVisitor(village, i+1, password)
			if err != nil {
				return err
			}
			team = append(team, v)
		}
		if village == HomeVillage {
			w.home = team
		}
		if err := w.pair(village, list, team); err != nil {
			return err
		}
		w.visitors = append(w.visitors, team...)
	}
	w.sum.Visitors = len(w.visitors)
	return nil
}

// newVisitor registers a made-up visitor with an account of its own.
func (w *world) newVisitor(village string, i int, password string) (*visitor, error) {
	sv := w.gen.Visitor("")
	username := fmt.Sprintf("demo-%s-%d", village[6:], i)
	u, err := w.auth.CreateUser(w.ctx, auth.NewUser{Username: username, DisplayName: sv.Name, Password: password,
		Role: auth.RoleVisitor, AreaCode: village}, planActor)
	if err != nil {
		return nil, fmt.Errorf("visitor account %s: %w", username, err)
	}
	in := sv.Input(village)
	in.UserID = &u.ID
	if sv.Kind == "village_cadre" {
		in.Unit = ""
	}
	pv, err := w.plan.CreateVisitor(w.ctx, cityScope, planActor, in)
	if err != nil {
		return nil, fmt.Errorf("visitor of %s: %w", village, err)
	}
	return w.visitorOf(pv, u.ID, u.Username), nil
}

// linkVisitor registers the demo visitor account's person as a village
// cadre who visits in village.
func (w *world) linkVisitor(village, username string) (*visitor, error) {
	var id int64
	var name string
	err := w.db.QueryRow(w.ctx, "SELECT id, display_name FROM users WHERE username = ? AND role = ?", username, auth.RoleVisitor).Scan(&id, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // the accounts were made by hand: no demo visitor
	}
	if err != nil {
		return nil, err
	}
	sv := w.gen.Visitor("village_cadre")
	in := sv.Input(village)
	in.UserID = &id
	pv, err := w.plan.CreateVisitor(w.ctx, cityScope, planActor, in)
	if err != nil {
		return nil, fmt.Errorf("demo visitor: %w", err)
	}
	v := w.visitorOf(pv, id, username)
	v.diligence = 0.8 // the demo list shows work still to do
	return v, nil
}

func (w *world) visitorOf(pv plan.Visitor, userID int64, username string) *visitor {
	// Most visitors are diligent; a few fall behind.
	d := 0.82 + 0.17*w.rng.Float64()
	if w.chance(0.08) {
		d = 0.45 + 0.2*w.rng.Float64()
	}
	sc := areas.ScopeOf(areas.Area{Code: pv.AreaCode, Level: areas.Village})
	return &visitor{id: pv.ID, area: pv.AreaCode, diligence: d,
		actor: visits.Actor{UserID: userID, Username: username, Role: auth.RoleVisitor, AreaCode: pv.AreaCode, Scope: sc, IP: "local"}}
}

// pair gives each elder of a village a primary visitor from team (the
// first, the demo visitor in HomeVillage, takes most) and a third of them
// a backup. Outside HomeVillage about one in forty stays unpaired.
func (w *world) pair(village string, list []*elder, team []*visitor) error {
	// One in HomeVillage (a willing class C elder) and one in a village of
	// each county, so every list of unpaired elders shows something.
	leave := -1
	for i, e := range list {
		if e.class == classify.ClassC && e.p.Willing || village != HomeVillage && e.class != classify.ClassNone {
			leave = i
		}
	}
	for i, e := range list {
		last := i == leave && (village == HomeVillage || !w.unpairedIn[village[:6]])
		if last || village != HomeVillage && w.chance(0.02) {
			w.unpairedIn[village[:6]] = true
			w.sum.Unpaired++
			continue
		}
		k := i % len(team)
		if village == HomeVillage && len(team) > 1 {
			k = 0
			if i%4 == 3 {
				k = 1 + i%(len(team)-1)
			}
		}
		v := team[k]
		if _, err := w.plan.Pair(w.ctx, cityScope, planActor, e.id, v.id, plan.RolePrimary, "结对帮扶"); err != nil {
			return fmt.Errorf("pair elder %d: %w", e.id, err)
		}
		e.primary = v
		v.elders = append(v.elders, e)
		w.sum.Paired++
		if len(team) > 1 && w.chance(0.33) {
			b := team[(k+1)%len(team)]
			if _, err := w.plan.Pair(w.ctx, cityScope, planActor, e.id, b.id, plan.RoleBackup, "备岗"); err != nil {
				return fmt.Errorf("backup for elder %d: %w", e.id, err)
			}
		}
	}
	return nil
}

// classOf re-reads a class after something changed it.
func (w *world) refreshClass(e *elder) error {
	err := w.db.QueryRow(w.ctx, "SELECT class, version FROM elders WHERE id = ?", e.id).Scan(&e.class, &e.version)
	if err != nil {
		return fmt.Errorf("class of elder %d: %w", e.id, err)
	}
	return nil
}

// inVillage lists the elders of one village.
func (w *world) inVillage(code string) []*elder {
	var out []*elder
	for _, e := range w.elders {
		if e.p.AreaCode == code {
			out = append(out, e)
		}
	}
	return out
}
