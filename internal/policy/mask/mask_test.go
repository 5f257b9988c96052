package mask

import (
	"strings"
	"testing"
)

// DOMAIN §7, R-OVS-3: ID numbers show first 6 and last 4 at most.
func TestIDNumber(t *testing.T) {
	cases := []struct{ in, want string }{
		{"320706194612030016", "320706********0016"},
		{"11010519491231002X", "110105********002X"},
		{" 11010519491231002X ", "110105********002X"},
		{"110105491231002", "110105*****1002"},           // 15-digit legacy
		{"11010519491231002X41", "110105**********2X41"}, // disability certificate
		{"11010519491231", "**************"},             // too short to show anything
		{"1234", "****"},
		{"", ""},
		{"身份证号码未知", "*******"},
	}
	for _, c := range cases {
		if got := IDNumber(c.in); got != c.want {
			t.Errorf("IDNumber(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// No mask may show more than 10 characters of the original.
func TestIDNumberNeverShowsMoreThanTen(t *testing.T) {
	for n := 0; n <= 30; n++ {
		in := strings.Repeat("7", n)
		if shown := strings.Count(IDNumber(in), "7"); shown > 10 || (n < 15 && shown > 0) {
			t.Errorf("IDNumber of %d characters shows %d", n, shown)
		}
	}
}

// DOMAIN §7: phone 138****8000; landlines keep the area code and last 4.
func TestPhone(t *testing.T) {
	cases := []struct{ in, want string }{
		{"13800138000", "138****8000"},
		{"138 0013 8000", "138****8000"},
		{"+86 138-0013-8000", "138****8000"},
		{"0518-85812345", "0518-****2345"},
		{"0518 8581 2345", "0518-****2345"},
		{"010-62345678", "010-****5678"},
		{"0518-8581234", "0518-***1234"},
		{"12345", "*****"},                         // not a phone, too short to show
		{"1380013800", "**********"},               // 10 digits: nothing shown
		{"13800138000 转 801", "************* 801"}, // long junk: last 4 only
		{"", ""},
	}
	for _, c := range cases {
		if got := Phone(c.in); got != c.want {
			t.Errorf("Phone(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// DOMAIN §7: name 张*; works on characters, not bytes.
func TestName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"张明", "张*"},
		{"张晓明", "张*明"},
		{"欧阳晓明", "欧***"},
		{"买买提·艾力", "买*****"},
		{" 李四 ", "李*"},
		{"王", "*"},
		{"", ""},
		{"Li", "L*"},
	}
	for _, c := range cases {
		if got := Name(c.in); got != c.want {
			t.Errorf("Name(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// R-REC: contact numbers are stored in one form.
func TestNormalizePhone(t *testing.T) {
	ok := []struct{ in, want string }{
		{"13800138000", "13800138000"},
		{" 138 0013 8000 ", "13800138000"},
		{"138-0013-8000", "13800138000"},
		{"+8613800138000", "13800138000"},
		{"+86 138 0013 8000", "13800138000"},
		{"8613800138000", "13800138000"},
		{"008613800138000", "13800138000"},
		{"１３８００１３８０００", "13800138000"},
		{"19912345678", "19912345678"},
		{"0518-85812345", "0518-85812345"},
		{"0518 8581 2345", "0518-85812345"},
		{"051885812345", "0518-85812345"},
		{"(0518)85812345", "0518-85812345"},
		{"0518-8581234", "0518-8581234"},
		{"010-62345678", "010-62345678"},
		{"025 8765 4321", "025-87654321"},
		{"+86 518 8581 2345", "0518-85812345"},
	}
	for _, c := range ok {
		got, err := NormalizePhone(c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}

	bad := []struct{ in, msg string }{
		{"", "未填写联系电话"},
		{" - ", "未填写联系电话"},
		{"1380013800", "手机号码应为11位数字，现为10位"},
		{"138001380001", "手机号码应为11位数字，现为12位"},
		{"12012345678", "第二位应为3至9"},
		{"85812345", "固定电话应带区号"},
		{"8581234", "固定电话应带区号"},
		{"0518-858123", "固定电话号码无效"},
		{"0518-858123456", "固定电话号码无效"},
		{"0518-05812345", "固定电话号码无效"},
		{"0018-85812345", "固定电话号码无效"},
		{"+1 650 555 0100", "只支持中国大陆号码"},
		{"138a0013800", "联系电话中不能有“a”"},
		{"13800138000 转 801", "联系电话中不能有“转”"},
		{"1+3800138000", "联系电话中不能有“+”"},
		{"923456789", "手机号码应为11位数字（以1开头）"},
		{"23456789012", "现为11位"},
	}
	for _, c := range bad {
		got, err := NormalizePhone(c.in)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("NormalizePhone(%q) = %q, %v; want error containing %q", c.in, got, err, c.msg)
		}
	}
}
