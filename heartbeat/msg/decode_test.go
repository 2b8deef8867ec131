package msg

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/auth"
)

// ns frames s as one netstring.
func ns(s string) string { return strconv.Itoa(len(s)) + ":" + s + "," }

// netstringMsg builds "###\n" + fields + "%%%\n" from raw field texts.
func netstringMsg(fields ...string) string {
	var b strings.Builder
	b.WriteString("###\n")
	for _, f := range fields {
		b.WriteString(ns(f))
	}
	b.WriteString("%%%\n")
	return b.String()
}

// signed appends the trailer Heartbeat would append to body.
func signed(kr *auth.Keyring, body string) []byte {
	return []byte(body + ns(kr.Sign([]byte(body))))
}

// nestedNetstring returns a struct value nested n levels deep.
func nestedNetstring(n int) string {
	v := netstringMsg("(0)x=y")
	for i := 1; i < n; i++ {
		v = netstringMsg("(2)s=" + v)
	}
	return v
}

// nestedMessageWithLeaf is what nestedNetstring(n) wrapped in one more
// message decodes to: n messages below the top, the deepest holding x=y.
func nestedMessageWithLeaf(n int) *Message {
	m := &Message{}
	m.Set("x", "y")
	for i := 0; i < n; i++ {
		outer := &Message{Fields: []Field{{Name: "s", Type: Struct, Sub: m}}}
		m = outer
	}
	return m
}

// nestedMessage returns a message whose struct fields nest n levels deep.
func nestedMessage(n int) *Message {
	m := New("leaf")
	for i := 0; i < n; i++ {
		outer := New("level")
		outer.Fields = append(outer.Fields, Field{Name: "s", Type: Struct, Sub: m})
		m = outer
	}
	return m
}

