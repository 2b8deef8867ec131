package testbed

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// Test networks may only use the benchmarking ranges (TESTBED.md).
var (
	allowedV4 = netip.MustParsePrefix("198.18.0.0/15")
	allowedV6 = netip.MustParsePrefix("2001:2::/48")
)

// CheckAddr accepts "addr/len" only inside 198.18.0.0/15 or 2001:2::/48.
func CheckAddr(cidr string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return p, err
	}
	a := p.Addr()
	if !allowedV4.Contains(a) && !allowedV6.Contains(a) {
		return p, fmt.Errorf("address %s is outside the test ranges %s and %s", cidr, allowedV4, allowedV6)
	}
	return p, nil
}

// Host is a network namespace standing for one machine.
type Host struct {
	Name string
	ns   string
	bed  *Bed

	// Guarded by bed.mu.
	links   []string
	addrs   map[string][]string // per link, the addresses the bed configured
	nodes   []*RealHB
	lossIfs map[string]bool
}

// NS returns the host's network namespace name (for "ip netns exec").
func (h *Host) NS() string { return h.ns }

// Bed returns the bed the host belongs to.
func (h *Host) Bed() *Bed { return h.bed }

// Connect plugs the host into a switch with a veth pair: ifname inside the
// host (e.g. "eth0"), the other end a port of the switch's bridge. cidr (may
// be empty) is added to ifname; IPv6 addresses skip duplicate address
// detection so that they are usable at once.
func (h *Host) Connect(sw *Switch, ifname, cidr string) {
	b := h.bed
	b.t.Helper()
	if len(ifname) == 0 || len(ifname) > 15 {
		b.t.Fatalf("testbed: interface name %q: want 1-15 characters (IFNAMSIZ)", ifname)
	}
	b.mu.Lock()
	b.nextPort++
	// The bridge-side name only has to be unique inside the switch namespace.
	port := fmt.Sprintf("p%d%s", b.nextPort, h.Name)
	if len(port) > 15 {
		port = port[:15]
	}
	h.links = append(h.links, ifname)
	b.mu.Unlock()

	b.mustIP("-n", h.ns, "link", "add", ifname, "type", "veth", "peer", "name", port, "netns", sw.ns)
	b.mustIP("-n", sw.ns, "link", "set", port, "master", "br0", "up")
	if cidr != "" {
		h.AddAddr(ifname, cidr)
	}
	b.mustIP("-n", h.ns, "link", "set", ifname, "up")
}

// AddAddr adds an address (inside the test ranges) to an interface of the host.
func (h *Host) AddAddr(ifname, cidr string) {
	b := h.bed
	b.t.Helper()
	p, err := CheckAddr(cidr)
	if err != nil {
		b.t.Fatalf("testbed: %v", err)
	}
	h.addAddr(ifname, cidr, p.Addr().Is6())
	b.mu.Lock()
	if h.addrs == nil {
		h.addrs = map[string][]string{}
	}
	h.addrs[ifname] = append(h.addrs[ifname], cidr)
	b.mu.Unlock()
}

func (h *Host) addAddr(ifname, cidr string, v6 bool) {
	h.bed.t.Helper()
	args := []string{"-n", h.ns, "addr", "add", cidr, "dev", ifname}
	if v6 {
		args = append(args, "nodad")
	}
	h.bed.mustIP(args...)
}

// LinkDown sets an interface of the host down (the peer sees carrier loss).
func (h *Host) LinkDown(ifname string) {
	h.bed.t.Helper()
	h.bed.mustIP("-n", h.ns, "link", "set", ifname, "down")
}

// LinkUp sets an interface of the host up.
func (h *Host) LinkUp(ifname string) {
	h.bed.t.Helper()
	h.bed.mustIP("-n", h.ns, "link", "set", ifname, "up")
}

// Netem replaces the root qdisc of ifname with "netem args...", e.g.
// Netem("eth0", "loss", "30%") or Netem("eth0", "delay", "100ms", "20ms").
// It shapes what the host sends. Kernels without sch_netem (the development
// VMs) get "loss P%" from an nftables netdev egress rule instead; anything else
// skips the test there (fails under CI=true).
func (h *Host) Netem(ifname string, args ...string) {
	b := h.bed
	b.t.Helper()
	h.clearLoss(ifname)
	cmd := append([]string{"tc", "qdisc", "replace", "dev", ifname, "root", "netem"}, args...)
	out, err := h.Run(b.t, cmd[0], cmd[1:]...)
	if err == nil {
		return
	}
	if !bytes.Contains(out, []byte("qdisc kind is unknown")) {
		b.t.Fatalf("testbed: %s: %v: %s", strings.Join(cmd, " "), err, bytes.TrimSpace(out))
	}
	pct, ok := lossOnly(args)
	if !ok {
		Unavailable(b.t, "testbed: the kernel has no sch_netem and %q cannot be emulated (only \"loss P%%\" can, with nftables)", strings.Join(args, " "))
	}
	h.setLoss(ifname, pct)
}

// lossOnly recognises "loss P%" (P may have decimals) and returns P in
// hundredths of a percent.
func lossOnly(args []string) (int, bool) {
	if len(args) != 2 || args[0] != "loss" {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(args[1], "%"), 64)
	if err != nil || f < 0 || f > 100 {
		return 0, false
	}
	return int(f*100 + 0.5), true
}

// lossTable names the nftables table that drops packets leaving ifname.
func lossTable(ifname string) string {
	var sb strings.Builder
	sb.WriteString("hbtloss_")
	for _, r := range ifname {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
		} else {
			fmt.Fprintf(&sb, "_%02x", r)
		}
	}
	return sb.String()
}

