package e2eres

import (
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// stayWindow is how long a group must stay put to count as "stays".
const stayWindow = 2 * time.Second

// TestAutoFailbackOffKeepsServiceOnNode2UntilHbTakeoverFailback: with
// auto_failback off the service stays on node2 after node1 returns (the
// client keeps getting node2's page), and "hb_takeover failback" on node1
// brings it back; the command waits for the move and says so.
func TestAutoFailbackOffKeepsServiceOnNode2UntilHbTakeoverFailback(t *testing.T) {
	t.Parallel()
	s := startSeed(t, "off")
	at := time.Now()
	s.powerOff()
	s.expectOn("power-off of node1", s.n2, at)

	s.powerOnAndStart()
	s.n1.WaitRsc("none", settleBound)
	s.n2.WaitRsc("foreign", settleBound)
	if when, ok := holdsFor(stayWindow, e2ekit.SlowPoll, func() bool {
		return s.poll.last().body == hello("node2") && s.n1.Rsc() == "none" && s.n2.Rsc() == "foreign"
	}); !ok {
		t.Fatalf("auto_failback off: the group did not stay on node2 after node1 returned (changed after %v): client %+v, node1 %s, node2 %s",
			when, s.poll.last(), s.n1.Rsc(), s.n2.Rsc())
	}
	if e2ekit.HasAddr(t, s.h1, vip1) || s.n1.httpdRunning() {
		t.Errorf("auto_failback off: node1 has the VIP or runs httpd after rejoining")
	}
	if g := s.n1.groups()[seedKey]; g.State != "stopped" || g.PreferredNode != "node1" {
		t.Errorf("node1's hactl view of its group: %+v, want stopped, preferred node1", g)
	}
	if g := s.n2.groups()[seedKey]; g.State != "running" {
		t.Errorf("node2's hactl view of node1's group: %+v, want running", g)
	}

	at = time.Now()
	r := s.n1.move(e2ekit.Bin("hb_takeover"), "failback")
	if r.Code != 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "this node now holds local resources") {
		t.Fatalf("hb_takeover failback on node1: %v; log:\n%s", r, testbed.Tail(s.n1.Log(), 30))
	}
	t.Logf("hb_takeover failback: %q", strings.TrimSpace(r.Stderr))
	// The command returned after the move: both sides agree at once.
	if a, b := s.n1.Rsc(), s.n2.Rsc(); a != "local" || b != "none" {
		t.Errorf("right after hb_takeover failback: rscstatus node1 %q node2 %q, want local and none", a, b)
	}
	s.expectOn("hb_takeover failback on node1", s.n1, at)
}

// seedKey is the group key of the seed scenario (its first resource).
const seedKey = "198.18.0.100/24/eth0"
