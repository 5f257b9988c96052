package importer

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// The reading layer against damaged and hostile files: each is built
// here, part by part, as no office program would write it.

type testSheet struct {
	name, state string
	body        io.Reader
}

// xlsxOf zips a workbook of sheets and, unless shared is "", a
// shared-string part.
func xlsxOf(t testing.TB, shared string, sheets ...testSheet) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, body io.Reader) {
		w, err := zw.Create(name)
		if err == nil {
			_, err = io.Copy(w, body)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	wb := `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`
	rels := `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`
	for i, s := range sheets {
		state := ""
		if s.state != "" {
			state = ` state="` + s.state + `"`
		}
		wb += fmt.Sprintf(`<sheet name="%s" sheetId="%d"%s r:id="rId%d"/>`, s.name, i+1, state, i+1)
		rels += fmt.Sprintf(`<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i+1, i+1)
		add(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1), s.body)
	}
	if shared != "" {
		rels += `<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>`
		add("xl/sharedStrings.xml", strings.NewReader(shared))
	}
	add("xl/workbook.xml", strings.NewReader(wb+`</sheets></workbook>`))
	add("xl/_rels/workbook.xml.rels", strings.NewReader(rels+`</Relationships>`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sheetOf is a worksheet of parts, strings or readers, inside sheetData.
func sheetOf(parts ...any) io.Reader {
	rs := []io.Reader{strings.NewReader(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)}
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			rs = append(rs, strings.NewReader(p))
		case io.Reader:
			rs = append(rs, p)
		}
	}
	return io.MultiReader(append(rs, strings.NewReader(`</sheetData></worksheet>`))...)
}

func sheetText(parts ...any) string {
	b, _ := io.ReadAll(sheetOf(parts...))
	return string(b)
}

// rowOf is row num of inline-string cells from column A.
func rowOf(num int, texts ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<row r="%d">`, num)
	for i, s := range texts {
		fmt.Fprintf(&b, `<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>`, columnName(i+1), num, s)
	}
	return b.String() + `</row>`
}

var testHeader = rowOf(1, "姓名", "身份证号码", "联系电话")

// repeated is s n times, without building it.
func repeated(s string, n int) io.Reader {
	return io.LimitReader(&cycle{s: s}, int64(len(s))*int64(n))
}

type cycle struct {
	s string
	i int
}

func (c *cycle) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], c.s[c.i:])
		n += k
		c.i = (c.i + k) % len(c.s)
	}
	return n, nil
}

type readRow struct {
	num   int
	cells []cell
}

// readAll opens a file as a roster and reads every data row.
func readAll(data []byte) ([]readRow, error) {
	t, err := openTable(data, rosterSpec)
	if err != nil {
		return nil, err
	}
	defer t.close()
	var rows []readRow
	for {
		num, cells, err := t.next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, readRow{num, append([]cell(nil), cells...)})
	}
}

// wantFileError checks that err is a *FileError whose message has all
// of parts.
func wantFileError(t *testing.T, err error, parts ...string) {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("got %T %v, want a *FileError", err, err)
	}
	for _, p := range parts {
		if !strings.Contains(fe.Message, p) {
			t.Fatalf("message %q does not say %q", fe.Message, p)
		}
	}
}

// allocated is how many bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestReadHiddenSheets(t *testing.T) {
	body := sheetText(testHeader, rowOf(2, "王样本", id("1950-03-01", 1), "13800000000"))
	for _, state := range []string{"hidden", "veryHidden"} {
		_, err := readAll(xlsxOf(t, "", testSheet{"名单", state, strings.NewReader(body)}))
		wantFileError(t, err, "工作簿中没有可见的工作表，请取消隐藏后再上传")
	}
	// With a visible sheet, the hidden ones are passed over as before.
	rows, err := readAll(xlsxOf(t, "",
		testSheet{"旧", "hidden", strings.NewReader(sheetText(testHeader, rowOf(2, "钱样本", id("1950-03-01", 2), "13800000001")))},
		testSheet{"名单", "visible", strings.NewReader(body)}))
	if err != nil || len(rows) != 1 || rows[0].cells[0].text != "王样本" {
		t.Fatalf("%v %+v", err, rows)
	}
}

