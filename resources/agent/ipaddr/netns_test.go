package ipaddr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/resources/agent"
	"github.com/hasuite/hasuite/resources/haresources"
)

// Test network: node and peer on one switch.
const (
	nodeV4 = "198.18.0.1/24"
	peerV4 = "198.18.0.2/24"
	nodeV6 = "2001:2::1/64"
	peerV6 = "2001:2::2/64"
	vip4   = "198.18.0.100"
	vip6   = "2001:2::100"
)

// staleMAC is what the peer believes the VIP's MAC is before we announce
// (the old owner).
var staleMAC = net.HardwareAddr{0x02, 0xde, 0xad, 0xbe, 0xef, 0x01}

type pair struct {
	bed        *testbed.Bed
	node, peer *testbed.Host
}

func newPair(t *testing.T) pair {
	t.Helper()
	b := testbed.New(t)
	sw := b.AddSwitch("lan")
	node, peer := b.AddHost("node"), b.AddHost("peer")
	node.Connect(sw, "eth0", nodeV4)
	peer.Connect(sw, "eth0", peerV4)
	node.AddAddr("eth0", nodeV6)
	peer.AddAddr("eth0", peerV6)
	return pair{b, node, peer}
}

// in runs fn in h's network namespace and fails the test on error.
func in(t *testing.T, h *testbed.Host, fn func() error) {
	t.Helper()
	if err := h.Do(fn); err != nil {
		t.Fatalf("in %s: %v", h.Name, err)
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testLog(t *testing.T) agent.Logger {
	var mu sync.Mutex
	done := false
	t.Cleanup(func() { mu.Lock(); done = true; mu.Unlock() })
	return func(res, line string) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			t.Logf("%s: %s", res, line)
		}
	}
}

