package config

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// fakeMachine is a Machine with fixed interfaces.
type fakeMachine struct {
	ifs []Interface
	err error
}

func (f fakeMachine) Interfaces() ([]Interface, error) { return f.ifs, f.err }

func iface(name string, addrs ...string) Interface {
	x := Interface{Name: name}
	for _, a := range addrs {
		x.Addrs = append(x.Addrs, netip.MustParseAddr(a))
	}
	return x
}

// node1 has lo, eth0 (198.18.0.1) and eth1 (198.19.0.1).
var node1 = fakeMachine{ifs: []Interface{iface("lo", "127.0.0.1", "::1"), iface("eth0", "198.18.0.1"), iface("eth1", "198.19.0.1")}}

// TestAdvise: each warning about a set-up that invites a split brain or
// fails on this machine, with its file:line, and the set-ups that get
// none.
func TestAdvise(t *testing.T) {
	const nodes = "node node1 node2\nauto_failback on\n"
	tests := []struct {
		name  string
		hacf  string // after nodes (lines 1-2), so the first line here is line 3
		m     Machine
		want  []string // "line: message substring", in order; nil = no warning
		extra bool     // other warnings may follow
	}{
		{"two paths", "ucast eth0 198.18.0.2\nucast eth1 198.19.0.2\n", node1, nil, false},
		{"one path", "ucast eth0 198.18.0.2\n", node1,
			[]string{"3: eth0 is the only heartbeat path and there is neither STONITH nor a watchdog: if this one path fails, both nodes take over the resources (split brain); add a second medium"}, false},
		{"one path, shared file with both addresses", "ucast eth0 198.18.0.1\nucast eth0 198.18.0.2\n", node1,
			[]string{"3: eth0 is the only heartbeat path"}, false},
		{"one path with a watchdog", "ucast eth0 198.18.0.2\nwatchdog /dev/watchdog\n", node1, nil, false},
		{"one path with STONITH", "ucast eth0 198.18.0.2\nstonith_host * external/ipmi node2 198.19.0.102 admin pw lan\n", node1, nil, false},
		{"one path, STONITH only for the other node", "ucast eth0 198.18.0.2\nstonith_host node2 external/ipmi node1 198.19.0.101 admin pw lan\n", node1,
			[]string{"3: eth0 is the only heartbeat path"}, true},
		{"two media on one device are one path", "ucast eth0 198.18.0.2\nbcast eth0\n", node1, []string{"3: eth0 is the only heartbeat path"}, false},
		{"a serial cable is a second path", "ucast eth0 198.18.0.2\nserial /dev/ttyS0\n", node1, nil, false},
		{"no such interface", "ucast eth0 198.18.0.2\nucast eth9 198.20.0.2\nmcast eth8 239.0.0.1 694 1 0\n", node1, []string{
			"4: ucast eth9: this machine has no network interface eth9, so the daemon will not start with this line here: correct the name (ip link lists the interfaces) or remove the line",
			"5: mcast eth8: this machine has no network interface eth8"}, false},
		{"every ucast target local", "ucast eth0 198.18.0.1\nucast eth1 198.19.0.2\nwatchdog /dev/watchdog\n", node1, []string{
			`3: ucast eth0: every target (198.18.0.1) is an address of this machine; the daemon skips such lines, so eth0 carries no heartbeat to the peer: add "ucast eth0 <peer address>" (both nodes may share one file listing both addresses; each skips its own)`}, false},
		{"every ucast target local, the only path", "ucast eth0 198.18.0.1\nucast eth0 127.0.0.1\n", node1, []string{
			"3: ucast eth0: every target (198.18.0.1, 127.0.0.1) is an address of this machine",
			"0: no heartbeat medium reaches the peer from this machine, so the daemon will not start here"}, false},
		{"a host name is not resolved", "ucast eth0 node2.example\nucast eth1 198.19.0.2\n", node1, nil, false},
		{"ucast6 to our own address", "ucast6 eth0 ::1\nucast eth1 198.19.0.2\nwatchdog /dev/watchdog\n", node1,
			[]string{"3: ucast6 eth0: every target (::1) is an address of this machine"}, false},
		{"machine unknown", "ucast eth9 198.18.0.1\nucast eth1 198.19.0.2\n", nil, nil, false},
		{"machine cannot be asked", "ucast eth0 198.18.0.2\nucast eth1 198.19.0.2\n", fakeMachine{err: errors.New("netlink: permission denied")},
			[]string{"0: cannot list this machine's network interfaces (netlink: permission denied): the interface and address checks are skipped"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseHACF(strings.NewReader(nodes+tc.hacf), "ha.cf")
			if err != nil {
				t.Fatal(err)
			}
			got := c.Advise(tc.m)
			if len(got) < len(tc.want) || !tc.extra && len(got) != len(tc.want) {
				t.Fatalf("warnings:\n%v\nwant %d: %q", ErrorList(got), len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				line, msg, _ := strings.Cut(w, ": ")
				if got[i].File != "ha.cf" || strings.TrimPrefix(got[i].Pos.String(), "ha.cf:") != line && !(line == "0" && got[i].Line == 0) || !strings.HasPrefix(got[i].Msg, msg) {
					t.Errorf("warning %d = %q, want ha.cf line %s: %q", i, got[i].Error(), line, msg)
				}
			}
		})
	}
}

// TestAdviseTOML: the warnings name ha.toml lines too.
func TestAdviseTOML(t *testing.T) {
	src := "nodes = [\"node1\", \"node2\"]\nauto_failback = \"off\"\n\n[[media]]\nkind = \"ucast\"\ndev = \"eth7\"\npeer = \"198.18.0.2\"\n"
	c, err := ParseTOML(strings.NewReader(src), "ha.toml")
	if err != nil {
		t.Fatal(err)
	}
	got := ErrorList(c.Advise(node1)).Error()
	for _, w := range []string{"ha.toml:4: ucast eth7: this machine has no network interface eth7", "ha.toml:4: eth7 is the only heartbeat path"} {
		if !strings.Contains(got, w) {
			t.Errorf("warnings lack %q:\n%s", w, got)
		}
	}
}

// TestLegacyWarning: auto_failback legacy, written or by default, is
// warned about with what to do.
func TestLegacyWarning(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"auto_failback legacy\n", "ha.cf:1: auto_failback legacy is deprecated: a starting node reclaims its groups with ip-request, without the exchange in which both nodes report what they hold, and hb_standby/hb_takeover are refused; set auto_failback on (groups still return to their preferred node) or off"},
		{"", "ha.cf: auto_failback legacy (the default) is deprecated: "},
	} {
		c, err := ParseHACF(strings.NewReader(tc.in+base), "ha.cf")
		if err != nil {
			t.Fatal(err)
		}
		if got := ErrorList(c.Warnings).Error(); !strings.Contains(got, tc.want) {
			t.Errorf("%q: warnings\n%s\nlack %q", tc.in, got, tc.want)
		}
	}
}

