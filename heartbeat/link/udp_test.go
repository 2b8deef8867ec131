package link

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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

// testMaintainEvery is how often serve runs Maintain: much more often
// than the daemon, so that the tests of re-created devices are quick.
const testMaintainEvery = 100 * time.Millisecond

// openIn opens a UDP link inside namespace ns and serves it into a sink;
// it is closed in t.Cleanup.
func openIn(t *testing.T, ns string, cfg UDPConfig) (*UDP, *sink) {
	t.Helper()
	s := newSink()
	l := openUnserved(t, ns, cfg)
	serve(t, l, s)
	return l, s
}

// serve reads l as the daemon's loop does (wait for readability, Receive
// one datagram, copy it out) and runs Maintain every testMaintainEvery,
// until the test ends; it stops before l is closed.
func serve(t *testing.T, l *UDP, s *sink) {
	t.Helper()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, MaxMessage)
		next := time.Now().Add(testMaintainEvery)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if !time.Now().Before(next) {
				l.Maintain()
				next = time.Now().Add(testMaintainEvery)
			}
			fds := []unix.PollFd{{Fd: int32(l.Fd()), Events: unix.POLLIN}}
			if n, _ := unix.Poll(fds, 20); n <= 0 {
				continue
			}
			p, err := l.Receive(buf)
			if err != nil {
				continue
			}
			p.Data = bytes.Clone(p.Data)
			s.deliver(p)
		}
	}()
	t.Cleanup(func() { close(stop); <-done }) // runs before the Close registered earlier
}

var payloadCounter atomic.Int64

// transfer sends a fresh payload on from, repeating every 50ms (links may
// still be coming up), until to receives it; it returns that packet.
func transfer(t *testing.T, from *UDP, to *sink) Packet {
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
				from   *UDP
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
func waitSendError(t *testing.T, l *UDP) error {
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

// openUnserved opens a UDP link inside ns that nobody reads; it is closed
// in t.Cleanup.
func openUnserved(t *testing.T, ns string, cfg UDPConfig) *UDP {
	t.Helper()
	var l *UDP
	var err error
	inNetns(t, ns, func() { l, err = OpenUDP(cfg) })
	if err != nil {
		t.Fatalf("OpenUDP(%+v) in %s: %v", cfg, ns, err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func TestReceive(t *testing.T) {
	n := newTestNet(t, 1)
	la := openUnserved(t, n.a, cfgFor(KindUcast, 1, "hb0"))
	lb, _ := openIn(t, n.b, cfgFor(KindUcast, 2, "hb0"))

	buf := make([]byte, 16)
	if _, err := la.Receive(buf); !errors.Is(err, ErrNoPacket) {
		t.Fatalf("Receive with nothing waiting: %v, want ErrNoPacket", err)
	}
	// wait polls for the next datagram (the peer link may still be coming up).
	wait := func(payload string) (Packet, error) {
		t.Helper()
		deadline := time.Now().Add(testWait)
		for time.Now().Before(deadline) {
			if err := lb.Send([]byte(payload)); err != nil {
				t.Fatal(err)
			}
			fds := []unix.PollFd{{Fd: int32(la.Fd()), Events: unix.POLLIN}}
			if n, _ := unix.Poll(fds, 50); n > 0 {
				p, err := la.Receive(buf)
				for err == nil && string(p.Data) != payload {
					p, err = la.Receive(buf) // an earlier copy of the same payload
				}
				return p, err
			}
		}
		t.Fatalf("%q never arrived", payload)
		return Packet{}, nil
	}
	p, err := wait("fits")
	if err != nil || string(p.Data) != "fits" || p.Link != "hb0" {
		t.Fatalf("Receive = %+v, %v", p, err)
	}
	for { // drain repeats
		if _, err := la.Receive(buf); errors.Is(err, ErrNoPacket) {
			break
		}
	}
	if _, err := wait("seventeen bytes!!"); !errors.Is(err, ErrTruncated) {
		t.Fatalf("oversized datagram: %v, want ErrTruncated", err)
	}
}

func TestClose(t *testing.T) {
	for _, kind := range []string{KindUcast, KindMcast} {
		t.Run(kind, func(t *testing.T) {
			n := newTestNet(t, 1)
			l := openUnserved(t, n.a, cfgFor(kind, 1, "hb0"))
			if err := l.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := l.Send([]byte("x")); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Send after Close: %v", err)
			}
			if _, err := l.Receive(make([]byte, 8)); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Receive after Close: %v", err)
			}
			l.Maintain() // a no-op, not a use of a closed descriptor
			if err := l.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

func TestOpenMissingDevice(t *testing.T) {
	n := newTestNet(t, 0)
	for _, kind := range allKinds {
		var err error
		inNetns(t, n.a, func() { _, err = OpenUDP(cfgFor(kind, 1, "nosuchdev0")) })
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("%s on a missing device: %v", kind, err)
		}
	}
}

func TestBcastFollowsBroadcastAddress(t *testing.T) {
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
	if got := la.dst.Load().addr.Addr(); got != netip.MustParseAddr("198.18.0.127") {
		t.Fatalf("sending to %v, want 198.18.0.127", got)
	}
}
