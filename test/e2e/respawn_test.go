package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// respawnClient is a client program for the respawn tests: each run
// appends "pid user HA_DIR HA_STATE" to $HA_STATE/<name>.runs; it exits
// 100 when $HA_STATE/<name>.exit100 exists, else runs until SIGTERM, when
// it appends "<name>" to $HA_STATE/order and exits.
func respawnClient(name string) string {
	return fmt.Sprintf(`#!/bin/sh
echo "$$ $(id -un) $HA_DIR $HA_STATE" >> "$HA_STATE/%[1]s.runs"
[ -e "$HA_STATE/%[1]s.exit100" ] && exit 100
trap 'echo %[1]s >> "$HA_STATE/order"; exit 0' TERM
while :; do sleep 0.1; done
`, name)
}

// runsOf reads a client's runs: one line per start.
func runsOf(t *testing.T, state, name string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, name+".runs"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		out = append(out, strings.Fields(l))
	}
	return out
}

func waitRuns(t *testing.T, n *ourNode, state, name string, want int) [][]string {
	t.Helper()
	var runs [][]string
	if _, ok := testbed.WaitFor(joinBound, e2ekit.SlowPoll, func() bool {
		runs = runsOf(t, state, name)
		return len(runs) >= want
	}); !ok {
		t.Fatalf("client %s: %d runs, want %d; log:\n%s", name, len(runs), want, testbed.Tail(n.Log(), 30))
	}
	return runs
}