func mustNew(t *testing.T, spec haresources.IPSpec, opts Options) *VIP {
	t.Helper()
	if opts.Log == nil {
		opts.Log = testLog(t)
	}
	v, err := New(spec, opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// addrsOf lists the addresses equal to ip on ifname in h.
func addrsOf(t *testing.T, h *testbed.Host, ifname, ip string) []netlink.Addr {
	t.Helper()
	want := netip.MustParseAddr(ip)
	var out []netlink.Addr
	in(t, h, func() error {
		l, err := netlink.LinkByName(ifname)
		if err != nil {
			return err
		}
		as, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return err
		}
		for _, a := range as {
			if p, ok := addrPrefix(a); ok && p.Addr() == want {
				out = append(out, a)
			}
		}
		return nil
	})
	return out
}

func macOf(t *testing.T, h *testbed.Host, ifname string) net.HardwareAddr {
	t.Helper()
	var mac net.HardwareAddr
	in(t, h, func() error {
		l, err := netlink.LinkByName(ifname)
		if err != nil {
			return err
		}
		mac = l.Attrs().HardwareAddr
		return nil
	})
	return mac
}

func setNeigh(t *testing.T, h *testbed.Host, ifname, ip string, mac net.HardwareAddr) {
	t.Helper()
	in(t, h, func() error {
		l, err := netlink.LinkByName(ifname)
		if err != nil {
			return err
		}
		a := netip.MustParseAddr(ip)
		fam := netlink.FAMILY_V4
		if a.Is6() {
			fam = netlink.FAMILY_V6
		}
		return netlink.NeighSet(&netlink.Neigh{LinkIndex: l.Attrs().Index, Family: fam,
			State: netlink.NUD_STALE, IP: a.AsSlice(), HardwareAddr: mac})
	})
}

func neighMAC(t *testing.T, h *testbed.Host, ifname, ip string) net.HardwareAddr {
	t.Helper()
	want := netip.MustParseAddr(ip)
	var mac net.HardwareAddr
	in(t, h, func() error {
		l, err := netlink.LinkByName(ifname)
		if err != nil {
			return err
		}
		fam := netlink.FAMILY_V4
		if want.Is6() {
			fam = netlink.FAMILY_V6
		}
		ns, err := netlink.NeighList(l.Attrs().Index, fam)
		if err != nil {
			return err
		}
		for _, n := range ns {
			if a, ok := netip.AddrFromSlice(n.IP); ok && a.Unmap() == want {
				mac = n.HardwareAddr
			}
		}
		return nil
	})
	return mac
}

// waitNeigh waits (bounded) until h's neighbour entry for ip is mac.
func waitNeigh(t *testing.T, h *testbed.Host, ip string, mac net.HardwareAddr, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var got net.HardwareAddr
	ok := waitUntil(within, func() bool {
		got = neighMAC(t, h, "eth0", ip)
		return got.String() == mac.String()
	})
	if !ok {
		t.Fatalf("%s's neighbour entry for %s is %v after %v, want %v", h.Name, ip, got, within, mac)
	}
	return time.Since(start)
}

func start(t *testing.T, h *testbed.Host, v *VIP) time.Duration {
	t.Helper()
	var d time.Duration
	in(t, h, func() error {
		t0 := time.Now()
		err := v.Start(testCtx(t))
		d = time.Since(t0)
		return err
	})
	return d
}

func stop(t *testing.T, h *testbed.Host, v *VIP) {
	t.Helper()
	in(t, h, func() error { return v.Stop(testCtx(t)) })
}

func status(t *testing.T, h *testbed.Host, v *VIP) bool {
	t.Helper()
	var up bool
	in(t, h, func() error {
		var err error
		up, err = v.Status(testCtx(t))
		return err
	})
	return up
}

// goroutines waits (bounded) until no more than n goroutines run and
// returns the count.
func goroutines(n int) int {
	waitUntil(2*time.Second, func() bool { return runtime.NumGoroutine() <= n })
	return runtime.NumGoroutine()
}

func TestStartAnnouncesAndStopRemoves(t *testing.T) {
	for _, ip := range []string{vip4, vip6} {
		t.Run(ip, func(t *testing.T) {
			p := newPair(t)
			nodeMAC := macOf(t, p.node, "eth0")
			setNeigh(t, p.peer, "eth0", ip, staleMAC)
			if got := neighMAC(t, p.peer, "eth0", ip); got.String() != staleMAC.String() {
				t.Fatalf("stale entry not set: %v", got)
			}
			base := runtime.NumGoroutine()
			v := mustNew(t, haresources.IPSpec{Addr: ip}, Options{GARPCount: 3, GARPInterval: 20 * time.Millisecond})
			if status(t, p.node, v) {
				t.Fatal("Status true before Start")
			}
			lat := start(t, p.node, v)
			t.Logf("Start latency (address added, first announcement sent): %v", lat)
			if v.Interface() != "eth0" {
				t.Errorf("Interface = %q, want eth0 (from the subnet)", v.Interface())
			}
			as := addrsOf(t, p.node, "eth0", ip)
			if len(as) != 1 {
				t.Fatalf("addresses %s on node eth0: %v", ip, as)
			}
			wantBits := 24
			if strings.Contains(ip, ":") {
				wantBits = 64
				if as[0].Flags&unix.IFA_F_NODAD == 0 || as[0].Flags&unix.IFA_F_TENTATIVE != 0 {
					t.Errorf("IPv6 flags %#x: want NODAD and not tentative", as[0].Flags)
				}
			}
			if ones, _ := as[0].Mask.Size(); ones != wantBits {
				t.Errorf("prefix length %d, want %d (from the subnet)", ones, wantBits)
			}
			if !status(t, p.node, v) {
				t.Error("Status false after Start")
			}
			d := waitNeigh(t, p.peer, ip, nodeMAC, 2*time.Second)
			t.Logf("peer's neighbour entry pointed at us %v after Start returned", d)
			if !waitUntil(time.Second, func() bool { return v.Stats().Rounds >= 3 }) {
				t.Errorf("rounds = %+v, want 3", v.Stats())
			}
			if s := v.Stats(); s.Errors != 0 {
				t.Errorf("stats %+v", s)
			}

			// Idempotent: a second Start changes nothing and announces nothing.
			rounds := v.Stats().Rounds
			start(t, p.node, v)
			if n := len(addrsOf(t, p.node, "eth0", ip)); n != 1 {
				t.Errorf("%d addresses after a second Start", n)
			}
			time.Sleep(100 * time.Millisecond)
			if got := v.Stats().Rounds; got != rounds {
				t.Errorf("second Start of a held address announced (%d -> %d rounds)", rounds, got)
			}

			stop(t, p.node, v)
			if n := len(addrsOf(t, p.node, "eth0", ip)); n != 0 {
				t.Errorf("%d addresses after Stop", n)
			}
			if status(t, p.node, v) {
				t.Error("Status true after Stop")
			}
			stop(t, p.node, v) // absent: still a success
			if n := goroutines(base); n > base {
				t.Errorf("goroutines: %d before Start, %d after Stop", base, n)
			}
		})
	}
}

// captureARP records the ARP frames for ip that h receives on eth0 until
// the returned function is called; it returns them with their arrival times.
func captureARP(t *testing.T, h *testbed.Host, ip netip.Addr) func() ([]*arp.Packet, []time.Time) {
	t.Helper()
	var conn *packet.Conn
	in(t, h, func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		conn, err = packet.Listen(ifi, packet.Raw, int(ethernet.EtherTypeARP), nil)
		return err
	})
	var (
		mu    sync.Mutex
		pkts  []*arp.Packet
		times []time.Time
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			at := time.Now()
			var f ethernet.Frame
			if f.UnmarshalBinary(buf[:n]) != nil {
				continue
			}
			var a arp.Packet
			if a.UnmarshalBinary(f.Payload) != nil || a.SenderIP != ip {
				continue
			}
			mu.Lock()
			pkts, times = append(pkts, &a), append(times, at)
			mu.Unlock()
		}
	}()
	finish := func() ([]*arp.Packet, []time.Time) {
		_ = conn.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return pkts, times
	}
	t.Cleanup(func() { finish() })
	return finish
}

