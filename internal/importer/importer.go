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
	err = im.DB.InBulkTx(ctx, func(tx *store.Tx) error {
		if rec.ID == 0 {
			if rec.ID, err = insertRecord(ctx, tx, rec, StatusCommitted); err != nil {
				return err
			}
		} else if err := claim(ctx, tx, rec.ID); err != nil {
			return err
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

// claim takes a dry run's kept file for this commit inside its
// transaction: of two confirmations sent at once, the second finds it
// taken (ErrGone) instead of committing the same file again.
func claim(ctx context.Context, tx *store.Tx, id int64) error {
	res, err := tx.Exec(ctx, "UPDATE imports SET status = ? WHERE id = ? AND status = ?", StatusCommitted, id, StatusChecked)
	if err != nil {
		return fmt.Errorf("claim import %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return ErrGone
	}
	return nil
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

// scopeAge is the age from which the service looks after elders (R-OBJ-1).
const scopeAge = 60

// chunkRows is how many data rows are read before they go to the
// registry together: their ID numbers looked up in one pass, their new
// files written in one pass.
const chunkRows = 500

// chunkRow is a data row read and checked on its own, waiting for the
// rest of its chunk.
type chunkRow struct {
	cells    []cell
	ri       rowInput
	number   string // the ID number as idcard.ParseAt gives it, when valid
	age      int    // by the ID number, when valid
	out      Outcome
	problems []Problem
}

// applyRows runs every data row through the registry: inside tx, or
// with tx nil as checks that write nothing. Rows with problems are counted
// and skipped; a commit rolls back if there are any. The file is read and
// each row checked on its own (readChunks) beside the database work, so
// the two share the machine's cores.
func (im *Importer) applyRows(ctx context.Context, tx *store.Tx, t *table, ix *areaIndex, req Request, reason string, rep *Report) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan []chunkRow, 2)
	readErr := make(chan error, 1)
	go func() {
		defer close(chunks)
		readErr <- im.readChunks(ctx, t, ix, chunks)
	}()
	for chunk := range chunks {
		rep.Rows += len(chunk)
		err := ctx.Err()
		if err == nil {
			err = im.applyChunk(ctx, tx, t, ix, req, reason, chunk, rep)
		}
		if err != nil {
			cancel()
			for range chunks {
			}
			return err
		}
	}
	return <-readErr
}

// readChunks reads the data rows of t, checks each on its own (its
// cells, and its ID number against the rows before it) and sends them on
// in chunks of chunkRows. Only it touches t's reader and ix's cache while
// it runs.
func (im *Importer) readChunks(ctx context.Context, t *table, ix *areaIndex, out chan<- []chunkRow) error {
	today := age.DateOf(im.now())
	seen := map[string]int{}
	idCol, seqCol := rosterSpec.key, rosterSpec.index("seq")
	rows := 0
	chunk := make([]chunkRow, 0, chunkRows)
	send := func() error {
		select {
		case out <- chunk:
			chunk = make([]chunkRow, 0, chunkRows)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		num, cells, err := t.next()
		if err == io.EOF {
			return send()
		}
		if err != nil {
			return err
		}
		if v, _ := t.value(cells, seqCol); v == exampleMark {
			continue
		}
		if rows++; rows > MaxRows {
			return &FileError{fmt.Sprintf("文件超过%d行，请拆分后分批导入", MaxRows)}
		}
		p := chunkRow{cells: cells, ri: readRoster(t, ix, num, cells), out: Outcome{Row: num, Outcome: Rejected}}
		p.out.Name, p.problems = p.ri.name, p.ri.problems
		if n, err := idcard.Parse(p.ri.idNumber); err == nil {
			if first, dup := seen[n.Value]; dup {
				v, _ := t.value(cells, idCol)
				p.problems = append(p.problems, Problem{Row: num, Column: t.columnName(rosterSpec, idCol), Value: v,
					Message: fmt.Sprintf("与第%d行的身份证号码相同，同一人只能有一行", first)})
			} else {
				seen[n.Value] = num
			}
		}
		if n, err := idcard.ParseAt(p.ri.idNumber, today); err == nil {
			p.number, p.age = n.Value, age.Years(n.Birth, today)
		}
		chunk = append(chunk, p)
		if len(chunk) == chunkRows {
			if err := send(); err != nil {
				return err
			}
		}
	}
}

// applyChunk decides and applies what happens to each row of chunk (see
// decide), then adds the rows' outcomes and problems to rep in row order.
func (im *Importer) applyChunk(ctx context.Context, tx *store.Tx, t *table, ix *areaIndex, req Request, reason string, chunk []chunkRow, rep *Report) error {
	var q store.Querier = im.DB
	if tx != nil {
		q = tx
	}
	var numbers []string
	for _, p := range chunk {
		if len(p.problems) == 0 && p.number != "" {
			numbers = append(numbers, p.number)
		}
	}
	holders, err := im.Registry.HoldersOf(ctx, q, numbers)
	if err != nil {
		return err
	}
	var creates []int
	var ins []registry.Input
	for i := range chunk {
		p := &chunk[i]
		if len(p.problems) > 0 {
			continue
		}
		h, found := holders[p.number]
		if !found || (!h.Active && h.Status != registry.StatusDeceased) {
			// No file, or one closed by a move: the number may hold a new file.
			if p.number != "" && p.age < scopeAge {
				// A roster of the service's elders with a younger person
				// in it is most likely the wrong list or a mistyped number.
				col, v := t.fieldCell(p.cells, "id_number")
				p.problems = []Problem{{Row: p.out.Row, Column: col, Value: v, Message: fmt.Sprintf(
					"按身份证号码现年%d岁，未满60周岁，不属于探访关爱服务对象，导入不建档；请核对号码，确需登记的请在档案页面单独新建", p.age)}}
				continue
			}
			in := p.ri.in
			in.AreaCode = &p.ri.area
			creates = append(creates, i)
			ins = append(ins, in)
			continue
		}
		if err := im.existing(ctx, tx, t, ix, req, reason, h, p); err != nil {
			return err
		}
	}
	if len(ins) > 0 {
		var elders []registry.Elder
		var errs []error
		if tx == nil {
			errs, err = im.Registry.CheckCreates(ctx, req.Scope, ins)
		} else {
			elders, errs, err = im.Registry.CreateManyTx(ctx, tx, req.Actor, req.Scope, ins, reason)
		}
		if err != nil {
			return err
		}
		for k, i := range creates {
			p := &chunk[i]
			if errs[k] != nil {
				if p.problems, err = problemsOf(t, p.cells, p.out.Row, errs[k]); err != nil {
					return err
				}
				continue
			}
			p.out.Outcome = Created
			if elders != nil {
				p.out.ElderID = elders[k].ID
			}
		}
	}
	for _, p := range chunk {
		for _, pr := range p.problems {
			rep.Problems = append(rep.Problems, pr.clipped())
		}
		rep.Outcomes = append(rep.Outcomes, p.out)
		switch p.out.Outcome {
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
			if err := im.afterRow(len(rep.Outcomes)); err != nil {
				return err
			}
		}
	}
	return nil
}

// existing handles a row whose ID number already has a file h: it patches
// that file when it lies in the area the row names. A file elsewhere is
// reported and left where it is (moves go through the registry's
// transfer). A deceased elder's file is matched like any other and never
// reopened or duplicated.
func (im *Importer) existing(ctx context.Context, tx *store.Tx, t *table, ix *areaIndex, req Request, reason string, h registry.Holder, p *chunkRow) error {
	switch {
	case !h.Active && !req.Scope.Contains(h.AreaCode):
		// Old rosters still list elders who have died: no new file for them.
		col, v := t.fieldCell(p.cells, "id_number")
		p.problems = []Problem{{Row: p.out.Row, Column: col, Value: v,
			Message: "该身份证号码对应的老人已登记为去世，导入不会重新建档；如登记有误，请联系档案所在地更正"}}
		return nil
	case !req.Scope.Contains(h.AreaCode) || (p.ri.area != "" && p.ri.area != h.AreaCode):
		msg := im.Registry.Duplicate(ctx, req.Scope, h).Error()
		if req.Scope.Contains(h.AreaCode) {
			c, tw, v := ix.path(h.AreaCode)
			msg = fmt.Sprintf("该老人已在%s%s%s建档（档案编号%d），与本行所填村（居）不同；导入不会移动档案，如已迁居，请在档案中办理转移", c, tw, v, h.ElderID)
		}
		col, v := t.fieldCell(p.cells, "id_number")
		p.problems = []Problem{{Row: p.out.Row, Column: col, Value: v, Message: msg}}
		return nil
	}
	patch := p.ri.in
	patch.AreaCode, patch.IDNumber = nil, nil
	var changes map[string]registry.Change
	var err error
	if tx == nil {
		changes, err = im.Registry.CheckUpdate(ctx, req.Scope, h.ElderID, h.Version, patch, reason)
	} else {
		_, changes, err = im.Registry.UpdateTx(ctx, tx, req.Actor, req.Scope, h.ElderID, h.Version, patch, reason)
	}
	if err != nil {
		p.problems, err = problemsOf(t, p.cells, p.out.Row, err)
		return err
	}
	p.out.Outcome, p.out.ElderID = Unchanged, h.ElderID
	if len(changes) > 0 {
		p.out.Outcome, p.out.Changes = Updated, changes
	}
	return nil
}

// problemsOf turns the registry's refusal of a row into the row's
// problems, each on the column behind the field; any other error fails
// the import.
func problemsOf(t *table, cells []cell, row int, err error) ([]Problem, error) {
	var ve *registry.ValidationError
	var de *registry.DuplicateError
	switch {
	case errors.As(err, &ve):
		ps := make([]Problem, 0, len(ve.Fields))
		for _, fe := range ve.Fields {
			col, v := t.fieldCell(cells, fe.Field)
			ps = append(ps, Problem{Row: row, Column: col, Value: v, Message: fe.Message})
		}
		return ps, nil
	case errors.As(err, &de):
		col, v := t.fieldCell(cells, "id_number")
		return []Problem{{Row: row, Column: col, Value: v, Message: de.Error()}}, nil
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
