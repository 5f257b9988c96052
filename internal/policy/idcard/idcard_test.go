package idcard

import (
	"errors"
	"strings"
	"testing"
	"time"

	"tanfang/internal/policy/age"
)

func date(t testing.TB, s string) age.Date {
	t.Helper()
	d, err := age.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// withCheck puts the right check character on a 17-digit prefix, so tests
// can build valid numbers without hard-coding them.
func withCheck(first17 string) string { return first17 + string(CheckChar(first17)) }

// DOMAIN §2: worked examples of GB 11643 and the ISO 7064 MOD 11-2 check.
func TestCheckChar(t *testing.T) {
	cases := []struct {
		first17 string
		want    byte
	}{
		{"11010519491231002", 'X'},
		{"44052418800101001", '4'},
		{"1101051949123100", 0},   // 16 digits
		{"1101051949123100A", 0},  // not a digit
		{"110105194912310021", 0}, // 18 characters
	}
	for _, c := range cases {
		if got := CheckChar(c.first17); got != c.want {
			t.Errorf("CheckChar(%q) = %q, want %q", c.first17, got, c.want)
		}
	}
}

// DOMAIN §2, R-REC: accepted numbers, normalisation, derived birth and sex.
func TestParseValid(t *testing.T) {
	cases := []struct {
		name, in, value, birth string
		female, permit, from15 bool
	}{
		{"standard female", "11010519491231002X", "11010519491231002X", "1949-12-31", true, false, false},
		{"standard male", "440524188001010014", "440524188001010014", "1880-01-01", false, false, false},
		{"lower-case x", "11010519491231002x", "11010519491231002X", "1949-12-31", true, false, false},
		{"full-width", "１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", "1949-12-31", true, false, false},
		{"full-width lower x", "１１０１０５１９４９１２３１００２ｘ", "11010519491231002X", "1949-12-31", true, false, false},
		{"spaces", "  110105 19491231 002X\t", "11010519491231002X", "1949-12-31", true, false, false},
		{"ideographic space", "110105　19491231　002X", "11010519491231002X", "1949-12-31", true, false, false},
		{"leap day 2000", withCheck("32070620000229001"), withCheck("32070620000229001"), "2000-02-29", false, false, false},
		{"leap day 1948", withCheck("32070619480229002"), withCheck("32070619480229002"), "1948-02-29", true, false, false},
		{"15-digit female", "110105491231002", "11010519491231002X", "1949-12-31", true, false, true},
		{"15-digit male", "440524460203015", withCheck("44052419460203015"), "1946-02-03", false, false, true},
		{"15-digit spaced", " 440524 460203 015 ", withCheck("44052419460203015"), "1946-02-03", false, false, true},
		{"Hong Kong permit", withCheck("81000019500101003"), withCheck("81000019500101003"), "1950-01-01", false, true, false},
		{"Macau permit", withCheck("82000019520615004"), withCheck("82000019520615004"), "1952-06-15", true, true, false},
		{"Taiwan permit", withCheck("83000019400920005"), withCheck("83000019400920005"), "1940-09-20", false, true, false},
		{"retired region code", withCheck("32070319450101001"), withCheck("32070319450101001"), "1945-01-01", false, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := Parse(c.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.in, err)
			}
			want := Number{
				Value:           c.value,
				Birth:           date(t, c.birth),
				Female:          c.female,
				Region:          c.value[:6],
				ResidencePermit: c.permit,
				UpgradedFrom15:  c.from15,
			}
			if n != want {
				t.Errorf("Parse(%q) = %+v, want %+v", c.in, n, want)
			}
		})
	}
}

