package core

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/msg"
)

// harness drives one core ("node1", peer "node2") by hand.
type harness struct {
	t      *testing.T
	c      *Core
	now    time.Duration
	out    []*msg.Message
	events []Event
	seq    uint64 // node2's next seq
	gen    uint64
}

func newHarness(t *testing.T, mod func(*Config)) *harness {
	cfg := Config{LocalNode: "node1", Nodes: []string{"node1", "node2"}, Links: []string{"eth0", "eth1"},
		Keepalive: 100 * time.Millisecond, Deadtime: 500 * time.Millisecond, Initdead: time.Second,
		MaxRexmitDelay: 250 * time.Millisecond, Hopfudge: 1, UUID: []byte("0123456789abcdef"),
		Generation: 7, FlowControl: true, Seed: 1}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, c: c, gen: 0x50}
	c.Start(h.tm())
	h.drain()
	return h
}

func (h *harness) tm() Time { return Time{Mono: h.now, Wall: 1_700_000_000} }

func (h *harness) drain() {
	out, ev := h.c.Ready()
	h.out = append(h.out, out...)
	h.events = append(h.events, ev...)
}

func (h *harness) advance(d time.Duration) {
	end := h.now + d
	for {
		n := h.c.Next()
		if n > end {
			break
		}
		if n > h.now {
			h.now = n
		}
		h.c.Tick(h.tm())
		h.drain()
	}
	h.now = end
}

// peerMsg builds a message from node2 with the next seq (or a given one).
func (h *harness) peerMsg(typ string, kv ...string) *msg.Message {
	m := msg.New(typ)
	for i := 0; i+1 < len(kv); i += 2 {
		m.Set(kv[i], kv[i+1])
	}
	m.Set(msg.FSrc, "node2")
	if !strings.HasPrefix(typ, "NS_") {
		h.seq++
		m.Set(msg.FSeq, strconv.FormatUint(h.seq, 16))
	}
	m.Set(msg.FGen, strconv.FormatUint(h.gen, 16))
	m.Set(msg.FTS, "6b026358")
	return m
}

func (h *harness) status(st string) *msg.Message {
	return h.peerMsg("status", "st", st, "dt", "1f4", "protocol", "1")
}

func (h *harness) recv(link string, m *msg.Message) {
	h.c.Receive(h.tm(), link, m)
	h.drain()
}

func (h *harness) state() NodeState {
	s, _ := h.c.NodeState("node2")
	return s
}

func (h *harness) sent(typ string) []*msg.Message {
	var out []*msg.Message
	for _, m := range h.out {
		if m.Type() == typ {
			out = append(out, m)
		}
	}
	return out
}

func (h *harness) hasEvent(k EventKind) bool {
	for _, e := range h.events {
		if e.Kind == k {
			return true
		}
	}
	return false
}

func TestStartSendsInitThenUp(t *testing.T) {
	h := newHarness(t, nil)
	st := h.sent("status")
	if len(st) != 2 || st[0].Str("st") != "init" || st[1].Str("st") != "up" {
		t.Fatalf("start statuses = %v", st)
	}
	m := st[0]
	want := []string{"t", "st", "dt", "protocol", "src", "srcuuid", "seq", "hg", "ts", "ld", "ttl"}
	for i, f := range m.Fields {
		if i >= len(want) || f.Name != want[i] {
			t.Fatalf("field order %v, want %v", m, want)
		}
	}
	if m.Str("dt") != "1f4" || m.Str("seq") != "1" || m.Str("hg") != "7" || m.Str("ttl") != "3" {
		t.Fatalf("control fields wrong: %v", m)
	}
}

func TestJoinAndActive(t *testing.T) {
	h := newHarness(t, nil)
	h.recv("eth0", h.status("up"))
	if h.state() != Up {
		t.Fatalf("peer state %v", h.state())
	}
	req := h.sent("reqnodes")
	if len(req) != 1 || req[0].Str("dest") != "node2" {
		t.Fatalf("reqnodes = %v", req)
	}
	if h.c.State() == Active {
		t.Fatal("active before repnodes")
	}
	h.recv("eth0", h.peerMsg("repnodes", "dest", "node1", "nodelist", "node1 node2 ", "delnodelist", " "))
	if h.c.State() != Active || !h.hasEvent(EvCommUp) {
		t.Fatalf("not active after repnodes: %v", h.c.State())
	}
}

