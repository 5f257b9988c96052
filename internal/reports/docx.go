package reports

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// paraKind is how a paragraph of the written report is set, after the
// usual layout of government documents (GB/T 9704): a centred title, 黑体
// headings, 仿宋 body text with a two-character indent, fixed 28-point lines.
type paraKind int

const (
	paraTitle paraKind = iota
	paraHeading
	paraBody
	paraNote
)

type para struct {
	kind paraKind
	text string
}

var paraProps = map[paraKind]struct{ ppr, font, size string }{
	paraTitle:   {`<w:jc w:val="center"/><w:spacing w:after="240" w:line="700" w:lineRule="exact"/>`, "方正小标宋简体", "44"},
	paraHeading: {`<w:ind w:firstLineChars="200" w:firstLine="640"/><w:spacing w:line="560" w:lineRule="exact"/>`, "黑体", "32"},
	paraBody:    {`<w:ind w:firstLineChars="200" w:firstLine="640"/><w:jc w:val="both"/><w:spacing w:line="560" w:lineRule="exact"/>`, "仿宋_GB2312", "32"},
	paraNote:    {`<w:jc w:val="right"/><w:spacing w:line="560" w:lineRule="exact"/>`, "仿宋_GB2312", "32"},
}

// xmlText escapes s for an XML text node, dropping characters XML 1.0
// cannot hold.
func xmlText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF) {
			return r
		}
		return -1
	}, s)
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// writeDOCX writes a minimal Word document (the four parts a .docx needs,
// zipped): each para one paragraph, A4 with the margins of GB/T 9704.
func writeDOCX(w io.Writer, title string, paras []para) error {
	var body strings.Builder
	for _, p := range paras {
		pp := paraProps[p.kind]
		fmt.Fprintf(&body, `<w:p><w:pPr>%s</w:pPr><w:r><w:rPr><w:rFonts w:ascii="%[2]s" w:eastAsia="%[2]s" w:hAnsi="%[2]s"/><w:sz w:val="%[3]s"/><w:szCs w:val="%[3]s"/></w:rPr><w:t xml:space="preserve">%[4]s</w:t></w:r></w:p>`,
			pp.ppr, pp.font, pp.size, xmlText(p.text))
	}
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>`},
		{"docProps/core.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>` + xmlText(title) + `</dc:title><dc:creator>探访关爱平台</dc:creator></cp:coreProperties>`},
		{"word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body.String() +
			`<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="2098" w:right="1474" w:bottom="1984" w:left="1588" w:header="851" w:footer="992" w:gutter="0"/></w:sectPr></w:body></w:document>`},
	}
	zw := zip.NewWriter(w)
	for _, p := range parts {
		f, err := zw.Create(p.name)
		if err != nil {
			return fmt.Errorf("docx %s: %w", p.name, err)
		}
		if _, err := io.WriteString(f, p.body); err != nil {
			return fmt.Errorf("docx %s: %w", p.name, err)
		}
	}
	return zw.Close()
}