func TestReadDamagedSheet(t *testing.T) {
	rows := testHeader + rowOf(2, "王样本", id("1950-03-01", 1), "13800000000") + rowOf(3, "李样本", id("1950-03-02", 2), "13800000001")
	whole := sheetText(rows, rowOf(4, "赵样本", id("1950-03-03", 3), "13800000002"))
	row3 := strings.Index(whole, `<row r="3">`)
	row4 := strings.Index(whole, `<row r="4">`)
	for _, c := range []struct {
		name, xml, near string
	}{
		{"doctype", `<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e "x">]>` + whole[strings.Index(whole, "<worksheet"):], ""},
		{"cut before the rows", whole[:strings.Index(whole, "<sheetData>")], ""},
		{"cut in the header", whole[:strings.Index(whole, "身份证")+3], "（第1行附近）"},
		{"cut in a tag of the data", whole[:row3+20], "（第3行附近）"},
		{"cut in a cell's text", whole[:strings.Index(whole, "李样本")+3], "（第3行附近）"},
		{"cut between rows", whole[:row4], "（第3行附近）"},
		{"unknown entity", strings.Replace(whole, "李样本", "李&bogus;", 1), "（第3行附近）"},
		{"bad character reference", strings.Replace(whole, "李样本", "李&#xFFFFFFFF;", 1), "（第3行附近）"},
		{"bad attribute", strings.Replace(whole, `<row r="3">`, `<row r=3>`, 1), "（第2行附近）"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readAll(xlsxOf(t, "", testSheet{"名单", "", strings.NewReader(c.xml)}))
			wantFileError(t, err, "Excel文件的工作表内容已损坏"+c.near+"，请在Excel中打开后另存为.xlsx再上传")
		})
	}
	// A damaged sheet is reported, not passed over for a later one.
	_, err := readAll(xlsxOf(t, "",
		testSheet{"名单", "", strings.NewReader(whole[:strings.Index(whole, "身份证")])},
		testSheet{"备份", "", strings.NewReader(whole)}))
	wantFileError(t, err, "已损坏")
	// The same damage in the shared strings is refused as before.
	_, err = readAll(xlsxOf(t, `<sst><si><t>&bogus;</t></si></sst>`, testSheet{"名单", "", strings.NewReader(whole)}))
	wantFileError(t, err, "无法读取该Excel文件")
	// A chart sheet has no rows and is no damage.
	rs, err := readAll(xlsxOf(t, "",
		testSheet{"图", "", strings.NewReader(`<chartsheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetViews/></chartsheet>`)},
		testSheet{"名单", "", strings.NewReader(whole)}))
	if err != nil || len(rs) != 3 {
		t.Fatalf("chart sheet first: %v %d rows", err, len(rs))
	}
}

