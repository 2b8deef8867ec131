package e2eres

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// Resource monitoring and recovery (issue 13, parts 1 and 2) with the
// seed scenario's VIP and LSB httpd: the service killed on the active
// node is restarted in place; one that cannot start any more moves to the
// peer after its restarts; one that cannot start on either node ends
// failed and stopped until hactl cleanup.

// monitorInterval is the monitors' interval in these tests.
const monitorInterval = time.Second

// monitoredTOML is the seed group with monitoring: httpd every
// monitorInterval (haresources.toml), the VIP by ha.cf's default, and
// the given restarts within 10 minutes.
func monitoredTOML(restarts int) string {
	return fmt.Sprintf(`[[group]]
node = "node1"
resources = ["198.18.0.100/24/eth0", "httpd"]
restarts = %d
restart_window = "10m"

[[group.resource_options]]
resource = "httpd"
monitor_interval = "%s"
monitor_timeout = "5s"
`, restarts, monitorInterval)
}

// breakableHTTPD is the seed's LSB httpd whose start fails while
// /srv/broken exists (the service "made unstartable").
func breakableHTTPD(node string) string {
	s := lsbHTTPD(node)
	const at = "start)\n\trunning && exit 0\n"
	if !strings.Contains(s, at) {
		panic("lsbHTTPD changed: no start case to break")
	}
	return strings.Replace(s, at, "start)\n\tif [ -e /srv/broken ]; then echo \"httpd: broken (test fault)\" >&2; exit 1; fi\n\trunning && exit 0\n", 1)
}

// startMonitored starts the seed pair with monitoring (ha.cf
// monitor_interval for the VIP, haresources.toml for httpd).
func startMonitored(t *testing.T, restarts int) *seed {
	t.Helper()
	c := newCluster(t)
	spec := func(name, peer string) nodeSpec {
		return nodeSpec{name: name, hacf: ourHACF(peer, "on") + "monitor_interval 2s\n", authkeys: sha256Authkeys,
			haresourcesTOML: monitoredTOML(restarts), initD: map[string]string{"httpd": breakableHTTPD(name)}}
	}
	s := &seed{cluster: c, n1: newNode(t, c.h1, spec("node1", node2Addr)), n2: newNode(t, c.h2, spec("node2", node1Addr))}
	begin := time.Now()
	s.n1.Start()
	s.n2.Start()
	s.n1.WaitRsc("local", settleBound)
	s.n2.WaitRsc("none", settleBound)
	s.mac1, s.mac2 = e2ekit.MACOf(t, c.h1), e2ekit.MACOf(t, c.h2)
	s.poll = startPoller(t, c.client, vip1)
	s.poll.waitAnswer(t, hello("node1"), begin, moveBound)
	return s
}

