package msg

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/auth"
)

// TestCaptures decodes every heartbeat packet captured from real Heartbeat
// 3.0.6 nodes (reference/heartbeat-captures, copied to testdata) and checks
// that re-encoding reproduces the captured bytes exactly. Every packet
// carries both signatures, so the inner auth field checks the classic text
// generator against the real node and the trailer the netstring encoder.
func TestCaptures(t *testing.T) {
	tests := []struct {
		file     string
		method   auth.Method
		secret   string
		udp      int
		echo     int
		skipping map[string]bool // reasons a record may be skipped for
	}{
		{"cap_ping.pcap", auth.MD5, "s3cret", 61, 94, map[string]bool{"icmp type 3": true}},
		{"cap_legacy.pcap", auth.MD5, "s3cret", 110, 0, nil},
		{"cap_sha1.pcap", auth.SHA1, "Sha1Key!", 84, 0, nil},
		{"cap_crc.pcap", auth.CRC, "", 85, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cf, err := readPcap(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			for reason, n := range cf.skipped {
				if !tt.skipping[reason] {
					t.Errorf("%d records skipped: %s", n, reason)
				}
			}
			kr := keyring(t, 1, tt.method, tt.secret)
			counts := map[string]int{}
			for _, p := range cf.packets {
				counts[p.kind]++
				checkCapturedPacket(t, kr, p)
			}
			if counts["udp"] != tt.udp || counts["icmp-echo"] != tt.echo {
				t.Errorf("found %d udp and %d echo payloads, want %d and %d",
					counts["udp"], counts["icmp-echo"], tt.udp, tt.echo)
			}
		})
	}
}

func checkCapturedPacket(t *testing.T, kr *auth.Keyring, p capturedPacket) {
	t.Helper()
	m, err := Decode(p.payload, kr)
	if err != nil {
		t.Errorf("record %d (%s from %s): %v", p.index, p.kind, p.src, err)
		return
	}
	parsed, err := Parse(p.payload)
	if err != nil {
		t.Errorf("record %d: Parse: %v", p.index, err)
		return
	}
	inner := parsed.Has(FAuth)
	if inner {
		if err := verifyClassic(parsed, kr); err != nil {
			t.Errorf("record %d: inner auth field: %v", p.index, err)
		}
	}
	if got := EncodeNetstring(m, kr, inner); !bytes.Equal(got, p.payload) {
		t.Errorf("record %d: re-encoded bytes differ\n got %q\nwant %q", p.index, got, p.payload)
	}
	// The same message over a serial link.
	back, err := Decode(EncodeClassic(m, kr), kr)
	if err != nil {
		t.Errorf("record %d: classic round trip: %v", p.index, err)
	} else if d := diffMessages(back, m); d != "" {
		t.Errorf("record %d: classic round trip: %s", p.index, d)
	}
}
