package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/classes"
	"tanfang/internal/policy/age"
	"tanfang/internal/store"
)

// This file holds the write path shared by single edits (Create, Update)
// and imports that apply many files in one transaction (R-OBJ-3: a roster
// is taken in all or nothing), so both get the same checks, versions and
// audit entries.

// prepared is one input of a batch of new files, checked: the row and
// household to insert, or the input's refusal.
type prepared struct {
	r         row
	household int64
	err       error
}

// prepareCreates checks ins as new files, reading through q and writing
// nothing: each input as Create checks it, then the ID numbers of the
// valid ones looked up together; a number given twice in the batch is
// refused the second time.
func (s *Service) prepareCreates(ctx context.Context, q store.Querier, sc areas.Scope, ins []Input, now time.Time) ([]prepared, error) {
	ts := store.FormatTime(now)
	ps := make([]prepared, len(ins))
	checkers := make([]*checker, len(ins))
	codes := make([]string, len(ins))
	for i, in := range ins {
		c := &checker{today: age.DateOf(now)}
		r := row{Status: StatusActive, Active: true, FCReachable: true, Version: 1, CreatedAt: ts, UpdatedAt: ts}
		c.apply(in, &r, true)
		c.crossCheck(&r)
		ps[i].r, checkers[i], codes[i] = r, c, r.AreaCode
	}
	memo := areaMemo{}
	if err := memo.load(ctx, q, codes); err != nil {
		return nil, err
	}
	for i, in := range ins {
		c, r := checkers[i], &ps[i].r
		memo.check(ctx, q, c, sc.Contains(r.AreaCode), "area_code", r.AreaCode)
		ps[i].household, _ = s.household(ctx, q, c, sc, in.HouseholdWith, 0)
		ps[i].err = c.err()
	}
	first := map[string]int{}
	var numbers []string
	for i := range ps {
		if ps[i].err != nil {
			continue
		}
		n := ps[i].r.idNumber
		if j, dup := first[n]; dup {
			ps[i].err = &ValidationError{Fields: []FieldError{{Field: "id_number",
				Message: fmt.Sprintf("与同批第%d份档案的身份证号码相同，同一人只能建一份档案", j+1)}}}
			continue
		}
		first[n] = i
		numbers = append(numbers, n)
	}
	holders, err := s.holdersExcept(ctx, q, numbers, 0)
	if err != nil {
		return nil, err
	}
	for n, h := range holders {
		if d, err := h.refusal(); d != nil {
			ps[first[n]].err = d
		} else if err != nil {
			ps[first[n]].err = err
		}
	}
	return ps, nil
}

const versionInsert = "INSERT INTO elder_versions (elder_id, version, kind, at, actor_id, actor, area_code, from_area_code, changes, reason)"

// versionRow is r's version as a row of versionInsert.
func versionRow(r *row, kind, fromArea string, changes map[string]Change, reason string, a Actor, at time.Time) ([]any, error) {
	js, err := json.Marshal(changes)
	if err != nil {
		return nil, err
	}
	return []any{r.ID, r.Version, kind, store.FormatTime(at), a.UserID, a.Username, r.AreaCode, fromArea, string(js), reason}, nil
}

