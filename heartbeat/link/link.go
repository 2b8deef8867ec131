// Package link carries Heartbeat frames between nodes: each Link sends
// datagrams to the peer(s) over one medium. A UDP link is read by its
// owner's event loop (Fd, Receive); the serial link (package serial) has a
// reader goroutine that hands every frame to a callback. This package
// moves bytes only; parsing, authentication and duplicate suppression
// happen in the core.
//
// The UDP media (ucast, bcast, mcast and their IPv6 forms) follow
// Heartbeat 3.0.6's socket layout, so a node of this suite and a real
// Heartbeat node hear each other on the same ports.
package link

import (
	"net/netip"
	"time"
)

// MaxMessage is the largest message Heartbeat handles (MAXMSG, 256 KiB);
// receive buffers have this size.
const MaxMessage = 256 << 10

// Packet is one datagram (or serial frame) received on a link.
type Packet struct {
	Link string         // the receiving Link's Name
	Data []byte         // see the receiving function for who owns it
	From netip.AddrPort // sender address; zero for media without addresses
	// Stamp is when the kernel received the datagram (SO_TIMESTAMPNS, on
	// CLOCK_REALTIME: a wall-clock time without Go's monotonic reading),
	// so that a datagram read late still tells when it arrived. Zero for
	// media without kernel timestamps (serial) or when none was attached.
	// Right after the first socket of the system asks for stamps the
	// kernel turns stamping on asynchronously, and stamps the datagrams
	// of that moment when they are read: they look no older than read.
	Stamp time.Time
}

// Link is one heartbeat medium.
type Link interface {
	// Name is Heartbeat's name for the link: the interface for UDP media
	// (what cl_status listhblinks shows), the tty path for serial.
	Name() string
	// Send transmits b as one datagram. It never waits for buffer space:
	// a full queue is an error like any other, which the caller counts.
	Send(b []byte) error
	// Close stops the link and releases its sockets or tty. A link with
	// a reader goroutine returns after the reader has stopped: no
	// callback runs after Close returns.
	Close() error
}
