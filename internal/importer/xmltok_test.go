package importer

import (
	"encoding/xml"
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

// sameAsEncodingXML checks that, where encoding/xml reads doc without
// error, the fast tokenizer gives the same tokens.
func sameAsEncodingXML(t *testing.T, doc string) {
	want, err := rawTokens(xml.NewDecoder(strings.NewReader(doc)).RawToken)
	if err != nil {
		return
	}
	for _, tok := range want {
		if _, ok := tok.(xml.Directive); ok {
			return // refused on purpose
		}
	}
	got, err := rawTokens(newRawTokenizer(strings.NewReader(doc)).RawToken)
	if err != nil {
		t.Fatalf("%q: %v", doc, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", doc, got, want)
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
	`<a b="c>d">e</a>`,
	`<x:a x:b="1"/>`,
}

func TestRawTokenizerMatchesEncodingXML(t *testing.T) {
	for _, doc := range xmlSamples {
		sameAsEncodingXML(t, doc)
	}
}

func TestRawTokenizerRefusesDoctype(t *testing.T) {
	_, err := rawTokens(newRawTokenizer(strings.NewReader(`<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`)).RawToken)
	if err == nil {
		t.Fatal("a DOCTYPE was accepted")
	}
}

func FuzzRawTokenizer(f *testing.F) {
	for _, doc := range xmlSamples {
		f.Add(doc)
	}
	f.Fuzz(sameAsEncodingXML)
}
