package benchres

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// Addresses (benchmarking range, TESTBED.md).
const (
	addr1    = "198.18.0.1"
	addr2    = "198.18.0.2"
	addrCl   = "198.18.0.10"
	firstVIP = "198.18.0.100"
)

// The timings of the brief: keepalive 10ms, deadtime 50ms.
const (
	keepalive = "10ms"
	warntime  = "30ms"
	deadtime  = "50ms"
	initdead  = "1"
)

// Bounds of the waits. They only decide how long a broken run takes to
// fail, never what a passing one measures.
const (
	steadyTimeout = 20 * time.Second
	moveTimeout   = 10 * time.Second
	cmdTimeout    = 30 * time.Second
	pollEvery     = 5 * time.Millisecond
	probeEvery    = time.Millisecond
	probeTimeout  = 200 * time.Millisecond
	baseline      = 150 * time.Millisecond // probing before a fault
	settleAfter   = 150 * time.Millisecond // probing after the first new answer
)

// vipAddrs returns n consecutive VIPs from 198.18.0.100.
func vipAddrs(n int) []netip.Addr {
	a := netip.MustParseAddr(firstVIP)
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = a
		a = a.Next()
	}
	return out
}

// net3 is the test network: a switch, node1, node2 and a client.
type net3 struct {
	bed             *testbed.Bed
	h1, h2, client  *testbed.Host
	mac1, mac2      net.HardwareAddr
	httpd1, httpd2  *testbed.Proc
	bin             string
	hostsByName     map[string]*testbed.Host
	httpdByHostName map[string]**testbed.Proc
	// managed: the cluster starts and stops the HTTP server itself (a
	// resource of its group); startHTTPD does nothing.
	managed bool
}

func newNet3(b *testing.B, bin string) *net3 {
	b.Helper()
	bed := testbed.New(b)
	sw := bed.AddSwitch("lan")
	n := &net3{bed: bed, bin: bin, h1: bed.AddHost("node1"), h2: bed.AddHost("node2"), client: bed.AddHost("client")}
	n.h1.Connect(sw, "eth0", addr1+"/24")
	n.h2.Connect(sw, "eth0", addr2+"/24")
	n.client.Connect(sw, "eth0", addrCl+"/24")
	n.mac1, n.mac2 = macOf(b, n.h1), macOf(b, n.h2)
	n.hostsByName = map[string]*testbed.Host{"node1": n.h1, "node2": n.h2}
	n.httpdByHostName = map[string]**testbed.Proc{"node1": &n.httpd1, "node2": &n.httpd2}
	n.startHTTPD(b, "node1")
	n.startHTTPD(b, "node2")
	b.Logf("machine load at the start: %s", machineLoad())
	b.Cleanup(func() { b.Logf("machine load at the end: %s", machineLoad()) })
	return n
}

// machineLoad describes how busy the machine is (other tests share it).
func machineLoad() string {
	la, _ := os.ReadFile("/proc/loadavg")
	pr, _ := os.ReadFile("/proc/pressure/cpu")
	first, _, _ := strings.Cut(string(pr), "\n")
	return fmt.Sprintf("loadavg %s; cpu pressure %s", strings.TrimSpace(string(la)), first)
}

// macOf is the MAC of the host's eth0.
func macOf(b *testing.B, h *testbed.Host) net.HardwareAddr {
	b.Helper()
	mac, err := net.ParseMAC(e2ekit.MACOf(b, h))
	if err != nil {
		b.Fatalf("MAC of %s: %v", h.Name, err)
	}
	return mac
}

