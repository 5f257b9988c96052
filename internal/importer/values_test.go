package importer

import (
	"strings"
	"testing"
)

// DOMAIN §2, R-REC: the date forms offices type for 出生年月 and 签字日期,
// and what Excel stores.
func TestParseDate(t *testing.T) {
	for _, c := range []struct {
		in   string
		num  bool
		want string
	}{
		{"1950-3", false, "1950-03"},
		{"1950年3月", false, "1950-03"},
		{"1950 年 3 月", false, "1950-03"},
		{"1950/03/01", false, "1950-03-01"},
		{"1950.3.1", false, "1950-03-01"},
		{"1950年3月1日", false, "1950-03-01"},
		{"１９５０－０３", false, "1950-03"},
		{"195003", false, "1950-03"},
		{"195003", true, "1950-03"},
		{"19500301", true, "1950-03-01"},
		{"18323", true, "1950-03-01"},
		{"18323", false, "1950-03-01"},
		{"1950-03-01 00:00:00", false, "1950-03-01"},
		{"45991", true, "2025-11-30"},
		{"59", true, "1900-02-28"},
		{"61", true, "1900-03-01"},
	} {
		d, ok := parseDate(c.in, c.num)
		if !ok || d.String() != c.want {
			t.Errorf("parseDate(%q, %v) = %v %v, want %s", c.in, c.num, d, ok, c.want)
		}
	}
	for _, bad := range []string{"", "1950", "1950-13", "1950-02-30", "三月", "60", "1879-01", "3/1/1950", "2024-02-29 25:99", "1950-03-01 12:60"} {
		if d, ok := parseDate(bad, bad == "60"); ok {
			t.Errorf("parseDate(%q) = %v, want failure", bad, d)
		}
	}
}

// DOMAIN §2: an ID number Excel stored as a number is never accepted with
// digits lost; 15-digit legacy numbers survive as numbers.
func TestReadID(t *testing.T) {
	for _, c := range []struct {
		in      string
		num     bool
		want    string
		problem string
	}{
		{"320706195003010233", false, "320706195003010233", ""},
		{"'320706195003010233", false, "320706195003010233", ""},
		{"3.20706E+17", false, "", "身份证号码被Excel存成了数字（3.20706E+17），后几位已丢失，请把该列设为文本后重新填写"},
		{"３.２０７０６Ｅ＋１７", false, "", "（3.20706E+17）"},
		{"3.20706199001011E+17", true, "", "（3.20706E+17），后几位已丢失"},
		{"320706199001011000", true, "", "（3.20706E+17），后几位已丢失"},
		{"320706450607123", true, "320706450607123", ""},
	} {
		got, problem := readID(c.in, c.num)
		if got != c.want || !strings.Contains(problem, c.problem) || (c.problem == "") != (problem == "") {
			t.Errorf("readID(%q, %v) = %q, %q; want %q, %q", c.in, c.num, got, problem, c.want, c.problem)
		}
	}
}

// R-REC: multi-choice answers with the usual separators, labels that hold
// a separator themselves, and "其他：…".
func TestChooseMany(t *testing.T) {
	for _, c := range []struct {
		in, want, other, bad string
	}{
		{"半失能、重病", "semi_disabled,severe_illness", "", ""},
		{"低保；居民养老保险", "dibao,resident_pension", "", ""},
		{"特困,低保 ， 低边", "tekun,dibao,dibao_edge", "", ""},
		{"机关、事业单位退休", "public_retired", "", ""},
		{"乡镇（街道）、村（社区）、志愿者", "town_village,volunteer", "", ""},
		{"社工;其他：老年协会", "social_worker,other", "老年协会", ""},
		{"低保、富裕", "dibao", "", "富裕"},
		// Only the help channels have an answer "other"; elsewhere it is
		// an unknown answer, named as the cell wrote it.
		{"低保、其他：私房钱", "dibao", "", "其他:私房钱"},
	} {
		var chs *choiceSet
		switch {
		case strings.Contains(c.want, "semi"):
			chs = bodyChoices
		case strings.Contains(c.want, "town_village"), strings.Contains(c.want, "social_worker"):
			chs = helpChoices
		default:
			chs = economicChoices
		}
		codes, other, bad := chs.chooseMany(c.in)
		if strings.Join(dedupe(codes), ",") != c.want || other != c.other || strings.Join(bad, ",") != c.bad {
			t.Errorf("chooseMany(%q) = %v %q %v", c.in, codes, other, bad)
		}
	}
}

func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if len(out) == 0 || out[len(out)-1] != v {
			out = append(out, v)
		}
	}
	return out
}

func TestBoolsAndAmounts(t *testing.T) {
	for in, want := range map[string]bool{"是": true, "否": false, "√": true, "×": false, "不愿意": false, "TRUE": true, "Ｙ": true} {
		if got, ok := readBool(in); !ok || got != want {
			t.Errorf("readBool(%q) = %v %v", in, got, ok)
		}
	}
	if _, ok := readBool("也许"); ok {
		t.Error("也许 read as yes or no")
	}
	for _, c := range []struct {
		in   string
		num  bool
		want string
	}{{"1,250.50元", false, "1250.50"}, {"无", false, "0"}, {"￥800", false, "800"}, {"1250.4999999", true, "1250.5"}} {
		if got, ok := readAmount(c.in, c.num); !ok || got != c.want {
			t.Errorf("readAmount(%q) = %q %v, want %q", c.in, got, ok, c.want)
		}
	}
}

// Header names compare tolerant of spaces, full-width forms, units and marks.
func TestHeaderFind(t *testing.T) {
	for in, want := range map[string]string{
		"姓　名": "name", " 身份证号码 ": "id_number", "身份证号码（必填）": "id_number", "月养老金（元）": "pension_monthly",
		"月养老金(元)": "pension_monthly", "村(居)": "village", "所属村居": "village", "第一联系人电话": "first_contact.phone",
		"村（居）指定联系人姓名": "village_contact.name", "ＩＤ": "",
	} {
		f, ok := rosterSpec.find(in)
		got := ""
		if ok {
			got = rosterSpec.fields[f].name
		}
		if got != want {
			t.Errorf("find(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAreaNames(t *testing.T) {
	for in, want := range map[string]string{"新坝村委会": "新坝", "新坝村": "新坝", "东园社区居委会": "东园", "东园社区": "东园", "新坝镇": "新坝", "海州区": "海州", "墟沟街道": "墟沟"} {
		if got := shortName(in); got != want {
			t.Errorf("shortName(%q) = %q, want %q", in, got, want)
		}
	}
}

// A problem repeats enough of a cell to find it, not a whole paste.
func TestProblemValueClipped(t *testing.T) {
	long := strings.Repeat("张", 5000)
	got := Problem{Row: 2, Column: "姓名", Value: long, Message: "姓名过长"}.clipped()
	if want := strings.Repeat("张", problemValueRunes) + "…（共5000字）"; got.Value != want || got.Message != "姓名过长" {
		t.Fatalf("clipped to %d bytes: %q…", len(got.Value), got.Value[:30])
	}
	if short := (Problem{Value: "张三"}).clipped(); short.Value != "张三" {
		t.Fatalf("a short value changed: %q", short.Value)
	}
}