func TestGratuitousARPBurst(t *testing.T) {
	p := newPair(t)
	ip := netip.MustParseAddr(vip4)
	nodeMAC := macOf(t, p.node, "eth0")
	finish := captureARP(t, p.peer, ip)
	const count, interval = 4, 25 * time.Millisecond
	v := mustNew(t, haresources.IPSpec{Addr: vip4, Bits: 24, Iface: "eth0"}, Options{GARPCount: count, GARPInterval: interval})
	var t0 time.Time
	var lat time.Duration
	in(t, p.node, func() error {
		t0 = time.Now()
		err := v.Start(testCtx(t))
		lat = time.Since(t0)
		return err
	})
	time.Sleep(count*interval + 150*time.Millisecond)
	pkts, times := finish()
	if len(pkts) != 2*count {
		t.Fatalf("peer saw %d ARP frames from %s, want %d (a request and a reply per round)", len(pkts), ip, 2*count)
	}
	for i, a := range pkts {
		wantOp := arp.OperationRequest
		if i%2 == 1 {
			wantOp = arp.OperationReply
		}
		if a.Operation != wantOp || a.TargetIP != ip || a.SenderHardwareAddr.String() != nodeMAC.String() {
			t.Errorf("frame %d: %v %v/%v -> %v/%v", i, a.Operation, a.SenderHardwareAddr, a.SenderIP, a.TargetHardwareAddr, a.TargetIP)
		}
	}
	if first := times[0].Sub(t0); first > lat+50*time.Millisecond {
		t.Errorf("first GARP reached the peer %v after Start began (Start took %v): not sent at once", first, lat)
	} else {
		t.Logf("Start took %v; first GARP reached the peer %v after Start began; last %v", lat, first, times[len(times)-1].Sub(t0))
	}
	for i := 2; i < len(times); i += 2 {
		if gap := times[i].Sub(times[i-2]); gap < interval-5*time.Millisecond {
			t.Errorf("rounds %d and %d only %v apart, want ~%v", i/2, i/2+1, gap, interval)
		}
	}
	stop(t, p.node, v)
}

func TestStartLatency(t *testing.T) {
	p := newPair(t)
	for _, ip := range []string{vip4, vip6} {
		v := mustNew(t, haresources.IPSpec{Addr: ip}, Options{GARPCount: 2, GARPInterval: 10 * time.Millisecond})
		var lats []time.Duration
		for range 20 {
			lats = append(lats, start(t, p.node, v))
			stop(t, p.node, v)
		}
		slices.Sort(lats)
		t.Logf("%s: Start latency over %d runs: min %v, median %v, p90 %v, max %v",
			ip, len(lats), lats[0], lats[len(lats)/2], lats[len(lats)*9/10], lats[len(lats)-1])
	}
}

