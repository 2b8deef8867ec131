package msg

import (
	"bytes"
	"encoding/base64"
	"fmt"

	"github.com/hasuite/hasuite/heartbeat/auth"
)

// The classic ("NV-pair") text form (serial links, cluster-glue <= 1.0.9):
//
//	>>>\n
//	name=value\n              string; '\n' in the value written as 0x13
//	(1)name=<base64>\n        binary (also (4) compressed)
//	(2)name=<nested>\n        a whole ">>>...<<<" text whose newlines are
//	                          replaced by specialSyms[depth]
//	(3)name=<packed list>\n
//	auth=<index> <digest>\n   signs the classic text of all other fields
//	<<<\n

// AppendClassicFields appends the classic text of every field except the
// top-level auth fields, without the ">>>"/"<<<" lines. This is exactly the
// input Heartbeat signs for the inner auth field (msg2string_buf NOHEAD).
// Nested messages keep their auth fields, as in Heartbeat.
//
// The text is only meaningful for a message that passes Validate; for other
// messages it is written anyway (it never fails) but cannot be parsed back.
func (m *Message) AppendClassicFields(dst []byte) []byte {
	if m == nil {
		return dst
	}
	return appendClassicFields(dst, m, 0, true)
}

// EncodeClassic returns the classic form: ">>>\n", the fields of m except
// its auth fields, a fresh "auth=<index> <digest>\n" line and "<<<\n". It is
// the serial form and the UDP form of cluster-glue <= 1.0.9 (which also
// sent a trailing NUL; append one if such a peer needs it). With a nil
// keyring the auth line is omitted. m is not modified.
func EncodeClassic(m *Message, kr *auth.Keyring) []byte {
	b := make([]byte, 0, netstringBodyLen(m, true)+trailerReserve)
	b = append(b, classicStart...)
	b = m.AppendClassicFields(b)
	if kr != nil {
		sig := kr.Sign(b[len(classicStart):])
		b = append(b, FAuth...)
		b = append(b, '=')
		b = append(b, sig...)
		b = append(b, '\n')
	}
	return append(b, classicEnd...)
}

func appendClassicFields(b []byte, m *Message, depth int, skipAuth bool) []byte {
	for i := range m.Fields {
		if f := &m.Fields[i]; !skipAuth || f.Name != FAuth {
			b = appendClassicField(b, f, depth)
		}
	}
	return b
}

func appendClassicField(b []byte, f *Field, depth int) []byte {
	if f.Type != String {
		b = appendTypePrefix(b, f.Type)
	}
	b = append(b, f.Name...)
	b = append(b, '=')
	start := len(b)
	switch f.Type {
	case String:
		b = append(b, f.Value...)
		replaceByte(b[start:], '\n', classicNewline)
	case Struct:
		b = append(b, classicStart...)
		if f.Sub != nil {
			b = appendClassicFields(b, f.Sub, depth+1, false)
		}
		b = append(b, classicEnd...)
		if depth < MaxDepth {
			replaceByte(b[start:], '\n', specialSyms[depth])
		}
	case Binary, Compressed:
		b = base64.StdEncoding.AppendEncode(b, f.Value)
	default: // List, and unknown types written raw
		b = append(b, f.Value...)
	}
	return append(b, '\n')
}

func replaceByte(b []byte, from, to byte) {
	for i, c := range b {
		if c == from {
			b[i] = to
		}
	}
}

// parseClassicWire parses body (framing already stripped). Heartbeat stops
// reading at a NUL; here a NUL inside the text is an error, since nothing
// after it would be covered by the signature check.
func parseClassicWire(body []byte) (*Message, error) {
	if i := bytes.IndexByte(body, 0); i >= 0 {
		return nil, malformed("NUL at offset %d of a classic message", i)
	}
	var d decoder
	return d.classicMessage(bytes.Clone(body), 0)
}

// classicMessage parses b, which must be exactly one ">>>\n...<<<\n" text.
// It rewrites b in place (escapes are undone where they stand), so b must
// be the decoder's own copy.
func (d *decoder) classicMessage(b []byte, depth int) (*Message, error) {
	if !bytes.HasPrefix(b, []byte(classicStart)) {
		return nil, malformed("nested message does not start with %q", classicStart)
	}
	m := &Message{Fields: make([]Field, 0, 16)}
	i := len(classicStart)
	for {
		for i < len(b) && b[i] == '\n' {
			i++ // Heartbeat skips empty lines between fields
		}
		if bytes.HasPrefix(b[i:], []byte(classicEnd)) {
			if end := i + len(classicEnd); end != len(b) {
				return nil, malformed("%d bytes after %q", len(b)-end, classicEnd)
			}
			return m, nil
		}
		nl := bytes.IndexByte(b[i:], '\n')
		if nl < 0 {
			return nil, malformed("missing %q end marker", classicEnd)
		}
		if err := d.take(); err != nil {
			return nil, err
		}
		end := i + nl
		f, err := d.classicField(b[i:end:end], depth)
		if err != nil {
			return nil, within(err, "field %d", len(m.Fields))
		}
		m.Fields = append(m.Fields, f)
		i = end + 1
	}
}

// classicField parses one "[(t)]name=value" line.
func (d *decoder) classicField(line []byte, depth int) (Field, error) {
	eq := bytes.IndexByte(line, '=')
	if eq < 0 {
		// Heartbeat drops the whole message for such a line.
		return Field{}, malformed("line %.24q has no '='", line)
	}
	name, t := line[:eq], String
	if len(name) > 0 && name[0] == '(' {
		// Strings carry no prefix in this form, so (0) is invalid too.
		if len(name) < 3 || name[2] != ')' || name[1] < '1' || name[1] > '4' {
			return Field{}, malformed("line %.24q: want a (1)..(4) type prefix", line)
		}
		name, t = name[3:], FieldType(name[1]-'0')
	}
	if err := checkName(name); err != nil {
		return Field{}, err
	}
	f := Field{Name: internName(name), Type: t}
	v := line[eq+1:]
	switch t {
	case String:
		replaceByte(v, classicNewline, '\n')
		if err := checkString(f.Name, v); err != nil {
			return Field{}, err
		}
		f.Value = v
	case Binary, Compressed:
		raw, err := decodeBase64(v)
		if err != nil {
			return Field{}, malformed("field %q: %v", f.Name, err)
		}
		f.Value = raw
	case List:
		if err := checkList(f.Name, v); err != nil {
			return Field{}, err
		}
		f.Value = v
	case Struct:
		if depth+1 > MaxDepth {
			return Field{}, malformed("struct field %q nested deeper than %d", f.Name, MaxDepth)
		}
		replaceByte(v, specialSyms[depth], '\n')
		sub, err := d.classicMessage(v, depth+1)
		if err != nil {
			return Field{}, within(err, "struct field %q", f.Name)
		}
		f.Sub = sub
	}
	return f, nil
}

// decodeBase64 accepts exactly what Heartbeat writes: standard alphabet,
// '=' padding, length a multiple of 4. Go's decoder would also skip CR and
// LF, which Heartbeat does not, so they are refused first.
func decodeBase64(v []byte) ([]byte, error) {
	if len(v)%4 != 0 {
		return nil, fmt.Errorf("base64 length %d is not a multiple of 4", len(v))
	}
	if i := bytes.IndexAny(v, "\r\n"); i >= 0 {
		return nil, fmt.Errorf("line break in base64 at offset %d", i)
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(v)))
	n, err := base64.StdEncoding.Decode(out, v)
	if err != nil {
		return nil, err
	}
	return out[:n:n], nil
}
