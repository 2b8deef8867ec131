package msg

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/auth"
)

// keyring builds a single-key keyring or fails the test.
func keyring(t testing.TB, idx int, m auth.Method, secret string) *auth.Keyring {
	t.Helper()
	kr, err := auth.NewKeyring(idx, auth.Key{Index: idx, Method: m, Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// md5Ring is the key of the reference captures: "1 md5 s3cret".
func md5Ring(t testing.TB) *auth.Keyring { return keyring(t, 1, auth.MD5, "s3cret") }

// diffMessages returns "" when a and b have the same fields (a nil value
// equals an empty one, a nil Sub an empty message) or a description of the
// first difference.
func diffMessages(a, b *Message) string {
	af, bf := fieldsOf(a), fieldsOf(b)
	if len(af) != len(bf) {
		return fmt.Sprintf("%d fields vs %d: %v | %v", len(af), len(bf), a, b)
	}
	for i := range af {
		x, y := &af[i], &bf[i]
		switch {
		case x.Name != y.Name:
			return fmt.Sprintf("field %d name %q vs %q", i, x.Name, y.Name)
		case x.Type != y.Type:
			return fmt.Sprintf("field %q type %d vs %d", x.Name, x.Type, y.Type)
		case x.Type == Struct:
			if d := diffMessages(x.Sub, y.Sub); d != "" {
				return fmt.Sprintf("struct %q: %s", x.Name, d)
			}
		case !bytes.Equal(x.Value, y.Value):
			return fmt.Sprintf("field %q value %q vs %q", x.Name, x.Value, y.Value)
		}
	}
	return ""
}

func fieldsOf(m *Message) []Field {
	if m == nil {
		return nil
	}
	return m.Fields
}

// withoutAuth returns a copy of m without top-level auth fields.
func withoutAuth(m *Message) *Message {
	c := m.Clone()
	c.Del(FAuth)
	return c
}

// statusMessage builds the status message of reference §1.7/§2.6 field by
// field, as the real node did.
func statusMessage() *Message {
	m := New("status")
	m.Set("st", "up")
	m.Set("dt", "2ee0")
	m.Set("protocol", "1")
	m.Set(FSrc, "alpha")
	m.SetBinary(FSrcUUID, []byte("d\xf3B0u\xe7H\xcb\x82O\xef\xe2\xc9\xc0\x9aZ"))
	m.Set(FSeq, "2")
	m.Set(FGen, "6b026359")
	m.Set(FTS, "6b026358")
	m.Set(FLoad, "0.59 0.36 0.16 1/107 12437")
	m.Set(FTTL, "3")
	return m
}

// richMessage uses every field type, nesting and the classic escapes.
func richMessage() *Message {
	inner := New("inner")
	inner.Set("text", "two\nlines")
	inner.SetBinary("bin", []byte{0, '\n', ',', 0xff})
	inner.Set(FAuth, "nested auth is kept")
	deeper := New("deeper")
	deeper.Set("x", "y")
	inner.Fields = append(inner.Fields, Field{Name: "sub", Type: Struct, Sub: deeper})

	m := New("rich")
	m.Set("multi", "a\nb\nc")
	m.Set("empty", "")
	m.SetBinary("raw", []byte("%%%\n###\n,:\n\x00"))
	m.SetBinary("nobytes", nil)
	m.Fields = append(m.Fields,
		Field{Name: "nest", Type: Struct, Sub: inner},
		Field{Name: "list", Type: List, Value: PackList("alpha", "beta gamma", "x,y:z")},
		Field{Name: "z", Type: Compressed, Value: []byte{0x78, 0x9c, 0x03, 0x00, '\n'}},
	)
	m.Set(FSrc, "alpha")
	return m
}
