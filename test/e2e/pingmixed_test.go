package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
)

// pingMixedHACF: the mixed cluster's timings, heartbeats on eth1, the
// gateway as ping node and a ping group, declared before the nodes.
func pingMixedHACF(peerHB string) string {
	return "keepalive 200ms\ndeadtime 2\nwarntime 1\ninitdead 4\ndeadping 2\nudpport 694\nucast eth1 " + peerHB +
		"\nping 198.18.0.254\nping_group gws 198.18.0.254 198.18.0.253\nauto_failback on\ncrm no\nnode node1 node2\n"
}

// TestPingNodesMatchRealHeartbeat306: our node1 and a real Heartbeat
// 3.0.6 node2 with the same ping node and group; cl_status prints the same
// on both (listnodes and its filters and -v, nodetype, nodestatus, the
// ping node's link), with
// the gateway answering and with it cut off from both.
func TestPingNodesMatchRealHeartbeat306(t *testing.T) {
	testbed.RequireRealHeartbeat(t)
	_, h1, h2 := pingBed(t)
	ours := startOurs(t, h1, "node1", pingMixedHACF("198.19.0.2"), "auth 1\n1 sha1 Sha1Key!\n")
	real := h2.StartRealHeartbeat(t, testbed.RealHBConfig{Node: "node2", HACF: pingMixedHACF("198.19.0.1"), Authkeys: "auth 1\n1 sha1 Sha1Key!\n"})
	real.WaitNodeStatus(t, "node1", "active", realJoinBound)
	ours.WaitNodeStatus("node2", "active", realJoinBound)

	compare := func(phase string, args ...string) {
		t.Helper()
		// None of these outputs depends on which node is local (the
		// order of listnodes is the ha.cf's, reversed).
		want, wantCode := real.ClStatus(t, args...)
		got := ours.ClStatus(args...)
		if got.Stdout != want || got.Code != wantCode {
			t.Errorf("%s: cl_status %s: ours %q exit %d, real Heartbeat %q exit %d", phase, strings.Join(args, " "), got.Stdout, got.Code, want, wantCode)
		}
	}
	for _, phase := range []string{"gateway answering", "gateway cut off"} {
		for _, n := range []string{"198.18.0.254", "gws"} {
			want := "ping"
			if phase == "gateway cut off" {
				want = "dead"
			}
			real.WaitClStatus(t, realJoinBound, want, "nodestatus", n)
			ours.WaitClStatus(realJoinBound, want, "nodestatus", n)
		}
		for _, args := range [][]string{
			{"listnodes"}, {"listnodes", "-p"}, {"listnodes", "-n"},
			{"nodetype", "198.18.0.254"}, {"nodetype", "gws"},
			{"nodestatus", "198.18.0.254"}, {"nodestatus", "gws"},
			{"listhblinks", "198.18.0.254"}, {"hblinkstatus", "198.18.0.254", "198.18.0.254"},
			{"listnodes", "-p", "-v"}, {"nodestatus", "-m", "gws"}, {"nodetype", "-m", "gws"},
		} {
			compare(phase, args...)
		}
		if phase == "gateway answering" {
			blackhole(t, h1, true)
			blackhole(t, h2, true)
			time.Sleep(100 * time.Millisecond)
		}
	}
}
