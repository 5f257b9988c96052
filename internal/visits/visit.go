package visits

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/plan"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/mask"
	"tanfang/internal/store"
)

// Visit is a stored visit record.
type Visit struct {
	ID              int64     `json:"id"`
	ClientID        string    `json:"client_id"`
	ElderID         int64     `json:"elder_id"`
	AreaCode        string    `json:"area_code"`
	VisitorID       *int64    `json:"visitor_id"`
	RecordedBy      int64     `json:"recorded_by"`
	Mode            string    `json:"mode"`
	StartedAt       time.Time `json:"started_at"`
	EndedAt         time.Time `json:"ended_at"`
	Outcome         string    `json:"outcome"`
	Findings        Findings  `json:"findings"`
	FamilyContactOn string    `json:"family_contact_on"`
	ServiceNeeds    []string  `json:"service_needs"`
	Hardships       []string  `json:"hardships"`
	Needs           string    `json:"needs"`
	NeedsResponse   string    `json:"needs_response"`
	Problems        string    `json:"problems"`
	ProblemsKind    string    `json:"problems_kind"`
	Handling        string    `json:"handling"`
	Education       string    `json:"education"`
	Late            bool      `json:"late"`
	LateReason      string    `json:"late_reason"`
	RecordedAt      time.Time `json:"recorded_at"`
	ReceivedAt      time.Time `json:"received_at"`
	Location        *Location `json:"location"`
	DistanceM       *float64  `json:"distance_m"`
	HasPhoto        bool      `json:"has_photo"`
	// CountsAsHome: a completed home visit; an empty visit (空访) is
	// recorded but is not a home visit.
	CountsAsHome bool      `json:"counts_as_home"`
	Version      int       `json:"version"`
	UpdatedAt    time.Time `json:"updated_at"`
}

const visitCols = `id, client_id, elder_id, area_code, visitor_id, recorded_by, mode, started_at, ended_at, outcome,
	expression, mobility, mental, illness, illness_kind, house, gas, water_heating, electricity, hygiene, supporter,
	family_contact_on, service_needs, hardships, needs, needs_response, problems, problems_kind, handling, education,
	late, late_reason, recorded_at, received_at, lat, lng, accuracy_m, distance_m, has_photo, version, updated_at`

func scanVisit(row interface{ Scan(...any) error }) (Visit, error) {
	var v Visit
	var visitor sql.NullInt64
	var started, ended, recorded, received, updated, needs, hardships string
	var late, photo int
	var lat, lng, acc, dist sql.NullFloat64
	f := &v.Findings
	err := row.Scan(&v.ID, &v.ClientID, &v.ElderID, &v.AreaCode, &visitor, &v.RecordedBy, &v.Mode, &started, &ended, &v.Outcome,
		&f.Expression, &f.Mobility, &f.Mental, &f.Illness, &f.IllnessKind, &f.House, &f.Gas, &f.WaterHeating, &f.Electricity, &f.Hygiene, &f.Supporter,
		&v.FamilyContactOn, &needs, &hardships, &v.Needs, &v.NeedsResponse, &v.Problems, &v.ProblemsKind, &v.Handling, &v.Education,
		&late, &v.LateReason, &recorded, &received, &lat, &lng, &acc, &dist, &photo, &v.Version, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return v, store.ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("read visit: %w", err)
	}
	v.VisitorID = idPtr(visitor)
	v.StartedAt, v.EndedAt = store.MustTime(started), store.MustTime(ended)
	v.RecordedAt, v.ReceivedAt, v.UpdatedAt = store.MustTime(recorded), store.MustTime(received), store.MustTime(updated)
	v.ServiceNeeds, v.Hardships = split(needs), split(hardships)
	v.Late, v.HasPhoto = late == 1, photo == 1
	if lat.Valid && lng.Valid {
		v.Location = &Location{Lat: lat.Float64, Lng: lng.Float64, AccuracyM: acc.Float64}
	}
	if dist.Valid {
		d := dist.Float64
		v.DistanceM = &d
	}
	v.CountsAsHome = v.Mode == "home" && v.Outcome == "done"
	return v, nil
}

