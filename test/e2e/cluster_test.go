package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// TestTwoDaemonsSeeEachOtherAndReportItThroughTheTools runs two of our
// daemons and checks every status tool on both: cl_status (Heartbeat's
// words and exit codes), hactl status --json, and heartbeat -s before and
// after a stop.
func TestTwoDaemonsSeeEachOtherAndReportItThroughTheTools(t *testing.T) {
	_, n1, n2 := pair(t, fastHACF)

	for _, c := range []struct {
		n          *ourNode
		other, dst string
	}{{n1, "node2", "198.18.0.2"}, {n2, "node1", "198.18.0.1"}} {
		n, other := c.n, c.other
		expect := func(want string, wantCode int, args ...string) {
			t.Helper()
			r := n.ClStatus(args...)
			if r.Stdout != want || r.Code != wantCode {
				t.Errorf("on %s: cl_status %s = %v; want stdout %q, exit %d", n.Name, strings.Join(args, " "), r, want, wantCode)
			}
		}
		expect("active\n", 0, "nodestatus", other)
		expect("active\n", 0, "nodestatus", n.Name)
		// Heartbeat lists nodes in reverse declaration order.
		expect("node2\nnode1\n", 0, "listnodes")
		expect("normal\n", 0, "nodetype", other)
		expect("\teth0\n", 0, "listhblinks", other)
		expect("up\n", 0, "hblinkstatus", other, "eth0")
		expect("Heartbeat is running on this machine.\n", 0, "hbstatus")
		if r := n.ClStatus("nodestatus", "nosuchnode"); r.Code != 11 {
			t.Errorf("on %s: nodestatus of an unknown node = %v, want exit 11", n.Name, r)
		}
		if r := n.ClStatus("hblinkstatus", other, "eth9"); r.Code != 13 {
			t.Errorf("on %s: hblinkstatus of an unknown link = %v, want exit 13", n.Name, r)
		}

		st := n.Status()
		if st.Core.Node != n.Name || st.Core.State != "active" || !st.Core.CommUp {
			t.Errorf("on %s: hactl core = node %q state %q comm_up %v", n.Name, st.Core.Node, st.Core.State, st.Core.CommUp)
		}
		p, ok := findNode(st, other)
		if !ok || p.State != "active" || p.Local || p.Generation == 0 {
			t.Errorf("on %s: hactl view of %s = %+v (found %v)", n.Name, other, p, ok)
		}
		if l, ok := findLink(p, "eth0"); !ok || l.State != "up" || l.Packets == 0 {
			t.Errorf("on %s: hactl link eth0 of %s = %+v (found %v)", n.Name, other, l, ok)
		}
		if len(st.Links) != 1 || st.Links[0].Name != "eth0" || st.Links[0].Kind != "ucast" ||
			st.Links[0].Target != c.dst || st.Links[0].TxPackets == 0 || st.Links[0].RxPackets == 0 {
			t.Errorf("on %s: hactl links = %+v", n.Name, st.Links)
		}
		if st.Dropped != (api.Dropped{}) {
			t.Errorf("on %s: packets dropped between two healthy daemons: %+v", n.Name, st.Dropped)
		}

		r := n.Heartbeat("-s")
		want := fmt.Sprintf("heartbeat OK [pid %d et al] is running on ", n.Proc.Pid())
		if r.Code != 0 || !strings.HasPrefix(r.Stdout, want) || !strings.Contains(r.Stdout, "["+n.Name+"]") {
			t.Errorf("on %s: heartbeat -s = %v, want exit 0 and %q...[%s]", n.Name, r, want, n.Name)
		}
	}

	if r := n2.Heartbeat("-k"); r.Code != 0 {
		t.Fatalf("heartbeat -k on node2 = %v", r)
	}
	if r := n2.Heartbeat("-s"); r.Code != 3 || r.Stdout != "heartbeat is stopped. No process\n" {
		t.Errorf("heartbeat -s after stop = %v, want exit 3 and %q", r, "heartbeat is stopped. No process\n")
	}
	if r := n2.ClStatus("hbstatus"); r.Code != 1 || r.Stdout != "Heartbeat is stopped on this machine.\n" {
		t.Errorf("cl_status hbstatus after stop = %v", r)
	}
	if r := n2.ClStatus("nodestatus", "node1"); r.Code != 1 {
		t.Errorf("cl_status nodestatus with the daemon stopped = %v, want exit 1 (cannot signon)", r)
	}
}

