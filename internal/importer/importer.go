// Package importer takes in the Excel and CSV files offices keep: the
// roster of elders' files (R-OBJ-3, R-REC), checked row by row in a dry
// run and then applied all or nothing in one transaction, and the lists of
// other departments (R-OBJ-4), reconciled against the registry. It also
// writes the roster export and the import template. Files stream through
// in bounded memory; ID numbers are matched through their keyed hashes.
package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/pii"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/idcard"
	"tanfang/internal/registry"
	"tanfang/internal/store"
)

// Kinds of import.
const (
	KindElders     = "elders"     // the roster of files
	KindHealth     = "health"     // 卫健: family-planning special family elders
	KindDisability = "disability" // 残联: disabled persons
)

// Statuses of an import.
const (
	StatusChecked    = "checked"    // dry run done; the file is kept a day for confirming
	StatusCommitted  = "committed"  // every row applied
	StatusRejected   = "rejected"   // a commit refused because rows had problems; nothing applied
	StatusReconciled = "reconciled" // a department list compared; the file is kept a day for applying
	StatusApplied    = "applied"    // a department list's fixes applied
)

// Outcomes of a row.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
	Rejected  = "rejected"
)

// MaxRows caps the data rows of one file; MaxFileSize its bytes.
const (
	MaxRows     = 200_000
	MaxFileSize = 64 << 20
)

// KeepFor is how long a checked file waits for its uploader to confirm.
const KeepFor = 24 * time.Hour

// Importer applies files to the registry.
type Importer struct {
	DB       *store.DB
	Keys     *pii.Keys
	Registry *registry.Service
	Areas    areas.Store
	Now      func() time.Time

	// afterRow, when set, runs after each data row inside the transaction;
	// tests make it fail half-way.
	afterRow func(row int) error
}

func (im *Importer) now() time.Time {
	if im.Now != nil {
		return im.Now()
	}
	return time.Now()
}

// Request is one uploaded file and who sends it.
type Request struct {
	Actor    registry.Actor
	Scope    areas.Scope
	FileName string
	Data     []byte
	DryRun   bool
}

// Outcome is what happened (or, in a dry run, would happen) to one row.
type Outcome struct {
	Row     int                        `json:"row"`
	Outcome string                     `json:"outcome"`
	ElderID int64                      `json:"elder_id,omitempty"`
	Name    string                     `json:"name"`
	Changes map[string]registry.Change `json:"changes,omitempty"`
}

// Report is the result of an import: the counts of the contract, every
// problem and every row's outcome.
type Report struct {
	ImportID   int64     `json:"import_id"`
	Status     string    `json:"status"`
	DryRun     bool      `json:"dry_run"`
	FileSHA256 string    `json:"file_sha256"`
	HeaderRow  int       `json:"header_row"`
	Ignored    []string  `json:"ignored_columns"`
	Rows       int       `json:"rows"`
	Created    int       `json:"created"`
	Updated    int       `json:"updated"`
	Unchanged  int       `json:"unchanged"`
	Rejected   int       `json:"rejected"`
	Problems   []Problem `json:"problems"`
	Outcomes   []Outcome `json:"outcomes"`
}

var errRollback = errors.New("import: roll back")

// Elders checks (DryRun) or applies a roster file. A dry run changes
// nothing and keeps the file, sealed, for Confirm. A commit applies every
// row or, when any row has a problem, none (Status rejected). Both are
// recorded with the file's SHA-256 and audited. A *FileError means the
// file could not be read as a roster at all.
func (im *Importer) Elders(ctx context.Context, req Request) (*Report, error) {
	return im.elders(ctx, req, 0)
}

// Confirm commits the file of an earlier dry run by the same user.
func (im *Importer) Confirm(ctx context.Context, actor registry.Actor, sc areas.Scope, id int64) (*Report, error) {
	rec, data, err := im.kept(ctx, actor, id, KindElders, StatusChecked)
	if err != nil {
		return nil, err
	}
	return im.elders(ctx, Request{Actor: actor, Scope: sc, FileName: rec.FileName, Data: data}, id)
}