func TestLabelAndBroadcast(t *testing.T) {
	p := newPair(t)
	tests := []struct {
		name      string
		spec      haresources.IPSpec
		wantLabel string
		wantBits  int
		wantBrd   string // "" = none
	}{
		{"label part", haresources.IPSpec{Addr: "198.18.0.101", Iface: "eth0", Label: "0"}, "eth0:0", 24, "198.18.0.255"},
		{"full label", haresources.IPSpec{Addr: "198.18.0.102", Bits: 25, Iface: "eth0", Label: "eth0:web"}, "eth0:web", 25, "198.18.0.127"},
		{"label, iface from subnet", haresources.IPSpec{Addr: "198.18.0.103", Label: "7"}, "eth0:7", 24, "198.18.0.255"},
		{"no label", haresources.IPSpec{Addr: "198.18.0.104", Bits: 24, Iface: "eth0"}, "eth0", 24, "198.18.0.255"},
		{"explicit broadcast", haresources.IPSpec{Addr: "198.18.0.105", Bits: 24, Iface: "eth0", Broadcast: "198.18.0.254"}, "eth0", 24, "198.18.0.254"},
		{"no broadcast", haresources.IPSpec{Addr: "198.18.0.106", Bits: 24, Iface: "eth0", Broadcast: "-"}, "eth0", 24, ""},
		{"host address", haresources.IPSpec{Addr: "198.18.0.107", Bits: 32, Iface: "eth0"}, "eth0", 32, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustNew(t, tt.spec, Options{GARPCount: 1})
			start(t, p.node, v)
			defer stop(t, p.node, v)
			as := addrsOf(t, p.node, "eth0", tt.spec.Addr)
			if len(as) != 1 {
				t.Fatalf("addresses: %v", as)
			}
			a := as[0]
			if a.Label != tt.wantLabel {
				t.Errorf("label %q, want %q", a.Label, tt.wantLabel)
			}
			if ones, _ := a.Mask.Size(); ones != tt.wantBits {
				t.Errorf("bits %d, want %d", ones, tt.wantBits)
			}
			gotBrd := ""
			if a.Broadcast != nil {
				gotBrd = a.Broadcast.String()
			}
			if gotBrd != tt.wantBrd {
				t.Errorf("broadcast %q, want %q", gotBrd, tt.wantBrd)
			}
		})
	}
}

func TestResolutionErrors(t *testing.T) {
	p := newPair(t)
	tests := []struct {
		name    string
		spec    haresources.IPSpec
		wantErr string
	}{
		{"no subnet", haresources.IPSpec{Addr: "198.19.5.5"}, "no subnet of any interface contains 198.19.5.5"},
		{"no such interface", haresources.IPSpec{Addr: "198.18.0.100", Bits: 24, Iface: "eth9"}, `interface "eth9" not found`},
		{"iface without subnet", haresources.IPSpec{Addr: "198.19.5.5", Iface: "eth0"}, "no subnet of eth0 contains 198.19.5.5"},
		{"v6 no subnet", haresources.IPSpec{Addr: "2001:2:0:9::1"}, "no subnet of any interface contains 2001:2:0:9::1"},
		{"label of another iface", haresources.IPSpec{Addr: "198.18.0.100", Label: "eth1:0"}, "must start with the interface name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustNew(t, tt.spec, Options{})
			err := p.node.Do(func() error { return v.Start(testCtx(t)) })
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Start error = %v, want one containing %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), "ipaddr:") || strings.Count(err.Error(), "ipaddr:") > 1 {
				t.Errorf("error %q: want one ipaddr: prefix", err)
			}
			if tt.name != "label of another iface" && !errors.Is(err, ErrNoInterface) {
				t.Errorf("error %v does not wrap ErrNoInterface", err)
			}
			// Status and Stop: the address cannot be here, which is not an error.
			if status(t, p.node, v) {
				t.Error("Status true")
			}
			stop(t, p.node, v)
		})
	}
}

