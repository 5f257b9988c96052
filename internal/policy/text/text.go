// Package text says which characters have no place in what people type
// into the registry and visit records (DESIGN "bad input gets a clear
// error"): text pasted from other systems brings invisible controls,
// direction marks that make a name show other than it reads, and the
// replacement character that a wrong encoding leaves behind.
package text

import "fmt"

// Problem names the first character of s that has no place in typed
// text, as a phrase for a message ("有不可见的控制字符（U+200F）"), or ""
// when there is none. A line feed is allowed where lines are.
func Problem(s string, multiLine bool) string {
	for _, r := range s {
		switch {
		case r == '\n' && multiLine:
		case r == '\uFFFD':
			return "有无法识别的乱码字符（�），可能是文件编码不对"
		case r < 0x20, r >= 0x7f && r <= 0x9f, // C0 and C1 controls, DEL
			r == 0x200b, r == 0x200c, r == 0x200e, r == 0x200f, // zero-width space and non-joiner, direction marks (the joiner builds emoji)
			r >= 0x202a && r <= 0x202e, // direction embeddings and overrides
			r >= 0x2060 && r <= 0x2069, // word joiner, invisible operators, isolates
			r == 0x061c, r == 0xfeff:   // Arabic letter mark, zero-width no-break space
			return fmt.Sprintf("有不可见的控制字符（U+%04X）", r)
		}
	}
	return ""
}