func TestParseMalformed(t *testing.T) {
	manyFields := make([]string, MaxFields+1)
	for i := range manyFields {
		manyFields[i] = "(0)f=v"
	}
	tests := []struct {
		name  string
		input string
		want  error
	}{
		{"empty", "", ErrMalformed},
		{"only newlines", "\n\n", ErrMalformed},
		{"garbage", "hello world", ErrMalformed},
		{"oversize", "###\n" + strings.Repeat("x", MaxWire), ErrTooLarge},
		{"too many fields", netstringMsg(manyFields...), ErrTooLarge},
		{"too many classic fields", ">>>\n" + strings.Repeat("f=v\n", MaxFields+1) + "<<<\n", ErrTooLarge},

		{"netstring without end", "###\n", ErrMalformed},
		{"netstring truncated field", "###\n6:(0)a=b", ErrMalformed},
		{"wrong length", "###\n5:(0)a=b,%%%\n", ErrMalformed},
		{"plus sign", "###\n+6:(0)a=b,%%%\n", ErrMalformed},
		{"minus sign", "###\n-6:(0)a=b,%%%\n", ErrMalformed},
		{"space before length", "###\n 6:(0)a=b,%%%\n", ErrMalformed},
		{"leading zero", "###\n06:(0)a=b,%%%\n", ErrMalformed},
		{"absurd length", "###\n99999999:(0)a=b,%%%\n", ErrMalformed},
		{"missing colon", "###\n6(0)a=b,%%%\n", ErrMalformed},
		{"missing comma", "###\n6:(0)a=b;%%%\n", ErrMalformed},
		{"no type prefix", netstringMsg("a=b"), ErrMalformed},
		{"type 5", netstringMsg("(5)a=b"), ErrMalformed},
		{"type letter", netstringMsg("(x)a=b"), ErrMalformed},
		{"no equals", netstringMsg("(0)abc"), ErrMalformed},
		{"empty name", netstringMsg("(0)=b"), ErrMalformed},
		{"name with paren", netstringMsg("(0)(1)a=b"), ErrMalformed},
		{"name with >>>", netstringMsg("(0)>>>a=b"), ErrMalformed},
		{"name with newline", netstringMsg("(0)a\nb=c"), ErrMalformed},
		{"name with NUL", netstringMsg("(0)a\x00=c"), ErrMalformed},
		{"string with NUL", netstringMsg("(0)a=b\x00c"), ErrMalformed},
		{"string with 0x13", netstringMsg("(0)a=b\x13c"), ErrMalformed},
		{"string with 0x14", netstringMsg("(0)a=b\x14c"), ErrMalformed},
		{"struct not a message", netstringMsg("(2)s=abc"), ErrMalformed},
		{"struct trailing bytes", netstringMsg("(2)s=###\n%%%\nX"), ErrMalformed},
		{"struct too deep", netstringMsg("(2)s=" + nestedNetstring(MaxDepth+1)), ErrMalformed},
		{"list empty", netstringMsg("(3)l="), ErrMalformed},
		{"list empty item", netstringMsg("(3)l=0:,"), ErrMalformed},
		{"list short item", netstringMsg("(3)l=3:ab,"), ErrMalformed},
		{"list no comma", netstringMsg("(3)l=2:ab"), ErrMalformed},
		{"list item newline", netstringMsg("(3)l=2:a\n,"), ErrMalformed},
		{"bad trailer", "###\n%%%\nxyz", ErrMalformed},
		{"trailer without comma", "###\n%%%\n3:1 a", ErrMalformed},
		{"bytes after trailer", "###\n%%%\n3:1 a,x", ErrMalformed},
		{"two NULs", "###\n%%%\n3:1 a,\x00\x00", ErrMalformed},

		{"classic without end", ">>>\n", ErrMalformed},
		{"classic unterminated line", ">>>\na=b", ErrMalformed},
		{"classic end without newline", ">>>\na=b\n<<<", ErrMalformed},
		{"classic line without equals", ">>>\nabc\n<<<\n", ErrMalformed},
		{"classic empty name", ">>>\n=b\n<<<\n", ErrMalformed},
		{"classic (0) prefix", ">>>\n(0)a=b\n<<<\n", ErrMalformed},
		{"classic (5) prefix", ">>>\n(5)a=b\n<<<\n", ErrMalformed},
		{"classic open paren", ">>>\n(1a=b\n<<<\n", ErrMalformed},
		{"classic prefix only", ">>>\n(1)=YQ==\n<<<\n", ErrMalformed},
		{"classic base64 length", ">>>\n(1)a=abc\n<<<\n", ErrMalformed},
		{"classic base64 alphabet", ">>>\n(1)a=ab*=\n<<<\n", ErrMalformed},
		{"classic base64 CR", ">>>\n(1)a=ab\r=\n<<<\n", ErrMalformed},
		{"classic NUL inside", ">>>\na=b\x00c\n<<<\n", ErrMalformed},
		{"classic bytes after end", ">>>\na=b\n<<<\nx", ErrMalformed},
		{"classic string escape byte", ">>>\na=b\x15\n<<<\n", ErrMalformed},
		{"classic struct not a message", ">>>\n(2)s=abc\n<<<\n", ErrMalformed},
		{"classic struct wrong symbol", ">>>\n(2)s=>>>\x15<<<\x15\n<<<\n", ErrMalformed},
		{"classic struct too deep", string(EncodeClassic(nestedMessage(MaxDepth+1), nil)), ErrMalformed},
		{"classic list bad", ">>>\n(3)l=9:a,\n<<<\n", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.input))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %v, %v; want %v", m, err, tt.want)
			}
			if _, err := Decode([]byte(tt.input), md5Ring(t)); !errors.Is(err, tt.want) {
				t.Fatalf("Decode error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  *Message
	}{
		{"empty netstring", "###\n%%%\n", &Message{}},
		{"empty classic", ">>>\n<<<\n", &Message{}},
		{"classic blank lines", ">>>\n\na=b\n\n\n<<<\n", &Message{Fields: []Field{{Name: "a", Value: []byte("b")}}}},
		{"leading newlines", "\n\n>>>\na=b\n<<<\n", &Message{Fields: []Field{{Name: "a", Value: []byte("b")}}}},
		{"trailing NUL", ">>>\na=b\n<<<\n\x00", &Message{Fields: []Field{{Name: "a", Value: []byte("b")}}}},
		{"classic empty value", ">>>\na=\n<<<\n", &Message{Fields: []Field{{Name: "a", Value: []byte{}}}}},
		{"classic escaped newline", ">>>\na=x\x13y\n<<<\n", &Message{Fields: []Field{{Name: "a", Value: []byte("x\ny")}}}},
		{"classic empty struct", ">>>\n(2)s=>>>\x14<<<\x14\n<<<\n", &Message{Fields: []Field{{Name: "s", Type: Struct, Sub: &Message{}}}}},
		{"netstring raw newline", netstringMsg("(0)a=x\ny"), &Message{Fields: []Field{{Name: "a", Value: []byte("x\ny")}}}},
		{"netstring binary", netstringMsg("(1)b=\x00,\n%%%\n"), &Message{Fields: []Field{{Name: "b", Type: Binary, Value: []byte("\x00,\n%%%\n")}}}},
		{"unsigned trailer kept out", "###\n%%%\n3:1 a,", &Message{}},
		{"max depth netstring", netstringMsg("(2)s=" + nestedNetstring(MaxDepth)), nestedMessageWithLeaf(MaxDepth)},
		{"max depth classic", string(EncodeClassic(nestedMessage(MaxDepth), nil)), nestedMessage(MaxDepth)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				t.Fatal("bad test: no expected message")
			}
			if d := diffMessages(m, tt.want); d != "" {
				t.Fatal(d)
			}
		})
	}
}