// createMany registers the files of ins inside tx, one pass for the lot:
// an input that is refused gets its refusal in errs and nothing written.
// The others are written once each, with their ids taken beforehand so a
// file that starts its own household names itself as household, and with
// their classes computed beforehand (classes.ClassifyFresh); a file that
// joins a household is classified once written, with its household. Their
// first versions (recording reason) and audit entries are written
// together. rows come back in input order, a refused one as far as it
// was read, so a caller can name its number. err fails the whole
// transaction; errRace means another writer registered one of the
// numbers meanwhile.
func (s *Service) createMany(ctx context.Context, tx *store.Tx, actor Actor, sc areas.Scope, ins []Input, reason string, now time.Time) (rows []row, errs []error, err error) {
	ps, err := s.prepareCreates(ctx, tx, sc, ins, now)
	if err != nil {
		return nil, nil, err
	}
	rows, errs = make([]row, len(ps)), make([]error, len(ps))
	var ok []int
	for i, p := range ps {
		rows[i], errs[i] = p.r, p.err
		if p.err == nil {
			ok = append(ok, i)
		}
	}
	ids, err := tx.ReserveIDs(ctx, "elders", len(ok))
	if err != nil {
		return nil, nil, err
	}
	today := age.DateOf(now)
	var own, joining []int // indexes into rows
	var fresh []classes.Fresh
	for k, i := range ok {
		r := &rows[i]
		r.ID, r.HouseholdID = ids[k], ps[i].household
		if r.HouseholdID == 0 {
			r.HouseholdID = r.ID
			own = append(own, i)
			fresh = append(fresh, classes.Fresh{AreaCode: r.AreaCode, BirthDate: r.BirthDate, BirthDayAssumed: r.BirthDayAssumed,
				Living: r.Living, Body: r.Body, Economic: r.Economic, FamilyPlanningSpecial: r.FPS, LeftBehind: r.LeftBehind,
				PartnerCondition: r.Partner, ChildCondition: r.ChildCond, DisabilityGrade: r.CertGrade})
		} else {
			joining = append(joining, i)
		}
		r.seal(s.Keys)
		r.Incomplete = len(Completeness(r.elder(today))) > 0
	}
	// Classes follow the facts in the same transaction (R-CLS-4).
	freshClasses, err := classes.ClassifyFresh(ctx, tx, fresh, "created", now)
	if err != nil {
		return nil, nil, err
	}
	if err := insertRows(ctx, tx, rows, own, freshClasses); err != nil {
		return rows, nil, err
	}
	if err := insertRows(ctx, tx, rows, joining, nil); err != nil {
		return rows, nil, err
	}
	ownIDs, joiningIDs := make([]int64, len(own)), make([]int64, len(joining))
	for k, i := range own {
		ownIDs[k] = rows[i].ID
		rows[i].Class = freshClasses[k].Summary()
	}
	for k, i := range joining {
		joiningIDs[k] = rows[i].ID
	}
	if err := classes.RecordFresh(ctx, tx, ownIDs, freshClasses); err != nil {
		return nil, nil, err
	}
	if _, err := classes.RecomputeMany(ctx, tx, joiningIDs, "created", now); err != nil {
		return nil, nil, err
	}
	sums, err := classes.LoadSummaries(ctx, tx, joiningIDs)
	if err != nil {
		return nil, nil, err
	}
	versions := make([][]any, 0, len(ok))
	entries := make([]audit.Entry, 0, len(ok))
	for _, i := range ok {
		r := &rows[i]
		if sm, joined := sums[r.ID]; joined {
			r.Class = sm
		}
		v, err := versionRow(r, "created", "", diff(nil, r), reason, actor, now)
		if err != nil {
			return nil, nil, err
		}
		versions = append(versions, v)
		entries = append(entries, actor.entry("elder.create", r, audit.OK, "version=1", now))
	}
	if err := tx.InsertMany(ctx, versionInsert, versions); err != nil {
		return nil, nil, fmt.Errorf("record first versions: %w", err)
	}
	return rows, errs, audit.AppendMany(ctx, tx, entries)
}

// insertRows inserts rows[which] with their ids and, when cs is given,
// cs[k] as the class columns of rows[which[k]].
func insertRows(ctx context.Context, tx *store.Tx, rows []row, which []int, cs []classes.FreshClass) error {
	if len(which) == 0 {
		return nil
	}
	var names []string
	vals := make([][]any, len(which))
	for k, i := range which {
		var v []any
		names, v = rows[i].writeCols()
		v = append([]any{rows[i].ID}, v...)
		if cs != nil {
			v = append(v, cs[k].Values()...)
		}
		vals[k] = v
	}
	names = append([]string{"id"}, names...)
	if cs != nil {
		names = append(names, classes.FreshColumns...)
	}
	if err := tx.InsertMany(ctx, "INSERT INTO elders ("+strings.Join(names, ", ")+")", vals); err != nil {
		if store.IsUniqueViolation(err) {
			return errRace
		}
		return fmt.Errorf("insert elders: %w", err)
	}
	return nil
}

// prepareUpdate applies a patch to the file as read through q (locked
// when q is a PostgreSQL transaction and lock is set) and returns the file
// before and after and the changed fields; it writes nothing.
func (s *Service) prepareUpdate(ctx context.Context, q store.Querier, lock bool, sc areas.Scope, id int64, version int, patch Input, reason *string, today age.Date) (old, r row, changes map[string]Change, err error) {
	r, err = s.load(ctx, q, sc, id, lock)
	if err != nil {
		return row{}, row{}, nil, err
	}
	if r.Version != version {
		return row{}, row{}, nil, &VersionConflict{Current: r.elder(today)}
	}
	if err := r.open(s.Keys); err != nil {
		return row{}, row{}, nil, err
	}
	old = r
	c := &checker{today: today}
	c.apply(patch, &r, false)
	if h, ok := s.household(ctx, q, c, sc, patch.HouseholdWith, r.ID); ok {
		r.HouseholdID = h
		if h == 0 {
			r.HouseholdID = r.ID
		}
	}
	c.crossCheck(&r)
	c.text("reason", "修改原因", reason, 200, reason)
	if err := c.err(); err != nil {
		return old, r, nil, err
	}
	if r.Active && r.idNumber != old.idNumber {
		d, err := s.holder(ctx, q, r.idNumber, r.ID)
		if err != nil {
			return old, r, nil, err
		}
		if d != nil {
			return old, r, nil, d
		}
	}
	return old, r, diff(&old, &r), nil
}

