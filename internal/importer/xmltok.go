package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// xmlTokenizer reads the plain XML a worksheet and its shared strings are
// written in, several times faster than encoding/xml, whose tokens (an
// allocation each) dominated the reading of a large roster. It knows
// elements, attributes, character data with the predefined and numeric
// entities and CDATA sections; comments and processing instructions are
// skipped; a DOCTYPE is an error (worksheets have none, and refusing it
// keeps entity expansion out). Like encoding/xml's RawToken it checks
// neither nesting nor namespaces. No token grows past maxXMLToken, so a
// part of blank space or one endless text cannot take the memory.
type xmlTokenizer struct {
	r       *bufio.Reader
	src     countingReader
	tok     xmlToken
	pending bool // the end of a self-closing element comes next
	buf     []byte
}

// maxXMLToken bounds one tag, text run, CDATA section or the blank space
// between elements. Excel's longest cell, 32,767 characters written as
// entities, is under 200 KB.
const maxXMLToken = 1 << 20

// countingReader counts the bytes read, for the offsets errors give.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
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
	off   int64  // where it starts in the input
	space []byte // the prefix of a start or end tag's name, if any
	name  []byte // the local name of a start or end tag
	attrs []byte // a start tag's attributes, raw
	text  []byte // character data, entities decoded and line ends normalised
}

func newXMLTokenizer(r io.Reader) *xmlTokenizer {
	z := &xmlTokenizer{src: countingReader{r: r}}
	z.r = bufio.NewReaderSize(&z.src, 64<<10)
	return z
}

var (
	errXMLSyntax    = errors.New("XML syntax error")
	errXMLTokenSize = fmt.Errorf("XML token longer than %d bytes", maxXMLToken)
)

// xmlError is a fault in the XML: what is wrong and at which byte of the
// part. It never quotes the input, whose text holds names and ID numbers
// and would reach the server log.
type xmlError struct {
	offset int64
	kind   error // errXMLSyntax or errXMLTokenSize
	what   string
}

func (e *xmlError) Error() string {
	if e.what == "" {
		return fmt.Sprintf("%v at byte %d", e.kind, e.offset)
	}
	return fmt.Sprintf("%v at byte %d: %s", e.kind, e.offset, e.what)
}

func (e *xmlError) Unwrap() error { return e.kind }

func syntaxError(offset int64, what string) error {
	return &xmlError{offset: offset, kind: errXMLSyntax, what: what}
}

// offset is where the next unread byte is in the input.
func (z *xmlTokenizer) offset() int64 { return z.src.n - int64(z.r.Buffered()) }

// next reads the next token; io.EOF at the end of the input.
func (z *xmlTokenizer) next() (*xmlToken, error) {
	if z.pending {
		z.pending = false
		z.tok.kind, z.tok.attrs = tokEnd, nil
		return &z.tok, nil
	}
	for {
		start := z.offset()
		b, err := z.r.Peek(1)
		if err != nil {
			return nil, err
		}
		if b[0] != '<' {
			return z.charData(start)
		}
		z.r.Discard(1)
		if b, err = z.r.Peek(1); err != nil {
			return nil, z.unexpected(err)
		}
		switch b[0] {
		case '/':
			z.r.Discard(1)
			tag, err := z.readTag(start)
			if err != nil {
				return nil, err
			}
			z.tok = xmlToken{kind: tokEnd, off: start}
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
				return z.cdata(start)
			case err != nil:
				return nil, z.unexpected(err)
			}
			return nil, syntaxError(start, "DOCTYPE or declaration not allowed")
		}
		tag, err := z.readTag(start)
		if err != nil {
			return nil, err
		}
		return z.startElement(start, tag)
	}
}

// unexpected turns the end of the input inside a construct into a syntax
// error: a part cut short.
func (z *xmlTokenizer) unexpected(err error) error {
	if err == io.EOF {
		return syntaxError(z.offset(), "unexpected end of file")
	}
	return err
}

func (z *xmlTokenizer) tooLong(start int64) error {
	return &xmlError{offset: start, kind: errXMLTokenSize}
}