func TestDecodeAuth(t *testing.T) {
	kr := md5Ring(t)
	other := keyring(t, 1, auth.MD5, "other")
	index2 := keyring(t, 2, auth.MD5, "s3cret")
	good := vectorBytes(t)
	body := string(good[:252])
	tamperedInner := strings.Replace(body, "auth=1 b2e4", "auth=1 0000", 1)
	classicBody := "t=status\nsrc=alpha\n"
	classicSig := kr.Sign([]byte(classicBody))

	tests := []struct {
		name  string
		input []byte
		kr    *auth.Keyring
		want  error // nil: must decode
	}{
		{"good", good, kr, nil},
		{"trailing NUL", append(append([]byte{}, good...), 0), kr, nil},
		{"leading newline", append([]byte("\n"), good...), kr, nil},
		{"missing trailer", []byte(body), kr, ErrNoAuth},
		{"missing trailer, NUL", []byte(body + "\x00"), kr, ErrNoAuth},
		{"wrong key", good, other, ErrAuth},
		{"unknown index", good, index2, ErrAuth},
		{"nil keyring", good, nil, ErrAuth},
		{"bad token", []byte(body + ns("x")), kr, ErrAuth},
		{"empty token", []byte(body + ns("")), kr, ErrAuth},
		// Heartbeat ignores the inner field of a netstring message.
		{"inner auth ignored", signed(kr, tamperedInner), kr, nil},
		{"no inner auth", signed(kr, netstringMsg("(0)t=status")), kr, nil},

		{"classic", []byte(">>>\n" + classicBody + "auth=" + classicSig + "\n<<<\n"), kr, nil},
		{"classic auth first", []byte(">>>\nauth=" + classicSig + "\n" + classicBody + "<<<\n"), kr, nil},
		{"classic auth in middle", []byte(">>>\nt=status\nauth=" + classicSig + "\nsrc=alpha\n<<<\n"), kr, nil},
		{"classic NUL", []byte(">>>\n" + classicBody + "auth=" + classicSig + "\n<<<\n\x00"), kr, nil},
		{"classic no auth", []byte(">>>\n" + classicBody + "<<<\n"), kr, ErrNoAuth},
		{"classic binary auth", []byte(">>>\n" + classicBody + "(1)auth=YQ==\n<<<\n"), kr, ErrNoAuth},
		{"classic wrong sig", []byte(">>>\n" + classicBody + "auth=1 00\n<<<\n"), kr, ErrAuth},
		{"classic changed field", []byte(">>>\nt=status\nsrc=beta\nauth=" + classicSig + "\n<<<\n"), kr, ErrAuth},
		{"classic reordered", []byte(">>>\nsrc=alpha\nt=status\nauth=" + classicSig + "\n<<<\n"), kr, ErrAuth},
		// A trailer on a classic message is just bytes after "<<<\n".
		{"classic with trailer", []byte(">>>\n" + classicBody + "auth=" + classicSig + "\n<<<\n" + ns(classicSig)), kr, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(tt.input, tt.kr)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if m.Has(FAuth) {
					t.Fatalf("decoded message kept its auth field: %v", m)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %v, %v; want %v", m, err, tt.want)
			}
		})
	}
}