func split(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// record rebuilds the checked form of a stored visit, for the follow-up rules.
func (v Visit) record() Record {
	return Record{ClientID: v.ClientID, ElderID: v.ElderID, Mode: v.Mode, Outcome: v.Outcome, StartedAt: v.StartedAt,
		EndedAt: v.EndedAt, RecordedAt: v.RecordedAt, Findings: v.Findings, FamilyContactOn: v.FamilyContactOn,
		ServiceNeeds: v.ServiceNeeds, Hardships: v.Hardships, Needs: v.Needs, NeedsResponse: v.NeedsResponse,
		Problems: v.Problems, ProblemsKind: v.ProblemsKind, Handling: v.Handling, Education: v.Education,
		Late: v.Late, LateReason: v.LateReason, Location: v.Location}
}

// canRecord: visitors record their visits; village and town staff may
// record one they made themselves (R-USR-2 counts village cadres among
// visitors).
func canRecord(role string) bool {
	return role == auth.RoleVisitor || role == auth.RoleVillage || role == auth.RoleTown
}

// visitorOf returns the active visitors row linked to an account, 0 if none.
func visitorOf(ctx context.Context, q store.Querier, userID int64) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM visitors WHERE user_id = ? AND active = 1`, userID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// Record stores a visit (and its photo, if any) and reports whether it was
// created. The same client_id again returns the first record unchanged,
// even when the copies arrive at once: the unique index decides, and only
// the transaction that inserted the row moves the week's rollup, opens
// follow-ups and writes notifications.
func (s *Service) Record(ctx context.Context, a Actor, in Input, photo []byte) (Visit, bool, error) {
	if !canRecord(a.Role) {
		return Visit{}, false, forbidden("只有探访人员和村（居）、乡镇（街道）工作人员可以填写探访记录")
	}
	now := s.now()
	rules, err := s.Rules(ctx)
	if err != nil {
		return Visit{}, false, err
	}
	rec, err := in.Check(now, rules)
	if err != nil {
		return Visit{}, false, err
	}
	// A retry is answered before anything else is checked: the elder's file
	// may have changed since the first copy arrived.
	if v, err := scanVisit(s.DB.QueryRow(ctx, "SELECT "+visitCols+" FROM visits WHERE client_id = ?", rec.ClientID)); err == nil {
		return s.retried(v, a, rec)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Visit{}, false, err
	}
	var photoType string
	if len(photo) > 0 {
		if photoType, err = PhotoType(photo); err != nil {
			return Visit{}, false, err
		}
	}
	el, err := elder(ctx, s.DB, a.Scope, rec.ElderID)
	if err != nil {
		return Visit{}, false, err
	}
	if !el.Active {
		return Visit{}, false, invalid("elder_id", "该老人档案已注销（去世或迁出），不能再记录探访")
	}
	if age.DateOf(rec.StartedAt).String() < el.BirthDate {
		return Visit{}, false, invalid("started_at", "开始时间早于老人的出生日期%s，请检查", el.BirthDate)
	}
	visitorID, err := visitorOf(ctx, s.DB, a.UserID)
	if err != nil {
		return Visit{}, false, fmt.Errorf("visitor of account: %w", err)
	}
	if visitorID == 0 && a.Role == auth.RoleVisitor {
		return Visit{}, false, forbidden("您的账号尚未登记为探访人员，请联系村（居）委会")
	}
	var distance *float64
	if rec.Location != nil && rec.Mode == "home" {
		if home, ok, err := homeLocation(ctx, s.DB, el.ID); err != nil {
			return Visit{}, false, err
		} else if ok {
			d := Distance(home, *rec.Location)
			distance = &d
		}
	}
	var v Visit
	created := false
	// Phones send visits in bursts: grouped, many share one commit.
	err = s.DB.InTxGrouped(ctx, func(tx *store.Tx) error {
		var lat, lng, acc any
		if l := rec.Location; l != nil {
			lat, lng, acc = l.Lat, l.Lng, l.AccuracyM
		}
		var vid any
		if visitorID != 0 {
			vid = visitorID
		}
		f := rec.Findings
		// RETURNING gives the stored row back: nothing below changes it.
		var err error
		v, err = scanVisit(tx.QueryRow(ctx, `INSERT INTO visits (client_id, elder_id, area_code, visitor_id, recorded_by, mode, started_at, ended_at, outcome,
			expression, mobility, mental, illness, illness_kind, house, gas, water_heating, electricity, hygiene, supporter,
			family_contact_on, service_needs, hardships, needs, needs_response, problems, problems_kind, handling, education,
			late, late_reason, recorded_at, received_at, lat, lng, accuracy_m, distance_m, has_photo, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (client_id) DO NOTHING RETURNING `+visitCols,
			rec.ClientID, el.ID, el.AreaCode, vid, a.UserID, rec.Mode, store.FormatTime(rec.StartedAt), store.FormatTime(rec.EndedAt), rec.Outcome,
			f.Expression, f.Mobility, f.Mental, f.Illness, f.IllnessKind, f.House, f.Gas, f.WaterHeating, f.Electricity, f.Hygiene, f.Supporter,
			rec.FamilyContactOn, strings.Join(rec.ServiceNeeds, ","), strings.Join(rec.Hardships, ","), rec.Needs, rec.NeedsResponse,
			rec.Problems, rec.ProblemsKind, rec.Handling, rec.Education, b2i(rec.Late), rec.LateReason,
			store.FormatTime(rec.RecordedAt), store.FormatTime(now), lat, lng, acc, distance, b2i(photoType != ""), store.FormatTime(now)))
		if errors.Is(err, store.ErrNotFound) {
			// Another copy won the race and has committed.
			v, err = scanVisit(tx.QueryRow(ctx, "SELECT "+visitCols+" FROM visits WHERE client_id = ?", rec.ClientID))
			return err
		}
		if err != nil {
			return fmt.Errorf("insert visit: %w", err)
		}
		id := v.ID
		created = true
		if photoType != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO visit_photos (visit_id, content_type, size, data, created_at) VALUES (?, ?, ?, ?, ?)`,
				id, photoType, len(photo), photo, store.FormatTime(now)); err != nil {
				return fmt.Errorf("insert photo: %w", err)
			}
		}
		if err := plan.ApplyContact(ctx, tx, el.ID, rec.Contact()); err != nil {
			return fmt.Errorf("apply contact to the plan: %w", err)
		}
		if err := s.followUp(ctx, tx, a, now, el, id, rec, rules, true); err != nil {
			return err
		}
		if rec.Outcome == "done" && rec.Findings.Supporter == "poor" {
			if _, err := s.remindFamily(ctx, tx, a, now, el, id, reasonSupporterPoor); err != nil {
				return err
			}
		}
		detail := fmt.Sprintf("mode=%s outcome=%s late=%d", rec.Mode, rec.Outcome, b2i(rec.Late))
		return audit.Append(ctx, tx, a.entry(now, "visit.create", "visit", id, el.AreaCode, detail))
	})
	if err != nil {
		return Visit{}, false, err
	}
	if !created {
		return s.retried(v, a, rec)
	}
	return v, true, nil
}

