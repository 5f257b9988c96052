package plan

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/policy/mask"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
)

// Pairing roles (R-TEAM-1): every in-scope elder has one fixed, named
// primary visitor and may have a backup.
const (
	RolePrimary = "primary"
	RoleBackup  = "backup"
)

// Pairing is one period during which a visitor was paired with an elder.
// EndedAt is nil while it lasts.
type Pairing struct {
	ID            int64      `json:"id"`
	ElderID       int64      `json:"elder_id"`
	VisitorID     int64      `json:"visitor_id"`
	VisitorName   string     `json:"visitor_name"`
	Role          string     `json:"role"`
	StartedAt     time.Time  `json:"started_at"`
	StartedBy     string     `json:"started_by"`
	Reason        string     `json:"reason"`
	EndedAt       *time.Time `json:"ended_at"`
	EndedBy       string     `json:"ended_by,omitempty"`
	EndReason     string     `json:"end_reason,omitempty"`
	VisitorActive bool       `json:"visitor_active"`
}

// elderInScope reads what pairing needs of an elder's file; outside the
// scope it does not exist.
func elderInScope(ctx context.Context, q store.Querier, sc areas.Scope, id int64) (area string, active bool, err error) {
	err = q.QueryRow(ctx, "SELECT area_code, active FROM elders WHERE id = ?", id).Scan(&area, &active)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !sc.Contains(area)) {
		return "", false, store.ErrNotFound
	}
	return area, active, err
}

// Pair makes a visitor in scope the elder's primary or backup visitor. The
// current pairing of that role ends (ended_at, by whom, reason), so history
// stays true; pairing the current visitor again changes nothing. Making the
// current backup the primary ends the backup pairing. The new primary takes
// over the elder's tasks of the current week and later ones.
func (s *Service) Pair(ctx context.Context, sc areas.Scope, actor audit.Entry, elderID, visitorID int64, role, reason string) (Pairing, error) {
	if role == "" {
		role = RolePrimary
	}
	if role != RolePrimary && role != RoleBackup {
		return Pairing{}, fieldErr("role", "结对角色应为 primary（主要）或 backup（备岗）")
	}
	reason, err := text("reason", "原因", reason, 200, false)
	if err != nil {
		return Pairing{}, err
	}
	now := s.now()
	var id int64
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		area, active, err := elderInScope(ctx, tx, sc, elderID)
		if err != nil {
			return err
		}
		if !active {
			return &ConflictError{"该老人档案已注销（去世或迁出），不能结对"}
		}
		var vArea string
		var vActive bool
		err = tx.QueryRow(ctx, "SELECT area_code, active FROM visitors WHERE id = ?", visitorID).Scan(&vArea, &vActive)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !sc.Contains(vArea)) {
			return fieldErr("visitor_id", "探访人员不存在或不在您的管辖范围内")
		}
		if err != nil {
			return err
		}
		if !vActive {
			return fieldErr("visitor_id", "该探访人员已停用，不能结对")
		}
		cur, err := currentPairings(ctx, tx, elderID)
		if err != nil {
			return err
		}
		if p, ok := cur[role]; ok && p.VisitorID == visitorID {
			id = p.ID
			return nil
		}
		other := RoleBackup
		if role == RoleBackup {
			other = RolePrimary
		}
		if p, ok := cur[other]; ok && p.VisitorID == visitorID {
			if role == RoleBackup {
				return &ConflictError{"该探访人员已是这位老人的主要探访人员，请先另派主要探访人员"}
			}
			if err := endPairing(ctx, tx, p.ID, actor.ActorID, "转为主要探访人员", now); err != nil {
				return err
			}
		}
		if p, ok := cur[role]; ok {
			why := reason
			if why == "" {
				why = "改派"
			}
			if err := endPairing(ctx, tx, p.ID, actor.ActorID, why, now); err != nil {
				return err
			}
		}
		id, err = tx.InsertID(ctx, `INSERT INTO pairings (elder_id, visitor_id, role, started_at, started_by, reason)
			VALUES (?, ?, ?, ?, ?, ?)`, elderID, visitorID, role, store.FormatTime(now), actor.ActorID, reason)
		if err != nil {
			if store.IsUniqueViolation(err) {
				return &ConflictError{"该老人的结对刚被他人修改，请刷新后重试"}
			}
			return fmt.Errorf("insert pairing: %w", err)
		}
		if role == RolePrimary {
			if err := setPlannedVisitor(ctx, tx, elderID, visitorID, now); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx, entry(actor, "pairing.set", "elder", elderID, area, fmt.Sprintf("role=%s visitor=%d", role, visitorID)))
	})
	if err != nil {
		return Pairing{}, err
	}
	return s.pairing(ctx, id)
}

