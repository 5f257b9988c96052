package importer

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokenReader is what the worksheet readers need of an XML decoder.
type tokenReader interface {
	RawToken() (xml.Token, error)
}

// rawTokenizer gives the raw tokens of the plain XML a worksheet and its
// shared strings are written in, several times faster than encoding/xml,
// which dominated the reading of a large roster. It knows elements,
// attributes, character data with the predefined and numeric entities,
// CDATA sections, comments and processing instructions; a DOCTYPE is an
// error (worksheets have none, and refusing it keeps entity expansion out).
// Like xml.Decoder.RawToken it leaves prefixes in Name.Space and checks
// neither nesting nor namespaces; CharData is valid until the next call.
type rawTokenizer struct {
	r       *bufio.Reader
	pending *xml.EndElement // the end of a self-closing element
	text    []byte
}

func newRawTokenizer(r io.Reader) *rawTokenizer {
	return &rawTokenizer{r: bufio.NewReaderSize(r, 64<<10)}
}

var errXMLSyntax = errors.New("XML syntax error")

func (z *rawTokenizer) RawToken() (xml.Token, error) {
	if z.pending != nil {
		end := *z.pending
		z.pending = nil
		return end, nil
	}
	b, err := z.r.Peek(1)
	if err != nil {
		return nil, err
	}
	if b[0] != '<' {
		return z.charData()
	}
	z.r.Discard(1)
	b, err = z.r.Peek(1)
	if err != nil {
		return nil, unexpected(err)
	}
	switch b[0] {
	case '/':
		z.r.Discard(1)
		tag, err := z.readTag()
		if err != nil {
			return nil, err
		}
		return xml.EndElement{Name: splitName(strings.TrimSpace(string(tag)))}, nil
	case '?':
		if err := z.skipPast("?>"); err != nil {
			return nil, err
		}
		return xml.ProcInst{}, nil
	case '!':
		head, err := z.r.Peek(9)
		switch {
		case bytes.HasPrefix(head, []byte("!--")):
			return xml.Comment{}, z.skipPast("-->")
		case bytes.HasPrefix(head, []byte("![CDATA[")):
			z.r.Discard(8)
			return z.cdata()
		case err != nil:
			return nil, unexpected(err)
		}
		return nil, fmt.Errorf("%w: DOCTYPE or declaration not allowed", errXMLSyntax)
	}
	tag, err := z.readTag()
	if err != nil {
		return nil, err
	}
	return z.startElement(tag)
}

func unexpected(err error) error {
	if err == io.EOF {
		return fmt.Errorf("%w: unexpected end of file", errXMLSyntax)
	}
	return err
}

// readTag reads up to the '>' that closes the tag, outside quotes, and
// returns what came before it.
func (z *rawTokenizer) readTag() ([]byte, error) {
	z.text = z.text[:0]
	var quote byte
	for {
		chunk, err := z.r.ReadSlice('>')
		if err != nil && err != bufio.ErrBufferFull {
			return nil, unexpected(err)
		}
		for _, c := range chunk {
			switch {
			case quote != 0 && c == quote:
				quote = 0
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			}
		}
		z.text = append(z.text, chunk...)
		if err == nil && quote == 0 {
			return z.text[:len(z.text)-1], nil
		}
	}
}

// startElement parses `name attr="v" …` with an optional trailing '/'.
func (z *rawTokenizer) startElement(tag []byte) (xml.Token, error) {
	selfClosing := false
	if n := len(tag); n > 0 && tag[n-1] == '/' {
		selfClosing, tag = true, tag[:n-1]
	}
	i := bytes.IndexAny(tag, " \t\r\n")
	if i < 0 {
		i = len(tag)
	}
	if i == 0 {
		return nil, fmt.Errorf("%w: tag without a name", errXMLSyntax)
	}
	se := xml.StartElement{Name: splitName(string(tag[:i]))}
	rest := tag[i:]
	for {
		rest = skipSpace(rest)
		if len(rest) == 0 {
			break
		}
		eq := bytes.IndexByte(rest, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("%w: attribute without a value in <%s>", errXMLSyntax, se.Name.Local)
		}
		name := bytes.TrimSpace(rest[:eq])
		rest = skipSpace(rest[eq+1:])
		if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
			return nil, fmt.Errorf("%w: unquoted attribute in <%s>", errXMLSyntax, se.Name.Local)
		}
		end := bytes.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return nil, fmt.Errorf("%w: unterminated attribute in <%s>", errXMLSyntax, se.Name.Local)
		}
		value, err := unescape(nil, rest[1:1+end])
		if err != nil {
			return nil, err
		}
		if se.Attr == nil {
			se.Attr = make([]xml.Attr, 0, 4) // a cell has up to three
		}
		se.Attr = append(se.Attr, xml.Attr{Name: splitName(string(name)), Value: string(value)})
		rest = rest[end+2:]
	}
	if selfClosing {
		z.pending = &xml.EndElement{Name: se.Name}
	}
	return se, nil
}

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// splitName splits a prefix off as encoding/xml does.
func splitName(s string) xml.Name {
	if space, local, ok := strings.Cut(s, ":"); ok && space != "" && local != "" {
		return xml.Name{Space: space, Local: local}
	}
	return xml.Name{Local: s}
}

