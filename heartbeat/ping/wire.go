// Package ping sends ICMP and ICMPv6 echo requests to ping nodes and reads
// the replies, for the daemon. The wire (this file: building a request,
// parsing what arrives) is separate from the IO (conn.go: the raw socket),
// so that the codec is tested and fuzzed without a socket.
//
// The package decides nothing: which host is probed when, which reply
// counts and whether a ping node is alive is the node layer's (see
// heartbeat/node's reach.go). The socket only filters what is certainly
// not ours: messages that are not echo replies, and replies whose
// identifier is not this daemon's.
package ping

import (
	"errors"
	"fmt"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Echo is one ICMP echo request or reply.
type Echo struct {
	ID, Seq uint16
	Data    []byte
}

// Payload is the data of every request this suite sends: replies echo it.
var Payload = []byte("hasuite ping\x00\x00\x00\x00")

// Errors of ParseReply; both are counted by the socket, never fatal.
var (
	// ErrMalformed: not a well-formed ICMP message.
	ErrMalformed = errors.New("malformed ICMP message")
	// ErrNotReply: a well-formed ICMP message other than an echo reply.
	ErrNotReply = errors.New("not an echo reply")
)

// Protocol numbers for icmp.ParseMessage.
const (
	protoICMP   = 1
	protoICMPv6 = 58
)

// MarshalRequest builds an echo request. For ICMPv6 the checksum is left
// to the kernel, which computes it on every raw ICMPv6 socket.
func MarshalRequest(v6 bool, e Echo) ([]byte, error) {
	var typ icmp.Type = ipv4.ICMPTypeEcho
	if v6 {
		typ = ipv6.ICMPTypeEchoRequest
	}
	m := icmp.Message{Type: typ, Body: &icmp.Echo{ID: int(e.ID), Seq: int(e.Seq), Data: e.Data}}
	b, err := m.Marshal(nil)
	if err != nil {
		return nil, fmt.Errorf("echo request: %w", err)
	}
	return b, nil
}

// ParseReply parses an ICMP (v6: ICMPv6) message without its IP header
// and returns it if it is an echo reply. The data is not copied.
func ParseReply(v6 bool, b []byte) (Echo, error) {
	proto, want := protoICMP, icmp.Type(ipv4.ICMPTypeEchoReply)
	if v6 {
		proto, want = protoICMPv6, ipv6.ICMPTypeEchoReply
	}
	// icmp.ParseMessage needs the 4-byte header and, for an echo, the
	// 4 bytes of identifier and sequence.
	if len(b) < 8 {
		return Echo{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	m, err := icmp.ParseMessage(proto, b)
	if err != nil {
		return Echo{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if m.Type != want {
		return Echo{}, fmt.Errorf("%w: type %v", ErrNotReply, m.Type)
	}
	e, ok := m.Body.(*icmp.Echo)
	if !ok {
		return Echo{}, fmt.Errorf("%w: echo reply without an echo body", ErrMalformed)
	}
	return Echo{ID: uint16(e.ID), Seq: uint16(e.Seq), Data: e.Data}, nil
}
