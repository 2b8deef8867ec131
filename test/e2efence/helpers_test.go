package e2efence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hasuite/hasuite/internal/testbed"
)

// Bounds: they only decide how long a broken build takes to fail.
const (
	cmdTimeout  = 15 * time.Second
	startBound  = 10 * time.Second
	settleBound = 25 * time.Second
	moveBound   = 15 * time.Second
	slowPoll    = 20 * time.Millisecond
	fastPoll    = 5 * time.Millisecond

	deadtime = 500 * time.Millisecond
)

// The test network (shared/TESTBED.md): eth0 on the "lan" switch carries
// the client and the VIP, eth1 on the "hb" switch is the only heartbeat
// link, so cutting eth1 on both nodes cuts every link between them while
// the client still reaches both.
const (
	node1Addr  = "198.18.0.1"
	node2Addr  = "198.18.0.2"
	clientAddr = "198.18.0.10"
	node1HB    = "198.19.0.1"
	node2HB    = "198.19.0.2"
	vip        = "198.18.0.100"
	haresRes   = "node1 198.18.0.100/24/eth0\n"
	authkeys   = "auth 1\n1 sha256 e2efence-Secret-Key\n"
)

// hacf is the ha.cf of node talking to peerHB over eth1, plus extra lines.
func hacf(peerHB string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# e2efence\nkeepalive 100ms\nwarntime 300ms\ndeadtime 500ms\ninitdead 2\nudpport 694\n"+
		"ucast eth1 %s\nauto_failback on\nnode node1 node2\n", peerHB)
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	return b.String()
}

type result struct {
	stdout, stderr string
	code           int // -1: did not run or timed out
	err            error
}

func (r result) String() string {
	return fmt.Sprintf("exit %d (%v), stdout %q, stderr %q", r.code, r.err, r.stdout, r.stderr)
}

func run(timeout time.Duration, env []string, name string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	if env != nil {
		cmd.Env = env
	}
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	r := result{stdout: so.String(), stderr: se.String(), code: -1}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.err = fmt.Errorf("%s: timed out after %v", name, timeout)
	case err == nil:
		r.code = 0
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		r.err = err
	}
	return r
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// ourNode is one of our daemons in a test host.
type ourNode struct {
	t                      *testing.T
	host                   *testbed.Host
	name                   string
	confDir, runDir, state string
	env                    []string // nil: inherit
	proc                   *testbed.Proc
	procs                  []*testbed.Proc
}