// retried answers a client_id seen before: the first record, if the copy
// is the same account's record of the same elder.
func (s *Service) retried(v Visit, a Actor, rec Record) (Visit, bool, error) {
	if v.ElderID != rec.ElderID || v.RecordedBy != a.UserID {
		return Visit{}, false, &ClientIDReused{ExistingID: v.ID}
	}
	return v, false, nil
}

// Get reads one visit in scope.
func (s *Service) Get(ctx context.Context, sc areas.Scope, id int64) (Visit, error) {
	v, err := scanVisit(s.DB.QueryRow(ctx, "SELECT "+visitCols+" FROM visits WHERE id = ?", id))
	if err != nil {
		return v, err
	}
	if !sc.Contains(v.AreaCode) {
		return Visit{}, store.ErrNotFound
	}
	return v, nil
}

// List returns an elder's visits, newest first.
func (s *Service) List(ctx context.Context, sc areas.Scope, elderID int64, limit int) ([]Visit, error) {
	if _, err := elder(ctx, s.DB, sc, elderID); err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, "SELECT "+visitCols+" FROM visits WHERE elder_id = ? ORDER BY started_at DESC, id DESC LIMIT ?", elderID, limit)
	if err != nil {
		return nil, fmt.Errorf("list visits: %w", err)
	}
	defer rows.Close()
	out := []Visit{}
	for rows.Next() {
		v, err := scanVisit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// EditInput changes what a visit found and did, as a PATCH: fields left
// out (nil) keep their stored value, an empty string or list clears one.
// When, how and with what outcome the visit happened is fixed once counted
// (the week's rollup holds it).
type EditInput struct {
	Version         int            `json:"version"`
	Reason          string         `json:"reason"`
	Findings        *FindingsPatch `json:"findings"`
	FamilyContactOn *string        `json:"family_contact_on"`
	ServiceNeeds    *[]string      `json:"service_needs"`
	Hardships       *[]string      `json:"hardships"`
	Needs           *string        `json:"needs"`
	NeedsResponse   *string        `json:"needs_response"`
	Problems        *string        `json:"problems"`
	ProblemsKind    *string        `json:"problems_kind"`
	Handling        *string        `json:"handling"`
	Education       *string        `json:"education"`
}

// FindingsPatch changes some ratings of a visit; nil ones stay.
type FindingsPatch struct {
	Expression   *string `json:"expression"`
	Mobility     *string `json:"mobility"`
	Mental       *string `json:"mental"`
	Illness      *string `json:"illness"`
	IllnessKind  *string `json:"illness_kind"`
	House        *string `json:"house"`
	Gas          *string `json:"gas"`
	WaterHeating *string `json:"water_heating"`
	Electricity  *string `json:"electricity"`
	Hygiene      *string `json:"hygiene"`
	Supporter    *string `json:"supporter"`
}

// byField maps each rated field (as Findings.items names it) to its new
// value, nil when not sent.
func (p *FindingsPatch) byField() map[string]*string {
	return map[string]*string{
		"expression": p.Expression, "mobility": p.Mobility, "mental": p.Mental, "illness": p.Illness, "house": p.House,
		"gas": p.Gas, "water_heating": p.WaterHeating, "electricity": p.Electricity, "hygiene": p.Hygiene, "supporter": p.Supporter,
	}
}

// Change is one edited field's old and new value.
type Change struct {
	Old any `json:"old"`
	New any `json:"new"`
}

// Edit changes the fields e carries of a visit at the version the editor
// read; a stale version answers *VisitConflict with the stored one. The recorder, and village or
// town staff, may edit. New findings open follow-ups as a visit would.
func (s *Service) Edit(ctx context.Context, a Actor, id int64, e EditInput) (Visit, error) {
	old, err := s.Get(ctx, a.Scope, id)
	if err != nil {
		return Visit{}, err
	}
	if old.RecordedBy != a.UserID && a.Role != auth.RoleVillage && a.Role != auth.RoleTown {
		return Visit{}, forbidden("只有填写人或村（居）、乡镇（街道）工作人员可以修改探访记录")
	}
	// The request's own fields first: an API answer names the first problem.
	var c checker
	if e.Version <= 0 {
		c.add("version", "请提供读取记录时的版本号（version）")
	}
	reason := c.text("reason", "修改原因", e.Reason, 200)
	if reason == "" {
		c.add("reason", "请填写修改原因")
	}
	rec := old.record()
	c.fields(&rec, e, old.Mode == "home", old.Outcome == "done")
	if err := c.err(); err != nil {
		return Visit{}, err
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return Visit{}, err
	}
	now := s.now()
	var out Visit
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		cur, err := scanVisit(tx.QueryRow(ctx, "SELECT "+visitCols+" FROM visits WHERE id = ?", id))
		if err != nil {
			return err
		}
		if cur.Version != e.Version {
			return &VisitConflict{Current: cur}
		}
		changes := visitChanges(cur.record(), rec)
		if len(changes) == 0 {
			out = cur
			return nil
		}
		f := rec.Findings
		res, err := tx.Exec(ctx, `UPDATE visits SET expression = ?, mobility = ?, mental = ?, illness = ?, illness_kind = ?, house = ?, gas = ?,
			water_heating = ?, electricity = ?, hygiene = ?, supporter = ?, family_contact_on = ?, service_needs = ?, hardships = ?,
			needs = ?, needs_response = ?, problems = ?, problems_kind = ?, handling = ?, education = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND version = ?`,
			f.Expression, f.Mobility, f.Mental, f.Illness, f.IllnessKind, f.House, f.Gas, f.WaterHeating, f.Electricity, f.Hygiene, f.Supporter,
			rec.FamilyContactOn, strings.Join(rec.ServiceNeeds, ","), strings.Join(rec.Hardships, ","), rec.Needs, rec.NeedsResponse,
			rec.Problems, rec.ProblemsKind, rec.Handling, rec.Education, store.FormatTime(now), id, e.Version)
		if err != nil {
			return fmt.Errorf("update visit: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &VisitConflict{Current: cur}
		}
		raw, _ := json.Marshal(changes)
		if _, err := tx.Exec(ctx, `INSERT INTO visit_versions (visit_id, version, at, actor_id, actor, changes, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, cur.Version, store.FormatTime(now), a.UserID, a.Username, string(raw), reason); err != nil {
			return fmt.Errorf("keep visit version: %w", err)
		}
		el, err := elder(ctx, tx, a.Scope, cur.ElderID)
		if err != nil {
			return err
		}
		if err := s.followUp(ctx, tx, a, now, el, id, rec, rules, false); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, a.entry(now, "visit.edit", "visit", id, cur.AreaCode, "fields="+strings.Join(keys(changes), ","))); err != nil {
			return err
		}
		out, err = scanVisit(tx.QueryRow(ctx, "SELECT "+visitCols+" FROM visits WHERE id = ?", id))
		return err
	})
	return out, err
}

// visitChanges lists the editable fields that differ.
func visitChanges(old, new Record) map[string]Change {
	m := map[string]Change{}
	oi, ni := old.Findings.items(), new.Findings.items()
	for i := range oi {
		if *oi[i].Value != *ni[i].Value {
			m["findings."+oi[i].Field] = Change{*oi[i].Value, *ni[i].Value}
		}
	}
	for _, f := range []struct {
		name     string
		old, new string
	}{
		{"findings.illness_kind", old.Findings.IllnessKind, new.Findings.IllnessKind},
		{"family_contact_on", old.FamilyContactOn, new.FamilyContactOn},
		{"service_needs", strings.Join(old.ServiceNeeds, ","), strings.Join(new.ServiceNeeds, ",")},
		{"hardships", strings.Join(old.Hardships, ","), strings.Join(new.Hardships, ",")},
		{"needs", old.Needs, new.Needs}, {"needs_response", old.NeedsResponse, new.NeedsResponse},
		{"problems", old.Problems, new.Problems}, {"problems_kind", old.ProblemsKind, new.ProblemsKind},
		{"handling", old.Handling, new.Handling}, {"education", old.Education, new.Education},
	} {
		if f.old != f.new {
			m[f.name] = Change{f.old, f.new}
		}
	}
	return m
}

func keys(m map[string]Change) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Photo returns a visit's photo.
func (s *Service) Photo(ctx context.Context, sc areas.Scope, visitID int64) (contentType string, data []byte, err error) {
	if _, err := s.Get(ctx, sc, visitID); err != nil {
		return "", nil, err
	}
	err = s.DB.QueryRow(ctx, `SELECT content_type, data FROM visit_photos WHERE visit_id = ?`, visitID).Scan(&contentType, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, store.ErrNotFound
	}
	return contentType, data, err
}

// SetPhoto attaches or replaces a visit's photo (for clients that send it
// after the record); the recorder, or village or town staff, may.
func (s *Service) SetPhoto(ctx context.Context, a Actor, visitID int64, data []byte) error {
	v, err := s.Get(ctx, a.Scope, visitID)
	if err != nil {
		return err
	}
	if v.RecordedBy != a.UserID && a.Role != auth.RoleVillage && a.Role != auth.RoleTown {
		return forbidden("只有填写人或村（居）、乡镇（街道）工作人员可以上传照片")
	}
	ct, err := PhotoType(data)
	if err != nil {
		return err
	}
	now := s.now()
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO visit_photos (visit_id, content_type, size, data, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (visit_id) DO UPDATE SET content_type = excluded.content_type, size = excluded.size, data = excluded.data, created_at = excluded.created_at`,
			visitID, ct, len(data), data, store.FormatTime(now)); err != nil {
			return fmt.Errorf("save photo: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE visits SET has_photo = 1 WHERE id = ?`, visitID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, a.entry(now, "visit.photo", "visit", visitID, v.AreaCode, ""))
	})
}

func homeLocation(ctx context.Context, q store.Querier, elderID int64) (Location, bool, error) {
	var l Location
	err := q.QueryRow(ctx, `SELECT lat, lng FROM elder_locations WHERE elder_id = ?`, elderID).Scan(&l.Lat, &l.Lng)
	if errors.Is(err, sql.ErrNoRows) {
		return l, false, nil
	}
	if err != nil {
		return l, false, fmt.Errorf("elder location: %w", err)
	}
	return l, true, nil
}

// HomeLocation returns the position of an elder's home, if one was set.
func (s *Service) HomeLocation(ctx context.Context, sc areas.Scope, elderID int64) (Location, bool, error) {
	if _, err := elder(ctx, s.DB, sc, elderID); err != nil {
		return Location{}, false, err
	}
	return homeLocation(ctx, s.DB, elderID)
}

// SetHomeFromVisit takes a home visit's location as the elder's home, so
// later visits show their distance from it. Village staff confirm it, since
// the visitor's phone alone proves nothing.
func (s *Service) SetHomeFromVisit(ctx context.Context, a Actor, visitID int64) error {
	if a.Role != auth.RoleVillage && a.Role != auth.RoleTown {
		return forbidden("老人住址位置由村（居）、乡镇（街道）工作人员确认")
	}
	v, err := s.Get(ctx, a.Scope, visitID)
	if err != nil {
		return err
	}
	if v.Location == nil || !v.CountsAsHome {
		return invalid("location", "只有带定位的已完成上门探访可以作为老人住址位置")
	}
	now := s.now()
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO elder_locations (elder_id, lat, lng, visit_id, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (elder_id) DO UPDATE SET lat = excluded.lat, lng = excluded.lng, visit_id = excluded.visit_id,
			set_by = excluded.set_by, set_at = excluded.set_at`,
			v.ElderID, v.Location.Lat, v.Location.Lng, v.ID, a.UserID, store.FormatTime(now)); err != nil {
			return fmt.Errorf("set home location: %w", err)
		}
		return audit.Append(ctx, tx, a.entry(now, "elder.home_location", "elder", v.ElderID, v.AreaCode, fmt.Sprintf("visit=%d", v.ID)))
	})
}

// ElderOption is an elder the visit form offers, name masked.
type ElderOption struct {
	ID         int64  `json:"id"`
	NameMasked string `json:"name_masked"`
	AreaCode   string `json:"area_code"`
}

// FormElders lists the elders an account records visits for: a visitor's
// paired elders (all elders of the area while the visitor has none), or
// for staff the active elders of their area; at most limit. include, when
// not 0, is added if it is in scope and not listed (the elder a page was
// opened for).
func (s *Service) FormElders(ctx context.Context, a Actor, limit int, include int64) ([]ElderOption, error) {
	var out []ElderOption
	var err error
	if a.Role == auth.RoleVisitor {
		out, err = s.elderOptions(ctx, `SELECT e.id, e.name, e.area_code FROM pairings p JOIN visitors v ON v.id = p.visitor_id
			JOIN elders e ON e.id = p.elder_id
			WHERE v.user_id = ? AND p.ended_at = '' AND e.active = 1 ORDER BY p.role DESC, e.id LIMIT ?`, a.UserID, limit)
	}
	if err == nil && len(out) == 0 {
		lo, hi := a.Scope.Range()
		out, err = s.elderOptions(ctx, `SELECT id, name, area_code FROM elders WHERE area_code >= ? AND area_code < ? AND active = 1
			ORDER BY area_code, id LIMIT ?`, lo, hi, limit)
	}
	if err != nil || include == 0 || slices.ContainsFunc(out, func(o ElderOption) bool { return o.ID == include }) {
		return out, err
	}
	if e, err := elder(ctx, s.DB, a.Scope, include); err == nil && e.Active {
		out = append(out, ElderOption{ID: e.ID, NameMasked: e.Masked(), AreaCode: e.AreaCode})
	}
	return out, nil
}

func (s *Service) elderOptions(ctx context.Context, q string, args ...any) ([]ElderOption, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("form elders: %w", err)
	}
	defer rows.Close()
	var out []ElderOption
	seen := map[int64]bool{}
	for rows.Next() {
		var o ElderOption
		var name string
		if err := rows.Scan(&o.ID, &name, &o.AreaCode); err != nil {
			return nil, err
		}
		if seen[o.ID] {
			continue
		}
		seen[o.ID] = true
		o.NameMasked = mask.Name(name)
		out = append(out, o)
	}
	return out, rows.Err()
}
