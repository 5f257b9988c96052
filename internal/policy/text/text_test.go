package text

import "testing"

// R-REC, DESIGN bad input: invisible and garbled characters are named;
// Chinese names with the middle dot, ordinary punctuation and line feeds
// where lines are allowed pass.
func TestProblem(t *testing.T) {
	for _, c := range []struct {
		in        string
		multiLine bool
		want      string
	}{
		{"阿依古丽·买买提", false, ""},
		{"王小明", false, ""},
		{"第一行\n第二行", true, ""},
		{"第一行\n第二行", false, "有不可见的控制字符（U+000A）"},
		{"王\u200f小明", false, "有不可见的控制字符（U+200F）"},
		{"王\u200b小明", false, "有不可见的控制字符（U+200B）"},
		{"好\u200d的", false, ""}, // the joiner builds emoji in free text
		{"\u202e明小王", false, "有不可见的控制字符（U+202E）"},
		{"王\u2066小明", false, "有不可见的控制字符（U+2066）"},
		{"\ufeff王小明", false, "有不可见的控制字符（U+FEFF）"},
		{"王\x7f小明", false, "有不可见的控制字符（U+007F）"},
		{"王\u0085小明", false, "有不可见的控制字符（U+0085）"},
		{"王\ufffd明", false, "有无法识别的乱码字符（�），可能是文件编码不对"},
	} {
		if got := Problem(c.in, c.multiLine); got != c.want {
			t.Errorf("Problem(%q, %v) = %q, want %q", c.in, c.multiLine, got, c.want)
		}
	}
}
