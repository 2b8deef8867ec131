// Package ipaddr is the native virtual-IP agent: Heartbeat's IPaddr/IPaddr2
// without a shell. It adds the address with netlink (IPv4 and IPv6, with an
// optional "eth0:0" label and broadcast address), announces it at once with
// gratuitous ARP (a request and a reply per round, github.com/mdlayher/arp)
// or an unsolicited neighbour advertisement with the Override flag
// (github.com/mdlayher/ndp), finishes the burst in the background and, when
// asked, re-announces periodically while the address is held.
//
// Every call works in the network namespace of the calling OS thread; the
// background announcer only uses sockets opened by Start, so it keeps working
// in that namespace whatever thread it runs on.
package ipaddr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hasuite/hasuite/resources/agent"
	"github.com/hasuite/hasuite/resources/haresources"
)

// Defaults of Options, those of IPaddr2/send_arp (arp_count, arp_interval).
const (
	DefaultGARPCount    = 5
	DefaultGARPInterval = 200 * time.Millisecond
)

// maxIfNameLen is IFNAMSIZ-1: the longest interface name or address label.
const maxIfNameLen = 15

// Options tune announcements. The zero value gives Heartbeat's behaviour.
type Options struct {
	// GARPCount is the number of announcement rounds per burst (each round
	// is one gratuitous ARP request and one reply, or one unsolicited NA).
	// 0 means DefaultGARPCount.
	GARPCount int
	// GARPInterval spaces the rounds of a burst. 0 means DefaultGARPInterval.
	GARPInterval time.Duration
	// Refresh re-sends one round this often while the address is held, so
	// that switch and router caches never age out; 0 = off.
	Refresh time.Duration
	// Log receives diagnostics (announcement failures, a VIP removed behind
	// our back). Nil discards them.
	Log agent.Logger
	// Context bounds the life of the background announcer in addition to
	// Stop: when it is done, announcing ends (the address stays). Nil means
	// context.Background(). The ctx given to Start bounds Start only: callers
	// usually cancel it as soon as Start returns, which must not cut the
	// burst short.
	Context context.Context
}

// Stats counts announcements of one VIP since New.
type Stats struct {
	Rounds uint64 // announcement rounds sent completely
	Errors uint64 // rounds that failed (partly)
}

// VIP is one virtual IP address. It implements agent.Agent; its methods may
// be called from any goroutine (they are serialised).
type VIP struct {
	spec haresources.IPSpec
	addr netip.Addr
	opts Options
	name string

	mu    sync.Mutex
	iface string // resolved interface, "" until resolved
	bits  int    // resolved prefix length, 0 until resolved
	ann   *announcer

	rounds, errs atomic.Uint64
	failing      atomic.Bool // the last round failed
}

var _ agent.Agent = (*VIP)(nil)

// ErrNoInterface is wrapped by errors when no interface of this host can
// carry the address (no subnet contains it and none was named).
var ErrNoInterface = errors.New("no interface for address")

// ErrNotHeld is returned by Announce when the address is not on its interface.
var ErrNotHeld = errors.New("address not held")

// New validates spec and opts. It resolves nothing: the interface and the
// prefix length are found by Start (or Status, Stop) in the namespace of the
// calling thread.
func New(spec haresources.IPSpec, opts Options) (*VIP, error) {
	addr, err := parseVIP(spec.Addr)
	if err != nil {
		return nil, err
	}
	maxBits := addr.BitLen()
	if spec.Bits < 0 || spec.Bits > maxBits {
		return nil, fmt.Errorf("ipaddr: %s: prefix length %d out of range 0..%d", spec.Addr, spec.Bits, maxBits)
	}
	if spec.Iface != "" {
		if err := checkIfName(spec.Iface); err != nil {
			return nil, fmt.Errorf("ipaddr: %s: %w", spec.Addr, err)
		}
	}
	if spec.Label != "" {
		if addr.Is6() {
			return nil, fmt.Errorf("ipaddr: %s: IPv6 addresses have no labels (label %q)", spec.Addr, spec.Label)
		}
		if spec.Iface != "" {
			if _, err := fullLabel(spec.Iface, spec.Label); err != nil {
				return nil, fmt.Errorf("ipaddr: %s: %w", spec.Addr, err)
			}
		} else if strings.ContainsAny(spec.Label, " \t/") {
			return nil, fmt.Errorf("ipaddr: %s: invalid label %q", spec.Addr, spec.Label)
		}
	}
	if _, _, err := parseBroadcast(spec.Broadcast, addr); err != nil {
		return nil, fmt.Errorf("ipaddr: %s: %w", spec.Addr, err)
	}
	switch {
	case opts.GARPCount < 0:
		return nil, fmt.Errorf("ipaddr: GARPCount %d is negative", opts.GARPCount)
	case opts.GARPInterval < 0:
		return nil, fmt.Errorf("ipaddr: GARPInterval %v is negative", opts.GARPInterval)
	case opts.Refresh < 0:
		return nil, fmt.Errorf("ipaddr: Refresh %v is negative", opts.Refresh)
	}
	if opts.GARPCount == 0 {
		opts.GARPCount = DefaultGARPCount
	}
	if opts.GARPInterval == 0 {
		opts.GARPInterval = DefaultGARPInterval
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	return &VIP{spec: spec, addr: addr, opts: opts, name: specString(spec)}, nil
}

// parseVIP accepts a unicast IPv4 or IPv6 address without zone.
func parseVIP(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("ipaddr: invalid address %q", s)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("ipaddr: address %q must not have a zone", s)
	}
	a = a.Unmap()
	if a.IsUnspecified() || a.IsMulticast() || (a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255})) {
		return netip.Addr{}, fmt.Errorf("ipaddr: %s is not a unicast address", s)
	}
	return a, nil
}

