// Package plan keeps the visiting plan over the store: the visitors and
// their teams (R-USR-2, R-TEAM), the fixed pairing of each elder with a
// primary and a backup visitor (R-TEAM-1), the weekly requirement of every
// in-scope elder (R-FRQ-1..5), campaigns that raise it (R-FRQ-5, R-EMG-3),
// each visitor's tasks, and compliance by area and visitor (R-OVS-2,
// DOMAIN §6). The rules themselves are in internal/policy/schedule.
//
// # Rollups
//
// Figures come from rollups, never from scanning visits. plan_weeks holds
// one row per elder and ISO week (Asia/Shanghai, Monday 00:00 to Sunday
// 24:00) with a bitmask of the days with a home visit and another of the
// days with a call, so that two contacts of one kind on one day count once;
// plan_months one per elder and calendar month for the monthly visit rate.
// The visit-recording code calls ApplyContact inside its own transaction
// for every record, so the rollups move with the visits or not at all.
//
// # Drawing up a week
//
// EnsureWeek draws up a week: one row for every in-scope elder (class A, B
// or C, file active) with the class, the primary visitor and the requirement
// of schedule.Required. The roster and each row's class are fixed when the
// week is first drawn up (by the weekly job at Monday 00:00, or by the first
// read of the week): an elder whose class changes during the week keeps the
// old class's requirement until Sunday, and the new class applies from the
// next week; an elder who enters scope during the week is planned from the
// next week. What excuses or changes the form of contact is read again at
// every refresh (the job runs hourly, and creating a campaign refreshes its
// weeks): consent to home visits, the file's current status (away, in
// hospital, in an institution, moved out, deceased, declined, from
// status_from to status_to), unwillingness to be visited, festivals and
// campaigns. Only the file's current status is known, so a status that
// ended earlier in the week no longer excuses its days.
//
// # Late records
//
// A record entered late (补录, schedule.Contact.Late) is counted in done but
// never as on time: a week's status and the compliance figures use on-time
// contacts only, so a missed week stays missed however it is filled in
// later, and its late records show beside it. The monthly visit rate counts
// every completed contact, late or not, since it asks whether the elder was
// reached at all.
package plan

import (
	"database/sql"
	"errors"
	"sync"
	"time"

	"tanfang/internal/pii"
	"tanfang/internal/store"
)

// Service runs the plan on a database with an injected clock. Keys seal
// visitors' phone numbers.
type Service struct {
	DB   *store.DB
	Keys *pii.Keys
	Now  func() time.Time

	mu      sync.Mutex // one EnsureWeek at a time in this process
	planned sync.Map   // week string -> true once drawn up
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// FieldError is bad input in one field, with a Chinese message.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, msg string) error { return &FieldError{field, msg} }

// ConflictError is a write that collides with existing data, with a Chinese
// message saying which.
type ConflictError struct{ Message string }

func (e *ConflictError) Error() string { return "conflict: " + e.Message }

// Is lets callers test errors.Is(err, store.ErrConflict).
func (e *ConflictError) Is(target error) bool { return target == store.ErrConflict }

// notFound turns a missing row into store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
