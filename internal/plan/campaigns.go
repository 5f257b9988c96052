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
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/mask"
	"tanfang/internal/policy/schedule"
	"tanfang/internal/store"
)

// CampaignInput creates a campaign (R-FRQ-5, R-EMG-2, R-EMG-3) for an area:
// for the weeks overlapping StartsOn..EndsOn it adds contacts (Add) and/or
// turns home visits into calls (HomeToCall, for epidemics); with
// DeadlineHours it asks every elder reached to be contacted DeadlineTimes
// times (at least once) by one of DeadlineModes (any when empty) within
// that many hours of the campaign's creation. Classes limits it (all when
// empty).
type CampaignInput struct {
	Name          string               `json:"name"`
	Reason        string               `json:"reason"`
	AreaCode      string               `json:"area_code"`
	Classes       []string             `json:"classes"`
	StartsOn      string               `json:"starts_on"`
	EndsOn        string               `json:"ends_on"`
	Add           schedule.Requirement `json:"add"`
	HomeToCall    bool                 `json:"home_to_call"`
	DeadlineHours int                  `json:"deadline_hours"`
	DeadlineModes []string             `json:"deadline_modes"`
	DeadlineTimes int                  `json:"deadline_times"`
}

// Campaign is a stored campaign.
type Campaign struct {
	ID         int64                `json:"id"`
	Name       string               `json:"name"`
	Reason     string               `json:"reason"`
	AreaCode   string               `json:"area_code"`
	AreaName   string               `json:"area_name"`
	Classes    []string             `json:"classes"`
	StartsOn   string               `json:"starts_on,omitempty"`
	EndsOn     string               `json:"ends_on,omitempty"`
	Add        schedule.Requirement `json:"add"`
	HomeToCall bool                 `json:"home_to_call"`
	Deadline   *CampaignDeadline    `json:"deadline"`
	CreatedAt  time.Time            `json:"created_at"`
	CreatedBy  string               `json:"created_by"`

	prefix string
}

// CampaignDeadline is a campaign's "contacted within N hours".
type CampaignDeadline struct {
	From  time.Time `json:"from"`
	Due   time.Time `json:"due"`
	Hours int       `json:"hours"`
	Modes []string  `json:"modes"`
	Times int       `json:"times"`
}

// Raises reports whether the campaign changes weekly requirements.
func (c Campaign) Raises() bool { return c.StartsOn != "" }

// DeadlineFigures are the elders a deadline reaches and where they stand.
type DeadlineFigures struct {
	InScope int     `json:"in_scope"`
	Met     int     `json:"met"`
	Pending int     `json:"pending"`
	Overdue int     `json:"overdue"`
	Rate    float64 `json:"rate"`
}

// CampaignProgress is a campaign's progress within the caller's scope:
// for a deadline, how many elders were reached in time; for a raise, the
// compliance of the weeks it covers.
type CampaignProgress struct {
	AreaCode  string                     `json:"area_code"`
	Deadline  *DeadlineFigures           `json:"deadline,omitempty"`
	ByClass   map[string]DeadlineFigures `json:"by_class,omitempty"`
	Unreached []ElderRef                 `json:"unreached,omitempty"`
	Weeks     *Compliance                `json:"weeks,omitempty"`
}

var deadlineModes = []string{string(schedule.ModeHome), string(schedule.ModePhone), string(schedule.ModeVideo)}

