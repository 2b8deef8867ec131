package serial

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/auth"
	"github.com/hasuite/hasuite/heartbeat/msg"
)

// frameAll feeds the pieces to a fresh framer and collects the result.
func frameAll(max int, pieces ...[]byte) (frames []string, bad int) {
	f := newFramer(max)
	for _, p := range pieces {
		bad += f.feed(p, func(b []byte) { frames = append(frames, string(b)) })
	}
	return frames, bad
}

// splitRandom cuts b into pieces at random offsets.
func splitRandom(r *rand.Rand, b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n := 1 + r.IntN(min(len(b), 64))
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

func bytewise(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}

func TestFramer(t *testing.T) {
	big := ">>>\n" + strings.Repeat("x", 40) + "\n<<<\n" // 50 bytes
	tests := []struct {
		name   string
		in     string
		max    int // 0: msg.MaxWire
		frames []string
		bad    int
	}{
		{"one frame", ">>>\na=1\nb=2\n<<<\n", 0, []string{">>>\na=1\nb=2\n<<<\n"}, 0},
		{"two frames", ">>>\na=1\n<<<\n>>>\nb=2\n<<<\n", 0, []string{">>>\na=1\n<<<\n", ">>>\nb=2\n<<<\n"}, 0},
		{"garbage lines before", "noise\n\x00\xff\xfe\n<<<\n\n>>>\na=1\n<<<\n", 0, []string{">>>\na=1\n<<<\n"}, 0},
		{"garbage glued to start", "\x00\x00junk>>>\na=1\n<<<\n", 0, []string{">>>\na=1\n<<<\n"}, 0},
		{"more than three >", ">>>>>\na=1\n<<<\n", 0, []string{">>>\na=1\n<<<\n"}, 0},
		{"start not at line end", ">>>x\na=1\n<<<\n", 0, nil, 0},
		{"end must be exact", ">>>\na=1\n<<< \nb=2\n<<<\n", 0, []string{">>>\na=1\n<<< \nb=2\n<<<\n"}, 0},
		{"frame cut at a line end", ">>>\na=1\n>>>\nb=2\n<<<\n", 0, []string{">>>\nb=2\n<<<\n"}, 1},
		{"frame cut mid-line: both readings", ">>>\na=1\nb=hal>>>\nc=3\n<<<\n", 0,
			[]string{">>>\na=1\nb=hal>>>\nc=3\n<<<\n", ">>>\nc=3\n<<<\n"}, 0},
		{"value ending in >>>", ">>>\nv=x>>>\nauth=1 ab\n<<<\n", 0,
			[]string{">>>\nv=x>>>\nauth=1 ab\n<<<\n", ">>>\nauth=1 ab\n<<<\n"}, 0},
		{"latest glued start wins", ">>>\na>>>\nb>>>\nc\n<<<\n", 0,
			[]string{">>>\na>>>\nb>>>\nc\n<<<\n", ">>>\nc\n<<<\n"}, 0},
		{"unterminated frame pending", ">>>\na=1\n", 0, nil, 0},
		{"bytes pass unchanged", ">>>\na=\r\x80\xff\x00\n<<<\n", 0, []string{">>>\na=\r\x80\xff\x00\n<<<\n"}, 0},
		{"empty lines kept", ">>>\n\na=1\n\n<<<\n", 0, []string{">>>\n\na=1\n\n<<<\n"}, 0},
		{"empty frame", ">>>\n<<<\n", 0, []string{">>>\n<<<\n"}, 0},
		{"exactly max", big, len(big), []string{big}, 0},
		{"one over max, then resync", big + ">>>\nok\n<<<\n", len(big) - 1, []string{">>>\nok\n<<<\n"}, 1},
		{"oversized line glued to a start", ">>>\n" + strings.Repeat("y", 60) + ">>>\nok\n<<<\n", 30,
			[]string{">>>\nok\n<<<\n"}, 1},
		{"oversized frame continues at glued start", ">>>\n" + strings.Repeat("y", 10) + ">>>\n" + strings.Repeat("z", 10) + "\n<<<\n", 32,
			[]string{">>>\n" + strings.Repeat("z", 10) + "\n<<<\n"}, 1},
		{"end marker outside a frame ignored", "<<<\n<<<\n", 0, nil, 0},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			if max == 0 {
				max = msg.MaxWire
			}
			in := []byte(tt.in)
			for _, pieces := range [][][]byte{{in}, bytewise(in), splitRandom(r, in), splitRandom(r, in)} {
				frames, bad := frameAll(max, pieces...)
				if fmt.Sprintf("%q", frames) != fmt.Sprintf("%q", tt.frames) || bad != tt.bad {
					t.Fatalf("in %d pieces: frames %q bad %d, want %q bad %d", len(pieces), frames, bad, tt.frames, tt.bad)
				}
			}
		})
	}
}

func TestFramerAbandon(t *testing.T) {
	f := newFramer(msg.MaxWire)
	var got []string
	emit := func(b []byte) { got = append(got, string(b)) }
	f.feed([]byte(">>>\na=1\nb="), emit)
	if bad := f.abandon(); bad != 1 {
		t.Errorf("abandon mid-frame = %d, want 1", bad)
	}
	// The rest of the old frame, read from a new device, is not completed.
	f.feed([]byte("2\n<<<\n>>>\nc=3\n<<<\n"), emit)
	if want := []string{">>>\nc=3\n<<<\n"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after abandon: %q, want %q", got, want)
	}
	if bad := f.abandon(); bad != 0 {
		t.Errorf("abandon while hunting = %d, want 0", bad)
	}
}

