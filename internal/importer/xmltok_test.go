package importer

import (
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// rawTokens lists the tokens of a reader, comments and processing
// instructions as bare markers (their contents are never read).
func rawTokens(next func() (xml.Token, error)) ([]xml.Token, error) {
	var out []xml.Token
	for {
		tok, err := next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			out = append(out, xml.CharData(string(t)))
		case xml.Comment:
			out = append(out, xml.Comment{})
		case xml.ProcInst:
			out = append(out, xml.ProcInst{})
		case xml.StartElement:
			if len(t.Attr) == 0 {
				t.Attr = nil
			}
			out = append(out, t)
		default:
			out = append(out, tok)
		}
	}
}

// tokensOf lists the tokens the fast tokenizer gives, as encoding/xml's.
func tokensOf(doc string) ([]xml.Token, error) {
	z := newXMLTokenizer(strings.NewReader(doc))
	var out []xml.Token
	for {
		tok, err := z.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		name := xml.Name{Space: string(tok.space), Local: string(tok.name)}
		switch tok.kind {
		case tokText:
			out = append(out, xml.CharData(string(tok.text)))
		case tokEnd:
			out = append(out, xml.EndElement{Name: name})
		case tokStart:
			se := xml.StartElement{Name: name}
			err := tok.eachAttr(func(key, raw []byte) (bool, error) {
				space, local := splitName(key)
				v, err := attrValue(raw)
				se.Attr = append(se.Attr, xml.Attr{Name: xml.Name{Space: string(space), Local: string(local)}, Value: string(v)})
				return true, err
			})
			if err != nil {
				return out, err
			}
			out = append(out, se)
		}
	}
}

// sameAsEncodingXML checks that, where encoding/xml reads doc without
// error, the fast tokenizer gives the same tokens (comments and
// processing instructions, which it skips, left out).
func sameAsEncodingXML(t *testing.T, doc string) {
	want, err := rawTokens(xml.NewDecoder(strings.NewReader(doc)).RawToken)
	if err != nil {
		return
	}
	kept := want[:0]
	for _, tok := range want {
		switch tok.(type) {
		case xml.Directive:
			return // refused on purpose
		case xml.Comment, xml.ProcInst:
			continue
		}
		kept = append(kept, tok)
	}
	got, err := tokensOf(doc)
	if err != nil {
		t.Fatalf("%q: %v", doc, err)
	}
	if len(got) == 0 && len(kept) == 0 {
		return
	}
	if !reflect.DeepEqual(got, kept) {
		t.Fatalf("%q:\n got %#v\nwant %#v", doc, got, kept)
	}
}

var xmlSamples = []string{
	`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\r\n" +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="x"><sheetData>` +
		`<row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1" t="inlineStr"><is><t xml:space="preserve"> 王&amp;样本 </t></is></c>` +
		`<c r="C1"><v>3.20706E+17</v></c><c r="D1"/></row></sheetData></worksheet>`,
	`<sst count="2"><si><t>独居</t><rPh sb="0" eb="1"><t>ドク</t></rPh></si><si><r><t>空</t></r><r><t>巢</t></r></si></sst>`,
	`<a x='1 &lt; 2' y="&#x4E2D;&#25991;">t&#10;ext<![CDATA[<raw> & ]]>more<!-- note --></a>`,
	"<a>line\r\nbreak\rend</a>",
	"000000000&#xD;", `<a b="x&#xD;&#13;y` + "\r\n" + `z">&#xD;` + "\r\n&#13;\r" + `</a>`,
	`<a b="c>d">e</a>`,
	`<x:a x:b="1"/>`,
}

func TestXMLTokenizerMatchesEncodingXML(t *testing.T) {
	for _, doc := range xmlSamples {
		sameAsEncodingXML(t, doc)
	}
}

func TestXMLTokenizerRefusesDoctype(t *testing.T) {
	_, err := tokensOf(`<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`)
	if err == nil {
		t.Fatal("a DOCTYPE was accepted")
	}
}

// No tag, text or CDATA section is taken into memory past maxXMLToken,
// and errors say where they are.
func TestXMLTokenizerBoundsTokens(t *testing.T) {
	long := strings.Repeat("x", maxXMLToken)
	if got, err := tokensOf("<a>" + long + "</a>"); err != nil || len(got) != 3 {
		t.Fatalf("a text of the bound: %v", err)
	}
	for _, doc := range []string{
		"<a>" + long + "x</a>",
		"<a>" + strings.Repeat(" ", maxXMLToken+1),
		`<a><b c="` + long + `"/></a>`,
		"<a><![CDATA[" + long + "]]></a>",
	} {
		_, err := tokensOf(doc)
		var xe *xmlError
		if !errors.Is(err, errXMLTokenSize) || !errors.As(err, &xe) || xe.offset != 3 {
			t.Fatalf("%.20q…: %v", doc, err)
		}
	}
	_, err := tokensOf("<a>\n <b>" + strings.Repeat("&amp;", 10) + "&lt</b></a>")
	if err == nil || err.Error() != "XML syntax error at byte 58: unterminated entity" {
		t.Fatalf("%v", err)
	}
}

func FuzzXMLTokenizer(f *testing.F) {
	for _, doc := range xmlSamples {
		f.Add(doc)
	}
	f.Fuzz(sameAsEncodingXML)
}