func TestAnswersReqnodesWithEveryNode(t *testing.T) {
	h := newHarness(t, nil)
	h.recv("eth0", h.peerMsg("reqnodes", "dest", "node1"))
	rep := h.sent("repnodes")
	if len(rep) != 1 {
		t.Fatalf("repnodes = %v", rep)
	}
	if rep[0].Fields[0].Name != "dest" || rep[0].Str("nodelist") != "node1 node2 " || rep[0].Str("delnodelist") != " " {
		t.Fatalf("repnodes = %v", rep[0])
	}
}

func TestDeathAndReplays(t *testing.T) {
	h := newHarness(t, nil)
	var captured []*msg.Message
	for i := 0; i < 5; i++ {
		m := h.status("active")
		captured = append(captured, m.Clone())
		h.recv("eth0", m)
		h.advance(100 * time.Millisecond)
	}
	if h.state() != Active {
		t.Fatalf("state %v", h.state())
	}
	h.advance(600 * time.Millisecond)
	if h.state() != Dead {
		t.Fatalf("peer silent for deadtime is %v", h.state())
	}
	for _, m := range captured {
		h.recv("eth1", m.Clone())
	}
	if h.state() != Dead {
		t.Fatal("replayed heartbeats revived a dead peer")
	}
	old := h.status("active")
	old.Set(msg.FGen, "4f")
	h.recv("eth0", old)
	if h.state() != Dead || h.c.counters.RxReplay == 0 {
		t.Fatalf("older generation accepted: %v replays=%d", h.state(), h.c.counters.RxReplay)
	}
	h.gen++
	h.seq = 0
	h.recv("eth0", h.status("up"))
	if h.state() != Up || !h.hasEvent(EvPeerRestarted) {
		t.Fatalf("restart with a new generation not seen: %v", h.state())
	}
}

func TestDuplicatesOverTwoLinks(t *testing.T) {
	h := newHarness(t, nil)
	m := h.status("active")
	h.recv("eth0", m.Clone())
	n := len(h.events)
	h.recv("eth1", m.Clone())
	if h.c.counters.RxDuplicate != 1 || h.c.counters.RxAccepted != 1 {
		t.Fatalf("duplicate processed: %+v", h.c.counters)
	}
	for _, e := range h.events[n:] {
		if e.Kind == EvNodeState {
			t.Fatalf("duplicate changed state: %+v", e)
		}
	}
	snap := h.c.Snapshot(h.tm())
	for _, l := range snap.Nodes[1].Links {
		if l.State != "up" {
			t.Fatalf("link %s not up after a duplicate arrived on it", l.Name)
		}
	}
}

func TestGapRequestsRetransmissionThenGivesUp(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RexmitTries = 3 })
	h.recv("eth0", h.status("active"))
	h.seq += 2 // lose 2 and 3
	h.recv("eth0", h.status("active"))
	for i := 0; i < 20; i++ {
		h.recv("eth0", h.status("active"))
		h.advance(100 * time.Millisecond)
	}
	req := h.sent("NS_rexmit")
	asked := map[string]int{}
	for _, r := range req {
		if r.Str("firstseq") != r.Str("lastseq") || r.Has("seq") {
			t.Fatalf("bad rexmit request %v", r)
		}
		asked[r.Str("firstseq")]++
	}
	if asked["2"] != 3 || asked["3"] != 3 || len(asked) != 2 {
		t.Fatalf("requests per missing seq = %v, want 3 each for 2 and 3", asked)
	}
	if h.c.counters.LostMessages != 2 || !h.hasEvent(EvRexmitGiveUp) {
		t.Fatalf("gave up on %d", h.c.counters.LostMessages)
	}
}

func TestGapFilledByRetransmission(t *testing.T) {
	h := newHarness(t, nil)
	h.recv("eth0", h.status("active"))
	lost := h.peerMsg("custom", "x", "1")
	h.recv("eth0", h.status("active"))
	h.recv("eth0", lost) // arrives late: fills the gap, delivered once
	delivered := 0
	for _, e := range h.events {
		if e.Kind == EvDeliver && e.Msg.Type() == "custom" {
			delivered++
		}
	}
	h.recv("eth1", lost.Clone())
	for _, e := range h.events {
		if e.Kind == EvDeliver && e.Msg.Type() == "custom" {
			delivered--
		}
	}
	if delivered != 0 || len(h.c.byName["node2"].missing) != 0 {
		t.Fatalf("late message delivered %d extra times, missing %d", -delivered, len(h.c.byName["node2"].missing))
	}
}

