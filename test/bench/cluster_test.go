package bench

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
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
	joinTimeout  = 15 * time.Second
	deathTimeout = 5 * time.Second
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

// ours makes one of our daemons on each host (e2ekit.Node), node1 and
// node2, each with the other as its peer and the benchmark's
// configuration; they log to stderr (their Proc log). Launch runs one
// without waiting; WaitPeer waits for its peer over the control socket.
func (p *pair) ours(b *testing.B, bin string) (n1, n2 *e2ekit.Node) {
	b.Helper()
	return newOurNode(b, bin, p.h1, "node1", addr2), newOurNode(b, bin, p.h2, "node2", addr1)
}

func newOurNode(b *testing.B, bin string, h *testbed.Host, name, peer string) *e2ekit.Node {
	b.Helper()
	n := e2ekit.NewNode(b, h, name)
	n.BinDir = bin
	n.WriteConf(ourHACF(peer), authkeys(b))
	return n
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
