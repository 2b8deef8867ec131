package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// initScript is the SysV init script of the working tree (go test runs in
// the package's directory).
func initScript(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "etc", "init.d", "heartbeat"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// scriptNode is a node run by the init script instead of by the test: its
// environment gives the script the node's paths instead of the real
// defaults (/usr/sbin/heartbeat, /etc/ha.d, /run/heartbeat, ...).
type scriptNode struct {
	*e2ekit.Node
	script string
}

func (n *scriptNode) env(confDir string) []string {
	return []string{
		"HEARTBEAT=" + e2ekit.Bin("heartbeat"),
		"HA_DEFAULTS=" + filepath.Join(n.Dir, "no-such-defaults"),
		"HA_DIR=" + confDir,
		"HA_RUNDIR=" + n.RunDir,
		"HA_STATEDIR=" + n.StateDir,
		"HA_NODENAME=" + n.Name,
		"HA_CONSOLE_LOG=" + n.consoleLog(),
		"HA_START_TIMEOUT=15",
		"HA_STOP_TIMEOUT=30",
	}
}

func (n *scriptNode) consoleLog() string { return filepath.Join(n.Dir, "ha-console.log") }

// run runs "/bin/sh SCRIPT action" in the node's network namespace with
// the node's paths (confDir: its ha.cf directory).
func (n *scriptNode) run(confDir, action string) testbed.ExecResult {
	n.T.Helper()
	argv := append(append([]string{}, n.env(confDir)...), "/bin/sh", n.script, action)
	return n.Host.Exec(n.T, "env", argv...)
}

// pid is the pid in the node's pid file (0 without one).
func (n *scriptNode) pid() int {
	b, err := os.ReadFile(filepath.Join(n.RunDir, "heartbeat.pid"))
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return p
}

// recordingScript is a Heartbeat resource.d script that appends every
// start and stop to events (and keeps its state next to it), so that a
// test can tell whether a group was ever stopped or started.
func recordingScript(events string) string {
	return fmt.Sprintf(`#!/bin/sh
EVENTS='%s'
STATE="$EVENTS.state"
case "$1" in
start) echo start >> "$EVENTS"; touch "$STATE" ;;
stop) echo stop >> "$EVENTS"; rm -f "$STATE" ;;
status) if [ -e "$STATE" ]; then echo "running"; else echo "stopped"; fi ;;
*) exit 1 ;;
esac
exit 0
`, events)
}

// TestInitScriptStartsRestartsAndStopsWithoutMovingThePeersGroup runs
// etc/init.d/heartbeat on node2 against node1, a daemon the test runs
// itself that holds its group (haresources "node1 rec"; node2 prefers
// nothing). start brings node2 up (status 0), restart stops it gracefully
// and starts a new daemon, which node1 sees leave and come back, without
// its group ever being stopped or started again; stop ends it (status 3).
// Around that, the script's answers without a daemon: not configured (6),
// a configuration the daemon rejects (6), reload of a stopped daemon (7),
// a stale pid file (status 1), an unknown action (2).
func TestInitScriptStartsRestartsAndStopsWithoutMovingThePeersGroup(t *testing.T) {
	b := testbed.New(t)
	sw := b.AddSwitch("lan")
	h1, h2 := b.AddHost("node1"), b.AddHost("node2")
	h1.Connect(sw, "eth0", "198.18.0.1/24")
	h2.Connect(sw, "eth0", "198.18.0.2/24")

	n1 := &ourNode{e2ekit.NewNode(t, h1, "node1")}
	n2 := &scriptNode{Node: e2ekit.NewNode(t, h2, "node2"), script: initScript(t)}
	events1 := filepath.Join(n1.Dir, "rec.events")
	for _, n := range []*e2ekit.Node{n1.Node, n2.Node} {
		peer := map[string]string{"node1": "198.18.0.2", "node2": "198.18.0.1"}[n.Name]
		n.WriteConf(fastHACF(peer), sha256Authkeys)
		e2ekit.WriteFile(t, filepath.Join(n.ConfDir, "haresources"), "node1 rec\n", 0o644)
		e2ekit.WriteFile(t, filepath.Join(n.ConfDir, "resource.d", "rec"), recordingScript(filepath.Join(n.Dir, "rec.events")), 0o755)
	}

	// Without a daemon.
	empty := filepath.Join(b.Dir, "empty-conf")
	bad := filepath.Join(b.Dir, "bad-conf")
	e2ekit.WriteFile(t, filepath.Join(empty, "authkeys"), sha256Authkeys, 0o600)
	e2ekit.WriteFile(t, filepath.Join(bad, "ha.cf"), "keepalive 100ms\ndeadtime soon\nucast eth0 198.18.0.1\nnode node1 node2\n", 0o644)
	e2ekit.WriteFile(t, filepath.Join(bad, "authkeys"), sha256Authkeys, 0o600)
	pidFile := filepath.Join(n2.RunDir, "heartbeat.pid")
	before := []struct {
		name     string
		conf     string
		action   string
		stalePid bool
		wantCode int
		wantOut  string
	}{
		{"status, never started", n2.ConfDir, "status", false, 3, "heartbeat is stopped. No process"},
		{"stop, not running", n2.ConfDir, "stop", false, 0, "Stopping High-Availability services: Done."},
		{"reload, not running", n2.ConfDir, "reload", false, 7, "not running"},
		{"force-reload, not running", n2.ConfDir, "force-reload", false, 7, "not running"},
		{"start, no ha.cf", empty, "start", false, 6, "not configured"},
		{"start, ha.cf rejected", bad, "start", false, 6, "Configuration error, heartbeat not started."},
		{"status, stale pid file", n2.ConfDir, "status", true, 1, "pid file"},
		{"unknown action", n2.ConfDir, "bounce", false, 2, "Usage:"},
	}
	for _, c := range before {
		if c.stalePid {
			// A pid that no process has: the kernel's limit.
			e2ekit.WriteFile(t, pidFile, "4194304\n", 0o644)
		}
		r := n2.run(c.conf, c.action)
		if r.Code != c.wantCode || !strings.Contains(r.Stdout+r.Stderr, c.wantOut) {
			t.Errorf("%s: %s = %v, want exit %d and %q", c.name, c.action, r, c.wantCode, c.wantOut)
		}
		if c.stalePid {
			os.Remove(pidFile)
		}
		if p := n2.pid(); p != 0 {
			t.Fatalf("%s: a daemon (pid %d) is running after %q", c.name, p, c.action)
		}
	}

	// node1 alone takes its group after initdead.
	n1.Start()
	n1.WaitRsc("local", joinBound)

	// start, status, start again.
	steps := []struct {
		action   string
		wantCode int
		wantOut  string
	}{
		{"start", 0, "Starting High-Availability services: Done."},
		{"status", 0, "heartbeat OK [pid "},
		{"start", 0, "already running"},
		{"reload", 0, "Reloading High-Availability services: Done."},
	}
	for _, s := range steps {
		if r := n2.run(n2.ConfDir, s.action); r.Code != s.wantCode || !strings.Contains(r.Stdout, s.wantOut) {
			t.Fatalf("%s = %v, want exit %d and %q; console log:\n%s", s.action, r, s.wantCode, s.wantOut, fileText(n2.consoleLog())())
		}
	}
	first := n2.pid()
	n1.WaitNodeStatus("node2", "active", joinBound)
	n2.WaitNodeStatus("node1", "active", joinBound)
	n2.WaitRsc("none", joinBound)
	n1.WaitRsc("local", joinBound)
	if got := fileText(events1)(); got != "start\n" {
		t.Fatalf("node1's group events before the restart = %q, want one start", got)
	}
	n1Log := len(n1.Log())

	// restart: a graceful stop (node1 hears shutdone), then a new daemon.
	r := n2.run(n2.ConfDir, "restart")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Stopping High-Availability services: Done.") ||
		!strings.Contains(r.Stdout, "Starting High-Availability services: Done.") {
		t.Fatalf("restart = %v, want exit 0, a stop and a start; console log:\n%s", r, fileText(n2.consoleLog())())
	}
	second := n2.pid()
	if second == 0 || second == first {
		t.Errorf("restart: pid %d before, %d after, want a new daemon", first, second)
	}
	if !testbed.ProcessGone(first) {
		t.Errorf("restart: the first daemon (pid %d) still runs", first)
	}
	n1.WaitNodeStatus("node2", "active", joinBound)
	n2.WaitNodeStatus("node1", "active", joinBound)
	n2.WaitRsc("none", joinBound)
	n1.WaitRsc("local", joinBound)
	// Anything that would move the group has had its chance: node2 is
	// stable. Give a wrong move a few deadtimes more to show.
	time.Sleep(4 * fastDeadtime)
	since := e2ekit.LogSince(n1.Log(), n1Log)
	if got := fileText(events1)(); got != "start\n" {
		t.Errorf("node1's group was stopped or started during node2's restart: events %q; node1's log since:\n%s", got, since)
	}
	if rsc := n1.Rsc(); rsc != "local" {
		t.Errorf("node1 holds %q after node2's restart, want local", rsc)
	}
	for _, want := range []string{"node node2 announced a graceful stop (shutdone)", "heartbeat restart on node node2"} {
		if !strings.Contains(since, want) {
			t.Errorf("node1's log during node2's restart lacks %q:\n%s", want, since)
		}
	}
	for _, move := range []string{"group rec stopping", "group rec starting"} {
		if strings.Contains(since, move) {
			t.Errorf("node1's log shows its group moving (%q) during node2's restart:\n%s", move, since)
		}
	}

	// stop: heartbeat -k, which waits; then status 3.
	if r := n2.run(n2.ConfDir, "stop"); r.Code != 0 || !strings.Contains(r.Stdout, "Stopping High-Availability services: Done.") {
		t.Fatalf("stop = %v", r)
	}
	if !testbed.ProcessGone(second) {
		t.Errorf("stop returned but the daemon (pid %d) still runs", second)
	}
	if r := n2.run(n2.ConfDir, "status"); r.Code != 3 || !strings.Contains(r.Stdout, "stopped") {
		t.Errorf("status after stop = %v, want exit 3", r)
	}
	n1.WaitNodeStatus("node2", "dead", joinBound)
	if got := fileText(events1)(); got != "start\n" {
		t.Errorf("node1's group events after node2's stop = %q, want one start", got)
	}
}