func TestAnswersRexmitAndNaks(t *testing.T) {
	h := newHarness(t, nil)
	h.advance(time.Second) // some statuses of ours exist: seq 1..n
	h.out = nil
	h.recv("eth0", h.peerMsg("NS_rexmit", "dest", "node1", "firstseq", "2", "lastseq", "2"))
	again := h.sent("status")
	if len(again) != 1 || again[0].Str("seq") != "2" {
		t.Fatalf("resent %v", again)
	}
	h.recv("eth0", h.peerMsg("NS_rexmit", "dest", "node1", "firstseq", "2", "lastseq", "2"))
	if n := len(h.sent("status")); n != 1 {
		t.Fatalf("resent the same message twice within max_rexmit_delay (%d)", n)
	}
	h.c.hist[5%historySize] = nil // pretend 5 fell out of the history
	h.recv("eth0", h.peerMsg("NS_rexmit", "dest", "node1", "firstseq", "5", "lastseq", "5"))
	nak := h.sent("NS_nak_rexmit")
	if len(nak) != 1 || nak[0].Str("firstseq") != "5" || nak[0].Str("dest") != "node2" {
		t.Fatalf("nak = %v", nak)
	}
	h.recv("eth0", h.peerMsg("NS_rexmit", "dest", "node3", "firstseq", "3", "lastseq", "3"))
	if n := len(h.sent("status")); n != 1 {
		t.Fatal("answered a request addressed to another node")
	}
}

func TestShutdoneIsImmediateAndFinal(t *testing.T) {
	h := newHarness(t, nil)
	h.recv("eth0", h.status("active"))
	h.recv("eth0", h.peerMsg("shutdone", "st", "dead"))
	if h.state() != Dead || !h.hasEvent(EvPeerShutdown) {
		t.Fatalf("after shutdone: %v", h.state())
	}
	// Heartbeat keeps sending status for a while after shutdone.
	h.recv("eth0", h.status("active"))
	if h.state() != Dead {
		t.Fatal("status after shutdone revived the node")
	}
}

func TestGracefulStop(t *testing.T) {
	h := newHarness(t, nil)
	h.recv("eth0", h.status("active"))
	h.out = nil
	h.c.Stop(h.tm())
	h.drain()
	if sd := h.sent("shutdone"); len(sd) != 1 || sd[0].Str("st") != "dead" {
		t.Fatalf("shutdone = %v", sd)
	}
	if h.c.Done() {
		t.Fatal("done before the copies went out")
	}
	h.advance(time.Second)
	if !h.c.Done() {
		t.Fatal("not done after the stop grace")
	}
	sd := h.sent("shutdone")
	if len(sd) != shutdoneSends || sd[1].Str("seq") != sd[0].Str("seq") {
		t.Fatalf("shutdone copies = %v", sd)
	}
	if len(h.sent("status")) != 0 {
		t.Fatal("status sent after shutdone")
	}
}

func TestAdvertisedDeadtimeIsHonoured(t *testing.T) {
	h := newHarness(t, nil)
	h.recv("eth0", h.peerMsg("status", "st", "active", "dt", "bb8", "protocol", "1")) // 3000 ms
	h.recv("eth0", h.peerMsg("repnodes", "dest", "node1", "nodelist", "node1 node2 "))
	h.advance(2 * time.Second)
	if h.state() == Dead {
		t.Fatal("peer declared dead before its advertised deadtime")
	}
	h.advance(1100 * time.Millisecond)
	if h.state() != Dead {
		t.Fatal("peer alive after its advertised deadtime")
	}
}

func TestLateHeartbeatWarning(t *testing.T) {
	h := newHarness(t, nil)
	h.recv("eth0", h.status("active"))
	h.advance(300 * time.Millisecond) // warntime = 250ms
	if !h.hasEvent(EvLateHeartbeat) || h.state() == Dead {
		t.Fatalf("no late warning: %v", h.events)
	}
}

func TestFlowControlOffForOldPeers(t *testing.T) {
	h := newHarness(t, nil)
	h.recv("eth0", h.peerMsg("status", "st", "up", "dt", "1f4"))
	if !h.hasEvent(EvFlowControlOff) || h.c.State() != Active || len(h.sent("reqnodes")) != 0 {
		t.Fatalf("flow control not disabled: state %v", h.c.State())
	}
	for _, m := range h.sent("status") {
		if m.Str("st") == "active" && m.Has("protocol") {
			t.Fatal("still advertising protocol=1")
		}
	}
}

