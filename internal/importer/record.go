package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/exporter"
	"tanfang/internal/registry"
	"tanfang/internal/store"
)

// Sealing kinds of what an import keeps.
const (
	sealFile   = "import_file"
	sealReport = "import_report"
)

// record is one row of the imports table.
type record struct {
	ID       int64
	Kind     string
	Status   string
	Actor    registry.Actor
	AreaCode string
	FileName string
	SHA256   string
	Size     int
	At       time.Time
}

// Summary is an import as lists show it.
type Summary struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"`
	ActorID    int64     `json:"actor_id"`
	Actor      string    `json:"actor"`
	AreaCode   string    `json:"area_code"`
	FileName   string    `json:"file_name"`
	FileSHA256 string    `json:"file_sha256"`
	Rows       int       `json:"rows"`
	Created    int       `json:"created"`
	Updated    int       `json:"updated"`
	Unchanged  int       `json:"unchanged"`
	Rejected   int       `json:"rejected"`
	CreatedAt  time.Time `json:"created_at"`
	Kept       bool      `json:"kept"` // the file waits to be confirmed or applied
}

func insertRecord(ctx context.Context, tx *store.Tx, r record, status string) (int64, error) {
	id, err := tx.InsertID(ctx, `INSERT INTO imports (kind, status, actor_id, actor, area_code, file_name, file_sha256, file_size, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Kind, status, r.Actor.UserID, r.Actor.Username, r.AreaCode, truncate(r.FileName, 200), r.SHA256, r.Size, store.FormatTime(r.At))
	if err != nil {
		return 0, fmt.Errorf("record import: %w", err)
	}
	return id, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// counts is what finish stores and audits.
type counts struct {
	status                                      string
	rows, created, updated, unchanged, rejected int
	problems                                    any
}

// finish stores an import's outcome (with its problems sealed and, for a
// dry run, the file sealed for later), drops kept files older than
// KeepFor, and audits the import, all in tx.
func (im *Importer) finish(ctx context.Context, tx *store.Tx, r record, rep *Report, keep []byte) error {
	return im.finishCounts(ctx, tx, r, counts{rep.Status, rep.Rows, rep.Created, rep.Updated, rep.Unchanged, rep.Rejected, rep.Problems}, keep)
}

func (im *Importer) finishCounts(ctx context.Context, tx *store.Tx, r record, c counts, keep []byte) error {
	problems, err := json.Marshal(c.problems)
	if err != nil {
		return err
	}
	var file any
	if keep != nil {
		file = im.Keys.Seal(sealFile, string(keep))
	}
	now := im.now()
	if _, err := tx.Exec(ctx, `UPDATE imports SET status = ?, row_count = ?, created = ?, updated = ?, unchanged = ?, rejected = ?,
		report_enc = ?, file_enc = ?, finished_at = ? WHERE id = ?`,
		c.status, c.rows, c.created, c.updated, c.unchanged, c.rejected,
		im.Keys.Seal(sealReport, string(problems)), file, store.FormatTime(now), r.ID); err != nil {
		return fmt.Errorf("record import %d: %w", r.ID, err)
	}
	if _, err := tx.Exec(ctx, "UPDATE imports SET file_enc = NULL WHERE file_enc IS NOT NULL AND created_at < ?",
		store.FormatTime(now.Add(-KeepFor))); err != nil {
		return fmt.Errorf("drop old kept files: %w", err)
	}
	action := map[string]string{
		StatusChecked: "import.check", StatusCommitted: "import.commit", StatusRejected: "import.commit",
		StatusReconciled: "import.reconcile", StatusApplied: "import.apply",
	}[c.status]
	outcome := audit.OK
	if c.status == StatusRejected {
		outcome = audit.Failed
	}
	return audit.Append(ctx, tx, audit.Entry{
		At: now, ActorID: r.Actor.UserID, Actor: r.Actor.Username, Action: action, TargetType: "import",
		TargetID: strconv.FormatInt(r.ID, 10), AreaCode: r.AreaCode, IP: r.Actor.IP, Outcome: outcome,
		Detail: fmt.Sprintf("kind=%s sha256=%s rows=%d created=%d updated=%d unchanged=%d rejected=%d",
			r.Kind, r.SHA256, c.rows, c.created, c.updated, c.unchanged, c.rejected),
	})
}

// ErrGone says a kept file is no longer there: confirmed or applied
// already, or older than KeepFor.
var ErrGone = errors.New("import file no longer kept")

// kept returns an import of the actor's with its kept file, opened and
// checked against its hash. Another user's import is store.ErrNotFound.
func (im *Importer) kept(ctx context.Context, actor registry.Actor, id int64, kind, status string) (record, []byte, error) {
	r, file, _, err := im.load(ctx, actor, id)
	if err != nil {
		return r, nil, err
	}
	if r.Kind != kind {
		return r, nil, store.ErrNotFound
	}
	if r.Status != status || file == nil || r.At.Before(im.now().Add(-KeepFor)) {
		return r, nil, ErrGone
	}
	data, err := im.Keys.Open(sealFile, file)
	if err != nil {
		return r, nil, fmt.Errorf("import %d: %w", id, err)
	}
	sum := sha256.Sum256([]byte(data))
	if hex.EncodeToString(sum[:]) != r.SHA256 {
		return r, nil, fmt.Errorf("import %d: kept file does not match its hash", id)
	}
	return r, []byte(data), nil
}

func (im *Importer) load(ctx context.Context, actor registry.Actor, id int64) (record, []byte, []byte, error) {
	var r record
	var at string
	var file, report []byte
	err := im.DB.QueryRow(ctx, `SELECT id, kind, status, actor_id, actor, area_code, file_name, file_sha256, file_size, created_at, file_enc, report_enc
		FROM imports WHERE id = ?`, id).Scan(&r.ID, &r.Kind, &r.Status, &r.Actor.UserID, &r.Actor.Username, &r.AreaCode,
		&r.FileName, &r.SHA256, &r.Size, &at, &file, &report)
	if err != nil || r.Actor.UserID != actor.UserID {
		return r, nil, nil, store.ErrNotFound
	}
	r.At = store.MustTime(at)
	return r, file, report, nil
}

// Problems returns the problems an import of the actor's found, for the
// download; other users' imports are store.ErrNotFound.
func (im *Importer) Problems(ctx context.Context, actor registry.Actor, id int64) (Summary, []Problem, error) {
	r, _, report, err := im.load(ctx, actor, id)
	if err != nil {
		return Summary{}, nil, err
	}
	ps := []Problem{}
	if report != nil {
		js, err := im.Keys.Open(sealReport, report)
		if err != nil {
			return Summary{}, nil, fmt.Errorf("import %d: %w", id, err)
		}
		if err := json.Unmarshal([]byte(js), &ps); err != nil {
			return Summary{}, nil, fmt.Errorf("import %d: %w", id, err)
		}
	}
	return Summary{ID: r.ID, Kind: r.Kind, Status: r.Status, ActorID: r.Actor.UserID, Actor: r.Actor.Username, AreaCode: r.AreaCode,
		FileName: r.FileName, FileSHA256: r.SHA256, CreatedAt: r.At}, ps, nil
}

// Recent lists the latest imports into areas of sc, newest first.
func (im *Importer) Recent(ctx context.Context, sc areas.Scope, limit int) ([]Summary, error) {
	lo, hi := sc.Range()
	rows, err := im.DB.Query(ctx, `SELECT id, kind, status, actor_id, actor, area_code, file_name, file_sha256, row_count, created, updated, unchanged, rejected,
		created_at, file_enc IS NOT NULL FROM imports WHERE area_code >= ? AND area_code < ? ORDER BY id DESC LIMIT ?`, lo, hi, limit)
	if err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	defer rows.Close()
	out := []Summary{}
	for rows.Next() {
		var s Summary
		var at string
		if err := rows.Scan(&s.ID, &s.Kind, &s.Status, &s.ActorID, &s.Actor, &s.AreaCode, &s.FileName, &s.FileSHA256, &s.Rows,
			&s.Created, &s.Updated, &s.Unchanged, &s.Rejected, &at, &s.Kept); err != nil {
			return nil, fmt.Errorf("list imports: %w", err)
		}
		s.CreatedAt = store.MustTime(at)
		s.Kept = s.Kept && !s.CreatedAt.Before(im.now().Add(-KeepFor))
		out = append(out, s)
	}
	return out, rows.Err()
}

// WriteProblems writes an import's problems as a workbook, one row each.
func WriteProblems(out io.Writer, meta exporter.Meta, ps []Problem) error {
	w, err := exporter.New(meta, []exporter.Column{{Header: "行号", Width: 8}, {Header: "列", Width: 24}, {Header: "内容", Width: 28, Text: true}, {Header: "问题", Width: 80}})
	if err != nil {
		return err
	}
	for _, p := range ps {
		if err := w.Row(p.Row, p.Column, p.Value, p.Message); err != nil {
			return err
		}
	}
	return w.Finish(out)
}
