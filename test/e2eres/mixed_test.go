package e2eres

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// Timings of the mixed cluster: what the real node accepts (whole-second
// deadtime in practice; initdead 4 only draws a warning).
const (
	mixedDeadtime = 2 * time.Second
	// realJoinBound covers the real node's start-up and join.
	realJoinBound = 30 * time.Second
	// realSettleBound covers the real node's resource negotiation (about
	// 10 s after comm-up when the peer is not yet stable).
	realSettleBound = 60 * time.Second
	// realMoveBound bounds a move that involves the real node: its
	// deadtime and 250 ms dead-node poll, its shell scripts (IPaddr,
	// send_arp), on a loaded machine.
	realMoveBound = mixedDeadtime + 20*time.Second
)

const md5Authkeys = "auth 1\n1 md5 s3cret\n"

func mixedHACF(peer, autoFailback string) string {
	return "keepalive 200ms\ndeadtime 2\nwarntime 1\ninitdead 4\nudpport 694\nucast eth0 " + peer +
		"\nauto_failback " + autoFailback + "\ncrm no\nnode node1 node2\n"
}

// mixed is our node1 and the real Heartbeat 3.0.6 as node2, both with the
// active/active haresources.
type mixed struct {
	*cluster
	ours    *ourNode
	real    *testbed.RealHB
	realCfg testbed.RealHBConfig
}

func startMixed(t *testing.T, autoFailback string) *mixed {
	t.Helper()
	testbed.RequireRealHeartbeat(t)
	c := newCluster(t)
	m := &mixed{cluster: c,
		ours: newNode(t, c.h1, nodeSpec{name: "node1", hacf: mixedHACF(node2Addr, autoFailback), authkeys: md5Authkeys,
			haresources: activeActiveHaresources}),
		realCfg: testbed.RealHBConfig{Node: "node2", HACF: mixedHACF(node1Addr, autoFailback), Authkeys: md5Authkeys,
			Haresources: activeActiveHaresources},
	}
	at := time.Now()
	m.ours.Start()
	m.real = c.h2.StartRealHeartbeat(t, m.realCfg)
	m.real.WaitNodeStatus(t, "node1", "active", realJoinBound)
	m.real.WaitSettled(t, realSettleBound)
	m.expect("start", "local", "local", realSettleBound)
	t.Logf("start: each node holds its own group %v after the start", time.Since(at).Round(time.Millisecond))
	c.expectVIPs("start", c.h1, c.h2, at)
	return m
}

// realRsc is the real node's cl_status rscstatus.
func (m *mixed) realRsc() string {
	out, code := m.real.ClStatus(m.t, "rscstatus")
	if code != 0 {
		return fmt.Sprintf("<exit %d: %q>", code, out)
	}
	return strings.TrimSpace(out)
}

// expect waits until rscstatus is ours on our node and real on the real
// node (either may be "" when that node is down), and returns how long it
// took.
func (m *mixed) expect(what, ours, real string, timeout time.Duration) time.Duration {
	m.t.Helper()
	var a, b string
	took, ok := testbed.WaitFor(timeout, 50*time.Millisecond, func() bool {
		a, b = "", ""
		if ours != "" {
			a = m.ours.Rsc()
		}
		if real != "" {
			b = m.realRsc()
		}
		return a == ours && b == real
	})
	if !ok {
		m.t.Fatalf("%s: rscstatus ours %q real %q, want %q and %q within %v; our log:\n%s\nreal log:\n%s",
			what, a, b, ours, real, timeout, testbed.Tail(m.ours.Log(), 25), testbed.Tail(m.real.Log(), 25))
	}
	return took
}

