package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// Addresses of the attack test.
var (
	node1Addr    = &net.UDPAddr{IP: net.IPv4(198, 18, 0, 1), Port: 694}
	node2Addr    = net.IPv4(198, 18, 0, 2)
	attackerAddr = &net.UDPAddr{IP: net.IPv4(198, 18, 0, 66), Port: 694}
)

// attacker is a third host on the heartbeat LAN with a UDP socket on port
// 694: it records what node2 sends it and sends anything to node1.
type attacker struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  [][]byte // datagrams from node2, in arrival order
}

func newAttacker(t *testing.T, h *testbed.Host) *attacker {
	t.Helper()
	a := &attacker{}
	// The socket is made inside the host's namespace and stays there.
	if err := h.Do(func() error {
		c, err := net.ListenUDP("udp4", attackerAddr)
		a.conn = c
		return err
	}); err != nil {
		t.Fatalf("attacker socket: %v", err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		a.conn.Close()
		<-done
	})
	go func() {
		defer close(done)
		buf := make([]byte, 1<<16)
		for {
			n, from, err := a.conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if from.IP.Equal(node2Addr) {
				a.mu.Lock()
				a.got = append(a.got, bytes.Clone(buf[:n]))
				a.mu.Unlock()
			}
		}
	}()
	return a
}

func (a *attacker) captured() [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([][]byte(nil), a.got...)
}

func (a *attacker) send(t *testing.T, pkts ...[]byte) {
	t.Helper()
	for _, p := range pkts {
		if _, err := a.conn.WriteToUDP(p, node1Addr); err != nil {
			t.Fatalf("attacker send (%d bytes): %v", len(p), err)
		}
	}
}

// netstring builds a Heartbeat netstring message ("###\n" fields "%%%\n")
// of string fields, without the auth trailer.
func netstring(fields ...string) []byte {
	var b bytes.Buffer
	b.WriteString("###\n")
	for _, f := range fields {
		v := "(0)" + f
		fmt.Fprintf(&b, "%d:%s,", len(v), v)
	}
	b.WriteString("%%%\n")
	return b.Bytes()
}

// signSHA256 appends the auth trailer "<len>:1 <hmac-sha256 hex>," over body.
func signSHA256(body []byte, key string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	v := "1 " + hex.EncodeToString(m.Sum(nil))
	return append(bytes.Clone(body), fmt.Sprintf("%d:%s,", len(v), v)...)
}

// forgedStatus is a status message from "node2" announcing a new
// generation: if node1 accepted it, node1 would log a restart of node2 and
// change the generation it shows.
func forgedStatus(gen uint64) []byte {
	return netstring("t=status", "st=active", "dt=1f4", "protocol=1", "src=node2",
		"seq=1", "hg="+strconv.FormatUint(gen, 16), "ts="+strconv.FormatInt(time.Now().Unix(), 16),
		"ld=0.00 0.00 0.00 1/1 1", "ttl=3")
}

