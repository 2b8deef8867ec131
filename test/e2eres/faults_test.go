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

// hangTOML is the haresources.toml of the hanging-start test: the group
// of a VIP and "hang", whose operations are limited to 2 s.
const hangTOML = `# e2eres: a start that hangs
[[group]]
node = "node1"
resources = ["198.18.0.100/24/eth0", "hang"]

[[group.resource_options]]
resource = "hang"
timeout = "2s"
`

// TestHangingStartTimesOutAfterTheTOMLTimeoutAndGroupGoesToPeer: node1's
// copy of "hang" never finishes its start. With timeout "2s" from
// haresources.toml's resource_options, node1 kills the script (its process
// is gone), stops the group again (the VIP leaves node1) and node2 takes
// it, about 2 s after node1 began.
func TestHangingStartTimesOutAfterTheTOMLTimeoutAndGroupGoesToPeer(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	n1 := newNode(t, c.h1, nodeSpec{name: "node1", hacf: ourHACF(node2Addr, "on"), authkeys: sha256Authkeys,
		haresourcesTOML: hangTOML, resourceD: map[string]string{"hang": stateScript("hang", false, true)}})
	n2 := newNode(t, c.h2, nodeSpec{name: "node2", hacf: ourHACF(node1Addr, "on"), authkeys: sha256Authkeys,
		haresourcesTOML: hangTOML, resourceD: map[string]string{"hang": stateScript("hang", false, false)}})
	at := time.Now()
	n1.Start()
	n2.Start()
	// node1 takes its group at once and hangs in "hang start".
	hangPid := ""
	if _, ok := testbed.WaitFor(settleBound, e2ekit.SlowPoll, func() bool {
		b, err := os.ReadFile(filepath.Join(n1.srvDir, "hang.hang"))
		hangPid = strings.TrimSpace(string(b))
		return err == nil && hangPid != ""
	}); !ok {
		t.Fatalf("node1 never ran hang start; log:\n%s", testbed.Tail(n1.Log(), 30))
	}
	began := time.Since(at)
	n2.WaitRsc("foreign", settleBound)
	n1.WaitRsc("none", moveBound)
	moved := time.Since(at) - began
	t.Logf("hanging start: node1 began it %v after start; node2 holds the group %v later (timeout 2 s)",
		began.Round(time.Millisecond), moved.Round(time.Millisecond))
	if moved < 2*time.Second-100*time.Millisecond {
		t.Errorf("the group reached node2 %v after the hanging start began, before the 2 s timeout", moved)
	}
	if moved > 2*time.Second+5*time.Second {
		t.Errorf("the group reached node2 %v after the hanging start began; want the 2 s timeout plus little", moved)
	}
	if _, err := os.Stat("/proc/" + hangPid); err == nil {
		st, _ := os.ReadFile("/proc/" + hangPid + "/stat")
		if f := strings.Fields(string(st)); len(f) > 2 && f[2] != "Z" {
			t.Errorf("the hanging start (pid %s) still runs after its timeout: %s", hangPid, st)
		}
	}
	if e2ekit.HasAddr(t, c.h1, vip1) {
		t.Errorf("node1 still has %s after the timed-out start", vip1)
	}
	e2ekit.WaitAddr(t, c.h2, vip1, true, moveBound)
	log := n1.Log()
	if !strings.Contains(log, "timed out") && !strings.Contains(log, "timeout") {
		t.Errorf("node1's log does not say the start timed out:\n%s", testbed.Tail(log, 40))
	}
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "start of group") && strings.Contains(l, "failed") {
			t.Logf("node1: %s", strings.TrimSpace(l))
		}
	}
}

