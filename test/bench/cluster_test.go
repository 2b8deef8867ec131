package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/internal/testbed"
)

// Addresses of the two nodes (benchmarking range, TESTBED.md).
const (
	addr1 = "198.18.0.1"
	addr2 = "198.18.0.2"
)

// The benchmark timings (the brief's "fastest" settings).
const (
	keepalive = "10ms"
	deadtime  = "50ms"
	warntime  = "30ms"
	initdead  = "1"
	deadtimeD = 50 * time.Millisecond
)

// Bounds of the waits.
const (
	joinTimeout   = 15 * time.Second
	deathTimeout  = 5 * time.Second
	statusTimeout = 2 * time.Second
	statusPoll    = 5 * time.Millisecond
)

// bins are heartbeat, cl_status and hactl; HB_BIN names a directory with
// them already built (e.g. the bin/ that "make build" fills).
var bins = &testbed.BinSet{
	Env:   "HB_BIN",
	Names: []string{"heartbeat", "cl_status", "hactl"},
	Pkgs:  []string{"./cmd/heartbeat", "./cmd/cl_status", "./cmd/hactl"},
}

// binaries returns the directory holding the binaries.
func binaries(b *testing.B) string {
	b.Helper()
	return bins.Dir(b)
}

func TestMain(m *testing.M) {
	code := m.Run()
	bins.Remove()
	os.Exit(code)
}

// pair is a switch with hosts node1 (198.18.0.1) and node2 (198.18.0.2).
type pair struct {
	bed    *testbed.Bed
	h1, h2 *testbed.Host
}

func newPair(b *testing.B) *pair {
	b.Helper()
	bed := testbed.New(b)
	sw := bed.AddSwitch("lan")
	p := &pair{bed: bed, h1: bed.AddHost("node1"), h2: bed.AddHost("node2")}
	p.h1.Connect(sw, "eth0", addr1+"/24")
	p.h2.Connect(sw, "eth0", addr2+"/24")
	return p
}

// powerCycle powers both hosts off and on again (testbed.Host.PowerOff).
func (p *pair) powerCycle() {
	for _, h := range []*testbed.Host{p.h1, p.h2} {
		h.PowerOff()
		h.PowerOn()
	}
}

// ourHACF is the ha.cf of one of our nodes; the real Heartbeat gets the same
// timings (realHACF).
func ourHACF(peer string) string {
	return fmt.Sprintf(`# benchmark: fastest timings
keepalive %s
deadtime %s
warntime %s
initdead %s
udpport 694
ucast eth0 %s
node node1 node2
`, keepalive, deadtime, warntime, initdead, peer)
}

func authkeys(b *testing.B) string {
	return fmt.Sprintf("auth 1\n1 sha256 bench-%d-%s\n", os.Getpid(), b.Name())
}

// ourNode is one of our daemons in a host, logging to stderr (the Proc log).
type ourNode struct {
	name   string
	host   *testbed.Host
	dir    string
	bin    string
	hacf   string
	keys   string
	proc   *testbed.Proc
	runDir string
}

func (n *ourNode) confDir() string { return filepath.Join(n.dir, "etc") }

// newOurNode writes the node's configuration under the bed's directory.
func newOurNode(b *testing.B, bin string, h *testbed.Host, name, peer string) *ourNode {
	b.Helper()
	n := &ourNode{name: name, host: h, bin: bin, hacf: ourHACF(peer), keys: authkeys(b),
		dir: filepath.Join(h.Bed().Dir, h.Name, "hasuite-"+name)}
	n.runDir = filepath.Join(n.dir, "run")
	for _, d := range []string{n.confDir(), n.runDir, filepath.Join(n.dir, "state")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(n.confDir(), "ha.cf"), []byte(n.hacf), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.confDir(), "authkeys"), []byte(n.keys), 0o600); err != nil {
		b.Fatal(err)
	}
	return n
}

// start runs the daemon (again); its log goes to a new Proc log file.
func (n *ourNode) start(b *testing.B) {
	b.Helper()
	n.proc = n.host.Start(b, filepath.Join(n.bin, "heartbeat"), "-c", n.confDir(), "-n", n.name,
		"--run-dir", n.runDir, "--state-dir", filepath.Join(n.dir, "state"))
}

// status asks the daemon for its status over the control socket (what
// "hactl status --json" prints).
func (n *ourNode) status() (*api.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()
	return api.GetStatus(ctx, n.runDir)
}

// peerState is the state n reports for peer ("" if it cannot tell).
func (n *ourNode) peerState(peer string) string {
	st, err := n.status()
	if err != nil {
		return ""
	}
	for _, ns := range st.Core.Nodes {
		if ns.Name == peer {
			return ns.State
		}
	}
	return ""
}

// waitPeer polls until n reports peer in state want.
func (n *ourNode) waitPeer(b *testing.B, peer, want string, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		if last = n.peerState(peer); last == want {
			return
		}
		if n.proc.Exited() {
			b.Fatalf("%s exited (code %d); log:\n%s", n.name, n.proc.ExitCode(), tailLines(n.proc.Log(), 30))
		}
		time.Sleep(statusPoll)
	}
	b.Fatalf("%s: %s not %q within %v (last %q); log:\n%s", n.name, peer, want, timeout, last, tailLines(n.proc.Log(), 30))
}

// realHACF is the ha.cf of a real Heartbeat 3.0.6 node.
func realHACF(peer, keepalive, deadtime, warntime string) string {
	return fmt.Sprintf(`# benchmark: fastest timings Heartbeat accepts
keepalive %s
deadtime %s
warntime %s
initdead %s
udpport 694
ucast eth0 %s
auto_failback on
node node1 node2
crm no
`, keepalive, deadtime, warntime, "1", peer)
}

// realAuthkeys: sha1 is the strongest method Heartbeat 3.0.6 has.
const realAuthkeys = "auth 1\n1 sha1 bench-secret\n"

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// fileSize is the current size of a log (0 if absent).
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// lineWatch is a line that appeared in a log, with the time this process
// first read it.
type lineWatch struct {
	line string
	seen time.Time
}

// waitLine polls path every pollEvery from byte offset off until a complete
// line containing substr appears, and returns it with the time it was first
// read. It gives up after timeout.
func waitLine(path string, off int64, substr string, pollEvery, timeout time.Duration) (lineWatch, error) {
	deadline := time.Now().Add(timeout)
	f, err := os.Open(path)
	if err != nil {
		return lineWatch{}, err
	}
	defer f.Close()
	var pending []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := f.ReadAt(buf, off)
		now := time.Now()
		if n > 0 {
			off += int64(n)
			pending = append(pending, buf[:n]...)
			for {
				i := strings.IndexByte(string(pending), '\n')
				if i < 0 {
					break
				}
				line := string(pending[:i])
				pending = pending[i+1:]
				if strings.Contains(line, substr) {
					return lineWatch{line: line, seen: now}, nil
				}
			}
			if err == nil {
				continue // the buffer was full: read on at once
			}
		}
		if now.After(deadline) {
			return lineWatch{}, fmt.Errorf("no line with %q in %s within %v", substr, path, timeout)
		}
		time.Sleep(pollEvery)
	}
}

// countLines counts the lines of s that contain substr.
func countLines(s, substr string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}