func (im *Importer) elders(ctx context.Context, req Request, keptID int64) (*Report, error) {
	now := im.now()
	sum := sha256.Sum256(req.Data)
	rep := &Report{DryRun: req.DryRun, FileSHA256: hex.EncodeToString(sum[:]), Problems: []Problem{}, Outcomes: []Outcome{}, Ignored: []string{}}
	ix, err := loadAreas(ctx, im.Areas, req.Scope)
	if err != nil {
		return nil, err
	}
	t, err := openTable(req.Data, rosterSpec)
	if err != nil {
		return nil, err
	}
	defer t.close()
	rep.HeaderRow = t.headerRow
	rep.Ignored = append(rep.Ignored, t.ignored...)
	rec := record{ID: keptID, Kind: KindElders, Actor: req.Actor, AreaCode: req.Scope.Code, FileName: req.FileName, SHA256: rep.FileSHA256, Size: len(req.Data), At: now}
	if req.DryRun {
		// Checks only read, so a dry run holds no write lock.
		if err := im.applyRows(ctx, nil, t, ix, req, "", rep); err != nil {
			return nil, err
		}
		rep.Status = StatusChecked
		return rep, im.record(ctx, &rec, rep, req.Data)
	}
	err = im.DB.InTx(ctx, func(tx *store.Tx) error {
		if rec.ID == 0 {
			if rec.ID, err = insertRecord(ctx, tx, rec, StatusCommitted); err != nil {
				return err
			}
		}
		if err := im.applyRows(ctx, tx, t, ix, req, fmt.Sprintf("批量导入（第%d号导入）", rec.ID), rep); err != nil {
			return err
		}
		if rep.Rejected > 0 {
			return errRollback
		}
		rep.Status = StatusCommitted
		return im.finish(ctx, tx, rec, rep, nil)
	})
	if err == nil {
		rep.ImportID = rec.ID
		return rep, nil
	}
	if !errors.Is(err, errRollback) {
		return nil, err
	}
	// Nothing was applied. A direct commit's own record went with the
	// rollback; a confirmed dry run keeps its record, now rejected.
	if keptID == 0 {
		rec.ID = 0
	}
	rep.Status = StatusRejected
	return rep, im.record(ctx, &rec, rep, nil)
}

// record stores the outcome of an import that applied nothing, keeping
// the file when keep is set.
func (im *Importer) record(ctx context.Context, rec *record, rep *Report, keep []byte) error {
	err := im.DB.InTx(ctx, func(tx *store.Tx) error {
		if rec.ID == 0 {
			var err error
			if rec.ID, err = insertRecord(ctx, tx, *rec, rep.Status); err != nil {
				return err
			}
		}
		return im.finish(ctx, tx, *rec, rep, keep)
	})
	rep.ImportID = rec.ID
	return err
}

// applyRows runs every data row through the registry: inside tx, or
// with tx nil as checks that write nothing. Rows with problems are counted
// and skipped; a commit rolls back if there are any.
func (im *Importer) applyRows(ctx context.Context, tx *store.Tx, t *table, ix *areaIndex, req Request, reason string, rep *Report) error {
	today := age.DateOf(im.now())
	seen := map[string]int{}
	idCol, seqCol := rosterSpec.key, rosterSpec.index("seq")
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		num, cells, err := t.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if v, _ := t.value(cells, seqCol); v == exampleMark {
			continue
		}
		rep.Rows++
		if rep.Rows > MaxRows {
			return &FileError{fmt.Sprintf("文件超过%d行，请拆分后分批导入", MaxRows)}
		}
		ri := readRoster(t, ix, num, cells)
		if n, err := idcard.Parse(ri.idNumber); err == nil {
			if first, dup := seen[n.Value]; dup {
				v, _ := t.value(cells, idCol)
				ri.problems = append(ri.problems, Problem{Row: num, Column: t.columnName(rosterSpec, idCol), Value: v,
					Message: fmt.Sprintf("与第%d行的身份证号码相同，同一人只能有一行", first)})
			} else {
				seen[n.Value] = num
			}
		}
		out := Outcome{Row: num, Name: ri.name, Outcome: Rejected}
		ps := ri.problems
		if len(ps) == 0 {
			if ps, err = im.applyRow(ctx, tx, t, ix, cells, req, ri, today, reason, &out); err != nil {
				return err
			}
		}
		rep.Problems = append(rep.Problems, ps...)
		rep.Outcomes = append(rep.Outcomes, out)
		switch out.Outcome {
		case Created:
			rep.Created++
		case Updated:
			rep.Updated++
		case Unchanged:
			rep.Unchanged++
		case Rejected:
			rep.Rejected++
		}
		if im.afterRow != nil {
			if err := im.afterRow(rep.Rows); err != nil {
				return err
			}
		}
	}
}