func TestFindInterface(t *testing.T) {
	b := testbed.New(t)
	lan, lan2 := b.AddSwitch("lan"), b.AddSwitch("lan2")
	node := b.AddHost("node")
	node.Connect(lan, "eth0", "198.18.0.1/24")
	node.Connect(lan2, "eth1", "198.18.1.1/24")
	node.AddAddr("eth1", "198.19.0.1/16")
	node.AddAddr("eth1", "198.18.0.254/23") // contains 198.18.0.x too, but /24 on eth0 is longer
	node.AddAddr("eth1", "198.18.9.9/32")
	node.AddAddr("eth0", "2001:2::1/64")
	node.AddAddr("eth1", "2001:2:0:1::1/64")
	node.AddAddr("lo", "198.18.7.1/24")
	tests := []struct {
		addr, wantIface string
		wantBits        int
		wantErr         bool
	}{
		{"198.18.0.100", "eth0", 24, false},
		{"198.18.1.100", "eth1", 24, false},
		{"198.18.0.254", "eth1", 23, false},
		{"198.19.200.1", "eth1", 16, false},
		{"198.19.0.1", "eth1", 16, false},
		{"198.18.9.9", "eth1", 32, false}, // only the address itself
		{"2001:2::100", "eth0", 64, false},
		{"2001:2:0:1::100", "eth1", 64, false},
		{"198.18.7.5", "", 0, true}, // loopback is never chosen
		{"198.20.0.1", "", 0, true},
		{"2001:2:0:2::1", "", 0, true},
	}
	for _, tt := range tests {
		var name string
		var bits int
		err := node.Do(func() error {
			var err error
			name, bits, err = FindInterface(netip.MustParseAddr(tt.addr))
			return err
		})
		if tt.wantErr {
			if !errors.Is(err, ErrNoInterface) {
				t.Errorf("FindInterface(%s) = %q, %d, %v; want ErrNoInterface", tt.addr, name, bits, err)
			}
			continue
		}
		if err != nil || name != tt.wantIface || bits != tt.wantBits {
			t.Errorf("FindInterface(%s) = %q, %d, %v; want %q, %d", tt.addr, name, bits, err, tt.wantIface, tt.wantBits)
		}
	}
	// A VIP without an interface lands on the one FindInterface picks.
	v := mustNew(t, haresources.IPSpec{Addr: "198.19.50.1"}, Options{GARPCount: 1})
	start(t, node, v)
	if v.Interface() != "eth1" || len(addrsOf(t, node, "eth1", "198.19.50.1")) != 1 {
		t.Errorf("Interface %q; want the address on eth1", v.Interface())
	}
	stop(t, node, v)
}

func TestRemovedBehindOurBack(t *testing.T) {
	p := newPair(t)
	nodeMAC := macOf(t, p.node, "eth0")
	v := mustNew(t, haresources.IPSpec{Addr: vip4}, Options{GARPCount: 1, Refresh: 20 * time.Millisecond})
	start(t, p.node, v)
	if !waitUntil(time.Second, func() bool { return v.Stats().Rounds >= 3 }) {
		t.Fatalf("refresh does not announce: %+v", v.Stats())
	}
	// Someone removes the VIP: Status says so and the refresh stops
	// announcing an address we no longer hold.
	in(t, p.node, func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		return netlink.AddrDel(l, &netlink.Addr{IPNet: ipNet(netip.MustParsePrefix(vip4 + "/24"))})
	})
	if status(t, p.node, v) {
		t.Fatal("Status true after the address was removed")
	}
	time.Sleep(40 * time.Millisecond) // a refresh in flight may still finish
	r := v.Stats().Rounds
	time.Sleep(120 * time.Millisecond)
	if got := v.Stats().Rounds; got != r {
		t.Errorf("still announcing a removed address: %d -> %d rounds", r, got)
	}
	// The manager re-adds it with Start, which announces afresh.
	setNeigh(t, p.peer, "eth0", vip4, staleMAC)
	start(t, p.node, v)
	if !status(t, p.node, v) {
		t.Fatal("Status false after Start re-added the address")
	}
	waitNeigh(t, p.peer, vip4, nodeMAC, 2*time.Second)
	if !waitUntil(time.Second, func() bool { return v.Stats().Rounds > r+1 }) {
		t.Errorf("refresh did not resume: %+v", v.Stats())
	}
	stop(t, p.node, v)
}