// CreateCampaign validates and stores a campaign in an area of sc, then
// refreshes the weeks already drawn up that it raises.
func (s *Service) CreateCampaign(ctx context.Context, sc areas.Scope, actor audit.Entry, in CampaignInput) (Campaign, error) {
	now := s.now()
	name, err := text("name", "名称", in.Name, 50, true)
	if err != nil {
		return Campaign{}, err
	}
	reason, err := text("reason", "原因", in.Reason, 200, false)
	if err != nil {
		return Campaign{}, err
	}
	if strings.TrimSpace(in.AreaCode) == "" {
		return Campaign{}, fieldErr("area_code", "请选择区域")
	}
	a, err := areas.Store{DB: s.DB}.GetIn(ctx, sc, strings.TrimSpace(in.AreaCode))
	if errors.Is(err, store.ErrNotFound) {
		return Campaign{}, fieldErr("area_code", "区划“"+in.AreaCode+"”不存在或不在您的管辖范围内")
	}
	if err != nil {
		return Campaign{}, err
	}
	var classes []string
	for _, c := range in.Classes {
		if _, ok := classIndex[c]; !ok {
			return Campaign{}, fieldErr("classes", "类别“"+c+"”无效，应为A、B或C")
		}
		if !slices.Contains(classes, c) {
			classes = append(classes, c)
		}
	}
	slices.Sort(classes)
	raise := !in.Add.IsZero() || in.HomeToCall
	var starts, ends string
	if raise {
		if err := (schedule.Raise{Name: name, Add: in.Add}).Validate(); err != nil {
			return Campaign{}, fieldErr("add", err.Error())
		}
		if in.Add.Home > 7 || in.Add.Call > 7 {
			return Campaign{}, fieldErr("add", "每周加的次数不能超过7次")
		}
		from, err := age.ParseDate(strings.TrimSpace(in.StartsOn))
		if err != nil {
			return Campaign{}, fieldErr("starts_on", "请填写开始日期（年-月-日）")
		}
		to, err := age.ParseDate(strings.TrimSpace(in.EndsOn))
		if err != nil {
			return Campaign{}, fieldErr("ends_on", "请填写结束日期（年-月-日）")
		}
		switch {
		case to.Before(from):
			return Campaign{}, fieldErr("ends_on", "结束日期不能早于开始日期")
		case to.Before(age.DateOf(now)):
			return Campaign{}, fieldErr("ends_on", "结束日期已过，不能新建已结束的加密探访")
		case from.AddDays(366).Before(to):
			return Campaign{}, fieldErr("ends_on", "一次加密探访最长一年")
		}
		starts, ends = from.String(), to.String()
	} else if in.StartsOn != "" || in.EndsOn != "" {
		return Campaign{}, fieldErr("add", "设置了起止日期，请填写加的次数或选择上门改为电话")
	}
	var dFrom, dDue string
	var modes []string
	times := 0
	if in.DeadlineHours != 0 {
		if in.DeadlineHours < 1 || in.DeadlineHours > 168 {
			return Campaign{}, fieldErr("deadline_hours", "限时应为1至168小时")
		}
		for _, m := range in.DeadlineModes {
			if !slices.Contains(deadlineModes, m) {
				return Campaign{}, fieldErr("deadline_modes", "联系方式“"+m+"”无效，应为home、phone或video")
			}
			if !slices.Contains(modes, m) {
				modes = append(modes, m)
			}
		}
		if in.DeadlineTimes < 0 || in.DeadlineTimes > 10 {
			return Campaign{}, fieldErr("deadline_times", "次数应为1至10次")
		}
		times = max(in.DeadlineTimes, 1)
		// The window opens when the campaign is created: contacts made
		// before it were not recorded against it.
		dFrom, dDue = store.FormatTime(now), store.FormatTime(now.Add(time.Duration(in.DeadlineHours)*time.Hour))
	} else if len(in.DeadlineModes) > 0 || in.DeadlineTimes != 0 {
		return Campaign{}, fieldErr("deadline_hours", "请填写限时小时数")
	}
	if !raise && dDue == "" {
		return Campaign{}, fieldErr("add", "请至少设置一项：加探访次数、上门改为电话，或限时联系")
	}
	var id int64
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = tx.InsertID(ctx, `INSERT INTO campaigns (name, reason, area_code, area_prefix, classes, starts_on, ends_on, add_home, add_call,
			home_to_call, deadline_from, deadline_due, deadline_modes, deadline_times, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			name, reason, a.Code, areas.PrefixOf(a.Code, a.Level), strings.Join(classes, ","), starts, ends, in.Add.Home, in.Add.Call,
			boolInt(in.HomeToCall), dFrom, dDue, strings.Join(modes, ","), times, actor.ActorID, store.FormatTime(now))
		if err != nil {
			return fmt.Errorf("insert campaign: %w", err)
		}
		return audit.Append(ctx, tx, entry(actor, "campaign.create", "campaign", id, a.Code, ""))
	})
	if err != nil {
		return Campaign{}, err
	}
	if raise {
		if err := s.refreshSpan(ctx, starts, ends); err != nil {
			return Campaign{}, err
		}
	}
	return s.campaign(ctx, id)
}

// refreshSpan refreshes the weeks already drawn up, from the current one
// on, that overlap the days from..to.
func (s *Service) refreshSpan(ctx context.Context, from, to string) error {
	f, _ := age.ParseDate(from)
	t, _ := age.ParseDate(to)
	first := max(schedule.WeekOfDate(f).String(), schedule.WeekOf(s.now()).String())
	rows, err := s.DB.Query(ctx, "SELECT week FROM plan_week_runs WHERE week >= ? AND week <= ? ORDER BY week", first, schedule.WeekOfDate(t).String())
	if err != nil {
		return err
	}
	var weeks []schedule.Week
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		w, err := schedule.ParseWeek(v)
		if err != nil {
			rows.Close()
			return err
		}
		weeks = append(weeks, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, w := range weeks {
		if err := s.EnsureWeek(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

const campaignSelect = `SELECT c.id, c.name, c.reason, c.area_code, a.name, c.area_prefix, c.classes, c.starts_on, c.ends_on, c.add_home, c.add_call,
	c.home_to_call, c.deadline_from, c.deadline_due, c.deadline_modes, c.deadline_times, c.created_at, COALESCE(u.username, '')
	FROM campaigns c JOIN areas a ON a.code = c.area_code LEFT JOIN users u ON u.id = c.created_by`

func scanCampaign(row interface{ Scan(...any) error }) (Campaign, error) {
	var c Campaign
	var classes, from, due, modes, created string
	var times int
	if err := row.Scan(&c.ID, &c.Name, &c.Reason, &c.AreaCode, &c.AreaName, &c.prefix, &classes, &c.StartsOn, &c.EndsOn,
		&c.Add.Home, &c.Add.Call, &c.HomeToCall, &from, &due, &modes, &times, &created, &c.CreatedBy); err != nil {
		return c, notFound(err)
	}
	c.Classes = splitList(classes)
	c.CreatedAt = store.MustTime(created)
	if due != "" {
		d := &CampaignDeadline{From: store.MustTime(from), Due: store.MustTime(due), Modes: splitList(modes), Times: times}
		d.Hours = int(d.Due.Sub(d.From).Hours())
		c.Deadline = d
	}
	return c, nil
}

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func (s *Service) campaign(ctx context.Context, id int64) (Campaign, error) {
	return scanCampaign(s.DB.QueryRow(ctx, campaignSelect+" WHERE c.id = ?", id))
}

// visible reports whether a campaign concerns the scope: it lies in it, or
// it covers the scope's area (a city-wide campaign seen by a village).
func visible(c Campaign, sc areas.Scope) bool {
	return sc.Prefix != "" && (strings.HasPrefix(c.prefix, sc.Prefix) || strings.HasPrefix(sc.Prefix, c.prefix))
}

// Campaign returns a campaign that concerns the scope.
func (s *Service) Campaign(ctx context.Context, sc areas.Scope, id int64) (Campaign, error) {
	c, err := s.campaign(ctx, id)
	if err != nil {
		return c, err
	}
	if !visible(c, sc) {
		return Campaign{}, store.ErrNotFound
	}
	return c, nil
}

// Campaigns lists the campaigns that concern the scope, newest first; with
// running set only those whose period or deadline has not ended by now.
func (s *Service) Campaigns(ctx context.Context, sc areas.Scope, running bool) ([]Campaign, error) {
	if sc.Prefix == "" {
		return nil, store.ErrNotFound
	}
	lo, hi := sc.Range()
	q := campaignSelect + ` WHERE ((c.area_code >= ? AND c.area_code < ?) OR substr(?, 1, length(c.area_prefix)) = c.area_prefix)`
	args := []any{lo, hi, sc.Prefix}
	if running {
		now := s.now()
		q += " AND (c.ends_on >= ? OR c.deadline_due > ?)"
		args = append(args, age.DateOf(now).String(), store.FormatTime(now))
	}
	rows, err := s.DB.Query(ctx, q+" ORDER BY c.id DESC LIMIT 500", args...)
	if err != nil {
		return nil, fmt.Errorf("campaigns: %w", err)
	}
	defer rows.Close()
	out := []Campaign{}
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CampaignProgress reports a campaign's progress in the part of its area
// the scope sees. For a deadline the elders reached are the in-scope
// elders of the area and classes at the time of asking; Unreached lists
// the first of those not yet contacted enough, class A first.
func (s *Service) CampaignProgress(ctx context.Context, sc areas.Scope, c Campaign) (CampaignProgress, error) {
	prefix := c.prefix
	if len(sc.Prefix) > len(prefix) {
		prefix = sc.Prefix
	}
	area := c.AreaCode
	if prefix != c.prefix {
		area = sc.Code
	}
	out := CampaignProgress{AreaCode: area}
	lo, hi := store.PrefixRange(prefix)
	if c.Deadline != nil {
		now := s.now()
		classes := c.Classes
		if len(classes) == 0 {
			classes = []string{"A", "B", "C"}
		}
		in := "(?" + strings.Repeat(", ?", len(classes)-1) + ")"
		args := []any{c.ID, lo, hi}
		for _, cl := range classes {
			args = append(args, cl)
		}
		rows, err := s.DB.Query(ctx, `SELECT e.class, COUNT(*), SUM(CASE WHEN COALESCE(cc.contacts, 0) >= `+fmt.Sprint(c.Deadline.Times)+` THEN 1 ELSE 0 END)
			FROM elders e LEFT JOIN campaign_contacts cc ON cc.campaign_id = ? AND cc.elder_id = e.id
			WHERE e.area_code >= ? AND e.area_code < ? AND e.active = 1 AND e.class IN `+in+` GROUP BY e.class`, args...)
		if err != nil {
			return out, fmt.Errorf("campaign progress: %w", err)
		}
		total := DeadlineFigures{}
		out.ByClass = map[string]DeadlineFigures{}
		for rows.Next() {
			var class string
			var f DeadlineFigures
			if err := rows.Scan(&class, &f.InScope, &f.Met); err != nil {
				rows.Close()
				return out, err
			}
			f.finish(now.Before(c.Deadline.Due))
			out.ByClass[class] = f
			total.InScope += f.InScope
			total.Met += f.Met
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return out, err
		}
		total.finish(now.Before(c.Deadline.Due))
		out.Deadline = &total
		urows, err := s.DB.Query(ctx, `SELECT e.id, e.name, e.class, e.area_code
			FROM elders e LEFT JOIN campaign_contacts cc ON cc.campaign_id = ? AND cc.elder_id = e.id
			WHERE e.area_code >= ? AND e.area_code < ? AND e.active = 1 AND e.class IN `+in+`
				AND COALESCE(cc.contacts, 0) < `+fmt.Sprint(c.Deadline.Times)+` ORDER BY e.class, e.area_code, e.id LIMIT 200`, args...)
		if err != nil {
			return out, err
		}
		out.Unreached = []ElderRef{}
		var codes []string
		for urows.Next() {
			var r ElderRef
			var name string
			if err := urows.Scan(&r.ID, &name, &r.Class, &r.AreaCode); err != nil {
				urows.Close()
				return out, err
			}
			r.NameMasked = mask.Name(name)
			out.Unreached = append(out.Unreached, r)
			codes = append(codes, r.AreaCode)
		}
		urows.Close()
		if err := urows.Err(); err != nil {
			return out, err
		}
		names, err := s.areaNames(ctx, codes)
		if err != nil {
			return out, err
		}
		for i := range out.Unreached {
			out.Unreached[i].AreaName = names[out.Unreached[i].AreaCode]
		}
	}
	if c.Raises() {
		from, _ := age.ParseDate(c.StartsOn)
		to, _ := age.ParseDate(c.EndsOn)
		var ws []schedule.Week
		for w := schedule.WeekOfDate(from); w.String() <= schedule.WeekOfDate(to).String(); w = w.Next() {
			ws = append(ws, w)
		}
		byChild, err := s.areaTallies(ctx, prefix, nil, Period{Weeks: ws})
		if err != nil {
			return out, err
		}
		weeks := byChild[""]
		weeks.AreaCode = area
		out.Weeks = &weeks
	}
	return out, nil
}

func (f *DeadlineFigures) finish(running bool) {
	if running {
		f.Pending = f.InScope - f.Met
	} else {
		f.Overdue = f.InScope - f.Met
	}
	f.Rate = rate(f.Met, f.InScope)
}
