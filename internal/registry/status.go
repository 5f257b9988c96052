package registry

import (
	"context"
	"fmt"
	"strings"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/policy/age"
	"tanfang/internal/store"
)

// Status is a change of a file's status. From is the day it began (for
// deceased, the date of death); To, for away and hospital only, the day the
// elder is expected back. Dates are YYYY-MM-DD.
type Status struct {
	Kind   string `json:"kind"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

var fromLabels = map[string]string{
	StatusActive: "恢复日期", StatusAway: "外出日期", StatusHospital: "住院日期", StatusInstitution: "入住机构日期",
	StatusMovedOut: "迁出日期", StatusDeceased: "去世日期", StatusDeclined: "拒绝日期",
}

// check validates st against the file's current status and the elder's
// birth date (YYYY-MM-DD) and returns the normalised status fields.
func (st Status) check(c *checker, current, birth string) (kind, from, to, reason string) {
	kind = strings.TrimSpace(st.Kind)
	if !known(Statuses, kind) {
		c.add("kind", "状态“%s”不是可选项", st.Kind)
		return
	}
	c.date("from", fromLabels[kind], &st.From, &from)
	if from != "" && from < birth {
		c.add("from", "%s%s早于老人的出生日期%s", fromLabels[kind], from, birth)
		from = ""
	}
	c.text("reason", "原因", &st.Reason, 200, &reason)
	switch kind {
	case StatusAway, StatusHospital, StatusInstitution, StatusMovedOut, StatusDeceased:
		if from == "" && !c.failed("from") {
			c.add("from", "请填写%s", fromLabels[kind])
		}
	case StatusActive, StatusDeclined:
		if from == "" && !c.failed("from") {
			from = c.today.String()
		}
	}
	if v := strings.TrimSpace(st.To); v != "" {
		to = c.returnDate(kind, v, from)
	}
	if reason == "" && !c.failed("reason") {
		switch {
		case kind == StatusDeclined:
			c.add("reason", "请填写老人拒绝探访的原因")
		case current == StatusDeceased && kind != StatusDeceased:
			c.add("reason", "撤销“去世”状态须填写原因")
		}
	}
	return
}

// maxAwayYears bounds an expected return: a stay away or in hospital
// planned for longer is an institution or a move, or a mistyped year.
const maxAwayYears = 2

// returnDate checks the expected return date v of a stay that began on
// from; only away and hospital stays end.
func (c *checker) returnDate(kind, v, from string) string {
	if kind != StatusAway && kind != StatusHospital {
		c.add("to", "该状态没有结束日期，请不要填写预计返回日期")
		return ""
	}
	d, err := age.ParseDate(v)
	if err != nil {
		c.add("to", "预计返回日期“%s”不是有效日期，应为年-月-日", v)
		return ""
	}
	if from == "" {
		return d.String()
	}
	start, _ := age.ParseDate(from)
	switch {
	case d.Before(start):
		c.add("to", "预计返回日期%s早于%s%s", d, fromLabels[kind], from)
		return ""
	case age.BirthdayOn(start, start.Year+maxAwayYears).Before(d):
		c.add("to", "预计返回日期%s距%s超过%d年，请核对", d, fromLabels[kind], maxAwayYears)
		return ""
	}
	return d.String()
}

// SetStatus changes a file's status at version (a stale version gives a
// *VersionConflict). Deceased and moved-out files stop being active, which
// frees the ID number for a new file; making such a file active again fails
// with a *DuplicateError if the number has meanwhile been registered.
func (s *Service) SetStatus(ctx context.Context, actor Actor, sc areas.Scope, id int64, version int, st Status) (Elder, error) {
	now := s.now()
	today := age.DateOf(now)
	var out Elder
	var idNumber string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.load(ctx, tx, sc, id, true)
		if err != nil {
			return err
		}
		if r.Version != version {
			return &VersionConflict{Current: r.elder(today)}
		}
		c := &checker{today: today}
		kind, from, to, reason := st.check(c, r.Status, r.BirthDate)
		if err := c.err(); err != nil {
			return err
		}
		if err := r.open(s.Keys); err != nil {
			return err
		}
		idNumber = r.idNumber
		old := r
		r.Status, r.StatusFrom, r.StatusTo, r.StatusReason = kind, from, to, reason
		r.Active = kind != StatusDeceased && kind != StatusMovedOut
		if r.Active && !old.Active {
			d, err := s.holder(ctx, tx, r.idNumber, r.ID)
			if err != nil {
				return err
			}
			if d != nil {
				return d
			}
		}
		r.Version++
		r.UpdatedAt = store.FormatTime(now)
		if err := s.write(ctx, tx, &r, version, today); err != nil {
			return err
		}
		if err := s.insertVersion(ctx, tx, &r, "status", "", diff(&old, &r), reason, actor, now); err != nil {
			return err
		}
		detail := fmt.Sprintf("version=%d status=%s", r.Version, kind)
		if err := audit.Append(ctx, tx, actor.entry("elder.status", &r, audit.OK, detail, now)); err != nil {
			return err
		}
		out = r.elder(today)
		return nil
	})
	if err != nil {
		return Elder{}, s.refusal(ctx, sc, err, idNumber, id)
	}
	return out, nil
}

// Transfer moves a file from an area of fromScope to the village or grid
// toAreaCode anywhere in the system (the elder moved). The file keeps its
// history; the move is recorded in the transfers table, as a version that
// both areas' monthly lists show, and in the audit log.
func (s *Service) Transfer(ctx context.Context, actor Actor, fromScope areas.Scope, id int64, toAreaCode, reason string) (Elder, error) {
	now := s.now()
	today := age.DateOf(now)
	toAreaCode = strings.TrimSpace(toAreaCode)
	var out Elder
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.load(ctx, tx, fromScope, id, true)
		if err != nil {
			return err
		}
		c := &checker{today: today}
		if toAreaCode == "" {
			c.add("to_area_code", "请选择转入的村（居）或网格")
		} else if toAreaCode == r.AreaCode {
			c.add("to_area_code", "档案已在该村（居），无需转移")
		}
		areaMemo(nil).check(ctx, tx, c, true, "to_area_code", toAreaCode)
		c.text("reason", "转移原因", &reason, 200, &reason)
		if reason == "" && !c.failed("reason") {
			c.add("reason", "请填写转移原因")
		}
		if err := c.err(); err != nil {
			return err
		}
		if err := r.open(s.Keys); err != nil {
			return err
		}
		old := r
		r.AreaCode = toAreaCode
		r.Version++
		r.UpdatedAt = store.FormatTime(now)
		if err := s.write(ctx, tx, &r, old.Version, today); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO elder_transfers (elder_id, from_area_code, to_area_code, at, actor_id, reason) VALUES (?, ?, ?, ?, ?, ?)",
			r.ID, old.AreaCode, r.AreaCode, store.FormatTime(now), actor.UserID, reason); err != nil {
			return fmt.Errorf("record transfer: %w", err)
		}
		if err := s.insertVersion(ctx, tx, &r, "transferred", old.AreaCode, diff(&old, &r), reason, actor, now); err != nil {
			return err
		}
		detail := fmt.Sprintf("version=%d from=%s to=%s", r.Version, old.AreaCode, r.AreaCode)
		if err := audit.Append(ctx, tx, actor.entry("elder.transfer", &r, audit.OK, detail, now)); err != nil {
			return err
		}
		out = r.elder(today)
		return nil
	})
	return out, err
}

// Rekey re-seals every stored number under the current key and recomputes
// the look-up hashes, after a key rotation (docs/operations.md). It returns
// how many files it rewrote; files already under the current key are left
// alone, so it may be run again after an interruption. Versions do not
// change: the file's content is the same.
func (s *Service) Rekey(ctx context.Context, actor Actor) (int, error) {
	ids, err := store.Int64s(s.DB.Query(ctx, "SELECT id FROM elders ORDER BY id"))
	if err != nil {
		return 0, fmt.Errorf("list elders: %w", err)
	}
	n := 0
	for _, id := range ids {
		rewritten := false
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			r, err := scanRow(tx.QueryRow(ctx, "SELECT "+selectCols+" FROM elders WHERE id = ?", id))
			if err != nil {
				return err
			}
			if r.sealedCurrent(s.Keys) {
				return nil
			}
			if err := r.open(s.Keys); err != nil {
				return err
			}
			r.seal(s.Keys)
			if _, err := tx.Exec(ctx, `UPDATE elders SET id_enc = ?, id_hmac = ?, phone_enc = ?, phone_hmac = ?,
				disability_cert_enc = ?, first_contact_phone_enc = ?, village_contact_phone_enc = ? WHERE id = ?`,
				dbValue(&r.IDEnc), r.IDHmac, dbValue(&r.PhoneEnc), r.PhoneHmac, dbValue(&r.CertEnc),
				dbValue(&r.FCPhoneEnc), dbValue(&r.VCPhoneEnc), r.ID); err != nil {
				return fmt.Errorf("re-seal elder %d: %w", id, err)
			}
			rewritten = true
			return nil
		})
		if err != nil {
			return n, err
		}
		if rewritten {
			n++
		}
	}
	return n, audit.Log(ctx, s.DB, audit.Entry{
		At: s.now(), ActorID: actor.UserID, Actor: actor.Username, Action: "elders.rekey", TargetType: "elder",
		IP: actor.IP, Outcome: audit.OK, Detail: fmt.Sprintf("rewritten=%d", n),
	})
}
