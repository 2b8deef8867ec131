package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
)

// stallFor stops n's daemon (SIGSTOP: the process gets no CPU at all, as
// on a machine that does not schedule it) for d, then lets it go on. A
// failing test never leaves it stopped.
func stallFor(t *testing.T, n *ourNode, d time.Duration) time.Time {
	t.Helper()
	t.Cleanup(func() { _ = n.Proc.Signal(syscall.SIGCONT) })
	if err := n.Proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP %s: %v", n.Name, err)
	}
	time.Sleep(d)
	if err := n.Proc.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("SIGCONT %s: %v", n.Name, err)
	}
	return time.Now()
}

var lateWakeRe = regexp.MustCompile(`loop woke (\d+)ms late; judged deadlines after reading all links.*datagrams_read[=":]+ ?(\d+)`)

// TestStoppedDaemonDoesNotDeclareItsPeerDeadOnResume stops node1 for three
// deadtimes while node2 keeps sending. node2's heartbeats wait in node1's
// socket, stamped by the kernel on arrival; on resume node1 reads them all
// before it judges node2's deadline, so node2, which was never silent, is
// not declared dead. (node2 did see node1 silent, and may declare it dead:
// that is right.) The late wake-up is logged.
func TestStoppedDaemonDoesNotDeclareItsPeerDeadOnResume(t *testing.T) {
	_, n1, n2 := pair(t, fastHACF)
	n1.waitPeerDeadtime("node2", fastDeadtime)
	n2.waitPeerDeadtime("node1", fastDeadtime)

	const stall = 3 * fastDeadtime
	resumed := stallFor(t, n1, stall)
	// A false death would come on node1's first wake-up: the deadline
	// passed long before. Watch it for a few more deadtimes.
	for time.Since(resumed) < 4*fastDeadtime {
		if r := n1.ClStatus("nodestatus", "node2"); r.Stdout != "active\n" {
			t.Fatalf("node1 after its stall: nodestatus node2 = %v; log:\n%s", r, testbed.Tail(n1.Log(), 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
	log1 := n1.Log()
	if strings.Contains(log1, "node node2 is dead") {
		t.Fatalf("node1 declared node2 dead after its own stall:\n%s", testbed.Tail(log1, 30))
	}
	if strings.Contains(log1, "returning after partition") {
		t.Errorf("node1 saw node2 return after a partition that never was:\n%s", testbed.Tail(log1, 30))
	}
	m := lateWakeRe.FindStringSubmatch(log1)
	if m == nil {
		t.Fatalf("node1 did not log its late wake-up; log:\n%s", testbed.Tail(log1, 30))
	}
	late, _ := strconv.Atoi(m[1])
	read, _ := strconv.Atoi(m[2])
	t.Logf("node1: %q", m[0])
	if time.Duration(late)*time.Millisecond < stall-2*fastKeepalive {
		t.Errorf("node1 logged a late wake-up of %dms for a stop of %v", late, stall)
	}
	// node2 sent one status per keepalive all along: they waited in the
	// socket and were read on the first wake-up.
	if want := int(stall/fastKeepalive) / 2; read < want {
		t.Errorf("node1 read %d datagrams on resume, want at least %d of node2's heartbeats", read, want)
	}
	if strings.Contains(n2.Log(), "node node1 is dead") {
		t.Logf("node2 declared node1 dead during node1's stall (as designed: node1 was silent)")
	}
	n2.WaitNodeStatus("node1", "active", joinBound)
}

// TestPeerKilledDuringOurStallIsDeclaredDeadOnResume: node2 is killed while
// node1 is stopped. On resume node1 reads what node2 sent before it died
// (each with its arrival time), judges the deadline after that, and
// declares node2 dead one keepalive after its wake-up (the grace a stall
// gives, see TestPauseOfBothNodesIsNoDeath), not a deadtime later: the
// silence since node2's last arrival is far beyond deadtime.
func TestPeerKilledDuringOurStallIsDeclaredDeadOnResume(t *testing.T) {
	_, n1, n2 := pair(t, fastHACF)
	n1.waitPeerDeadtime("node2", fastDeadtime)

	t.Cleanup(func() { _ = n1.Proc.Signal(syscall.SIGCONT) })
	if err := n1.Proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP node1: %v", err)
	}
	time.Sleep(2 * fastKeepalive) // node2's heartbeats queue in node1's socket
	n2.Kill()
	time.Sleep(3*fastDeadtime - 2*fastKeepalive)
	if err := n1.Proc.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("SIGCONT node1: %v", err)
	}
	resumed := time.Now()
	took := n1.measureUntil(resumed, 5*time.Second, "dead", "nodestatus", "node2")
	t.Logf("node1 declared node2 dead %v after resuming", took)
	// Its silence had passed deadtime long before the resume: it is judged
	// a keepalive after the wake-up (cl_status itself takes a few ms; the
	// machine is shared). Waiting another deadtime would mean the queued
	// heartbeats were taken as fresh.
	if took > fastDeadtime {
		t.Errorf("node1 took %v after resuming to declare node2 dead; its silence was already %v", took, 3*fastDeadtime-2*fastKeepalive)
	}
	log1 := n1.Log()
	i := strings.Index(log1, "node node2 is dead")
	if i < 0 {
		t.Fatalf("no death logged:\n%s", testbed.Tail(log1, 30))
	}
	if line := log1[i:min(len(log1), i+200)]; !strings.Contains(line, "no heartbeat") {
		t.Errorf("death not by timeout: %q", line)
	}
}

// TestPauseOfBothNodesIsNoDeath stops both daemons at once for three
// deadtimes, as a paused machine (or virtual machine) does: neither sends,
// nothing waits in the sockets. On resume each one's silence is the
// other's stall: neither may declare the other dead (a split brain and a
// failover for nothing). Each gets a keepalive after its late wake-up to
// hear the other.
func TestPauseOfBothNodesIsNoDeath(t *testing.T) {
	_, n1, n2 := pair(t, fastHACF)
	n1.waitPeerDeadtime("node2", fastDeadtime)
	n2.waitPeerDeadtime("node1", fastDeadtime)

	nodes := []*ourNode{n1, n2}
	for _, n := range nodes {
		t.Cleanup(func() { _ = n.Proc.Signal(syscall.SIGCONT) })
	}
	for _, n := range nodes {
		if err := n.Proc.Signal(syscall.SIGSTOP); err != nil {
			t.Fatalf("SIGSTOP %s: %v", n.Name, err)
		}
	}
	time.Sleep(3 * fastDeadtime)
	for _, n := range nodes {
		if err := n.Proc.Signal(syscall.SIGCONT); err != nil {
			t.Fatalf("SIGCONT %s: %v", n.Name, err)
		}
	}
	time.Sleep(4 * fastDeadtime)
	for _, n := range nodes {
		log := n.Log()
		if strings.Contains(log, " is dead") || strings.Contains(log, "returning after partition") {
			t.Errorf("%s took the pause of both nodes for its peer's death:\n%s", n.Name, testbed.Tail(log, 30))
		}
		if !lateWakeRe.MatchString(log) {
			t.Errorf("%s did not log its late wake-up:\n%s", n.Name, testbed.Tail(log, 30))
		}
	}
	if r := n1.ClStatus("nodestatus", "node2"); r.Stdout != "active\n" {
		t.Errorf("node1 after the pause: nodestatus node2 = %v", r)
	}
	if r := n2.ClStatus("nodestatus", "node1"); r.Stdout != "active\n" {
		t.Errorf("node2 after the pause: nodestatus node1 = %v", r)
	}
}
