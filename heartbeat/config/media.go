package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// mediumArgs names the arguments of each medium, in ha.cf order.
var mediumArgs = map[string][]string{
	"bcast":  {"device"},
	"serial": {"tty"},
	"ucast":  {"device", "peer"},
	"ucast6": {"device", "peer"},
	"mcast":  {"device", "group", "port", "ttl", "loop"},
	"mcast6": {"device", "group", "port", "hops", "loop"},
}

// mediumToken is a per-token medium directive: one medium per token.
func mediumToken(kind string) func(*builder, Pos, string, string) {
	return func(b *builder, pos Pos, _, v string) { b.addMedium(kind, pos, []string{v}) }
}

// mediumLine is a whole-line medium directive.
func mediumLine(kind string) func(*builder, Pos, string, string) {
	return func(b *builder, pos Pos, _, rest string) { b.addMedium(kind, pos, fields(rest)) }
}

// addMedium validates and appends one medium. Ports and speeds that come
// from udpport and baud are filled in later (finish), so the order of
// directives does not matter.
func (b *builder) addMedium(kind string, pos Pos, args []string) {
	want := mediumArgs[kind]
	if len(args) != len(want) {
		b.errorf(pos, "%s takes %d argument(s) (%s), got %d", kind, len(want), strings.Join(want, " "), len(args))
		return
	}
	m := Medium{Kind: kind, Dev: args[0], Pos: pos}
	var err error
	switch kind {
	case "serial":
		err = checkAbsPath("serial device", m.Dev)
	default:
		err = checkIfName(m.Dev)
	}
	if err != nil {
		b.errorf(pos, "%s: %v", kind, err)
		return
	}
	switch kind {
	case "ucast", "ucast6":
		m.Peer = args[1]
		err = checkPeer(kind, m.Peer)
	case "mcast", "mcast6":
		m.Group = args[1]
		err = parseMcast(&m, args[2:])
	}
	if err != nil {
		b.errorf(pos, "%s: %v", kind, err)
		return
	}
	for _, o := range b.c.Media {
		if o.Kind == m.Kind && o.Dev == m.Dev && o.Peer == m.Peer && o.Group == m.Group {
			b.warnf(pos, "%s %s duplicates the medium at %s", kind, m.Dev, b.where(o.Pos))
		}
	}
	b.c.Media = append(b.c.Media, m)
}

// checkPeer wants an address of the medium's family or a host name.
func checkPeer(kind, peer string) error {
	if err := checkHost(peer); err != nil {
		return err
	}
	a, err := netip.ParseAddr(peer)
	if err != nil {
		return nil // a host name, resolved when the link opens
	}
	if kind == "ucast" && !a.Unmap().Is4() {
		return fmt.Errorf("peer %s is an IPv6 address; use ucast6", peer)
	}
	if kind == "ucast6" && a.Is4() {
		return fmt.Errorf("peer %s is an IPv4 address; use ucast", peer)
	}
	if a.IsUnspecified() || a.IsMulticast() {
		return fmt.Errorf("peer %s is not a unicast address", peer)
	}
	return nil
}

// parseMcast reads port, ttl and loop and checks the group. TTL may be up
// to 255 (Heartbeat's mcast plugin refuses more than 4 although its
// documentation says 255).
func parseMcast(m *Medium, args []string) error {
	g, err := netip.ParseAddr(m.Group)
	if err != nil {
		return fmt.Errorf("group %q is not an IP address", m.Group)
	}
	if !g.IsMulticast() {
		return fmt.Errorf("group %s is not a multicast address", m.Group)
	}
	if m.Kind == "mcast" && !g.Is4() {
		return fmt.Errorf("group %s is an IPv6 address; use mcast6", m.Group)
	}
	if m.Kind == "mcast6" && !g.Is6() {
		return fmt.Errorf("group %s is an IPv4 address; use mcast", m.Group)
	}
	if m.Port, err = parseInt(args[0], 1, 65535); err != nil {
		return fmt.Errorf("port: %v", err)
	}
	if m.TTL, err = parseInt(args[1], 0, 255); err != nil {
		return fmt.Errorf("%s: %v", mediumArgs[m.Kind][3], err)
	}
	switch args[2] {
	case "0":
	case "1":
		m.Loop = true
	default:
		return fmt.Errorf("loop: %q is not 0 or 1", args[2])
	}
	return nil
}

// pingToken is ping (IPv4 or host name) or ping6 (IPv6 literal, as
// Heartbeat's ping6 plugin only takes inet_pton input).
func pingToken(ipv6 bool) func(*builder, Pos, string, string) {
	return func(b *builder, pos Pos, name, host string) {
		if err := checkPingHost(host, ipv6); err != nil {
			b.errorf(pos, "%s: %v", name, err)
			return
		}
		b.addPing(PingSpec{Name: asciiLower(host), Hosts: []string{host}, IPv6: ipv6, Pos: pos})
	}
}

func checkPingHost(host string, ipv6 bool) error {
	if err := checkHost(host); err != nil {
		return err
	}
	a, err := netip.ParseAddr(host)
	switch {
	case ipv6 && (err != nil || !a.Is6()):
		return fmt.Errorf("%s is not an IPv6 address", host)
	case !ipv6 && err == nil && a.Is6() && !a.Is4In6():
		return fmt.Errorf("%s is an IPv6 address; use ping6", host)
	}
	return nil
}

// addPingGroupLine is "ping_group <name> <host>...".
func (b *builder) addPingGroupLine(pos Pos, name, rest string) {
	f := fields(rest)
	if len(f) < 2 {
		b.errorf(pos, "%s: want ping_group <name> <host>...", name)
		return
	}
	b.addPingGroup(pos, f[0], f[1:])
}

func (b *builder) addPingGroup(pos Pos, group string, hosts []string) {
	if err := checkNodeName(group); err != nil {
		b.errorf(pos, "ping_group: %v", err)
		return
	}
	for _, h := range hosts {
		if err := checkPingHost(h, false); err != nil {
			b.errorf(pos, "ping_group %s: %v", group, err)
			return
		}
	}
	b.addPing(PingSpec{Name: asciiLower(group), Hosts: hosts, Group: true, Pos: pos})
}

// addPing appends a ping pseudo-node unless its name is taken.
func (b *builder) addPing(p PingSpec) {
	for _, o := range b.c.Ping {
		if o.Name == p.Name {
			b.errorf(p.Pos, "ping node %s is already declared at %s", p.Name, b.where(o.Pos))
			return
		}
	}
	b.c.Ping = append(b.c.Ping, p)
}
