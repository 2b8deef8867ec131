package e2eres

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// Bounds (e2ekit's bound one command and a start). They only decide how
// long a broken build takes to fail; the measured figures are logged.
const (
	// moveTimeout bounds hb_standby/hb_takeover (they wait for the move).
	moveTimeout = 60 * time.Second
	// settleBound bounds our two daemons joining and placing their groups
	// (initdead 2 s, then the starting/resource exchange and the starts).
	settleBound = 20 * time.Second
	// moveBound bounds a group moving between our nodes after a fault:
	// deadtime 500 ms plus starting the group.
	moveBound = 15 * time.Second
	// clientEvery paces the client's requests; clientTimeout bounds each.
	clientEvery   = 10 * time.Millisecond
	clientTimeout = 100 * time.Millisecond
)

// The addresses of the test network (shared/TESTBED.md).
const (
	node1Addr  = "198.18.0.1"
	node2Addr  = "198.18.0.2"
	clientAddr = "198.18.0.10"
	vip1       = "198.18.0.100"
	vip2       = "198.18.0.200"
)

const sha256Authkeys = "auth 1\n1 sha256 e2eres-Secret-Key\n"

// ourHACF is the ha.cf of our node talking to peer: keepalive 100ms,
// deadtime 500ms, and the given auto_failback.
func ourHACF(peer, autoFailback string) string {
	return fmt.Sprintf("# e2eres\nkeepalive 100ms\nwarntime 300ms\ndeadtime 500ms\ninitdead 2\nudpport 694\n"+
		"ucast eth0 %s\nauto_failback %s\nnode node1 node2\n", peer, autoFailback)
}

// cluster is a switch with a client (198.18.0.10), node1 (198.18.0.1) and
// node2 (198.18.0.2), all on eth0.
type cluster struct {
	t      *testing.T
	bed    *testbed.Bed
	client *testbed.Host
	h1, h2 *testbed.Host
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	b := testbed.New(t)
	sw := b.AddSwitch("lan")
	c := &cluster{t: t, bed: b, client: b.AddHost("client"), h1: b.AddHost("node1"), h2: b.AddHost("node2")}
	c.client.Connect(sw, "eth0", clientAddr+"/24")
	c.h1.Connect(sw, "eth0", node1Addr+"/24")
	c.h2.Connect(sw, "eth0", node2Addr+"/24")
	return c
}

// holdsFor polls cond for the whole window and reports the first time it
// did not hold (zero and true if it always held).
func holdsFor(window, interval time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < window {
		if !cond() {
			return time.Since(start), false
		}
		time.Sleep(interval)
	}
	return 0, true
}

// nodeSpec is one of our nodes' files.
type nodeSpec struct {
	name, hacf, authkeys string
	// haresources is written as haresources, haresourcesTOML as
	// haresources.toml (empty: not written).
	haresources, haresourcesTOML string
	// resourceD are Heartbeat scripts in <conf>/resource.d (mode 0755, or
	// the mode in modes).
	resourceD map[string]string
	modes     map[string]os.FileMode
	// initD are LSB scripts: the node's /etc/init.d.
	initD map[string]string
	// etcHA are files of the node's /etc/ha.d (e.g. conf/OCF/Dummy/inst).
	etcHA map[string]string
}

// ourNode is one of our daemons (e2ekit.Node), sandboxed with its own
// /etc/init.d, /etc/ha.d and /srv (kept across restarts, like a disk).
type ourNode struct {
	*e2ekit.Node
	initDir, srvDir, etcHA string
}

