package node

import (
	"net/netip"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/core"
)

// pingBed is one node with ping nodes and a fake network: the hosts in
// answering reply to each echo after rtt.
type pingBed struct {
	t         *testing.T
	n         *Node
	now       time.Duration
	rtt       time.Duration
	answering map[netip.Addr]bool
	pending   []pendingReply
	probes    []sentAt
	events    []Event
}

type pendingReply struct {
	at   time.Duration
	addr netip.Addr
	seq  uint16
}

type sentAt struct {
	at time.Duration
	p  Probe
}

var (
	gw1 = netip.MustParseAddr("198.18.0.254")
	gw2 = netip.MustParseAddr("198.18.0.253")
	gw3 = netip.MustParseAddr("198.18.0.252")
)

func newPingBed(t *testing.T, cfg PingConfig) *pingBed {
	t.Helper()
	n, err := New(Config{
		Core: core.Config{LocalNode: "node1", Nodes: []string{"node1", "node2"}, Links: []string{"eth0"},
			Keepalive: 100 * time.Millisecond, Deadtime: 500 * time.Millisecond, Warntime: 300 * time.Millisecond,
			Initdead: time.Second, UUID: make([]byte, 16), Generation: 1, FlowControl: true, Seed: 1},
		Ping: cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	b := &pingBed{t: t, n: n, rtt: time.Millisecond, answering: map[netip.Addr]bool{}}
	n.Start(b.tm())
	b.drain()
	return b
}

func (b *pingBed) tm() Time { return Time{Mono: b.now, Wall: 1_700_000_000} }

func (b *pingBed) drain() {
	for b.n.HasReady() {
		r := b.n.Ready()
		b.events = append(b.events, r.Events...)
		for _, p := range r.Probes {
			b.probes = append(b.probes, sentAt{b.now, p})
			if b.answering[p.Addr] {
				b.pending = append(b.pending, pendingReply{b.now + b.rtt, p.Addr, p.Seq})
			}
		}
	}
}

// run advances time to until in 1 ms steps, delivering replies and
// running Tick whenever Next says so.
func (b *pingBed) run(until time.Duration) {
	for b.now < until {
		b.now += time.Millisecond
		keep := b.pending[:0]
		for _, r := range b.pending {
			if r.at <= b.now {
				if !b.n.PingReply(b.tm(), r.addr, r.seq) {
					b.t.Fatalf("a reply to our own probe did not match: %+v", r)
				}
				continue
			}
			keep = append(keep, r)
		}
		b.pending = keep
		if b.n.Next() <= b.now {
			b.n.Tick(b.tm())
		}
		b.drain()
	}
}

func (b *pingBed) state(name string) string {
	for _, s := range b.n.Reach(b.tm()) {
		if s.Name == name {
			return s.State
		}
	}
	b.t.Fatalf("no ping node %s", name)
	return ""
}

// count is how many events of kind were emitted for node name.
func (b *pingBed) count(kind EventKind, name string) int {
	c := 0
	for _, e := range b.events {
		if e.Kind == kind && e.Node == name {
			c++
		}
	}
	return c
}

// One echo per host per interval, the rounds exactly an interval apart.
func TestPingSchedule(t *testing.T) {
	b := newPingBed(t, PingConfig{Interval: 100 * time.Millisecond, Deadping: time.Second,
		Targets: []PingTarget{{Name: "198.18.0.254", Hosts: []netip.Addr{gw1}}, {Name: "gws", Group: true, Hosts: []netip.Addr{gw2, gw3}}}})
	b.run(5*time.Second - time.Millisecond)
	per := map[netip.Addr][]time.Duration{}
	for _, s := range b.probes {
		per[s.p.Addr] = append(per[s.p.Addr], s.at)
	}
	for _, a := range []netip.Addr{gw1, gw2, gw3} {
		ts := per[a]
		if len(ts) != 50 {
			t.Errorf("%s: %d echoes in 5 s at 100 ms, want 50", a, len(ts))
		}
		for i := 1; i < len(ts); i++ {
			if d := ts[i] - ts[i-1]; d != 100*time.Millisecond {
				t.Fatalf("%s: echoes %d and %d are %v apart", a, i-1, i, d)
			}
		}
	}
	seqs := map[uint16]bool{}
	for _, s := range b.probes {
		if seqs[s.p.Seq] {
			t.Fatalf("sequence %d used twice", s.p.Seq)
		}
		seqs[s.p.Seq] = true
	}
}

// A late loop does not make up for the rounds it missed with a burst.
func TestPingScheduleNoBurstAfterStall(t *testing.T) {
	b := newPingBed(t, PingConfig{Interval: 100 * time.Millisecond, Deadping: time.Second,
		Targets: []PingTarget{{Name: "198.18.0.254", Hosts: []netip.Addr{gw1}}}})
	before := len(b.probes)
	b.now = 3 * time.Second // the loop did not run for 3 s
	b.n.Tick(b.tm())
	b.drain()
	if got := len(b.probes) - before; got != 1 {
		t.Fatalf("%d echoes after a 3 s stall, want 1", got)
	}
	if next := b.n.Next(); next != b.now+100*time.Millisecond && next > b.now+100*time.Millisecond {
		t.Errorf("next round at %v, want %v", next, b.now+100*time.Millisecond)
	}
}

// Alive while answering within deadping, dead deadping after the last
// answer, alive again on the next answer; events on each change.
func TestPingLiveness(t *testing.T) {
	const deadping = 500 * time.Millisecond
	b := newPingBed(t, PingConfig{Interval: 100 * time.Millisecond, Deadping: deadping,
		Targets: []PingTarget{{Name: "198.18.0.254", Hosts: []netip.Addr{gw1}}}})
	if s := b.state("198.18.0.254"); s != PingInit {
		t.Fatalf("before any answer: %s, want init", s)
	}
	b.answering[gw1] = true
	b.run(time.Second)
	if s := b.state("198.18.0.254"); s != PingUp || b.count(PingNodeUp, "198.18.0.254") != 1 {
		t.Fatalf("answering: %s, %d up events", s, b.count(PingNodeUp, "198.18.0.254"))
	}
	// The last echo answered went out at 1000 ms (a reply already on its
	// way) and was answered at 1001.
	b.answering[gw1] = false
	b.run(1001*time.Millisecond + deadping - time.Millisecond)
	if s := b.state("198.18.0.254"); s != PingUp {
		t.Fatalf("1 ms before deadping after the last answer: %s", s)
	}
	b.run(1001*time.Millisecond + deadping)
	if s := b.state("198.18.0.254"); s != PingDead || b.count(PingNodeDead, "198.18.0.254") != 1 {
		t.Fatalf("at deadping after the last answer: %s, %d dead events", s, b.count(PingNodeDead, "198.18.0.254"))
	}
	b.answering[gw1] = true
	b.run(2500 * time.Millisecond)
	if s := b.state("198.18.0.254"); s != PingUp || b.count(PingNodeUp, "198.18.0.254") != 2 {
		t.Fatalf("answering again: %s, %d up events", s, b.count(PingNodeUp, "198.18.0.254"))
	}
	if got := b.n.PingAlive(); got != 1 {
		t.Errorf("PingAlive %d", got)
	}
}

// A target that never answers is init until deadping after the start,
// then dead (with an event), and stays so without repeating it.
func TestPingNeverAnswers(t *testing.T) {
	b := newPingBed(t, PingConfig{Interval: 100 * time.Millisecond, Deadping: 500 * time.Millisecond,
		Targets: []PingTarget{{Name: "198.18.0.254", Hosts: []netip.Addr{gw1}}}})
	b.run(499 * time.Millisecond)
	if s := b.state("198.18.0.254"); s != PingInit {
		t.Fatalf("before deadping: %s", s)
	}
	b.run(3 * time.Second)
	if s := b.state("198.18.0.254"); s != PingDead || b.count(PingNodeDead, "198.18.0.254") != 1 {
		t.Fatalf("after deadping: %s, %d dead events", s, b.count(PingNodeDead, "198.18.0.254"))
	}
}

// A ping group is alive while any member answers.
func TestPingGroup(t *testing.T) {
	b := newPingBed(t, PingConfig{Interval: 100 * time.Millisecond, Deadping: 500 * time.Millisecond,
		Targets: []PingTarget{{Name: "gws", Group: true, Hosts: []netip.Addr{gw2, gw3}}}})
	b.answering[gw3] = true
	b.run(time.Second)
	if s := b.state("gws"); s != PingUp {
		t.Fatalf("one member answering: %s", s)
	}
	b.answering[gw3], b.answering[gw2] = false, true // the other one takes over
	b.run(3 * time.Second)
	if s := b.state("gws"); s != PingUp || b.count(PingNodeDead, "gws") != 0 {
		t.Fatalf("members alternating: %s, %d dead events", s, b.count(PingNodeDead, "gws"))
	}
	b.answering[gw2] = false
	b.run(4 * time.Second)
	if s := b.state("gws"); s != PingDead {
		t.Fatalf("no member answering: %s", s)
	}
	for _, s := range b.n.Reach(b.tm()) {
		if len(s.Hosts) != 2 || s.Hosts[0].Answered == 0 || s.Hosts[1].Answered == 0 || s.Hosts[0].Sent < 39 {
			t.Errorf("host statuses %+v", s.Hosts)
		}
	}
}

// Replies are matched by sequence number and address; anything else is
// ignored and counted.
func TestPingMatching(t *testing.T) {
	b := newPingBed(t, PingConfig{Interval: 100 * time.Millisecond, Deadping: 500 * time.Millisecond,
		Targets: []PingTarget{{Name: "198.18.0.254", Hosts: []netip.Addr{gw1}}, {Name: "198.18.0.253", Hosts: []netip.Addr{gw2}}}})
	var to1, to2 Probe
	for _, s := range b.probes {
		switch s.p.Addr {
		case gw1:
			to1 = s.p
		case gw2:
			to2 = s.p
		}
	}
	if b.n.PingReply(b.tm(), gw1, to2.Seq) {
		t.Error("a reply from gw1 with the sequence sent to gw2 matched")
	}
	if b.n.PingReply(b.tm(), gw1, to1.Seq+100) {
		t.Error("a reply with a sequence never sent matched")
	}
	if !b.n.PingReply(b.tm(), gw1, to1.Seq) {
		t.Fatal("the right reply did not match")
	}
	if b.n.PingReply(b.tm(), gw1, to1.Seq) {
		t.Error("a duplicate reply matched")
	}
	// A reply later than deadping is forgotten.
	b.run(700 * time.Millisecond)
	if b.n.PingReply(b.tm(), gw2, to2.Seq) {
		t.Error("a reply 700 ms late (deadping 500 ms) matched")
	}
	if got := b.n.ReachCounters().Unmatched; got != 4 {
		t.Errorf("Unmatched = %d, want 4", got)
	}
	if s := b.state("198.18.0.253"); s == PingUp {
		t.Error("unmatched replies made gw2 alive")
	}
	// An IPv4-mapped source is the same host.
	last := b.probes[len(b.probes)-1].p
	if !b.n.PingReply(b.tm(), netip.AddrFrom16(last.Addr.As16()), last.Seq) {
		t.Error("an IPv4-mapped source address did not match")
	}
}

// Without ping nodes nothing is probed and Next is the core's alone.
func TestPingNone(t *testing.T) {
	b := newPingBed(t, PingConfig{})
	b.run(2 * time.Second)
	if len(b.probes) != 0 || len(b.n.Reach(b.tm())) != 0 {
		t.Fatalf("probes %d", len(b.probes))
	}
	if _, err := New(Config{Core: core.Config{LocalNode: "a", Nodes: []string{"a"}, Links: []string{"x"}, Keepalive: time.Second,
		Deadtime: 3 * time.Second, Warntime: 2 * time.Second, Initdead: 3 * time.Second, UUID: make([]byte, 16)},
		Ping: PingConfig{Targets: []PingTarget{{Name: "x", Hosts: []netip.Addr{gw1}}}}}); err == nil {
		t.Error("ping nodes without interval and deadping were accepted")
	}
}