// TestCrashedPeerIsDeclaredDeadWithinDeadtimePlusKeepalive kills node2
// (SIGKILL of the daemon, or a power-off: every process killed and the
// links down) and measures, from the fault, how long node1 takes to report
// it dead, polling cl_status every few milliseconds.
func TestCrashedPeerIsDeclaredDeadWithinDeadtimePlusKeepalive(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(n *ourNode)
	}{
		{"SIGKILL", func(n *ourNode) { n.Kill() }},
		{"PowerOff", func(n *ourNode) { n.Host.PowerOff() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, n1, n2 := pair(t, fastHACF)
			n1.waitPeerDeadtime("node2", fastDeadtime)

			start := time.Now()
			tc.fault(n2)
			took := n1.measureUntil(start, 10*time.Second, "dead", "nodestatus", "node2")
			t.Logf("%s: node1 reported node2 dead %v after the fault (deadtime %v, keepalive %v)",
				tc.name, took.Round(time.Millisecond), fastDeadtime, fastKeepalive)
			if bound := fastDeadtime + fastKeepalive; took > bound {
				t.Errorf("node2 declared dead after %v, want <= deadtime + keepalive = %v", took, bound)
			}
			if took < fastDeadtime/2 {
				t.Errorf("node2 declared dead after %v, long before deadtime %v: not the timeout", took, fastDeadtime)
			}
			if r := n1.ClStatus("nodestatus", "node2"); r.Code != 1 || r.Stdout != "dead\n" {
				t.Errorf("nodestatus of a dead node = %v, want \"dead\" exit 1", r)
			}
			if r := n1.ClStatus("hblinkstatus", "node2", "eth0"); r.Code != 1 || r.Stdout != "dead\n" {
				t.Errorf("hblinkstatus of a dead node's link = %v, want \"dead\" exit 1", r)
			}
			if !strings.Contains(n1.Log(), "node node2 is dead") {
				t.Errorf("node1's log lacks the death of node2:\n%s", testbed.Tail(n1.Log(), 20))
			}
			if strings.Contains(n1.Log(), "announced a graceful stop") {
				t.Errorf("a crash was logged as a graceful stop:\n%s", testbed.Tail(n1.Log(), 20))
			}
		})
	}
}

// TestGracefulStopAnnouncesShutdoneSoPeerSeesDeadBeforeDeadtime stops
// node2 with heartbeat -k while the deadtime is 5 s: node1 must report it
// dead well before the deadtime (the shutdone message), and -k must return
// 0 only once the daemon has exited.
func TestGracefulStopAnnouncesShutdoneSoPeerSeesDeadBeforeDeadtime(t *testing.T) {
	const deadtime = 5 * time.Second
	_, n1, n2 := pair(t, func(peer string) string { return ourHACF("100ms", "5", "10", "ucast eth0 "+peer) })
	pid := n2.Proc.Pid()

	start := time.Now()
	type stopResult struct {
		r    testbed.ExecResult
		gone bool
	}
	stopped := make(chan stopResult, 1)
	go func() {
		r := n2.Heartbeat("-k")
		stopped <- stopResult{r, testbed.ProcessGone(pid)} // checked the moment -k returns
	}()
	took := n1.measureUntil(start, deadtime+5*time.Second, "dead", "nodestatus", "node2")
	var sr stopResult
	select {
	case sr = <-stopped:
	case <-time.After(2 * e2ekit.CmdTimeout):
		t.Fatal("heartbeat -k did not return")
	}
	t.Logf("node1 reported node2 dead %v after heartbeat -k started (deadtime %v); -k took %v",
		took.Round(time.Millisecond), deadtime, sr.r.Took.Round(time.Millisecond))
	if took >= time.Second {
		t.Errorf("graceful stop noticed after %v, want < 1s (deadtime %v): shutdone not honoured", took, deadtime)
	}
	if sr.r.Code != 0 {
		t.Errorf("heartbeat -k = %v, want exit 0", sr.r)
	}
	if !sr.gone {
		t.Errorf("heartbeat -k returned while pid %d was still running", pid)
	}
	if err := n2.Proc.Wait(5 * time.Second); err != nil {
		t.Errorf("node2's daemon after -k: %v (exit %d), want exit 0", err, n2.Proc.ExitCode())
	}
	log1 := n1.Log()
	if !strings.Contains(log1, "node node2 announced a graceful stop (shutdone)") {
		t.Errorf("node1's log lacks the shutdone notice:\n%s", testbed.Tail(log1, 20))
	}
	if !strings.Contains(log1, `"reason": "graceful shutdown"`) {
		t.Errorf("node1 did not log the death as a graceful shutdown:\n%s", testbed.Tail(log1, 20))
	}
	if !strings.Contains(n2.Log(), "heartbeat stopped") {
		t.Errorf("node2's log lacks its stop:\n%s", testbed.Tail(n2.Log(), 20))
	}
}