// DOMAIN §2: everything else is rejected with a code and a Chinese message.
func TestParseInvalid(t *testing.T) {
	cases := []struct {
		name, in, code, msg string
	}{
		{"empty", "", CodeLength, "未填写身份证号码"},
		{"only spaces", "   ", CodeLength, "未填写身份证号码"},
		{"17 digits", "11010519491231002", CodeLength, "身份证号码应为18位（或15位旧号码），现为17位"},
		{"19 digits", "11010519491231002X1", CodeLength, "身份证号码应为18位（或15位旧号码），现为19位"},
		{"16 digits", "1101051949123100", CodeLength, "现为16位"},
		{"Chinese characters counted as characters", "身份证11010519491231", CodeLength, "现为17位"},
		{"letter inside", "1101A519491231002X", CodeChars, "身份证号码第5位“A”不是数字"},
		{"X inside", "1101051949123100X2", CodeChars, "身份证号码第17位“X”不是数字"},
		{"other letter last", "11010519491231002Y", CodeChars, "身份证号码第18位“Y”应为数字或X"},
		{"dash", "110105-19491231002", CodeChars, "第7位“-”不是数字"},
		{"15-digit with X", "11010549123100X", CodeChars, "15位旧身份证号码第15位“X”不是数字"},
		{"month 13", withCheck("11010519491331002"), CodeDate, "身份证号码中的出生日期19491331无效"},
		{"Feb 30", withCheck("11010519500230002"), CodeDate, "出生日期19500230无效"},
		{"1900-02-29", withCheck("11010519000229002"), CodeDate, "出生日期19000229无效"},
		{"day 00", withCheck("11010519500100002"), CodeDate, "出生日期19500100无效"},
		{"before 1880", withCheck("11010518791231002"), CodeDate, "早于1880年"},
		{"15-digit bad date", "110105491331002", CodeDate, "出生日期19491331无效"},
		{"wrong check", "110105194912310021", CodeCheck, "身份证号码校验位错误，请核对号码"},
		{"wrong check X", "44052418800101001X", CodeCheck, "身份证号码校验位错误，请核对号码"},
		{"typo in sequence", "11010519491231012X", CodeCheck, "校验位错误"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.in)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error = %v, want *Error", c.in, err)
			}
			if e.Code != c.code || !strings.Contains(e.Message, c.msg) {
				t.Errorf("Parse(%q) = {%s %s}, want code %s containing %q", c.in, e.Code, e.Message, c.code, c.msg)
			}
		})
	}
}

// DOMAIN §2: the county part of the address code is never checked against
// today's divisions, but the first two digits must be a province-level
// code: 11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71, and 81–83 for
// residence permits.
func TestParseRegion(t *testing.T) {
	valid := []string{"11", "15", "21", "23", "31", "32", "37", "41", "46", "50", "54", "61", "65", "71", "81", "82", "83"}
	invalid := []string{"00", "10", "16", "19", "20", "24", "30", "38", "40", "47", "49", "55", "60", "66", "70", "72", "80", "84", "90", "91", "99"}
	for _, p := range valid {
		in := withCheck(p + "070319450101001")
		if _, err := Parse(in); err != nil {
			t.Errorf("Parse(%s): %v", in, err)
		}
	}
	for _, p := range invalid {
		for _, in := range []string{withCheck(p + "070319450101001"), p + "0703450101001"} {
			_, err := Parse(in)
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeRegion || e.Message != "身份证号码前两位（省级代码）"+p+"不存在" {
				t.Errorf("Parse(%s) = %v, want region error naming %s", in, err, p)
			}
		}
	}
	// The disability certificate carries the same check on its ID part.
	if _, err := ParseDisability(withCheck("91070319450101001")+"41", ""); err == nil || !strings.Contains(err.Error(), "省级代码") {
		t.Errorf("ParseDisability with region 91: %v", err)
	}
}

// The check error must not reveal the expected character: a user could copy
// it and make a mistyped number pass (DOMAIN §2).
func TestCheckErrorHidesCheckChar(t *testing.T) {
	for _, in := range []string{"110105194912310021", "110105194912310022", "440524188001010015"} {
		_, err := Parse(in)
		if err == nil {
			t.Fatalf("Parse(%q) accepted", in)
		}
		want := string(CheckChar(in[:17]))
		if strings.Contains(err.Error(), want) {
			t.Errorf("error %q reveals check character %s", err, want)
		}
	}
}

