package msg

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/hasuite/hasuite/heartbeat/auth"
)

// The netstring form (cluster-glue >= 1.0.10 on UDP):
//
//	###\n
//	<L>:(<t>)<name>=<value>,    one netstring per field, raw value bytes
//	%%%\n
//	<A>:<index> <digest>,       trailer signing "###\n" through "%%%\n"
//
// A struct value is a nested "###\n...%%%\n" block without trailer; a list
// value is its packed "<len>:<item>," form.

// EncodeNetstring returns the UDP wire form of m. Top-level auth fields of
// m are left out; with innerAuth a fresh one, signing the classic text of
// the other fields, is appended as the last field, as Heartbeat 3.0.6 with
// cluster-glue 1.0.12 sends it. The trailer signs everything from "###\n"
// through "%%%\n". With a nil keyring neither signature is written (for
// tools; a real node drops such messages). m is not modified.
//
// The result may exceed MaxWire if m is that big; receivers refuse it.
func EncodeNetstring(m *Message, kr *auth.Keyring, innerAuth bool) []byte {
	if m == nil {
		m = &Message{}
	}
	size := netstringBodyLen(m, true)
	var inner string
	if kr != nil && innerAuth {
		inner = kr.Sign(m.AppendClassicFields(make([]byte, 0, size)))
		size += framedLen(netstringTextLen(String, FAuth, len(inner)))
	}
	b := make([]byte, 0, size+trailerReserve)
	b = append(b, netstringStart...)
	for i := range m.Fields {
		if m.Fields[i].Name != FAuth {
			b = appendNetstringField(b, &m.Fields[i])
		}
	}
	if kr != nil && innerAuth {
		b = appendNetstringString(b, FAuth, inner)
	}
	b = append(b, netstringEnd...)
	if kr != nil {
		sig := kr.Sign(b)
		b = strconv.AppendInt(b, int64(len(sig)), 10)
		b = append(b, ':')
		b = append(b, sig...)
		b = append(b, ',')
	}
	return b
}

// trailerReserve covers "<len>:<index> <sha256 hex>,".
const trailerReserve = 80

func appendNetstringField(b []byte, f *Field) []byte {
	b = strconv.AppendInt(b, int64(netstringFieldLen(f)), 10)
	b = append(b, ':')
	b = appendTypePrefix(b, f.Type)
	b = append(b, f.Name...)
	b = append(b, '=')
	if f.Type == Struct {
		b = appendNetstringBody(b, f.Sub, false)
	} else {
		b = append(b, f.Value...)
	}
	return append(b, ',')
}

func appendNetstringString(b []byte, name, value string) []byte {
	b = strconv.AppendInt(b, int64(netstringTextLen(String, name, len(value))), 10)
	b = append(b, ':', '(', '0', ')')
	b = append(b, name...)
	b = append(b, '=')
	b = append(b, value...)
	return append(b, ',')
}

// appendNetstringBody writes "###\n" fields "%%%\n"; skipAuth drops the
// top-level auth fields, which EncodeNetstring regenerates.
func appendNetstringBody(b []byte, m *Message, skipAuth bool) []byte {
	b = append(b, netstringStart...)
	if m != nil {
		for i := range m.Fields {
			if !skipAuth || m.Fields[i].Name != FAuth {
				b = appendNetstringField(b, &m.Fields[i])
			}
		}
	}
	return append(b, netstringEnd...)
}

// appendTypePrefix writes "(t)". Only 0..4 are valid (see Validate); other
// values are written in decimal rather than as a wrong byte.
func appendTypePrefix(b []byte, t FieldType) []byte {
	b = append(b, '(')
	b = strconv.AppendUint(b, uint64(t), 10)
	return append(b, ')')
}

// Length arithmetic, so that each netstring's length prefix is written
// before its content without a second buffer.

func netstringBodyLen(m *Message, skipAuth bool) int {
	n := len(netstringStart) + len(netstringEnd)
	if m == nil {
		return n
	}
	for i := range m.Fields {
		if !skipAuth || m.Fields[i].Name != FAuth {
			n += framedLen(netstringFieldLen(&m.Fields[i]))
		}
	}
	return n
}

func netstringFieldLen(f *Field) int {
	if f.Type == Struct {
		return netstringTextLen(f.Type, f.Name, netstringBodyLen(f.Sub, false))
	}
	return netstringTextLen(f.Type, f.Name, len(f.Value))
}

// netstringTextLen is the length of "(t)name=value".
func netstringTextLen(t FieldType, name string, valueLen int) int {
	return 2 + decimalLen(uint64(t)) + len(name) + 1 + valueLen
}

// framedLen is the length of the netstring "<n>:<n bytes>,".
func framedLen(n int) int { return decimalLen(uint64(n)) + 1 + n + 1 }

