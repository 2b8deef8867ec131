package msg

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/auth"
)

func TestRoundTrip(t *testing.T) {
	rings := []struct {
		name string
		kr   *auth.Keyring
	}{
		{"md5", keyring(t, 1, auth.MD5, "s3cret")},
		{"sha1", keyring(t, 2, auth.SHA1, "Sha1Key!")},
		{"sha256", keyring(t, 15, auth.SHA256, "a longer sha256 key")},
		{"crc", keyring(t, 0, auth.CRC, "")},
	}
	msgs := map[string]*Message{
		"status":    statusMessage(),
		"rich":      richMessage(),
		"empty":     {},
		"max depth": nestedMessage(MaxDepth),
	}
	for _, r := range rings {
		for name, m := range msgs {
			if err := m.Validate(); err != nil {
				t.Fatalf("%s: test message invalid: %v", name, err)
			}
			before := m.Clone()
			encodings := map[string][]byte{
				"netstring":            EncodeNetstring(m, r.kr, false),
				"netstring inner auth": EncodeNetstring(m, r.kr, true),
				"classic":              EncodeClassic(m, r.kr),
			}
			for enc, b := range encodings {
				t.Run(r.name+"/"+name+"/"+enc, func(t *testing.T) {
					got, err := Decode(b, r.kr)
					if err != nil {
						t.Fatal(err)
					}
					if d := diffMessages(got, m); d != "" {
						t.Fatal(d)
					}
					// Decoding again after re-encoding is stable.
					if again := EncodeNetstring(got, r.kr, enc == "netstring inner auth"); enc != "classic" && !bytes.Equal(again, b) {
						t.Fatalf("re-encoding differs\n got %q\nwant %q", again, b)
					}
				})
			}
			if d := diffMessages(m, before); d != "" {
				t.Fatalf("encoders modified %s: %s", name, d)
			}
		}
	}
}

// TestUnsignedEncode: tools may encode without a keyring; Parse reads it.
func TestUnsignedEncode(t *testing.T) {
	m := richMessage()
	for name, b := range map[string][]byte{
		"netstring": EncodeNetstring(m, nil, true),
		"classic":   EncodeClassic(m, nil),
	} {
		got, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := diffMessages(got, m); d != "" {
			t.Fatalf("%s: %s", name, d)
		}
		if _, err := Decode(b, md5Ring(t)); !errors.Is(err, ErrNoAuth) {
			t.Fatalf("%s: Decode error %v, want ErrNoAuth", name, err)
		}
	}
	if got := EncodeNetstring(nil, nil, false); string(got) != "###\n%%%\n" {
		t.Fatalf("nil message = %q", got)
	}
	if got := EncodeClassic(nil, nil); string(got) != ">>>\n<<<\n" {
		t.Fatalf("nil message = %q", got)
	}
}

// TestClassicEscapes pins the byte-level classic form of reference §1.1/1.2.
func TestClassicEscapes(t *testing.T) {
	inner := New("x")
	inner.Set("s", "a\nb")
	deep := New("y")
	inner.Fields = append(inner.Fields, Field{Name: "d", Type: Struct, Sub: deep})
	m := &Message{}
	m.Set("s", "a\nb")
	m.SetBinary("b", []byte{0xff, 0, 1})
	m.Set(FAuth, "skipped at top level")
	m.Fields = append(m.Fields,
		Field{Name: "n", Type: Struct, Sub: inner},
		Field{Name: "l", Type: List, Value: PackList("p", "qr")},
		Field{Name: "c", Type: Compressed, Value: []byte("z")},
	)
	want := "s=a\x13b\n" +
		"(1)b=/wAB\n" +
		// depth-0 struct: newlines become 20; its own struct's become 21.
		"(2)n=>>>\x14t=x\x14s=a\x13b\x14(2)d=>>>\x15t=y\x15<<<\x15\x14<<<\x14\n" +
		"(3)l=1:p,2:qr,\n" +
		"(4)c=eg==\n"
	if got := string(m.AppendClassicFields(nil)); got != want {
		t.Fatalf("classic text\n got %q\nwant %q", got, want)
	}
	// Nested auth fields are part of the nested text (Heartbeat skips auth
	// only at the top level).
	inner.Set(FAuth, "1 x")
	if got := string(m.AppendClassicFields(nil)); !strings.Contains(got, "\x14auth=1 x\x14") {
		t.Fatalf("nested auth missing from %q", got)
	}
}

