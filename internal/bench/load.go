package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"tanfang/internal/pii"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/assess"
	"tanfang/internal/policy/classify"
	"tanfang/internal/policy/mask"
	"tanfang/internal/registry"
	"tanfang/internal/store"
	"tanfang/internal/synth"
)

// Kinds bound into sealed values; they must be the registry's and the
// plan's (a test reads a loaded file back through the registry).
const (
	sealID    = "id_number"
	sealPhone = "phone"
	sealCert  = "disability_certificate"
)

// perVisitor is how many elders one visitor looks after in the load.
const perVisitor = 25

// loader writes a made-up city straight into the tables: every value is
// what the registry and the plan would store (sealed numbers under the
// real keys, the class of classify.Classify with its reasons), without
// their per-row checks and audit entries.
type loader struct {
	db    *store.DB
	keys  *pii.Keys
	now   time.Time
	today age.Date
	ts    string
	seed  int64
	rules classify.CRuleSet
	set   assess.Settings
	// gen makes the people; it remembers their ID numbers, so people it
	// makes later (the import's) never repeat one.
	gen *synth.Generator
}

// village is one village's share of the load, built by the producer.
type village struct {
	elders, versions, history, visitors, pairings [][]any
	byClass                                       map[string]int
	inScope                                       int
}

var elderCols = []string{"id", "name", "gender", "birth_date", "birth_day_assumed", "id_enc", "id_hmac", "id_masked",
	"phone_enc", "phone_hmac", "phone_masked", "area_code", "address", "at_registered_residence",
	"living_situation", "body_conditions", "diseases", "economic_status", "family_planning_special", "left_behind",
	"partner_condition", "cares_for_child_condition", "disability_cert_enc", "disability_cert_masked",
	"disability_category", "disability_grade", "pension_fen", "assistance_fen", "subsidy_fen",
	"first_contact_name", "first_contact_relation", "first_contact_phone_enc", "first_contact_phone_masked",
	"first_contact_reachable", "village_contact_name", "village_contact_phone_enc", "village_contact_phone_masked",
	"willing", "decline_reason", "consent_signer", "consent_signed_on", "consent_home", "consent_home_for_call",
	"help_channels", "collector", "collected_on", "household_id", "status", "status_from", "status_to", "status_reason",
	"active", "class", "incomplete", "version", "created_at", "updated_at",
	"class_computed", "class_reasons", "class_facts", "class_rule_set_version", "class_settings_version",
	"class_computed_at", "class_next_check"}

var versionCols = []string{"elder_id", "version", "kind", "at", "actor_id", "actor", "area_code", "from_area_code", "changes", "reason"}

var historyCols = []string{"elder_id", "at", "cause", "actor_id", "old_class", "new_class", "computed", "reasons", "facts",
	"rule_set_version", "settings_version", "note"}

var visitorCols = []string{"id", "kind", "name", "unit", "title", "phone_enc", "phone_hmac", "phone_masked", "area_code",
	"active", "created_at", "updated_at"}

var pairingCols = []string{"elder_id", "visitor_id", "role", "started_at", "started_by", "reason"}