// expectMove waits (realMoveBound) until rscstatus is ours on our node and
// real on the real node (either "" when that node is down) after the event
// at at, logs how long that took, and checks that vip1 and vip2 moved to
// owner1 and owner2 (expectVIPs: the hosts' addresses and the client's
// neighbour table).
func (m *mixed) expectMove(what string, at time.Time, ours, real string, owner1, owner2 *testbed.Host) {
	m.t.Helper()
	took := m.expect(what, ours, real, realMoveBound)
	var holds []string
	if ours != "" {
		holds = append(holds, "ours holds "+ours)
	}
	if real != "" {
		holds = append(holds, "the real node holds "+real)
	}
	m.t.Logf("%s: %s %v later", what, strings.Join(holds, ", "), took.Round(time.Millisecond))
	m.expectVIPs(what, owner1, owner2, at)
}

// expectStays checks that rscstatus stays ours on our node and real on the
// real node for stayWindow: with auto_failback off nothing moves back.
func (m *mixed) expectStays(what, ours, real string) {
	m.t.Helper()
	if when, ok := holdsFor(stayWindow, 100*time.Millisecond, func() bool { return m.ours.Rsc() == ours && m.realRsc() == real }); !ok {
		m.t.Fatalf("%s (auto_failback off): rscstatus did not stay ours %q real %q (changed after %v): ours %q real %q",
			what, ours, real, when, m.ours.Rsc(), m.realRsc())
	}
}

// powerOffReal powers the real node's host off: ours takes everything.
// The real node advertises deadtime+2 s (dt) for its first 5 s, and we
// honour it: a power-off that early is seen after 4 s instead of 2 s.
func (m *mixed) powerOffReal() {
	m.t.Helper()
	at := time.Now()
	m.h2.PowerOff()
	m.expectMove("real node powered off", at, "all", "", m.h1, m.h1)
}

// powerOffOurs powers our node's host off: the real node takes everything.
func (m *mixed) powerOffOurs() {
	m.t.Helper()
	at := time.Now()
	m.h1.PowerOff()
	m.expectMove("our node powered off", at, "", "all", m.h2, m.h2)
}

// restartReal powers the real node's host on, starts Heartbeat again and
// waits until it has settled.
func (m *mixed) restartReal() {
	m.t.Helper()
	m.h2.PowerOn()
	m.real = m.h2.StartRealHeartbeat(m.t, m.realCfg)
	m.real.WaitNodeStatus(m.t, "node1", "active", realJoinBound)
	m.real.WaitSettled(m.t, realSettleBound)
}

// restartOurs powers our node's host on and starts our daemon again.
func (m *mixed) restartOurs() {
	m.t.Helper()
	m.h1.PowerOn()
	m.ours.clearVolatile()
	m.ours.Start()
	m.real.WaitNodeStatus(m.t, "node1", "active", realJoinBound)
}

// TestMixedClusterWithRealHeartbeatMovesGroupsBothWaysAutoFailbackOn: our
// node1 and a real Heartbeat 3.0.6 node2 (its IPaddr from resource-agents)
// each hold their own VIP; when the real node loses power ours takes its
// VIP, and gives it back when it returns; when ours loses power the real
// node takes our VIP, and gives it back when ours returns; hb_standby on
// ours hands our group to the real node, and the real node's own
// hb_standby hands everything to ours. cl_status rscstatus on both, the
// hosts' addresses and the client's neighbour table agree at every step.
func TestMixedClusterWithRealHeartbeatMovesGroupsBothWaysAutoFailbackOn(t *testing.T) {
	t.Parallel()
	m := startMixed(t, "on")

	m.powerOffReal()

	at := time.Now()
	m.restartReal()
	m.expect("real node back", "local", "local", realSettleBound)
	t.Logf("real node back (auto_failback on): each holds its own group %v after it was started", time.Since(at).Round(time.Millisecond))
	m.expectVIPs("real node back", m.h1, m.h2, at)

	m.powerOffOurs()

	at = time.Now()
	m.restartOurs()
	m.expect("our node back", "local", "local", realSettleBound)
	t.Logf("our node back (auto_failback on): each holds its own group %v after it was started", time.Since(at).Round(time.Millisecond))
	m.expectVIPs("our node back", m.h1, m.h2, at)
	m.real.WaitSettled(t, realSettleBound)

	at = time.Now()
	r := m.ours.move(e2ekit.Bin("hb_standby"))
	if r.Code != 0 || !strings.Contains(r.Stderr, "this node now holds none resources.") {
		t.Fatalf("hb_standby on ours: %v; our log:\n%s\nreal log:\n%s", r, testbed.Tail(m.ours.Log(), 30), testbed.Tail(m.real.Log(), 30))
	}
	t.Logf("hb_standby on ours: %q", strings.TrimSpace(r.Stderr))
	if b := m.realRsc(); b != "all" {
		t.Logf("right after our hb_standby returned the real node's rscstatus is %q (not yet all)", b)
	}
	m.expectMove("hb_standby on ours", at, "none", "all", m.h2, m.h2)

	at = time.Now()
	res := m.real.Exec(t, "/usr/share/heartbeat/hb_standby")
	t.Logf("the real node's hb_standby: exit %d, stdout %q, stderr %q", res.Code, res.Stdout, res.Stderr)
	if res.Code != 0 {
		t.Fatalf("the real node's hb_standby: %+v", res)
	}
	m.expectMove("the real node's hb_standby", at, "all", "none", m.h1, m.h1)
	m.checkRealLog()
}

