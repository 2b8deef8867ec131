package ping

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// sendWait bounds one send: a raw socket whose buffer is full must not
// hold the daemon's loop.
const sendWait = 10 * time.Millisecond

// Reply is an echo reply with this socket's identifier.
type Reply struct {
	From netip.Addr
	Seq  uint16
}

// Counters count what the socket read and sent.
type Counters struct {
	Sent, SendErrors atomic.Uint64
	Replies          atomic.Uint64 // echo replies with our identifier
	WrongID          atomic.Uint64 // echo replies with another identifier
	NotReply         atomic.Uint64 // other ICMP messages (the filter lets none through normally)
	Malformed        atomic.Uint64
}

// Conn is one raw ICMP (or ICMPv6) socket of the daemon. Send is called by
// the daemon's loop, Run by a goroutine of its own.
type Conn struct {
	v6 bool
	id uint16
	pc *icmp.PacketConn
	Counters
}

// Open opens a raw ICMP socket (v6: ICMPv6) that receives only echo
// replies (ICMP_FILTER, ICMP6_FILTER), and sends requests with identifier
// id. It needs root or CAP_NET_RAW; the error says so.
func Open(v6 bool, id uint16) (*Conn, error) {
	network, addr, name := "ip4:icmp", "0.0.0.0", "ICMP"
	if v6 {
		network, addr, name = "ip6:ipv6-icmp", "::", "ICMPv6"
	}
	pc, err := icmp.ListenPacket(network, addr)
	if err != nil {
		return nil, fmt.Errorf("opening a raw %s socket for the ping nodes: %w (it needs root or CAP_NET_RAW)", name, err)
	}
	if v6 {
		var f ipv6.ICMPFilter
		f.SetAll(true)
		f.Accept(ipv6.ICMPTypeEchoReply)
		err = pc.IPv6PacketConn().SetICMPFilter(&f)
	} else {
		var f ipv4.ICMPFilter
		f.SetAll(true)
		f.Accept(ipv4.ICMPTypeEchoReply)
		err = pc.IPv4PacketConn().SetICMPFilter(&f)
	}
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("raw %s socket: setting its filter to echo replies: %w", name, err)
	}
	return &Conn{v6: v6, id: id, pc: pc}, nil
}

// ID is the identifier of this socket's requests.
func (c *Conn) ID() uint16 { return c.id }

// Send sends one echo request with seq to addr.
func (c *Conn) Send(addr netip.Addr, seq uint16) error {
	b, err := MarshalRequest(c.v6, Echo{ID: c.id, Seq: seq, Data: Payload})
	if err != nil {
		return err
	}
	if err := c.pc.SetWriteDeadline(time.Now().Add(sendWait)); err != nil {
		return err
	}
	if _, err := c.pc.WriteTo(b, &net.IPAddr{IP: addr.AsSlice(), Zone: addr.Zone()}); err != nil {
		c.SendErrors.Add(1)
		return fmt.Errorf("echo request to %s: %w", addr, err)
	}
	c.Sent.Add(1)
	return nil
}

// Run reads until the socket is closed, passing every echo reply with
// this socket's identifier to deliver (on Run's goroutine) and counting
// everything else.
func (c *Conn) Run(deliver func(Reply)) {
	buf := make([]byte, 1500)
	for {
		n, from, err := c.pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // never spin on a persistent error
			continue
		}
		if r, ok := c.handle(buf[:n], from); ok {
			deliver(r)
		}
	}
}

// handle classifies one received message: an echo reply with this
// socket's identifier is returned, anything else is counted and dropped.
func (c *Conn) handle(b []byte, from net.Addr) (Reply, bool) {
	e, err := ParseReply(c.v6, b)
	switch {
	case errors.Is(err, ErrNotReply):
		c.NotReply.Add(1)
		return Reply{}, false
	case err != nil:
		c.Malformed.Add(1)
		return Reply{}, false
	case e.ID != c.id:
		c.WrongID.Add(1)
		return Reply{}, false
	}
	ipa, ok := from.(*net.IPAddr)
	if !ok {
		c.Malformed.Add(1)
		return Reply{}, false
	}
	a, ok := netip.AddrFromSlice(ipa.IP)
	if !ok {
		c.Malformed.Add(1)
		return Reply{}, false
	}
	c.Replies.Add(1)
	return Reply{From: a.Unmap().WithZone(ipa.Zone), Seq: e.Seq}, true
}

// Close closes the socket; Run returns.
func (c *Conn) Close() error { return c.pc.Close() }