// TestDecodeTruncated cuts good packets at every offset: each prefix must
// fail cleanly (and never decode).
func TestDecodeTruncated(t *testing.T) {
	kr := md5Ring(t)
	packets := map[string][]byte{
		"netstring": vectorBytes(t),
		"classic":   EncodeClassic(statusMessage(), kr),
		"rich":      EncodeNetstring(richMessage(), kr, true),
	}
	for name, p := range packets {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(p, kr); err != nil {
				t.Fatalf("full packet: %v", err)
			}
			for n := 0; n < len(p); n++ {
				if _, err := Decode(p[:n], kr); err == nil {
					t.Fatalf("prefix of %d bytes decoded", n)
				} else if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNoAuth) && !errors.Is(err, ErrAuth) {
					t.Fatalf("prefix of %d bytes: unexpected error %v", n, err)
				}
			}
		})
	}
}

// TestDecodeFlipped flips bits at every offset of good packets: the result
// must be refused as forged, unsigned or malformed. The one exception is the case of
// a hex letter in a digest, which auth.Keyring.Verify accepts either way
// (Heartbeat compares case-sensitively); the content is then unchanged.
func TestDecodeFlipped(t *testing.T) {
	kr := md5Ring(t)
	packets := map[string][]byte{
		"netstring": vectorBytes(t),
		"classic":   EncodeClassic(statusMessage(), kr),
		"rich":      EncodeNetstring(richMessage(), kr, true),
	}
	for name, p := range packets {
		t.Run(name, func(t *testing.T) {
			orig, err := Decode(p, kr)
			if err != nil {
				t.Fatal(err)
			}
			for i := range p {
				for _, mask := range []byte{0x01, 0x20, 0x80} {
					q := bytes.Clone(p)
					q[i] ^= mask
					m, err := Decode(q, kr)
					switch {
					case err == nil:
						if !isHexCaseFlip(p[i], q[i]) || diffMessages(m, orig) != "" {
							t.Fatalf("offset %d ^%#02x (%q->%q): forged packet decoded", i, mask, p[i], q[i])
						}
					case !errors.Is(err, ErrAuth) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNoAuth):
						// ErrNoAuth: the flip renamed the classic auth field.
						t.Fatalf("offset %d ^%#02x: unexpected error %v", i, mask, err)
					}
				}
			}
		})
	}
}

func isHexCaseFlip(a, b byte) bool {
	return a^b == 0x20 && strings.IndexByte("abcdefABCDEF", a) >= 0
}

func TestErrorsCarryDetail(t *testing.T) {
	_, err := Parse([]byte(netstringMsg("(0)a=b", "(0)x")))
	if !errors.Is(err, ErrMalformed) || !strings.HasPrefix(err.Error(), ErrMalformed.Error()+": field 1: ") {
		t.Fatalf("error %v does not say which field", err)
	}
	_, err = Parse([]byte(netstringMsg("(2)outer=" + netstringMsg("(0)bad\x00=1"))))
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), `field 0: struct field "outer": field 0: `) {
		t.Fatalf("error %v does not name the struct field", err)
	}
}
