package e2eres

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// seedHaresources is the seed scenario: node1 serves a VIP and an HTTP
// service (an LSB init script).
const seedHaresources = "# e2eres seed scenario\nnode1 198.18.0.100/24/eth0 httpd\n"

// seed is the seed scenario running: node1 holds the VIP and httpd, the
// client gets node1's page.
type seed struct {
	*cluster
	n1, n2     *ourNode
	mac1, mac2 string
	poll       *poller
}

func startSeed(t *testing.T, autoFailback string) *seed {
	t.Helper()
	c := newCluster(t)
	spec := func(name, peer string) nodeSpec {
		return nodeSpec{name: name, hacf: ourHACF(peer, autoFailback), authkeys: sha256Authkeys,
			haresources: seedHaresources, initD: map[string]string{"httpd": lsbHTTPD(name)}}
	}
	s := &seed{cluster: c, n1: newNode(t, c.h1, spec("node1", node2Addr)), n2: newNode(t, c.h2, spec("node2", node1Addr))}
	begin := time.Now()
	s.n1.Start()
	s.n2.Start()
	s.n1.WaitRsc("local", settleBound)
	s.n2.WaitRsc("none", settleBound)
	t.Logf("start: node1 holds its group %v after both daemons were started", time.Since(begin).Round(time.Millisecond))
	s.mac1, s.mac2 = e2ekit.MACOf(t, c.h1), e2ekit.MACOf(t, c.h2)
	s.poll = startPoller(t, c.client, vip1)
	s.poll.waitAnswer(t, hello("node1"), begin, moveBound)
	e2ekit.WaitNeigh(t, c.client, vip1, s.mac1, moveBound)
	if e2ekit.HasAddr(t, c.h2, vip1) {
		t.Fatalf("node2 has the VIP while node1 holds the group")
	}
	return s
}

// expectOn checks that the service moved to node n after the event at
// since: the client gets n's page, its neighbour table has n's MAC, only
// n has the VIP, and rscstatus says so on the nodes that run. It logs the
// client's outage.
func (s *seed) expectOn(what string, n *ourNode, since time.Time) {
	s.t.Helper()
	t := s.t
	took, outage := s.poll.waitAnswer(t, hello(n.Name), since, moveBound)
	mac, other := s.mac1, s.n2
	if n == s.n2 {
		mac, other = s.mac2, s.n1
	}
	neighTook := e2ekit.WaitNeigh(t, s.client, vip1, mac, moveBound)
	t.Logf("%s: client got %s's page %v after the event; client-side outage %v; neighbour %s -> %s (%s) %v later",
		what, n.Name, took.Round(time.Millisecond), outage.Round(time.Millisecond), vip1, mac, n.Name, neighTook.Round(time.Millisecond))
	if !e2ekit.HasAddr(t, n.Host, vip1) {
		t.Errorf("%s: %s serves the page but has no %s", what, n.Name, vip1)
	}
	e2ekit.WaitAddr(t, other.Host, vip1, false, moveBound)
	if n == s.n1 {
		s.n1.WaitRsc("local", moveBound)
		s.n2.WaitRsc("none", moveBound)
	} else {
		s.n2.WaitRsc("foreign", moveBound)
		if !other.Proc.Exited() {
			s.n1.WaitRsc("none", moveBound)
		}
	}
}

// powerOff is a power failure of node1: every process of the host killed
// (httpd too), links down, the VIP gone. powerOn brings it back and
// restarts the daemon (a boot empties the pid file's directory).
func (s *seed) powerOff() { s.h1.PowerOff() }

func (s *seed) powerOnAndStart() {
	s.t.Helper()
	s.h1.PowerOn()
	s.n1.clearVolatile()
	s.n1.Start()
}

// TestSeedServiceFailsOverOnGracefulStopAndBackOnRestart: heartbeat -k on
// node1 releases the VIP and httpd and node2 takes them at once (shutdone,
// no deadtime); node1 started again gets them back (auto_failback on).
func TestSeedServiceFailsOverOnGracefulStopAndBackOnRestart(t *testing.T) {
	t.Parallel()
	s := startSeed(t, "on")
	at := time.Now()
	s.n1.stop()
	t.Logf("graceful stop: heartbeat -k on node1 returned after %v", time.Since(at).Round(time.Millisecond))
	if s.n1.httpdRunning() {
		t.Errorf("node1's httpd still runs after a graceful stop")
	}
	s.expectOn("graceful stop of node1", s.n2, at)

	at = time.Now()
	s.n1.Start()
	s.expectOn("node1 restarted (auto_failback on)", s.n1, at)
	if s.n2.httpdRunning() {
		t.Errorf("node2's httpd still runs after failback")
	}
}