// TestRespawnedClients: three respawn lines on node1, run as hacluster
// with the HA_ environment and the env lines; a client killed is
// restarted, one that exits 100 is not, and at heartbeat -k the running
// ones are stopped with SIGTERM in reverse order.
func TestRespawnedClients(t *testing.T) {
	b := testbed.New(t)
	sw := b.AddSwitch("lan")
	h1, h2 := b.AddHost("node1"), b.AddHost("node2")
	h1.Connect(sw, "eth0", "198.18.0.1/24")
	h2.Connect(sw, "eth0", "198.18.0.2/24")

	n1 := &ourNode{e2ekit.NewNode(t, h1, "node1")}
	state := filepath.Join(n1.Dir, "clients")
	if err := os.MkdirAll(state, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(state, 0o777); err != nil { // the clients run as hacluster
		t.Fatal(err)
	}
	var lines []string
	for _, c := range []string{"a", "b", "c"} {
		p := filepath.Join(n1.Dir, "client-"+c)
		e2ekit.WriteFile(t, p, respawnClient(c), 0o755)
		lines = append(lines, "respawn hacluster "+p)
	}
	hacf := fastHACF("198.18.0.2") + strings.Join(lines, "\n") + "\nenv STATE=" + state + "\n"
	n1.WriteConf(hacf, sha256Authkeys)
	if r := n1.Heartbeat("-t", "-c", n1.ConfDir, "-n", "node1"); r.Code != 0 || !strings.Contains(r.Stdout, "respawn hacluster "+filepath.Join(n1.Dir, "client-a")) {
		t.Fatalf("heartbeat -t: %v", r)
	}
	n1.Start()
	n2 := startOurs(t, h2, "node2", fastHACF("198.18.0.1"), sha256Authkeys)
	n1.WaitNodeStatus("node2", "active", joinBound)
	_ = n2

	first := waitRuns(t, n1, state, "a", 1)[0]
	if want := []string{first[0], "hacluster", n1.ConfDir, state}; strings.Join(first, " ") != strings.Join(want, " ") {
		t.Errorf("client a's first run: %q, want %q (pid, user, HA_DIR, HA_STATE)", first, want)
	}
	waitRuns(t, n1, state, "b", 1)
	waitRuns(t, n1, state, "c", 1)

	// Killed: restarted.
	pid, _ := strconv.Atoi(first[0])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	again := waitRuns(t, n1, state, "a", 2)
	if again[1][0] == first[0] {
		t.Errorf("client a restarted with the same pid %s", first[0])
	}
	if !strings.Contains(n1.Log(), `Respawning client \"`) && !strings.Contains(n1.Log(), `Respawning client "`) {
		t.Errorf("no \"Respawning client\" in the log:\n%s", testbed.Tail(n1.Log(), 20))
	}

	// Exit 100: not restarted.
	e2ekit.WriteFile(t, filepath.Join(state, "b.exit100"), "", 0o644)
	bpid, _ := strconv.Atoi(runsOf(t, state, "b")[0][0])
	if err := syscall.Kill(bpid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitRuns(t, n1, state, "b", 2) // the restart after the kill, which exits 100
	if _, ok := testbed.WaitFor(joinBound, e2ekit.SlowPoll, func() bool {
		return strings.Contains(n1.Log(), "exited with return code 100: not respawned")
	}); !ok {
		t.Fatalf("no exit 100 in the log:\n%s", testbed.Tail(n1.Log(), 20))
	}
	time.Sleep(time.Second)
	if runs := runsOf(t, state, "b"); len(runs) != 2 {
		t.Errorf("client b ran %d times after exiting 100, want 2", len(runs))
	}

	// Shutdown: c then a (b is not running), by SIGTERM.
	apid, _ := strconv.Atoi(again[1][0])
	cpid, _ := strconv.Atoi(runsOf(t, state, "c")[0][0])
	if r := n1.Heartbeat("-k"); r.Code != 0 {
		t.Fatalf("heartbeat -k: %v", r)
	}
	order, err := os.ReadFile(filepath.Join(state, "order"))
	if err != nil {
		t.Fatalf("no client was stopped by SIGTERM: %v; log:\n%s", err, testbed.Tail(n1.Log(), 20))
	}
	if got := strings.Fields(string(order)); strings.Join(got, " ") != "c a" {
		t.Errorf("clients stopped in order %q, want c a", got)
	}
	for _, p := range []int{apid, cpid} {
		if !testbed.ProcessGone(p) {
			t.Errorf("client pid %d still runs after heartbeat -k", p)
		}
	}
}

// TestRespawnIpfailRefused: until the built-in ipfail exists, a respawn
// of ipfail is an error of heartbeat -t that names the reason.
func TestRespawnIpfailRefused(t *testing.T) {
	b := testbed.New(t)
	h := b.AddHost("node1")
	n := e2ekit.NewNode(t, h, "node1")
	n.WriteConf(fastHACF("198.18.0.2")+"ping 198.18.0.254\nrespawn hacluster /usr/lib/heartbeat/ipfail\n", sha256Authkeys)
	r := n.Heartbeat("-t", "-c", n.ConfDir, "-n", "node1")
	if r.Code == 0 || !strings.Contains(r.Stderr, "ha.cf:") || !strings.Contains(r.Stderr, "ipfail is not supported by this version") {
		t.Fatalf("heartbeat -t with a respawn of ipfail: %v", r)
	}
}

// TestFailfastFencesThisNode: a failfast program killed by a signal makes
// the node fence itself (here self_fence, a script that leaves a mark).
func TestFailfastFencesThisNode(t *testing.T) {
	b := testbed.New(t)
	sw := b.AddSwitch("lan")
	h1 := b.AddHost("node1")
	h1.Connect(sw, "eth0", "198.18.0.1/24")
	n1 := &ourNode{e2ekit.NewNode(t, h1, "node1")}
	state := filepath.Join(n1.Dir, "clients")
	if err := os.MkdirAll(state, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(state, 0o777); err != nil {
		t.Fatal(err)
	}
	client := filepath.Join(n1.Dir, "client-f")
	e2ekit.WriteFile(t, client, respawnClient("f"), 0o755)
	fence := filepath.Join(n1.Dir, "self-fence")
	mark := filepath.Join(state, "fenced")
	e2ekit.WriteFile(t, fence, "#!/bin/sh\necho fenced > "+mark+"\n", 0o755)
	n1.WriteConf(fastHACF("198.18.0.2")+"failfast hacluster "+client+"\nself_fence "+fence+"\nenv STATE="+state+"\n", sha256Authkeys)
	n1.Start()
	run := waitRuns(t, n1, state, "f", 1)[0]
	pid, _ := strconv.Atoi(run[0])
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("fenced before the program died")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if _, ok := testbed.WaitFor(joinBound, e2ekit.SlowPoll, func() bool { _, err := os.Stat(mark); return err == nil }); !ok {
		t.Fatalf("self_fence did not run after the failfast program was killed; log:\n%s", testbed.Tail(n1.Log(), 20))
	}
	if !strings.Contains(n1.Log(), "died of signal SIGKILL: fencing this node") {
		t.Errorf("log:\n%s", testbed.Tail(n1.Log(), 20))
	}
	time.Sleep(300 * time.Millisecond)
	if runs := runsOf(t, state, "f"); len(runs) != 1 {
		t.Errorf("the failfast program was restarted (%d runs)", len(runs))
	}
}
