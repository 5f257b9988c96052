package idcard

import (
	"errors"
	"strings"
	"testing"
)

// DOMAIN §1.5 and §2: category, grade and 重残 from each certificate digit.
func TestParseDisabilityCategoriesAndGrades(t *testing.T) {
	const id = "11010519491231002X"
	names := []string{"视力", "听力", "言语", "肢体", "智力", "精神", "多重"}
	for cat := 1; cat <= 7; cat++ {
		for grade := 1; grade <= 4; grade++ {
			in := id + string(rune('0'+cat)) + string(rune('0'+grade))
			d, err := ParseDisability(in, id)
			if err != nil {
				t.Fatalf("ParseDisability(%s): %v", in, err)
			}
			want := Disability{
				Raw:          in,
				IDNumber:     id,
				Category:     cat,
				CategoryName: names[cat-1],
				Grade:        grade,
				Severe:       grade <= 2,
			}
			if d != want {
				t.Errorf("ParseDisability(%s) = %+v, want %+v", in, d, want)
			}
		}
	}
}

// DOMAIN §2: normalisation, reissue suffix kept, elder match optional.
func TestParseDisabilityAccepted(t *testing.T) {
	cases := []struct {
		name, in, elder, raw, suffix string
	}{
		{"lower-case x", "11010519491231002x41", "", "11010519491231002X41", ""},
		{"full-width and spaces", " １１０１０５１９４９１２３１００２Ｘ ４１ ", "11010519491231002X", "11010519491231002X41", ""},
		{"reissue suffix", "11010519491231002X41B1", "11010519491231002X", "11010519491231002X41B1", "B1"},
		{"lower-case suffix", "11010519491231002X41b12", "", "11010519491231002X41B12", "B12"},
		{"elder given as 15 digits", "11010519491231002X41", "110105491231002", "11010519491231002X41", ""},
	}
	for _, c := range cases {
		d, err := ParseDisability(c.in, c.elder)
		if err != nil {
			t.Errorf("%s: ParseDisability(%q): %v", c.name, c.in, err)
			continue
		}
		if d.Raw != c.raw || d.Suffix != c.suffix || d.IDNumber != "11010519491231002X" || d.Category != 4 || d.Grade != 1 || !d.Severe {
			t.Errorf("%s: got %+v", c.name, d)
		}
	}
}

func TestParseDisabilityRejected(t *testing.T) {
	cases := []struct {
		name, in, elder, code, msg string
	}{
		{"18 characters only", "11010519491231002X", "", CodeLength, "残疾人证号码应为20位，现为18位"},
		{"21 digits", "11010519491231002X411", "", CodeLength, "补发证可带B1等后缀"},
		{"bad suffix", "11010519491231002X41补发", "", CodeLength, "现为22位"},
		{"category 8", "11010519491231002X81", "", CodeCategory, "残疾人证号码第19位是残疾类别，应为1至7，现为“8”"},
		{"category 0", "11010519491231002X01", "", CodeCategory, "现为“0”"},
		{"grade 5", "11010519491231002X45", "", CodeGrade, "残疾人证号码第20位是残疾等级，应为1至4，现为“5”"},
		{"grade 0", "11010519491231002X40", "", CodeGrade, "现为“0”"},
		{"ID check fails", "11010519491231002141", "", CodeCheck, "残疾人证号码中的身份证号码校验位错误"},
		{"ID date bad", withCheck("11010519491331002") + "41", "", CodeDate, "残疾人证号码中的身份证号码中的出生日期19491331无效"},
		{"letter in category", "11010519491231002XA1", "", CodeCategory, "现为“A”"},
		{"other elder", "11010519491231002X41", "440524188001010014", CodeMismatch, "残疾人证号码前18位与老人的身份证号码不一致"},
		{"elder ID invalid", "11010519491231002X41", "110105194912310021", CodeCheck, "老人的身份证号码校验位错误"},
	}
	for _, c := range cases {
		_, err := ParseDisability(c.in, c.elder)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: ParseDisability(%q) error = %v, want *Error", c.name, c.in, err)
			continue
		}
		if e.Code != c.code || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got {%s %s}, want code %s containing %q", c.name, e.Code, err, c.code, c.msg)
		}
	}
}
