package msg

import (
	"encoding/binary"
	"fmt"
	"os"
)

// A minimal reader for classic libpcap files, enough to pull heartbeat
// payloads out of the reference captures: Ethernet (with 802.1Q tags),
// Linux cooked v1/v2 and raw IPv4 link types; IPv4 UDP payloads and ICMP
// echo payloads. Anything else is counted as skipped, never silently lost.

const (
	linkEthernet = 1
	linkRaw      = 101
	linkSLL      = 113
	linkSLL2     = 276
)

type capturedPacket struct {
	index   int    // 1-based record number, as Wireshark shows it
	kind    string // "udp" or "icmp-echo"
	src     string
	payload []byte
}

type captureFile struct {
	packets []capturedPacket
	skipped map[string]int // reason -> count
}

func readPcap(path string) (*captureFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < 24 {
		return nil, fmt.Errorf("%s: short global header", path)
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(data) {
	case 0xa1b2c3d4, 0xa1b23c4d: // microsecond, nanosecond timestamps
		order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%s: not a classic pcap file", path)
	}
	link := order.Uint32(data[20:]) & 0x0fffffff // upper bits: FCS info
	cf := &captureFile{skipped: map[string]int{}}
	for off, idx := 24, 1; off < len(data); idx++ {
		if len(data)-off < 16 {
			return nil, fmt.Errorf("%s: record %d: short header", path, idx)
		}
		incl, orig := int(order.Uint32(data[off+8:])), int(order.Uint32(data[off+12:]))
		off += 16
		if incl > len(data)-off {
			return nil, fmt.Errorf("%s: record %d: truncated file", path, idx)
		}
		frame := data[off : off+incl]
		off += incl
		if incl != orig {
			return nil, fmt.Errorf("%s: record %d: captured %d of %d bytes", path, idx, incl, orig)
		}
		ip, reason := linkPayload(link, frame)
		if ip == nil {
			cf.skipped[reason]++
			continue
		}
		p, reason, err := ipv4Payload(ip)
		if err != nil {
			return nil, fmt.Errorf("%s: record %d: %v", path, idx, err)
		}
		if p == nil {
			cf.skipped[reason]++
			continue
		}
		p.index = idx
		cf.packets = append(cf.packets, *p)
	}
	return cf, nil
}

// linkPayload strips the link header and returns the IPv4 packet, or nil
// and why it was skipped.
func linkPayload(link uint32, f []byte) ([]byte, string) {
	var proto uint16
	switch link {
	case linkEthernet:
		if len(f) < 14 {
			return nil, "short ethernet frame"
		}
		proto, f = binary.BigEndian.Uint16(f[12:]), f[14:]
		for proto == 0x8100 || proto == 0x88a8 { // VLAN tags
			if len(f) < 4 {
				return nil, "short vlan tag"
			}
			proto, f = binary.BigEndian.Uint16(f[2:]), f[4:]
		}
	case linkSLL:
		if len(f) < 16 {
			return nil, "short cooked header"
		}
		proto, f = binary.BigEndian.Uint16(f[14:]), f[16:]
	case linkSLL2:
		if len(f) < 20 {
			return nil, "short cooked v2 header"
		}
		proto, f = binary.BigEndian.Uint16(f[0:]), f[20:]
	case linkRaw:
		proto = 0x0800
	default:
		return nil, fmt.Sprintf("link type %d", link)
	}
	if proto != 0x0800 {
		return nil, fmt.Sprintf("ethertype %#04x", proto)
	}
	return f, ""
}

func ipv4Payload(ip []byte) (*capturedPacket, string, error) {
	if len(ip) < 20 || ip[0]>>4 != 4 {
		return nil, "", fmt.Errorf("not an IPv4 header")
	}
	ihl, total := int(ip[0]&15)*4, int(binary.BigEndian.Uint16(ip[2:]))
	if ihl < 20 || total < ihl || total > len(ip) {
		return nil, "", fmt.Errorf("bad IPv4 lengths ihl=%d total=%d have=%d", ihl, total, len(ip))
	}
	if frag := binary.BigEndian.Uint16(ip[6:]); frag&0x3fff != 0 {
		return nil, "", fmt.Errorf("IPv4 fragment (flags/offset %#04x)", frag)
	}
	src := fmt.Sprintf("%d.%d.%d.%d", ip[12], ip[13], ip[14], ip[15])
	body := ip[ihl:total]
	switch ip[9] {
	case 17:
		if len(body) < 8 || int(binary.BigEndian.Uint16(body[4:])) != len(body) {
			return nil, "", fmt.Errorf("bad UDP length")
		}
		return &capturedPacket{kind: "udp", src: src, payload: body[8:]}, "", nil
	case 1:
		if len(body) < 8 {
			return nil, "", fmt.Errorf("short ICMP header")
		}
		if t := body[0]; t != 0 && t != 8 {
			return nil, fmt.Sprintf("icmp type %d", t), nil
		}
		return &capturedPacket{kind: "icmp-echo", src: src, payload: body[8:]}, "", nil
	}
	return nil, fmt.Sprintf("ip protocol %d", ip[9]), nil
}
