package e2eres

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// keepalivedFixture is the unicast MASTER/BACKUP pair of hactl import's
// tests: node1 (198.18.0.1, MASTER, priority 200) and node2 (198.18.0.2,
// BACKUP, 100) share 198.18.0.100/24 on eth0, with unicast VRRP, notify
// scripts and a killall -0 check.
var keepalivedFixture = filepath.Join("..", "..", "heartbeat", "migrate", "testdata", "keepalived", "unicast")

// failover powers node1 off and returns how long node2 took to have the
// VIP, from the moment the power-off began. The link goes first, as when
// the power goes: keepalived's VRRP process gets SIGTERM from the kernel
// when its parent is killed (PR_SET_PDEATHSIG) and would still send its
// priority 0 advert, a graceful hand-over rather than a power loss.
func failover(t *testing.T, c *cluster) time.Duration {
	t.Helper()
	at := time.Now()
	c.h1.LinkDown("eth0")
	c.h1.PowerOff()
	e2ekit.WaitAddr(t, c.h2, vip1, true, moveBound)
	return time.Since(at)
}

// runKeepalivedPair runs the real keepalived with the fixture's files on
// a cluster of its own: the reference behaviour.
func runKeepalivedPair(t *testing.T) (start, moved time.Duration) {
	t.Helper()
	if _, err := exec.LookPath("keepalived"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("keepalived is missing (scripts/install-test-deps.sh installs it)")
		}
		t.Skip("keepalived is missing: install it (scripts/install-test-deps.sh) to compare with the real pair")
	}
	c := newCluster(t)
	begin := time.Now()
	for _, h := range []*testbed.Host{c.h1, c.h2} {
		d := filepath.Join(c.bed.Dir, h.Name, "keepalived")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		conf, err := filepath.Abs(filepath.Join(keepalivedFixture, h.Name+".conf"))
		if err != nil {
			t.Fatal(err)
		}
		h.Start(t, "keepalived", "--dont-fork", "--log-console", "--no-syslog", "--vrrp", "--use-file", conf,
			"--pid", filepath.Join(d, "keepalived.pid"), "--vrrp_pid", filepath.Join(d, "vrrp.pid"))
	}
	e2ekit.WaitAddr(t, c.h1, vip1, true, settleBound)
	start = time.Since(begin)
	// Steady state: node2 has heard node1's adverts for a master down
	// interval (its own start-up timer has run out) and stays BACKUP.
	if after, ok := holdsFor(5*time.Second, 50*time.Millisecond, func() bool {
		return e2ekit.HasAddr(t, c.h1, vip1) && !e2ekit.HasAddr(t, c.h2, vip1)
	}); !ok {
		t.Fatalf("keepalived: %s is not on node1 (MASTER) alone %v after it got it", vip1, after)
	}
	moved = failover(t, c)
	return start, moved
}