// killHTTPD SIGKILLs the node's httpd (as a crash of the service would).
func (n *ourNode) killHTTPD() {
	n.T.Helper()
	b, err := os.ReadFile(filepath.Join(n.srvDir, "httpd.pid"))
	if err != nil {
		n.T.Fatalf("%s: httpd pid file: %v", n.Name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		n.T.Fatalf("%s: bad httpd pid %q", n.Name, b)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		n.T.Fatalf("%s: kill httpd %d: %v", n.Name, pid, err)
	}
	testbed.WaitFor(5*time.Second, 5*time.Millisecond, func() bool { return !n.httpdRunning() })
}

// breakHTTPD makes httpd unstartable on the node (fixed by fixHTTPD).
func (n *ourNode) breakHTTPD() {
	e2ekit.WriteFile(n.T, filepath.Join(n.srvDir, "broken"), "", 0o644)
}

func (n *ourNode) fixHTTPD() {
	if err := os.Remove(filepath.Join(n.srvDir, "broken")); err != nil {
		n.T.Fatal(err)
	}
}

// hactl runs our hactl on the node.
func (n *ourNode) hactl(args ...string) testbed.ExecResult {
	return testbed.RunCmd(e2ekit.CmdTimeout, nil, e2ekit.Bin("hactl"), append([]string{"--run-dir", n.RunDir}, args...)...)
}

// TestMonitorRestartsKilledHTTPDInPlace: httpd SIGKILLed on node1 is found
// by its monitor and restarted on node1; the client's outage is about the
// interval plus the start; the group never leaves node1; the failure is in
// hactl status --json.
func TestMonitorRestartsKilledHTTPDInPlace(t *testing.T) {
	t.Parallel()
	s := startMonitored(t, 3)
	at := time.Now()
	s.n1.killHTTPD()
	// node2 never takes anything while node1 restarts its service.
	stayed := make(chan bool, 1)
	go func() {
		_, ok := holdsFor(3*monitorInterval+2*time.Second, 50*time.Millisecond, func() bool {
			return !e2ekit.HasAddr(t, s.h2, vip1) && s.n2.Rsc() == "none"
		})
		stayed <- ok
	}()
	took, outage := s.poll.waitAnswer(t, hello("node1"), at, moveBound)
	t.Logf("httpd killed on node1: the client got node1's page again %v after the kill; client-side outage %v (monitor interval %v)",
		took.Round(time.Millisecond), outage.Round(time.Millisecond), monitorInterval)
	if outage > monitorInterval+3*time.Second {
		t.Errorf("client outage %v, want about the monitor interval (%v) plus the start", outage, monitorInterval)
	}
	if !<-stayed {
		t.Errorf("the group moved (or node2 took something) while node1 restarted httpd in place")
	}
	if !s.n1.httpdRunning() || !e2ekit.HasAddr(t, s.h1, vip1) {
		t.Errorf("node1: httpd running %v, VIP %v", s.n1.httpdRunning(), e2ekit.HasAddr(t, s.h1, vip1))
	}
	var g = s.n1.groups()[seedKey]
	testbed.WaitFor(5*time.Second, e2ekit.SlowPoll, func() bool { g = s.n1.groups()[seedKey]; return g.State == "running" })
	if g.State != "running" || g.Failures != 1 || !strings.Contains(g.LastFailure, "httpd: not running") || g.LastFailureAt == "" || g.FailedForGood {
		t.Errorf("node1's hactl status of the group %+v, want running with 1 failure (httpd: not running)", g)
	}
	if log := s.n1.Log(); !strings.Contains(log, "restarting it in place") || !strings.Contains(log, "restarted in place") {
		t.Errorf("node1's log does not tell the restart:\n%s", testbed.Tail(log, 30))
	}
	if r := s.n1.hactl("status"); !strings.Contains(r.Stdout, "failures: 1 (last at ") {
		t.Errorf("hactl status does not show the failure:\n%s", r.Stdout)
	}
}

// TestUnstartableServiceMovesToThePeerAfterItsRestarts: httpd killed and
// made unstartable on node1: its restarts fail, and once the two allowed
// are used up the group moves to node2, which serves it; node1 reports
// the group failed there.
func TestUnstartableServiceMovesToThePeerAfterItsRestarts(t *testing.T) {
	t.Parallel()
	s := startMonitored(t, 2)
	s.n1.breakHTTPD()
	at := time.Now()
	s.n1.killHTTPD()
	s.expectOn("httpd unstartable on node1, restarts used up", s.n2, at)
	g := s.n1.groups()[seedKey]
	if g.State != "stopped" || !g.FailedForGood || g.Failures != 3 || !strings.HasPrefix(g.LastFailure, "restart failed") {
		t.Errorf("node1's view of the group %+v, want stopped, failed for good, 3 failures, last a failed restart", g)
	}
	if n := strings.Count(s.n1.Log(), "restarting it in place"); n != 2 {
		t.Errorf("node1 restarted in place %d times, want 2 (restarts = 2)", n)
	}
	if s.n1.httpdRunning() || e2ekit.HasAddr(t, s.h1, vip1) {
		t.Errorf("node1 still runs httpd or has the VIP")
	}
}

// TestUnstartableOnBothEndsFailedAndStoppedUntilCleanup: httpd cannot
// start on either node: the group moves once, fails on node2, and ends
// stopped on both, without bouncing; hactl cleanup on node1 once httpd is
// fixed there brings it back.
func TestUnstartableOnBothEndsFailedAndStoppedUntilCleanup(t *testing.T) {
	t.Parallel()
	s := startMonitored(t, 1)
	s.n1.breakHTTPD()
	s.n2.breakHTTPD()
	at := time.Now()
	s.n1.killHTTPD()
	var g1, g2 = s.n1.groups()[seedKey], s.n2.groups()[seedKey]
	if _, ok := testbed.WaitFor(moveBound, e2ekit.SlowPoll, func() bool {
		g1, g2 = s.n1.groups()[seedKey], s.n2.groups()[seedKey]
		return g1.State == "stopped" && g1.FailedForGood && g2.State == "stopped" && g2.Failed &&
			s.n1.Rsc() == "none" && s.n2.Rsc() == "none"
	}); !ok {
		t.Fatalf("not failed and stopped on both: node1 %+v (%s), node2 %+v (%s); node1's log:\n%s", g1, s.n1.Rsc(), g2, s.n2.Rsc(),
			testbed.Tail(s.n1.Log(), 30))
	}
	t.Logf("failed and stopped on both %v after the kill; node1 %+v; node2 %+v", time.Since(at).Round(time.Millisecond), g1, g2)
	starts := func() int {
		return strings.Count(s.n1.Log(), "start of group") + strings.Count(s.n2.Log(), "start of group") +
			strings.Count(s.n1.Log(), "group "+seedKey+" started") + strings.Count(s.n2.Log(), "group "+seedKey+" started")
	}
	before := starts()
	const window = 5 * time.Second
	if when, ok := holdsFor(window, 100*time.Millisecond, func() bool {
		return !e2ekit.HasAddr(t, s.h1, vip1) && !e2ekit.HasAddr(t, s.h2, vip1)
	}); !ok {
		t.Errorf("the VIP came back %v after the group failed on both nodes: ping-pong", when)
	}
	if after := starts(); after != before {
		t.Errorf("%d starts in the %v after the group failed on both nodes, want none", after-before, window)
	}
	if !strings.Contains(s.n1.hactl("status").Stdout, "FAILED here") {
		t.Errorf("hactl status on node1 does not say the group failed:\n%s", s.n1.hactl("status").Stdout)
	}
	// Fixed on node1; the operator clears it there.
	s.n1.fixHTTPD()
	fixed := time.Now()
	r := s.n1.hactl("cleanup", seedKey)
	if r.Code != 0 || !strings.Contains(r.Stdout, "cleaned up "+seedKey) {
		t.Fatalf("hactl cleanup: %v", r)
	}
	s.expectOn("hactl cleanup on node1 after fixing httpd", s.n1, fixed)
	if g := s.n1.groups()[seedKey]; g.State != "running" || g.Failures != 0 || g.FailedForGood {
		t.Errorf("node1's group after cleanup %+v", g)
	}
	if r := s.n1.hactl("cleanup", "nosuch"); r.Code == 0 || !strings.Contains(r.Stderr, `no group "nosuch"`) {
		t.Errorf("hactl cleanup of an unknown group: %v", r)
	}
}

// TestMixedMonitoringOnOurNodeWithRealHeartbeat: our node1 (monitoring its
// VIP every second, restarts = 1) and the real Heartbeat 3.0.6 as node2,
// each holding its own group. Our VIP deleted behind our back is re-added
// in place: the real node sees nothing (it stays "local", never in
// transition). Deleted again within the window, the group moves to the
// real node through Heartbeat's standby handshake, which the real node
// completes (it holds all, ours none): it is never left waiting.
func TestMixedMonitoringOnOurNodeWithRealHeartbeat(t *testing.T) {
	t.Parallel()
	testbed.RequireRealHeartbeat(t)
	c := newCluster(t)
	const oursTOML = `[[group]]
node = "node1"
resources = ["198.18.0.100/24/eth0"]
restarts = 1

[[group]]
node = "node2"
resources = ["198.18.0.200/24/eth0"]
`
	m := &mixed{cluster: c,
		ours: newNode(t, c.h1, nodeSpec{name: "node1", hacf: mixedHACF(node2Addr, "on") + "monitor_interval 1s\n", authkeys: md5Authkeys,
			haresourcesTOML: oursTOML}),
		realCfg: testbed.RealHBConfig{Node: "node2", HACF: mixedHACF(node1Addr, "on"), Authkeys: md5Authkeys,
			Haresources: activeActiveHaresources},
	}
	at := time.Now()
	m.ours.Start()
	m.real = c.h2.StartRealHeartbeat(t, m.realCfg)
	m.real.WaitNodeStatus(t, "node1", "active", realJoinBound)
	m.real.WaitSettled(t, realSettleBound)
	m.expect("start", "local", "local", realSettleBound)
	c.expectVIPs("start", c.h1, c.h2, at)

	del := func() time.Time {
		if out, err := c.h1.Run(t, "ip", "addr", "del", vip1+"/24", "dev", "eth0"); err != nil {
			t.Fatalf("ip addr del: %v: %s", err, out)
		}
		return time.Now()
	}
	at = del()
	took := e2ekit.WaitAddr(t, c.h1, vip1, true, 10*time.Second)
	t.Logf("our VIP deleted behind our back: re-added in place %v later", took.Round(time.Millisecond))
	if when, ok := holdsFor(2*time.Second, 100*time.Millisecond, func() bool {
		return m.realRsc() == "local" && !e2ekit.HasAddr(t, c.h2, vip1)
	}); !ok {
		t.Errorf("the real node changed (rscstatus %q, or took our VIP) %v after our restart in place", m.realRsc(), when)
	}
	m.expect("after the restart in place", "local", "local", 10*time.Second)
	if g := m.ours.groups()[key1]; g.Failures != 1 || g.State != "running" {
		t.Errorf("our group after the restart in place %+v", g)
	}

	at = del()
	m.expectMove("our VIP deleted again: restarts used up", at, "none", "all", c.h2, c.h2)
	if g := m.ours.groups()[key1]; !g.FailedForGood || g.State != "stopped" {
		t.Errorf("our view of our group after it moved %+v", g)
	}
	m.checkRealLog()
}

// startScriptPair starts our pair with group "node1 198.18.0.100/24/eth0
// app" from haresources.toml, app being the resource.d script given, its
// monitor every second with the given timeout.
func startScriptPair(t *testing.T, app string, timeout time.Duration) (*cluster, *ourNode, *ourNode) {
	t.Helper()
	c := newCluster(t)
	toml := fmt.Sprintf(`[[group]]
node = "node1"
resources = ["198.18.0.100/24/eth0", "app"]
restarts = 1

[[group.resource_options]]
resource = "app"
monitor_interval = "1s"
monitor_timeout = "%s"
`, timeout)
	spec := func(name, peer string) nodeSpec {
		return nodeSpec{name: name, hacf: ourHACF(peer, "on"), authkeys: sha256Authkeys, haresourcesTOML: toml,
			resourceD: map[string]string{"app": app}}
	}
	n1, n2 := newNode(t, c.h1, spec("node1", node2Addr)), newNode(t, c.h2, spec("node2", node1Addr))
	n1.Start()
	n2.Start()
	n1.WaitRsc("local", settleBound)
	n2.WaitRsc("none", settleBound)
	return c, n1, n2
}

// TestMonitorThatHangsIsKilledWithItsProcessGroup: app's status hangs once
// (it starts a sleep in its process group and waits): the check is killed
// at its 1 s timeout with the sleep, counts as a failure, and app is
// restarted in place; the group stays on node1.
func TestMonitorThatHangsIsKilledWithItsProcessGroup(t *testing.T) {
	t.Parallel()
	const app = `#!/bin/sh
STATE=/srv/app.state
case "$1" in
start) touch "$STATE" ;;
stop) rm -f "$STATE" ;;
status)
	if [ -e /srv/hang ]; then rm -f /srv/hang; sleep 600 & echo $! > /srv/hung.pid; wait; fi
	if [ -e "$STATE" ]; then echo "app is running"; else echo "app is stopped"; fi ;;
esac
exit 0
`
	c, n1, n2 := startScriptPair(t, app, time.Second)
	time.Sleep(1500 * time.Millisecond)
	e2ekit.WriteFile(t, filepath.Join(n1.srvDir, "hang"), "", 0o644)
	var g = n1.groups()[seedKey]
	if _, ok := testbed.WaitFor(15*time.Second, e2ekit.SlowPoll, func() bool {
		g = n1.groups()[seedKey]
		return g.Failures == 1 && g.State == "running"
	}); !ok {
		t.Fatalf("node1's group %+v: want running again after one failure; log:\n%s", g, testbed.Tail(n1.Log(), 30))
	}
	if !strings.HasPrefix(g.LastFailure, "app: monitor timed out after") {
		t.Errorf("last failure %q, want a timed-out monitor", g.LastFailure)
	}
	b, err := os.ReadFile(filepath.Join(n1.srvDir, "hung.pid"))
	if err != nil {
		t.Fatalf("the hanging status did not run: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if _, ok := testbed.WaitFor(5*time.Second, 50*time.Millisecond, func() bool { return !processAlive(pid) }); !ok {
		t.Errorf("the hung status's sleep (pid %d) survived the monitor's timeout", pid)
	}
	if n2.Rsc() != "none" || e2ekit.HasAddr(t, c.h2, vip1) {
		t.Errorf("the group moved: node2 %s", n2.Rsc())
	}
}

// processAlive: the process exists and is not a zombie.
func processAlive(pid int) bool {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(st))
	return len(f) > 2 && f[2] != "Z" && f[2] != "X"
}

// TestMonitorOfAScriptWithoutStatusActionIsSwitchedOff: a resource.d
// script without a status action (it prints its usage) cannot be
// monitored: the daemon says so in its log and leaves the group running
// on node1, never restarting or moving it.
func TestMonitorOfAScriptWithoutStatusActionIsSwitchedOff(t *testing.T) {
	t.Parallel()
	const app = `#!/bin/sh
case "$1" in
start|stop) exit 0 ;;
*) echo "usage: $0 start|stop" >&2; exit 1 ;;
esac
`
	c, n1, n2 := startScriptPair(t, app, 5*time.Second)
	if _, ok := testbed.WaitFor(10*time.Second, e2ekit.SlowPoll, func() bool {
		return strings.Contains(n1.Log(), "no usable status action")
	}); !ok {
		t.Fatalf("node1's log does not say app cannot be monitored:\n%s", testbed.Tail(n1.Log(), 30))
	}
	if when, ok := holdsFor(4*time.Second, 100*time.Millisecond, func() bool {
		return n1.Rsc() == "local" && n2.Rsc() == "none" && e2ekit.HasAddr(t, c.h1, vip1)
	}); !ok {
		t.Errorf("the group changed %v later: node1 %s node2 %s", when, n1.Rsc(), n2.Rsc())
	}
	if g := n1.groups()[seedKey]; g.Failures != 0 || g.State != "running" {
		t.Errorf("node1's group %+v, want running with no failure", g)
	}
}
