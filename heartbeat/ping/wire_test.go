package ping

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"testing"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// reply turns a request into the reply a host would send.
func reply(t *testing.T, v6 bool, e Echo) []byte {
	t.Helper()
	var typ icmp.Type = ipv4.ICMPTypeEchoReply
	if v6 {
		typ = ipv6.ICMPTypeEchoReply
	}
	b, err := (&icmp.Message{Type: typ, Body: &icmp.Echo{ID: int(e.ID), Seq: int(e.Seq), Data: e.Data}}).Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRequestWire(t *testing.T) {
	b, err := MarshalRequest(false, Echo{ID: 0x1234, Seq: 0xfffe, Data: Payload})
	if err != nil {
		t.Fatal(err)
	}
	// type 8, code 0, checksum, id, seq, data
	if b[0] != 8 || b[1] != 0 || b[4] != 0x12 || b[5] != 0x34 || b[6] != 0xff || b[7] != 0xfe || !bytes.Equal(b[8:], Payload) {
		t.Fatalf("request % x", b)
	}
	// The Internet checksum of a correct message is 0.
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	if sum != 0xffff {
		t.Errorf("checksum does not verify: %#x", sum)
	}
	b6, err := MarshalRequest(true, Echo{ID: 1, Seq: 2})
	if err != nil || b6[0] != 128 {
		t.Fatalf("ICMPv6 request % x, %v", b6, err)
	}
}

func TestParseReply(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		want := Echo{ID: 7, Seq: 65535, Data: Payload}
		got, err := ParseReply(v6, reply(t, v6, want))
		if err != nil || got.ID != want.ID || got.Seq != want.Seq || !bytes.Equal(got.Data, Payload) {
			t.Errorf("v6=%v: %+v, %v", v6, got, err)
		}
		// Our own request (the kernel loops requests to a local
		// address back to raw sockets) is not a reply.
		req, _ := MarshalRequest(v6, want)
		if _, err := ParseReply(v6, req); !errors.Is(err, ErrNotReply) {
			t.Errorf("v6=%v: a request parsed as %v", v6, err)
		}
		if _, err := ParseReply(v6, []byte{0, 0, 0}); !errors.Is(err, ErrMalformed) {
			t.Errorf("v6=%v: 3 bytes: %v", v6, err)
		}
	}
	// An ICMPv4 destination unreachable is not a reply.
	un, _ := (&icmp.Message{Type: ipv4.ICMPTypeDestinationUnreachable, Body: &icmp.DstUnreach{Data: make([]byte, 28)}}).Marshal(nil)
	if _, err := ParseReply(false, un); !errors.Is(err, ErrNotReply) {
		t.Errorf("unreachable: %v", err)
	}
}

// The socket passes on only echo replies with its identifier; everything
// else is counted.
func TestHandleMatchesIdentifier(t *testing.T) {
	c := &Conn{id: 0x4242}
	from := &net.IPAddr{IP: net.ParseIP("198.18.0.254")}
	r, ok := c.handle(reply(t, false, Echo{ID: 0x4242, Seq: 9, Data: Payload}), from)
	if !ok || r.Seq != 9 || r.From != netip.MustParseAddr("198.18.0.254") {
		t.Fatalf("our reply: %+v %v", r, ok)
	}
	if _, ok := c.handle(reply(t, false, Echo{ID: 0x4243, Seq: 9}), from); ok {
		t.Fatal("a reply with another identifier was passed on")
	}
	req, _ := MarshalRequest(false, Echo{ID: 0x4242, Seq: 9})
	if _, ok := c.handle(req, from); ok {
		t.Fatal("a request was passed on")
	}
	if _, ok := c.handle([]byte{1, 2}, from); ok {
		t.Fatal("junk was passed on")
	}
	if c.Replies.Load() != 1 || c.WrongID.Load() != 1 || c.NotReply.Load() != 1 || c.Malformed.Load() != 1 {
		t.Errorf("counters: replies %d wrong id %d not reply %d malformed %d",
			c.Replies.Load(), c.WrongID.Load(), c.NotReply.Load(), c.Malformed.Load())
	}
}

func FuzzParseReply(f *testing.F) {
	f.Add(false, []byte{0, 0, 0xff, 0xfe, 0, 1, 0, 1})
	f.Add(true, []byte{129, 0, 0, 0, 0, 1, 0, 1, 'x'})
	f.Add(false, []byte{3, 1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, v6 bool, b []byte) {
		e, err := ParseReply(v6, b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotReply) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if len(b) < 8 || uint16(b[4])<<8|uint16(b[5]) != e.ID || uint16(b[6])<<8|uint16(b[7]) != e.Seq {
			t.Fatalf("parsed %+v from % x", e, b)
		}
	})
}
