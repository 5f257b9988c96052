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

// Limits against zip bombs and files no office would send.
const (
	maxSheetXML  = 2 << 30   // uncompressed worksheet XML
	maxSharedXML = 512 << 20 // uncompressed shared strings
	maxColumns   = 200
)

type xlsxSheet struct {
	name   string
	path   string
	hidden bool
}

type xlsxBook struct {
	zr     *zip.Reader
	shared []string
	sheets []xlsxSheet
}

var errNotXLSX = errors.New("not an xlsx workbook")

func openXLSX(data []byte) (*xlsxBook, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, errNotXLSX
	}
	b := &xlsxBook{zr: zr}
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
	dec := newXMLTokenizer(io.LimitReader(rc, maxSharedXML))
	for {
		tok, err := dec.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sharedStrings.xml: %w", err)
		}
		if tok.is(tokStart, "si") {
			s, err := readText(dec, "si")
			if err != nil {
				return fmt.Errorf("sharedStrings.xml: %w", err)
			}
			b.shared = append(b.shared, s)
		}
	}
}

// readText collects the text of <t> elements up to the end of element
// end, skipping phonetic runs (<rPh>), which are not part of the value.
func readText(dec *xmlTokenizer, end string) (string, error) {
	var sb strings.Builder
	inT, skip := false, 0
	for {
		tok, err := dec.next()
		if err != nil {
			return "", unexpected(err)
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
				return sb.String(), nil
			}
		case tokText:
			if inT && skip == 0 {
				sb.Write(tok.text)
			}
		}
	}
}

// xlsxRows streams the rows of one worksheet.
type xlsxRows struct {
	book *xlsxBook
	rc   io.ReadCloser
	dec  *xmlTokenizer
	last int
}

func (b *xlsxBook) rows(i int) (*xlsxRows, error) {
	rc, err := b.open(b.sheets[i].path)
	if err != nil {
		return nil, err
	}
	return &xlsxRows{book: b, rc: rc, dec: newXMLTokenizer(io.LimitReader(rc, maxSheetXML))}, nil
}

func (x *xlsxRows) close() error { return x.rc.Close() }

// next returns the next row that has a <row> element (Excel leaves out
// empty rows), numbered as Excel shows it; io.EOF at the end.
func (x *xlsxRows) next() (int, []cell, error) {
	for {
		tok, err := x.dec.next()
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		if err != nil {
			return 0, nil, fmt.Errorf("worksheet: %w", err)
		}
		switch {
		case tok.is(tokStart, "row"):
			num := x.last + 1
			v, err := tok.attr("r")
			if err != nil {
				return 0, nil, fmt.Errorf("worksheet: %w", err)
			}
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				num = n
			}
			x.last = num
			cells, err := x.readRow()
			return num, cells, err
		case tok.is(tokEnd, "sheetData"):
			return 0, nil, io.EOF
		}
	}
}

func (x *xlsxRows) readRow() ([]cell, error) {
	var cells []cell
	col := 0
	for {
		tok, err := x.dec.next()
		if err != nil {
			return nil, fmt.Errorf("worksheet: %w", unexpected(err))
		}
		switch {
		case tok.is(tokStart, "c"):
			col++
			ref, err := tok.attr("r")
			if err != nil {
				return nil, fmt.Errorf("worksheet: %w", err)
			}
			if c := columnOf(ref); c > 0 {
				col = c
			}
			c, err := x.readCell(tok)
			if err != nil {
				return nil, err
			}
			if col > maxColumns || (c.text == "" && !c.num) {
				continue
			}
			for len(cells) < col-1 {
				cells = append(cells, cell{})
			}
			cells = append(cells, c)
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
		return cell{}, fmt.Errorf("worksheet: %w", err)
	}
	var v, inline string
	for {
		tok, err := x.dec.next()
		if err != nil {
			return cell{}, fmt.Errorf("worksheet: %w", unexpected(err))
		}
		switch {
		case tok.is(tokStart, "v"):
			if v, err = charData(x.dec, "v"); err != nil {
				return cell{}, err
			}
		case tok.is(tokStart, "is"):
			if inline, err = readText(x.dec, "is"); err != nil {
				return cell{}, fmt.Errorf("worksheet: %w", err)
			}
		case tok.is(tokEnd, "c"):
			switch typ {
			case "s":
				i, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || i < 0 || i >= len(x.book.shared) {
					return cell{}, nil
				}
				return cell{text: x.book.shared[i]}, nil
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
	for {
		tok, err := dec.next()
		if err != nil {
			return "", fmt.Errorf("worksheet: %w", unexpected(err))
		}
		switch {
		case tok.kind == tokText:
			sb.Write(tok.text)
		case tok.is(tokEnd, end):
			return sb.String(), nil
		}
	}
}

// columnOf turns a cell reference such as "AB12" into its column number
// (28); 0 when the reference has no letters.
func columnOf(ref string) int {
	n := 0
	for _, r := range ref {
		switch {
		case r >= 'A' && r <= 'Z':
			n = n*26 + int(r-'A'+1)
		case r >= 'a' && r <= 'z':
			n = n*26 + int(r-'a'+1)
		default:
			return n
		}
	}
	return n
}