// TestForgedReplayedAndGarbagePacketsDoNotChangePeerState puts an attacker
// host (198.18.0.66) on the LAN. node2 is configured to also send its
// heartbeats to the attacker, who so captures genuine signed packets.
// (a) Garbage, truncated, wrongly signed, unsigned and oversized datagrams
// claiming to come from node2 are dropped and counted by node1 and change
// nothing. (b) After node2 crashes, replaying its genuine packets (many
// times, over seconds) never revives it on node1 and is counted as replays
// and duplicates; also not right after node1 itself restarts (the peer
// marks it persisted). (c) A real restart of node2 is still accepted.
func TestForgedReplayedAndGarbagePacketsDoNotChangePeerState(t *testing.T) {
	const (
		keepalive = 50 * time.Millisecond
		deadtime  = 500 * time.Millisecond
	)
	b := testbed.New(t)
	sw := b.AddSwitch("lan")
	h1, h2, ha := b.AddHost("node1"), b.AddHost("node2"), b.AddHost("attacker")
	h1.Connect(sw, "eth0", "198.18.0.1/24")
	h2.Connect(sw, "eth0", "198.18.0.2/24")
	ha.Connect(sw, "eth0", "198.18.0.66/24")
	atk := newAttacker(t, ha)

	n1 := startOurs(t, h1, "node1", ourHACF("50ms", "500ms", "2s", "ucast eth0 198.18.0.2"), sha256Authkeys)
	n2 := startOurs(t, h2, "node2", ourHACF("50ms", "500ms", "2s", "ucast eth0 198.18.0.1", "ucast eth0 198.18.0.66"), sha256Authkeys)
	n1.WaitNodeStatus("node2", "active", joinBound)
	n2.WaitNodeStatus("node1", "active", joinBound)
	n1.waitPeerDeadtime("node2", deadtime)
	if _, ok := testbed.WaitFor(5*time.Second, e2ekit.SlowPoll, func() bool { return len(atk.captured()) >= 5 }); !ok {
		t.Fatalf("the attacker captured %d packets of node2", len(atk.captured()))
	}

	// (a) Forgeries.
	before := n1.Status()
	peer0, _ := findNode(before, "node2")
	genuine := atk.captured()[len(atk.captured())-1]
	end := bytes.Index(genuine, []byte("%%%\n"))
	if !bytes.HasPrefix(genuine, []byte("###\n")) || end < 0 {
		t.Fatalf("captured packet is not a signed netstring message: %q", genuine)
	}
	garbage := make([]byte, 300)
	if _, err := rand.Read(garbage); err != nil {
		t.Fatal(err)
	}
	garbage[0] = 'G' // never a valid start marker
	flipped := bytes.Clone(genuine)
	flipped[len(flipped)-2] ^= 0x01 // last hex digit of the trailer's digest
	var huge bytes.Buffer           // 7000 fields in one max-size datagram
	huge.WriteString("###\n")
	for huge.Len() < 65000 {
		huge.WriteString("6:(0)a=b,")
	}
	huge.WriteString("%%%\n")
	classicUnsigned := []byte(">>>\nt=status\nst=active\ndt=1f4\nsrc=node2\nseq=1\nhg=" +
		strconv.FormatUint(peer0.Generation+1, 16) + "\nts=1\nttl=3\n<<<\n")

	kinds := []struct {
		name string
		pkt  []byte
		kind string // the api.Dropped counter it must land in
	}{
		{"random garbage", garbage, "malformed"},
		{"genuine packet cut in half", genuine[:len(genuine)/2], "malformed"},
		{"genuine packet without its auth trailer", genuine[:end+4], "no_auth"},
		{"forged unsigned netstring status", forgedStatus(peer0.Generation + 1), "no_auth"},
		{"forged unsigned classic status", classicUnsigned, "no_auth"},
		{"forged status signed with a wrong key", signSHA256(forgedStatus(peer0.Generation+1), "not-the-key"), "bad_auth"},
		{"genuine packet with a corrupted digest", flipped, "bad_auth"},
		{"65000-byte datagram of 7000 fields", huge.Bytes(), "too_large"},
	}
	const copies = 3
	want := map[string]uint64{}
	for _, k := range kinds {
		for i := 0; i < copies; i++ {
			atk.send(t, k.pkt)
			if k.kind == "too_large" {
				// Each arrives in 45 fragments and takes about 100 KiB of
				// the socket's receive buffer (208 KiB by default): sent
				// back to back, the kernel may drop the third before the
				// loop has read the first, and nobody can count that.
				// So one at a time, each once node1 has counted it (a
				// miss is reported by the check below).
				testbed.WaitFor(5*time.Second, e2ekit.SlowPoll, func() bool {
					return n1.Status().Dropped.TooLarge-before.Dropped.TooLarge > uint64(i)
				})
			}
		}
		want[k.kind] += copies
	}
	counts := func(d api.Dropped) map[string]uint64 {
		return map[string]uint64{"malformed": d.Malformed, "no_auth": d.NoAuth, "bad_auth": d.BadAuth, "too_large": d.TooLarge}
	}
	c0 := counts(before.Dropped)
	var got map[string]uint64
	total := uint64(len(kinds) * copies)
	if _, ok := testbed.WaitFor(5*time.Second, e2ekit.SlowPoll, func() bool {
		got = counts(n1.Status().Dropped)
		var sum uint64
		for k, v := range got {
			sum += v - c0[k]
		}
		return sum >= total
	}); !ok {
		t.Errorf("node1 counted only part of %d hostile packets: before %v, now %v", total, c0, got)
	}
	for k, w := range want {
		if got[k]-c0[k] != w {
			t.Errorf("dropped.%s grew by %d, want %d (before %v, after %v)", k, got[k]-c0[k], w, c0, got)
		}
	}
	after := n1.Status()
	peer1, _ := findNode(after, "node2")
	if peer1.State != "active" || peer1.Generation != peer0.Generation {
		t.Errorf("forgeries changed node1's view of node2: before %+v, after %+v", peer0, peer1)
	}
	if r := n1.ClStatus("nodestatus", "node2"); r.Stdout != "active\n" || r.Code != 0 {
		t.Errorf("node1 after the forgeries: nodestatus node2 = %v", r)
	}
	if strings.Contains(n1.Log(), "heartbeat restart on node node2") {
		t.Errorf("a forged status was taken for a restart of node2:\n%s", testbed.Tail(n1.Log(), 20))
	}

	// (b) Replays. Let node2 send enough that its first packets are far
	// behind its last (old duplicates count as replays, recent ones as
	// duplicates), then crash it.
	if _, ok := testbed.WaitFor(20*time.Second, e2ekit.SlowPoll, func() bool { return n1.peer("node2").LastSeq >= 100 }); !ok {
		t.Fatalf("node2's sequence did not reach 100: %+v", n1.peer("node2"))
	}
	n2.Kill()
	n1.WaitNodeStatus("node2", "dead", 10*time.Second)
	capture := atk.captured()
	t.Logf("captured %d genuine packets of node2 for the replay", len(capture))
	core0 := n1.Status().Core.Counters

	// replayFor replays the capture in rounds for d, polling between
	// rounds that check(stage) holds.
	replayFor := func(d time.Duration, stage string, check func(stage string)) int {
		t.Helper()
		rounds := 0
		start := time.Now()
		for time.Since(start) < d {
			atk.send(t, capture...)
			rounds++
			next := time.Now().Add(150 * time.Millisecond)
			for time.Now().Before(next) {
				check(stage)
			}
		}
		return rounds
	}
	stillDead := func(stage string) {
		t.Helper()
		if r := n1.ClStatus("nodestatus", "node2"); r.Stdout != "dead\n" || r.Code != 1 {
			t.Fatalf("%s: node1 says node2 is %v, want dead; log:\n%s", stage, r, testbed.Tail(n1.Log(), 20))
		}
	}
	// A burst at once, then a steady replay over seconds.
	for i := 0; i < 10; i++ {
		atk.send(t, capture...)
	}
	rounds := replayFor(3*time.Second, "replay after the crash", stillDead)
	var core1 = n1.Status().Core.Counters
	if _, ok := testbed.WaitFor(5*time.Second, e2ekit.SlowPoll, func() bool {
		core1 = n1.Status().Core.Counters
		return core1.RxReplay > core0.RxReplay && core1.RxDuplicate > core0.RxDuplicate
	}); !ok {
		t.Errorf("replays not counted: rx_replay %d -> %d, rx_duplicate %d -> %d",
			core0.RxReplay, core1.RxReplay, core0.RxDuplicate, core1.RxDuplicate)
	}
	t.Logf("replayed %d packets in %d rounds: rx_replay +%d, rx_duplicate +%d, rx_accepted +%d",
		len(capture)*(rounds+10), rounds+10, core1.RxReplay-core0.RxReplay,
		core1.RxDuplicate-core0.RxDuplicate, core1.RxAccepted-core0.RxAccepted)
	if core1.RxAccepted != core0.RxAccepted {
		t.Errorf("node1 accepted %d replayed messages", core1.RxAccepted-core0.RxAccepted)
	}
	if p := n1.peer("node2"); p.State != "dead" {
		t.Errorf("node1's view of node2 after the replay: %+v", p)
	}
	if l := n1.ClStatus("hblinkstatus", "node2", "eth0"); l.Stdout != "dead\n" {
		t.Errorf("replays revived node2's link on node1: %v", l)
	}

	// (b2) The same replay right after node1 restarts: what it knew of
	// node2 must survive the restart (Heartbeat 3.0.6 forgets it).
	n1.Kill()
	n1.Start()
	linkUp := 0
	notAlive := func(stage string) {
		t.Helper()
		st, err := n1.TryStatus()
		if err != nil {
			return // between start and the socket
		}
		p, _ := findNode(st, "node2")
		if p.State == "active" || p.State == "up" {
			t.Fatalf("%s: node1 takes node2 for %s: %+v; log:\n%s", stage, p.State, p, testbed.Tail(n1.Log(), 20))
		}
		if l, _ := findLink(p, "eth0"); l.State == "up" {
			linkUp++
		}
	}
	replayFor(3*time.Second, "replay after node1 restarted", notAlive)
	if linkUp > 0 {
		// The node is not revived, but until initdead runs out its link
		// is shown up (hactl status; the log says "link eth0 to node2 up")
		// on the strength of replayed packets while node2 is not running.
		t.Errorf("after node1's restart, replayed duplicates of node2's packets made node1 report node2's link eth0 up "+
			"(hactl status, %d of the polls during the replay) although node2 is down; view now %+v", linkUp, n1.peer("node2"))
	}
	n1.WaitNodeStatus("node2", "dead", 10*time.Second)

	// (c) A genuine restart of node2 (new generation) is accepted.
	n2.Start()
	n1.WaitNodeStatus("node2", "active", joinBound)
	n2.WaitNodeStatus("node1", "active", joinBound)
	if strings.Contains(n1.Log(), "returning after partition") {
		t.Errorf("node1 took a replay for a return after partition:\n%s", testbed.Tail(n1.Log(), 20))
	}
	if r := n1.ClStatus("hbstatus"); r.Code != 0 {
		t.Errorf("node1 no longer answers: %v", r)
	}
	if n1.Proc.Exited() {
		t.Errorf("node1's daemon exited")
	}
}

