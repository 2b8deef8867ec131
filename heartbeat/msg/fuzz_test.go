package msg

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/auth"
)

// fuzzSeeds returns good and broken messages of both forms, including a few
// packets of every reference capture.
func fuzzSeeds(t testing.TB) [][]byte {
	kr := md5Ring(t)
	seeds := [][]byte{
		vectorBytes(t),
		EncodeClassic(statusMessage(), kr),
		EncodeNetstring(richMessage(), kr, true),
		EncodeClassic(richMessage(), kr),
		EncodeNetstring(nestedMessage(MaxDepth), kr, false),
		EncodeClassic(nestedMessage(MaxDepth), nil),
		[]byte(netstringMsg("(3)l=1:a,2:bc,", "(4)z=\x00\x01", "(2)s=###\n%%%\n")),
		[]byte(">>>\n\na=b\x13c\n(3)l=1:a,\n(2)s=>>>\x14<<<\x14\n<<<\n\x00"),
		[]byte("###\n%%%\n"),
		[]byte(">>>\n<<<\n"),
		[]byte("###\n06:(0)a=b,%%%\n"),
	}
	for _, file := range []string{"cap_ping.pcap", "cap_legacy.pcap", "cap_sha1.pcap", "cap_crc.pcap"} {
		cf, err := readPcap(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(cf.packets); i += 25 {
			seeds = append(seeds, cf.packets[i].payload)
		}
	}
	return seeds
}

func isCodecError(err error) bool {
	return errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge) ||
		errors.Is(err, ErrAuth) || errors.Is(err, ErrNoAuth)
}

// checkReencode encodes m (which has no top-level auth field) in every form
// and checks that decoding gives the same fields back.
func checkReencode(t *testing.T, m *Message, kr *auth.Keyring) {
	t.Helper()
	if err := m.Validate(); err != nil {
		t.Fatalf("decoded message fails Validate: %v", err)
	}
	for name, b := range map[string][]byte{
		"netstring":            EncodeNetstring(m, kr, false),
		"netstring inner auth": EncodeNetstring(m, kr, true),
		"classic":              EncodeClassic(m, kr),
	} {
		got, err := Decode(b, kr)
		if len(b) > MaxWire {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%s: %d bytes: error %v, want ErrTooLarge", name, len(b), err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: re-encoded message does not decode: %v\n%q", name, err, b)
		}
		if d := diffMessages(got, m); d != "" {
			t.Fatalf("%s: round trip changed the message: %s", name, d)
		}
	}
}

// FuzzDecode: no input panics; every error wraps a sentinel; whatever
// decodes re-encodes to the same fields. Random bytes almost never carry a
// valid signature, so the round trip is also checked on everything Parse
// accepts, re-signed.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	kr := md5Ring(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data, kr)
		if err != nil {
			if !isCodecError(err) {
				t.Fatalf("Decode error %v wraps no sentinel", err)
			}
		} else {
			if m.Has(FAuth) {
				t.Fatal("Decode kept an auth field")
			}
			checkReencode(t, m, kr)
		}
		p, err := Parse(data)
		if err != nil {
			if !isCodecError(err) {
				t.Fatalf("Parse error %v wraps no sentinel", err)
			}
			return
		}
		checkReencode(t, withoutAuth(p), kr)
	})
}

// FuzzParseClassic drives the classic parser (inputs are forced to start
// with ">>>\n").
func FuzzParseClassic(f *testing.F) {
	fuzzParseForm(f, classicStart)
}

// FuzzParseNetstring drives the netstring parser (inputs are forced to
// start with "###\n").
func FuzzParseNetstring(f *testing.F) {
	fuzzParseForm(f, netstringStart)
}

func fuzzParseForm(f *testing.F, start string) {
	for _, s := range fuzzSeeds(f) {
		if bytes.HasPrefix(s, []byte(start)) {
			f.Add(s[len(start):])
		}
	}
	kr := keyring(f, 3, auth.CRC, "")
	f.Fuzz(func(t *testing.T, data []byte) {
		in := append([]byte(start), data...)
		m, err := Parse(in)
		if err != nil {
			if !isCodecError(err) {
				t.Fatalf("Parse error %v wraps no sentinel", err)
			}
			return
		}
		checkReencode(t, withoutAuth(m), kr)
		// Unsigned encodings parse back too.
		for _, b := range [][]byte{EncodeNetstring(m, nil, false), EncodeClassic(m, nil)} {
			got, err := Parse(b)
			if err != nil && len(b) <= MaxWire {
				t.Fatalf("unsigned re-encoding does not parse: %v", err)
			}
			if err == nil {
				if d := diffMessages(got, withoutAuth(m)); d != "" {
					t.Fatal(d)
				}
			}
		}
	})
}