// TestMixedClusterWithRealHeartbeatAutoFailbackOffKeepsGroupsWithTheSurvivor:
// with auto_failback off on both, a group taken over stays with the
// survivor when its preferred node returns, in both directions (ours keeps
// the real node's VIP; the real node keeps ours), and our "hb_takeover
// failback" gets our group back from the real node.
func TestMixedClusterWithRealHeartbeatAutoFailbackOffKeepsGroupsWithTheSurvivor(t *testing.T) {
	t.Parallel()
	m := startMixed(t, "off")

	m.powerOffReal()

	at := time.Now()
	m.restartReal()
	m.expect("real node back", "all", "none", realSettleBound)
	m.expectStays("real node back", "all", "none")
	m.expectVIPs("real node back (auto_failback off)", m.h1, m.h1, at)

	// Give the real node its group back, then fail ours.
	r := m.ours.move(e2ekit.Bin("hb_standby"), "foreign")
	if r.Code != 0 || !strings.Contains(r.Stderr, "this node now holds local resources.") {
		t.Fatalf("hb_standby foreign on ours: %v; real log:\n%s", r, testbed.Tail(m.real.Log(), 30))
	}
	m.expect("hb_standby foreign on ours", "local", "local", realMoveBound)

	m.powerOffOurs()

	at = time.Now()
	m.restartOurs()
	m.real.WaitSettled(t, realSettleBound)
	m.expect("our node back", "none", "all", realSettleBound)
	m.expectStays("our node back", "none", "all")
	m.expectVIPs("our node back (auto_failback off)", m.h2, m.h2, at)

	at = time.Now()
	r = m.ours.move(e2ekit.Bin("hb_takeover"), "failback")
	t.Logf("hb_takeover failback on ours: %v", r)
	if r.Code != 0 || !strings.Contains(r.Stderr, "this node now holds local resources.") {
		t.Fatalf("hb_takeover failback on ours: %v; real log:\n%s", r, testbed.Tail(m.real.Log(), 30))
	}
	m.expectMove("hb_takeover failback on ours", at, "local", "local", m.h1, m.h2)
	m.checkRealLog()
}

// checkRealLog fails the test on the real node's complaints about our
// packets or resources.
func (m *mixed) checkRealLog() {
	m.t.Helper()
	log := m.real.Log()
	for _, bad := range []string{"authtoken does not match", "bad packet", "Invalid message", "returning after partition",
		"Both machines own", "No one owns"} {
		if strings.Contains(log, bad) {
			for _, l := range strings.Split(log, "\n") {
				if strings.Contains(l, bad) {
					m.t.Errorf("real node's log: %s", l)
					break
				}
			}
		}
	}
}
