// Package idcard validates resident identity numbers (GB 11643-1999) and
// second-generation disability certificate numbers, and derives birth date
// and sex from them (DOMAIN §2).
package idcard

import (
	"fmt"
	"strings"
	"unicode"

	"tanfang/internal/policy/age"
)

// Error codes, so callers can branch on the kind of problem.
const (
	CodeLength   = "length"   // wrong number of characters
	CodeChars    = "chars"    // a character that may not appear there
	CodeDate     = "date"     // birth date that does not exist or is implausibly early
	CodeFuture   = "future"   // birth date after today
	CodeCheck    = "check"    // check character does not match
	CodeMismatch = "mismatch" // typed data or another number disagrees
	CodeCategory = "category" // disability category digit outside 1–7
	CodeGrade    = "grade"    // disability grade digit outside 1–4
	CodeRegion   = "region"   // first two digits name no province-level division
)

// Error is a validation failure with a message fit to show the user.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// earliestYear is the birth year of the oldest worked example in GB 11643;
// anything earlier is a typo, not a living person.
const earliestYear = 1880

// Number is a validated resident ID or residence-permit number.
type Number struct {
	Value           string // 18 characters, upper-case X
	Birth           age.Date
	Female          bool
	Region          string // first 6 digits; for residence permits 810000/820000/830000, which name no county
	ResidencePermit bool   // Hong Kong, Macau or Taiwan resident's residence permit
	UpgradedFrom15  bool   // input was a 15-digit legacy number
}

// Parse validates s without a future-date check; use ParseAt where today is
// known.
func Parse(s string) (Number, error) { return parse(s, nil) }

// ParseAt validates s and also rejects birth dates after today.
func ParseAt(s string, today age.Date) (Number, error) { return parse(s, &today) }

func parse(s string, today *age.Date) (Number, error) {
	v := normalize(s)
	runes := []rune(v)
	upgraded := false
	switch len(runes) {
	case 0:
		return Number{}, &Error{CodeLength, "未填写身份证号码"}
	case 15:
		for i, r := range runes {
			if !isDigit(r) {
				return Number{}, &Error{CodeChars, fmt.Sprintf("15位旧身份证号码第%d位“%c”不是数字", i+1, r)}
			}
		}
		// Legacy numbers were issued to people born in the 1900s only.
		v = v[:6] + "19" + v[6:]
		v += string(CheckChar(v))
		upgraded = true
	case 18:
		for i, r := range runes {
			if i == 17 {
				if !isDigit(r) && r != 'X' {
					return Number{}, &Error{CodeChars, fmt.Sprintf("身份证号码第18位“%c”应为数字或X", r)}
				}
			} else if !isDigit(r) {
				return Number{}, &Error{CodeChars, fmt.Sprintf("身份证号码第%d位“%c”不是数字", i+1, r)}
			}
		}
	default:
		return Number{}, &Error{CodeLength, fmt.Sprintf("身份证号码应为18位（或15位旧号码），现为%d位", len(runes))}
	}

	// Only the province is checked: the county part may name a division
	// since abolished, which stays valid on the card (DOMAIN §2).
	if !isProvince(v[:2]) {
		return Number{}, &Error{CodeRegion, fmt.Sprintf("身份证号码前两位（省级代码）%s不存在", v[:2])}
	}
	raw := v[6:14]
	birth, err := age.ParseDate(raw[:4] + "-" + raw[4:6] + "-" + raw[6:])
	if err != nil {
		return Number{}, &Error{CodeDate, fmt.Sprintf("身份证号码中的出生日期%s无效", raw)}
	}
	if birth.Year < earliestYear {
		return Number{}, &Error{CodeDate, fmt.Sprintf("身份证号码中的出生日期%s早于%d年，请核对号码", raw, earliestYear)}
	}
	if today != nil && today.Before(birth) {
		return Number{}, &Error{CodeFuture, fmt.Sprintf("身份证号码中的出生日期%s晚于今天（%s），请核对号码", birth, today)}
	}
	// Never name the expected character: that would turn any typo into a
	// number that passes.
	if v[17] != CheckChar(v[:17]) {
		return Number{}, &Error{CodeCheck, "身份证号码校验位错误，请核对号码"}
	}

	region := v[:6]
	return Number{
		Value:           v,
		Birth:           birth,
		Female:          (v[16]-'0')%2 == 0,
		Region:          region,
		ResidencePermit: region == "810000" || region == "820000" || region == "830000",
		UpgradedFrom15:  upgraded,
	}, nil
}

// normalize drops all white space, folds full-width ASCII forms to
// half-width and upper-cases x, the only letter an ID number may hold.
func normalize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		if r >= '！' && r <= '～' {
			r -= '！' - '!'
		}
		if r == 'x' {
			r = 'X'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isProvince reports whether the two digits are a province-level code of
// GB/T 2260: the mainland's, 71 (Taiwan) and 81–83, the prefixes of the
// residence permits of Hong Kong, Macau and Taiwan residents.
func isProvince(two string) bool {
	n := int(two[0]-'0')*10 + int(two[1]-'0')
	switch {
	case n >= 11 && n <= 15, n >= 21 && n <= 23, n >= 31 && n <= 37, n >= 41 && n <= 46,
		n >= 50 && n <= 54, n >= 61 && n <= 65, n == 71, n >= 81 && n <= 83:
		return true
	}
	return false
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// CheckChar returns the ISO 7064 MOD 11-2 check character for the first 17
// digits of an ID number, or 0 if first17 is not 17 ASCII digits.
func CheckChar(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	for i := range 17 {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0
		}
		sum += int(c-'0') * weights[i]
	}
	return "10X98765432"[sum%11]
}

// CheckAgainst compares a typed birth date and sex with those the number
// encodes. Nil (or a zero date) means the field was not typed.
func CheckAgainst(n Number, birth *age.Date, female *bool) error {
	var problems []string
	if birth != nil && !birth.IsZero() && *birth != n.Birth {
		problems = append(problems, fmt.Sprintf("填写的出生日期%s与身份证号码中的%s不一致", birth, n.Birth))
	}
	if female != nil && *female != n.Female {
		problems = append(problems, fmt.Sprintf("填写的性别%s与身份证号码中的%s不一致", sexName(*female), sexName(n.Female)))
	}
	if len(problems) == 0 {
		return nil
	}
	return &Error{CodeMismatch, strings.Join(problems, "；")}
}

func sexName(female bool) string {
	if female {
		return "女"
	}
	return "男"
}

// Synthetic builds a valid number for test and demo data: seq picks the
// sequence digits, whose parity follows the sex. It panics on a region that
// is not 6 digits or a birth date Parse would reject, since that is a
// mistake in the calling code, not in user input.
func Synthetic(region string, birth age.Date, female bool, seq int) string {
	n := seq % 500
	if n < 0 {
		n += 500
	}
	code := 2*n + 1
	if female {
		code = 2 * n
	}
	first17 := fmt.Sprintf("%s%04d%02d%02d%03d", region, birth.Year, int(birth.Month), birth.Day, code)
	v := first17 + string(CheckChar(first17))
	if _, err := Parse(v); err != nil {
		panic(fmt.Sprintf("idcard.Synthetic(%q, %v): %v", region, birth, err))
	}
	return v
}