// TestRestartedPeerIsActiveAgainWithHigherGeneration kills node2 and
// starts it again with the same state directory: node1 must see it active
// again, with a higher generation, logged as a restart (not as a return
// after partition).
func TestRestartedPeerIsActiveAgainWithHigherGeneration(t *testing.T) {
	_, n1, n2 := pair(t, fastHACF)
	before := n1.peer("node2").Generation
	if own := n2.Status().Core.Generation; own != before {
		t.Fatalf("node1 sees generation %d for node2, node2 says %d", before, own)
	}

	n2.Kill()
	n1.WaitNodeStatus("node2", "dead", 10*time.Second)
	start := time.Now()
	n2.Start()
	n1.WaitNodeStatus("node2", "active", joinBound)
	t.Logf("node1 saw the restarted node2 active %v after the restart began", time.Since(start).Round(time.Millisecond))
	n2.WaitNodeStatus("node1", "active", joinBound)

	after := n1.peer("node2").Generation
	own := n2.Status().Core.Generation
	if after <= before || own != after {
		t.Errorf("generation of node2: before %d, after restart node1 sees %d, node2 says %d; want a higher one", before, after, own)
	}
	if l := n1.peer("node2"); l.State != "active" {
		t.Errorf("node1's view of node2 = %+v", l)
	}
	log1 := n1.Log()
	if !strings.Contains(log1, "heartbeat restart on node node2") {
		t.Errorf("node1 did not log the restart of node2:\n%s", testbed.Tail(log1, 20))
	}
	if strings.Contains(log1, "returning after partition") {
		t.Errorf("a restart was taken for a return after partition:\n%s", testbed.Tail(log1, 20))
	}
}

