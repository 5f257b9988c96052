package idcard

import (
	"errors"
	"fmt"
	"strings"
)

// categoryNames indexes the category digit of a disability certificate.
var categoryNames = [...]string{1: "视力", 2: "听力", 3: "言语", 4: "肢体", 5: "智力", 6: "精神", 7: "多重"}

// Disability is a parsed second-generation disability certificate number:
// the 18-character ID number, a category digit and a grade digit.
type Disability struct {
	Raw          string // normalised input, reissue suffix included
	Suffix       string // reissue suffix such as B1, or empty
	IDNumber     string // first 18 characters
	Category     int    // 1–7
	CategoryName string // 视力 … 多重
	Grade        int    // 1 (most severe) – 4
	Severe       bool   // 重残: grade 1 or 2
}

// ParseDisability validates a certificate number. If elderID is not empty
// the embedded ID number must be that elder's.
func ParseDisability(s, elderID string) (Disability, error) {
	runes := []rune(normalize(s))
	if len(runes) < 20 {
		return Disability{}, &Error{CodeLength, fmt.Sprintf("残疾人证号码应为20位，现为%d位", len(runes))}
	}
	suffix := strings.ToUpper(string(runes[20:]))
	if suffix != "" && !isReissueSuffix(suffix) {
		return Disability{}, &Error{CodeLength, fmt.Sprintf("残疾人证号码应为20位（补发证可带B1等后缀），现为%d位", len(runes))}
	}
	id, err := Parse(string(runes[:18]))
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return Disability{}, &Error{e.Code, "残疾人证号码中的" + e.Message}
		}
		return Disability{}, err
	}
	cat, grade := runes[18], runes[19]
	if cat < '1' || cat > '7' {
		return Disability{}, &Error{CodeCategory, fmt.Sprintf("残疾人证号码第19位是残疾类别，应为1至7，现为“%c”", cat)}
	}
	if grade < '1' || grade > '4' {
		return Disability{}, &Error{CodeGrade, fmt.Sprintf("残疾人证号码第20位是残疾等级，应为1至4，现为“%c”", grade)}
	}
	if elderID != "" {
		elder, err := Parse(elderID)
		if err != nil {
			return Disability{}, fmt.Errorf("老人的%w", err)
		}
		if elder.Value != id.Value {
			return Disability{}, &Error{CodeMismatch, "残疾人证号码前18位与老人的身份证号码不一致"}
		}
	}
	d := Disability{
		Raw:          string(runes[:20]) + suffix,
		Suffix:       suffix,
		IDNumber:     id.Value,
		Category:     int(cat - '0'),
		CategoryName: categoryNames[cat-'0'],
		Grade:        int(grade - '0'),
	}
	d.Severe = d.Grade <= 2
	return d, nil
}

// isReissueSuffix accepts one letter and one or two digits (B1, B12): the
// marks local federations add to a reissued certificate.
func isReissueSuffix(s string) bool {
	if len(s) < 2 || len(s) > 3 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
