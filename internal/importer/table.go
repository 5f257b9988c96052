package importer

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// FileError is a problem with the file as a whole (not a table we can
// read, no header row), worded for the user.
type FileError struct{ Message string }

func (e *FileError) Error() string { return e.Message }

// source yields rows of cells with the row number the user sees.
type source interface {
	next() (int, []cell, error) // io.EOF at the end
	close() error
}

// csvRows reads a CSV file: UTF-8 with or without a byte-order mark, or
// GBK/GB18030 as Excel on a Chinese Windows saves it.
type csvRows struct{ r *csv.Reader }

func openCSV(data []byte) *csvRows {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	var rd io.Reader = bytes.NewReader(data)
	if !utf8.Valid(data) {
		rd = transform.NewReader(rd, simplifiedchinese.GB18030.NewDecoder())
	}
	r := csv.NewReader(rd)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	return &csvRows{r: r}
}

func (c *csvRows) next() (int, []cell, error) {
	rec, err := c.r.Read()
	if err != nil {
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		return 0, nil, &FileError{fmt.Sprintf("CSV文件格式有误：%v", err)}
	}
	line, _ := c.r.FieldPos(0)
	cells := make([]cell, min(len(rec), maxColumns))
	for i := range cells {
		cells[i] = cell{text: rec[i]}
	}
	return line, cells, nil
}

func (c *csvRows) close() error { return nil }

// table is a sheet with its header found: data rows come next.
type table struct {
	sp        *spec
	src       source
	headerRow int
	col       []int    // field index -> column, -1 when absent
	header    []string // field index -> header text as the file has it
	ignored   []string // headers not imported
	pending   []pendingRow
}

type pendingRow struct {
	num   int
	cells []cell
}

// headerScan is how many rows from the top may hold the title and header.
const headerScan = 20

// openTable finds, in the first sheet that has one, the header row of sp
// and returns the table positioned at the first data row.
func openTable(data []byte, sp *spec) (*table, error) {
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		book, err := openXLSX(data)
		if err != nil {
			return nil, &FileError{"无法读取该Excel文件，请确认是.xlsx格式且未加密"}
		}
		var firstErr error
		for i, sh := range book.sheets {
			if sh.hidden {
				continue
			}
			rows, err := book.rows(i)
			if err != nil {
				return nil, &FileError{"无法读取该Excel文件的工作表“" + sh.name + "”"}
			}
			t, err := findHeader(rows, sp)
			if err == nil {
				return t, nil
			}
			rows.close()
			if firstErr == nil {
				firstErr = err
			}
		}
		return nil, firstErr
	case bytes.HasPrefix(data, []byte("\xD0\xCF\x11\xE0")):
		return nil, &FileError{"不支持旧版Excel（.xls）文件，请在Excel中“另存为”.xlsx格式后再上传"}
	case len(data) == 0:
		return nil, &FileError{"上传的文件是空的"}
	}
	if bytes.IndexByte(data[:min(len(data), 4096)], 0) >= 0 {
		return nil, &FileError{"无法识别的文件格式，请上传.xlsx或.csv文件"}
	}
	return findHeader(openCSV(data), sp)
}

func findHeader(src source, sp *spec) (*table, error) {
	var head []pendingRow
	for len(head) < headerScan {
		num, cells, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		head = append(head, pendingRow{num, cells})
	}
	single := make([]int, len(head)+1)
	for i := range head {
		single[i] = sp.match(head[i].cells, nil).score()
	}
	// Two rows make a header only when together they name more columns
	// than either alone (a title row above a header adds nothing).
	best, bestScore, twoRows := -1, 0, false
	for i := range head {
		if n := single[i]; n > bestScore {
			best, bestScore, twoRows = i, n, false
		}
		if i+1 < len(head) && head[i+1].num == head[i].num+1 {
			n := sp.match(head[i].cells, head[i+1].cells).score()
			if n > bestScore && n > single[i+1] {
				best, bestScore, twoRows = i, n, true
			}
		}
	}
	if best < 0 || bestScore < sp.minColumns {
		return nil, &FileError{fmt.Sprintf("未找到表头：前%d行中没有“%s”等列名，请使用平台提供的模板，或检查列名", headerScan, sp.fields[sp.key].label)}
	}
	var lower []cell
	if twoRows {
		lower = head[best+1].cells
	}
	m := sp.match(head[best].cells, lower)
	if m.col[sp.key] < 0 {
		return nil, &FileError{fmt.Sprintf("表头中没有“%s”列", sp.fields[sp.key].label)}
	}
	skip := best + 1
	if twoRows {
		skip++
	}
	return &table{sp: sp, src: src, headerRow: head[best].num, col: m.col, header: m.header, ignored: m.ignored, pending: head[skip:]}, nil
}

// next returns the next data row; blank rows are skipped.
func (t *table) next() (int, []cell, error) {
	for {
		var num int
		var cells []cell
		if len(t.pending) > 0 {
			num, cells = t.pending[0].num, t.pending[0].cells
			t.pending = t.pending[1:]
		} else {
			var err error
			if num, cells, err = t.src.next(); err != nil {
				return 0, nil, err
			}
		}
		if !t.blank(cells) {
			return num, cells, nil
		}
	}
}

// blank reports whether a row has nothing in the columns we import (a row
// holding only a pre-printed 序号 is blank).
func (t *table) blank(cells []cell) bool {
	for f, c := range t.col {
		if c >= 0 && c < len(cells) && t.sp.fields[f].kind != kIgnored && clean(cells[c].text) != "" {
			return false
		}
	}
	return true
}

// value is the cleaned text of field f in a row, and whether Excel stored
// it as a number.
func (t *table) value(cells []cell, f int) (string, bool) {
	c := t.col[f]
	if c < 0 || c >= len(cells) {
		return "", false
	}
	return clean(cells[c].text), cells[c].num
}

func (t *table) has(f int) bool { return t.col[f] >= 0 }

func (t *table) close() error { return t.src.close() }

// clean trims white space of every kind (including the full-width space
// and non-breaking space Excel users paste in) and drops zero-width marks.
func clean(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' })
	if strings.ContainsAny(s, "\u200b\ufeff") {
		s = strings.NewReplacer("\u200b", "", "\ufeff", "").Replace(s)
	}
	return s
}

// fold turns full-width ASCII forms into half-width ones and the
// ideographic space into a plain space.
func fold(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= '！' && r <= '～' || r == '\u3000' }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '！' && r <= '～':
			r -= '！' - '!'
		case r == '\u3000':
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// key is the comparable form of a header or choice: full-width folded,
// lower case, letters and digits only, so "所属村（居）", "所属村(居)"
// and "所属 村居" compare equal.
func key(s string) string {
	s = fold(s)
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
