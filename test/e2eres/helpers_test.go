package e2eres

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/internal/testbed"
)

// Bounds. They only decide how long a broken build takes to fail; the
// measured figures are logged.
const (
	// cmdTimeout bounds one run of cl_status, hactl, heartbeat -k.
	cmdTimeout = 15 * time.Second
	// moveTimeout bounds hb_standby/hb_takeover (they wait for the move).
	moveTimeout = 60 * time.Second
	// startBound bounds the start of our daemon until its control socket answers.
	startBound = 10 * time.Second
	// settleBound bounds our two daemons joining and placing their groups
	// (initdead 2 s, then the starting/resource exchange and the starts).
	settleBound = 20 * time.Second
	// moveBound bounds a group moving between our nodes after a fault:
	// deadtime 500 ms plus starting the group.
	moveBound = 15 * time.Second
	// slowPoll paces polls that wait for a state.
	slowPoll = 20 * time.Millisecond
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

// result is the outcome of one command.
type result struct {
	stdout, stderr string
	code           int // -1: did not run or timed out
	err            error
	took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d (%v) after %v, stdout %q, stderr %q", r.code, r.err, r.took.Round(time.Millisecond), r.stdout, r.stderr)
}

// run runs a command of the machine bounded by timeout. Our tools reach the
// daemon through the control socket's path, from any namespace.
func run(timeout time.Duration, name string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), code: -1, took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.err = fmt.Errorf("%s: timed out after %v", name, timeout)
	case err == nil:
		r.code = 0
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		r.err = err
	}
	return r
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

// ourNode is one of our daemons, sandboxed with its own /etc/init.d,
// /etc/ha.d and /srv (kept across restarts, like a disk).
type ourNode struct {
	t       *testing.T
	host    *testbed.Host
	name    string
	confDir string
	runDir  string
	state   string
	initDir string
	srvDir  string
	etcHA   string
	proc    *testbed.Proc
	procs   []*testbed.Proc
}

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile keeps an existing file's mode
		t.Fatal(err)
	}
}