func TestNetstringNesting(t *testing.T) {
	inner := New("x")
	m := &Message{Fields: []Field{{Name: "n", Type: Struct, Sub: inner}, {Name: "e", Type: Struct}}}
	want := "###\n" + ns("(2)n="+netstringMsg("(0)t=x")) + ns("(2)e=###\n%%%\n") + "%%%\n"
	if got := string(EncodeNetstring(m, nil, false)); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestValidate(t *testing.T) {
	many := &Message{Fields: make([]Field, MaxFields+1)}
	for i := range many.Fields {
		many.Fields[i] = Field{Name: "f", Value: []byte("v")}
	}
	exactly := &Message{Fields: many.Fields[:MaxFields]}
	tests := []struct {
		name string
		m    *Message
		want error
	}{
		{"status", statusMessage(), nil},
		{"rich", richMessage(), nil},
		{"nil", nil, nil},
		{"max depth", nestedMessage(MaxDepth), nil},
		{"too deep", nestedMessage(MaxDepth + 1), ErrMalformed},
		{"MaxFields fields", exactly, nil},
		{"too many fields", many, ErrTooLarge},
		{"empty name", &Message{Fields: []Field{{Name: ""}}}, ErrMalformed},
		{"name with =", &Message{Fields: []Field{{Name: "a=b"}}}, ErrMalformed},
		{"name with newline", &Message{Fields: []Field{{Name: "a\nb"}}}, ErrMalformed},
		{"name with paren", &Message{Fields: []Field{{Name: "(1)a"}}}, ErrMalformed},
		{"name >>>", &Message{Fields: []Field{{Name: ">>>"}}}, ErrMalformed},
		{"string NUL", &Message{Fields: []Field{{Name: "a", Value: []byte{0}}}}, ErrMalformed},
		{"string 0x13", &Message{Fields: []Field{{Name: "a", Value: []byte{0x13}}}}, ErrMalformed},
		{"string newline ok", &Message{Fields: []Field{{Name: "a", Value: []byte("\n")}}}, nil},
		{"binary anything", &Message{Fields: []Field{{Name: "a", Type: Binary, Value: []byte{0, 0x13, '\n'}}}}, nil},
		{"bad list", &Message{Fields: []Field{{Name: "a", Type: List, Value: []byte("x")}}}, ErrMalformed},
		{"unknown type", &Message{Fields: []Field{{Name: "a", Type: 5}}}, ErrMalformed},
		{"nested bad", &Message{Fields: []Field{{Name: "s", Type: Struct, Sub: &Message{Fields: []Field{{Name: ""}}}}}}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestLists(t *testing.T) {
	tests := []struct {
		name   string
		packed string
		items  []string
		bad    bool
	}{
		{"one", "3:abc,", []string{"abc"}, false},
		{"several", "1:a,2:b ,10:0123456789,", []string{"a", "b ", "0123456789"}, false},
		{"separators inside", "3:,:,,", []string{",:,"}, false},
		{"empty", "", nil, true},
		{"empty item", "0:,", nil, true},
		{"leading zero", "01:a,", nil, true},
		{"short", "5:abc,", nil, true},
		{"no comma", "3:abc", nil, true},
		{"no colon", "3abc,", nil, true},
		{"trailing junk", "1:a,x", nil, true},
		{"newline item", "1:\n,", nil, true},
		{"NUL item", "1:\x00,", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := UnpackList([]byte(tt.packed))
			if tt.bad {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("UnpackList = %q, %v; want ErrMalformed", items, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(items, "|") != strings.Join(tt.items, "|") || len(items) != len(tt.items) {
				t.Fatalf("items %q, want %q", items, tt.items)
			}
			if got := PackList(items...); string(got) != tt.packed {
				t.Fatalf("PackList = %q, want %q", got, tt.packed)
			}
		})
	}
}

// TestDecodedValuesDoNotAlias: the caller may reuse its receive buffer, and
// appending to one value must not clobber the next.
func TestDecodedValuesDoNotAlias(t *testing.T) {
	b := vectorBytes(t)
	m, err := Decode(b, md5Ring(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'X'
	}
	if d := diffMessages(m, statusMessage()); d != "" {
		t.Fatalf("message changed with the input buffer: %s", d)
	}
	_ = append(m.Fields[0].Value, "XXXXXXXX"...)
	if d := diffMessages(m, statusMessage()); d != "" {
		t.Fatalf("append to a value clobbered another: %s", d)
	}
}
