package importer

import "strings"

// kind says how a column's cells are read.
type kind int

const (
	kText      kind = iota
	kID             // resident ID number (Excel damage checked)
	kPhone          // phone number
	kDate           // a full date
	kYearMonth      // 出生年月: a month, or a full date
	kBool           // 是/否
	kGender         // 男/女
	kChoice         // one of choices
	kMulti          // any of choices, separated by 、，,;；
	kAmount         // yuan, "无" for none
	kAmounts        // 月养老金/社会救助/福利补贴 in one cell: three amounts
	kAreaCode       // 12-digit village (or 15-digit grid) code
	kCounty         // area names, read together
	kTown
	kVillage
	kCert    // disability certificate number
	kInt     // a small whole number (category, grade)
	kIgnored // known column that is not imported (序号, 年龄 …)
)

// choice is an answer with the words people type for it.
type choice struct {
	code    string
	label   string
	aliases []string
}

// field is one column an import understands.
type field struct {
	name    string // stable name; registry JSON field name where there is one
	label   string // header in the template
	aliases []string
	kind    kind
	choices *choiceSet
	hint    string // how to fill it in, for the template's notes
}

// spec is the set of columns of one kind of file.
type spec struct {
	fields     []field
	lookup     map[string]int // key of label or alias -> field
	key        int            // the column every file must have
	minColumns int            // a header row has at least this many known columns
}

func newSpec(fields []field, keyName string, minColumns int) *spec {
	sp := &spec{fields: fields, lookup: map[string]int{}, key: -1, minColumns: minColumns}
	for i, f := range fields {
		for _, a := range append([]string{f.label}, f.aliases...) {
			k := key(a)
			if prev, dup := sp.lookup[k]; dup && prev != i {
				panic("importer: header " + a + " names two fields")
			}
			sp.lookup[k] = i
		}
		if f.name == keyName {
			sp.key = i
		}
	}
	if sp.key < 0 {
		panic("importer: no key field " + keyName)
	}
	return sp
}

func (sp *spec) index(name string) int {
	for i, f := range sp.fields {
		if f.name == name {
			return i
		}
	}
	panic("importer: no field " + name)
}

// find matches one header text; "（元）" units and "必填" marks may follow.
func (sp *spec) find(header string) (int, bool) {
	k := key(header)
	if k == "" {
		return 0, false
	}
	for _, v := range []string{k, strings.TrimSuffix(k, "必填"), strings.TrimSuffix(k, "选填")} {
		if i, ok := sp.lookup[v]; ok {
			return i, true
		}
		if i, ok := sp.lookup[strings.TrimSuffix(v, "元")]; ok {
			return i, true
		}
	}
	return 0, false
}

type headerMatch struct {
	sp      *spec
	col     []int
	header  []string
	ignored []string
}

// score is how many known columns matched; a row without the key column
// is no header.
func (m headerMatch) score() int {
	if m.col[m.sp.key] < 0 {
		return 0
	}
	n := 0
	for f, c := range m.col {
		if c >= 0 && m.sp.fields[f].kind != kIgnored {
			n++
		}
	}
	return n
}

// match reads a header of one row (lower nil) or two. With two rows a
// group label above ("第一联系人", merged across its columns, so only its
// first cell has text) joins each label below it ("姓名" → "第一联系人姓名");
// a label merged down across both rows stands alone.
func (sp *spec) match(upper, lower []cell) headerMatch {
	m := headerMatch{sp: sp, col: make([]int, len(sp.fields)), header: make([]string, len(sp.fields))}
	for i := range m.col {
		m.col[i] = -1
	}
	n := max(len(upper), len(lower))
	group := ""
	for c := 0; c < n; c++ {
		u, l := cellText(upper, c), cellText(lower, c)
		if u != "" {
			group = u
		}
		var cands []string
		switch {
		case lower == nil || l == "":
			cands = []string{u}
		case u != "":
			cands = []string{u + l, l, u}
		default:
			cands = []string{group + l, l}
		}
		matched, named := false, ""
		for _, h := range cands {
			if h == "" {
				continue
			}
			if named == "" {
				named = h
			}
			f, ok := sp.find(h)
			if !ok {
				continue
			}
			if m.col[f] >= 0 {
				matched = matched || sp.fields[f].kind == kIgnored
				continue
			}
			m.col[f], m.header[f], matched = c, h, true
			break
		}
		if !matched && named != "" {
			m.ignored = append(m.ignored, named)
		}
	}
	return m
}

func cellText(cells []cell, i int) string {
	if i < len(cells) {
		return clean(cells[i].text)
	}
	return ""
}