// newNode writes the node's files in the bed's directory; start runs it.
func newNode(t *testing.T, h *testbed.Host, s nodeSpec) *ourNode {
	t.Helper()
	dir := filepath.Join(h.Bed().Dir, h.Name, "ours-"+s.name)
	n := &ourNode{t: t, host: h, name: s.name, confDir: filepath.Join(dir, "etc"), runDir: filepath.Join(dir, "run"),
		state: filepath.Join(dir, "state"), initDir: filepath.Join(dir, "init.d"), srvDir: filepath.Join(dir, "srv"),
		etcHA: filepath.Join(dir, "etc-ha.d")}
	for _, d := range []string{n.confDir, n.runDir, n.state, n.initDir, n.srvDir, n.etcHA, filepath.Join(n.confDir, "resource.d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(n.confDir, "ha.cf"), s.hacf, 0o644)
	writeFile(t, filepath.Join(n.confDir, "authkeys"), s.authkeys, 0o600)
	if s.haresources != "" {
		writeFile(t, filepath.Join(n.confDir, "haresources"), s.haresources, 0o644)
	}
	if s.haresourcesTOML != "" {
		writeFile(t, filepath.Join(n.confDir, "haresources.toml"), s.haresourcesTOML, 0o644)
	}
	for name, content := range s.resourceD {
		mode, ok := s.modes[name]
		if !ok {
			mode = 0o755
		}
		writeFile(t, filepath.Join(n.confDir, "resource.d", name), content, mode)
	}
	for name, content := range s.initD {
		writeFile(t, filepath.Join(n.initDir, name), content, 0o755)
	}
	for name, content := range s.etcHA {
		writeFile(t, filepath.Join(n.etcHA, filepath.Clean("/"+name)), content, 0o644)
	}
	return n
}

func (n *ourNode) sandbox() testbed.Sandbox {
	return testbed.Sandbox{Hostname: n.name, Binds: []testbed.Bind{
		{Source: n.initDir, Target: "/etc/init.d"},
		{Source: n.etcHA, Target: "/etc/ha.d"},
		{Source: n.srvDir, Target: "/srv"},
	}}
}

func (n *ourNode) args() []string {
	return []string{"-c", n.confDir, "-n", n.name, "--run-dir", n.runDir, "--state-dir", n.state}
}

// start (re)starts the daemon in a fresh sandbox and waits until its
// control socket answers.
func (n *ourNode) start() {
	n.t.Helper()
	n.proc = n.host.StartSandboxed(n.t, n.sandbox(), heartbeatBin, n.args()...)
	n.procs = append(n.procs, n.proc)
	var last error
	took, ok := testbed.WaitFor(startBound, slowPoll, func() bool {
		if n.proc.Exited() {
			return true
		}
		_, last = n.tryStatus()
		return last == nil
	})
	if n.proc.Exited() {
		n.t.Fatalf("%s: heartbeat exited during start-up (exit %d); log:\n%s", n.name, n.proc.ExitCode(), n.proc.Log())
	}
	if !ok {
		n.t.Fatalf("%s: control socket did not answer within %v (last error %v); log:\n%s", n.name, took, last, n.proc.Log())
	}
}

// stop is heartbeat -k: a graceful stop that returns once the daemon exited.
func (n *ourNode) stop() {
	n.t.Helper()
	r := run(cmdTimeout+60*time.Second, heartbeatBin, "-k", "--run-dir", n.runDir)
	if r.code != 0 {
		n.t.Fatalf("%s: heartbeat -k: %v; log:\n%s", n.name, r, tail(n.log(), 30))
	}
	if err := n.proc.Wait(5 * time.Second); err == testbed.ErrTimeout {
		n.t.Fatalf("%s: heartbeat -k returned but the daemon runs on", n.name)
	}
}

// crash SIGKILLs the daemon process only: the services its scripts
// started keep running, as after a crash of heartbeat alone.
func (n *ourNode) crash() {
	n.t.Helper()
	if err := n.proc.Signal(syscall.SIGKILL); err != nil {
		n.t.Fatalf("%s: SIGKILL: %v", n.name, err)
	}
	if err := n.proc.Wait(5 * time.Second); err == testbed.ErrTimeout {
		n.t.Fatalf("%s: the daemon survived SIGKILL", n.name)
	}
}

// log is everything every start of the daemon logged.
func (n *ourNode) log() string {
	var b strings.Builder
	for _, p := range n.procs {
		b.WriteString(p.Log())
	}
	return b.String()
}

func (n *ourNode) clStatus(args ...string) result {
	return run(cmdTimeout, clStatusBin, append([]string{"--run-dir", n.runDir}, args...)...)
}

// rsc is cl_status rscstatus (trimmed; the error text if it failed).
func (n *ourNode) rsc() string {
	r := n.clStatus("rscstatus")
	if r.code != 0 {
		return fmt.Sprintf("<%v>", r)
	}
	return strings.TrimSpace(r.stdout)
}

// waitRsc polls cl_status rscstatus until it prints want.
func (n *ourNode) waitRsc(want string, timeout time.Duration) time.Duration {
	n.t.Helper()
	var last string
	took, ok := testbed.WaitFor(timeout, slowPoll, func() bool { last = n.rsc(); return last == want })
	if !ok {
		n.t.Fatalf("%s: cl_status rscstatus: want %q within %v, last %q; log:\n%s", n.name, want, timeout, last, tail(n.log(), 40))
	}
	return took
}

func (n *ourNode) tryStatus() (*api.Status, error) {
	r := run(cmdTimeout, hactlBin, "--run-dir", n.runDir, "status", "--json")
	if r.code != 0 {
		return nil, fmt.Errorf("hactl status --json: %v", r)
	}
	var st api.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		return nil, fmt.Errorf("hactl status --json: %v in %q", err, r.stdout)
	}
	return &st, nil
}

// groups is hactl status --json's groups as key -> state.
func (n *ourNode) groups() map[string]api.Group {
	n.t.Helper()
	st, err := n.tryStatus()
	if err != nil {
		n.t.Fatalf("%s: %v", n.name, err)
	}
	out := map[string]api.Group{}
	for _, g := range st.Groups {
		out[g.Key] = g
	}
	return out
}

// move runs hb_standby or hb_takeover on this node.
func (n *ourNode) move(bin string, args ...string) result {
	return run(moveTimeout, bin, append([]string{"--run-dir", n.runDir}, args...)...)
}

// netns helpers ---------------------------------------------------------

// macOf is the MAC address of the host's eth0.
func macOf(t *testing.T, h *testbed.Host) string {
	t.Helper()
	var mac string
	err := h.Do(func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		mac = l.Attrs().HardwareAddr.String()
		return nil
	})
	if err != nil {
		t.Fatalf("%s: eth0: %v", h.Name, err)
	}
	return mac
}

