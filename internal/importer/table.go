package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
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
type csvRows struct {
	r        *csv.Reader
	gbk      bool // decoded as GB18030
	nearUTF8 bool // though its bytes are UTF-8 but for a few
}

var errEncoding = &FileError{"文件编码无法识别：请在Excel中另存为“CSV UTF-8”或GBK编码的CSV"}

func openCSV(data []byte) (*csvRows, error) {
	bom := bytes.HasPrefix(data, []byte("\xEF\xBB\xBF"))
	if bom {
		data = data[3:]
	}
	c := &csvRows{}
	var rd io.Reader = &csvLines{r: bytes.NewReader(data), line: 1}
	if !utf8.Valid(data) {
		// Guessing GBK for anything not UTF-8 read a UTF-8 file with one
		// stray byte as nonsense, reported as a missing header.
		bad, multi := utf8Faults(data)
		c.nearUTF8 = bad*4 <= multi
		if bom || !gbkPlausible(data) {
			return nil, errEncoding
		}
		c.gbk = true
		rd = transform.NewReader(rd, simplifiedchinese.GB18030.NewDecoder())
	}
	c.r = csv.NewReader(rd)
	c.r.FieldsPerRecord = -1
	c.r.LazyQuotes = true
	c.r.ReuseRecord = true
	return c, nil
}

// utf8Faults counts the bytes of data that are not UTF-8 and the
// characters beyond ASCII that are.
func utf8Faults(data []byte) (bad, multi int) {
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			bad++
		} else {
			multi++
		}
		i += n
	}
	return bad, multi
}

// gbkPlausible reports whether data is well-formed GB18030, of which GBK
// is a part (ASCII, two-byte pairs of lead 0x81–0xFE and trail 0x40–0xFE
// but 0x7F, four-byte sequences of lead, digit, lead, digit), and reads
// as Chinese: at least half of its characters beyond ASCII are among the
// common ones of GB2312 (both bytes 0xA1–0xFE), as in any roster, where
// accented Latin-1 letters followed by ASCII would make rare characters.
// A lone 0x80 is let through: it is the euro sign in Windows' code page 936.
func gbkPlausible(data []byte) bool {
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	common, rare := 0, 0
	for i := 0; i < len(data); {
		c := data[i]
		switch {
		case c < 0x80:
			i++
		case c == 0x80:
			i, rare = i+1, rare+1
		case c == 0xFF:
			return false
		case i+1 < len(data) && data[i+1] >= 0x40 && data[i+1] != 0x7F && data[i+1] != 0xFF:
			if c >= 0xA1 && data[i+1] >= 0xA1 {
				common++
			} else {
				rare++
			}
			i += 2
		case i+3 < len(data) && digit(data[i+1]) && data[i+2] >= 0x81 && data[i+2] <= 0xFE && digit(data[i+3]):
			i, rare = i+4, rare+1
		default:
			return false
		}
	}
	return common >= rare
}

func (c *csvRows) next() (int, []cell, error) {
	rec, err := c.r.Read()
	if err != nil {
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		var uq *unclosedQuote
		var pe *csv.ParseError
		switch {
		case errors.As(err, &uq):
			return 0, nil, &FileError{fmt.Sprintf("CSV第%d行的引号没有闭合，请检查该行", uq.line)}
		case errors.As(err, &pe):
			return 0, nil, &FileError{fmt.Sprintf("CSV第%d行格式有误，请检查该行", pe.StartLine)}
		}
		return 0, nil, &FileError{"CSV文件格式有误，请检查后再上传"}
	}
	line, _ := c.r.FieldPos(0)
	cells := make([]cell, min(len(rec), maxColumns))
	for i := range cells {
		cells[i] = cell{text: rec[i]}
	}
	return line, cells, nil
}

func (c *csvRows) close() error { return nil }

// csvLines passes a CSV file's bytes on with every line end as "\n", and
// follows its quoting to stop at a quoted field that is not closed.
//
// Old Mac Excel ended lines with a lone CR, which encoding/csv keeps as
// text; CRLF stays one line end, so line numbers agree with the file.
//
// With LazyQuotes (kept so that a bare quote inside an unquoted field,
// 张"三", reads as text) encoding/csv takes a quote inside a quoted field
// for text and reads on across line ends, so one unclosed quote swallows
// the rows after it. Here such a quote is an error naming the line the
// field starts on, as is a quoted field still open at the end.
//
// It works on the raw bytes: no byte of a UTF-8, GBK or GB18030 character
// beyond ASCII is a quote, comma, CR or LF.
type csvLines struct {
	r         io.Reader
	line      int // of the next byte
	afterCR   bool
	state     csvState
	quoteLine int // where the open quoted field starts
	err       error
}

type csvState uint8

const (
	fieldStart csvState = iota
	unquoted
	quoted
	quotedQuote // a quote in a quoted field: doubled or its end
)

// unclosedQuote is a quoted field starting on line that does not end
// where it should.
type unclosedQuote struct{ line int }

func (e *unclosedQuote) Error() string {
	return fmt.Sprintf("CSV: quoted field starting on line %d is not closed", e.line)
}

func (c *csvLines) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for {
		n, err := c.r.Read(p)
		j := 0
		for _, b := range p[:n] {
			if b == '\n' && c.afterCR {
				c.afterCR = false // the LF of a CRLF, passed on with the CR
				continue
			}
			c.afterCR = b == '\r'
			if b == '\r' {
				b = '\n'
			}
			switch c.state {
			case fieldStart:
				switch b {
				case '"':
					c.state, c.quoteLine = quoted, c.line
				case ',', '\n':
				default:
					c.state = unquoted
				}
			case unquoted:
				if b == ',' || b == '\n' {
					c.state = fieldStart
				}
			case quoted:
				if b == '"' {
					c.state = quotedQuote
				}
			case quotedQuote:
				switch b {
				case '"':
					c.state = quoted
				case ',', '\n':
					c.state = fieldStart
				default:
					c.err = &unclosedQuote{c.quoteLine}
					return j, c.err
				}
			}
			if b == '\n' {
				c.line++
			}
			p[j] = b
			j++
		}
		if err == io.EOF && c.state == quoted {
			c.err = &unclosedQuote{c.quoteLine}
			return j, c.err
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

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
			var fe *FileError
			if errors.As(err, &fe) {
				return nil, fe
			}
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
			if rows.err != nil {
				// A damaged sheet is reported, not passed over for the
				// next: that one is probably not the roster meant.
				return nil, err
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		if firstErr == nil {
			return nil, &FileError{"工作簿中没有可见的工作表，请取消隐藏后再上传"}
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
	c, err := openCSV(data)
	if err != nil {
		return nil, err
	}
	t, err := findHeader(c, sp)
	if err != nil && c.gbk && c.nearUTF8 {
		// A UTF-8 file with a stray byte or two, read as GBK: its header
		// is nonsense, and the encoding is what the user must fix.
		return nil, errEncoding
	}
	return t, err
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
