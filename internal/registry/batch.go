package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/policy/age"
	"tanfang/internal/store"
)

// This file holds the write path shared by single edits (Create, Update)
// and imports that apply many files in one transaction (R-OBJ-3: a roster
// is taken in all or nothing), so both get the same checks, versions and
// audit entries.

// prepareCreate checks in as a new file, reading through q, and returns
// the row and household to insert; it writes nothing.
func (s *Service) prepareCreate(ctx context.Context, q store.Querier, sc areas.Scope, in Input, now time.Time) (row, int64, error) {
	ts := store.FormatTime(now)
	c := &checker{today: age.DateOf(now)}
	r := row{Status: StatusActive, Active: true, FCReachable: true, Version: 1, CreatedAt: ts, UpdatedAt: ts}
	c.apply(in, &r, true)
	c.crossCheck(&r)
	checkArea(ctx, q, c, sc.Contains(r.AreaCode), "area_code", r.AreaCode)
	household, _ := s.household(ctx, q, c, sc, in.HouseholdWith, 0)
	if err := c.err(); err != nil {
		return r, 0, err
	}
	d, err := s.holder(ctx, q, r.idNumber, 0)
	if err != nil {
		return r, 0, err
	}
	if d != nil {
		return r, 0, d
	}
	return r, household, nil
}

// create is Create's work inside tx. The row comes back even on failure,
// so the caller can name the ID number it tried.
func (s *Service) create(ctx context.Context, tx *store.Tx, actor Actor, sc areas.Scope, in Input, reason string, now time.Time) (row, error) {
	r, household, err := s.prepareCreate(ctx, tx, sc, in, now)
	if err != nil {
		return r, err
	}
	r.seal(s.Keys)
	r.Incomplete = len(Completeness(r.elder(age.DateOf(now)))) > 0
	names, vals := r.writeCols()
	id, err := tx.InsertID(ctx, "INSERT INTO elders ("+strings.Join(names, ", ")+") VALUES ("+placeholders(len(names))+")", vals...)
	if err != nil {
		if store.IsUniqueViolation(err) {
			return r, errRace
		}
		return r, fmt.Errorf("insert elder: %w", err)
	}
	r.ID, r.HouseholdID = id, household
	if household == 0 {
		r.HouseholdID = id
	}
	if _, err := tx.Exec(ctx, "UPDATE elders SET household_id = ? WHERE id = ?", r.HouseholdID, id); err != nil {
		return r, fmt.Errorf("set household: %w", err)
	}
	if err := s.insertVersion(ctx, tx, &r, "created", "", diff(nil, &r), reason, actor, now); err != nil {
		return r, err
	}
	return r, audit.Append(ctx, tx, actor.entry("elder.create", &r, audit.OK, "version=1", now))
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

// CheckCreate says what CreateTx would about in, through the read pool and
// writing nothing: the dry run of an import.
func (s *Service) CheckCreate(ctx context.Context, sc areas.Scope, in Input) error {
	_, _, err := s.prepareCreate(ctx, s.DB, sc, in, s.now())
	return err
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
	r, err := s.create(ctx, tx, actor, sc, in, reason, now)
	if err != nil {
		return Elder{}, inTx(err)
	}
	return r.elder(age.DateOf(now)), nil
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
	hashes := s.Keys.Lookups(kindID, idNumber)
	args := make([]any, len(hashes))
	for i, x := range hashes {
		args[i] = x
	}
	err = q.QueryRow(ctx, "SELECT id, area_code, version, name, active, status FROM elders WHERE id_hmac IN ("+
		placeholders(len(hashes))+") ORDER BY active DESC, id DESC LIMIT 1", args...).Scan(&h.ElderID, &h.AreaCode, &h.Version, &h.Name, &h.Active, &h.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return Holder{}, false, nil
	}
	if err != nil {
		return Holder{}, false, fmt.Errorf("look up ID number: %w", err)
	}
	return h, true, nil
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