// Nothing of a file's text reaches an error: not the message, which the
// user sees, nor the error chain, which would be logged.
func TestReadErrorsHoldNoContent(t *testing.T) {
	secret := "熊德 身份证320706194601010012 电话17012345678"
	leaks := func(err error) bool {
		s := fmt.Sprint(err)
		var fe *FileError
		if errors.As(err, &fe) {
			s += fe.Message
		}
		for _, w := range []string{"熊德", "3207061946", "1701234", "bogus"} {
			if strings.Contains(s, w) {
				return true
			}
		}
		return false
	}
	for _, doc := range []string{
		"<a>&bogus " + secret + ";</a>",
		"<a>&#x" + secret + ";</a>",
		"<a>&" + secret + "</a>",
		`<a b="&bogus ` + secret + `;"/>`,
		`<a b='` + secret + `/>`,
		`<a ` + secret + `/>`,
	} {
		z := newXMLTokenizer(strings.NewReader(doc))
		var err error
		for err == nil {
			var tok *xmlToken
			if tok, err = z.next(); err == nil && tok.kind == tokStart {
				_, err = tok.attr("b")
			}
		}
		if err == io.EOF {
			t.Fatalf("%q: no error", doc)
		}
		if leaks(err) {
			t.Fatalf("error quotes the file: %v", err)
		}
		var xe *xmlError
		if !errors.As(err, &xe) || !errors.Is(err, errXMLSyntax) {
			t.Fatalf("%q: %#v, want an *xmlError", doc, err)
		}
	}
	z := newXMLTokenizer(strings.NewReader("<a>0123&bogus;</a>"))
	z.next()
	if _, err := z.next(); err == nil || !strings.Contains(err.Error(), "at byte 7: unknown entity") {
		t.Fatalf("offset: %v", err)
	}

	sheet := sheetText(testHeader, rowOf(2, "&bogus "+secret+";", "x", "y"))
	_, err := readAll(xlsxOf(t, "", testSheet{"名单", "", strings.NewReader(sheet)}))
	wantFileError(t, err, "第2行附近")
	if leaks(err) {
		t.Fatalf("sheet error quotes the file: %v", err)
	}
	data := xlsxOf(t, "<sst><si><t>&bogus "+secret+";</t></si></sst>", testSheet{"名单", "", strings.NewReader(sheet)})
	if _, err := openXLSX(data); err == nil || leaks(err) {
		t.Fatalf("shared strings error: %v", err)
	}
}

// A part of blank space between rows, or one endless text, stops at
// maxXMLToken instead of being taken into memory.
func TestReadTokenBound(t *testing.T) {
	data := xlsxOf(t, "", testSheet{"名单", "", sheetOf(testHeader, repeated(" ", 32<<20), rowOf(2, "王样本", "x", "y"))})
	var err error
	if n := allocated(func() { _, err = readAll(data) }); n > 16<<20 {
		t.Errorf("reading allocated %d MB", n>>20)
	}
	wantFileError(t, err, "Excel文件的工作表中有超过1MB的连续内容（第1行附近）")

	shared := `<sst><si><t>` + strings.Repeat("样", 1<<20) + `</t></si></sst>`
	data = xlsxOf(t, shared, testSheet{"名单", "", sheetOf(testHeader)})
	if n := allocated(func() { _, err = readAll(data) }); n > 16<<20 {
		t.Errorf("reading allocated %d MB", n>>20)
	}
	wantFileError(t, err, "Excel文件中有文字超过单元格的上限（32767个字符）")
}

func TestReadCellLength(t *testing.T) {
	most := strings.Repeat("样", maxCellChars) // 98 KB, within Excel's limit
	rows, err := readAll(xlsxOf(t, "", testSheet{"名单", "", sheetOf(testHeader, rowOf(2, "王样本", "x", most))}))
	if err != nil || len(rows) != 1 || rows[0].cells[2].text != most {
		t.Fatalf("longest cell: %v", err)
	}
	for _, row := range []string{
		rowOf(3, "王样本", "x", most+"x"),
		`<row r="3"><c r="C3" t="str"><v>` + strings.Repeat("x", maxCellChars+1) + `</v></c></row>`,
		`<row r="3"><c r="C3" t="inlineStr"><is>` + strings.Repeat(`<r><t>`+strings.Repeat("x", 1000)+`</t></r>`, 33) + `</is></c></row>`,
	} {
		_, err := readAll(xlsxOf(t, "", testSheet{"名单", "", sheetOf(testHeader, rowOf(2, "王样本", "x", "y"), row)}))
		wantFileError(t, err, "第3行C列的文字超过了Excel单元格的上限（32767个字符）")
	}
	// A shared string is refused with the file: no cell is known yet.
	shared := `<sst><si>` + strings.Repeat(`<r><t>`+strings.Repeat("x", 1000)+`</t></r>`, 33) + `</si></sst>`
	_, err = readAll(xlsxOf(t, shared, testSheet{"名单", "", sheetOf(testHeader)}))
	wantFileError(t, err, "Excel文件中有文字超过单元格的上限（32767个字符）")
}