// TestSeedServiceFailsOverOnPowerOffAndBackOnPowerOn: node1 loses power
// (daemon, httpd and VIP gone, links down); node2 takes over after
// deadtime; node1 boots and gets the service back (auto_failback on).
func TestSeedServiceFailsOverOnPowerOffAndBackOnPowerOn(t *testing.T) {
	t.Parallel()
	s := startSeed(t, "on")
	at := time.Now()
	s.powerOff()
	s.expectOn("power-off of node1", s.n2, at)

	at = time.Now()
	s.powerOnAndStart()
	s.expectOn("node1 powered on (auto_failback on)", s.n1, at)
	if s.n2.httpdRunning() {
		t.Errorf("node2's httpd still runs after failback")
	}
}

// TestSeedSIGKILLedDaemonLeavesVIPAndServiceOnBothNodesUntilFenced: a
// SIGKILL of node1's heartbeat alone leaves node1's VIP and httpd running
// (nothing is left on node1 to remove them), and node2, which cannot tell
// a crashed daemon from a dead machine, takes over after deadtime: both
// nodes hold the VIP. That duplicate is what fencing (STONITH, a later
// issue) prevents; without it, Heartbeat 3.0.6 behaves the same ("No
// STONITH device configured"). The test then powers node1 off, as a fence
// would, and checks that the service is node2's alone, and that node1
// comes back and fails back cleanly.
func TestSeedSIGKILLedDaemonLeavesVIPAndServiceOnBothNodesUntilFenced(t *testing.T) {
	t.Parallel()
	s := startSeed(t, "on")
	at := time.Now()
	s.n1.crash()
	took := s.n2.WaitRsc("foreign", moveBound)
	t.Logf("SIGKILL of node1's daemon: node2 holds the group %v later", took.Round(time.Millisecond))
	e2ekit.WaitAddr(t, s.h2, vip1, true, moveBound)
	if !e2ekit.HasAddr(t, s.h1, vip1) {
		t.Errorf("after a SIGKILL of the daemon only, node1 should still have %s (nothing removed it)", vip1)
	}
	if !s.n1.httpdRunning() {
		t.Errorf("after a SIGKILL of the daemon only, node1's httpd should still run")
	}
	// node2's gratuitous ARP points the client at node2.
	s.expectOnlyClient(at)
	t.Logf("SIGKILL: both nodes have %s and run httpd (split service; fencing is what prevents it)", vip1)

	// Fence node1 (power off): the service is node2's alone.
	s.powerOff()
	if _, ok := holdsFor(time.Second, e2ekit.SlowPoll, func() bool { return s.poll.last().body == hello("node2") }); !ok {
		t.Errorf("after node1 was fenced the client lost node2's page: %+v", s.poll.last())
	}
	e2ekit.WaitNeigh(t, s.client, vip1, s.mac2, moveBound)
	s.n2.WaitRsc("foreign", moveBound)

	at = time.Now()
	s.powerOnAndStart()
	s.expectOn("node1 powered on after the fence (auto_failback on)", s.n1, at)
}

// expectOnlyClient waits until the client gets node2's page and its
// neighbour entry is node2's MAC, although node1 still holds the VIP.
func (s *seed) expectOnlyClient(since time.Time) {
	s.t.Helper()
	took, outage := s.poll.waitAnswer(s.t, hello("node2"), since, moveBound)
	neighTook := e2ekit.WaitNeigh(s.t, s.client, vip1, s.mac2, moveBound)
	s.t.Logf("SIGKILL of node1's daemon: client got node2's page %v after the kill; client-side outage %v; neighbour -> node2 %v later",
		took.Round(time.Millisecond), outage.Round(time.Millisecond), neighTook.Round(time.Millisecond))
}

// TestSeedServiceRunsAtNormalPriority: the daemon runs SCHED_RR (realtime
// on, the default), but the service its init script started must not: a
// service at realtime priority could starve the machine and the heartbeat
// itself. Heartbeat runs its children at normal priority too.
func TestSeedServiceRunsAtNormalPriority(t *testing.T) {
	s := startSeed(t, "on")
	daemon := readPid(t, filepath.Join(s.n1.RunDir, "heartbeat.pid"))
	service := readPid(t, filepath.Join(s.n1.srvDir, "httpd.pid"))
	if got := schedPolicy(t, daemon); got != unix.SCHED_RR {
		t.Fatalf("daemon (pid %d) has scheduling policy %d, want SCHED_RR (%d)", daemon, got, unix.SCHED_RR)
	}
	if got := schedPolicy(t, service); got != unix.SCHED_NORMAL {
		t.Errorf("service started by the init script (pid %d) has scheduling policy %d, want SCHED_OTHER (%d)",
			service, got, unix.SCHED_NORMAL)
	}
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pid
}

func schedPolicy(t *testing.T, pid int) uint32 {
	t.Helper()
	a, err := unix.SchedGetAttr(pid, 0)
	if err != nil {
		t.Fatalf("sched_getattr(%d): %v", pid, err)
	}
	return a.Policy
}