// TestHaresourcesNamingAMissingOrNonExecutableScriptStopsTheDaemonWithExit6:
// the daemon checks every resource script before it starts: a script found
// nowhere, or one that is not executable, makes it exit 6 (LSB "not
// configured", Heartbeat's code for configuration errors) with a message
// naming haresources:<line> and the script, without joining the cluster.
func TestHaresourcesNamingAMissingOrNonExecutableScriptStopsTheDaemonWithExit6(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	for _, tc := range []struct {
		name, script string
		resourceD    map[string]string
		modes        map[string]os.FileMode
	}{
		{"missing", "e2eres_nosuchscript", nil, nil},
		{"not executable", "app", map[string]string{"app": stateScript("app", false, false)}, map[string]os.FileMode{"app": 0o644}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			haresources := "# line 1 is a comment\nnode1 198.18.0.100/24/eth0 " + tc.script + "\n"
			n := newNode(t, c.h1, nodeSpec{name: "node1", hacf: ourHACF(node2Addr, "on"), authkeys: sha256Authkeys,
				haresources: haresources, resourceD: tc.resourceD, modes: tc.modes})
			// A plain process (no sandbox: it exits before one could be
			// inspected) in node1's namespace, so that a daemon that wrongly
			// started would only talk to the test network.
			p := c.h1.Start(t, e2ekit.Bin("heartbeat"), n.Args()...)
			if err := p.Wait(e2ekit.StartBound); err != nil && p.ExitCode() == -1 {
				t.Fatalf("the daemon did not exit within %v (%v); log:\n%s", e2ekit.StartBound, err, p.Log())
			}
			log := p.Log()
			t.Logf("%s script: exit %d, log:\n%s", tc.name, p.ExitCode(), strings.TrimSpace(log))
			if p.ExitCode() != 6 {
				t.Errorf("exit code %d, want 6", p.ExitCode())
			}
			pos := filepath.Join(n.ConfDir, "haresources") + ":2"
			if !strings.Contains(log, pos) || !strings.Contains(log, tc.script) {
				t.Errorf("the error should name %s and %s:\n%s", pos, tc.script, log)
			}
			if e2ekit.HasAddr(t, c.h1, vip1) {
				t.Errorf("a daemon that refused its configuration added %s", vip1)
			}
		})
	}
}

// TestHeartbeatCheckFlagRejectsAHaresourcesTheDaemonRefuses: "heartbeat
// -t" (check the configuration) must not say "configuration OK" for a
// configuration the daemon refuses to start with: a missing resource
// script is exit 6 naming haresources:<line> there too.
func TestHeartbeatCheckFlagRejectsAHaresourcesTheDaemonRefuses(t *testing.T) {
	t.Parallel()
	if e2ekit.Bin("heartbeat") == "" {
		t.Skip("the binaries are built only as root (the other tests need network namespaces)")
	}
	dir := t.TempDir()
	// A node's files only: no host, nothing started.
	n := &e2ekit.Node{T: t, Name: "node1", ConfDir: filepath.Join(dir, "etc"), RunDir: filepath.Join(dir, "run"), StateDir: filepath.Join(dir, "state")}
	n.WriteConf(ourHACF(node2Addr, "on"), sha256Authkeys)
	e2ekit.WriteFile(t, filepath.Join(n.ConfDir, "haresources"), "# line 1\nnode1 198.18.0.100/24/eth0 e2eres_nosuchscript\n", 0o644)
	pos := filepath.Join(n.ConfDir, "haresources") + ":2"
	r := testbed.RunCmd(e2ekit.CmdTimeout, nil, e2ekit.Bin("heartbeat"), append([]string{"-t"}, n.Args()...)...)
	if r.Code != 6 || !strings.Contains(r.Stdout+r.Stderr, pos) {
		t.Errorf("heartbeat -t with a missing resource script: %v; want exit 6 naming %s, as the daemon does", r, pos)
	}
}

