package visits

import (
	"context"
	"fmt"
	"time"

	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/outbox"
	"tanfang/internal/policy/age"
	"tanfang/internal/store"
)

// Reasons a family is reminded of the duty of support (R-VST-3).
const (
	reasonSupporterPoor = "supporter_poor"
	reasonNoContact     = "no_family_contact"
)

// reminderGap keeps a family from being reminded more than once a week
// for the same elder, however often visitors note it.
const reminderGap = 7 * 24 * time.Hour

// remindFamily writes a reminder to the first contact (SMS) and a copy to
// the village's inbox, and logs it; visitID is 0 for the scheduled check.
// It does nothing if the family was reminded within reminderGap.
func (s *Service) remindFamily(ctx context.Context, tx *store.Tx, a Actor, now time.Time, el elderRef, visitID int64, reason string) (bool, error) {
	var recent int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM family_reminders WHERE elder_id = ? AND at > ?`,
		el.ID, store.FormatTime(now.Add(-reminderGap))).Scan(&recent); err != nil {
		return false, fmt.Errorf("recent reminders: %w", err)
	}
	if recent > 0 {
		return false, nil
	}
	var v any
	if visitID != 0 {
		v = visitID
	}
	id, err := tx.InsertID(ctx, `INSERT INTO family_reminders (elder_id, area_code, at, reason, visit_id, actor_id) VALUES (?, ?, ?, ?, ?, ?)`,
		el.ID, el.AreaCode, store.FormatTime(now), reason, v, a.UserID)
	if err != nil {
		return false, fmt.Errorf("log family reminder: %w", err)
	}
	village := areaName(ctx, tx, villageOf(el.AreaCode))
	text := fmt.Sprintf("【探访关爱】%s（%s）的探访人员反映，子女（赡养人）近期探望、联系较少。请常回家看看、常打电话，关心老人的生活和健康。", el.Masked(), village)
	if reason == reasonNoContact {
		text = fmt.Sprintf("【探访关爱】%s（%s）已较长时间没有子女（赡养人）探望或来电的记录。请常回家看看、常打电话，关心老人的生活和健康。", el.Masked(), village)
	}
	to := []outbox.Target{outbox.ToArea(villageOf(el.AreaCode), auth.RoleVillage)}
	if phone := s.familyPhone(el); phone != "" {
		to = append(to, outbox.ToPhone(phone, el.AreaCode))
	}
	if _, err := outbox.Enqueue(ctx, tx, s.Keys, now, outbox.Message{Kind: "family.reminder", Subject: "赡养义务提醒", Body: text,
		RefType: "family_reminder", RefID: id}, to...); err != nil {
		return false, err
	}
	return true, audit.Append(ctx, tx, a.entry(now, "family.remind", "elder", el.ID, el.AreaCode, "reason="+reason))
}

// RemindFamilies reminds the first contact of every elder who has been
// visited for at least the rules' FamilyContactDays and has no family visit
// or call recorded (visits' family_contact_on) within that many days. It
// returns how many reminders it wrote.
func (s *Service) RemindFamilies(ctx context.Context) (int, error) {
	now := s.now()
	rules, err := s.Rules(ctx)
	if err != nil {
		return 0, err
	}
	span := time.Duration(rules.FamilyContactDays) * 24 * time.Hour
	cutoff := now.Add(-span)
	// Elders followed long enough, with the last family contact any visit
	// recorded; those reminded lately are skipped by remindFamily.
	rows, err := s.DB.Query(ctx, `SELECT v.elder_id, MIN(v.started_at), MAX(v.family_contact_on)
		FROM visits v JOIN elders e ON e.id = v.elder_id
		WHERE e.active = 1 AND v.outcome = 'done'
		GROUP BY v.elder_id HAVING MIN(v.started_at) <= ?`, store.FormatTime(cutoff))
	if err != nil {
		return 0, fmt.Errorf("family contact check: %w", err)
	}
	var due []int64
	cutoffDay := age.DateOf(cutoff).String()
	for rows.Next() {
		var id int64
		var first, last string
		if err := rows.Scan(&id, &first, &last); err != nil {
			rows.Close()
			return 0, err
		}
		if last < cutoffDay { // '' (never recorded) sorts first
			due = append(due, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range due {
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			el, err := readElder(ctx, tx, id)
			if err != nil {
				return err
			}
			sent, err := s.remindFamily(ctx, tx, system, now, el, 0, reasonNoContact)
			if sent {
				n++
			}
			return err
		})
		if err != nil {
			return n, fmt.Errorf("remind family of elder %d: %w", id, err)
		}
	}
	return n, nil
}