func TestReadRowBounds(t *testing.T) {
	last := `<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>王样本</t></is></c></row>`
	rows, err := readAll(xlsxOf(t, "", testSheet{"名单", "", sheetOf(testHeader, last)}))
	if err != nil || len(rows) != 1 || rows[0].num != maxSheetRows {
		t.Fatalf("Excel's last row: %v %+v", err, rows)
	}
	for _, r := range []string{"1048577", "99999999999999999999"} {
		row := `<row r="` + r + `"><c t="inlineStr"><is><t>王样本</t></is></c></row>`
		_, err := readAll(xlsxOf(t, "", testSheet{"名单", "", sheetOf(testHeader, row)}))
		wantFileError(t, err, "工作表中的行号超过了Excel的上限1048576行")
	}
	// Blank rows count: a million of them used to take half a minute.
	_, err = readAll(xlsxOf(t, "", testSheet{"名单", "", sheetOf(testHeader, repeated("<row/>", maxSheetRows))}))
	wantFileError(t, err, "工作表的行数（含空行）超过了Excel的上限1048576行")
}

func TestReadPartBounds(t *testing.T) {
	// The book's budget of 30 bytes is shared by the parts it reads.
	b := &xlsxBook{budget: 30}
	for _, c := range []struct {
		size, limit int64
		err         error
	}{{10, 10, nil}, {11, 10, errPartSize}, {10, 12, nil}, {1, 12, errPartSize}} {
		left := b.budget
		_, err := io.ReadAll(b.part(repeated("x", int(c.size)), c.limit))
		if err != c.err {
			t.Fatalf("%d bytes, bound %d, %d left in the book: %v", c.size, c.limit, left, err)
		}
	}

	data := xlsxOf(t, `<sst><si><t>王样本</t></si></sst>`, testSheet{"名单", "", sheetOf(testHeader, repeated(rowOf(2, "王样本", "x", "y"), 100))})
	book, err := openXLSX(data)
	if err != nil {
		t.Fatal(err)
	}
	book.budget = 2000
	rows, err := book.rows(0)
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, _, err = rows.next()
	}
	wantFileError(t, err, "Excel文件的工作表解压后超过1GB")

	book = &xlsxBook{zr: book.zr, budget: 10}
	if err := book.readShared("xl/sharedStrings.xml"); err != errSharedTooLarge {
		t.Fatalf("shared strings past the budget: %v", err)
	}
}

// Cells go by their reference; a cell without one follows the one before.
func TestReadCellOrder(t *testing.T) {
	c := func(ref, text string) string {
		if ref != "" {
			ref = ` r="` + ref + `"`
		}
		return `<c` + ref + ` t="inlineStr"><is><t>` + text + `</t></is></c>`
	}
	row := `<row r="2">` + c("A2", "a") + c("B2", "b") + c("C2", "c") + c("E2", "e") + c("D2", "d") + `</row>` +
		`<row r="3">` + c("E3", "e") + c("B3", "b") + c("", "c") + c("", "d") + `</row>`
	data := xlsxOf(t, "", testSheet{"名单", "", sheetOf(row)})
	book, err := openXLSX(data)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := book.rows(0)
	for _, want := range []string{"a b c d e", " b c d e"} {
		_, cells, err := rows.next()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range cells {
			got = append(got, c.text)
		}
		if strings.Join(got, " ") != want {
			t.Fatalf("cells %q, want %q", got, want)
		}
	}
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(b)
}

// csvLinesOf gives each row's number and its cells joined by "|".
func csvLinesOf(t *testing.T, data []byte) string {
	t.Helper()
	rows, err := readAll(data)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		var cells []string
		for _, c := range r.cells {
			cells = append(cells, c.text)
		}
		out = append(out, fmt.Sprintf("%d:%s", r.num, strings.Join(cells, "|")))
	}
	return strings.Join(out, " ")
}