// testKeyring is the reference's test key (md5 s3cret).
func testKeyring(t testing.TB) *auth.Keyring {
	t.Helper()
	kr, err := auth.NewKeyring(1, auth.Key{Index: 1, Method: auth.MD5, Secret: []byte("s3cret")})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// statusFrame is a signed classic status message like Heartbeat's, with a
// binary field (base64 in the classic form).
func statusFrame(t testing.TB, kr *auth.Keyring, src string, seq int, pad int) []byte {
	t.Helper()
	m := msg.New("status")
	m.Set("st", "active")
	m.Set("dt", "2710")
	m.Set("protocol", "1")
	m.Set(msg.FSrc, src)
	m.SetBinary(msg.FSrcUUID, []byte("0123456789abcdef"))
	m.Set(msg.FSeq, fmt.Sprintf("%x", seq))
	m.Set(msg.FGen, "5")
	m.Set(msg.FTS, "65f0a1b2")
	m.Set(msg.FLoad, "0.00 0.01 0.05 1/90 1234")
	m.Set(msg.FTTL, "3")
	if pad > 0 {
		m.Set("info", strings.Repeat("p", pad))
	}
	return msg.EncodeClassic(m, kr)
}

// TestFramerRecoversIntactFrames mangles a stream of signed frames (garbage
// between them, frames cut short, bits flipped) and checks, over many
// seeds and random read boundaries, that every intact frame is delivered in
// order and that nothing else that was delivered authenticates.
func TestFramerRecoversIntactFrames(t *testing.T) {
	kr := testKeyring(t)
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		var stream []byte
		var intact [][]byte
		for i := range 12 {
			fr := statusFrame(t, kr, "alpha", i+1, r.IntN(200))
			switch r.IntN(6) {
			case 0: // garbage before it, maybe without a final newline
				g := make([]byte, r.IntN(40))
				const alphabet = "ab=\n>< \x00\xff"
				for j := range g {
					g[j] = alphabet[r.IntN(len(alphabet))]
				}
				stream = append(stream, g...)
				stream = append(stream, fr...)
				intact = append(intact, fr)
			case 1: // cut short (the rest never arrives)
				stream = append(stream, fr[:r.IntN(len(fr))]...)
			case 2: // one bit flipped
				c := bytes.Clone(fr)
				c[r.IntN(len(c))] ^= 1 << r.IntN(8)
				stream = append(stream, c...)
			default:
				stream = append(stream, fr...)
				intact = append(intact, fr)
			}
		}
		f := newFramer(msg.MaxWire)
		var got [][]byte
		for _, p := range splitRandom(r, stream) {
			f.feed(p, func(b []byte) { got = append(got, b) })
		}
		next := 0
		for _, g := range got {
			if next < len(intact) && bytes.Equal(g, intact[next]) {
				next++
				continue
			}
			if _, err := msg.Decode(g, kr); err == nil && !containsFrame(intact, g) {
				t.Fatalf("seed %d: a mangled frame authenticated: %q", seed, g)
			}
		}
		if next != len(intact) {
			t.Fatalf("seed %d: %d of %d intact frames delivered in order; missing %q\nstream %q\ngot %q",
				seed, next, len(intact), intact[next], stream, got)
		}
	}
}

func containsFrame(fs [][]byte, b []byte) bool {
	for _, f := range fs {
		if bytes.Equal(f, b) {
			return true
		}
	}
	return false
}

// FuzzFrameReader feeds arbitrary byte streams, cut at arbitrary read
// boundaries, through the framer: it never panics, every frame starts with
// ">>>\n", ends with "<<<\n" and is within the size bound, and the result
// does not depend on where the reads were cut.
func FuzzFrameReader(f *testing.F) {
	kr := testKeyring(f)
	fr := statusFrame(f, kr, "alpha", 1, 0)
	f.Add(fr, uint64(0), uint16(0))
	f.Add(append([]byte("garbage>>>\nx=1\n"), fr...), uint64(3), uint16(100))
	f.Add([]byte(">>>\na>>>\n>>>\n<<<\n<<<\n"), uint64(1), uint16(12))
	f.Add(append(fr[:50:50], fr...), uint64(9), uint16(64))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, maxSel uint16) {
		max := msg.MaxWire
		if maxSel != 0 {
			max = int(maxSel) // small limits exercise the oversize paths
		}
		whole, wholeBad := frameAll(max, data)
		r := rand.New(rand.NewPCG(seed, seed>>1))
		split, splitBad := frameAll(max, splitRandom(r, data)...)
		if fmt.Sprintf("%q", whole) != fmt.Sprintf("%q", split) || wholeBad != splitBad {
			t.Fatalf("depends on read boundaries: %q (bad %d) vs %q (bad %d)", whole, wholeBad, split, splitBad)
		}
		limit := max
		if limit < len(frameStart)+len(frameEnd) {
			limit = len(frameStart) + len(frameEnd)
		}
		for _, g := range whole {
			if !strings.HasPrefix(g, frameStart) || !strings.HasSuffix(g, frameEnd) || len(g) > limit {
				t.Fatalf("bad frame %q (limit %d)", g, limit)
			}
		}
	})
}