// hasAddr reports whether ip is configured on the host's eth0.
func hasAddr(t *testing.T, h *testbed.Host, ip string) bool {
	t.Helper()
	found := false
	err := h.Do(func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if a.IP.String() == ip {
				found = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: addresses: %v", h.Name, err)
	}
	return found
}

// waitAddr waits until ip is (or is not) on the host's eth0.
func waitAddr(t *testing.T, h *testbed.Host, ip string, want bool, timeout time.Duration) {
	t.Helper()
	if _, ok := testbed.WaitFor(timeout, slowPoll, func() bool { return hasAddr(t, h, ip) == want }); !ok {
		t.Fatalf("%s: address %s present=%v, want %v within %v", h.Name, ip, !want, want, timeout)
	}
}

// neigh is the client's neighbour entry for ip: lladdr and state.
func neigh(h *testbed.Host, ip string) (mac, state string, err error) {
	err = h.Do(func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		ns, err := netlink.NeighList(l.Attrs().Index, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, n := range ns {
			if n.IP.String() == ip {
				mac, state = n.HardwareAddr.String(), neighStates[n.State]
				if state == "" {
					state = fmt.Sprintf("0x%x", n.State)
				}
			}
		}
		return nil
	})
	return mac, state, err
}

var neighStates = map[int]string{netlink.NUD_INCOMPLETE: "INCOMPLETE", netlink.NUD_REACHABLE: "REACHABLE",
	netlink.NUD_STALE: "STALE", netlink.NUD_DELAY: "DELAY", netlink.NUD_PROBE: "PROBE", netlink.NUD_FAILED: "FAILED",
	netlink.NUD_NOARP: "NOARP", netlink.NUD_PERMANENT: "PERMANENT"}

// waitNeigh waits until the client's neighbour table maps ip to mac, and
// returns how long that took.
func waitNeigh(t *testing.T, client *testbed.Host, ip, mac string, timeout time.Duration) time.Duration {
	t.Helper()
	var got, state string
	var err error
	took, ok := testbed.WaitFor(timeout, 5*time.Millisecond, func() bool {
		got, state, err = neigh(client, ip)
		return err == nil && got == mac
	})
	if !ok {
		t.Fatalf("client neighbour table: %s is %q (%s, err %v), want %s within %v", ip, got, state, err, mac, timeout)
	}
	return took
}

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
		mac, state, err = neigh(client, ip)
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

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

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
`, httpdBin, node)
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
	n.t.Helper()
	for _, p := range []string{n.runDir} {
		if err := os.RemoveAll(p); err != nil {
			n.t.Fatal(err)
		}
		if err := os.MkdirAll(p, 0o755); err != nil {
			n.t.Fatal(err)
		}
	}
	if err := os.Remove(filepath.Join(n.srvDir, "httpd.pid")); err != nil && !os.IsNotExist(err) {
		n.t.Fatal(err)
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
		waitAddr(t, x.owner, x.vip, true, moveBound)
		waitAddr(t, c.otherHost(x.owner), x.vip, false, moveBound)
		if mac, _, _ := neigh(c.client, x.vip); mac == "" {
			resolve(t, c.client, x.vip) // first sight
		}
		waitNeigh(t, c.client, x.vip, macOf(t, x.owner), moveBound)
		t.Logf("%s: %s on %s, client's neighbour entry -> %s, %v after the event", what, x.vip, x.owner.Name, x.owner.Name,
			time.Since(since).Round(time.Millisecond))
	}
}