// TestFirewall: what each medium and ping node needs opened, in
// configuration order, with the line it comes from.
func TestFirewall(t *testing.T) {
	src := `node node1 node2
udpport 695
ucast eth0 198.18.0.1
ucast eth0 198.18.0.2
bcast eth1
mcast eth2 239.0.0.1 694 1 0
mcast eth2 239.0.0.1 694 1 0
mcast6 eth3 ff12::694 694 1 0
ucast6 eth3 2001:db8::2
serial /dev/ttyS0
ping 198.18.0.254
ping6 2001:db8::fe
ping_group gw 198.18.0.253 198.19.0.253
`
	c, err := ParseHACF(strings.NewReader(src), "ha.cf")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range c.Firewall(node1) {
		got = append(got, o.Pos.String()+" "+o.Medium+": "+o.String())
	}
	want := []string{
		"ha.cf:4 ucast: udp port 695 in on eth0 from 198.18.0.2",
		"ha.cf:5 bcast: udp port 695 in on eth1",
		"ha.cf:6 mcast: udp port 694 in on eth2 to group 239.0.0.1",
		"ha.cf:6 mcast: igmp in and out on eth2 (membership of 239.0.0.1)",
		"ha.cf:8 mcast6: udp port 694 in on eth3 to group ff12::694",
		"ha.cf:8 mcast6: icmpv6 MLD (types 130-132, 143) in and out on eth3 (membership of ff12::694)",
		"ha.cf:9 ucast6: udp port 695 in on eth3 from 2001:db8::2",
		"ha.cf:11 ping: icmp echo-request out to 198.18.0.254, echo-reply in",
		"ha.cf:12 ping6: icmpv6 echo-request out to 2001:db8::fe, echo-reply in",
		"ha.cf:13 ping_group: icmp echo-request out to 198.18.0.253, echo-reply in",
		"ha.cf:13 ping_group: icmp echo-request out to 198.19.0.253, echo-reply in",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Firewall:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Without the machine, the line to our own address is listed too.
	if n := len(c.Firewall(nil)); n != len(want)+1 {
		t.Errorf("Firewall(nil) lists %d openings, want %d", n, len(want)+1)
	}
}
