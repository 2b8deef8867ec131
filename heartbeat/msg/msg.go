// Package msg is Heartbeat 3.0.6's message model and its two wire forms: the
// netstring form with an authentication trailer (UDP media) and the classic
// ">>>" text form with an inner auth field (serial media, old peers).
//
// A Message is an ordered list of typed fields. Lookup returns the first
// field of a name, as Heartbeat does; order matters only for signatures,
// which cover the bytes exactly as sent.
package msg

import (
	"strconv"
	"strings"
)

// FieldType is the type code of a field (cl_netstring_type in cluster-glue).
type FieldType uint8

// Field types. Heartbeat v1 only emits String and Binary; the others are
// decoded so that messages from API clients do not fail to parse.
const (
	String     FieldType = 0
	Binary     FieldType = 1
	Struct     FieldType = 2
	List       FieldType = 3
	Compressed FieldType = 4
)

// Field is one name/type/value entry. Value holds the raw bytes: the string,
// the binary data, the list's packed "<len>:<item>," form or the compressed
// stream. For Struct fields Sub holds the nested message and Value is unused.
type Field struct {
	Name  string
	Type  FieldType
	Value []byte
	Sub   *Message
}

// Message is an ordered list of fields.
type Message struct {
	Fields []Field
}

// Well-known field names.
const (
	FType     = "t"
	FSrc      = "src"
	FSrcUUID  = "srcuuid"
	FDest     = "dest"
	FDestUUID = "destuuid"
	FSeq      = "seq"
	FGen      = "hg"
	FTS       = "ts"
	FLoad     = "ld"
	FTTL      = "ttl"
	FAuth     = "auth"
)

// New returns a message whose first field is t=<typ>.
func New(typ string) *Message {
	// Room for the fields the core adds to every message (src, srcuuid,
	// seq, hg, ts, ld, ttl, ...): one allocation instead of five.
	m := &Message{Fields: make([]Field, 0, 16)}
	m.Set(FType, typ)
	return m
}

func (m *Message) index(name string) int {
	for i := range m.Fields {
		if m.Fields[i].Name == name {
			return i
		}
	}
	return -1
}

// Get returns the value of the first field called name.
func (m *Message) Get(name string) (string, bool) {
	if i := m.index(name); i >= 0 {
		return string(m.Fields[i].Value), true
	}
	return "", false
}

// Str returns the value of name or "" when absent.
func (m *Message) Str(name string) string {
	v, _ := m.Get(name)
	return v
}

// Bytes returns the raw value of the first field called name.
func (m *Message) Bytes(name string) ([]byte, bool) {
	if i := m.index(name); i >= 0 {
		return m.Fields[i].Value, true
	}
	return nil, false
}

// Type returns the t field.
func (m *Message) Type() string { return m.Str(FType) }

// Has reports whether a field called name exists.
func (m *Message) Has(name string) bool { return m.index(name) >= 0 }

// Set sets a string field, in place if it exists (keeping its position, as
// Heartbeat's ha_msg_mod does) or appended otherwise.
func (m *Message) Set(name, value string) { m.set(name, String, []byte(value)) }

// SetBinary sets a binary field like Set.
func (m *Message) SetBinary(name string, value []byte) {
	m.set(name, Binary, append([]byte(nil), value...))
}

func (m *Message) set(name string, t FieldType, v []byte) {
	if i := m.index(name); i >= 0 {
		m.Fields[i].Type, m.Fields[i].Value, m.Fields[i].Sub = t, v, nil
		return
	}
	m.Fields = append(m.Fields, Field{Name: name, Type: t, Value: v})
}

// Del removes every field called name.
func (m *Message) Del(name string) {
	out := m.Fields[:0]
	for _, f := range m.Fields {
		if f.Name != name {
			out = append(out, f)
		}
	}
	m.Fields = out
}

// Clone returns a deep copy.
func (m *Message) Clone() *Message {
	c := &Message{Fields: make([]Field, len(m.Fields))}
	for i, f := range m.Fields {
		c.Fields[i] = Field{Name: f.Name, Type: f.Type, Value: append([]byte(nil), f.Value...)}
		if f.Sub != nil {
			c.Fields[i].Sub = f.Sub.Clone()
		}
	}
	return c
}

// String renders the message for logs: name=value pairs, binary in hex.
func (m *Message) String() string {
	var b strings.Builder
	for i, f := range m.Fields {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.Name)
		b.WriteByte('=')
		switch f.Type {
		case String:
			b.WriteString(quoteIfNeeded(string(f.Value)))
		case Struct:
			if f.Sub != nil {
				b.WriteString("{" + f.Sub.String() + "}")
			}
		default:
			const hexdigits = "0123456789abcdef"
			b.WriteString("0x")
			for _, c := range f.Value {
				b.WriteByte(hexdigits[c>>4])
				b.WriteByte(hexdigits[c&15])
			}
		}
	}
	return b.String()
}

func quoteIfNeeded(s string) string {
	for _, r := range s {
		if r <= ' ' || r == '"' || r > '~' {
			return strconv.Quote(s)
		}
	}
	return s
}