// Unpair ends the elder's current pairing of a role.
func (s *Service) Unpair(ctx context.Context, sc areas.Scope, actor audit.Entry, elderID int64, role, reason string) error {
	if role == "" {
		role = RolePrimary
	}
	if role != RolePrimary && role != RoleBackup {
		return fieldErr("role", "结对角色应为 primary（主要）或 backup（备岗）")
	}
	reason, err := text("reason", "原因", reason, 200, true)
	if err != nil {
		return err
	}
	now := s.now()
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		area, _, err := elderInScope(ctx, tx, sc, elderID)
		if err != nil {
			return err
		}
		cur, err := currentPairings(ctx, tx, elderID)
		if err != nil {
			return err
		}
		p, ok := cur[role]
		if !ok {
			return store.ErrNotFound
		}
		if err := endPairing(ctx, tx, p.ID, actor.ActorID, reason, now); err != nil {
			return err
		}
		if role == RolePrimary {
			if err := setPlannedVisitor(ctx, tx, elderID, 0, now); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx, entry(actor, "pairing.end", "elder", elderID, area, "role="+role))
	})
}

type current struct{ ID, VisitorID int64 }

func currentPairings(ctx context.Context, tx *store.Tx, elderID int64) (map[string]current, error) {
	rows, err := tx.Query(ctx, "SELECT id, visitor_id, role FROM pairings WHERE elder_id = ? AND ended_at = ''", elderID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]current{}
	for rows.Next() {
		var c current
		var role string
		if err := rows.Scan(&c.ID, &c.VisitorID, &role); err != nil {
			return nil, err
		}
		out[role] = c
	}
	return out, rows.Err()
}

func endPairing(ctx context.Context, tx *store.Tx, id, by int64, reason string, now time.Time) error {
	_, err := tx.Exec(ctx, "UPDATE pairings SET ended_at = ?, ended_by = ?, end_reason = ? WHERE id = ? AND ended_at = ''",
		store.FormatTime(now), by, reason, id)
	return err
}

// endPairingsOfVisitor ends every current pairing of a visitor leaving the
// service; their elders become unpaired from the current week on.
func endPairingsOfVisitor(ctx context.Context, tx *store.Tx, visitorID, by int64, reason string, now time.Time) error {
	if _, err := tx.Exec(ctx, "UPDATE pairings SET ended_at = ?, ended_by = ?, end_reason = ? WHERE visitor_id = ? AND ended_at = ''",
		store.FormatTime(now), by, reason, visitorID); err != nil {
		return fmt.Errorf("end pairings: %w", err)
	}
	_, err := tx.Exec(ctx, "UPDATE plan_weeks SET visitor_id = 0 WHERE visitor_id = ? AND week >= ?", visitorID, schedule.WeekOf(now).String())
	return err
}