// TestOneLinkDownOfTwoIsALinkFailureNotANodeDeath gives the nodes two
// links on two switches (eth0 198.18.0.0/24, eth1 198.19.0.0/24), takes
// eth0 of node1 down and up again: both nodes must see that link die
// within deadtime + keepalive and come back within about a second, and
// neither may ever see the other dead.
func TestOneLinkDownOfTwoIsALinkFailureNotANodeDeath(t *testing.T) {
	b := testbed.New(t)
	swA, swB := b.AddSwitch("lan"), b.AddSwitch("hb")
	h1, h2 := b.AddHost("node1"), b.AddHost("node2")
	h1.Connect(swA, "eth0", "198.18.0.1/24")
	h2.Connect(swA, "eth0", "198.18.0.2/24")
	h1.Connect(swB, "eth1", "198.19.0.1/24")
	h2.Connect(swB, "eth1", "198.19.0.2/24")
	cf := func(a, b string) string {
		return ourHACF("100ms", "500ms", "2s", "ucast eth0 "+a, "ucast eth1 "+b)
	}
	n1 := startOurs(t, h1, "node1", cf("198.18.0.2", "198.19.0.2"), sha256Authkeys)
	n2 := startOurs(t, h2, "node2", cf("198.18.0.1", "198.19.0.1"), sha256Authkeys)
	views := []struct {
		n     *ourNode
		other string
	}{{n1, "node2"}, {n2, "node1"}}
	for _, v := range views {
		v.n.WaitNodeStatus(v.other, "active", joinBound)
		v.n.waitPeerDeadtime(v.other, fastDeadtime)
		for _, l := range []string{"eth0", "eth1"} {
			v.n.WaitClStatus(joinBound, "up", "hblinkstatus", v.other, l)
		}
	}

	// noDeath checks, on both nodes, that the peer is alive and eth1 up.
	noDeath := func(phase string) {
		t.Helper()
		for _, v := range views {
			if r := v.n.ClStatus("nodestatus", v.other); r.Stdout != "active\n" {
				t.Fatalf("%s: on %s, nodestatus %s = %v; a link failure killed the node", phase, v.n.Name, v.other, r)
			}
			if r := v.n.ClStatus("hblinkstatus", v.other, "eth1"); r.Stdout != "up\n" {
				t.Fatalf("%s: on %s, the healthy link eth1 of %s = %v", phase, v.n.Name, v.other, r)
			}
		}
	}
	// measure polls both nodes' view of eth0 until both show want, checking
	// noDeath on every round, and returns each node's time since start.
	measure := func(phase, want string, start time.Time, bound time.Duration) [2]time.Duration {
		t.Helper()
		var got [2]time.Duration
		for round := 0; got[0] == 0 || got[1] == 0; round++ {
			for i, v := range views {
				if got[i] == 0 && v.n.ClStatus("hblinkstatus", v.other, "eth0").Stdout == want+"\n" {
					got[i] = time.Since(start)
				}
			}
			if round%8 == 7 { // sparse, to keep the measurement fine-grained
				noDeath(phase)
			}
			if time.Since(start) > bound {
				t.Fatalf("%s: eth0 not %s on both nodes within %v (node1 %v, node2 %v); logs:\n%s\n%s",
					phase, want, bound, got[0], got[1], testbed.Tail(n1.Log(), 15), testbed.Tail(n2.Log(), 15))
			}
			time.Sleep(e2ekit.FastPoll)
		}
		return got
	}

	start := time.Now()
	h1.LinkDown("eth0")
	down := measure("eth0 down", "dead", start, 10*time.Second)
	t.Logf("eth0 reported dead after %v on node1, %v on node2 (deadtime %v, keepalive %v)",
		down[0].Round(time.Millisecond), down[1].Round(time.Millisecond), fastDeadtime, fastKeepalive)
	for i, d := range down {
		if bound := fastDeadtime + fastKeepalive; d > bound {
			t.Errorf("on %s, eth0 reported dead after %v, want <= %v", views[i].n.Name, d, bound)
		}
	}
	// Stay degraded for several deadtimes: still no death.
	if _, ok := testbed.WaitFor(4*fastDeadtime, e2ekit.SlowPoll, func() bool { noDeath("degraded"); return false }); ok {
		t.Fatal("unreachable")
	}

	start = time.Now()
	h1.LinkUp("eth0")
	up := measure("eth0 up again", "up", start, 10*time.Second)
	t.Logf("eth0 reported up again after %v on node1, %v on node2", up[0].Round(time.Millisecond), up[1].Round(time.Millisecond))
	for i, d := range up {
		if bound := time.Second + fastKeepalive; d > bound {
			t.Errorf("on %s, eth0 back up after %v, want within about a second (%v)", views[i].n.Name, d, bound)
		}
	}
	noDeath("after repair")
	for _, v := range views {
		if strings.Contains(v.n.Log(), "is dead") {
			t.Errorf("%s logged a node death during a link failure:\n%s", v.n.Name, testbed.Tail(v.n.Log(), 20))
		}
	}
}

// TestIdenticalHACFWithBothAddressesOnOneInterfaceReportsEveryLinkUp gives
// both nodes the same ha.cf, with a ucast line for each node's address on
// eth0 (the usual way to share one ha.cf; a node's line to itself only
// loops back). In a healthy cluster every heartbeat link a node reports for
// its peer must be up, eth0 included.
func TestIdenticalHACFWithBothAddressesOnOneInterfaceReportsEveryLinkUp(t *testing.T) {
	_, n1, n2 := pair(t, func(string) string {
		return ourHACF("100ms", "500ms", "2s", "ucast eth0 198.18.0.1", "ucast eth0 198.18.0.2")
	})
	for _, v := range []struct {
		n     *ourNode
		other string
	}{{n1, "node2"}, {n2, "node1"}} {
		var links testbed.ExecResult
		allUp := func() bool {
			links = v.n.ClStatus("listhblinks", "-v", v.other)
			return links.Code == 0 && strings.Contains(links.Stdout, "\teth0\tup\n") && !strings.Contains(links.Stdout, "\tdead")
		}
		// Every link has had 20 keepalives to be heard.
		if _, ok := testbed.WaitFor(20*fastKeepalive, e2ekit.SlowPoll, allUp); !ok {
			t.Errorf("on %s, the healthy peer %s has links that are not up: listhblinks -v = %q; view %+v",
				v.n.Name, v.other, links.Stdout, v.n.peer(v.other))
		}
		if r := v.n.ClStatus("nodestatus", v.other); r.Stdout != "active\n" {
			t.Errorf("on %s, nodestatus %s = %v", v.n.Name, v.other, r)
		}
	}
}

