package visits

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/store"
)

// Provider is a service organisation of the referral directory (R-USR-3).
type Provider struct {
	ID        int64     `json:"id"`
	AreaCode  string    `json:"area_code"`
	Name      string    `json:"name"`
	Services  []string  `json:"services"` // ServiceNeeds codes
	Contact   string    `json:"contact"`  // the organisation's own phone or address
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

// ProviderInput registers a provider.
type ProviderInput struct {
	AreaCode string   `json:"area_code"`
	Name     string   `json:"name"`
	Services []string `json:"services"`
	Contact  string   `json:"contact"`
}

const providerCols = `id, area_code, name, services, contact, active, created_at`

func scanProvider(row interface{ Scan(...any) error }) (Provider, error) {
	var p Provider
	var services, created string
	var active int
	err := row.Scan(&p.ID, &p.AreaCode, &p.Name, &services, &p.Contact, &active, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return p, store.ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("read provider: %w", err)
	}
	p.Services, p.Active, p.CreatedAt = split(services), active == 1, store.MustTime(created)
	return p, nil
}

// AddProvider registers a service organisation serving an area (a town or
// a county) in the actor's scope. Towns and counties keep the directory.
func (s *Service) AddProvider(ctx context.Context, a Actor, in ProviderInput) (Provider, error) {
	if a.Role != auth.RoleTown && a.Role != auth.RoleCounty && a.Role != auth.RoleCity && a.Role != auth.RoleAdmin {
		return Provider{}, forbidden("服务组织名录由乡镇（街道）及县（区）民政部门维护")
	}
	var c checker
	if in.AreaCode == "" {
		in.AreaCode = a.AreaCode
	}
	if _, _, err := areaRange(ctx, s.DB, a.Scope, in.AreaCode); err != nil {
		c.add("area_code", "服务区域不存在或不在您的管辖范围内")
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || len([]rune(name)) > 100 {
		c.add("name", "请填写服务组织名称（不超过100字）")
	}
	services := c.codes("services", "服务项目", ServiceNeeds, in.Services)
	if len(services) == 0 && len(in.Services) == 0 {
		c.add("services", "请至少选择一项服务：助餐、助浴、日常照料、康复护理、适老化改造或家庭医生")
	}
	contact := strings.TrimSpace(in.Contact)
	if len([]rune(contact)) > 200 {
		c.add("contact", "联系方式不能超过200字")
	}
	if err := c.err(); err != nil {
		return Provider{}, err
	}
	now := s.now()
	var p Provider
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.InsertID(ctx, `INSERT INTO service_providers (area_code, name, services, contact, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			in.AreaCode, name, strings.Join(services, ","), contact, a.UserID, store.FormatTime(now))
		if err != nil {
			return fmt.Errorf("add provider: %w", err)
		}
		if err := audit.Append(ctx, tx, a.entry(now, "provider.add", "provider", id, in.AreaCode, "")); err != nil {
			return err
		}
		p, err = scanProvider(tx.QueryRow(ctx, "SELECT "+providerCols+" FROM service_providers WHERE id = ?", id))
		return err
	})
	return p, err
}

// Provider reads one provider.
func (s *Service) Provider(ctx context.Context, id int64) (Provider, error) {
	return scanProvider(s.DB.QueryRow(ctx, "SELECT "+providerCols+" FROM service_providers WHERE id = ?", id))
}

// Providers lists the active providers of the county of area (a provider
// may serve villages outside the scope of the account that registered it),
// those offering service only when it is set.
func (s *Service) Providers(ctx context.Context, area, service string) ([]Provider, error) {
	if service != "" && !known(ServiceNeeds, service) {
		return nil, invalid("service", "服务项目“%s”无效", service)
	}
	prefix := area[:min(len(area), 6)]
	if strings.HasSuffix(prefix, "00") {
		prefix = prefix[:4] // the city: every county
	}
	lo, hi := store.PrefixRange(prefix)
	rows, err := s.DB.Query(ctx, "SELECT "+providerCols+` FROM service_providers WHERE area_code >= ? AND area_code < ? AND active = 1
		ORDER BY area_code, name, id`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	defer rows.Close()
	out := []Provider{}
	for rows.Next() {
		p, err := scanProvider(rows)
		if err != nil {
			return nil, err
		}
		if service == "" || slices.Contains(p.Services, service) {
			out = append(out, p)
		}
	}
	return out, rows.Err()
}
