package e2eres

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// Check commands (issue 13, parts 3 and 4) with the seed scenario's VIP
// and LSB httpd: a check is a shell one-liner (the user writes the shell:
// ["sh", "-c", ...]) that fails while the node's /srv/checkfail exists.

// checkInterval is the checks' interval in these tests.
const checkInterval = 300 * time.Millisecond

// checkedTOML is the seed group with one check of the given fall, rise
// and weight.
func checkedTOML(fall, rise, weight int) string {
	return fmt.Sprintf(`[[group]]
node = "node1"
resources = ["198.18.0.100/24/eth0", "httpd"]

[[group.check]]
name = "flag"
command = ["sh", "-c", "test ! -e /srv/checkfail"]
interval = "%s"
fall = %d
rise = %d
weight = %d
`, checkInterval, fall, rise, weight)
}

func startChecked(t *testing.T, fall, rise, weight int) *seed {
	t.Helper()
	c := newCluster(t)
	spec := func(name, peer string) nodeSpec {
		return nodeSpec{name: name, hacf: ourHACF(peer, "on"), authkeys: sha256Authkeys,
			haresourcesTOML: checkedTOML(fall, rise, weight), initD: map[string]string{"httpd": lsbHTTPD(name)}}
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

func (n *ourNode) failCheck() { e2ekit.WriteFile(n.T, filepath.Join(n.srvDir, "checkfail"), "", 0o644) }

func (n *ourNode) passCheck() {
	if err := os.Remove(filepath.Join(n.srvDir, "checkfail")); err != nil {
		n.T.Fatal(err)
	}
}

// TestCheckFailingOnActiveMovesGroupAndBackAfterRise: weight -2, fall 2
// failing on node1 moves the group to node2; passing again, with
// auto_failback on, it comes back after rise.
func TestCheckFailingOnActiveMovesGroupAndBackAfterRise(t *testing.T) {
	t.Parallel()
	s := startChecked(t, 2, 2, -2)
	// Both nodes see each other healthy first.
	testbed.WaitFor(5*time.Second, e2ekit.SlowPoll, func() bool {
		h := s.n1.groups()[seedKey].Health
		return h != nil && h.Score == 0 && len(h.Checks) == 1 && h.Checks[0].Passing
	})
	at := time.Now()
	s.n1.failCheck()
	s.expectOn("check failing on node1 (fall 2, weight -2)", s.n2, at)
	t.Logf("check failed on node1: the client got node2's page %v after the flag (interval %v, fall 2)",
		time.Since(at).Round(time.Millisecond), checkInterval)
	h := s.n2.groups()[seedKey].Health
	if h == nil || h.PeerScore != -2 || h.Score != 0 || !h.Eligible || !h.PeerEligible {
		t.Errorf("node2's health of the group %+v, want score 0 here and -2 on node1", h)
	}
	at = time.Now()
	s.n1.passCheck()
	s.expectOn("check passing again on node1 (rise 2, auto_failback on)", s.n1, at)
	if !strings.Contains(s.n2.Log(), "auto_failback on") {
		t.Errorf("node2's log does not explain the failback:\n%s", testbed.Tail(s.n2.Log(), 20))
	}
}

// TestCheckFailingOnlyOnStandbyMovesNothing: a weight-0 check failing on
// node2 only: nothing moves, and node2 reports itself ineligible.
func TestCheckFailingOnlyOnStandbyMovesNothing(t *testing.T) {
	t.Parallel()
	s := startChecked(t, 1, 1, 0)
	s.n2.failCheck()
	var h2 = s.n2.groups()[seedKey].Health
	_, ok := testbed.WaitFor(5*time.Second, e2ekit.SlowPoll, func() bool {
		h2 = s.n2.groups()[seedKey].Health
		return h2 != nil && !h2.Eligible
	})
	if !ok {
		t.Fatalf("node2's hactl status --json does not show it ineligible: %+v", h2)
	}
	if h1 := s.n1.groups()[seedKey].Health; h1 == nil || h1.PeerEligible || !h1.Eligible {
		t.Errorf("node1's view %+v, want itself eligible and node2 not", h1)
	}
	if when, stayed := holdsFor(3*time.Second, 100*time.Millisecond, func() bool {
		return s.n1.Rsc() == "local" && s.n2.Rsc() == "none" && !e2ekit.HasAddr(t, s.h2, vip1)
	}); !stayed {
		t.Fatalf("something moved %v after node2's check failed: node1 %s node2 %s", when, s.n1.Rsc(), s.n2.Rsc())
	}
	out := s.n2.hactl("status")
	if !strings.Contains(out.Stdout, "INELIGIBLE") {
		t.Errorf("hactl status on node2 does not say INELIGIBLE:\n%s", out.Stdout)
	}
}

// TestMixedCheckFieldIgnoredByRealHeartbeat: our node1 with a check next
// to the real Heartbeat 3.0.6 as node2: the pair forms (our extra status
// field is ignored by it), and the check failing on our node moves our
// group to the real node through its standby handshake.
func TestMixedCheckFieldIgnoredByRealHeartbeat(t *testing.T) {
	t.Parallel()
	testbed.RequireRealHeartbeat(t)
	c := newCluster(t)
	toml := `[[group]]
node = "node1"
resources = ["198.18.0.100/24/eth0"]

[[group.check]]
name = "flag"
command = ["sh", "-c", "test ! -e /srv/checkfail"]
interval = "300ms"
fall = 2
weight = -2

[[group]]
node = "node2"
resources = ["198.18.0.200/24/eth0"]
`
	m := &mixed{cluster: c,
		ours: newNode(t, c.h1, nodeSpec{name: "node1", hacf: mixedHACF(node2Addr, "on"), authkeys: md5Authkeys,
			haresourcesTOML: toml}),
		realCfg: testbed.RealHBConfig{Node: "node2", HACF: mixedHACF(node1Addr, "on"), Authkeys: md5Authkeys,
			Haresources: activeActiveHaresources},
	}
	m.ours.Start()
	m.real = c.h2.StartRealHeartbeat(t, m.realCfg)
	m.real.WaitNodeStatus(t, "node1", "active", realJoinBound)
	m.real.WaitSettled(t, realSettleBound)
	m.expect("start", "local", "local", realSettleBound)
	if h := m.ours.groups()[key1].Health; h == nil || !h.PeerEligible || h.PeerScore != 0 {
		t.Errorf("the real node advertises nothing: it should count as healthy, %+v", h)
	}
	at := time.Now()
	m.ours.failCheck()
	m.expectMove("check failing on our node", at, "none", "all", c.h2, c.h2)
	if strings.Contains(m.real.Log(), "hasuite_health") {
		t.Errorf("the real node logged our field:\n%s", testbed.Tail(m.real.Log(), 25))
	}
}

// TestHeartbeatCheckFlagRejectsBadCheckCommands: heartbeat -t refuses a
// check whose program is missing or not executable, or whose user does
// not exist, naming haresources.toml:<line> of the check, and lists the
// checks of a good configuration.
func TestHeartbeatCheckFlagRejectsBadCheckCommands(t *testing.T) {
	t.Parallel()
	if e2ekit.Bin("heartbeat") == "" {
		t.Skip("the binaries are built only as root (the other tests need network namespaces)")
	}
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	e2ekit.WriteFile(t, noexec, "#!/bin/sh\nexit 0\n", 0o644)
	n := &e2ekit.Node{T: t, Name: "node1", ConfDir: filepath.Join(dir, "etc"), RunDir: filepath.Join(dir, "run"), StateDir: filepath.Join(dir, "state")}
	n.WriteConf(ourHACF(node2Addr, "on"), sha256Authkeys)
	file := filepath.Join(n.ConfDir, "haresources.toml")
	for _, tc := range []struct{ check, want string }{
		{`command = ["/nonexistent/e2eres-check"]`, "no such file"},
		{`command = ["` + noexec + `"]`, "is not executable"},
		{"command = [\"/bin/true\"]\nuser = \"e2eres-no-such-user\"", "e2eres-no-such-user"},
	} {
		e2ekit.WriteFile(t, file, "[[group]]\nnode = \"node1\"\nresources = [\"198.18.0.100/24/eth0\"]\n\n[[group.check]]\n"+tc.check+"\n", 0o644)
		r := testbed.RunCmd(e2ekit.CmdTimeout, nil, e2ekit.Bin("heartbeat"), append([]string{"-t"}, n.Args()...)...)
		if out := r.Stdout + r.Stderr; r.Code != 6 || !strings.Contains(out, file+":5") || !strings.Contains(out, tc.want) {
			t.Errorf("heartbeat -t with %s: %v; want exit 6 naming %s:5 and %q", tc.check, r, file, tc.want)
		}
	}
	e2ekit.WriteFile(t, file, "[[group]]\nnode = \"node1\"\nresources = [\"198.18.0.100/24/eth0\"]\n\n[[group.check]]\ncommand = [\"sh\", \"-c\", \"true\"]\nfall = 2\nweight = -2\n", 0o644)
	r := testbed.RunCmd(e2ekit.CmdTimeout, nil, e2ekit.Bin("heartbeat"), append([]string{"-t"}, n.Args()...)...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "check sh of 198.18.0.100/24/eth0") || !strings.Contains(r.Stdout, "weight -2") {
		t.Errorf("heartbeat -t with a good check: %v", r)
	}
}