func TestAnnounceAfterSplitBrain(t *testing.T) {
	p := newPair(t)
	nodeMAC := macOf(t, p.node, "eth0")
	v := mustNew(t, haresources.IPSpec{Addr: vip4}, Options{GARPCount: 2, GARPInterval: 10 * time.Millisecond})
	err := p.node.Do(func() error { return v.Announce(testCtx(t)) })
	if !errors.Is(err, ErrNotHeld) {
		t.Fatalf("Announce of an address not held = %v, want ErrNotHeld", err)
	}
	// Linux updates existing neighbour entries on gratuitous ARP but creates
	// none (arp_accept=0): give the peer one, as traffic to the VIP would.
	setNeigh(t, p.peer, "eth0", vip4, staleMAC)
	start(t, p.node, v)
	waitNeigh(t, p.peer, vip4, nodeMAC, 2*time.Second)
	// The other node announced too; after resolution we re-announce.
	setNeigh(t, p.peer, "eth0", vip4, staleMAC)
	r := v.Stats().Rounds
	in(t, p.node, func() error { return v.Announce(testCtx(t)) })
	waitNeigh(t, p.peer, vip4, nodeMAC, 2*time.Second)
	if !waitUntil(time.Second, func() bool { return v.Stats().Rounds >= r+2 }) {
		t.Errorf("Announce sent %d rounds, want 2", v.Stats().Rounds-r)
	}
	stop(t, p.node, v)
}

func TestLifetimeContext(t *testing.T) {
	p := newPair(t)
	base := runtime.NumGoroutine()
	life, cancel := context.WithCancel(context.Background())
	v := mustNew(t, haresources.IPSpec{Addr: vip4}, Options{GARPCount: 100, GARPInterval: 5 * time.Millisecond, Context: life})
	start(t, p.node, v)
	cancel()
	if n := goroutines(base); n > base {
		t.Errorf("announcer outlives its context: %d goroutines, %d before", n, base)
	}
	if !status(t, p.node, v) {
		t.Error("the address must stay when announcing ends")
	}
	stop(t, p.node, v)
	if len(addrsOf(t, p.node, "eth0", vip4)) != 0 {
		t.Error("Stop after the context ended did not remove the address")
	}
	err := p.node.Do(func() error { return v.Start(testCtx(t)) })
	if err == nil || !strings.Contains(err.Error(), "shut down") {
		t.Errorf("Start after the lifetime ended = %v", err)
	}
}

func TestStartOnLeftover(t *testing.T) {
	// A crash left the VIP configured: Start adopts it and announces.
	p := newPair(t)
	nodeMAC := macOf(t, p.node, "eth0")
	p.node.AddAddr("eth0", vip4+"/24")
	setNeigh(t, p.peer, "eth0", vip4, staleMAC)
	v := mustNew(t, haresources.IPSpec{Addr: vip4}, Options{GARPCount: 2, GARPInterval: 10 * time.Millisecond})
	if !status(t, p.node, v) {
		t.Fatal("Status false for a present address")
	}
	start(t, p.node, v)
	waitNeigh(t, p.peer, vip4, nodeMAC, 2*time.Second)
	if n := len(addrsOf(t, p.node, "eth0", vip4)); n != 1 {
		t.Errorf("%d addresses", n)
	}
	stop(t, p.node, v)
}