// TestReloadRotatesKeysWithoutLosingThePeer rotates the cluster key with
// "heartbeat -r" the way an operator would: add the new key everywhere,
// sign with it, then drop the old one. The peers must stay active through
// every step (a node that signed with a key its peer lacks would be
// declared dead), each reload must say whether the keys changed, and a
// setting that needs a restart must be refused by name.
func TestReloadRotatesKeysWithoutLosingThePeer(t *testing.T) {
	_, n1, n2 := pair(t, fastHACF)
	const (
		oldKey  = "1 sha256 e2e-Secret-Key-For-Tests\n"
		newKey  = "2 sha256 the-New-Key-Of-The-Cluster\n"
		both1   = "auth 1\n" + oldKey + newKey
		both2   = "auth 2\n" + oldKey + newKey
		newOnly = "auth 2\n" + newKey
	)
	reloaded := func(n *ourNode, keysChanged bool) {
		t.Helper()
		before := strings.Count(n.Log(), "configuration reloaded")
		if r := n.Heartbeat("-r"); r.Code != 0 {
			t.Fatalf("%s: heartbeat -r = %v", n.Name, r)
		}
		want := fmt.Sprintf(`"keys_changed": %v`, keysChanged)
		if _, ok := testbed.WaitFor(e2ekit.CmdTimeout, e2ekit.SlowPoll, func() bool {
			lines := strings.Split(n.Log(), "\n")
			seen := 0
			for _, l := range lines {
				if strings.Contains(l, "configuration reloaded") {
					seen++
					if seen > before && strings.Contains(l, want) {
						return true
					}
				}
			}
			return false
		}); !ok {
			t.Fatalf("%s: no reload logged with %s; log:\n%s", n.Name, want, testbed.Tail(n.Log(), 10))
		}
	}
	steady := func(step string) {
		t.Helper()
		time.Sleep(3 * fastDeadtime) // long enough for a wrongly signed peer to die
		for _, n := range []*ourNode{n1, n2} {
			other := map[string]string{"node1": "node2", "node2": "node1"}[n.Name]
			if st := n.peer(other).State; st != "active" {
				t.Fatalf("%s: %s sees %s %q; log:\n%s", step, n.Name, other, st, testbed.Tail(n.Log(), 15))
			}
			if strings.Contains(n.Log(), "is dead") {
				t.Fatalf("%s: %s declared its peer dead; log:\n%s", step, n.Name, testbed.Tail(n.Log(), 15))
			}
		}
	}

	peerAddr := map[string]string{"node1": "198.18.0.2", "node2": "198.18.0.1"}
	reloaded(n1, false) // nothing changed
	for _, step := range []struct{ keys, name string }{
		{both1, "new key added on both"},
		{both2, "both sign with the new key"},
		{newOnly, "old key dropped"},
	} {
		for _, n := range []*ourNode{n1, n2} {
			n.WriteConf(fastHACF(peerAddr[n.Name]), step.keys)
			reloaded(n, true)
		}
		steady(step.name)
	}

	// keepalive cannot change without a restart: refused by name, and the
	// node keeps running with the old value.
	n1.WriteConf(ourHACF("200ms", "500ms", "2s", "ucast eth0 198.18.0.2"), newOnly)
	r := n1.Heartbeat("-r")
	if r.Code == 0 || !strings.Contains(r.Stderr, "keepalive") {
		t.Errorf("reload with a new keepalive = %v, want a failure naming keepalive", r)
	}
	steady("after the refused reload")
}