// update is Update's work inside tx. It returns the file as it stands
// afterwards and the changed fields; with none, nothing was written.
func (s *Service) update(ctx context.Context, tx *store.Tx, actor Actor, sc areas.Scope, id int64, version int, patch Input, reason string, now time.Time) (row, map[string]Change, error) {
	today := age.DateOf(now)
	old, r, changes, err := s.prepareUpdate(ctx, tx, true, sc, id, version, patch, &reason, today)
	if err != nil {
		return r, nil, err
	}
	if len(changes) == 0 {
		return old, changes, nil
	}
	r.Version++
	r.UpdatedAt = store.FormatTime(now)
	if err := s.write(ctx, tx, &r, version, today); err != nil {
		return r, nil, err
	}
	if err := s.insertVersion(ctx, tx, &r, "updated", "", changes, reason, actor, now); err != nil {
		return r, nil, err
	}
	detail := fmt.Sprintf("version=%d fields=%s", r.Version, strings.Join(sortedKeys(changes), ","))
	if err := audit.Append(ctx, tx, actor.entry("elder.update", &r, audit.OK, detail, now)); err != nil {
		return r, nil, err
	}
	return r, changes, nil
}

// CheckCreates says what CreateManyTx would about each of ins, through
// the read pool and writing nothing: the dry run of an import. A refusal
// naming a holder is worded for sc, as Create words it.
func (s *Service) CheckCreates(ctx context.Context, sc areas.Scope, ins []Input) ([]error, error) {
	ps, err := s.prepareCreates(ctx, s.DB, sc, ins, s.now())
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = s.word(ctx, sc, p.err)
	}
	return errs, nil
}

// CheckUpdate returns the fields UpdateTx would change, writing nothing.
func (s *Service) CheckUpdate(ctx context.Context, sc areas.Scope, id int64, version int, patch Input, reason string) (map[string]Change, error) {
	_, _, changes, err := s.prepareUpdate(ctx, s.DB, false, sc, id, version, patch, &reason, age.DateOf(s.now()))
	return changes, err
}

