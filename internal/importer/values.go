package importer

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"tanfang/internal/policy/age"
	"tanfang/internal/policy/idcard"
)

// Reading cells the way offices fill them in, including what Excel does to
// them (DOMAIN §2: an ID number must never be accepted with lost digits).

var sciNotation = regexp.MustCompile(`^[+-]?[0-9](\.[0-9]+)?[eE][+-]?[0-9]+$`)

// general shows a number the way Excel's General format does for a long
// number: six significant digits in scientific notation (3.20706E+17).
func general(v string) string {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return v
	}
	if math.Abs(f) < 1e11 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	mant, exp, _ := strings.Cut(strconv.FormatFloat(f, 'E', 5, 64), "E")
	if strings.Contains(mant, ".") {
		mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
	}
	return mant + "E" + exp
}

// plainNumber writes a number cell's value without exponent or a trailing
// ".0", for cells such as a phone or an area code that Excel stored as a
// number but that keep all their digits.
func plainNumber(v string) string {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.Abs(f) >= 1e15 || f != math.Trunc(f) {
		return v
	}
	return strconv.FormatInt(int64(f), 10)
}

func digitsOnly(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// readID returns the ID number as typed, or the reason it cannot be
// trusted. Excel keeps 15 significant digits of a number: an 18-digit ID
// number stored as a number has lost its last three, and a 15-digit legacy
// number survives.
func readID(v string, num bool) (string, string) {
	v = strings.TrimLeft(v, "'‘`")
	if sciNotation.MatchString(strings.TrimSpace(fold(v))) {
		return "", fmt.Sprintf("身份证号码被Excel存成了数字（%s），后几位已丢失，请把该列设为文本后重新填写", general(fold(v)))
	}
	if !num {
		return v, ""
	}
	d := plainNumber(v)
	if !digitsOnly(d) && digitsOnly(strings.TrimSuffix(v, ".0")) {
		d = strings.TrimSuffix(v, ".0")
	}
	if len(d) <= 15 {
		return d, ""
	}
	if _, err := idcard.Parse(d); err == nil {
		return "", fmt.Sprintf("身份证号码被存成了数字（%s），Excel只能保留前15位，请把该列设为文本后重新填写", general(d))
	}
	return "", fmt.Sprintf("身份证号码被Excel存成了数字（%s），后几位已丢失，请把该列设为文本后重新填写", general(d))
}

// readPhone returns a phone number's digits as typed.
func readPhone(v string, num bool) (string, string) {
	v = strings.TrimLeft(v, "'‘`")
	if sciNotation.MatchString(fold(v)) {
		return "", fmt.Sprintf("电话号码被Excel存成了数字（%s），号码已丢失，请把该列设为文本后重新填写", general(fold(v)))
	}
	if num {
		return plainNumber(v), ""
	}
	return v, ""
}

// Dates: Excel keeps them as day numbers counted from 1899-12-30 (with
// its 1900 leap-year bug below 61); people type them in many ways.
var (
	dateYMD = regexp.MustCompile(`^([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?$`)
	dateYM  = regexp.MustCompile(`^([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*月?$`)
	// A time after the date (Excel writes 0:00:00) is dropped, if it is one.
	dateTime = regexp.MustCompile(`^(.+?)[ T]+([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$`)
)

// maxSerial is 2099-12-31, the last day an import may name.
const maxSerial = 73415

func serialDate(days int) (age.Date, bool) {
	if days < 1 || days > maxSerial || days == 60 {
		return age.Date{}, false
	}
	base := age.Date{Year: 1899, Month: 12, Day: 30}
	if days < 60 {
		base.Day = 31
	}
	return base.AddDays(days), true
}

// dateValue is a day, or a month when day is 0.
type dateValue struct{ year, month, day int }

func (d dateValue) String() string {
	if d.day == 0 {
		return fmt.Sprintf("%04d-%02d", d.year, d.month)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.year, d.month, d.day)
}

// parseDate understands 1950-3, 1950年3月, 1950/03/01, 1950.3.1, 195003,
// 19500301, an Excel day number (18323) and any of these followed by a
// time of day.
func parseDate(v string, num bool) (dateValue, bool) {
	v = strings.TrimSpace(fold(v))
	if m := dateTime.FindStringSubmatch(v); m != nil {
		v = strings.TrimSpace(m[1])
	}
	if num || digitsOnly(v) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return dateValue{}, false
		}
		n := int(f)
		switch s := strconv.Itoa(n); {
		case len(s) == 8 && f == math.Trunc(f):
			return checkDay(n/10000, n/100%100, n%100)
		case len(s) == 6 && f == math.Trunc(f):
			return checkMonth(n/100, n%100)
		case len(s) == 4 && n >= 1880 && n <= 2099:
			return dateValue{}, false // a year alone
		case len(s) == 5 || (num && len(s) < 5):
			d, ok := serialDate(n)
			return dateValue{d.Year, int(d.Month), d.Day}, ok
		}
		return dateValue{}, false
	}
	if m := dateYMD.FindStringSubmatch(v); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		return checkDay(y, mo, d)
	}
	if m := dateYM.FindStringSubmatch(v); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		return checkMonth(y, mo)
	}
	return dateValue{}, false
}

