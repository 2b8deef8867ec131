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

// TestDaemonRestartedAfterSIGKILLRemovesLeftoverVIPAndGetsItsServiceBack:
// node1's heartbeat is SIGKILLed (httpd and the VIP stay on node1), node2
// takes over; then node1's daemon is simply started again, without a
// power cycle. It must remove the VIP left by the crash before anything
// else (so the address is on node2 only), join, and get its group back
// (auto_failback on) by starting httpd, which is still running: an LSB
// start of a running service succeeds. The client ends on node1's page.
func TestDaemonRestartedAfterSIGKILLRemovesLeftoverVIPAndGetsItsServiceBack(t *testing.T) {
	t.Parallel()
	s := startSeed(t, "on")
	s.n1.crash()
	s.n2.WaitRsc("foreign", moveBound)
	e2ekit.WaitAddr(t, s.h2, vip1, true, moveBound)
	if !e2ekit.HasAddr(t, s.h1, vip1) || !s.n1.httpdRunning() {
		t.Fatalf("after a SIGKILL of its daemon node1 should still have the VIP and httpd")
	}
	at := time.Now()
	s.n1.Start()
	s.expectOn("node1's daemon restarted after SIGKILL (auto_failback on)", s.n1, at)
	if !strings.Contains(s.n1.Log(), "removed a virtual IP left behind") {
		t.Errorf("node1's log does not mention removing the leftover VIP:\n%s", testbed.Tail(s.n1.Log(), 40))
	}
	if !s.n1.httpdRunning() {
		t.Errorf("node1's httpd is not running after it got the group back")
	}
}

// TestResourceDScriptAlreadyRunningIsNotStartedAgain: Heartbeat acquires
// a group resource by resource, skipping any whose status already says
// running (ResourceManager acquireresourcegroup, reference §4.3). A
// resource.d script whose start refuses to run twice ("already running",
// exit 1) therefore works with Heartbeat when the service is already up
// on the node (started by hand, or left by a crashed daemon): the group
// must run on node1, not fail over.
func TestResourceDScriptAlreadyRunningIsNotStartedAgain(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	const haresources = "node1 198.18.0.100/24/eth0 app\n"
	script := `#!/bin/sh
STATE=/srv/app.state
case "$1" in
start) if [ -e "$STATE" ]; then echo "app: already running" >&2; exit 1; fi; touch "$STATE" ;;
stop) rm -f "$STATE" ;;
status) if [ -e "$STATE" ]; then echo "app is running"; else echo "app is stopped"; fi ;;
esac
exit 0
`
	spec := func(name, peer string) nodeSpec {
		return nodeSpec{name: name, hacf: ourHACF(peer, "on"), authkeys: sha256Authkeys, haresources: haresources,
			resourceD: map[string]string{"app": script}}
	}
	n1, n2 := newNode(t, c.h1, spec("node1", node2Addr)), newNode(t, c.h2, spec("node2", node1Addr))
	// The service already runs on node1 when heartbeat starts.
	e2ekit.WriteFile(t, filepath.Join(n1.srvDir, "app.state"), "", 0o644)
	n1.Start()
	n2.Start()
	var r1, r2 string
	testbed.WaitFor(settleBound, e2ekit.SlowPoll, func() bool {
		r1, r2 = n1.Rsc(), n2.Rsc()
		return (r1 == "local" && r2 == "none") || (r1 == "none" && r2 == "foreign")
	})
	if r1 != "local" || r2 != "none" {
		t.Errorf("app already running on node1: rscstatus node1 %q node2 %q, want local and none (Heartbeat skips the start "+
			"of a resource whose status says running); node1's log:\n%s", r1, r2, testbed.Tail(n1.Log(), 25))
	}
	if _, err := os.Stat(filepath.Join(n1.srvDir, "app.state")); err != nil {
		t.Logf("node1's app state: %v", err)
	}
}