// readTag reads up to the '>' that closes the tag, outside quotes, and
// returns what came before it.
func (z *xmlTokenizer) readTag(start int64) ([]byte, error) {
	z.buf = z.buf[:0]
	var quote byte
	for {
		chunk, err := z.r.ReadSlice('>')
		if err != nil && err != bufio.ErrBufferFull {
			return nil, z.unexpected(err)
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
		if len(z.buf) > maxXMLToken {
			return nil, z.tooLong(start)
		}
		if err == nil && quote == 0 {
			return z.buf[:len(z.buf)-1], nil
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// startElement splits `name attr="v" …/` into the token's name and raw
// attributes, which attr reads when asked.
func (z *xmlTokenizer) startElement(start int64, tag []byte) (*xmlToken, error) {
	if n := len(tag); n > 0 && tag[n-1] == '/' {
		z.pending, tag = true, tag[:n-1]
	}
	i := 0
	for i < len(tag) && !isSpace(tag[i]) {
		i++
	}
	if i == 0 {
		return nil, syntaxError(start, "tag without a name")
	}
	z.tok = xmlToken{kind: tokStart, off: start, attrs: tag[i:]}
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
		v, err := attrValue(raw)
		if e, ok := err.(*xmlError); ok {
			e.offset = t.off // the tag's start is near enough
		}
		value = string(v)
		return false, err
	})
	return value, err
}

// attrValue decodes an attribute's raw value: line ends first, as a CR
// written as "&#xD;" is kept.
func attrValue(raw []byte) ([]byte, error) {
	return unescape(nil, normaliseNewlines(raw))
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
			return syntaxError(t.off, "attribute without a value")
		}
		key := bytes.TrimSpace(rest[:eq])
		rest = rest[eq+1:]
		for len(rest) > 0 && isSpace(rest[0]) {
			rest = rest[1:]
		}
		if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
			return syntaxError(t.off, "unquoted attribute")
		}
		end := bytes.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return syntaxError(t.off, "unterminated attribute")
		}
		if more, err := fn(key, rest[1:1+end]); !more || err != nil {
			return err
		}
		rest = rest[end+2:]
	}
}

// charData reads text up to the next '<'.
func (z *xmlTokenizer) charData(start int64) (*xmlToken, error) {
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
		if len(z.buf) > maxXMLToken {
			return nil, z.tooLong(start)
		}
		if err == nil || err == io.EOF {
			break
		}
		if err != bufio.ErrBufferFull {
			return nil, err
		}
	}
	// Line ends are normalised before entities are decoded, so that a CR
	// written as "&#xD;" is kept.
	text, err := unescape(nil, normaliseNewlines(z.buf))
	if err != nil {
		// Again on the bytes as read, for where in the input the fault is.
		_, err = unescape(nil, z.buf)
		if e, ok := err.(*xmlError); ok {
			e.offset += start
		}
		return nil, err
	}
	z.tok = xmlToken{kind: tokText, off: start, text: text}
	return &z.tok, nil
}

// cdata reads a CDATA section's text, after its "<![CDATA[".
func (z *xmlTokenizer) cdata(start int64) (*xmlToken, error) {
	z.buf = z.buf[:0]
	for {
		chunk, err := z.r.ReadSlice('>')
		if err != nil && err != bufio.ErrBufferFull {
			return nil, z.unexpected(err)
		}
		z.buf = append(z.buf, chunk...)
		if len(z.buf) > maxXMLToken {
			return nil, z.tooLong(start)
		}
		if bytes.HasSuffix(z.buf, []byte("]]>")) {
			z.tok = xmlToken{kind: tokText, off: start, text: normaliseNewlines(z.buf[:len(z.buf)-3])}
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
			return z.unexpected(err)
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
// is returned when it has none and dst is nil. An error is an *xmlError
// whose offset is the '&' in s: the entity's name is not repeated, as
// everything up to the next ';' (a whole cell, say) would be taken for it.
func unescape(dst, s []byte) ([]byte, error) {
	if bytes.IndexByte(s, '&') < 0 {
		if dst == nil {
			return s, nil
		}
		return append(dst, s...), nil
	}
	at := 0 // of s[0] in the original s
	for len(s) > 0 {
		amp := bytes.IndexByte(s, '&')
		if amp < 0 {
			return append(dst, s...), nil
		}
		dst = append(dst, s[:amp]...)
		at += amp
		s = s[amp+1:]
		semi := bytes.IndexByte(s, ';')
		if semi <= 0 {
			return nil, syntaxError(int64(at), "unterminated entity")
		}
		name := s[:semi]
		s = s[semi+1:]
		if c, ok := entities[string(name)]; ok {
			dst = append(dst, c)
			at += semi + 2
			continue
		}
		var n uint64
		var err error
		switch {
		case bytes.HasPrefix(name, []byte("#x")):
			n, err = strconv.ParseUint(string(name[2:]), 16, 32)
		case bytes.HasPrefix(name, []byte("#")):
			n, err = strconv.ParseUint(string(name[1:]), 10, 32)
		default:
			return nil, syntaxError(int64(at), "unknown entity")
		}
		if err != nil || !utf8.ValidRune(rune(n)) {
			return nil, syntaxError(int64(at), "invalid character reference")
		}
		dst = utf8.AppendRune(dst, rune(n))
		at += semi + 2
	}
	return dst, nil
}