func newNode(t *testing.T, h *testbed.Host, name, hacfText string) *ourNode {
	t.Helper()
	dir := filepath.Join(h.Bed().Dir, h.Name, "ours-"+name)
	n := &ourNode{t: t, host: h, name: name, confDir: filepath.Join(dir, "etc"),
		runDir: filepath.Join(dir, "run"), state: filepath.Join(dir, "state")}
	for _, d := range []string{n.confDir, n.runDir, n.state, filepath.Join(n.confDir, "resource.d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(n.confDir, "ha.cf"), hacfText, 0o644)
	writeFile(t, filepath.Join(n.confDir, "authkeys"), authkeys, 0o600)
	writeFile(t, filepath.Join(n.confDir, "haresources"), haresRes, 0o644)
	return n
}

// start runs the daemon ("ip netns exec NS heartbeat ...", with n.env if
// set) and waits until its control socket answers.
func (n *ourNode) start() {
	n.t.Helper()
	args := []string{"-c", n.confDir, "-n", n.name, "--run-dir", n.runDir, "--state-dir", n.state}
	if n.env != nil {
		// testbed.Host.Start inherits the test's environment; env(1) adds ours.
		n.proc = n.host.Start(n.t, "env", append(append(append([]string{}, n.env...), heartbeatBin), args...)...)
	} else {
		n.proc = n.host.Start(n.t, heartbeatBin, args...)
	}
	n.procs = append(n.procs, n.proc)
	var last result
	took, ok := testbed.WaitFor(startBound, slowPoll, func() bool {
		if n.proc.Exited() {
			return true
		}
		last = n.clStatus("hbstatus")
		return last.code == 0
	})
	if n.proc.Exited() {
		n.t.Fatalf("%s: heartbeat exited during start-up (exit %d); log:\n%s", n.name, n.proc.ExitCode(), n.proc.Log())
	}
	if !ok {
		n.t.Fatalf("%s: daemon did not answer within %v (last %v); log:\n%s", n.name, took, last, n.proc.Log())
	}
}

func (n *ourNode) log() string {
	var b strings.Builder
	for _, p := range n.procs {
		b.WriteString(p.Log())
	}
	return b.String()
}

func (n *ourNode) clStatus(args ...string) result {
	return run(cmdTimeout, nil, clStatusBin, append([]string{"--run-dir", n.runDir}, args...)...)
}

func (n *ourNode) heartbeat(args ...string) result {
	return run(cmdTimeout+60*time.Second, nil, heartbeatBin, append(args, "--run-dir", n.runDir)...)
}

func (n *ourNode) rsc() string {
	r := n.clStatus("rscstatus")
	if r.code != 0 {
		return fmt.Sprintf("<%v>", r)
	}
	return strings.TrimSpace(r.stdout)
}

func (n *ourNode) waitRsc(want string, timeout time.Duration) time.Duration {
	n.t.Helper()
	var last string
	took, ok := testbed.WaitFor(timeout, slowPoll, func() bool { last = n.rsc(); return last == want })
	if !ok {
		n.t.Fatalf("%s: cl_status rscstatus: want %q within %v, last %q; log:\n%s", n.name, want, timeout, last, tail(n.log(), 40))
	}
	return took
}

// waitLog waits until the node's log contains s.
func (n *ourNode) waitLog(s string, timeout time.Duration) time.Duration {
	n.t.Helper()
	took, ok := testbed.WaitFor(timeout, slowPoll, func() bool { return strings.Contains(n.log(), s) })
	if !ok {
		n.t.Fatalf("%s: log has no %q within %v; log:\n%s", n.name, s, timeout, tail(n.log(), 40))
	}
	return took
}

// cluster is a client and two nodes, both started and settled (node1
// holds the VIP group, node2 nothing), the client's neighbour entry for
// the VIP pointing at node1.
type cluster struct {
	t              *testing.T
	bed            *testbed.Bed
	client, h1, h2 *testbed.Host
	n1, n2         *ourNode
	mac1, mac2     string
	prefix         string
}

// newCluster builds the network and writes both nodes' configuration
// (extra1/extra2 are extra ha.cf lines); before, if set, runs before the
// daemons start (e.g. to start a watchdog emulator).
func newCluster(t *testing.T, extra1, extra2 []string, before func(c *cluster)) *cluster {
	t.Helper()
	b := testbed.New(t)
	lan, hb := b.AddSwitch("lan"), b.AddSwitch("hb")
	c := &cluster{t: t, bed: b, client: b.AddHost("client"), h1: b.AddHost("node1"), h2: b.AddHost("node2")}
	c.client.Connect(lan, "eth0", clientAddr+"/24")
	c.h1.Connect(lan, "eth0", node1Addr+"/24")
	c.h2.Connect(lan, "eth0", node2Addr+"/24")
	c.h1.Connect(hb, "eth1", node1HB+"/24")
	c.h2.Connect(hb, "eth1", node2HB+"/24")
	c.prefix = strings.TrimSuffix(c.h1.NS(), "-node1")
	c.n1 = newNode(t, c.h1, "node1", hacf(node2HB, extra1...))
	c.n2 = newNode(t, c.h2, "node2", hacf(node1HB, extra2...))
	if before != nil {
		before(c)
	}
	return c
}

// startAndSettle starts both daemons and waits for node1 to hold the VIP.
func (c *cluster) startAndSettle() {
	c.t.Helper()
	c.n1.start()
	c.n2.start()
	c.n1.waitRsc("local", settleBound)
	c.n2.waitRsc("none", settleBound)
	c.mac1, c.mac2 = macOf(c.t, c.h1), macOf(c.t, c.h2)
	waitAddr(c.t, c.h1, vip, true, moveBound)
	if hasAddr(c.t, c.h2, vip) {
		c.t.Fatalf("node2 has the VIP while node1 holds the group")
	}
	// Give the client a neighbour entry for the VIP.
	c.ping()
	waitNeigh(c.t, c.client, vip, c.mac1, moveBound)
}

// ping sends one echo request from the client to the VIP (best effort).
func (c *cluster) ping() bool {
	out, err := c.client.Run(c.t, "ping", "-n", "-c", "1", "-W", "1", vip)
	_ = out
	return err == nil
}

func macOf(t *testing.T, h *testbed.Host) string {
	t.Helper()
	var mac string
	if err := h.Do(func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		mac = l.Attrs().HardwareAddr.String()
		return nil
	}); err != nil {
		t.Fatalf("%s: eth0: %v", h.Name, err)
	}
	return mac
}

// hasAddr reports whether ip is configured on the host's eth0.
func hasAddr(t *testing.T, h *testbed.Host, ip string) bool {
	t.Helper()
	found := false
	if err := h.Do(func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if a.IP.String() == ip {
				found = true
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("%s: addresses: %v", h.Name, err)
	}
	return found
}

// answersVIP reports whether the host could answer for ip on the LAN: the
// address is configured and eth0 is up.
func answersVIP(t *testing.T, h *testbed.Host, ip string) bool {
	t.Helper()
	up := false
	if err := h.Do(func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		up = l.Attrs().Flags&1 != 0 // IFF_UP
		return nil
	}); err != nil {
		t.Fatalf("%s: eth0: %v", h.Name, err)
	}
	return up && hasAddr(t, h, ip)
}

func waitAddr(t *testing.T, h *testbed.Host, ip string, want bool, timeout time.Duration) time.Duration {
	t.Helper()
	took, ok := testbed.WaitFor(timeout, slowPoll, func() bool { return hasAddr(t, h, ip) == want })
	if !ok {
		t.Fatalf("%s: address %s present=%v, want %v within %v", h.Name, ip, !want, want, timeout)
	}
	return took
}

func neigh(h *testbed.Host, ip string) (mac string, err error) {
	err = h.Do(func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		ns, err := netlink.NeighList(l.Attrs().Index, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, n := range ns {
			if n.IP.String() == ip {
				mac = n.HardwareAddr.String()
			}
		}
		return nil
	})
	return mac, err
}

func waitNeigh(t *testing.T, client *testbed.Host, ip, mac string, timeout time.Duration) time.Duration {
	t.Helper()
	var got string
	var err error
	took, ok := testbed.WaitFor(timeout, fastPoll, func() bool {
		got, err = neigh(client, ip)
		return err == nil && got == mac
	})
	if !ok {
		t.Fatalf("client neighbour table: %s is %q (err %v), want %s within %v", ip, got, err, mac, timeout)
	}
	return took
}

// pluginScript is the STONITH test device: a cluster-glue external plugin
// whose reset/off "powers off" node <prefix>-<node> (SIGKILL of every
// process in its namespace, every link down) and appends "<time> <node>"
// to $log; every reset attempt is appended to $log.attempts first. While
// the file $flag exists, reset/off and status fail (exit 1).
const pluginScript = `#!/bin/sh
# e2efence STONITH test device (cluster-glue external plugin contract)
case "$1" in
getconfignames) echo "prefix log flag"; exit 0 ;;
gethosts) echo node1; echo node2; exit 0 ;;
getinfo-devid|getinfo-devname) echo e2efence; exit 0 ;;
getinfo-devdescr|getinfo-devurl|getinfo-xml) echo "e2efence test device"; exit 0 ;;
status) [ -e "$flag" ] && exit 1; exit 0 ;;
on) exit 0 ;;
reset|off)
	node="$2"
	echo "$(date +%s.%N) $1 $node" >> "$log.attempts"
	[ -e "$flag" ] && { echo "device broken" >&2; exit 1; }
	ns="$prefix-$node"
	for i in 1 2 3 4 5; do
		pids=$(ip netns pids "$ns")
		[ -z "$pids" ] && break
		kill -9 $pids
		sleep 0.05
	done
	for l in $(ip -n "$ns" -o link show | sed -n 's/^[0-9]*: \([^:@]*\).*/\1/p'); do
		[ "$l" = lo ] || ip -n "$ns" link set "$l" down
	done
	echo "$(date +%s.%N) $node" >> "$log"
	exit 0 ;;
*) exit 1 ;;
esac
`

// fenceDevice is an installed test plugin.
type fenceDevice struct {
	dir, log, flag string
}

func newFenceDevice(t *testing.T) *fenceDevice {
	t.Helper()
	d := &fenceDevice{dir: t.TempDir()}
	if err := os.Chmod(d.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	d.log = filepath.Join(d.dir, "fence.log")
	d.flag = filepath.Join(d.dir, "broken")
	writeFile(t, filepath.Join(d.dir, "e2efence"), pluginScript, 0o755)
	return d
}

// lines is the ha.cf configuration of the device for a bed with prefix.
func (d *fenceDevice) lines(prefix string) []string {
	return []string{"stonith_plugin_dir " + d.dir,
		fmt.Sprintf("stonith_host * external/e2efence %s %s %s", prefix, d.log, d.flag), "fence_delay 2s"}
}

// fences is the fence log: one "<time> <node>" per successful fence.
func (d *fenceDevice) fences() []string { return readLines(d.log) }

// attempts is every reset attempt, successful or not.
func (d *fenceDevice) attempts() []string { return readLines(d.log + ".attempts") }

func readLines(p string) []string {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