// Old Mac Excel ended lines with a lone CR.
func TestReadCSVLineEnds(t *testing.T) {
	text := "姓名,身份证号码,联系电话\r王样本,1,138\r\r李样本,\"2\r\n3\",139\r\n赵样本,4,137\r"
	want := "2:王样本|1|138 4:李样本|2\n3|139 6:赵样本|4|137"
	if got := csvLinesOf(t, []byte(text)); got != want {
		t.Errorf("UTF-8: %q, want %q", got, want)
	}
	if got := csvLinesOf(t, gbk(t, text)); got != want {
		t.Errorf("GBK: %q, want %q", got, want)
	}
}

func TestReadCSVEncoding(t *testing.T) {
	var text strings.Builder
	text.WriteString("姓名,身份证号,联系电话\n")
	for i := range 10 {
		fmt.Fprintf(&text, "严丽,%s,138000000%02d\n", id("1950-03-01", i), i)
	}
	utf := []byte(text.String())
	// These bytes happen to be good GBK too, of common characters, so it
	// takes reading them as GBK to find out.
	stray := bytes.Replace(utf, []byte("严丽,"), []byte("严\xA1丽人,"), 1)
	if !gbkPlausible(stray) {
		t.Fatal("the damaged file should look like GBK")
	}
	for name, data := range map[string][]byte{
		"stray byte":         bytes.Replace(utf, []byte("严丽,"), []byte("严\xFF丽,"), 1),
		"cut character":      bytes.Replace(utf, []byte("严丽,"), []byte("\xE7\x8E丽,"), 1),
		"stray byte, GBK":    stray,
		"stray byte and BOM": append([]byte("\xEF\xBB\xBF"), stray...),
		"Latin-1":            []byte("Nom,Pr\xE9nom,T\xE9l\xE9phone\nA,B,C\n"),
	} {
		_, err := readAll(data)
		var fe *FileError
		if !errors.As(err, &fe) || fe != errEncoding {
			t.Errorf("%s: %v", name, err)
		}
	}
	// GBK is still read, including the euro sign of code page 936.
	if got := csvLinesOf(t, append(gbk(t, text.String()+"钱样本,x,"), "\x80\n"...)); !strings.HasPrefix(got, "2:严丽|") || !strings.HasSuffix(got, "12:钱样本|x|€") {
		t.Errorf("GBK: %q", got)
	}
}

func TestReadCSVUnclosedQuote(t *testing.T) {
	head := "姓名,身份证号码,联系电话\n王样本,1,138\n"
	for name, text := range map[string]string{
		"to the end":          head + "李样本,\"2,139\n赵样本,3,137\n钱样本,4,136\n",
		"to a later quote":    head + "李样本,\"2,139\n赵样本,3,137\n钱样本,\"4,5\",136\n孙样本,6,135\n",
		"quote inside":        head + "李样本,\"2\"x,139\n赵样本,3,137\n",
		"CRLF":                strings.ReplaceAll(head+"李样本,\"2,139\n赵样本,3,137\n", "\n", "\r\n"),
		"quote at line start": head + "\"李样本,2,139\n赵样本,3,137\n",
	} {
		for enc, data := range map[string][]byte{"UTF-8": []byte(text), "GBK": gbk(t, text)} {
			_, err := readAll(data)
			var fe *FileError
			if !errors.As(err, &fe) || fe.Message != "CSV第3行的引号没有闭合，请检查该行" {
				t.Errorf("%s, %s: %v", name, enc, err)
			}
		}
	}
	// Quoting as Excel writes it, and a bare quote in an unquoted field,
	// read as before.
	text := head + "\"李\"\"样本\",\"2\n2\",139\n赵\"样\"本,3,\"\"\n"
	if got := csvLinesOf(t, []byte(text)); got != "2:王样本|1|138 3:李\"样本|2\n2|139 5:赵\"样\"本|3|" {
		t.Errorf("%q", got)
	}
}