// setLoss drops a random share of every frame (ARP included, like netem) that
// leaves ifname, using the netdev egress hook (Linux >= 5.16, nftables >= 1.0.1).
func (h *Host) setLoss(ifname string, hundredths int) {
	b := h.bed
	b.t.Helper()
	tbl := lossTable(ifname)
	// numgen's range is 0..9999, so "< 10000" is out of range for nft.
	rule := fmt.Sprintf("numgen random mod 10000 < %d counter drop", hundredths)
	if hundredths >= 10000 {
		rule = "counter drop"
	}
	script := fmt.Sprintf("table netdev %s {\n chain egress {\n  type filter hook egress device %q priority 0; policy accept;\n  %s\n }\n}\n",
		tbl, ifname, rule)
	out, err := h.runStdin([]byte(script), "nft", "-f", "-")
	if err != nil {
		Unavailable(b.t, "testbed: no sch_netem, and the nftables fallback for loss failed: %v: %s", err, bytes.TrimSpace(out))
	}
	b.mu.Lock()
	if h.lossIfs == nil {
		h.lossIfs = map[string]bool{}
	}
	h.lossIfs[ifname] = true
	b.mu.Unlock()
}

func (h *Host) clearLoss(ifname string) {
	b := h.bed
	b.t.Helper()
	b.mu.Lock()
	had := h.lossIfs[ifname]
	delete(h.lossIfs, ifname)
	b.mu.Unlock()
	if !had {
		return
	}
	if out, err := h.Run(b.t, "nft", "delete", "table", "netdev", lossTable(ifname)); err != nil {
		b.t.Fatalf("testbed: removing loss rule of %s: %v: %s", ifname, err, bytes.TrimSpace(out))
	}
}

// ClearNetem removes what Netem installed on ifname (no-op if nothing).
func (h *Host) ClearNetem(ifname string) {
	b := h.bed
	b.t.Helper()
	h.clearLoss(ifname)
	out, err := h.Run(b.t, "tc", "qdisc", "del", "dev", ifname, "root")
	// Deleting the default qdisc fails harmlessly; that is "nothing installed".
	if err != nil && !bytes.Contains(out, []byte("handle of zero")) && !bytes.Contains(out, []byte("No such file")) {
		b.t.Fatalf("testbed: tc qdisc del dev %s root: %v: %s", ifname, err, bytes.TrimSpace(out))
	}
}

// PowerOff simulates pulling the plug: SIGKILL every process in the host's
// network namespace (those the bed started and everything they forked), bring
// every link of the host down, reset its addresses to those the bed
// configured (a VIP that a resource agent added does not survive a reboot),
// and empty the volatile /run of its heartbeat nodes. Netem and loss rules
// stay: they model the network, not the machine. PowerOn brings the links
// back; processes must be started again.
func (h *Host) PowerOff() {
	b := h.bed
	b.t.Helper()
	b.mu.Lock()
	procs := make([]*Proc, 0, len(b.procs))
	for _, p := range b.procs {
		if p.host == h {
			procs = append(procs, p)
		}
	}
	links := append([]string(nil), h.links...)
	addrs := map[string][]string{}
	for l, a := range h.addrs {
		addrs[l] = append([]string(nil), a...)
	}
	nodes := append([]*RealHB(nil), h.nodes...)
	b.mu.Unlock()
	for _, p := range procs {
		p.killGroup()
	}
	if err := killNetns(h.ns); err != nil {
		b.t.Fatalf("testbed: power off %s: %v", h.Name, err)
	}
	for _, p := range procs {
		if !p.waitDone(killSweepTimeout) {
			b.t.Fatalf("testbed: power off %s: %s (pid %d) survived SIGKILL", h.Name, p.name, p.Pid())
		}
	}
	for _, l := range links {
		h.LinkDown(l)
		b.mustIP("-n", h.ns, "addr", "flush", "dev", l)
		for _, a := range addrs[l] {
			p, _ := netip.ParsePrefix(a) // checked when added
			h.addAddr(l, a, p.Addr().Is6())
		}
	}
	for _, r := range nodes {
		if err := r.resetVolatile(); err != nil {
			b.t.Fatalf("testbed: power off %s: %v", h.Name, err)
		}
	}
}

// PowerOn brings the links that PowerOff took down back up.
func (h *Host) PowerOn() {
	h.bed.t.Helper()
	h.bed.mu.Lock()
	links := append([]string(nil), h.links...)
	h.bed.mu.Unlock()
	for _, l := range links {
		h.LinkUp(l)
	}
}

// Do runs fn on an OS thread switched into the host's network namespace.
// Sockets that fn opens stay in that namespace after Do returns, so a test can
// Dial or Listen "from" a host without an external program. Goroutines that fn
// starts do not inherit the namespace.
func (h *Host) Do(fn func() error) error {
	target, err := os.Open(filepath.Join(netnsDir, h.ns))
	if err != nil {
		return err
	}
	defer target.Close()
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	if err := setns(target.Fd()); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %w", h.ns, err)
	}
	defer func() {
		// A thread that cannot go back must not run other goroutines: leaving
		// it locked makes the runtime end it when this goroutine exits.
		if setns(orig.Fd()) == nil {
			runtime.UnlockOSThread()
		}
	}()
	return fn()
}

func setns(fd uintptr) error {
	if sysSetns == 0 {
		return syscall.ENOSYS
	}
	if _, _, e := syscall.Syscall(sysSetns, fd, syscall.CLONE_NEWNET, 0); e != 0 {
		return e
	}
	return nil
}
