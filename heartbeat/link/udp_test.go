package link

import (
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testPort  = 694
	testGroup = "239.255.198.18" // administratively scoped; never leaves the test veths
	testGrp6  = "ff12::198:18"   // transient link-local scope
	testWait  = 10 * time.Second // bound for every wait
)

// sink collects delivered packets like the daemon: non-blocking, counting
// drops.
type sink struct {
	ch    chan Packet
	drops atomic.Int64
}

func newSink() *sink { return &sink{ch: make(chan Packet, 4096)} }

func (s *sink) deliver(p Packet) {
	select {
	case s.ch <- p:
	default:
		s.drops.Add(1)
	}
}

// openIn opens a UDP link inside namespace ns; it is closed in t.Cleanup.
func openIn(t *testing.T, ns string, cfg UDPConfig) (Link, *sink) {
	t.Helper()
	s := newSink()
	var l Link
	var err error
	inNetns(t, ns, func() { l, err = OpenUDP(cfg, s.deliver) })
	if err != nil {
		t.Fatalf("OpenUDP(%+v) in %s: %v", cfg, ns, err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l, s
}

var payloadCounter atomic.Int64

// transfer sends a fresh payload on from, repeating every 50ms (links may
// still be coming up), until to receives it; it returns that packet.
func transfer(t *testing.T, from Link, to *sink) Packet {
	t.Helper()
	payload := fmt.Sprintf("hb-test-%d", payloadCounter.Add(1))
	deadline := time.NewTimer(testWait)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	send := func() {
		if err := from.Send([]byte(payload)); err != nil {
			lastErr = err
		}
	}
	send()
	for {
		select {
		case p := <-to.ch:
			if string(p.Data) == payload {
				return p
			}
		case <-tick.C:
			send()
		case <-deadline.C:
			t.Fatalf("%q sent on %s never arrived (last send error: %v)", payload, from.Name(), lastErr)
		}
	}
}

// cfgFor builds the configuration of kind for host 1 (namespace a) or 2.
func cfgFor(kind string, host int, dev string) UDPConfig {
	other := 3 - host
	c := UDPConfig{Kind: kind, Dev: dev, Port: testPort, TTL: 1}
	switch kind {
	case KindUcast:
		c.Peer = fmt.Sprintf("198.18.0.%d", other)
	case KindUcast6:
		c.Peer = linkLocal(0, other)
	case KindMcast:
		c.Group = testGroup
	case KindMcast6:
		c.Group = testGrp6
	}
	return c
}

func hostAddr(kind string, host int) netip.Addr {
	if kind == KindUcast6 || kind == KindMcast6 {
		return netip.MustParseAddr(linkLocal(0, host) + "%hb0")
	}
	return netip.MustParseAddr(fmt.Sprintf("198.18.0.%d", host))
}

var allKinds = []string{KindUcast, KindBcast, KindMcast, KindUcast6, KindMcast6}

func TestUDPMediaBothWays(t *testing.T) {
	for _, kind := range allKinds {
		t.Run(kind, func(t *testing.T) {
			n := newTestNet(t, 1)
			la, sa := openIn(t, n.a, cfgFor(kind, 1, "hb0"))
			lb, sb := openIn(t, n.b, cfgFor(kind, 2, "hb0"))
			for _, dir := range []struct {
				from   Link
				to     *sink
				sender int
			}{{la, sb, 1}, {lb, sa, 2}} {
				p := transfer(t, dir.from, dir.to)
				if p.Link != "hb0" {
					t.Errorf("packet link %q, want hb0", p.Link)
				}
				if want := hostAddr(kind, dir.sender); p.From.Addr() != want {
					t.Errorf("packet from %v, want %v", p.From, want)
				}
				// Heartbeat sends from an ephemeral port, never udpport.
				if p.From.Port() == testPort || p.From.Port() == 0 {
					t.Errorf("source port %d, want an ephemeral one", p.From.Port())
				}
			}
			if la.Name() != "hb0" {
				t.Errorf("Name() = %q", la.Name())
			}
		})
	}
}

func TestMcastLoop(t *testing.T) {
	for _, kind := range []string{KindMcast, KindMcast6} {
		t.Run(kind, func(t *testing.T) {
			n := newTestNet(t, 1)
			cfg := cfgFor(kind, 1, "hb0")
			cfg.Loop = true
			l, s := openIn(t, n.a, cfg)
			p := transfer(t, l, s)
			if p.From.Addr() != hostAddr(kind, 1) {
				t.Fatalf("looped packet from %v", p.From)
			}
		})
	}
}

func TestResolvePeerName(t *testing.T) {
	old := lookupNetIP
	t.Cleanup(func() { lookupNetIP = old })
	lookupNetIP = fakeLookup(map[string]string{"beta": "198.18.0.2", "alpha": "198.18.0.1"})
	n := newTestNet(t, 1)
	la, _ := openIn(t, n.a, UDPConfig{Kind: KindUcast, Dev: "hb0", Peer: "beta", Port: testPort})
	_, sb := openIn(t, n.b, UDPConfig{Kind: KindUcast, Dev: "hb0", Peer: "alpha", Port: testPort})
	transfer(t, la, sb)
}

func TestTwoDevicesSamePort(t *testing.T) {
	for _, kind := range []string{KindUcast, KindBcast} {
		t.Run(kind, func(t *testing.T) {
			n := newTestNet(t, 2)
			cfg := func(dev string, peer string) UDPConfig {
				c := UDPConfig{Kind: kind, Dev: dev, Port: testPort}
				if kind == KindUcast {
					c.Peer = peer
				}
				return c
			}
			openIn(t, n.a, cfg("hb0", "198.18.0.2"))
			la1, _ := openIn(t, n.a, cfg("hb1", "198.18.1.2"))
			_, sb0 := openIn(t, n.b, cfg("hb0", "198.18.0.1"))
			_, sb1 := openIn(t, n.b, cfg("hb1", "198.18.1.1"))
			p := transfer(t, la1, sb1)
			if p.Link != "hb1" || p.From.Addr() != netip.MustParseAddr("198.18.1.1") {
				t.Fatalf("packet %+v, want link hb1 from 198.18.1.1", p)
			}
			// hb1's traffic was delivered in the same softirq pass; the
			// hb0 link must not have seen any of it.
			select {
			case q := <-sb0.ch:
				t.Fatalf("hb0 link received %q from %v", q.Data, q.From)
			default:
			}
		})
	}
}

// waitSendError polls Send until it fails (the interface went down).
func waitSendError(t *testing.T, l Link) error {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for time.Now().Before(deadline) {
		if err := l.Send([]byte("probe")); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("Send on %s kept succeeding with the interface down", l.Name())
	return nil
}

func TestLinkDownUp(t *testing.T) {
	for _, kind := range allKinds {
		t.Run(kind, func(t *testing.T) {
			n := newTestNet(t, 1)
			la, sa := openIn(t, n.a, cfgFor(kind, 1, "hb0"))
			lb, sb := openIn(t, n.b, cfgFor(kind, 2, "hb0"))
			transfer(t, la, sb)

			ip(t, "-n", n.b, "link", "set", "dev", "hb0", "down")
			err := waitSendError(t, lb)
			if !strings.Contains(err.Error(), "hb0") {
				t.Errorf("send error %q does not name the link", err)
			}
			ip(t, "-n", n.b, "link", "set", "dev", "hb0", "up")

			// Same Link values, no reopen: both directions resume.
			transfer(t, la, sb)
			transfer(t, lb, sa)
		})
	}
}

func TestDeviceRecreated(t *testing.T) {
	old := maintainEvery
	maintainEvery = 100 * time.Millisecond // copied by each link at open
	t.Cleanup(func() { maintainEvery = old })
	for _, kind := range allKinds {
		t.Run(kind, func(t *testing.T) {
			n := newTestNet(t, 1)
			la, sa := openIn(t, n.a, cfgFor(kind, 1, "hb0"))
			lb, sb := openIn(t, n.b, cfgFor(kind, 2, "hb0"))
			transfer(t, la, sb)

			n.delPair(t, 0)
			n.addPair(t, 0) // same names and addresses, new interface indexes

			transfer(t, la, sb)
			transfer(t, lb, sa)
		})
	}
}

func TestCloseUnblocksReader(t *testing.T) {
	n := newTestNet(t, 1)
	var closed, lateDeliveries atomic.Int64
	var got atomic.Int64
	var la Link
	var err error
	inNetns(t, n.a, func() {
		la, err = OpenUDP(cfgFor(KindUcast, 1, "hb0"), func(Packet) {
			got.Add(1)
			if closed.Load() != 0 {
				lateDeliveries.Add(1)
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := openIn(t, n.b, cfgFor(KindUcast, 2, "hb0"))

	// Flood a while Close runs, so the reader is busy delivering.
	stop := make(chan struct{})
	flooding := make(chan struct{})
	go func() {
		defer close(flooding)
		for {
			select {
			case <-stop:
				return
			default:
				_ = lb.Send([]byte("flood"))
			}
		}
	}()
	defer func() { close(stop); <-flooding }()
	deadline := time.Now().Add(testWait)
	for got.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("flood never arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}

	done := make(chan error, 1)
	go func() { done <- la.Close(); closed.Store(1) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(testWait):
		t.Fatal("Close did not return")
	}
	time.Sleep(50 * time.Millisecond) // room for a (wrong) late delivery
	if n := lateDeliveries.Load(); n != 0 {
		t.Fatalf("%d deliveries after Close returned", n)
	}
	if err := la.Send([]byte("x")); err == nil {
		t.Fatal("Send after Close succeeded")
	}
	if err := la.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCloseIdle(t *testing.T) {
	n := newTestNet(t, 1)
	var l Link
	var err error
	inNetns(t, n.a, func() { l, err = OpenUDP(cfgFor(KindMcast, 1, "hb0"), func(Packet) {}) })
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(testWait):
		t.Fatal("Close of an idle link did not return")
	}
}

func TestOpenMissingDevice(t *testing.T) {
	n := newTestNet(t, 0)
	for _, kind := range allKinds {
		var err error
		inNetns(t, n.a, func() { _, err = OpenUDP(cfgFor(kind, 1, "nosuchdev0"), func(Packet) {}) })
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("%s on a missing device: %v", kind, err)
		}
	}
}

func TestBcastFollowsBroadcastAddress(t *testing.T) {
	old := maintainEvery
	maintainEvery = 100 * time.Millisecond // copied by each link at open
	t.Cleanup(func() { maintainEvery = old })
	n := newTestNet(t, 1)
	la, _ := openIn(t, n.a, cfgFor(KindBcast, 1, "hb0"))
	_, sb := openIn(t, n.b, cfgFor(KindBcast, 2, "hb0"))
	transfer(t, la, sb)

	// Renumber both hosts into a /25: the broadcast address becomes
	// 198.18.0.127, and 198.18.0.255 is no longer on the segment at all.
	for host, ns := range []string{n.a, n.b} {
		ip(t, "-n", ns, "addr", "del", fmt.Sprintf("198.18.0.%d/24", host+1), "dev", "hb0")
		ip(t, "-n", ns, "addr", "add", fmt.Sprintf("198.18.0.%d/25", host+1), "brd", "+", "dev", "hb0")
	}
	transfer(t, la, sb)
	if got := la.(*udpLink).dst.Load().addr.Addr(); got != netip.MustParseAddr("198.18.0.127") {
		t.Fatalf("sending to %v, want 198.18.0.127", got)
	}
}