// villageShares spreads n elders over the villages: each village gets a
// weight between 0.3 and 1.7, rural villages and town communities alike.
func villageShares(codes []string, n int, rng *rand.Rand) []int {
	w := make([]float64, len(codes))
	sum := 0.0
	for i := range w {
		w[i] = 0.3 + 1.4*rng.Float64()
		sum += w[i]
	}
	out := make([]int, len(codes))
	given := 0
	for i := range w {
		out[i] = int(float64(n) * w[i] / sum)
		given += out[i]
	}
	for i := 0; given < n; i = (i + 1) % len(out) {
		out[i]++
		given++
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullable(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// sealedPhone is the registry's and the plan's form of a phone: sealed,
// blind-indexed and masked after normalising.
func (l *loader) sealedPhone(phone string) (enc []byte, hmac, masked string) {
	if phone == "" {
		return nil, "", ""
	}
	p, err := mask.NormalizePhone(phone)
	if err != nil {
		p = phone
	}
	return l.keys.Seal(sealPhone, p), l.keys.Lookup(sealPhone, p), mask.Phone(p)
}

// elderRow turns a made-up person into an elders row with the given id and
// household, plus its first version and class history rows. It returns the
// class.
func (l *loader) elderRow(v *village, p synth.Person, id, household int64, rng *rand.Rand) string {
	facts := p.Facts()
	res := classify.Classify(facts, l.today, l.rules, l.set)
	reasons, _ := json.Marshal(res.Reasons)
	factsJSON, _ := json.Marshal(facts)
	next := ""
	if d, ok := classify.NextChange(facts, l.today, l.rules); ok {
		next = d.String()
	}
	phoneEnc, phoneHmac, phoneMasked := l.sealedPhone(p.Phone)
	fcEnc, _, fcMasked := l.sealedPhone(p.First.Phone)
	vcEnc, _, vcMasked := l.sealedPhone(p.Village.Phone)
	var certEnc []byte
	certMasked, certCategory := "", 0
	if p.DisabilityCert != "" {
		certEnc, certMasked = l.keys.Seal(sealCert, p.DisabilityCert), mask.IDNumber(p.DisabilityCert)
		certCategory = int(p.DisabilityCert[len(p.DisabilityCert)-2] - '0')
	}
	// A few files carry a status that excuses visits for some days.
	status, from, to, reason := registry.StatusActive, "", "", ""
	switch r := rng.Float64(); {
	case r < 0.012:
		status, reason = registry.StatusHospital, "住院治疗"
		from, to = l.today.AddDays(-rng.IntN(10)).String(), l.today.AddDays(1+rng.IntN(14)).String()
	case r < 0.022:
		status, reason = registry.StatusAway, "随子女外出"
		from, to = l.today.AddDays(-rng.IntN(30)).String(), l.today.AddDays(1+rng.IntN(60)).String()
	}
	money := func(fen int64) *registry.Money { m := registry.Money(fen); return &m }
	willing := p.Willing
	at := p.AtHome
	incomplete := len(registry.Completeness(registry.Elder{
		Address: p.Address, AtRegisteredResidence: &at, BodyConditions: p.Body, LivingSituation: p.Living,
		EconomicStatus: p.Economic, PensionMonthly: money(p.PensionFen), AssistanceMonthly: money(p.AssistanceFen),
		SubsidyMonthly: money(p.SubsidyFen),
		FirstContact:   registry.FirstContact{Name: p.First.Name, Relation: p.First.Relation, PhoneMasked: fcMasked, Reachable: p.First.Reachable},
		VillageContact: registry.VillageContact{Name: p.Village.Name, PhoneMasked: vcMasked},
		Willing:        &willing, Collector: p.Collector,
	})) > 0
	signedOn := ""
	if !p.ConsentSignedOn.IsZero() {
		signedOn = p.ConsentSignedOn.String()
	}
	v.elders = append(v.elders, []any{id, p.Name, p.Gender(), p.Birth.String(), 0,
		l.keys.Seal(sealID, p.IDNumber), l.keys.Lookup(sealID, p.IDNumber), mask.IDNumber(p.IDNumber),
		nullable(phoneEnc), phoneHmac, phoneMasked, p.AreaCode, p.Address, b2i(p.AtHome),
		p.Living, join(p.Body), p.Diseases, join(p.Economic), b2i(p.FPS), b2i(p.LeftBehind),
		p.Partner, p.Child, nullable(certEnc), certMasked, certCategory, p.CertGrade,
		p.PensionFen, p.AssistanceFen, p.SubsidyFen,
		p.First.Name, p.First.Relation, nullable(fcEnc), fcMasked, b2i(p.First.Reachable),
		p.Village.Name, nullable(vcEnc), vcMasked,
		b2i(p.Willing), p.DeclineReason, p.ConsentSigner, signedOn, b2i(p.ConsentHome), b2i(p.ConsentHomeForCall),
		join(p.Help), p.Collector, p.CollectedOn.String(), household, status, from, to, reason,
		1, res.Class, b2i(incomplete), 1, l.ts, l.ts,
		res.Class, string(reasons), string(factsJSON), res.RuleSetVersion, 1, l.ts, next})
	// A created version lists the new values, personal numbers masked.
	changes := `{"area_code":{"old":"","new":"` + p.AreaCode + `"},"id_number":{"old":"","new":"` + mask.IDNumber(p.IDNumber) +
		`"},"living_situation":{"old":"","new":"` + p.Living + `"},"name":{"old":"","new":"` + mask.Name(p.Name) + `"}}`
	v.versions = append(v.versions, []any{id, 1, "created", l.ts, 0, "bench", p.AreaCode, "", changes, "批量导入"})
	v.history = append(v.history, []any{id, l.ts, "created", 0, "", res.Class, res.Class, string(reasons), string(factsJSON),
		res.RuleSetVersion, 1, ""})
	return res.Class
}

func join(list []string) string {
	out := ""
	for i, s := range list {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

// produce makes the villages' rows in order, numbering elders and
// visitors from 1, and sends them to out.
func (l *loader) produce(ctx context.Context, codes []string, shares []int, out chan<- *village) error {
	defer close(out)
	gen := l.gen
	rng := rand.New(rand.NewPCG(uint64(l.seed), 0x62656e6368))
	var elderID, visitorID int64
	for i, code := range codes {
		n := shares[i]
		if n == 0 {
			continue
		}
		v := &village{byClass: map[string]int{}}
		var inScope []int64
		add := func(p synth.Person, household int64) int64 {
			elderID++
			if household == 0 {
				household = elderID
			}
			class := l.elderRow(v, p, elderID, household, rng)
			v.byClass[class]++
			switch class {
			case classify.ClassA, classify.ClassB, classify.ClassC:
				inScope = append(inScope, elderID)
			}
			return elderID
		}
		for made := 0; made < n; made++ {
			p := gen.Elder(code)
			first := add(p, 0)
			// About half the empty-nest elders are registered as a couple.
			if p.Living == "empty_nest" && made+1 < n && rng.Float64() < 0.5 {
				add(gen.Partner(p), first)
				made++
			}
		}
		v.inScope = len(inScope)
		if len(inScope) > 0 {
			first := visitorID + 1
			for range (len(inScope) + perVisitor - 1) / perVisitor {
				visitorID++
				vis := gen.Visitor("")
				enc, hmac, masked := l.sealedPhone(vis.Phone)
				v.visitors = append(v.visitors, []any{visitorID, vis.Kind, vis.Name, vis.Unit, vis.Title, nullable(enc), hmac, masked, code, 1, l.ts, l.ts})
			}
			count := visitorID - first + 1
			for j, id := range inScope {
				primary := first + int64(j/perVisitor)
				v.pairings = append(v.pairings, []any{id, primary, "primary", l.ts, 0, ""})
				// One in five has a backup visitor from the same village.
				if count > 1 && rng.Float64() < 0.2 {
					backup := first + (primary-first+1)%count
					v.pairings = append(v.pairings, []any{id, backup, "backup", l.ts, 0, ""})
				}
			}
		}
		select {
		case out <- v:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// LoadFigures count what the load wrote.
type LoadFigures struct {
	Elders   int            `json:"elders"`
	InScope  int            `json:"in_scope"`
	ByClass  map[string]int `json:"by_class"`
	Visitors int            `json:"visitors"`
	Pairings int            `json:"pairings"`
	// ElderSeconds is the time of the elders, visitors and pairings;
	// IndexSeconds of building the big tables' indexes after the load;
	// Seconds of the whole load, weeks included.
	ElderSeconds float64 `json:"elder_seconds"`
	// Rows is every row the load left in the tables it fills (rows it
	// updated count once).
	Rows         int     `json:"rows"`
	IndexSeconds float64 `json:"index_seconds"`
	Seconds      float64 `json:"seconds"`
}

// loadElders writes n elders over the villages, their visitors and
// pairings, about 50,000 elders at a time.
func (l *loader) loadElders(ctx context.Context, n int) (LoadFigures, error) {
	start := time.Now()
	rows, err := l.db.Query(ctx, "SELECT code FROM areas WHERE level = 'village' AND retired_at IS NULL ORDER BY code")
	if err != nil {
		return LoadFigures{}, fmt.Errorf("villages: %w", err)
	}
	var codes []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return LoadFigures{}, err
		}
		codes = append(codes, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(codes) == 0 {
		return LoadFigures{}, fmt.Errorf("villages: %d found, %v", len(codes), err)
	}
	if l.db.Dialect == store.SQLite {
		// On the load's one write connection only: no waiting for the disk
		// at checkpoints. Run reopens the database before measuring.
		if _, err := l.db.Exec(ctx, "PRAGMA synchronous = OFF"); err != nil {
			return LoadFigures{}, fmt.Errorf("synchronous off: %w", err)
		}
	}
	shares := villageShares(codes, n, rand.New(rand.NewPCG(uint64(l.seed), 1)))
	l.gen = synth.NewGenerator(l.seed, l.today)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan *village, 64)
	perr := make(chan error, 1)
	go func() { perr <- l.produce(ctx, codes, shares, ch) }()

	elders := newBatch("elders", elderCols...)
	versions := newBatch("elder_versions", versionCols...)
	history := newBatch("class_history", historyCols...)
	visitors := newBatch("visitors", visitorCols...)
	pairings := newBatch("pairings", pairingCols...)
	fig := LoadFigures{ByClass: map[string]int{}}
	var werr error
	pending := []*village{}
	write := func(vs []*village) error {
		// Parents before children: elders and visitors before the rows
		// that reference them.
		for _, b := range []struct {
			b    *batch
			rows func(v *village) [][]any
		}{
			{elders, func(v *village) [][]any { return v.elders }},
			{visitors, func(v *village) [][]any { return v.visitors }},
			{versions, func(v *village) [][]any { return v.versions }},
			{history, func(v *village) [][]any { return v.history }},
			{pairings, func(v *village) [][]any { return v.pairings }},
		} {
			for _, v := range vs {
				for _, r := range b.rows(v) {
					if b.b.add(r...) {
						if err := b.b.flush(ctx, l.db); err != nil {
							return err
						}
					}
				}
			}
			if err := b.b.flush(ctx, l.db); err != nil {
				return err
			}
		}
		return nil
	}
	size := 0
	for v := range ch {
		if werr != nil {
			continue // drain so the producer ends
		}
		pending = append(pending, v)
		size += len(v.elders)
		fig.InScope += v.inScope
		for c, k := range v.byClass {
			fig.ByClass[c] += k
		}
		if size >= 50_000 {
			werr = write(pending)
			pending, size = pending[:0], 0
		}
	}
	if err := <-perr; err != nil && werr == nil {
		werr = err
	}
	if werr == nil {
		werr = write(pending)
	}
	if werr != nil {
		return fig, werr
	}
	fig.Elders, fig.Visitors, fig.Pairings = elders.total, visitors.total, pairings.total
	if err := l.fixSequences(ctx); err != nil {
		return fig, err
	}
	fig.ElderSeconds = time.Since(start).Seconds()
	return fig, nil
}

// fixSequences moves PostgreSQL's identity sequences past the ids the load
// chose itself (SQLite's AUTOINCREMENT follows explicit ids on its own).
func (l *loader) fixSequences(ctx context.Context) error {
	if l.db.Dialect != store.Postgres {
		return nil
	}
	for _, t := range []string{"elders", "visitors"} {
		if _, err := l.db.Exec(ctx, fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT MAX(id) FROM %s))", t, t)); err != nil {
			return fmt.Errorf("sequence of %s: %w", t, err)
		}
	}
	return nil
}
