package importer

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A small streaming reader of .xlsx worksheets. excelize's row iterator
// gives only cell text, and an import must know whether Excel stored an
// ID number as a number (and so dropped its last digits) or as text; the
// cell type is in the sheet XML, so the sheet is read here token by token.
// Memory is the shared-string table plus one row.

// cell is one cell's content: text as stored, and whether Excel stored it
// as a number (a date is a number too).
type cell struct {
	text string
	num  bool
}

// Limits against zip bombs and files no office would send. The roster of
// BenchmarkImport100k as excelize's stream writer saves it (23 columns,
// inline strings) has 129 MB of worksheet XML at 100,000 rows and 260 MB
// at 200,000 (MaxRows); saved with shared strings, 20,000 of its rows have
// 16 MB of worksheet and 2.2 MB of shared strings, so 22 MB at MaxRows.
// The bounds on parts are four and ten times those, and the book's budget
// keeps sheets searched for a header from adding up past one such file.
const (
	maxSheetXML      = 1 << 30                    // uncompressed worksheet XML
	maxSharedXML     = 256 << 20                  // uncompressed shared strings
	maxBookXML       = maxSheetXML + maxSharedXML // every part the streaming reader reads
	maxSharedStrings = 1 << 23                    // entries, 4 bytes each besides their text
	maxSheetRows     = 1 << 20                    // Excel's own limit, 1,048,576 rows
	maxCellChars     = 32767                      // Excel's own limit on a cell's text
	maxColumns       = 200
)

type xlsxSheet struct {
	name   string
	path   string
	hidden bool
}

type xlsxBook struct {
	zr     *zip.Reader
	shared sharedStrings
	sheets []xlsxSheet
	budget int64 // uncompressed bytes the parts still to be read may have
}

// sharedStrings is the shared-string table as one string and where each
// entry ends in it: a string header per entry would take more memory than
// a roster's short texts do.
type sharedStrings struct {
	text string
	ends []uint32
}

func (s *sharedStrings) get(i int) (string, bool) {
	if i < 0 || i >= len(s.ends) {
		return "", false
	}
	from := uint32(0)
	if i > 0 {
		from = s.ends[i-1]
	}
	return s.text[from:s.ends[i]], true
}

var (
	errNotXLSX     = errors.New("not an xlsx workbook")
	errPartSize    = errors.New("xlsx part larger than allowed")
	errCellTooLong = fmt.Errorf("cell text longer than %d characters", maxCellChars)
)

// Messages for limits a workbook passes, in the user's words.
var (
	errSharedTooLarge = &FileError{"Excel文件解压后过大（共享文字超过256MB），无法导入，请删除多余的内容后另存再上传"}
	errSharedTooLong  = &FileError{fmt.Sprintf("Excel文件中有文字超过单元格的上限（%d个字符），请检查后另存再上传", maxCellChars)}
	errSharedTooMany  = &FileError{fmt.Sprintf("Excel文件中不同的文字超过%d条，无法导入，请删除多余的内容或拆分后再上传", maxSharedStrings)}
)

func openXLSX(data []byte) (*xlsxBook, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, errNotXLSX
	}
	b := &xlsxBook{zr: zr, budget: maxBookXML}
	rels, err := b.rels("xl/_rels/workbook.xml.rels")
	if err != nil {
		return nil, errNotXLSX
	}
	if err := b.readWorkbook(rels); err != nil {
		return nil, err
	}
	sharedPath := "xl/sharedStrings.xml"
	for _, r := range rels {
		if strings.HasSuffix(r.kind, "/sharedStrings") {
			sharedPath = r.target
		}
	}
	if err := b.readShared(sharedPath); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *xlsxBook) open(name string) (io.ReadCloser, error) {
	for _, f := range b.zr.File {
		if f.Name == name || strings.EqualFold(f.Name, name) {
			return f.Open()
		}
	}
	return nil, missingPart(name)
}

// part bounds a part's reader by limit and the book's budget.
func (b *xlsxBook) part(rc io.Reader, limit int64) io.Reader {
	return &partReader{r: rc, left: limit, book: &b.budget}
}

// partReader reads a part up to its bounds and then fails, rather than
// end early: a part cut off at the bound must not read as a whole one.
type partReader struct {
	r    io.Reader
	left int64
	book *int64
}

