package e2eres

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// ocfHaresources uses the Dummy agent of resource-agents in both forms:
// "ocf:heartbeat:Dummy::state=..." (parameters inline) and Heartbeat's
// "OCF::Dummy::inst" (parameters from /etc/ha.d/conf/OCF/Dummy/inst). The
// state files live in /srv, each node's own.
const ocfHaresources = "node1 198.18.0.100/24/eth0 ocf:heartbeat:Dummy::state=/srv/dummy-inline.state OCF::Dummy::inst\n"

const dummyAgent = "/usr/lib/ocf/resource.d/heartbeat/Dummy"

func requireDummy(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(dummyAgent); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the OCF Dummy agent is missing (%v); CI installs resource-agents", err)
		}
		t.Skipf("the OCF Dummy agent is missing (%v): install resource-agents (scripts/install-test-deps.sh)", err)
	}
}

// dummyStates reports which of the Dummy state files exist in the node's /srv.
func dummyStates(n *ourNode) (inline, inst bool) {
	_, e1 := os.Stat(filepath.Join(n.srvDir, "dummy-inline.state"))
	_, e2 := os.Stat(filepath.Join(n.srvDir, "dummy-inst.state"))
	return e1 == nil, e2 == nil
}

// TestOCFDummyGroupRunsOnNode1AndMovesToNode2OnPowerOff: a group of a VIP
// and two OCF Dummy resources (both haresources forms) runs on node1 (its
// state files exist there, not on node2); powering node1 off moves it to
// node2, where the agents' state files appear.
func TestOCFDummyGroupRunsOnNode1AndMovesToNode2OnPowerOff(t *testing.T) {
	t.Parallel()
	requireDummy(t)
	c := newCluster(t)
	spec := func(name, peer string) nodeSpec {
		return nodeSpec{name: name, hacf: ourHACF(peer, "on"), authkeys: sha256Authkeys, haresources: ocfHaresources,
			etcHA: map[string]string{"conf/OCF/Dummy/inst": "# Heartbeat OCF instance file\nstate=/srv/dummy-inst.state\n"}}
	}
	n1, n2 := newNode(t, c.h1, spec("node1", node2Addr)), newNode(t, c.h2, spec("node2", node1Addr))
	n1.Start()
	n2.Start()
	n1.WaitRsc("local", settleBound)
	n2.WaitRsc("none", settleBound)
	if a, b := dummyStates(n1); !a || !b {
		t.Errorf("node1 holds the group but the Dummy state files are inline=%v inst=%v; log:\n%s", a, b, testbed.Tail(n1.Log(), 30))
	}
	if a, b := dummyStates(n2); a || b {
		t.Errorf("node2 holds nothing but has Dummy state files inline=%v inst=%v", a, b)
	}
	if !e2ekit.HasAddr(t, c.h1, vip1) {
		t.Errorf("node1 holds the group but has no %s", vip1)
	}

	c.h1.PowerOff()
	took := n2.WaitRsc("foreign", moveBound)
	t.Logf("power-off of node1: node2 holds the OCF group %v later", took.Round(time.Millisecond))
	if a, b := dummyStates(n2); !a || !b {
		t.Errorf("node2 took the group but the Dummy state files are inline=%v inst=%v; log:\n%s", a, b, testbed.Tail(n2.Log(), 30))
	}
	e2ekit.WaitAddr(t, c.h2, vip1, true, moveBound)
}

// TestFailingStartAfterTheVIPMovesTheGroupToThePeerAtOnce: node1's copy of
// a resource.d script placed after the VIP fails to start. node1 logs the
// failure, stops the group again (the VIP is removed from node1), and node2
// takes the group at once: well under Heartbeat's 30 s (it runs
// hb_standby in the background 30 s after a failed start), and under 10 s.
func TestFailingStartAfterTheVIPMovesTheGroupToThePeerAtOnce(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	const haresources = "node1 198.18.0.100/24/eth0 app\n"
	n1 := newNode(t, c.h1, nodeSpec{name: "node1", hacf: ourHACF(node2Addr, "on"), authkeys: sha256Authkeys,
		haresources: haresources, resourceD: map[string]string{"app": stateScript("app", true, false)}})
	n2 := newNode(t, c.h2, nodeSpec{name: "node2", hacf: ourHACF(node1Addr, "on"), authkeys: sha256Authkeys,
		haresources: haresources, resourceD: map[string]string{"app": stateScript("app", false, false)}})
	n2.Start()
	n2.WaitRsc("foreign", settleBound) // alone after initdead: it takes everything
	at := time.Now()
	n1.Start()
	// node1 joins; auto_failback on hands it its group, whose start fails.
	took := waitFailed(t, n1, haresourcesKey(haresources), settleBound)
	n2.WaitRsc("foreign", moveBound)
	n1.WaitRsc("none", moveBound)
	moved := time.Since(at)
	t.Logf("failed start on node1: noticed %v after node1 started; node2 holds the group again %v after node1 started",
		took.Round(time.Millisecond), moved.Round(time.Millisecond))
	if moved > 10*time.Second {
		t.Errorf("the group took %v to reach node2 after node1's failed start, want well under 10 s", moved)
	}
	if e2ekit.HasAddr(t, c.h1, vip1) {
		t.Errorf("node1 still has %s after the failed start", vip1)
	}
	e2ekit.WaitAddr(t, c.h2, vip1, true, moveBound)
	if _, err := os.Stat(filepath.Join(n2.srvDir, "app.state")); err != nil {
		t.Errorf("node2 holds the group but its app is not started: %v", err)
	}
	log := n1.Log()
	for _, want := range []string{"refusing to start (test fault)", "start of group " + haresourcesKey(haresources) + " failed"} {
		if !strings.Contains(log, want) {
			t.Errorf("node1's log lacks %q:\n%s", want, testbed.Tail(log, 40))
		}
	}
	if !vipRemovedInLog(log, vip1) {
		t.Errorf("node1's log does not show %s being removed again after the failed start:\n%s", vip1, testbed.Tail(log, 40))
	}
	// The failure is remembered: auto_failback does not hand the group
	// back to node1 again and again.
	if when, ok := holdsFor(stayWindow, e2ekit.SlowPoll, func() bool { return n2.Rsc() == "foreign" && n1.Rsc() == "none" }); !ok {
		t.Errorf("after the failed start the group did not stay on node2 (changed after %v): node1 %s node2 %s", when, n1.Rsc(), n2.Rsc())
	}
}

// haresourcesKey is the group key of a one-line haresources.
func haresourcesKey(line string) string { return strings.Fields(line)[1] }

// waitFailed waits until hactl on n shows the group as failed.
func waitFailed(t *testing.T, n *ourNode, key string, timeout time.Duration) time.Duration {
	t.Helper()
	var g any
	took, ok := testbed.WaitFor(timeout, e2ekit.SlowPoll, func() bool {
		st, err := n.TryStatus()
		if err != nil {
			return false
		}
		for _, x := range st.Groups {
			if x.Key == key {
				g = x
				return x.Failed
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("%s: group %s not marked failed within %v (last %+v); log:\n%s", n.Name, key, timeout, g, testbed.Tail(n.Log(), 40))
	}
	return took
}

// vipRemovedInLog reports whether the log shows the VIP agent of ip
// started and then stopped again.
func vipRemovedInLog(log, ip string) bool {
	started := false
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, "IPaddr2::"+ip) {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) < 3 {
			continue
		}
		switch f[2] {
		case "started":
			started = true
		case "stopped":
			if started {
				return true
			}
		}
	}
	return false
}
