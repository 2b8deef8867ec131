package benchres

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
)

// Bounds for the reference implementations, which are much slower to
// start and settle than ours (Heartbeat negotiates for ~10 s after a join).
const (
	refMoveTimeout   = 60 * time.Second
	refSteadyTimeout = 90 * time.Second
	// refRest lets a reference pair rest between trials.
	refRest = 200 * time.Millisecond
)

// moveObs is the client's view of one move of the VIP.
type moveObs struct {
	out       outageResult
	synackGap time.Duration // last SYN-ACK from the old node to the first from the new (kernel time)
	late      int
}

func (m moveObs) String() string {
	return fmt.Sprintf("%v; SYN-ACK gap %v; %d ticks late", m.out, m.synackGap.Round(time.Microsecond), m.late)
}

// measureMove probes vip from the client while act moves it from one node
// to the other, and returns the outage measured both ways. An error means
// the move did not happen as expected.
func measureMove(b *testing.B, n *net3, vip netip.Addr, from, to string, timeout time.Duration, act func() error) (moveObs, error) {
	b.Helper()
	var m moveObs
	cp, err := startCapture(n.client, "eth0")
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := cp.close(); err != nil {
			b.Fatalf("packet capture: %v", err)
		}
	}()
	pr := startProber(n.client, []netip.Addr{vip}, probeEvery, probeTimeout)
	if err := checkBaseline(pr, from, 1); err != nil {
		stopProber(b, pr)
		return m, err
	}
	time.Sleep(baseline)
	t0 := time.Now()
	if err := act(); err != nil {
		stopProber(b, pr)
		return m, err
	}
	newMAC, oldMAC := n.macOfNode(to), n.macOfNode(from)
	ok := waitAll(timeout, func() bool {
		_, ok := firstAnswer(pr.snapshot(), to, 0, t0)
		_, ok2 := cp.firstSynack(vip, newMAC, t0)
		return ok && ok2
	})
	time.Sleep(settleAfter)
	probes, late := stopProber(b, pr)
	if !ok {
		return m, fmt.Errorf("no answer from %s within %v of the move from %s (%s)", to, timeout, from, describeProbes(probes))
	}
	first, _ := cp.firstSynack(vip, newMAC, t0)
	last, _ := cp.lastSynackBefore(vip, oldMAC, first)
	m.synackGap, m.late = first.Sub(last), late
	if m.out, err = outage(probes, from, to, 0, t0); err != nil {
		return m, fmt.Errorf("%w (%s)", err, describeProbes(probes))
	}
	return m, nil
}

// refPair is a reference implementation on the test network.
type refPair interface {
	start(b *testing.B, node string)
	// waitSteady: both nodes up and settled, the client served by holder.
	waitSteady(b *testing.B, holder string) error
	// graceful moves the VIP away from holder the way an operator would.
	graceful(b *testing.B, holder string) error
	// afterGraceful restores what graceful stopped (keepalived restarts).
	afterGraceful(b *testing.B, holder string)
	// gracefulBack reports whether the next graceful move starts at the
	// other node (Heartbeat) or node1 again (keepalived preempts).
	gracefulBack() bool
	logs() string
}

// resetRef power-cycles both nodes and starts the pair again, node1 active.
func resetRef(b *testing.B, n *net3, p refPair) {
	b.Helper()
	for _, h := range []*testbed.Host{n.h1, n.h2} {
		powerCut(h)
		h.PowerOn()
	}
	n.startHTTPD(b, "node1")
	n.startHTTPD(b, "node2")
	p.start(b, "node1")
	p.start(b, "node2")
	if err := p.waitSteady(b, "node1"); err != nil {
		b.Fatalf("after a reset: %v\n%s", err, p.logs())
	}
}

