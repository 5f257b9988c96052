// Package mask hides personal data before it reaches a screen, a printout or
// an export (DOMAIN §7, GB/T 35273 §7.2, R-OVS-3), and normalises phone
// numbers so that masking and de-duplication see one form.
package mask

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// IDNumber keeps the first 6 and last 4 characters (320706********0016).
// Anything shorter than a 15-digit legacy number is starred out entirely,
// since 10 visible characters of a short string would reveal most of it.
func IDNumber(s string) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) < 15 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:6]) + strings.Repeat("*", len(r)-10) + string(r[len(r)-4:])
}

// Phone masks a mobile as 138****8000 and a landline as 0518-****2345.
// Input that is neither keeps at most its last 4 characters, and only when
// at least twice as many are hidden.
func Phone(s string) string {
	p, err := NormalizePhone(s)
	if err != nil {
		r := []rune(strings.TrimSpace(s))
		if len(r) < 12 {
			return strings.Repeat("*", len(r))
		}
		return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
	}
	if area, local, ok := strings.Cut(p, "-"); ok {
		return area + "-" + strings.Repeat("*", len(local)-4) + local[len(local)-4:]
	}
	return p[:3] + "****" + p[7:]
}

// Name shows only the surname's first character, plus the last character of
// a three-character name: 张*, 张*明, 欧***.
func Name(s string) string {
	r := []rune(strings.TrimSpace(s))
	switch len(r) {
	case 0:
		return ""
	case 1:
		return "*"
	case 3:
		return string(r[0]) + "*" + string(r[2])
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

const landlineHint = "固定电话应带区号，如0518-85812345"

// NormalizePhone accepts a mainland mobile number (optionally with +86, 86
// or 0086, spaces and dashes) or a landline with its area code, and returns
// 13800138000 or 0518-85812345.
func NormalizePhone(s string) (string, error) {
	var b []byte
	plus := false
	for _, r := range s {
		if r >= '！' && r <= '～' {
			r -= '！' - '!' // full-width forms typed with a Chinese IME
		}
		switch {
		case r >= '0' && r <= '9':
			b = append(b, byte(r))
		case unicode.IsSpace(r) || r == '-' || r == '(' || r == ')':
		case r == '+' && len(b) == 0 && !plus:
			plus = true
		default:
			return "", fmt.Errorf("联系电话中不能有“%c”，只能填数字、空格和短横线", r)
		}
	}
	d := string(b)
	if d == "" {
		return "", errors.New("未填写联系电话")
	}

	international := false
	switch {
	case plus:
		if !strings.HasPrefix(d, "86") {
			return "", errors.New("联系电话只支持中国大陆号码（+86）")
		}
		d, international = d[2:], true
	case strings.HasPrefix(d, "0086"):
		d, international = d[4:], true
	case len(d) == 13 && strings.HasPrefix(d, "861"):
		d = d[2:]
	}
	// Dialled from abroad, a landline drops the trunk 0 of its area code.
	if international && d != "" && d[0] != '1' && d[0] != '0' {
		d = "0" + d
	}
	if d == "" {
		return "", errors.New("未填写联系电话")
	}

	switch d[0] {
	case '1':
		if len(d) != 11 {
			return "", fmt.Errorf("手机号码应为11位数字，现为%d位", len(d))
		}
		if d[1] < '3' {
			return "", fmt.Errorf("手机号码%s无效：第二位应为3至9", d)
		}
		return d, nil
	case '0':
		// 010 and 02x are the 3-digit area codes; all others have 4 digits.
		area := 4
		if len(d) > 1 && (d[1] == '1' || d[1] == '2') {
			area = 3
		}
		if len(d) < area+7 || len(d) > area+8 || d[1] == '0' || d[area] == '0' || d[area] == '1' {
			return "", errors.New("固定电话号码无效：" + landlineHint)
		}
		return d[:area] + "-" + d[area:], nil
	}
	if len(d) == 7 || len(d) == 8 {
		return "", errors.New(landlineHint)
	}
	return "", fmt.Errorf("手机号码应为11位数字（以1开头），%s；现为%d位", landlineHint, len(d))
}
