package assess

import (
	"fmt"
	"strings"
)

// Problem says what is wrong with one answer of an assessment.
type Problem int

const (
	Missing    Problem = iota + 1 // a scored item has no answer
	OutOfRange                    // a score or a count is outside its range
	Unknown                       // an item code the standard does not have
)

// ItemError names the item (or A.2.14 risk-event category) at fault.
type ItemError struct {
	Code    string
	Name    string
	Problem Problem
	Got     int
	Max     int
	// Count marks A.2.14 risk-event counts, whose message speaks of times, not points.
	Count bool
}

func (e *ItemError) Error() string {
	switch {
	case e.Problem == Missing:
		return fmt.Sprintf("缺少%s %s的得分", e.Code, e.Name)
	case e.Problem == Unknown:
		return fmt.Sprintf("未知的评估项目代码“%s”", e.Code)
	case e.Count:
		return fmt.Sprintf("%s %s的次数应在0–%d之间（%d表示%d次及以上），现为%d", e.Code, e.Name, e.Max, e.Max, e.Max, e.Got)
	}
	return fmt.Sprintf("%s %s的得分应在0–%d之间，现为%d", e.Code, e.Name, e.Max, e.Got)
}

// InputError holds every problem of one assessment, so a form can mark all
// fields at once. errors.As finds each *ItemError through Unwrap.
type InputError []*ItemError

func (e InputError) Error() string {
	msgs := make([]string, len(e))
	for i, p := range e {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "；")
}

func (e InputError) Unwrap() []error {
	errs := make([]error, len(e))
	for i, p := range e {
		errs[i] = p
	}
	return errs
}