// benchRef runs the power-off (with the failback that follows) and the
// graceful-switchover trials against a reference pair.
func benchRef(b *testing.B, n *net3, p refPair, gracefulName string) {
	b.Helper()
	vip := netip.MustParseAddr(firstVIP)
	p.start(b, "node1")
	p.start(b, "node2")
	if err := p.waitSteady(b, "node1"); err != nil {
		b.Fatalf("%v\n%s", err, p.logs())
	}
	var s samples
	tr := newTrials(b, cmpTrials())
	anomaly := func(err error) { tr.anomaly(fmt.Errorf("%w\n%s", err, p.logs()), func() { resetRef(b, n, p) }) }
	for tr.next() {
		m, err := measureMove(b, n, vip, "node1", "node2", refMoveTimeout, func() error { powerCut(n.h1); return nil })
		if err != nil {
			anomaly(fmt.Errorf("power-off: %w", err))
			continue
		}
		n.h1.PowerOn()
		n.startHTTPD(b, "node1")
		f, err := measureMove(b, n, vip, "node2", "node1", refMoveTimeout, func() error { p.start(b, "node1"); return nil })
		if err == nil {
			err = p.waitSteady(b, "node1")
		}
		if err != nil {
			anomaly(fmt.Errorf("failback: %w", err))
			continue
		}
		if disturbed(m.out.sendGap, m.out.gap) || disturbed(f.out.sendGap, f.out.gap) {
			tr.discard("power-off %v / failback %v", m, f)
			continue
		}
		tr.ok()
		s.add("poweroff-outage", m.out.gap)
		s.add("poweroff-outage-synack", m.synackGap)
		s.add("failback-outage", f.out.gap)
		s.add("failback-outage-synack", f.synackGap)
		b.Logf("attempt %d: power-off of node1: %v", tr.n(), m)
		b.Logf("attempt %d: failback to node1: %v", tr.n(), f)
	}
	tr.report()
	tr = newTrials(b, cmpTrials())
	holder := "node1"
	for tr.next() {
		ranOn, other := holder, map[string]string{"node1": "node2", "node2": "node1"}[holder]
		m, err := measureMove(b, n, vip, holder, other, refMoveTimeout, func() error { return p.graceful(b, ranOn) })
		if err == nil {
			p.afterGraceful(b, holder)
			if p.gracefulBack() {
				err = p.waitSteady(b, other)
			} else {
				err = p.waitSteady(b, holder)
			}
		}
		if err != nil {
			anomaly(fmt.Errorf("%s: %w", gracefulName, err))
			holder = "node1"
			continue
		}
		if p.gracefulBack() {
			holder = other
		}
		if disturbed(m.out.sendGap, m.out.gap) {
			tr.discard("%v", m)
			continue
		}
		tr.ok()
		s.add("standby-outage", m.out.gap)
		s.add("standby-outage-synack", m.synackGap)
		b.Logf("attempt %d: %s on %s: %v", tr.n(), gracefulName, ranOn, m)
	}
	s.report(b, "poweroff-outage", "standby-outage", "failback-outage")
	b.ReportMetric(float64(tr.good), "standby-trials")
	b.ReportMetric(float64(tr.discarded), "standby-discarded")
	b.ReportMetric(float64(tr.anomalies), "standby-anomalies")
}

// BenchmarkCompare measures the same outages with the real Heartbeat 3.0.6
// (haresources with IPaddr2) and with keepalived (VRRPv3, unicast).
func BenchmarkCompare(b *testing.B) {
	if os.Getenv("HB_CMP") == "0" {
		b.Skip("HB_CMP=0")
	}
	b.Run("heartbeat306", func(b *testing.B) {
		for range b.N {
			benchRealHB(b)
		}
	})
	b.Run("keepalived", func(b *testing.B) {
		for range b.N {
			benchKeepalived(b)
		}
	})
}

// ---------------------------------------------------------------------------
// The real Heartbeat 3.0.6.

func realHACF(peer string) string {
	return fmt.Sprintf(`# benchres: the fastest timings Heartbeat 3.0.6 accepts
keepalive %s
deadtime %s
warntime %s
initdead 1
udpport 694
ucast eth0 %s
auto_failback on
node node1 node2
crm no
`, keepalive, deadtime, warntime, peer)
}

type realPair struct {
	*net3
	cfg    map[string]testbed.RealHBConfig
	nodes  map[string]*testbed.RealHB
	hbStby string
}