func (p *partReader) Read(b []byte) (int, error) {
	limit := min(p.left, *p.book)
	if limit <= 0 {
		// At the bound: any more is too much.
		var one [1]byte
		n, err := io.ReadFull(p.r, one[:])
		if n > 0 {
			return 0, errPartSize
		}
		return 0, err
	}
	if int64(len(b)) > limit {
		b = b[:limit]
	}
	n, err := p.r.Read(b)
	p.left -= int64(n)
	*p.book -= int64(n)
	return n, err
}

type missingPart string

func (e missingPart) Error() string { return "xlsx part missing: " + string(e) }

type rel struct{ id, kind, target string }

// rels reads a relationships part; targets come back as zip paths.
func (b *xlsxBook) rels(name string) ([]rel, error) {
	rc, err := b.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var doc struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.NewDecoder(io.LimitReader(rc, 8<<20)).Decode(&doc); err != nil {
		return nil, err
	}
	out := make([]rel, 0, len(doc.Rels))
	for _, r := range doc.Rels {
		t := r.Target
		if strings.HasPrefix(t, "/") {
			t = strings.TrimPrefix(t, "/")
		} else {
			t = path.Join("xl", t)
		}
		out = append(out, rel{r.ID, r.Type, t})
	}
	return out, nil
}

func (b *xlsxBook) readWorkbook(rels []rel) error {
	rc, err := b.open("xl/workbook.xml")
	if err != nil {
		return errNotXLSX
	}
	defer rc.Close()
	dec := xml.NewDecoder(io.LimitReader(rc, 16<<20))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("workbook.xml: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "sheet" {
			continue
		}
		var s xlsxSheet
		var id string
		for _, a := range se.Attr {
			switch {
			case a.Name.Local == "name":
				s.name = a.Value
			case a.Name.Local == "state":
				s.hidden = a.Value != "visible"
			case a.Name.Local == "id" && a.Name.Space != "":
				id = a.Value
			}
		}
		for _, r := range rels {
			if r.id == id {
				s.path = r.target
			}
		}
		if s.path != "" {
			b.sheets = append(b.sheets, s)
		}
	}
	if len(b.sheets) == 0 {
		return errNotXLSX
	}
	return nil
}

// readShared loads the shared-string table; a workbook without one (all
// inline strings) is fine.
func (b *xlsxBook) readShared(name string) error {
	rc, err := b.open(name)
	if err != nil {
		var nf missingPart
		if errors.As(err, &nf) {
			return nil
		}
		return err
	}
	defer rc.Close()
	dec := newXMLTokenizer(b.part(rc, maxSharedXML))
	var text strings.Builder
	for {
		tok, err := dec.next()
		if err == io.EOF {
			b.shared.text = text.String()
			return nil
		}
		if err == nil && tok.is(tokStart, "si") {
			if len(b.shared.ends) == maxSharedStrings {
				return errSharedTooMany
			}
			if err = readText(dec, "si", &text); err == nil {
				b.shared.ends = append(b.shared.ends, uint32(text.Len()))
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, errPartSize):
			return errSharedTooLarge
		case errors.Is(err, errCellTooLong), errors.Is(err, errXMLTokenSize):
			return errSharedTooLong
		default:
			return fmt.Errorf("sharedStrings.xml: %w", err)
		}
	}
}

// readText appends to sb the text of <t> elements up to the end of
// element end, skipping phonetic runs (<rPh>), which are not part of the
// value. A text longer than Excel allows is errCellTooLong.
func readText(dec *xmlTokenizer, end string, sb *strings.Builder) error {
	from := sb.Len()
	var lim textLimit
	inT, skip := false, 0
	for {
		tok, err := dec.next()
		if err != nil {
			return dec.unexpected(err)
		}
		switch tok.kind {
		case tokStart:
			switch string(tok.name) {
			case "t":
				inT = true
			case "rPh":
				skip++
			}
		case tokEnd:
			switch string(tok.name) {
			case "t":
				inT = false
			case "rPh":
				skip--
			case end:
				return nil
			}
		case tokText:
			if inT && skip == 0 {
				sb.Write(tok.text)
				if !lim.add(sb.String()[from:], tok.text) {
					return errCellTooLong
				}
			}
		}
	}
}