// applyRow creates the file of a new ID number, or patches the file that
// holds it when that file is in the area the row names. A file elsewhere is
// reported and left where it is (moves go through the registry's transfer).
// A deceased elder's file is matched like any other and never reopened or
// duplicated; a file closed by a move out leaves the number free.
func (im *Importer) applyRow(ctx context.Context, tx *store.Tx, t *table, ix *areaIndex, cells []cell, req Request, ri rowInput, today age.Date, reason string, out *Outcome) ([]Problem, error) {
	var h registry.Holder
	found := false
	var q store.Querier = im.DB
	if tx != nil {
		q = tx
	}
	if n, err := idcard.ParseAt(ri.idNumber, today); err == nil {
		if h, found, err = im.Registry.HolderOf(ctx, q, n.Value); err != nil {
			return nil, err
		}
	}
	var err error
	switch {
	case !found || (!h.Active && h.Status != registry.StatusDeceased):
		// No file, or one closed by a move: the number may hold a new file.
		in := ri.in
		in.AreaCode = &ri.area
		if tx == nil {
			err = im.Registry.CheckCreate(ctx, req.Scope, in)
		} else {
			var e registry.Elder
			e, err = im.Registry.CreateTx(ctx, tx, req.Actor, req.Scope, in, reason)
			out.ElderID = e.ID
		}
		if err == nil {
			out.Outcome = Created
		}
	case !h.Active && !req.Scope.Contains(h.AreaCode):
		// Old rosters still list elders who have died: no new file for them.
		col, v := t.fieldCell(cells, "id_number")
		return []Problem{{Row: out.Row, Column: col, Value: v,
			Message: "该身份证号码对应的老人已登记为去世，导入不会重新建档；如登记有误，请联系档案所在地更正"}}, nil
	case !req.Scope.Contains(h.AreaCode) || (ri.area != "" && ri.area != h.AreaCode):
		msg := im.Registry.Duplicate(ctx, req.Scope, h).Error()
		if req.Scope.Contains(h.AreaCode) {
			c, tw, v := ix.path(h.AreaCode)
			msg = fmt.Sprintf("该老人已在%s%s%s建档（档案编号%d），与本行所填村（居）不同；导入不会移动档案，如已迁居，请在档案中办理转移", c, tw, v, h.ElderID)
		}
		col, v := t.fieldCell(cells, "id_number")
		return []Problem{{Row: out.Row, Column: col, Value: v, Message: msg}}, nil
	default:
		patch := ri.in
		patch.AreaCode, patch.IDNumber = nil, nil
		var changes map[string]registry.Change
		if tx == nil {
			changes, err = im.Registry.CheckUpdate(ctx, req.Scope, h.ElderID, h.Version, patch, reason)
		} else {
			_, changes, err = im.Registry.UpdateTx(ctx, tx, req.Actor, req.Scope, h.ElderID, h.Version, patch, reason)
		}
		if err == nil {
			out.Outcome, out.ElderID = Unchanged, h.ElderID
			if len(changes) > 0 {
				out.Outcome, out.Changes = Updated, changes
			}
		}
	}
	var ve *registry.ValidationError
	var de *registry.DuplicateError
	switch {
	case errors.As(err, &ve):
		ps := make([]Problem, 0, len(ve.Fields))
		for _, fe := range ve.Fields {
			col, v := t.fieldCell(cells, fe.Field)
			ps = append(ps, Problem{Row: out.Row, Column: col, Value: v, Message: fe.Message})
		}
		return ps, nil
	case errors.As(err, &de):
		col, v := t.fieldCell(cells, "id_number")
		return []Problem{{Row: out.Row, Column: col, Value: v, Message: de.Error()}}, nil
	}
	return nil, err
}

// fieldCell names the column and cell behind a registry field, for a
// problem the registry found.
func (t *table) fieldCell(cells []cell, name string) (string, string) {
	sp := rosterSpec
	if name == "area_code" && !t.has(sp.index("area_code")) {
		var parts []string
		for _, n := range []string{"county", "town", "village"} {
			if v, _ := t.value(cells, sp.index(n)); v != "" {
				parts = append(parts, v)
			}
		}
		return t.columnName(sp, sp.index("village")), strings.Join(parts, "/")
	}
	for i, f := range sp.fields {
		if f.name == name {
			v, _ := t.value(cells, i)
			return t.columnName(sp, i), v
		}
	}
	return name, ""
}
