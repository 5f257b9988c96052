package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// xmlTokenizer reads the plain XML a worksheet and its shared strings are
// written in, several times faster than encoding/xml, whose tokens (an
// allocation each) dominated the reading of a large roster. It knows
// elements, attributes, character data with the predefined and numeric
// entities and CDATA sections; comments and processing instructions are
// skipped; a DOCTYPE is an error (worksheets have none, and refusing it
// keeps entity expansion out). Like encoding/xml's RawToken it checks
// neither nesting nor namespaces.
type xmlTokenizer struct {
	r       *bufio.Reader
	tok     xmlToken
	pending bool // the end of a self-closing element comes next
	buf     []byte
}

type tokenKind uint8

const (
	tokStart tokenKind = iota + 1
	tokEnd
	tokText
)

// xmlToken is one token; its slices are valid until the next call.
type xmlToken struct {
	kind  tokenKind
	space []byte // the prefix of a start or end tag's name, if any
	name  []byte // the local name of a start or end tag
	attrs []byte // a start tag's attributes, raw
	text  []byte // character data, entities decoded and line ends normalised
}

func newXMLTokenizer(r io.Reader) *xmlTokenizer {
	return &xmlTokenizer{r: bufio.NewReaderSize(r, 64<<10)}
}

var errXMLSyntax = errors.New("XML syntax error")

// next reads the next token; io.EOF at the end of the input.
func (z *xmlTokenizer) next() (*xmlToken, error) {
	if z.pending {
		z.pending = false
		z.tok.kind, z.tok.attrs = tokEnd, nil
		return &z.tok, nil
	}
	for {
		b, err := z.r.Peek(1)
		if err != nil {
			return nil, err
		}
		if b[0] != '<' {
			return z.charData()
		}
		z.r.Discard(1)
		if b, err = z.r.Peek(1); err != nil {
			return nil, unexpected(err)
		}
		switch b[0] {
		case '/':
			z.r.Discard(1)
			tag, err := z.readTag()
			if err != nil {
				return nil, err
			}
			z.tok = xmlToken{kind: tokEnd}
			z.tok.space, z.tok.name = splitName(bytes.TrimSpace(tag))
			return &z.tok, nil
		case '?':
			if err := z.skipPast("?>"); err != nil {
				return nil, err
			}
			continue
		case '!':
			head, err := z.r.Peek(9)
			switch {
			case bytes.HasPrefix(head, []byte("!--")):
				if err := z.skipPast("-->"); err != nil {
					return nil, err
				}
				continue
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
}

func unexpected(err error) error {
	if err == io.EOF {
		return fmt.Errorf("%w: unexpected end of file", errXMLSyntax)
	}
	return err
}

// readTag reads up to the '>' that closes the tag, outside quotes, and
// returns what came before it.
func (z *xmlTokenizer) readTag() ([]byte, error) {
	z.buf = z.buf[:0]
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
		z.buf = append(z.buf, chunk...)
		if err == nil && quote == 0 {
			return z.buf[:len(z.buf)-1], nil
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// startElement splits `name attr="v" …/` into the token's name and raw
// attributes, which attr reads when asked.
func (z *xmlTokenizer) startElement(tag []byte) (*xmlToken, error) {
	if n := len(tag); n > 0 && tag[n-1] == '/' {
		z.pending, tag = true, tag[:n-1]
	}
	i := 0
	for i < len(tag) && !isSpace(tag[i]) {
		i++
	}
	if i == 0 {
		return nil, fmt.Errorf("%w: tag without a name", errXMLSyntax)
	}
	z.tok = xmlToken{kind: tokStart, attrs: tag[i:]}
	z.tok.space, z.tok.name = splitName(tag[:i])
	return &z.tok, nil
}

// splitName splits a prefix off as encoding/xml does.
func splitName(b []byte) (space, local []byte) {
	if i := bytes.IndexByte(b, ':'); i > 0 && i < len(b)-1 {
		return b[:i], b[i+1:]
	}
	return nil, b
}

// is reports whether the token is a start or end tag of local name name.
func (t *xmlToken) is(kind tokenKind, name string) bool {
	return t.kind == kind && string(t.name) == name
}

// attr returns the value of the unprefixed attribute name, "" when absent.
func (t *xmlToken) attr(name string) (value string, err error) {
	err = t.eachAttr(func(key, raw []byte) (bool, error) {
		if string(key) != name {
			return true, nil
		}
		v, err := unescape(nil, raw)
		value = string(normaliseNewlines(v))
		return false, err
	})
	return value, err
}

// eachAttr calls fn with each attribute's name (prefix included) and raw
// value, until fn says stop.
func (t *xmlToken) eachAttr(fn func(key, raw []byte) (more bool, err error)) error {
	rest := t.attrs
	for {
		for len(rest) > 0 && isSpace(rest[0]) {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return nil
		}
		eq := bytes.IndexByte(rest, '=')
		if eq <= 0 {
			return fmt.Errorf("%w: attribute without a value in <%s>", errXMLSyntax, t.name)
		}
		key := bytes.TrimSpace(rest[:eq])
		rest = rest[eq+1:]
		for len(rest) > 0 && isSpace(rest[0]) {
			rest = rest[1:]
		}
		if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
			return fmt.Errorf("%w: unquoted attribute in <%s>", errXMLSyntax, t.name)
		}
		end := bytes.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return fmt.Errorf("%w: unterminated attribute in <%s>", errXMLSyntax, t.name)
		}
		if more, err := fn(key, rest[1:1+end]); !more || err != nil {
			return err
		}
		rest = rest[end+2:]
	}
}

// charData reads text up to the next '<'.
func (z *xmlTokenizer) charData() (*xmlToken, error) {
	z.buf = z.buf[:0]
	for {
		chunk, err := z.r.ReadSlice('<')
		if err == nil {
			chunk = chunk[:len(chunk)-1]
			if err := z.r.UnreadByte(); err != nil {
				return nil, err
			}
		}
		z.buf = append(z.buf, chunk...)
		if err == nil || err == io.EOF {
			break
		}
		if err != bufio.ErrBufferFull {
			return nil, err
		}
	}
	text, err := unescape(nil, z.buf)
	if err != nil {
		return nil, err
	}
	z.tok = xmlToken{kind: tokText, text: normaliseNewlines(text)}
	return &z.tok, nil
}

// cdata reads a CDATA section's text, after its "<![CDATA[".
func (z *xmlTokenizer) cdata() (*xmlToken, error) {
	z.buf = z.buf[:0]
	for {
		chunk, err := z.r.ReadSlice('>')
		if err != nil && err != bufio.ErrBufferFull {
			return nil, unexpected(err)
		}
		z.buf = append(z.buf, chunk...)
		if bytes.HasSuffix(z.buf, []byte("]]>")) {
			z.tok = xmlToken{kind: tokText, text: normaliseNewlines(z.buf[:len(z.buf)-3])}
			return &z.tok, nil
		}
	}
}

// skipPast discards input up to and including end.
func (z *xmlTokenizer) skipPast(end string) error {
	z.buf = z.buf[:0]
	last := end[len(end)-1]
	for {
		chunk, err := z.r.ReadSlice(last)
		if err != nil && err != bufio.ErrBufferFull {
			return unexpected(err)
		}
		z.buf = append(z.buf, chunk...)
		if bytes.HasSuffix(z.buf, []byte(end)) {
			return nil
		}
		if len(z.buf) > len(end) {
			z.buf = append(z.buf[:0], z.buf[len(z.buf)-len(end):]...)
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
// is returned when it has none and dst is nil.
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
