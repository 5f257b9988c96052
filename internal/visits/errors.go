package visits

import (
	"errors"
	"fmt"
	"strings"

	"tanfang/internal/store"
)

// FieldError is one field's problem, in Chinese. Field is the JSON name;
// rated fields are "findings.gas".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError carries every field's problem at once, for a form.
type ValidationError struct{ Fields []FieldError }

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// First is the first problem, for an API answer that names one field.
func (e *ValidationError) First() FieldError { return e.Fields[0] }

// ByField maps each field to its first message.
func (e *ValidationError) ByField() map[string]string {
	m := make(map[string]string, len(e.Fields))
	for _, f := range e.Fields {
		if _, ok := m[f.Field]; !ok {
			m[f.Field] = f.Message
		}
	}
	return m
}

func invalid(field, format string, args ...any) error {
	return &ValidationError{Fields: []FieldError{{field, fmt.Sprintf(format, args...)}}}
}

// ErrForbidden: the actor's role may not do this.
var ErrForbidden = errors.New("forbidden")

// ForbiddenError explains, in Chinese, why an actor may not do something.
type ForbiddenError struct{ Message string }

func (e *ForbiddenError) Error() string    { return e.Message }
func (e *ForbiddenError) Unwrap() error    { return ErrForbidden }
func forbidden(msg string) *ForbiddenError { return &ForbiddenError{msg} }

// ClientIDReused: a client_id already names a different record (another
// elder or another account), which a retry can never produce.
type ClientIDReused struct{ ExistingID int64 }

func (e *ClientIDReused) Error() string {
	return "该提交编号（client_id）已用于另一条记录，请重新生成"
}

func (e *ClientIDReused) Unwrap() error { return store.ErrConflict }

// VisitConflict says the visit changed since the editor read it; Current
// is the stored version, to show beside the editor's.
type VisitConflict struct{ Current Visit }

func (e *VisitConflict) Error() string {
	return fmt.Sprintf("该记录已被他人修改（当前为第%d版），请对照后重新提交", e.Current.Version)
}

func (e *VisitConflict) Unwrap() error { return store.ErrConflict }

// StaleError says a follow-up or emergency changed since it was read.
type StaleError struct{ Version int }

func (e *StaleError) Error() string {
	return fmt.Sprintf("该事项已被他人更新（当前为第%d版），请刷新后重试", e.Version)
}

func (e *StaleError) Unwrap() error { return store.ErrConflict }
