package config

import (
	"slices"
	"testing"
)

// lastMedia returns the n media the snippet added: all but base's ucast.
func lastMedia(c *Config, n int) []Medium {
	var out []Medium
	for _, m := range c.Media {
		if m.Kind != "ucast" || m.Dev != "eth0" || m.Peer != "198.18.0.2" {
			out = append(out, m)
		}
	}
	if len(out) != n {
		return nil
	}
	return out
}

func wantMedia(want ...Medium) func(*testing.T, *Config) {
	return func(t *testing.T, c *Config) {
		t.Helper()
		got := lastMedia(c, len(want))
		for i := range got {
			got[i].Pos = Pos{}
		}
		if !slices.Equal(got, want) {
			t.Errorf("media = %+v, want %+v", c.Media, want)
		}
	}
}

func TestMediaDirectives(t *testing.T) {
	runDirectiveCases(t, []directiveCase{
		{name: "bcast per token", in: "bcast eth1 eth2", check: wantMedia(
			Medium{Kind: "bcast", Dev: "eth1", Port: 694}, Medium{Kind: "bcast", Dev: "eth2", Port: 694})},
		{name: "udp alias", in: "udp eth1", warn: "udp is the old name of bcast", check: wantMedia(Medium{Kind: "bcast", Dev: "eth1", Port: 694})},
		{name: "bcast alias label", in: "bcast eth0:1", line: 1, err: "alias labels"},
		{name: "bcast long name", in: "bcast averyveryverylongname0", line: 1, err: "longer than 15 bytes"},
		{name: "serial per token", in: "serial /dev/ttyS0,/dev/ttyS1", check: wantMedia(
			Medium{Kind: "serial", Dev: "/dev/ttyS0", Baud: 19200}, Medium{Kind: "serial", Dev: "/dev/ttyS1", Baud: 19200})},
		{name: "serial relative", in: "serial ttyS0", line: 1, err: "not an absolute path"},
		{name: "ucast host name", in: "ucast eth1 node2.example", check: wantMedia(Medium{Kind: "ucast", Dev: "eth1", Peer: "node2.example", Port: 694})},
		{name: "ucast missing peer", in: "ucast eth1", line: 1, err: "ucast takes 2 argument(s) (device peer), got 1"},
		{name: "ucast extra argument", in: "ucast eth1 198.18.0.9 extra", line: 1, err: "got 3"},
		{name: "ucast IPv6 peer", in: "ucast eth1 2001:db8::1", line: 1, err: "use ucast6"},
		{name: "ucast bad host", in: "ucast eth1 bad_host!", line: 1, err: "not an IP address or host name"},
		{name: "ucast multicast peer", in: "ucast eth1 239.1.1.1", line: 1, err: "not a unicast address"},
		{name: "ucast duplicate warns", in: "ucast eth0 198.18.0.2", warn: "duplicates the medium at line 1"},
		{name: "ucast6", in: "ucast6 eth1 2001:db8::2", check: wantMedia(Medium{Kind: "ucast6", Dev: "eth1", Peer: "2001:db8::2", Port: 694})},
		{name: "ucast6 IPv4 peer", in: "ucast6 eth1 198.18.0.9", line: 1, err: "use ucast"},
		{name: "mcast", in: "mcast eth1 239.0.0.1 700 1 0", check: wantMedia(Medium{Kind: "mcast", Dev: "eth1", Group: "239.0.0.1", Port: 700, TTL: 1})},
		{name: "mcast large ttl and loop", in: "mcast eth1 239.0.0.1 694 200 1", check: wantMedia(Medium{Kind: "mcast", Dev: "eth1", Group: "239.0.0.1", Port: 694, TTL: 200, Loop: true})},
		{name: "mcast ttl range", in: "mcast eth1 239.0.0.1 694 256 0", line: 1, err: "ttl: 256 is out of range 0-255"},
		{name: "mcast loop", in: "mcast eth1 239.0.0.1 694 1 2", line: 1, err: "loop: \"2\" is not 0 or 1"},
		{name: "mcast unicast group", in: "mcast eth1 198.18.0.1 694 1 0", line: 1, err: "not a multicast address"},
		{name: "mcast IPv6 group", in: "mcast eth1 ff02::1 694 1 0", line: 1, err: "use mcast6"},
		{name: "mcast port", in: "mcast eth1 239.0.0.1 0 1 0", line: 1, err: "port: 0 is out of range"},
		{name: "mcast arguments", in: "mcast eth1 239.0.0.1 694 1", line: 1, err: "mcast takes 5 argument(s)"},
		{name: "mcast6", in: "mcast6 eth1 ff12::1:2:3:4 694 1 0", check: wantMedia(Medium{Kind: "mcast6", Dev: "eth1", Group: "ff12::1:2:3:4", Port: 694, TTL: 1})},
		{name: "mcast6 IPv4 group", in: "mcast6 eth1 239.0.0.1 694 1 0", line: 1, err: "use mcast"},
		{name: "hbaping", in: "hbaping fc0", line: 1, err: "hbaping medium is not supported"},
		{name: "tipc", in: "tipc x", line: 1, err: "tipc medium is not supported"},
		{name: "rds", in: "rds x", line: 1, err: "rds medium is not supported"},
	})
}

func TestPingDirectives(t *testing.T) {
	pings := func(want ...PingSpec) func(*testing.T, *Config) {
		return func(t *testing.T, c *Config) {
			t.Helper()
			got := append([]PingSpec(nil), c.Ping...)
			for i := range got {
				got[i].Pos = Pos{}
			}
			if !slices.EqualFunc(got, want, func(a, b PingSpec) bool {
				return a.Name == b.Name && a.Group == b.Group && a.IPv6 == b.IPv6 && slices.Equal(a.Hosts, b.Hosts)
			}) {
				t.Errorf("Ping = %+v, want %+v", got, want)
			}
		}
	}
	runDirectiveCases(t, []directiveCase{
		{name: "ping per token", in: "ping 198.18.0.254 GW.example", check: pings(
			PingSpec{Name: "198.18.0.254", Hosts: []string{"198.18.0.254"}},
			PingSpec{Name: "gw.example", Hosts: []string{"GW.example"}})},
		{name: "ping IPv6", in: "ping 2001:db8::1", line: 1, err: "use ping6"},
		{name: "ping named like a node", in: "ping node1", line: 1, err: "ping node node1 has the name of a cluster node"},
		{name: "ping twice", in: "ping 198.18.0.1\nping 198.18.0.1", line: 2, err: "already declared at line 1"},
		{name: "ping6", in: "ping6 2001:db8::1", check: pings(PingSpec{Name: "2001:db8::1", Hosts: []string{"2001:db8::1"}, IPv6: true})},
		{name: "ping6 IPv4", in: "ping6 198.18.0.1", line: 1, err: "not an IPv6 address"},
		{name: "ping_group", in: "ping_group GWs 198.18.0.1 198.18.0.2", check: pings(
			PingSpec{Name: "gws", Hosts: []string{"198.18.0.1", "198.18.0.2"}, Group: true})},
		{name: "ping_group without hosts", in: "ping_group gws", line: 1, err: "want ping_group <name> <host>"},
		{name: "ping_group bad host", in: "ping_group gws 198.18.0.1 -x", line: 1, err: "not an IP address or host name"},
	})
}
