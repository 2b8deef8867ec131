package config

import (
	"fmt"
	"strconv"
)

// Opening is one kind of traffic a host firewall must let through for
// the daemon, derived from the configuration (Firewall).
type Opening struct {
	Proto  string // "udp", "igmp", "icmp" or "icmpv6"
	Iface  string // the interface; "" for any
	Port   int    // udp: the destination port
	From   string // udp: the sender (a ucast peer); "" for any
	Group  string // udp, igmp, icmpv6: the multicast group joined
	Host   string // icmp, icmpv6: the ping node
	Medium string // the directive it comes from: "ucast", "mcast", "ping", ...
	Pos           // where that directive is
}

// String says what to let through, e.g. "udp port 694 in on eth0 from
// 198.18.0.2".
func (o Opening) String() string {
	on := ""
	if o.Iface != "" {
		on = " on " + o.Iface
	}
	switch o.Proto {
	case "udp":
		s := "udp port " + strconv.Itoa(o.Port) + " in" + on
		if o.Group != "" {
			s += " to group " + o.Group
		}
		if o.From != "" {
			s += " from " + o.From
		}
		return s
	case "igmp":
		return "igmp in and out" + on + " (membership of " + o.Group + ")"
	case "icmpv6":
		if o.Group != "" {
			return "icmpv6 MLD (types 130-132, 143) in and out" + on + " (membership of " + o.Group + ")"
		}
		return "icmpv6 echo-request out to " + o.Host + ", echo-reply in"
	case "icmp":
		return "icmp echo-request out to " + o.Host + ", echo-reply in"
	}
	return fmt.Sprintf("%s%s", o.Proto, on)
}

// Firewall lists what a host firewall must let in (and, for ping nodes
// and multicast membership, out) for this configuration: for each UDP
// medium its port on its interface (from the peer for ucast, to the group
// for mcast), IGMP or MLD on each interface with an mcast group, ICMP echo
// to and from each ping node. Serial links need nothing. Heartbeats are
// sent from ephemeral ports, so only destination ports are listed; the
// daemon's own sends need no opening on a firewall that lets output
// through. With m, ucast lines to this machine's own addresses are left
// out, as the daemon skips them. Duplicates are listed once.
func (c *Config) Firewall(m Machine) []Opening {
	v, _ := viewOf(m)
	var out []Opening
	seen := map[string]bool{}
	add := func(o Opening) {
		if k := o.String(); !seen[k] {
			seen[k] = true
			out = append(out, o)
		}
	}
	for _, md := range c.Media {
		base := Opening{Proto: "udp", Iface: md.Dev, Port: md.Port, Medium: md.Kind, Pos: md.Pos}
		switch md.Kind {
		case "ucast", "ucast6":
			if v.known && v.isLocal(md.Peer) {
				continue
			}
			base.From = md.Peer
			add(base)
		case "bcast":
			add(base)
		case "mcast", "mcast6":
			base.Group = md.Group
			add(base)
			member := Opening{Proto: "igmp", Iface: md.Dev, Group: md.Group, Medium: md.Kind, Pos: md.Pos}
			if md.Kind == "mcast6" {
				member.Proto = "icmpv6"
			}
			add(member)
		}
	}
	for _, p := range c.Ping {
		for _, h := range p.Hosts {
			proto := "icmp"
			if p.IPv6 {
				proto = "icmpv6"
			}
			name := "ping"
			switch {
			case p.Group:
				name = "ping_group"
			case p.IPv6:
				name = "ping6"
			}
			add(Opening{Proto: proto, Host: h, Medium: name, Pos: p.Pos})
		}
	}
	return out
}