func checkIfName(name string) error {
	if len(name) > maxIfNameLen || strings.ContainsAny(name, " \t/:") || name == "." || name == ".." {
		return fmt.Errorf("invalid interface name %q", name)
	}
	return nil
}

// fullLabel turns Heartbeat's label part into the kernel's address label:
// "0" on eth0 is "eth0:0". A complete label ("eth0:0") is accepted when it
// starts with the interface name and a colon. "" stays "" (no label).
func fullLabel(iface, label string) (string, error) {
	if label == "" {
		return "", nil
	}
	full := label
	if strings.Contains(label, ":") {
		if !strings.HasPrefix(label, iface+":") || len(label) == len(iface)+1 {
			return "", fmt.Errorf("label %q must start with the interface name %q and a colon", label, iface)
		}
	} else {
		full = iface + ":" + label
	}
	if len(full) > maxIfNameLen {
		return "", fmt.Errorf("label %q is longer than %d characters", full, maxIfNameLen)
	}
	if strings.ContainsAny(full, " \t/") {
		return "", fmt.Errorf("invalid label %q", full)
	}
	return full, nil
}

// parseBroadcast reads IPSpec.Broadcast: "" or "+" derive it from the
// prefix, "-" means none, anything else is an IPv4 address. derive reports
// whether it must be derived.
func parseBroadcast(s string, addr netip.Addr) (brd netip.Addr, derive bool, err error) {
	switch s {
	case "", "+":
		return netip.Addr{}, addr.Is4(), nil
	case "-":
		return netip.Addr{}, false, nil
	}
	if addr.Is6() {
		return netip.Addr{}, false, fmt.Errorf("IPv6 has no broadcast address (got %q)", s)
	}
	b, err := netip.ParseAddr(s)
	if err != nil || !b.Is4() {
		return netip.Addr{}, false, fmt.Errorf("invalid broadcast address %q", s)
	}
	return b, false, nil
}

// deriveBroadcast is the directed broadcast of p, or invalid for /31 and /32
// (RFC 3021) and IPv6.
func deriveBroadcast(p netip.Prefix) netip.Addr {
	if !p.Addr().Is4() || p.Bits() > 30 {
		return netip.Addr{}
	}
	a := p.Addr().As4()
	for i := range a {
		ones := min(max(p.Bits()-8*i, 0), 8)
		a[i] |= byte(0xff >> ones)
	}
	return netip.AddrFrom4(a)
}

// broadcastFor is the broadcast address to configure with prefix p, or
// invalid for none.
func (v *VIP) broadcastFor(p netip.Prefix) netip.Addr {
	brd, derive, _ := parseBroadcast(v.spec.Broadcast, v.addr) // validated by New
	if derive {
		return deriveBroadcast(p)
	}
	return brd
}

// specString is Heartbeat's notation of the resource.
func specString(s haresources.IPSpec) string {
	var b strings.Builder
	b.WriteString("IPaddr2::")
	b.WriteString(s.Addr)
	if s.Bits != 0 || s.Iface != "" || s.Broadcast != "" {
		b.WriteString("/")
		if s.Bits != 0 {
			b.WriteString(strconv.Itoa(s.Bits))
		}
	}
	if s.Iface != "" || s.Broadcast != "" {
		b.WriteString("/")
		switch {
		case s.Label == "":
			b.WriteString(s.Iface)
		case strings.Contains(s.Label, ":"):
			b.WriteString(s.Label)
		default:
			b.WriteString(s.Iface + ":" + s.Label)
		}
	}
	if s.Broadcast != "" {
		b.WriteString("/" + s.Broadcast)
	}
	return b.String()
}

// String names the resource, e.g. "IPaddr2::198.18.0.100/24/eth0:0".
func (v *VIP) String() string { return v.name }

// Addr is the virtual address.
func (v *VIP) Addr() netip.Addr { return v.addr }

// Interface is the interface the address goes on: the configured one, or the
// one found from the subnet once Start, Status or Stop has resolved it ("" until
// then).
func (v *VIP) Interface() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.iface
}

// Stats returns the announcement counters.
func (v *VIP) Stats() Stats {
	return Stats{Rounds: v.rounds.Load(), Errors: v.errs.Load()}
}

func (v *VIP) logf(format string, args ...any) {
	if v.opts.Log != nil {
		v.opts.Log(v.name, fmt.Sprintf(format, args...))
	}
}

// ctxErr wraps a done context's error so that callers can test for
// agent.ErrTimeout.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w: %w", agent.ErrTimeout, err)
		}
		return err
	}
	return nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