// DOMAIN §2: future birth dates are rejected once today is known.
func TestParseAtFuture(t *testing.T) {
	today := date(t, "2026-12-07")
	cases := []struct {
		birth string
		ok    bool
	}{
		{"20261206", true},
		{"20261207", true}, // born today
		{"20261208", false},
		{"20270101", false},
	}
	for _, c := range cases {
		in := withCheck("320706" + c.birth + "001")
		_, err := ParseAt(in, today)
		if c.ok && err != nil {
			t.Errorf("ParseAt(%s): %v", in, err)
		}
		if !c.ok {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeFuture {
				t.Errorf("ParseAt(%s) = %v, want future error", in, err)
			}
		}
		if _, err := Parse(in); err != nil {
			t.Errorf("Parse(%s) without today: %v", in, err)
		}
	}
}

// R-REC: typed birth date and sex must agree with the number.
func TestCheckAgainst(t *testing.T) {
	n, err := Parse("11010519491231002X")
	if err != nil {
		t.Fatal(err)
	}
	d := func(s string) *age.Date { v := date(t, s); return &v }
	b := func(v bool) *bool { return &v }
	cases := []struct {
		name   string
		birth  *age.Date
		female *bool
		want   string // empty: no error
	}{
		{"nothing typed", nil, nil, ""},
		{"zero date means untyped", &age.Date{}, nil, ""},
		{"both agree", d("1949-12-31"), b(true), ""},
		{"birth differs", d("1950-01-01"), nil, "填写的出生日期1950-01-01与身份证号码中的1949-12-31不一致"},
		{"sex differs", nil, b(false), "填写的性别男与身份证号码中的女不一致"},
		{"both differ", d("1949-12-30"), b(false), "填写的出生日期1949-12-30与身份证号码中的1949-12-31不一致；填写的性别男与身份证号码中的女不一致"},
	}
	for _, c := range cases {
		err := CheckAgainst(n, c.birth, c.female)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeMismatch || e.Message != c.want {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

func TestSynthetic(t *testing.T) {
	birth := age.Date{Year: 1946, Month: time.December, Day: 3}
	seen := map[string]bool{}
	for seq := -3; seq < 600; seq++ {
		for _, female := range []bool{false, true} {
			v := Synthetic("320706", birth, female, seq)
			n, err := Parse(v)
			if err != nil {
				t.Fatalf("Synthetic(seq %d, female %v) = %s: %v", seq, female, v, err)
			}
			if n.Birth != birth || n.Female != female || n.Region != "320706" {
				t.Fatalf("Synthetic(seq %d, female %v) parsed as %+v", seq, female, n)
			}
			if seq >= 0 && seq < 500 {
				if seen[v] {
					t.Fatalf("Synthetic repeated %s within 500 sequences", v)
				}
				seen[v] = true
			}
		}
	}
}

func TestSyntheticPanicsOnBadInput(t *testing.T) {
	cases := []struct {
		region string
		birth  age.Date
	}{
		{"32070", age.Date{Year: 1950, Month: 1, Day: 1}},
		{"32070A", age.Date{Year: 1950, Month: 1, Day: 1}},
		{"320706", age.Date{Year: 1950, Month: 2, Day: 30}},
		{"320706", age.Date{Year: 1870, Month: 1, Day: 1}},
		{"910000", age.Date{Year: 1950, Month: 1, Day: 1}},
	}
	for _, c := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Synthetic(%q, %v) did not panic", c.region, c.birth)
				}
			}()
			Synthetic(c.region, c.birth, false, 1)
		}()
	}
}

// Parse must never panic, and whatever it accepts is its own normal form.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "440524188001010014", "110105194912310021",
		"１１０１０５１９４９１２３１００２Ｘ", "110105491231002", " 11010519491231002x ",
		"", "X", "身份证", withCheck("81000019500101003"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Message == "" {
				t.Fatalf("Parse(%q) error %v is not a described *Error", s, err)
			}
			return
		}
		if len(n.Value) != 18 {
			t.Fatalf("Parse(%q).Value = %q", s, n.Value)
		}
		again, err := Parse(n.Value)
		if err != nil {
			t.Fatalf("Parse(%q) accepted, but its value %q is rejected: %v", s, n.Value, err)
		}
		n.UpgradedFrom15 = false
		if again != n {
			t.Fatalf("re-parse of %q: %+v, want %+v", n.Value, again, n)
		}
	})
}