// textLimit checks a text, as it grows, against Excel's limit on a cell;
// the characters are counted only once the bytes pass it.
type textLimit struct{ chars int }

// add is given the whole text so far and the part just added to it.
func (l *textLimit) add(all string, added []byte) bool {
	switch {
	case l.chars > 0:
		l.chars += utf8.RuneCount(added)
	case len(all) > maxCellChars:
		l.chars = utf8.RuneCountInString(all)
	}
	return l.chars <= maxCellChars
}

// xlsxRows streams the rows of one worksheet. Any error but io.EOF is a
// *FileError, and every later call gives it again.
type xlsxRows struct {
	book   *xlsxBook
	rc     io.ReadCloser
	dec    *xmlTokenizer
	last   int    // number of the row being or last read
	count  int    // <row> elements read, blank ones included
	root   string // the part's root element
	inData bool   // inside <sheetData>
	done   bool
	err    error
}

func (b *xlsxBook) rows(i int) (*xlsxRows, error) {
	rc, err := b.open(b.sheets[i].path)
	if err != nil {
		return nil, err
	}
	return &xlsxRows{book: b, rc: rc, dec: newXMLTokenizer(b.part(rc, maxSheetXML))}, nil
}

func (x *xlsxRows) close() error { return x.rc.Close() }

// next returns the next row that has a <row> element (Excel leaves out
// empty rows), numbered as Excel shows it; io.EOF at the end.
func (x *xlsxRows) next() (int, []cell, error) {
	if x.err != nil {
		return 0, nil, x.err
	}
	if x.done {
		return 0, nil, io.EOF
	}
	num, cells, err := x.read()
	if err == io.EOF {
		x.done = true
	} else if err != nil {
		x.err = x.fileError(err)
		return 0, nil, x.err
	}
	return num, cells, err
}

func (x *xlsxRows) read() (int, []cell, error) {
	for {
		tok, err := x.dec.next()
		if err == io.EOF {
			// A worksheet that ends before its </sheetData> was cut
			// short; a chart sheet has no rows at all.
			if x.inData || x.root == "worksheet" {
				return 0, nil, x.dec.unexpected(err)
			}
			return 0, nil, io.EOF
		}
		if err != nil {
			return 0, nil, err
		}
		if x.root == "" && tok.kind == tokStart {
			x.root = string(tok.name)
		}
		switch {
		case tok.is(tokStart, "sheetData"):
			x.inData = true
		case tok.is(tokStart, "row"):
			if x.count++; x.count > maxSheetRows {
				return 0, nil, &FileError{fmt.Sprintf("工作表的行数（含空行）超过了Excel的上限%d行，文件可能已损坏，请删除多余的空行后另存再上传", maxSheetRows)}
			}
			num := x.last + 1
			v, err := tok.attr("r")
			if err != nil {
				return 0, nil, err
			}
			if v != "" {
				switch n, err := strconv.Atoi(v); {
				case err == nil && n > 0:
					num = n
				case errors.Is(err, strconv.ErrRange):
					num = maxSheetRows + 1
				}
			}
			if num > maxSheetRows {
				return 0, nil, &FileError{fmt.Sprintf("工作表中的行号超过了Excel的上限%d行，文件可能已损坏，请在Excel中打开后另存为.xlsx再上传", maxSheetRows)}
			}
			x.last = num
			cells, err := x.readRow()
			return num, cells, err
		case tok.is(tokEnd, "sheetData"):
			return 0, nil, io.EOF
		}
	}
}

// cellTooLong is a cell whose text passes Excel's limit.
type cellTooLong struct{ col int }

func (e *cellTooLong) Error() string {
	return fmt.Sprintf("%v in column %d", errCellTooLong, e.col)
}