// startHTTPD runs the demo HTTP server on :80 of a node (again, after a
// power-off) and waits until it answers on the node's own address.
func (n *net3) startHTTPD(b *testing.B, node string) {
	b.Helper()
	if n.managed {
		return
	}
	h := n.hostsByName[node]
	*n.httpdByHostName[node] = h.Start(b, filepath.Join(n.bin, "httpd"), "-node", node, "-listen", ":80")
	own := addr1
	if node == "node2" {
		own = addr2
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if derr := h.Do(func() error {
			c, e := net.DialTimeout("tcp", own+":80", time.Second)
			if e == nil {
				c.Close()
			}
			err = e
			return nil
		}); derr != nil {
			b.Fatal(derr)
		}
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("httpd on %s does not listen: %v; log:\n%s", node, err, (*n.httpdByHostName[node]).Log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// macOfNode is the MAC of a node's eth0.
func (n *net3) macOfNode(node string) net.HardwareAddr {
	if node == "node2" {
		return n.mac2
	}
	return n.mac1
}

// ---------------------------------------------------------------------------
// Our daemon.

// ourNode is one of our daemons (e2ekit.Node), logging into
// <Dir>/log/ha-log (the path that testbed dumps when a benchmark fails);
// log follows that file.
type ourNode struct {
	*e2ekit.Node
	logPath string
	log     *logFollower
}

func ourHACF(peer, logfile string) string {
	return fmt.Sprintf(`# benchres: fastest timings
logfile %s
keepalive %s
warntime %s
deadtime %s
initdead %s
udpport 694
ucast eth0 %s
auto_failback on
node node1 node2
`, logfile, keepalive, warntime, deadtime, initdead, peer)
}

// haresourcesLine is one group preferring node1 with every VIP on eth0.
func haresourcesLine(vips []netip.Addr) string {
	var sb strings.Builder
	sb.WriteString("node1")
	for _, v := range vips {
		fmt.Fprintf(&sb, " %s/24/eth0", v)
	}
	sb.WriteString("\n")
	return sb.String()
}

func newOurNode(b *testing.B, bin string, h *testbed.Host, name, peer string, vips []netip.Addr) *ourNode {
	b.Helper()
	n := &ourNode{Node: e2ekit.NewNode(b, h, name)}
	n.BinDir = bin
	n.logPath = filepath.Join(n.Dir, "log", "ha-log")
	if err := os.MkdirAll(filepath.Dir(n.logPath), 0o755); err != nil {
		b.Fatal(err)
	}
	n.WriteConf(ourHACF(peer, n.logPath), fmt.Sprintf("auth 1\n1 sha256 benchres-%d\n", os.Getpid()))
	e2ekit.WriteFile(b, filepath.Join(n.ConfDir, "haresources"), haresourcesLine(vips), 0o644)
	lf, err := followLog(n.logPath)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(lf.close)
	n.log = lf
	return n
}

// holding is what the node says it holds ("" when it does not answer).
func (n *ourNode) holding() string {
	st, err := n.SocketStatus()
	if err != nil {
		return ""
	}
	return st.Resources
}

// tail is the end of the node's log, for failure messages.
func (n *ourNode) tail(lines int) string {
	data, err := os.ReadFile(n.logPath)
	if err != nil {
		return err.Error()
	}
	ls := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	s := strings.Join(ls, "\n")
	if n.Proc != nil && n.Proc.Exited() {
		s += fmt.Sprintf("\n(daemon exited, code %d; stderr:\n%s)", n.Proc.ExitCode(), n.Proc.Log())
	}
	return s
}

// ourCluster is a pair of our daemons serving one group of VIPs.
type ourCluster struct {
	*net3
	n1, n2 *ourNode
	vips   []netip.Addr
}

func newOurCluster(b *testing.B, nVIPs int) *ourCluster {
	b.Helper()
	bin := binaries(b)
	c := &ourCluster{net3: newNet3(b, bin), vips: vipAddrs(nVIPs)}
	c.n1 = newOurNode(b, bin, c.h1, "node1", addr2, c.vips)
	c.n2 = newOurNode(b, bin, c.h2, "node2", addr1, c.vips)
	b.Cleanup(func() { b.Logf("daemon logs: %s", c.health()) })
	c.n1.Launch()
	c.n2.Launch()
	c.waitHolder(b, "node1", steadyTimeout)
	return c
}

func (c *ourCluster) node(name string) *ourNode {
	if name == "node2" {
		return c.n2
	}
	return c.n1
}

// health counts the log lines that tell of trouble: a node declared dead
// (expected once per power-off of node1, on node2), late heartbeats and
// returns after a partition (false deaths).
func (c *ourCluster) health() string {
	var parts []string
	for _, n := range []*ourNode{c.n1, c.n2} {
		data, _ := os.ReadFile(n.logPath)
		s := string(data)
		parts = append(parts, fmt.Sprintf("%s: %d \"is dead\", %d \"late heartbeat\", %d \"returning after partition\"",
			n.Name, strings.Count(s, " is dead\t"), strings.Count(s, "late heartbeat"), strings.Count(s, "returning after partition")))
	}
	return strings.Join(parts, "; ")
}

// waitHolder waits until holder holds the group and sees its peer active,
// the other node holds nothing, and every VIP is on holder only; it fails
// the benchmark otherwise.
func (c *ourCluster) waitHolder(b *testing.B, holder string, timeout time.Duration) {
	b.Helper()
	if err := c.tryWaitHolder(b, holder, timeout); err != nil {
		b.Fatal(err)
	}
}

// tryWaitHolder is waitHolder returning the failure with both logs.
func (c *ourCluster) tryWaitHolder(b *testing.B, holder string, timeout time.Duration) error {
	b.Helper()
	h, o := c.n1, c.n2
	if holder == "node2" {
		h, o = c.n2, c.n1
	}
	deadline := time.Now().Add(timeout)
	var hs, os_, ps string
	for time.Now().Before(deadline) {
		hs, os_, ps = h.holding(), o.holding(), h.PeerState(o.Name)
		if (hs == "local" || hs == "all" || hs == "foreign") && os_ == "none" && ps == "active" &&
			c.vipsOn(b, h.Host) == len(c.vips) && c.vipsOn(b, o.Host) == 0 {
			return nil
		}
		for _, n := range []*ourNode{c.n1, c.n2} {
			if n.Proc != nil && n.Proc.Exited() {
				b.Fatalf("%s exited; log:\n%s", n.Name, n.tail(30))
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s not the steady holder within %v (holds %q, peer %q holds %q, sees peer %q)\n%s",
		holder, timeout, hs, o.Name, os_, ps, c.logs(25))
}

// logs is the end of both daemons' logs, for failure messages.
func (c *ourCluster) logs(lines int) string {
	return fmt.Sprintf("node1 log:\n%s\nnode2 log:\n%s", c.n1.tail(lines), c.n2.tail(lines))
}

// reset power-cycles both nodes and starts everything again, with node1
// holding the group (after an anomaly).
func (c *ourCluster) reset(b *testing.B) {
	b.Helper()
	for _, h := range []*testbed.Host{c.h1, c.h2} {
		powerCut(h)
		h.PowerOn()
	}
	c.startHTTPD(b, "node1")
	c.startHTTPD(b, "node2")
	c.n1.Launch()
	c.n2.Launch()
	c.waitHolder(b, "node1", steadyTimeout)
}

// vipsOn counts the VIPs configured on h's eth0.
func (c *ourCluster) vipsOn(b *testing.B, h *testbed.Host) int {
	return countAddrs(b, h, c.vips)
}

func countAddrs(b *testing.B, h *testbed.Host, vips []netip.Addr) int {
	want := map[netip.Addr]bool{}
	for _, v := range vips {
		want[v] = true
	}
	n := 0
	if err := h.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipn.IP); ok && want[ip.Unmap()] {
					n++
				}
			}
		}
		return nil
	}); err != nil {
		b.Fatalf("addresses of %s: %v", h.Name, err)
	}
	return n
}

// runTool runs one of our command-line tools (from the root namespace: they
// talk to the daemon over its Unix socket), bounded by cmdTimeout.
func runTool(bin, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("%s: timed out after %v", name, cmdTimeout)
	}
	return string(out), err
}

// waitClientSees probes until the client gets an answer from node via vip
// (the service is up end to end), bounded by timeout.
func (n *net3) waitClientSees(b *testing.B, vip netip.Addr, node string, timeout time.Duration) error {
	b.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		var got string
		if err := n.client.Do(func() error {
			got = httpGet(vip)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if strings.Contains(got, "hello from "+node) {
			return nil
		}
		last = got
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("the client does not get an answer from %s via %s within %v (last: %q)", node, vip, timeout, last)
}

// httpGet asks vip:80 once (from the calling thread's namespace) and
// returns the answer or the error text.
func httpGet(vip netip.Addr) string {
	c, err := net.DialTimeout("tcp", vip.String()+":80", 100*time.Millisecond)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.Write(httpReq); err != nil {
		return err.Error()
	}
	all, err := io.ReadAll(io.LimitReader(c, 4096))
	if err != nil {
		return err.Error()
	}
	return string(all)
}