// setPlannedVisitor moves the elder's planned weeks from the current one
// on to a new primary visitor; past weeks keep the visitor who had them.
func setPlannedVisitor(ctx context.Context, tx *store.Tx, elderID, visitorID int64, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE plan_weeks SET visitor_id = ?
		WHERE week IN (SELECT week FROM plan_week_runs WHERE week >= ?) AND elder_id = ?`,
		visitorID, schedule.WeekOf(now).String(), elderID)
	if err != nil {
		return fmt.Errorf("move planned weeks: %w", err)
	}
	return nil
}

const pairingSelect = `SELECT p.id, p.elder_id, p.visitor_id, v.name, v.active, p.role, p.started_at, COALESCE(su.username, ''), p.reason,
	p.ended_at, COALESCE(eu.username, ''), p.end_reason
	FROM pairings p JOIN visitors v ON v.id = p.visitor_id
	LEFT JOIN users su ON su.id = p.started_by LEFT JOIN users eu ON eu.id = p.ended_by`

func scanPairing(row interface{ Scan(...any) error }) (Pairing, error) {
	var p Pairing
	var started, ended string
	if err := row.Scan(&p.ID, &p.ElderID, &p.VisitorID, &p.VisitorName, &p.VisitorActive, &p.Role, &started, &p.StartedBy, &p.Reason,
		&ended, &p.EndedBy, &p.EndReason); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return p, store.ErrNotFound
		}
		return p, err
	}
	p.StartedAt = store.MustTime(started)
	if ended != "" {
		t := store.MustTime(ended)
		p.EndedAt = &t
	}
	return p, nil
}

func (s *Service) pairing(ctx context.Context, id int64) (Pairing, error) {
	return scanPairing(s.DB.QueryRow(ctx, pairingSelect+" WHERE p.id = ?", id))
}

// Pairings returns the pairing history of an elder in scope, oldest first.
func (s *Service) Pairings(ctx context.Context, sc areas.Scope, elderID int64) ([]Pairing, error) {
	if _, _, err := elderInScope(ctx, s.DB, sc, elderID); err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, pairingSelect+" WHERE p.elder_id = ? ORDER BY p.id", elderID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Pairing{}
	for rows.Next() {
		p, err := scanPairing(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ElderRef is an elder as lists show them: the name masked (张*明).
type ElderRef struct {
	ID         int64  `json:"id"`
	NameMasked string `json:"name_masked"`
	Class      string `json:"class"`
	AreaCode   string `json:"area_code"`
	AreaName   string `json:"area_name"`
}

// UnpairedList is the in-scope elders of an area without a current primary
// visitor: Total of them, the first Items.
type UnpairedList struct {
	Total int        `json:"total"`
	Items []ElderRef `json:"items"`
}

// inScopeElders is the SQL condition of an elder the plan covers.
const inScopeElders = "e.active = 1 AND e.class IN ('A', 'B', 'C')"

const unpairedCond = ` AND NOT EXISTS (SELECT 1 FROM pairings p WHERE p.elder_id = e.id AND p.role = 'primary' AND p.ended_at = '')`

// Unpaired lists the in-scope elders of an area (the scope's own when
// empty) without a primary visitor, class A first, at most limit of them.
func (s *Service) Unpaired(ctx context.Context, sc areas.Scope, areaCode string, limit int) (UnpairedList, error) {
	lo, hi, err := s.areaRange(ctx, sc, areaCode)
	if err != nil {
		return UnpairedList{}, err
	}
	out := UnpairedList{Items: []ElderRef{}}
	where := " FROM elders e WHERE e.area_code >= ? AND e.area_code < ? AND " + inScopeElders + unpairedCond
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*)"+where, lo, hi).Scan(&out.Total); err != nil {
		return out, fmt.Errorf("count unpaired: %w", err)
	}
	rows, err := s.DB.Query(ctx, "SELECT e.id, e.name, e.class, e.area_code"+where+" ORDER BY e.class, e.area_code, e.id LIMIT ?", lo, hi, limit)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var r ElderRef
		var name string
		if err := rows.Scan(&r.ID, &name, &r.Class, &r.AreaCode); err != nil {
			return out, err
		}
		r.NameMasked = mask.Name(name)
		out.Items = append(out.Items, r)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	codes := make([]string, len(out.Items))
	for i, r := range out.Items {
		codes[i] = r.AreaCode
	}
	names, err := s.areaNames(ctx, codes)
	if err != nil {
		return out, err
	}
	for i := range out.Items {
		out.Items[i].AreaName = names[out.Items[i].AreaCode]
	}
	return out, nil
}

// areaNames maps area codes to names, in batches to keep statements small.
func (s *Service) areaNames(ctx context.Context, codes []string) (map[string]string, error) {
	seen := map[string]bool{}
	var uniq []string
	for _, c := range codes {
		if c != "" && !seen[c] {
			seen[c] = true
			uniq = append(uniq, c)
		}
	}
	names := map[string]string{}
	for len(uniq) > 0 {
		batch := uniq[:min(len(uniq), 500)]
		uniq = uniq[len(batch):]
		args := make([]any, len(batch))
		for i, c := range batch {
			args[i] = c
		}
		rows, err := s.DB.Query(ctx, "SELECT code, name FROM areas WHERE code IN (?"+strings.Repeat(", ?", len(batch)-1)+")", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var c, n string
			if err := rows.Scan(&c, &n); err != nil {
				rows.Close()
				return nil, err
			}
			names[c] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return names, nil
}