// TestKeepalivedImportFailsOverLikeKeepalived: hactl import keepalived
// turns the pair's two keepalived.conf into one configuration; both nodes
// run it, the VIP is on the MASTER's node (node1), and when node1 is
// powered off it moves to node2, as it does with the real keepalived on the
// same files (run first, on a network of its own): within keepalived's
// master down interval (the imported deadtime, 3 x advert_int + skew) plus
// the takeover.
func TestKeepalivedImportFailsOverLikeKeepalived(t *testing.T) {
	t.Parallel()
	kaStart, kaMoved := runKeepalivedPair(t)
	t.Logf("keepalived: node1 has %s %v after start; after node1's power-off node2 has it %v later",
		vip1, kaStart.Round(time.Millisecond), kaMoved.Round(time.Millisecond))

	c := newCluster(t)
	out := filepath.Join(c.bed.Dir, "imported")
	r := testbed.RunCmd(e2ekit.CmdTimeout, nil, e2ekit.Bin("hactl"), "import", "keepalived", "-o", out,
		filepath.Join(keepalivedFixture, "node1.conf"), filepath.Join(keepalivedFixture, "node2.conf"))
	if r.Code != 0 {
		t.Fatalf("hactl import keepalived: %v", r)
	}
	t.Logf("hactl import keepalived:\n%s", r.Stdout)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	spec := func(name string) nodeSpec {
		return nodeSpec{name: name, hacf: read("ha.cf"), authkeys: read("authkeys"), haresourcesTOML: read("haresources.toml")}
	}
	n1, n2 := newNode(t, c.h1, spec("node1")), newNode(t, c.h2, spec("node2"))
	// The imported ha.cf names the fixture's notify scripts, which the
	// daemon checks at start: each node's /etc/keepalived has them, and they
	// log their arguments. The check (killall -0 haproxy) fails on both
	// nodes alike: weight 2 is never added, nothing moves for it.
	hookLog := map[*ourNode]string{}
	for _, n := range []*ourNode{n1, n2} {
		d := filepath.Join(n.Dir, "etc-keepalived")
		for _, name := range []string{"master.sh", "backup.sh", "fault.sh", "notify.sh"} {
			e2ekit.WriteFile(t, filepath.Join(d, name), "#!/bin/sh\necho \"$0 $*\" >> /etc/keepalived/hooks.log\n", 0o755)
		}
		n.Sandbox.Binds = append(n.Sandbox.Binds, testbed.Bind{Source: d, Target: "/etc/keepalived"})
		hookLog[n] = filepath.Join(d, "hooks.log")
	}
	begin := time.Now()
	n1.Start()
	n2.Start()
	n1.WaitRsc("local", settleBound)
	n2.WaitRsc("none", settleBound)
	t.Logf("ours: node1 (the MASTER) holds the VIP %v after both daemons were started", time.Since(begin).Round(time.Millisecond))
	if !e2ekit.HasAddr(t, c.h1, vip1) {
		t.Fatalf("node1 holds the group but has no %s", vip1)
	}
	if e2ekit.HasAddr(t, c.h2, vip1) {
		t.Fatalf("node2 has %s while node1 holds the group", vip1)
	}
	touch(t, c.client, vip1)
	e2ekit.WaitNeigh(t, c.client, vip1, e2ekit.MACOf(t, c.h1), moveBound)
	// master.sh, then notify.sh with keepalived's generic arguments
	// (GROUP <group> MASTER <score>), after the group became active.
	hooksRan := func() (string, bool) {
		b, _ := os.ReadFile(hookLog[n1])
		return string(b), regexp.MustCompile(`(?m)^/etc/keepalived/master.sh *$`).MatchString(string(b)) &&
			regexp.MustCompile(`/etc/keepalived/notify.sh GROUP \S*198\.18\.0\.100\S* MASTER -?\d+\n`).MatchString(string(b))
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, ok := hooksRan(); ok {
			break
		}
		if time.Now().After(deadline) {
			got, _ := hooksRan()
			t.Errorf("node1's notify scripts ran as %q, want master.sh and notify.sh GROUP <group> MASTER <score>", got)
			break
		}
	}

	moved := failover(t, c)
	n2.WaitRsc("foreign", moveBound)
	neigh := e2ekit.WaitNeigh(t, c.client, vip1, e2ekit.MACOf(t, c.h2), moveBound)
	t.Logf("ours: after node1's power-off node2 has %s %v later (keepalived: %v); the client's neighbour entry follows %v after that",
		vip1, moved.Round(time.Millisecond), kaMoved.Round(time.Millisecond), neigh.Round(time.Millisecond))
	// Both wait the same master down interval (3.61 s here) after the last
	// advert or heartbeat heard, which came up to a keepalive (1 s) before
	// the power-off; ours then starts the group. Allow a second and a half
	// over the larger of keepalived's time and the interval.
	if bound := max(kaMoved, 3610*time.Millisecond) + 1500*time.Millisecond; moved > bound {
		t.Errorf("the VIP took %v to reach node2, keepalived %v: want at most %v", moved, kaMoved, bound)
	}
}