// TestJunkFloodFromAThirdHostCausesNoFalseDeath: an attacker on the LAN
// sends node1 10,000 junk datagrams a second for 10 s (random garbage,
// unsigned forgeries, forgeries signed with a wrong key; in bursts of 500
// every 50 ms, as a sender with sendmmsg does) at keepalive 100ms /
// deadtime 500ms. node1 reads and drops them all while node2's heartbeats
// keep it alive: no false death on either node, and neither junk nor
// heartbeats are lost in node1's socket. (With the kernel's default
// 208 KiB receive buffer a burst overflowed it, and genuine heartbeats
// arriving then were dropped with the junk.)
func TestJunkFloodFromAThirdHostCausesNoFalseDeath(t *testing.T) {
	const (
		rate     = 10_000 // datagrams a second
		duration = 10 * time.Second
		total    = rate * int(duration/time.Second)
		burst    = 500 // every 50 ms
		batch    = 100 // datagrams per sendmmsg
	)
	b := testbed.New(t)
	sw := b.AddSwitch("lan")
	h1, h2, ha := b.AddHost("node1"), b.AddHost("node2"), b.AddHost("attacker")
	h1.Connect(sw, "eth0", "198.18.0.1/24")
	h2.Connect(sw, "eth0", "198.18.0.2/24")
	ha.Connect(sw, "eth0", "198.18.0.66/24")
	atk := newAttacker(t, ha)
	n1 := startOurs(t, h1, "node1", fastHACF("198.18.0.2"), sha256Authkeys)
	n2 := startOurs(t, h2, "node2", fastHACF("198.18.0.1"), sha256Authkeys)
	n1.WaitNodeStatus("node2", "active", joinBound)
	n2.WaitNodeStatus("node1", "active", joinBound)
	n1.waitPeerDeadtime("node2", fastDeadtime)
	n2.waitPeerDeadtime("node1", fastDeadtime)
	peer0 := n1.peer("node2")
	before := n1.Status().Dropped

	// The junk: 300 distinct datagrams of 1100 to 1400 bytes (as large as
	// fits one Ethernet frame: the most buffer per datagram).
	var junk [][]byte
	for i := 0; i < 300; i++ {
		size := 1100 + i
		forged := func() []byte {
			m := forgedStatus(peer0.Generation + uint64(i))
			pad := fmt.Sprintf("(0)pad=%s", strings.Repeat("x", max(0, size-len(m)-140)))
			return append(m[:len(m)-4], fmt.Sprintf("%d:%s,%%%%%%\n", len(pad), pad)...)
		}
		switch i % 3 {
		case 0:
			g := make([]byte, size)
			if _, err := rand.Read(g); err != nil {
				t.Fatal(err)
			}
			g[0] = 'G'
			junk = append(junk, g)
		case 1:
			junk = append(junk, forged())
		default:
			junk = append(junk, signSHA256(forged(), "not-the-key"))
		}
	}
	pc := ipv4.NewPacketConn(atk.conn)
	msgs := make([]ipv4.Message, batch)
	sent, batches := 0, 0
	start := time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	// Paced to rate (a late tick sends what is due), bounded in count
	// and in time.
	for sent < total && time.Since(start) < duration+5*time.Second {
		<-tick.C
		due := min(total, sent+burst, int(time.Since(start).Seconds()*rate)+burst)
		for sent < due {
			n := min(batch, due-sent)
			for i := range msgs[:n] {
				msgs[i] = ipv4.Message{Buffers: [][]byte{junk[(sent+i)%len(junk)]}, Addr: node1Addr}
			}
			k, err := pc.WriteBatch(msgs[:n], 0)
			if err != nil {
				tick.Stop()
				t.Fatalf("attacker: sendmmsg after %d datagrams: %v", sent, err)
			}
			sent += k
			batches++
		}
	}
	tick.Stop()
	took := time.Since(start)
	t.Logf("attacker sent %d junk datagrams in %v (%.0f/s, %d batches)", sent, took.Round(time.Millisecond),
		float64(sent)/took.Seconds(), batches)
	if sent < total {
		t.Fatalf("the attacker sent only %d of %d datagrams in %v (machine too busy to flood)", sent, total, took)
	}
	// A death is judged a deadtime after the last heartbeat: watch one
	// more deadtime after the flood.
	time.Sleep(2 * fastDeadtime)

	for _, n := range []*ourNode{n1, n2} {
		if log := n.Log(); strings.Contains(log, " is dead") {
			t.Errorf("%s declared its peer dead during the flood:\n%s", n.Name, testbed.Tail(log, 30))
		}
	}
	if p := n1.peer("node2"); p.State != "active" || p.Generation != peer0.Generation {
		t.Errorf("node1's view of node2 after the flood: %+v (before %+v)", p, peer0)
	}
	if p := n2.peer("node1"); p.State != "active" {
		t.Errorf("node2's view of node1 after the flood: %+v", p)
	}
	after := n1.Status().Dropped
	counted := (after.Malformed - before.Malformed) + (after.NoAuth - before.NoAuth) + (after.BadAuth - before.BadAuth)
	t.Logf("node1 dropped and counted %d of %d junk datagrams (malformed +%d, no_auth +%d, bad_auth +%d); late-heartbeat lines: node1 %d, node2 %d",
		counted, sent, after.Malformed-before.Malformed, after.NoAuth-before.NoAuth, after.BadAuth-before.BadAuth,
		strings.Count(n1.Log(), "late heartbeat"), strings.Count(n2.Log(), "late heartbeat"))
	// Every datagram reached the loop: the receive buffer held every
	// burst (and so the heartbeats that came with them).
	if counted != uint64(sent) {
		t.Errorf("node1 counted %d of %d junk datagrams: the kernel dropped the rest from its receive buffer", counted, sent)
	}
	if p := n1.peer("node2"); p.Counters.Gaps != peer0.Counters.Gaps || p.Counters.Lost != peer0.Counters.Lost {
		t.Errorf("node2's messages were lost at node1 during the flood: gaps %d -> %d, lost %d -> %d",
			peer0.Counters.Gaps, p.Counters.Gaps, peer0.Counters.Lost, p.Counters.Lost)
	}
}