// fileError words an error reading the sheet for the user, with the row
// it happened in or after when there is one.
func (x *xlsxRows) fileError(err error) error {
	near := ""
	if x.last > 0 {
		near = fmt.Sprintf("（第%d行附近）", x.last)
	}
	var fe *FileError
	var long *cellTooLong
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &long):
		return &FileError{fmt.Sprintf("第%d行%s列的文字超过了Excel单元格的上限（%d个字符），请检查该单元格", x.last, columnName(long.col), maxCellChars)}
	case errors.Is(err, errPartSize):
		return &FileError{"Excel文件的工作表解压后超过1GB，无法导入，请删除多余的内容或拆分后再上传"}
	case errors.Is(err, errXMLTokenSize):
		return &FileError{"Excel文件的工作表中有超过1MB的连续内容" + near + "，文件可能已损坏，请在Excel中打开后另存为.xlsx再上传"}
	}
	return &FileError{"Excel文件的工作表内容已损坏" + near + "，请在Excel中打开后另存为.xlsx再上传"}
}

func (x *xlsxRows) readRow() ([]cell, error) {
	var cells []cell
	col := 0
	for {
		tok, err := x.dec.next()
		if err != nil {
			return nil, x.dec.unexpected(err)
		}
		switch {
		case tok.is(tokStart, "c"):
			col++ // a cell without a reference follows the one before
			ref, err := tok.attr("r")
			if err != nil {
				return nil, err
			}
			if c := columnOf(ref); c > 0 {
				col = c
			}
			c, err := x.readCell(tok)
			if errors.Is(err, errCellTooLong) {
				return nil, &cellTooLong{col}
			}
			if err != nil {
				return nil, err
			}
			if col > maxColumns || (c.text == "" && !c.num) {
				continue
			}
			// By column, not by order: Excel writes a row's cells left
			// to right, other tools need not.
			for len(cells) < col {
				cells = append(cells, cell{})
			}
			cells[col-1] = c
		case tok.is(tokEnd, "row"):
			return cells, nil
		}
	}
}

// readCell reads one <c> element from its start tag: shared strings are
// looked up, inline strings and formula results read as text, numbers
// kept as written.
func (x *xlsxRows) readCell(start *xmlToken) (cell, error) {
	typ, err := start.attr("t")
	if err != nil {
		return cell{}, err
	}
	var v, inline string
	for {
		tok, err := x.dec.next()
		if err != nil {
			return cell{}, x.dec.unexpected(err)
		}
		switch {
		case tok.is(tokStart, "v"):
			if v, err = charData(x.dec, "v"); err != nil {
				return cell{}, err
			}
		case tok.is(tokStart, "is"):
			var sb strings.Builder
			if err := readText(x.dec, "is", &sb); err != nil {
				return cell{}, err
			}
			inline = sb.String()
		case tok.is(tokEnd, "c"):
			switch typ {
			case "s":
				i, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					return cell{}, nil
				}
				s, _ := x.book.shared.get(i)
				return cell{text: s}, nil
			case "inlineStr":
				return cell{text: inline}, nil
			case "str", "e", "d":
				return cell{text: v}, nil
			case "b":
				if v == "1" {
					return cell{text: "TRUE"}, nil
				}
				return cell{text: "FALSE"}, nil
			}
			return cell{text: v, num: v != ""}, nil
		}
	}
}

func charData(dec *xmlTokenizer, end string) (string, error) {
	var sb strings.Builder
	var lim textLimit
	for {
		tok, err := dec.next()
		if err != nil {
			return "", dec.unexpected(err)
		}
		switch {
		case tok.kind == tokText:
			sb.Write(tok.text)
			if !lim.add(sb.String(), tok.text) {
				return "", errCellTooLong
			}
		case tok.is(tokEnd, end):
			return sb.String(), nil
		}
	}
}

// columnOf turns a cell reference such as "AB12" into its column number
// (28); 0 when the reference has no letters. Columns past maxColumns,
// which are not read, all come back as maxColumns+1 so that no run of
// letters overflows.
func columnOf(ref string) int {
	n := 0
	for _, r := range ref {
		switch {
		case r >= 'A' && r <= 'Z':
			n = min(n*26+int(r-'A'+1), maxColumns+1)
		case r >= 'a' && r <= 'z':
			n = min(n*26+int(r-'a'+1), maxColumns+1)
		default:
			return n
		}
	}
	return n
}

// columnName is the letters Excel shows for column n (1 is A, 28 AB).
func columnName(n int) string {
	var b []byte
	for ; n > 0; n = (n - 1) / 26 {
		b = append([]byte{byte('A' + (n-1)%26)}, b...)
	}
	return string(b)
}