func (p *realPair) start(b *testing.B, node string) {
	b.Helper()
	p.nodes[node] = p.hostsByName[node].StartRealHeartbeat(b, p.cfg[node])
}

// clStatus runs cl_status on node and returns its trimmed answer.
func (p *realPair) clStatus(b *testing.B, node string, args ...string) string {
	out, code := p.nodes[node].ClStatus(b, args...)
	if code != 0 {
		return fmt.Sprintf("(exit %d) %s", code, strings.TrimSpace(out))
	}
	return strings.TrimSpace(out)
}

func (p *realPair) waitSteady(b *testing.B, holder string) error {
	b.Helper()
	deadline := time.Now().Add(refSteadyTimeout)
	var st []string
	for {
		st = []string{
			p.clStatus(b, "node1", "nodestatus", "node2"), p.clStatus(b, "node2", "nodestatus", "node1"),
			p.clStatus(b, "node1", "rscstatus"), p.clStatus(b, "node2", "rscstatus"),
		}
		if st[0] == "active" && st[1] == "active" && st[2] != "transition" && st[3] != "transition" &&
			!strings.HasPrefix(st[2], "(") && !strings.HasPrefix(st[3], "(") {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("heartbeat pair not settled within %v: nodestatus %q/%q, rscstatus %q/%q", refSteadyTimeout, st[0], st[1], st[2], st[3])
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := p.waitClientSees(b, netip.MustParseAddr(firstVIP), holder, refSteadyTimeout); err != nil {
		return err
	}
	time.Sleep(refRest)
	return nil
}

func (p *realPair) graceful(b *testing.B, holder string) error {
	res := p.nodes[holder].Exec(b, p.hbStby, "all")
	if res.Code != 0 {
		return fmt.Errorf("hb_standby on %s: exit %d (%v): %s %s", holder, res.Code, res.Err, res.Stdout, res.Stderr)
	}
	return nil
}

func (p *realPair) afterGraceful(*testing.B, string) {}
func (p *realPair) gracefulBack() bool               { return true }

func (p *realPair) logs() string {
	var sb strings.Builder
	for _, n := range []string{"node1", "node2"} {
		if r := p.nodes[n]; r != nil {
			fmt.Fprintf(&sb, "%s ha-log:\n%s\n", n, lastLines(r.Log(), 25))
		}
	}
	return sb.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func benchRealHB(b *testing.B) {
	n, p := newRealPair(b)
	benchRef(b, n, p, "hb_standby")
}

// newRealPair sets up (does not start) a pair of the real Heartbeat 3.0.6.
func newRealPair(b *testing.B) (*net3, *realPair) {
	testbed.RequireRealHeartbeat(b)
	hbStandby := "/usr/share/heartbeat/hb_standby"
	if _, err := os.Stat(hbStandby); err != nil {
		testbed.Unavailable(b, "the heartbeat package has no %s: %v", hbStandby, err)
	}
	n := newNet3(b, binaries(b))
	p := &realPair{net3: n, hbStby: hbStandby, nodes: map[string]*testbed.RealHB{}}
	res := "node1 IPaddr2::" + firstVIP + "/24/eth0\n"
	keys := "auth 1\n1 sha1 benchres-secret\n" // sha1: the strongest Heartbeat 3.0.6 has
	p.cfg = map[string]testbed.RealHBConfig{
		"node1": {Node: "node1", HACF: realHACF(addr2), Authkeys: keys, Haresources: res},
		"node2": {Node: "node2", HACF: realHACF(addr1), Authkeys: keys, Haresources: res},
	}
	return n, p
}

// ---------------------------------------------------------------------------
// keepalived.

func keepalivedConf(node, self, peer string, prio int) string {
	return fmt.Sprintf(`# benchres: VRRPv3, the shortest advert interval keepalived accepts
# and a track script that checks the service (the demo httpd) every second
global_defs {
    router_id %s
    vrrp_version 3
    script_user root
    enable_script_security
}
vrrp_script chk_httpd {
    script "/bin/bash -c 'exec 3<>/dev/tcp/%s/80'"
    interval 1
    timeout 1
    fall 2
    rise 1
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority %d
    advert_int 0.01
    unicast_src_ip %s
    unicast_peer {
        %s
    }
    virtual_ipaddress {
        %s/24 dev eth0
    }
    track_script {
        chk_httpd
    }
}
`, node, self, prio, self, peer, firstVIP)
}

type kaPair struct {
	*net3
	dir   map[string]string
	procs map[string]*testbed.Proc
}

func (p *kaPair) start(b *testing.B, node string) {
	b.Helper()
	d := p.dir[node]
	// The pid files live in /run on a real machine, which a reboot empties;
	// a stale one whose number now belongs to any thread stops keepalived.
	for _, f := range []string{"keepalived.pid", "vrrp.pid"} {
		if err := os.Remove(filepath.Join(d, f)); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
	}
	p.procs[node] = p.hostsByName[node].Start(b, "keepalived", "--dont-fork", "--log-console", "--log-detail",
		"--no-syslog", "--vrrp", "--use-file", filepath.Join(d, "keepalived.conf"),
		"--pid", filepath.Join(d, "keepalived.pid"), "--vrrp_pid", filepath.Join(d, "vrrp.pid"))
}

// graceful stops keepalived on holder (it sends a priority 0 advert so
// that the backup takes over at once) and waits for it to exit.
func (p *kaPair) graceful(b *testing.B, holder string) error {
	pr := p.procs[holder]
	if err := pr.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("SIGTERM to keepalived on %s: %v", holder, err)
	}
	if err := pr.Wait(10 * time.Second); err == testbed.ErrTimeout {
		return fmt.Errorf("keepalived on %s did not stop within 10s", holder)
	}
	return nil
}

// afterGraceful starts keepalived again; node1 preempts.
func (p *kaPair) afterGraceful(b *testing.B, holder string) { p.start(b, holder) }
func (p *kaPair) gracefulBack() bool                        { return false }

func (p *kaPair) waitSteady(b *testing.B, holder string) error {
	b.Helper()
	other := map[string]string{"node1": "node2", "node2": "node1"}[holder]
	vips := []netip.Addr{netip.MustParseAddr(firstVIP)}
	deadline := time.Now().Add(refSteadyTimeout)
	for countAddrs(b, p.hostsByName[holder], vips) != 1 || countAddrs(b, p.hostsByName[other], vips) != 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("keepalived: %s does not hold %s alone within %v", holder, firstVIP, refSteadyTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.waitClientSees(b, vips[0], holder, refSteadyTimeout); err != nil {
		return err
	}
	time.Sleep(refRest)
	return nil
}

func (p *kaPair) logs() string {
	var sb strings.Builder
	for _, n := range []string{"node1", "node2"} {
		if pr := p.procs[n]; pr != nil {
			fmt.Fprintf(&sb, "%s keepalived:\n%s\n", n, lastLines(pr.Log(), 25))
		}
	}
	return sb.String()
}

func benchKeepalived(b *testing.B) {
	n, p := newKeepalivedPair(b)
	benchRef(b, n, p, "graceful stop")
}

// newKeepalivedPair sets up (does not start) a keepalived pair.
func newKeepalivedPair(b *testing.B) (*net3, *kaPair) {
	if _, err := exec.LookPath("keepalived"); err != nil {
		testbed.Unavailable(b, "keepalived is not installed (apt-get install keepalived): %v", err)
	}
	n := newNet3(b, binaries(b))
	p := &kaPair{net3: n, dir: map[string]string{}, procs: map[string]*testbed.Proc{}}
	for node, c := range map[string]struct {
		self, peer string
		prio       int
	}{"node1": {addr1, addr2, 200}, "node2": {addr2, addr1, 100}} {
		d := filepath.Join(n.bed.Dir, node, "keepalived")
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "keepalived.conf"), []byte(keepalivedConf(node, c.self, c.peer, c.prio)), 0o644); err != nil {
			b.Fatal(err)
		}
		p.dir[node] = d
	}
	return n, p
}