func checkMonth(y, m int) (dateValue, bool) {
	if y < 1880 || y > 2099 || m < 1 || m > 12 {
		return dateValue{}, false
	}
	return dateValue{y, m, 0}, true
}

func checkDay(y, m, d int) (dateValue, bool) {
	if _, ok := checkMonth(y, m); !ok {
		return dateValue{}, false
	}
	if _, err := age.ParseDate(fmt.Sprintf("%04d-%02d-%02d", y, m, d)); err != nil {
		return dateValue{}, false
	}
	return dateValue{y, m, d}, true
}

var yes = map[string]bool{
	"是": true, "有": true, "愿意": true, "同意": true, "√": true, "✓": true, "✔": true, "y": true, "yes": true, "true": true, "1": true, "在": true,
	"否": false, "无": false, "没有": false, "不是": false, "不愿意": false, "不同意": false, "×": false, "✗": false, "✘": false, "n": false, "no": false, "false": false, "0": false, "不在": false,
}

// readBool reads 是/否 and the usual other ways of saying it.
func readBool(v string) (bool, bool) {
	b, ok := yes[strings.ToLower(strings.TrimSpace(fold(v)))]
	return b, ok
}

// readAmount reads a monthly amount in yuan: "1250.5", "1,250.50元",
// "￥800"; 无, 没有 and a dash mean none (0).
// amountNoise is what people type around an amount: units and separators.
var amountNoise = strings.NewReplacer("元", "", "¥", "", "￥", "", ",", "", " ", "", "/月", "", "每月", "")

func readAmount(v string, num bool) (string, bool) {
	if num {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return v, false
		}
		return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64), true
	}
	s := strings.TrimSpace(fold(v))
	switch s {
	case "无", "没有", "-", "—", "/", "0":
		return "0", true
	}
	s = amountNoise.Replace(s)
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return v, false
	}
	return s, true
}

// splitters separate the answers of a multi-choice cell.
func splitMulti(v string) []string {
	return strings.FieldsFunc(fold(v), func(r rune) bool {
		switch r {
		case '、', ',', '，', ';', '；', '/', '|', '\n', ' ', '+':
			return true
		}
		return false
	})
}

// choiceSet is a question's answers with the comparable forms of every
// word that names one.
type choiceSet struct {
	list  []choice
	byKey map[string]string
}

func newChoiceSet(list []choice) *choiceSet {
	cs := &choiceSet{list: list, byKey: map[string]string{}}
	for _, c := range list {
		for _, w := range append([]string{c.code, c.label}, c.aliases...) {
			cs.byKey[key(w)] = c.code
		}
	}
	return cs
}

// choose finds the answer a word names, by code, label or alias.
func (cs *choiceSet) choose(word string) (string, bool) {
	code, ok := cs.byKey[key(word)]
	return code, ok
}

func (cs *choiceSet) labels() string {
	out := make([]string, len(cs.list))
	for i, c := range cs.list {
		out[i] = c.label
	}
	return strings.Join(out, "、")
}

// chooseMany reads a multi-choice cell. A label may itself hold a
// separator ("乡镇（街道）、村（社区）"), so runs of pieces are tried
// longest first. Unknown pieces come back in bad; "其他：…" gives its text.
func (cs *choiceSet) chooseMany(v string) (codes []string, other string, bad []string) {
	parts := splitMulti(v)
	for i := 0; i < len(parts); {
		if code, text, ok := otherPart(parts[i]); ok && cs.byKey[key(code)] == code {
			codes = append(codes, code)
			other = text
			i++
			continue
		}
		n := 0
		for j := len(parts); j > i; j-- {
			if code, ok := cs.choose(strings.Join(parts[i:j], "")); ok {
				codes = append(codes, code)
				n = j - i
				break
			}
		}
		if n == 0 {
			bad = append(bad, parts[i])
			n = 1
		}
		i += n
	}
	return codes, other, bad
}

// otherPart reads "其他：志愿者协会" as the answer other with its text.
func otherPart(p string) (string, string, bool) {
	for _, prefix := range []string{"其他:", "其它:", "其他（", "其他("} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			return "other", strings.TrimRight(strings.TrimSpace(rest), ")）"), true
		}
	}
	return "", "", false
}
