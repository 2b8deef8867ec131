package e2ekit

import (
	"fmt"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hasuite/hasuite/internal/testbed"
)

// The test hosts' LAN interface, which carries the virtual IPs and the
// client's traffic.
const lan = "eth0"

// MACOf is the MAC address of the host's eth0.
func MACOf(t testing.TB, h *testbed.Host) string {
	t.Helper()
	var mac string
	if err := h.Do(func() error {
		l, err := netlink.LinkByName(lan)
		if err != nil {
			return err
		}
		mac = l.Attrs().HardwareAddr.String()
		return nil
	}); err != nil {
		t.Fatalf("%s: %s: %v", h.Name, lan, err)
	}
	return mac
}

// HasAddr reports whether ip is configured on the host's eth0.
func HasAddr(t testing.TB, h *testbed.Host, ip string) bool {
	t.Helper()
	found := false
	if err := h.Do(func() error {
		l, err := netlink.LinkByName(lan)
		if err != nil {
			return err
		}
		addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if a.IP.String() == ip {
				found = true
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("%s: addresses: %v", h.Name, err)
	}
	return found
}

// WaitAddr waits until ip is (or is not) on the host's eth0, and returns
// how long that took.
func WaitAddr(t testing.TB, h *testbed.Host, ip string, want bool, timeout time.Duration) time.Duration {
	t.Helper()
	took, ok := testbed.WaitFor(timeout, SlowPoll, func() bool { return HasAddr(t, h, ip) == want })
	if !ok {
		t.Fatalf("%s: address %s present=%v, want %v within %v", h.Name, ip, !want, want, timeout)
	}
	return took
}

// Neigh is the host's neighbour entry for ip on eth0: lladdr and state
// ("" if it has none).
func Neigh(h *testbed.Host, ip string) (mac, state string, err error) {
	err = h.Do(func() error {
		l, err := netlink.LinkByName(lan)
		if err != nil {
			return err
		}
		ns, err := netlink.NeighList(l.Attrs().Index, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, n := range ns {
			if n.IP.String() == ip {
				mac, state = n.HardwareAddr.String(), neighStates[n.State]
				if state == "" {
					state = fmt.Sprintf("0x%x", n.State)
				}
			}
		}
		return nil
	})
	return mac, state, err
}

var neighStates = map[int]string{netlink.NUD_INCOMPLETE: "INCOMPLETE", netlink.NUD_REACHABLE: "REACHABLE",
	netlink.NUD_STALE: "STALE", netlink.NUD_DELAY: "DELAY", netlink.NUD_PROBE: "PROBE", netlink.NUD_FAILED: "FAILED",
	netlink.NUD_NOARP: "NOARP", netlink.NUD_PERMANENT: "PERMANENT"}

// WaitNeigh waits until the client's neighbour table maps ip to mac
// (polling every 5 ms: it measures a gratuitous ARP's arrival), and returns
// how long that took.
func WaitNeigh(t testing.TB, client *testbed.Host, ip, mac string, timeout time.Duration) time.Duration {
	t.Helper()
	var got, state string
	var err error
	took, ok := testbed.WaitFor(timeout, 5*time.Millisecond, func() bool {
		got, state, err = Neigh(client, ip)
		return err == nil && got == mac
	})
	if !ok {
		t.Fatalf("client neighbour table: %s is %q (%s, err %v), want %s within %v", ip, got, state, err, mac, timeout)
	}
	return took
}
