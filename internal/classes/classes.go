// Package classes keeps each elder's class A/B/C (R-CLS-1..4) and the
// GB/T 42195-2022 ability assessments (DOMAIN §1) on the store: the class is
// recomputed from the facts in the transaction of every write that changes
// them (Recompute, called by the registry), once a day for age crossings
// (RunDaily), and when a county edits its class C rules. Every change is
// kept in class_history with its reasons and reaches the elder's visitor.
// The rules themselves are the pure packages policy/classify and
// policy/assess.
package classes

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/pii"
	"tanfang/internal/policy/classify"
	"tanfang/internal/store"
)

// Service runs the stored side of classification with an injected clock.
type Service struct {
	DB   *store.DB
	Keys *pii.Keys
	Now  func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Actor is who acts, for permission checks and the audit log.
type Actor struct {
	UserID   int64
	Username string
	Role     string
	IP       string
}

func (a Actor) entry(at time.Time, action, targetType, targetID, area, detail string) audit.Entry {
	return audit.Entry{At: at, ActorID: a.UserID, Actor: a.Username, Action: action, TargetType: targetType,
		TargetID: targetID, AreaCode: area, IP: a.IP, Outcome: audit.OK, Detail: detail}
}

// FieldError is bad input in one field, in Chinese.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrForbidden is returned when the actor's role may not do what it asked.
var ErrForbidden = errors.New("forbidden")

// ClassLabel is the Chinese name of a class for pages and messages.
func ClassLabel(class string) string {
	switch class {
	case classify.ClassA:
		return "A类"
	case classify.ClassB:
		return "B类"
	case classify.ClassC:
		return "C类"
	case classify.ClassNone:
		return "不属于探访关爱对象"
	case "":
		return "未分类"
	}
	return class
}

// Summary is the class part of the elder resource. ClassReasons are the
// reasons of the computed class; when a county account has overridden it,
// Class holds the override and ClassComputed the computed class beside it.
type Summary struct {
	Class                string            `json:"class"`
	ClassReasons         []classify.Reason `json:"class_reasons"`
	ClassComputed        string            `json:"class_computed,omitempty"`
	ClassOverrideReason  string            `json:"class_override_reason,omitempty"`
	OverrideReviewNeeded bool              `json:"override_review_needed,omitempty"`
}

// SummaryColumns are the elders columns ScanSummary reads, in its order,
// for a reader of elders rows (the registry) to append to its SELECT.
var SummaryColumns = []string{"class", "class_reasons", "class_computed", "class_override", "class_override_reason", "override_review_needed"}

// SummaryScan holds the raw columns of a Summary while a row is scanned.
type SummaryScan struct {
	class, reasons, computed, override, reason string
	review                                     bool
}

// Targets returns scan destinations in the order of SummaryColumns.
func (ss *SummaryScan) Targets() []any {
	return []any{&ss.class, &ss.reasons, &ss.computed, &ss.override, &ss.reason, &ss.review}
}

// Summary builds the resource view of the scanned columns.
func (ss *SummaryScan) Summary() Summary {
	sm := Summary{Class: ss.class, ClassReasons: parseReasons(ss.reasons)}
	if ss.override != "" {
		sm.ClassComputed = ss.computed
		sm.ClassOverrideReason = ss.reason
		sm.OverrideReviewNeeded = ss.review
	}
	return sm
}

// LoadSummary reads one elder's Summary, e.g. after Recompute in the same
// transaction.
func LoadSummary(ctx context.Context, q store.Querier, elderID int64) (Summary, error) {
	sums, err := LoadSummaries(ctx, q, []int64{elderID})
	if err != nil {
		return Summary{}, err
	}
	sm, ok := sums[elderID]
	if !ok {
		return Summary{}, fmt.Errorf("class of elder %d: %w", elderID, store.ErrNotFound)
	}
	return sm, nil
}

// LoadSummaries reads the Summaries of many elders, by id.
func LoadSummaries(ctx context.Context, q store.Querier, ids []int64) (map[int64]Summary, error) {
	out := make(map[int64]Summary, len(ids))
	err := eachIn(ctx, q, "SELECT id, "+strings.Join(SummaryColumns, ", ")+" FROM elders WHERE id IN (?*)", ids, func(rows *sql.Rows) error {
		var id int64
		var ss SummaryScan
		if err := rows.Scan(append([]any{&id}, ss.Targets()...)...); err != nil {
			return err
		}
		out[id] = ss.Summary()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("classes of %d elders: %w", len(ids), err)
	}
	return out, nil
}

func parseReasons(s string) []classify.Reason {
	out := []classify.Reason{}
	if s != "" {
		// The column is written only by this package; a malformed value
		// shows as no reasons rather than failing the whole file.
		_ = json.Unmarshal([]byte(s), &out)
	}
	return out
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// countyOf is the county (县区) of an area code: its first 6 digits.
func countyOf(areaCode string) string {
	if len(areaCode) < 6 {
		return ""
	}
	return areaCode[:6] + "000000"
}

// villageOf is the village of a village or grid code.
func villageOf(areaCode string) string {
	if len(areaCode) < 12 {
		return areaCode
	}
	return areaCode[:12]
}

// inScope reports whether sc may see area; an empty scope sees nothing.
func inScope(sc areas.Scope, area string) bool { return sc.Contains(area) }

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