func TestRemoveAddrs(t *testing.T) {
	p := newPair(t)
	n := p.node
	in(t, n, func() error {
		eth0, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		for _, a := range []struct {
			l      netlink.Link
			cidr   string
			label  string
			flags  int
			family int
		}{
			{eth0, "198.18.0.100/24", "eth0:0", 0, 4},
			{eth0, "2001:2::100/64", "", unix.IFA_F_NODAD, 6},
			{lo, "198.18.0.101/32", "", 0, 4},   // LVS-DR style: not ours
			{eth0, "198.18.0.102/24", "", 0, 4}, // not configured
			{eth0, "198.18.0.104/24", "", 0, 4}, // configured on eth1 only
		} {
			if err := netlink.AddrAdd(a.l, &netlink.Addr{IPNet: ipNet(netip.MustParsePrefix(a.cidr)), Label: a.label, Flags: a.flags}); err != nil {
				return fmt.Errorf("%s: %w", a.cidr, err)
			}
		}
		return nil
	})
	specs := []haresources.IPSpec{
		{Addr: "198.18.0.100"},
		{Addr: "2001:2::100", Iface: "eth0"},
		{Addr: "198.18.0.101"},
		{Addr: "198.18.0.103"}, // absent
		{Addr: "198.18.0.104", Iface: "eth1"},
	}
	var held []Held
	in(t, n, func() error {
		var err error
		held, err = Leftovers(specs)
		return err
	})
	if len(held) != 2 {
		t.Errorf("Leftovers = %v, want 2", held)
	}
	var removed []string
	in(t, n, func() error {
		var err error
		removed, err = RemoveAddrs(specs)
		return err
	})
	slices.Sort(removed)
	want := []string{"198.18.0.100/24 dev eth0 label eth0:0", "2001:2::100/64 dev eth0"}
	if !slices.Equal(removed, want) {
		t.Errorf("RemoveAddrs = %q, want %q", removed, want)
	}
	for _, c := range []struct {
		ifname, ip string
		want       int
	}{{"eth0", "198.18.0.100", 0}, {"eth0", "2001:2::100", 0}, {"lo", "198.18.0.101", 1}, {"eth0", "198.18.0.102", 1}, {"eth0", "198.18.0.104", 1}} {
		if got := len(addrsOf(t, n, c.ifname, c.ip)); got != c.want {
			t.Errorf("%s on %s: %d addresses, want %d", c.ip, c.ifname, got, c.want)
		}
	}
	in(t, n, func() error {
		var err error
		removed, err = RemoveAddrs(specs)
		return err
	})
	if len(removed) != 0 {
		t.Errorf("second RemoveAddrs = %q", removed)
	}
	err := n.Do(func() error {
		_, err := RemoveAddrs([]haresources.IPSpec{{Addr: "bogus"}, {Addr: "198.18.0.102"}})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("RemoveAddrs with an invalid spec: %v", err)
	}
	if got := len(addrsOf(t, n, "eth0", "198.18.0.102")); got != 0 {
		t.Error("a valid spec next to an invalid one was not removed")
	}
}

func TestStatusContextDone(t *testing.T) {
	p := newPair(t)
	v := mustNew(t, haresources.IPSpec{Addr: vip4}, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	err := p.node.Do(func() error { _, err := v.Status(ctx); return err })
	if !errors.Is(err, agent.ErrTimeout) {
		t.Errorf("Status with an expired context = %v, want ErrTimeout", err)
	}
	err = p.node.Do(func() error { return v.Start(ctx) })
	if !errors.Is(err, agent.ErrTimeout) {
		t.Errorf("Start with an expired context = %v, want ErrTimeout", err)
	}
}

func TestStartWithLinkDown(t *testing.T) {
	// A takeover while the link flaps: the address goes up at once, the
	// first rounds fail, and the burst reaches the peer once the link is back.
	for _, ip := range []string{vip4, vip6} {
		t.Run(ip, func(t *testing.T) {
			p := newPair(t)
			nodeMAC := macOf(t, p.node, "eth0")
			setNeigh(t, p.peer, "eth0", ip, staleMAC)
			bits := 24
			if strings.Contains(ip, ":") {
				bits = 64
			}
			v := mustNew(t, haresources.IPSpec{Addr: ip, Bits: bits, Iface: "eth0"},
				Options{GARPCount: 10, GARPInterval: 50 * time.Millisecond})
			p.node.LinkDown("eth0")
			start(t, p.node, v)
			if !status(t, p.node, v) {
				t.Fatal("Status false")
			}
			if s := v.Stats(); s.Errors == 0 {
				t.Errorf("stats %+v: the first round on a down link must fail", s)
			}
			p.node.LinkUp("eth0")
			waitNeigh(t, p.peer, ip, nodeMAC, 3*time.Second)
			t.Logf("stats %+v", v.Stats())
			stop(t, p.node, v)
		})
	}
}

// TestGroupOf100SharesAddressWork: the 100 VIPs of a group on one
// interface add their addresses without any dump, announce from one ARP
// socket, check "still ours" before their background rounds in a shared
// address list (a few dumps for all, not one per VIP and round) and stop
// with one dump.
func TestGroupOf100SharesAddressWork(t *testing.T) {
	p := newPair(t)
	const n = 100
	vips := make([]*VIP, n)
	for i := range vips {
		ip := netip.AddrFrom4([4]byte{198, 18, 0, byte(100 + i)}).String()
		vips[i] = mustNew(t, haresources.IPSpec{Addr: ip, Bits: 24, Iface: "eth0"},
			Options{GARPCount: 3, GARPInterval: 200 * time.Millisecond})
	}
	setNeigh(t, p.peer, "eth0", "198.18.0.199", staleMAC)
	base := runtime.NumGoroutine()
	d0, s0 := dumps.Load(), packetSockets.Load()
	t0 := time.Now() // background rounds (and their checks) begin 200 ms after a VIP's start
	for _, v := range vips {
		start(t, p.node, v)
	}
	if d := dumps.Load() - d0; d != 0 && time.Since(t0) < 200*time.Millisecond {
		t.Errorf("%d address dumps to start %d VIPs, want none", d, n)
	}
	if !waitUntil(2*time.Second, func() bool {
		for _, v := range vips {
			if v.Stats().Rounds < 3 {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("not every VIP announced 3 rounds: first %+v, last %+v", vips[0].Stats(), vips[n-1].Stats())
	}
	for _, v := range vips {
		if s := v.Stats(); s.Errors != 0 {
			t.Errorf("%s: %+v", v, s)
		}
	}
	if s := packetSockets.Load() - s0; s != 1 {
		t.Errorf("%d ARP sockets for %d VIPs on one interface, want 1", s, n)
	}
	// 2 background rounds of 100 VIPs: 200 checks.
	if d := dumps.Load() - d0; d > 10 {
		t.Errorf("%d address dumps for the background rounds of %d VIPs, want a few", d, n)
	}
	waitNeigh(t, p.peer, "198.18.0.199", macOf(t, p.node, "eth0"), 2*time.Second)
	if got := len(addrsOf(t, p.node, "eth0", "198.18.0.150")); got != 1 {
		t.Errorf("198.18.0.150 on eth0 %d times", got)
	}
	time.Sleep(150 * time.Millisecond) // the shared list ages out: Stop dumps once
	d1 := dumps.Load()
	for i := n - 1; i >= 0; i-- {
		stop(t, p.node, vips[i])
	}
	if d := dumps.Load() - d1; d < 1 || d > 2 {
		t.Errorf("%d address dumps to stop %d VIPs, want 1 (2 if the stops took longer than %v)", d, n, stopAge)
	}
	for _, ip := range []string{"198.18.0.100", "198.18.0.150", "198.18.0.199"} {
		if got := len(addrsOf(t, p.node, "eth0", ip)); got != 0 {
			t.Errorf("%s still on eth0 after Stop", ip)
		}
	}
	if n := goroutines(base); n > base {
		t.Errorf("goroutines: %d before, %d after the stops", base, n)
	}
}

// TestAnnounceWhileLinkComesBack: a re-announcement (after a partition
// healed) whose first round fails because the link is not up yet still
// sends the rest of its burst, which reaches the peer once the link is up.
func TestAnnounceWhileLinkComesBack(t *testing.T) {
	p := newPair(t)
	nodeMAC := macOf(t, p.node, "eth0")
	v := mustNew(t, haresources.IPSpec{Addr: vip4, Bits: 24, Iface: "eth0"},
		Options{GARPCount: 10, GARPInterval: 50 * time.Millisecond})
	start(t, p.node, v)
	waitUntil(2*time.Second, func() bool { return v.Stats().Rounds >= 10 }) // the first burst is over
	p.node.LinkDown("eth0")
	setNeigh(t, p.peer, "eth0", vip4, staleMAC)
	var err error
	if derr := p.node.Do(func() error { err = v.Announce(testCtx(t)); return nil }); derr != nil {
		t.Fatal(derr)
	}
	if err == nil {
		t.Fatal("Announce on a down link succeeded")
	}
	p.node.LinkUp("eth0")
	waitNeigh(t, p.peer, vip4, nodeMAC, 3*time.Second)
	stop(t, p.node, v)
}