// inTx turns a concurrent registration of the same number, which aborts
// the caller's transaction, into a conflict the caller can retry.
func inTx(err error) error {
	if errors.Is(err, errRace) {
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	return err
}

// CreateTx is Create inside the caller's transaction; reason is recorded
// with the first version (an import names its batch there). A
// *DuplicateError comes back as found, naming the holder's village and
// file; the caller words it for its user (see Duplicate).
func (s *Service) CreateTx(ctx context.Context, tx *store.Tx, actor Actor, sc areas.Scope, in Input, reason string) (Elder, error) {
	now := s.now()
	rows, errs, err := s.createMany(ctx, tx, actor, sc, []Input{in}, reason, now)
	if err == nil {
		err = errs[0]
	}
	if err != nil {
		return Elder{}, inTx(err)
	}
	return rows[0].elder(age.DateOf(now)), nil
}

// CreateManyTx is CreateTx for many inputs in one pass, as an import
// needs: elders[i] is the new file of ins[i], or errs[i] says why there is
// none (worded for sc, as Create words it). err fails the transaction.
func (s *Service) CreateManyTx(ctx context.Context, tx *store.Tx, actor Actor, sc areas.Scope, ins []Input, reason string) (elders []Elder, errs []error, err error) {
	now := s.now()
	rows, errs, err := s.createMany(ctx, tx, actor, sc, ins, reason, now)
	if err != nil {
		return nil, nil, inTx(err)
	}
	elders = make([]Elder, len(rows))
	for i := range rows {
		if errs[i] != nil {
			errs[i] = s.word(ctx, sc, errs[i])
			continue
		}
		elders[i] = rows[i].elder(age.DateOf(now))
	}
	return elders, errs, nil
}

// UpdateTx is Update inside the caller's transaction. It also returns the
// changed fields, personal numbers masked; none means nothing was written.
func (s *Service) UpdateTx(ctx context.Context, tx *store.Tx, actor Actor, sc areas.Scope, id int64, version int, patch Input, reason string) (Elder, map[string]Change, error) {
	now := s.now()
	r, changes, err := s.update(ctx, tx, actor, sc, id, version, patch, reason, now)
	if err != nil {
		return Elder{}, nil, inTx(err)
	}
	return r.elder(age.DateOf(now)), changes, nil
}

// Holder is the file that holds an ID number: the active one, or else the
// latest closed one (deceased or moved out).
type Holder struct {
	ElderID  int64
	AreaCode string
	Version  int
	Name     string
	Active   bool
	Status   string
}

// HolderOf finds the file holding idNumber (an 18-character number as
// idcard.Parse gives it) anywhere in the system, under any key of the
// ring: the active file if there is one, else the latest closed one; ok is
// false when there is none.
func (s *Service) HolderOf(ctx context.Context, q store.Querier, idNumber string) (h Holder, ok bool, err error) {
	hs, err := s.HoldersOf(ctx, q, []string{idNumber})
	h, ok = hs[idNumber]
	return h, ok, err
}

// HoldersOf is HolderOf for many numbers, looked up a few hundred at a
// time; numbers without a file are absent from the map.
func (s *Service) HoldersOf(ctx context.Context, q store.Querier, idNumbers []string) (map[string]Holder, error) {
	return s.holdersExcept(ctx, q, idNumbers, 0)
}

// holdersExcept is HoldersOf ignoring the file except.
func (s *Service) holdersExcept(ctx context.Context, q store.Querier, idNumbers []string, except int64) (map[string]Holder, error) {
	var hashes []any
	numberOf := map[string]string{}
	for _, n := range idNumbers {
		for _, h := range s.Keys.Lookups(kindID, n) {
			hashes = append(hashes, h)
			numberOf[h] = n
		}
	}
	out := map[string]Holder{}
	err := store.Chunks(len(hashes), func(lo, hi int) error {
		rows, err := q.Query(ctx, "SELECT id_hmac, id, area_code, version, name, active, status FROM elders WHERE id <> ? AND id_hmac IN ("+
			store.Placeholders(hi-lo)+")", append([]any{except}, hashes[lo:hi]...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var hash string
			var h Holder
			if err := rows.Scan(&hash, &h.ElderID, &h.AreaCode, &h.Version, &h.Name, &h.Active, &h.Status); err != nil {
				return err
			}
			// The active file wins, else the latest closed one.
			n := numberOf[hash]
			if old, seen := out[n]; !seen || h.Active && !old.Active || h.Active == old.Active && h.ElderID > old.ElderID {
				out[n] = h
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("look up ID numbers: %w", err)
	}
	return out, nil
}

// refusal is what the holding file h means for a new active file of the
// number: an active holder is a *DuplicateError; a latest file saying the
// elder has died is a *DeceasedError, returned as the error so that every
// write path refuses it. A number whose latest file was closed by a move
// out is free: the elder may come back.
func (h Holder) refusal() (*DuplicateError, error) {
	switch {
	case h.Active:
		return &DuplicateError{AreaCode: h.AreaCode, ElderID: h.ElderID}, nil
	case h.Status == StatusDeceased:
		return nil, &DeceasedError{AreaCode: h.AreaCode, ElderID: h.ElderID}
	}
	return nil, nil
}

// Duplicate words a holder for a caller of scope sc the way Create does:
// county and town only, and the file id only when the caller may open it.
func (s *Service) Duplicate(ctx context.Context, sc areas.Scope, h Holder) *DuplicateError {
	d := &DuplicateError{AreaCode: h.AreaCode, ElderID: h.ElderID}
	s.maskDuplicate(ctx, sc, d)
	return d
}

// Each calls fn with every file in scope that matches f (paging ignored),
// in list order. With reveal the full ID number and phones are filled in:
// the caller checks the role and audits the export. The rows are read on
// the read pool while fn runs, so fn must not write to the database.
func (s *Service) Each(ctx context.Context, sc areas.Scope, f Filter, reveal bool, fn func(Elder) error) error {
	cond, args, err := s.where(ctx, sc, f)
	if err != nil || cond == "" {
		return err
	}
	rows, err := s.DB.Query(ctx, "SELECT "+selectCols+" FROM elders WHERE "+cond+" ORDER BY area_code, id", args...)
	if err != nil {
		return fmt.Errorf("export elders: %w", err)
	}
	defer rows.Close()
	today := age.DateOf(s.now())
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return fmt.Errorf("export elders: %w", err)
		}
		e := r.elder(today)
		if reveal {
			if err := r.open(s.Keys); err != nil {
				return err
			}
			e.IDNumber, e.Phone = r.idNumber, r.phone
			e.FirstContact.Phone, e.VillageContact.Phone = r.fcPhone, r.vcPhone
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}
