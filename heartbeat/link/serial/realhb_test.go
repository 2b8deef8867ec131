package serial

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/auth"
	"github.com/hasuite/hasuite/heartbeat/link"
	"github.com/hasuite/hasuite/heartbeat/msg"
	"github.com/hasuite/hasuite/internal/testbed"
)

// realJoinBound bounds how long the real node may take to hear us (its
// initdead is 8 s).
const realJoinBound = 40 * time.Second

// TestRealHeartbeatSerial runs a real Heartbeat 3.0.6 node "alpha" whose
// only medium is "serial" on one end of the pty cable, and a Port as node
// "beta" on the other end. It checks both directions: alpha's frames (the
// real plugin's framing and signature) arrive as single packets that
// authenticate, and the real node accepts beta's frames (beta becomes
// active and the serial link to it up). It needs root and the heartbeat
// package; it skips without them (fails under CI=true).
func TestRealHeartbeatSerial(t *testing.T) {
	testbed.RequireRealHeartbeat(t)
	bed := testbed.New(t)
	host := bed.AddHost("alpha")
	c := newCable(t)
	hbPath := c.Path(0) // the real node's tty
	hacf := fmt.Sprintf(`keepalive 200ms
deadtime 4
warntime 2
initdead 8
baud 19200
serial %s
node alpha beta
crm no
auto_failback on
`, hbPath)
	const authkeys = "auth 1\n1 md5 s3cret\n"
	alpha := host.StartRealHeartbeat(t, testbed.RealHBConfig{Node: "alpha", HACF: hacf, Authkeys: authkeys})
	// Kill the real node before the cable closes (cleanups run last-first):
	// on a hung-up tty Heartbeat 3.0.6 spins at realtime priority logging
	// "EOF in ttygets" and starves the machine.
	t.Cleanup(alpha.Kill)
	kr, err := auth.NewKeyring(1, auth.Key{Index: 1, Method: auth.MD5, Secret: []byte("s3cret")})
	if err != nil {
		t.Fatal(err)
	}

	sink := newSink()
	port := openPort(t, c.Path(1), 19200, sink)

	// Real -> us.
	got := sink.waitFor(t, "a status from the real node", func(ps []link.Packet) bool {
		for _, p := range ps {
			if m, err := msg.Decode(p.Data, kr); err == nil && m.Type() == "status" && m.Str(msg.FSrc) == "alpha" {
				return true
			}
		}
		return false
	})
	for _, p := range got {
		d := p.Data
		if _, err := msg.Decode(d, kr); err != nil {
			t.Errorf("a frame of the real node does not authenticate: %v\n%q", err, d)
			continue
		}
		lines := strings.Split(strings.TrimSuffix(string(d), "\n"), "\n")
		if lines[0] != ">>>" || lines[len(lines)-1] != "<<<" || !strings.HasPrefix(lines[len(lines)-2], "auth=1 ") ||
			bytes.ContainsAny(d, "\x00\r") || bytes.Contains(d, []byte("%%%")) {
			t.Errorf("real framing differs from the reference (classic text, inner auth last, '\\n' only, no NUL, no trailer): %q", d)
		}
	}
	t.Logf("first frame of the real node: %q", got[0].Data)

	// Us -> real: beta's status every keepalive, classic with inner auth,
	// no protocol field (the real node then needs no ACKs or reqnodes).
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for seq := 1; ; seq++ {
			m := msg.New("status")
			m.Set("st", "active")
			m.Set("dt", "fa0")
			m.Set(msg.FSrc, "beta")
			m.Set(msg.FSeq, fmt.Sprintf("%x", seq))
			m.Set(msg.FGen, "1")
			m.Set(msg.FTS, fmt.Sprintf("%x", time.Now().Unix()))
			m.Set(msg.FLoad, "0.00 0.00 0.00 1/100 1")
			m.Set(msg.FTTL, "3")
			_ = port.Send(msg.EncodeClassic(m, kr))
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()
	took := alpha.WaitNodeStatus(t, "beta", "active", realJoinBound)
	alpha.WaitClStatus(t, realJoinBound, "up", "hblinkstatus", "beta", hbPath)
	t.Logf("the real node saw beta active after %v; stats %+v", took, port.Stats())
	if st := port.Stats(); st.WriteErrors != 0 || st.Dropped != 0 {
		t.Errorf("stats %+v: want no write errors or drops", st)
	}
}
