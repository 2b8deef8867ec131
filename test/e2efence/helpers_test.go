package e2efence

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// Bounds (e2ekit's bound one command and a start): they only decide how
// long a broken build takes to fail.
const (
	settleBound = 25 * time.Second
	moveBound   = 15 * time.Second

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

// ourNode is one of our daemons in a test host (e2ekit.Node), with its
// haresources: node1 holds the VIP.
type ourNode struct{ *e2ekit.Node }

func newNode(t *testing.T, h *testbed.Host, name, hacfText string) *ourNode {
	t.Helper()
	n := &ourNode{e2ekit.NewNode(t, h, name)}
	if err := os.MkdirAll(filepath.Join(n.ConfDir, "resource.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	n.WriteConf(hacfText, authkeys)
	e2ekit.WriteFile(t, filepath.Join(n.ConfDir, "haresources"), haresRes, 0o644)
	// Started when "cl_status hbstatus" says heartbeat runs.
	n.Ready = func() error {
		if r := n.ClStatus("hbstatus"); r.Code != 0 {
			return errors.New(r.String())
		}
		return nil
	}
	// heartbeat -k returns once the daemon has given up its group.
	n.HeartbeatTimeout = e2ekit.CmdTimeout + 60*time.Second
	return n
}

// waitLog waits until the node's log contains s.
func (n *ourNode) waitLog(s string, timeout time.Duration) time.Duration {
	n.T.Helper()
	took, ok := testbed.WaitFor(timeout, e2ekit.SlowPoll, func() bool { return strings.Contains(n.Log(), s) })
	if !ok {
		n.T.Fatalf("%s: log has no %q within %v; log:\n%s", n.Name, s, timeout, testbed.Tail(n.Log(), 40))
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
	c.n1.Start()
	c.n2.Start()
	c.n1.WaitRsc("local", settleBound)
	c.n2.WaitRsc("none", settleBound)
	c.mac1, c.mac2 = e2ekit.MACOf(c.t, c.h1), e2ekit.MACOf(c.t, c.h2)
	e2ekit.WaitAddr(c.t, c.h1, vip, true, moveBound)
	if e2ekit.HasAddr(c.t, c.h2, vip) {
		c.t.Fatalf("node2 has the VIP while node1 holds the group")
	}
	// Give the client a neighbour entry for the VIP.
	c.ping()
	e2ekit.WaitNeigh(c.t, c.client, vip, c.mac1, moveBound)
}

// ping sends one echo request from the client to the VIP (best effort).
func (c *cluster) ping() bool {
	out, err := c.client.Run(c.t, "ping", "-n", "-c", "1", "-W", "1", vip)
	_ = out
	return err == nil
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
	return up && e2ekit.HasAddr(t, h, ip)
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
	e2ekit.WriteFile(t, filepath.Join(d.dir, "e2efence"), pluginScript, 0o755)
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