// newNode writes the node's files in the bed's directory; Start runs it.
func newNode(t *testing.T, h *testbed.Host, s nodeSpec) *ourNode {
	t.Helper()
	n := &ourNode{Node: e2ekit.NewNode(t, h, s.name)}
	n.initDir, n.srvDir, n.etcHA = filepath.Join(n.Dir, "init.d"), filepath.Join(n.Dir, "srv"), filepath.Join(n.Dir, "etc-ha.d")
	for _, d := range []string{n.initDir, n.srvDir, n.etcHA, filepath.Join(n.ConfDir, "resource.d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Every start runs in a fresh sandbox.
	n.Sandbox = &testbed.Sandbox{Hostname: n.Name, Binds: []testbed.Bind{
		{Source: n.initDir, Target: "/etc/init.d"},
		{Source: n.etcHA, Target: "/etc/ha.d"},
		{Source: n.srvDir, Target: "/srv"},
	}}
	// heartbeat -k returns once the daemon has given up its groups.
	n.HeartbeatTimeout = e2ekit.CmdTimeout + 60*time.Second
	n.WriteConf(s.hacf, s.authkeys)
	if s.haresources != "" {
		e2ekit.WriteFile(t, filepath.Join(n.ConfDir, "haresources"), s.haresources, 0o644)
	}
	if s.haresourcesTOML != "" {
		e2ekit.WriteFile(t, filepath.Join(n.ConfDir, "haresources.toml"), s.haresourcesTOML, 0o644)
	}
	for name, content := range s.resourceD {
		mode, ok := s.modes[name]
		if !ok {
			mode = 0o755
		}
		e2ekit.WriteFile(t, filepath.Join(n.ConfDir, "resource.d", name), content, mode)
	}
	for name, content := range s.initD {
		e2ekit.WriteFile(t, filepath.Join(n.initDir, name), content, 0o755)
	}
	for name, content := range s.etcHA {
		e2ekit.WriteFile(t, filepath.Join(n.etcHA, filepath.Clean("/"+name)), content, 0o644)
	}
	return n
}

// stop is heartbeat -k: a graceful stop that returns once the daemon exited.
func (n *ourNode) stop() {
	n.T.Helper()
	if r := n.Heartbeat("-k"); r.Code != 0 {
		n.T.Fatalf("%s: heartbeat -k: %v; log:\n%s", n.Name, r, testbed.Tail(n.Log(), 30))
	}
	if err := n.Proc.Wait(5 * time.Second); err == testbed.ErrTimeout {
		n.T.Fatalf("%s: heartbeat -k returned but the daemon runs on", n.Name)
	}
}

// crash SIGKILLs the daemon process only: the services its scripts
// started keep running, as after a crash of heartbeat alone.
func (n *ourNode) crash() {
	n.T.Helper()
	if err := n.Proc.Signal(syscall.SIGKILL); err != nil {
		n.T.Fatalf("%s: SIGKILL: %v", n.Name, err)
	}
	if err := n.Proc.Wait(5 * time.Second); err == testbed.ErrTimeout {
		n.T.Fatalf("%s: the daemon survived SIGKILL", n.Name)
	}
}

// groups is hactl status --json's groups as key -> state.
func (n *ourNode) groups() map[string]api.Group {
	n.T.Helper()
	st, err := n.TryStatus()
	if err != nil {
		n.T.Fatalf("%s: %v", n.Name, err)
	}
	out := map[string]api.Group{}
	for _, g := range st.Groups {
		out[g.Key] = g
	}
	return out
}

// move runs hb_standby or hb_takeover on this node.
func (n *ourNode) move(bin string, args ...string) testbed.ExecResult {
	return testbed.RunCmd(moveTimeout, nil, bin, append([]string{"--run-dir", n.RunDir}, args...)...)
}

// netns helpers (with e2ekit's) ------------------------------------------

// touch sends one UDP datagram from the client to ip (port 9, discard) so
// that the client resolves ip and keeps a neighbour entry for it.
func touch(t *testing.T, client *testbed.Host, ip string) {
	t.Helper()
	err := client.Do(func() error {
		c, err := net.Dial("udp4", ip+":9")
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("e2eres"))
		return err
	})
	if err != nil {
		t.Fatalf("client: udp to %s: %v", ip, err)
	}
}

// resolve makes the client resolve ip and returns the MAC it learned.
func resolve(t *testing.T, client *testbed.Host, ip string) string {
	t.Helper()
	var mac, state string
	_, ok := testbed.WaitFor(5*time.Second, 50*time.Millisecond, func() bool {
		touch(t, client, ip)
		var err error
		mac, state, err = e2ekit.Neigh(client, ip)
		return err == nil && mac != "" && state != "INCOMPLETE" && state != "FAILED"
	})
	if !ok {
		t.Fatalf("client cannot resolve %s: %q %s", ip, mac, state)
	}
	return mac
}

// The client's HTTP poller ---------------------------------------------

type sample struct {
	at   time.Time
	body string // "" on error
	err  error
}

// poller asks http://ip/ from the client every clientEvery and keeps
// every answer, to measure outages from the client's side.
type poller struct {
	mu      sync.Mutex
	samples []sample
	stop    chan struct{}
	done    chan struct{}
}

func startPoller(t *testing.T, client *testbed.Host, ip string) *poller {
	p := &poller{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(clientEvery)
		defer tick.Stop()
		for {
			body, err := httpGet(client, ip)
			p.mu.Lock()
			p.samples = append(p.samples, sample{at: time.Now(), body: body, err: err})
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *poller) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

// httpGet asks GET / of ip:80 from inside the client's namespace. The
// connection is made on the namespace-switched thread (http.Transport
// would dial from another goroutine, outside the namespace).
func httpGet(client *testbed.Host, ip string) (string, error) {
	var body string
	err := client.Do(func() error {
		c, err := net.DialTimeout("tcp4", ip+":80", clientTimeout)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.SetDeadline(time.Now().Add(clientTimeout)); err != nil {
			return err
		}
		if _, err := fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", ip); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
		if err != nil {
			return err
		}
		body = strings.TrimSpace(string(b))
		return nil
	})
	return body, err
}

// first returns the first good answer want after since.
func (p *poller) first(want string, since time.Time) (sample, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.samples {
		if s.err == nil && s.body == want && s.at.After(since) {
			return s, true
		}
	}
	return sample{}, false
}

// lastGoodBefore is the last good answer (any body) before at.
func (p *poller) lastGoodBefore(at time.Time) (sample, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.samples) - 1; i >= 0; i-- {
		if s := p.samples[i]; s.err == nil && s.at.Before(at) {
			return s, true
		}
	}
	return sample{}, false
}

// last is the latest sample.
func (p *poller) last() sample {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.samples) == 0 {
		return sample{}
	}
	return p.samples[len(p.samples)-1]
}

// waitAnswer waits until the client gets want after since, and returns
// the time from since to that answer and the outage the client saw: from
// its last good answer before to that first answer.
func (p *poller) waitAnswer(t *testing.T, want string, since time.Time, timeout time.Duration) (took, outage time.Duration) {
	t.Helper()
	var s sample
	if _, ok := testbed.WaitFor(timeout, 5*time.Millisecond, func() bool {
		var ok bool
		s, ok = p.first(want, since)
		return ok
	}); !ok {
		l := p.last()
		t.Fatalf("client: no %q within %v; last answer %q (%v)", want, timeout, l.body, l.err)
	}
	prev, ok := p.lastGoodBefore(s.at)
	if !ok || prev.at.Before(since.Add(-time.Second)) {
		// No answer just before the fault: count from the fault.
		prev.at = since
	}
	return s.at.Sub(since), s.at.Sub(prev.at)
}

// hello is what the demo httpd of node answers.
func hello(node string) string { return "hello from " + node }

// Scripts ---------------------------------------------------------------

// lsbHTTPD is an LSB init script for the demo httpd of node: LSB exit
// codes (status 0 running, 3 stopped; stop of a stopped service 0), its
// pid file in /srv (the node's own). A process is alive when /proc/PID/stat
// shows a state other than zombie (this container's init reaps orphans
// slowly).
func lsbHTTPD(node string) string {
	return fmt.Sprintf(`#!/bin/bash
### BEGIN INIT INFO
# Provides:          httpd
# Short-Description: e2eres demo HTTP service
### END INIT INFO
PIDFILE=/srv/httpd.pid
running() {
	local pid st
	pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
	[ -n "$pid" ] || return 1
	st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
case "$1" in
start)
	running && exit 0
	setsid %s -node %s -listen :80 -pidfile "$PIDFILE" >>/srv/httpd.log 2>&1 </dev/null &
	for i in $(seq 2500); do
		(exec 3<>/dev/tcp/127.0.0.1/80) 2>/dev/null && exit 0
		sleep 0.002
	done
	exit 1 ;;
stop)
	running && kill "$(cat "$PIDFILE")"
	for i in $(seq 2500); do
		running || { rm -f "$PIDFILE"; exit 0; }
		sleep 0.002
	done
	exit 1 ;;
status)
	if running; then echo "httpd (pid $(cat "$PIDFILE")) is running"; exit 0; fi
	echo "httpd is stopped"; exit 3 ;;
restart|force-reload)
	"$0" stop && exec "$0" start ;;
*)
	echo "Usage: $0 {start|stop|status|restart|force-reload}" >&2; exit 2 ;;
esac
`, e2ekit.Bin("httpd"), node)
}

// httpdRunning reports whether the node's httpd (per its pid file) is alive.
func (n *ourNode) httpdRunning() bool {
	b, err := os.ReadFile(filepath.Join(n.srvDir, "httpd.pid"))
	if err != nil {
		return false
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%s/stat", strings.TrimSpace(string(b))))
	if err != nil {
		return false
	}
	f := strings.Fields(string(st))
	return len(f) > 2 && f[2] != "Z" && f[2] != "X"
}

// stateScript is a Heartbeat resource.d script that keeps its state in a
// file of /srv (start touches it, stop removes it, status prints running or
// stopped). With failStart, start fails (exit 1); with hangStart, start
// writes its pid to /srv/<name>.hang and sleeps.
func stateScript(name string, failStart, hangStart bool) string {
	start := `touch "$STATE"; exit 0`
	switch {
	case failStart:
		start = `echo "$0: refusing to start (test fault)" >&2; exit 1`
	case hangStart:
		start = `echo $$ > /srv/` + name + `.hang; exec sleep 600`
	}
	return fmt.Sprintf(`#!/bin/sh
STATE=/srv/%s.state
case "$1" in
start) %s ;;
stop) rm -f "$STATE"; exit 0 ;;
status) if [ -e "$STATE" ]; then echo "%s is running"; else echo "%s is stopped"; fi; exit 0 ;;
*) echo "usage: $0 start|stop|status" >&2; exit 1 ;;
esac
`, name, start, name, name)
}

// clearVolatile empties what a reboot would: the daemon's run directory
// (pid file, control socket) and the service's pid file.
func (n *ourNode) clearVolatile() {
	n.T.Helper()
	for _, p := range []string{n.RunDir} {
		if err := os.RemoveAll(p); err != nil {
			n.T.Fatal(err)
		}
		if err := os.MkdirAll(p, 0o755); err != nil {
			n.T.Fatal(err)
		}
	}
	if err := os.Remove(filepath.Join(n.srvDir, "httpd.pid")); err != nil && !os.IsNotExist(err) {
		n.T.Fatal(err)
	}
}

// otherHost is the node host that is not h.
func (c *cluster) otherHost(h *testbed.Host) *testbed.Host {
	if h == c.h1 {
		return c.h2
	}
	return c.h1
}

// expectVIPs waits until vip1 is on host owner1 only and vip2 on owner2
// only, and until the client's neighbour table maps each to its owner's
// MAC. The client sends nothing to a VIP once it has an entry for it, so
// an entry that changes was changed by the new owner's gratuitous ARP.
func (c *cluster) expectVIPs(what string, owner1, owner2 *testbed.Host, since time.Time) {
	c.t.Helper()
	t := c.t
	for _, x := range []struct {
		vip   string
		owner *testbed.Host
	}{{vip1, owner1}, {vip2, owner2}} {
		e2ekit.WaitAddr(t, x.owner, x.vip, true, moveBound)
		e2ekit.WaitAddr(t, c.otherHost(x.owner), x.vip, false, moveBound)
		if mac, _, _ := e2ekit.Neigh(c.client, x.vip); mac == "" {
			resolve(t, c.client, x.vip) // first sight
		}
		e2ekit.WaitNeigh(t, c.client, x.vip, e2ekit.MACOf(t, x.owner), moveBound)
		t.Logf("%s: %s on %s, client's neighbour entry -> %s, %v after the event", what, x.vip, x.owner.Name, x.owner.Name,
			time.Since(since).Round(time.Millisecond))
	}
}
