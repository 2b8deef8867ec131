package msg

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// The 290-byte status packet of reference §2.6, captured from a real
// Heartbeat 3.0.6 node (cluster-glue 1.0.12), key "1 md5 s3cret".
const vectorHex = "" +
	"2323230a31313a283029743d7374617475732c383a28302973743d75702c31303a28302964743d326565302c31333a28" +
	"302970726f746f636f6c3d312c31323a2830297372633d616c7068612c32373a283129737263757569643d64f3423075" +
	"e748cb824fefe2c9c09a5a2c383a2830297365713d322c31343a28302968673d36623032363335392c31343a28302974" +
	"733d36623032363335382c33323a2830296c643d302e353920302e333620302e313620312f3130372031323433372c38" +
	"3a28302974746c3d332c34323a283029617574683d312062326534386233363461343965616261646466353865306530" +
	"633665323232382c2525250a33343a312038366230363966623833363365626532353166303932633633386232303732" +
	"632c"

func vectorBytes(t testing.TB) []byte {
	t.Helper()
	b, err := hex.DecodeString(vectorHex)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 290 {
		t.Fatalf("vector is %d bytes, want 290", len(b))
	}
	return b
}

func TestVectorClassicText(t *testing.T) {
	want := strings.Join([]string{
		"t=status", "st=up", "dt=2ee0", "protocol=1", "src=alpha",
		"(1)srcuuid=ZPNCMHXnSMuCT+/iycCaWg==", "seq=2", "hg=6b026359",
		"ts=6b026358", "ld=0.59 0.36 0.16 1/107 12437", "ttl=3",
	}, "\n") + "\n"
	got := statusMessage().AppendClassicFields(nil)
	if string(got) != want {
		t.Fatalf("classic text\n got %q\nwant %q", got, want)
	}
	if sig := md5Ring(t).Sign(got); sig != "1 b2e48b364a49eabaddf58e0e0c6e2228" {
		t.Fatalf("inner auth = %q", sig)
	}
}

func TestVectorEncode(t *testing.T) {
	want := vectorBytes(t)
	m := statusMessage()
	before := m.Clone()
	got := EncodeNetstring(m, md5Ring(t), true)
	if !bytes.Equal(got, want) {
		t.Fatalf("EncodeNetstring\n got %q\nwant %q", got, want)
	}
	if d := diffMessages(m, before); d != "" {
		t.Fatalf("EncodeNetstring modified its input: %s", d)
	}
	// An auth field already present (stale, or in the middle) is replaced,
	// not duplicated.
	m.Fields = append(m.Fields[:3:3], append([]Field{{Name: FAuth, Value: []byte("1 stale")}}, m.Fields[3:]...)...)
	if got := EncodeNetstring(m, md5Ring(t), true); !bytes.Equal(got, want) {
		t.Fatalf("with a stale auth field\n got %q\nwant %q", got, want)
	}
}

func TestVectorDecode(t *testing.T) {
	b := vectorBytes(t)
	m, err := Decode(b, md5Ring(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := diffMessages(m, statusMessage()); d != "" {
		t.Fatal(d)
	}
	// Parse keeps the inner auth field, as the last field.
	p, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	last := p.Fields[len(p.Fields)-1]
	if last.Name != FAuth || string(last.Value) != "1 b2e48b364a49eabaddf58e0e0c6e2228" {
		t.Fatalf("last parsed field = %s=%q", last.Name, last.Value)
	}
	// The trailer signs the 252 bytes "###\n" ... "%%%\n".
	end := bytes.Index(b, []byte("%%%\n")) + 4
	if end != 252 || md5Ring(t).Sign(b[:end]) != "1 86b069fb8363ebe251f092c638b2072c" {
		t.Fatalf("trailer input is %d bytes, signature %q", end, md5Ring(t).Sign(b[:end]))
	}
}