func TestBadFieldsAreDropped(t *testing.T) {
	tests := []struct {
		name string
		mod  func(m *msg.Message)
	}{
		{"no src", func(m *msg.Message) { m.Del("src") }},
		{"unknown node", func(m *msg.Message) { m.Set("src", "intruder") }},
		{"zero ts", func(m *msg.Message) { m.Set("ts", "0") }},
		{"bad ts", func(m *msg.Message) { m.Set("ts", "zz") }},
		{"no seq", func(m *msg.Message) { m.Del("seq") }},
		{"zero seq", func(m *msg.Message) { m.Set("seq", "0") }},
		{"no type", func(m *msg.Message) { m.Del("t") }},
		{"bad status word", func(m *msg.Message) { m.Set("st", "dead") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			m := h.status("active")
			tt.mod(m)
			h.recv("eth0", m)
			if h.state() != Init {
				t.Fatalf("state changed to %v", h.state())
			}
		})
	}
}

func TestMessagesForOthersAreNotActedUpon(t *testing.T) {
	h := newHarness(t, nil)
	h.recv("eth0", h.peerMsg("reqnodes", "dest", "node3"))
	if len(h.sent("repnodes")) != 0 {
		t.Fatal("answered a reqnodes for node3")
	}
	m := h.peerMsg("reqnodes", "dest", "node1")
	m.SetBinary(msg.FDestUUID, []byte("ffffffffffffffff"))
	h.recv("eth0", m)
	if len(h.sent("repnodes")) != 0 {
		t.Fatal("destuuid of another node ignored")
	}
}

func TestPeerMarksRejectOldTrafficAfterRestart(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.PeerMarks = map[string]Mark{"node2": {Gen: 0x50, Seq: 10}} })
	h.seq = 5
	h.recv("eth0", h.status("active"))
	if h.state() != Init {
		t.Fatal("message older than the saved mark accepted")
	}
	h.seq = 20
	h.recv("eth0", h.status("active"))
	if h.state() != Active {
		t.Fatalf("newer message rejected: %v", h.state())
	}
	if len(h.sent("NS_rexmit")) != 0 || len(h.c.byName["node2"].missing) != 0 {
		t.Fatal("the jump past the mark was treated as a gap")
	}
	if mk := h.c.Marks()["node2"]; mk.Gen != 0x50 || mk.Seq != 21 {
		t.Fatalf("marks = %+v", mk)
	}
}

func TestConfigValidation(t *testing.T) {
	base := func() Config {
		return Config{LocalNode: "node1", Nodes: []string{"node1", "node2"}, Keepalive: time.Second,
			Deadtime: 10 * time.Second, Initdead: 10 * time.Second, UUID: make([]byte, 16), Generation: 1}
	}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"local missing", func(c *Config) { c.LocalNode = "node9" }},
		{"upper case", func(c *Config) { c.Nodes[1] = "Node2" }},
		{"twice", func(c *Config) { c.Nodes = append(c.Nodes, "node2") }},
		{"deadtime too short", func(c *Config) { c.Deadtime = 2 * time.Second }},
		{"initdead short", func(c *Config) { c.Initdead = time.Second }},
		{"uuid", func(c *Config) { c.UUID = nil }},
		{"generation", func(c *Config) { c.Generation = 0 }},
	}
	if _, err := New(base()); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	for _, tt := range tests {
		c := base()
		tt.mod(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

// FuzzReceive feeds arbitrary decoded messages to a core: it must never
// panic, and its timers must stay in the future after a Tick.
func FuzzReceive(f *testing.F) {
	f.Add([]byte("status\x00st\x00active\x00seq\x001\x00hg\x0050"))
	f.Add([]byte("NS_rexmit\x00dest\x00node1\x00firstseq\x001\x00lastseq\x0099999999999"))
	f.Add([]byte("repnodes\x00dest\x00node1\x00nodelist\x00a b c"))
	f.Add([]byte("NS_nak_rexmit\x00dest\x00node1\x00firstseq\x00ffffffffffffffff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newHarness(t, nil)
		for _, chunk := range strings.Split(string(data), "\x01") {
			parts := strings.Split(chunk, "\x00")
			m := msg.New(parts[0])
			for i := 1; i+1 < len(parts); i += 2 {
				m.Set(parts[i], parts[i+1])
			}
			if !m.Has("src") {
				m.Set("src", "node2")
			}
			if !m.Has("ts") {
				m.Set("ts", "1")
			}
			h.recv("eth0", m)
			h.advance(37 * time.Millisecond)
			if h.c.Next() <= h.now {
				t.Fatalf("Next %v not after now %v", h.c.Next(), h.now)
			}
		}
	})
}
