package classes

import (
	"context"
	"errors"
	"strings"

	"tanfang/internal/areas"
	"tanfang/internal/policy/age"
	"tanfang/internal/policy/assess"
	"tanfang/internal/policy/classify"
	"tanfang/internal/policy/idcard"
	"tanfang/internal/store"
)

// PreviewInput is a classification question: facts at a date, under the
// rules of a county. AbilityTotal stands for an assessment with that total
// and no adjustment; a certificate number gives the disability grade.
type PreviewInput struct {
	Facts                 classify.Facts
	AsOf                  age.Date
	AbilityTotal          *int
	DisabilityCertificate string
	CountyCode            string // "" for the caller's county, or the defaults above county level
}

// Preview classifies without storing anything, so forms can show the
// class as it is typed.
func (s *Service) Preview(ctx context.Context, sc areas.Scope, in PreviewInput) (classify.Result, error) {
	f := in.Facts
	if in.AsOf.IsZero() {
		in.AsOf = age.DateOf(s.now())
	}
	if t := in.AbilityTotal; t != nil {
		if *t < 0 || *t > 90 {
			return classify.Result{}, fieldErr("ability_total", "能力评估总分应在0–90之间，现为%d", *t)
		}
		f.Assessment = &classify.Assessment{Total: *t, FinalLevel: assess.Level(*t)}
	}
	if c := strings.TrimSpace(in.DisabilityCertificate); c != "" {
		d, err := idcard.ParseDisability(c, "")
		if err != nil {
			return classify.Result{}, fieldErr("disability_certificate", "%s", err.Error())
		}
		f.DisabilityGrade = d.Grade
	}
	if err := f.Validate(); err != nil {
		var fe *classify.FactError
		if errors.As(err, &fe) {
			return classify.Result{}, &FieldError{Field: fe.Field, Message: fe.Msg}
		}
		return classify.Result{}, err
	}
	rules, st := defaultRules(""), defaultSettings("")
	county := in.CountyCode
	if county == "" && len(sc.Prefix) >= 6 {
		county = countyOf(sc.Code)
	}
	if county != "" {
		code, err := s.county(ctx, sc, county)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return classify.Result{}, fieldErr("county_code", "县区%s不存在或不在您的管辖范围内", county)
			}
			return classify.Result{}, err
		}
		if rules, err = rulesFor(ctx, s.DB, code); err != nil {
			return classify.Result{}, err
		}
		if st, err = settingsFor(ctx, s.DB, code); err != nil {
			return classify.Result{}, err
		}
	}
	return classify.Classify(f, in.AsOf, rules.Set(), st.Settings), nil
}