// charData reads text up to the next '<', entities decoded and line ends
// normalised to "\n" as XML requires.
func (z *rawTokenizer) charData() (xml.Token, error) {
	z.text = z.text[:0]
	for {
		chunk, err := z.r.ReadSlice('<')
		if err == nil {
			chunk = chunk[:len(chunk)-1]
			if err := z.r.UnreadByte(); err != nil {
				return nil, err
			}
		}
		z.text = append(z.text, chunk...)
		if err == nil || err == io.EOF {
			break
		}
		if err != bufio.ErrBufferFull {
			return nil, err
		}
	}
	out, err := unescape(nil, z.text)
	if err != nil {
		return nil, err
	}
	return xml.CharData(normaliseNewlines(out)), nil
}

// cdata reads a CDATA section's text, after its "<![CDATA[".
func (z *rawTokenizer) cdata() (xml.Token, error) {
	z.text = z.text[:0]
	for {
		chunk, err := z.r.ReadSlice('>')
		if err != nil && err != bufio.ErrBufferFull {
			return nil, unexpected(err)
		}
		z.text = append(z.text, chunk...)
		if bytes.HasSuffix(z.text, []byte("]]>")) {
			return xml.CharData(normaliseNewlines(z.text[:len(z.text)-3])), nil
		}
	}
}

// skipPast discards input up to and including end.
func (z *rawTokenizer) skipPast(end string) error {
	z.text = z.text[:0]
	last := end[len(end)-1]
	for {
		chunk, err := z.r.ReadSlice(last)
		if err != nil && err != bufio.ErrBufferFull {
			return unexpected(err)
		}
		z.text = append(z.text, chunk...)
		if bytes.HasSuffix(z.text, []byte(end)) {
			return nil
		}
		if len(z.text) > len(end) {
			z.text = append(z.text[:0], z.text[len(z.text)-len(end):]...)
		}
	}
}

func normaliseNewlines(b []byte) []byte {
	if bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
}

var entities = map[string]byte{"amp": '&', "lt": '<', "gt": '>', "quot": '"', "apos": '\''}

// unescape appends s to dst with its entity references decoded; s itself
// is returned when it has none.
func unescape(dst, s []byte) ([]byte, error) {
	if bytes.IndexByte(s, '&') < 0 {
		if dst == nil {
			return s, nil
		}
		return append(dst, s...), nil
	}
	for len(s) > 0 {
		amp := bytes.IndexByte(s, '&')
		if amp < 0 {
			return append(dst, s...), nil
		}
		dst = append(dst, s[:amp]...)
		s = s[amp+1:]
		semi := bytes.IndexByte(s, ';')
		if semi <= 0 {
			return nil, fmt.Errorf("%w: unterminated entity", errXMLSyntax)
		}
		name := string(s[:semi])
		s = s[semi+1:]
		if c, ok := entities[name]; ok {
			dst = append(dst, c)
			continue
		}
		var n uint64
		var err error
		switch {
		case strings.HasPrefix(name, "#x"):
			n, err = strconv.ParseUint(name[2:], 16, 32)
		case strings.HasPrefix(name, "#"):
			n, err = strconv.ParseUint(name[1:], 10, 32)
		default:
			return nil, fmt.Errorf("%w: unknown entity &%s;", errXMLSyntax, name)
		}
		if err != nil || !utf8.ValidRune(rune(n)) {
			return nil, fmt.Errorf("%w: invalid character reference &%s;", errXMLSyntax, name)
		}
		dst = utf8.AppendRune(dst, rune(n))
	}
	return dst, nil
}