// TestVIPWithNoMatchingInterfaceFailsWithAClearErrorAndStopsMoving: a bare
// address (198.19.5.5, no /bits, no interface) in no subnet of any
// interface cannot be placed. The start fails with an error naming the
// address and the reason, on node1 and then on node2; nothing is added
// anywhere; both daemons keep running; and once the group has failed on
// both nodes it must stop moving (Heartbeat retries a failed group once
// per 30 s, through its delayed hb_standby; a group that can run nowhere
// must not be bounced between the nodes without pause).
//
// Not parallel: while the group bounces it loads the machine.
func TestVIPWithNoMatchingInterfaceFailsWithAClearErrorAndStopsMoving(t *testing.T) {
	c := newCluster(t)
	const haresources = "node1 198.19.5.5\n"
	spec := func(name, peer string) nodeSpec {
		return nodeSpec{name: name, hacf: ourHACF(peer, "on"), authkeys: sha256Authkeys, haresources: haresources}
	}
	n1, n2 := newNode(t, c.h1, spec("node1", node2Addr)), newNode(t, c.h2, spec("node2", node1Addr))
	n1.Start()
	n2.Start()
	waitFailed(t, n1, "198.19.5.5", settleBound)
	waitFailed(t, n2, "198.19.5.5", settleBound)
	starts := func() int {
		return strings.Count(n1.Log(), "start group 198.19.5.5") + strings.Count(n2.Log(), "start group 198.19.5.5")
	}
	before := starts()
	// Watch for a while (the daemons must stay up), then stop both at once:
	// a bouncing group writes megabytes of log per second.
	const window = time.Second
	holdsFor(window, 50*time.Millisecond, func() bool { return !n1.Proc.Exited() && !n2.Proc.Exited() })
	g1, g2 := n1.groups()["198.19.5.5"], n2.groups()["198.19.5.5"]
	r1, r2 := n1.Rsc(), n2.Rsc()
	for _, h := range []*ourNode{n1, n2} {
		if h.Proc.Exited() {
			t.Errorf("%s's daemon exited (%d)", h.Name, h.Proc.ExitCode())
		}
	}
	n1.Proc.Kill()
	n2.Proc.Kill()
	after := starts()
	t.Logf("unplaceable VIP: rscstatus node1 %q node2 %q; hactl node1 %+v node2 %+v; %d start attempts in all, %d in the %v after both had failed",
		r1, r2, g1, g2, after, after-before, window)
	log1 := n1.Log()
	for _, l := range strings.Split(log1, "\n") {
		if strings.Contains(l, "198.19.5.5") && strings.Contains(l, "start failed") {
			t.Logf("node1: %s", strings.TrimSpace(l))
			break
		}
	}
	if !hasClearIfaceError(log1) {
		t.Errorf("node1's log lacks a clear error for 198.19.5.5 (no interface/subnet):\n%s", testbed.Tail(log1, 30))
	}
	for _, h := range []*ourNode{n1, n2} {
		if e2ekit.HasAddr(t, h.Host, "198.19.5.5") {
			t.Errorf("%s has 198.19.5.5 on eth0", h.Name)
		}
	}
	if after-before > 2 {
		t.Errorf("the group that failed on both nodes keeps bouncing between them: %d start attempts in %v (%d in all); "+
			"want it left stopped (or retried at a slow pace)", after-before, window, after)
	}
}

// hasClearIfaceError looks for an error line about 198.19.5.5 that says
// why: no interface or no matching subnet.
func hasClearIfaceError(log string) bool {
	for _, l := range strings.Split(log, "\n") {
		low := strings.ToLower(l)
		if strings.Contains(l, "198.19.5.5") && (strings.Contains(low, "interface") || strings.Contains(low, "subnet")) {
			return true
		}
	}
	return false
}

// TestVIPDeletedBehindTheDaemonsBackIsReportedNotAsserted documents what
// happens when an operator deletes the VIP on node1 (ip addr del): v1 has
// no resource monitoring, so nothing is expected to notice. The test
// asserts only that both daemons keep running and answering, and logs
// what the daemons, the hosts and the client saw.
func TestVIPDeletedBehindTheDaemonsBackIsReportedNotAsserted(t *testing.T) {
	t.Parallel()
	s := startSeed(t, "on")
	at := time.Now()
	if out, err := s.h1.Run(t, "ip", "addr", "del", vip1+"/24", "dev", "eth0"); err != nil {
		t.Fatalf("ip addr del: %v: %s", err, out)
	}
	const watch = 3 * time.Second
	readded := time.Duration(0)
	testbed.WaitFor(watch, e2ekit.SlowPoll, func() bool {
		if readded == 0 && (e2ekit.HasAddr(t, s.h1, vip1) || e2ekit.HasAddr(t, s.h2, vip1)) {
			readded = time.Since(at)
		}
		return false
	})
	where := "nowhere"
	switch {
	case e2ekit.HasAddr(t, s.h1, vip1):
		where = "node1"
	case e2ekit.HasAddr(t, s.h2, vip1):
		where = "node2"
	}
	last := s.poll.last()
	t.Logf("VIP deleted on node1 behind the daemon's back; %v later: VIP on %s (first seen again after %v), rscstatus node1 %q node2 %q, "+
		"hactl node1 %+v, client's last answer %q (%v)", watch, where, readded.Round(time.Millisecond), s.n1.Rsc(), s.n2.Rsc(),
		s.n1.groups()[seedKey], last.body, errString(last.err))
	for _, n := range []*ourNode{s.n1, s.n2} {
		if n.Proc.Exited() {
			t.Errorf("%s's daemon exited", n.Name)
		}
		if r := n.ClStatus("hbstatus"); r.Code != 0 {
			t.Errorf("%s: cl_status hbstatus: %v", n.Name, r)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return fmt.Sprint(err)
}
