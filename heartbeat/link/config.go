package link

import (
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// UDP media kinds, named as the ha.cf directives.
const (
	KindUcast  = "ucast"
	KindBcast  = "bcast"
	KindMcast  = "mcast"
	KindUcast6 = "ucast6"
	KindMcast6 = "mcast6"
)

// UDPConfig describes one UDP medium. Fields a kind does not use are
// ignored.
type UDPConfig struct {
	Kind  string // ucast, bcast, mcast, ucast6 or mcast6
	Dev   string // interface the medium is bound to; also the link's name
	Peer  string // ucast/ucast6: peer address or host name (resolved once, at open)
	Group string // mcast/mcast6: multicast group address
	Port  int    // UDP port (udpport for ucast/bcast, mcast's own port)
	TTL   int    // mcast/mcast6: multicast TTL / hop limit, used as given (0 keeps packets on this host)
	Loop  bool   // mcast/mcast6: also deliver our own packets to local receivers
}

// validate checks the fields the kind needs, before any socket exists.
func (c UDPConfig) validate() error {
	switch c.Kind {
	case KindUcast, KindBcast, KindMcast, KindUcast6, KindMcast6:
	case "":
		return errors.New("missing medium kind")
	default:
		return fmt.Errorf("unknown UDP medium kind %q", c.Kind)
	}
	if c.Dev == "" {
		return fmt.Errorf("%s: missing interface", c.Kind)
	}
	if len(c.Dev) >= unix.IFNAMSIZ {
		return fmt.Errorf("%s: interface name %q longer than %d bytes", c.Kind, c.Dev, unix.IFNAMSIZ-1)
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("%s %s: port %d out of range 1-65535", c.Kind, c.Dev, c.Port)
	}
	switch c.Kind {
	case KindUcast, KindUcast6:
		if c.Peer == "" {
			return fmt.Errorf("%s %s: missing peer", c.Kind, c.Dev)
		}
	case KindMcast, KindMcast6:
		if _, err := c.group(); err != nil {
			return err
		}
		if c.TTL < 0 || c.TTL > 255 {
			return fmt.Errorf("%s %s: ttl %d out of range 0-255", c.Kind, c.Dev, c.TTL)
		}
	}
	return nil
}

// ipv6 reports whether the medium uses IPv6 sockets.
func (c UDPConfig) ipv6() bool {
	return c.Kind == KindUcast6 || c.Kind == KindMcast6
}

// group parses and checks the multicast group for the kind's family.
func (c UDPConfig) group() (netip.Addr, error) {
	g, err := netip.ParseAddr(c.Group)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s %s: group %q: %w", c.Kind, c.Dev, c.Group, err)
	}
	g = g.WithZone("")
	if c.ipv6() {
		if !g.Is6() || g.Is4In6() {
			return netip.Addr{}, fmt.Errorf("%s %s: group %s is not an IPv6 address", c.Kind, c.Dev, g)
		}
	} else {
		g = g.Unmap()
		if !g.Is4() {
			return netip.Addr{}, fmt.Errorf("%s %s: group %s is not an IPv4 address (use mcast6)", c.Kind, c.Dev, g)
		}
	}
	if !g.IsMulticast() {
		return netip.Addr{}, fmt.Errorf("%s %s: %s is not a multicast address", c.Kind, c.Dev, g)
	}
	return g, nil
}