func decimalLen(n uint64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// netstringWire is a parsed top-level netstring message.
type netstringWire struct {
	msg       *Message
	signedLen int    // bytes covered by the trailer: "###\n" through "%%%\n"
	trailer   []byte // trailer content "<index> <digest>"
	signed    bool   // whether a trailer is present
}

// parseNetstringWire parses body (framing already stripped). Values alias
// a private copy of body.
func parseNetstringWire(body []byte) (netstringWire, error) {
	buf := bytes.Clone(body)
	var d decoder
	m, n, err := d.netstringMessage(buf, 0)
	if err != nil {
		return netstringWire{}, err
	}
	w := netstringWire{msg: m, signedLen: n}
	if n == len(buf) {
		return w, nil
	}
	trailer, next, err := peelNetstring(buf, n)
	if err != nil {
		return netstringWire{}, malformed("auth trailer: %v", err)
	}
	if next != len(buf) {
		return netstringWire{}, malformed("%d bytes after the auth trailer", len(buf)-next)
	}
	w.trailer, w.signed = trailer, true
	return w, nil
}

// netstringMessage parses one "###\n...%%%\n" block at the start of b and
// returns it with the number of bytes it used.
func (d *decoder) netstringMessage(b []byte, depth int) (*Message, int, error) {
	if !bytes.HasPrefix(b, []byte(netstringStart)) {
		return nil, 0, malformed("nested message does not start with %q", netstringStart)
	}
	m := &Message{Fields: make([]Field, 0, 16)}
	i := len(netstringStart)
	for !bytes.HasPrefix(b[i:], []byte(netstringEnd)) {
		if i == len(b) {
			return nil, 0, malformed("missing %q end marker", netstringEnd)
		}
		item, next, err := peelNetstring(b, i)
		if err != nil {
			return nil, 0, malformed("field %d: %v", len(m.Fields), err)
		}
		if err := d.take(); err != nil {
			return nil, 0, err
		}
		f, err := d.netstringField(item, depth)
		if err != nil {
			return nil, 0, within(err, "field %d", len(m.Fields))
		}
		m.Fields = append(m.Fields, f)
		i = next
	}
	return m, i + len(netstringEnd), nil
}

// netstringField parses "(t)name=value".
func (d *decoder) netstringField(item []byte, depth int) (Field, error) {
	if len(item) < 5 || item[0] != '(' || item[2] != ')' || item[1] < '0' || item[1] > '4' {
		return Field{}, malformed("field %.24q: want a (0)..(4) type prefix", item)
	}
	rest := item[3:]
	eq := bytes.IndexByte(rest, '=')
	if eq < 0 {
		return Field{}, malformed("field %.24q has no '='", item)
	}
	if err := checkName(rest[:eq]); err != nil {
		return Field{}, err
	}
	f := Field{Name: internName(rest[:eq]), Type: FieldType(item[1] - '0')}
	v := rest[eq+1:]
	switch f.Type {
	case String:
		if err := checkString(f.Name, v); err != nil {
			return Field{}, err
		}
		f.Value = v
	case Binary, Compressed:
		f.Value = v
	case List:
		if err := checkList(f.Name, v); err != nil {
			return Field{}, err
		}
		f.Value = v
	case Struct:
		if depth+1 > MaxDepth {
			return Field{}, malformed("struct field %q nested deeper than %d", f.Name, MaxDepth)
		}
		sub, n, err := d.netstringMessage(v, depth+1)
		if err != nil {
			return Field{}, within(err, "struct field %q", f.Name)
		}
		if n != len(v) {
			return Field{}, malformed("struct field %q: %d bytes after the nested message", f.Name, len(v)-n)
		}
		f.Sub = sub
	}
	return f, nil
}

// peelNetstring reads the netstring "<n>:<n bytes>," at b[i:] and returns
// its content (capacity-limited, so appending to it cannot overwrite the
// bytes after it) and the index after the ','.
func peelNetstring(b []byte, i int) ([]byte, int, error) {
	n, j, err := parseLength(b, i)
	if err != nil {
		return nil, 0, err
	}
	if j == len(b) || b[j] != ':' {
		return nil, 0, fmt.Errorf("missing ':' after length at offset %d", j)
	}
	start := j + 1
	if n >= len(b)-start {
		return nil, 0, fmt.Errorf("length %d at offset %d overruns the message", n, i)
	}
	end := start + n
	if b[end] != ',' {
		return nil, 0, fmt.Errorf("missing ',' at offset %d", end)
	}
	return b[start:end:end], end + 1, nil
}

// maxLengthDigits bounds a length prefix: MaxWire has 6 digits.
const maxLengthDigits = 7

// parseLength reads a plain decimal length at b[i:]: digits only (no sign,
// no space), no leading zero, at most maxLengthDigits digits. Heartbeat's
// own parser is laxer, but it only ever writes %d, and canonical lengths
// keep decode/encode byte-exact.
func parseLength(b []byte, i int) (n, next int, err error) {
	start := i
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if i-start == maxLengthDigits {
			return 0, 0, fmt.Errorf("length at offset %d has more than %d digits", start, maxLengthDigits)
		}
		n = n*10 + int(b[i]-'0')
	}
	switch {
	case i == start:
		return 0, 0, fmt.Errorf("want a decimal length at offset %d", start)
	case b[start] == '0' && i-start > 1:
		return 0, 0, fmt.Errorf("length at offset %d has a leading zero", start)
	}
	return n, i, nil
}
