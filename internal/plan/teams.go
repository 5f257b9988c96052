package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/store"
)

// Team is a village's visiting team (R-TEAM-1).
type Team struct {
	ID        int64        `json:"id"`
	AreaCode  string       `json:"area_code"`
	AreaName  string       `json:"area_name"`
	Name      string       `json:"name"`
	Members   []TeamMember `json:"members"`
	CreatedAt time.Time    `json:"created_at"`
}

// TeamMember is a visitor in a team.
type TeamMember struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	KindLabel string `json:"kind_label"`
	Active    bool   `json:"active"`
}

// TeamInput is a new team, or with the pointers of TeamPatch a change.
type TeamInput struct {
	AreaCode  string  `json:"area_code"`
	Name      string  `json:"name"`
	MemberIDs []int64 `json:"member_ids"`
}

// TeamPatch changes the name or replaces the members when not nil.
type TeamPatch struct {
	Name      *string  `json:"name"`
	MemberIDs *[]int64 `json:"member_ids"`
}

// CreateTeam forms a team in a village of sc from visitors in scope.
func (s *Service) CreateTeam(ctx context.Context, sc areas.Scope, actor audit.Entry, in TeamInput) (Team, error) {
	name, err := text("name", "队伍名称", in.Name, 50, true)
	if err != nil {
		return Team{}, err
	}
	a, err := areas.Store{DB: s.DB}.GetIn(ctx, sc, strings.TrimSpace(in.AreaCode))
	if errors.Is(err, store.ErrNotFound) {
		return Team{}, fieldErr("area_code", "区划“"+in.AreaCode+"”不存在或不在您的管辖范围内")
	}
	if err != nil {
		return Team{}, err
	}
	if a.Level != areas.Village {
		return Team{}, fieldErr("area_code", "探访队伍按村（社区）组建，“"+a.Name+"”是"+areas.LevelName(a.Level))
	}
	now := store.FormatTime(s.now())
	var id int64
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = tx.InsertID(ctx, "INSERT INTO visitor_teams (area_code, name, created_at, updated_at) VALUES (?, ?, ?, ?)", a.Code, name, now, now)
		if err != nil {
			return fmt.Errorf("insert team: %w", err)
		}
		if err := setMembers(ctx, tx, sc, id, in.MemberIDs); err != nil {
			return err
		}
		return audit.Append(ctx, tx, entry(actor, "team.create", "team", id, a.Code, ""))
	})
	if err != nil {
		return Team{}, err
	}
	return s.team(ctx, id)
}

// UpdateTeam renames a team in scope or replaces its members.
func (s *Service) UpdateTeam(ctx context.Context, sc areas.Scope, actor audit.Entry, id int64, p TeamPatch) (Team, error) {
	t, err := s.team(ctx, id)
	if err != nil {
		return t, err
	}
	if !sc.Contains(t.AreaCode) {
		return Team{}, store.ErrNotFound
	}
	var name string
	if p.Name != nil {
		if name, err = text("name", "队伍名称", *p.Name, 50, true); err != nil {
			return t, err
		}
	}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if p.Name != nil {
			if _, err := tx.Exec(ctx, "UPDATE visitor_teams SET name = ?, updated_at = ? WHERE id = ?", name, store.FormatTime(s.now()), id); err != nil {
				return err
			}
		}
		if p.MemberIDs != nil {
			if _, err := tx.Exec(ctx, "DELETE FROM visitor_team_members WHERE team_id = ?", id); err != nil {
				return err
			}
			if err := setMembers(ctx, tx, sc, id, *p.MemberIDs); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx, entry(actor, "team.update", "team", id, t.AreaCode, ""))
	})
	if err != nil {
		return t, err
	}
	return s.team(ctx, id)
}

func setMembers(ctx context.Context, tx *store.Tx, sc areas.Scope, teamID int64, ids []int64) error {
	var done []int64
	for _, v := range ids {
		if slices.Contains(done, v) {
			continue
		}
		var area string
		var active bool
		err := tx.QueryRow(ctx, "SELECT area_code, active FROM visitors WHERE id = ?", v).Scan(&area, &active)
		if errors.Is(notFound(err), store.ErrNotFound) || (err == nil && !sc.Contains(area)) {
			return fieldErr("member_ids", fmt.Sprintf("探访人员（编号%d）不存在或不在您的管辖范围内", v))
		}
		if err != nil {
			return err
		}
		if !active {
			return fieldErr("member_ids", fmt.Sprintf("探访人员（编号%d）已停用", v))
		}
		if _, err := tx.Exec(ctx, "INSERT INTO visitor_team_members (team_id, visitor_id) VALUES (?, ?)", teamID, v); err != nil {
			return err
		}
		done = append(done, v)
	}
	return nil
}

func (s *Service) team(ctx context.Context, id int64) (Team, error) {
	var t Team
	var created string
	err := s.DB.QueryRow(ctx, `SELECT t.id, t.area_code, a.name, t.name, t.created_at FROM visitor_teams t JOIN areas a ON a.code = t.area_code
		WHERE t.id = ?`, id).Scan(&t.ID, &t.AreaCode, &t.AreaName, &t.Name, &created)
	if err != nil {
		return t, notFound(err)
	}
	t.CreatedAt = store.MustTime(created)
	ts := []Team{t}
	if err := s.fillMembers(ctx, ts); err != nil {
		return t, err
	}
	return ts[0], nil
}

// Team returns a team in scope.
func (s *Service) Team(ctx context.Context, sc areas.Scope, id int64) (Team, error) {
	t, err := s.team(ctx, id)
	if err == nil && !sc.Contains(t.AreaCode) {
		return Team{}, store.ErrNotFound
	}
	return t, err
}

// Teams lists the teams of an area in scope (the scope's own when empty).
func (s *Service) Teams(ctx context.Context, sc areas.Scope, areaCode string) ([]Team, error) {
	lo, hi, err := s.areaRange(ctx, sc, areaCode)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, `SELECT t.id, t.area_code, a.name, t.name, t.created_at FROM visitor_teams t JOIN areas a ON a.code = t.area_code
		WHERE t.area_code >= ? AND t.area_code < ? ORDER BY t.area_code, t.id`, lo, hi)
	if err != nil {
		return nil, err
	}
	out := []Team{}
	for rows.Next() {
		var t Team
		var created string
		if err := rows.Scan(&t.ID, &t.AreaCode, &t.AreaName, &t.Name, &created); err != nil {
			rows.Close()
			return nil, err
		}
		t.CreatedAt = store.MustTime(created)
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.fillMembers(ctx, out)
}

func (s *Service) fillMembers(ctx context.Context, ts []Team) error {
	for i := range ts {
		rows, err := s.DB.Query(ctx, `SELECT v.id, v.name, v.kind, v.active FROM visitor_team_members m JOIN visitors v ON v.id = m.visitor_id
			WHERE m.team_id = ? ORDER BY v.id`, ts[i].ID)
		if err != nil {
			return err
		}
		ts[i].Members = []TeamMember{}
		for rows.Next() {
			var m TeamMember
			var kind string
			if err := rows.Scan(&m.ID, &m.Name, &kind, &m.Active); err != nil {
				rows.Close()
				return err
			}
			m.KindLabel = KindLabel(kind)
			ts[i].Members = append(ts[i].Members, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}
