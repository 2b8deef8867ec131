package e2eres

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
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
	m.ours.start()
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
			a = m.ours.rsc()
		}
		if real != "" {
			b = m.realRsc()
		}
		return a == ours && b == real
	})
	if !ok {
		m.t.Fatalf("%s: rscstatus ours %q real %q, want %q and %q within %v; our log:\n%s\nreal log:\n%s",
			what, a, b, ours, real, timeout, tail(m.ours.log(), 25), tail(m.real.Log(), 25))
	}
	return took
}

// restartReal powers the real node's host on and starts Heartbeat again.
func (m *mixed) restartReal() {
	m.t.Helper()
	m.h2.PowerOn()
	m.real = m.h2.StartRealHeartbeat(m.t, m.realCfg)
	m.real.WaitNodeStatus(m.t, "node1", "active", realJoinBound)
}

// restartOurs powers our node's host on and starts our daemon again.
func (m *mixed) restartOurs() {
	m.t.Helper()
	m.h1.PowerOn()
	m.ours.clearVolatile()
	m.ours.start()
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

	at := time.Now()
	m.h2.PowerOff()
	took := m.expect("real node powered off", "all", "", realMoveBound)
	// The real node advertises deadtime+2 s (dt) for its first 5 s, and we
	// honour it: a power-off that early is seen after 4 s instead of 2 s.
	t.Logf("real node powered off: ours holds all %v later", took.Round(time.Millisecond))
	m.expectVIPs("real node powered off", m.h1, m.h1, at)

	at = time.Now()
	m.restartReal()
	m.real.WaitSettled(t, realSettleBound)
	m.expect("real node back", "local", "local", realSettleBound)
	t.Logf("real node back (auto_failback on): each holds its own group %v after it was started", time.Since(at).Round(time.Millisecond))
	m.expectVIPs("real node back", m.h1, m.h2, at)

	at = time.Now()
	m.h1.PowerOff()
	took = m.expect("our node powered off", "", "all", realMoveBound)
	t.Logf("our node powered off: the real node holds all %v later", took.Round(time.Millisecond))
	m.expectVIPs("our node powered off", m.h2, m.h2, at)

	at = time.Now()
	m.restartOurs()
	m.expect("our node back", "local", "local", realSettleBound)
	t.Logf("our node back (auto_failback on): each holds its own group %v after it was started", time.Since(at).Round(time.Millisecond))
	m.expectVIPs("our node back", m.h1, m.h2, at)
	m.real.WaitSettled(t, realSettleBound)

	at = time.Now()
	r := m.ours.move(hbStandbyBin)
	if r.code != 0 || !strings.Contains(r.stdout, "this node now holds none resources.") {
		t.Fatalf("hb_standby on ours: %v; our log:\n%s\nreal log:\n%s", r, tail(m.ours.log(), 30), tail(m.real.Log(), 30))
	}
	t.Logf("hb_standby on ours: %q", strings.TrimSpace(r.stdout))
	if b := m.realRsc(); b != "all" {
		t.Logf("right after our hb_standby returned the real node's rscstatus is %q (not yet all)", b)
	}
	took = m.expect("hb_standby on ours", "none", "all", realMoveBound)
	t.Logf("hb_standby on ours: the real node reports all %v after the command returned", took.Round(time.Millisecond))
	m.expectVIPs("hb_standby on ours", m.h2, m.h2, at)

	at = time.Now()
	res := m.real.Exec(t, "/usr/share/heartbeat/hb_standby")
	t.Logf("the real node's hb_standby: exit %d, stdout %q, stderr %q", res.Code, res.Stdout, res.Stderr)
	if res.Code != 0 {
		t.Fatalf("the real node's hb_standby: %+v", res)
	}
	took = m.expect("the real node's hb_standby", "all", "none", realMoveBound)
	t.Logf("the real node's hb_standby: ours holds all %v later", took.Round(time.Millisecond))
	m.expectVIPs("the real node's hb_standby", m.h1, m.h1, at)
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

	at := time.Now()
	m.h2.PowerOff()
	took := m.expect("real node powered off", "all", "", realMoveBound)
	// The real node advertises deadtime+2 s (dt) for its first 5 s, and we
	// honour it: a power-off that early is seen after 4 s instead of 2 s.
	t.Logf("real node powered off: ours holds all %v later", took.Round(time.Millisecond))
	m.expectVIPs("real node powered off", m.h1, m.h1, at)

	at = time.Now()
	m.restartReal()
	m.real.WaitSettled(t, realSettleBound)
	m.expect("real node back", "all", "none", realSettleBound)
	if when, ok := holdsFor(stayWindow, 100*time.Millisecond, func() bool { return m.ours.rsc() == "all" && m.realRsc() == "none" }); !ok {
		t.Fatalf("auto_failback off: the real node's group did not stay with ours (changed after %v): ours %q real %q", when, m.ours.rsc(), m.realRsc())
	}
	m.expectVIPs("real node back (auto_failback off)", m.h1, m.h1, at)

	// Give the real node its group back, then fail ours.
	r := m.ours.move(hbStandbyBin, "foreign")
	if r.code != 0 || !strings.Contains(r.stdout, "this node now holds local resources.") {
		t.Fatalf("hb_standby foreign on ours: %v; real log:\n%s", r, tail(m.real.Log(), 30))
	}
	m.expect("hb_standby foreign on ours", "local", "local", realMoveBound)

	at = time.Now()
	m.h1.PowerOff()
	took = m.expect("our node powered off", "", "all", realMoveBound)
	t.Logf("our node powered off: the real node holds all %v later", took.Round(time.Millisecond))
	m.expectVIPs("our node powered off", m.h2, m.h2, at)

	at = time.Now()
	m.restartOurs()
	m.real.WaitSettled(t, realSettleBound)
	m.expect("our node back", "none", "all", realSettleBound)
	if when, ok := holdsFor(stayWindow, 100*time.Millisecond, func() bool { return m.ours.rsc() == "none" && m.realRsc() == "all" }); !ok {
		t.Fatalf("auto_failback off: our group did not stay with the real node (changed after %v): ours %q real %q", when, m.ours.rsc(), m.realRsc())
	}
	m.expectVIPs("our node back (auto_failback off)", m.h2, m.h2, at)

	at = time.Now()
	r = m.ours.move(hbTakeoverBin, "failback")
	t.Logf("hb_takeover failback on ours: %v", r)
	if r.code != 0 || !strings.Contains(r.stdout, "this node now holds local resources.") {
		t.Fatalf("hb_takeover failback on ours: %v; real log:\n%s", r, tail(m.real.Log(), 30))
	}
	m.expect("hb_takeover failback on ours", "local", "local", realMoveBound)
	m.expectVIPs("hb_takeover failback on ours", m.h1, m.h2, at)
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
