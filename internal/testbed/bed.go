package testbed

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// netnsDir is where iproute2 keeps the bind mounts that name network namespaces.
const netnsDir = "/run/netns"

// Default bounds. Every external command and every wait in the package is
// bounded so that a broken machine fails a test in seconds instead of hanging CI.
const (
	DefaultRunTimeout = 30 * time.Second
	killSweepTimeout  = 5 * time.Second
	killSweepInterval = 20 * time.Millisecond
)

// Bed is one test's virtual network: switches, hosts and the processes started
// in them. Create it with New; it is torn down by a t.Cleanup.
type Bed struct {
	// Prefix is unique per run ("hbt<pid>-<4 hex>") and starts every namespace name.
	Prefix string
	// Dir holds process logs and per-node state. It is world-traversable (0755)
	// because heartbeat's children drop privileges and still write logs there.
	// It is removed in cleanup; with HBT_KEEP=1 it is kept, renamed to
	// $TMPDIR/hbt-kept-<name>.
	Dir string
	// RunTimeout bounds Host.Run and Proc.Exec (default DefaultRunTimeout).
	RunTimeout time.Duration

	t        testing.TB
	mu       sync.Mutex
	switches []*Switch
	hosts    []*Host
	procs    []*Proc
	nextPort int
	closed   bool
}

// Unavailable reports that a test cannot run on this machine: it skips the
// test with the reason, except under CI=true, where the prerequisites are
// promised and a missing one is a failure.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: the test bed must be available in CI, so this is a failure, not a skip)", msg)
	}
	t.Skip(msg)
}

// New creates an empty test bed. It skips the test (fails under CI=true) when
// the process is not root or network namespaces cannot be created.
func New(t testing.TB) *Bed {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "testbed: needs root to create network namespaces (euid %d)", os.Geteuid())
	}
	for _, tool := range []string{"ip", "nsenter", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			Unavailable(t, "testbed: %q not found in PATH (install iproute2/util-linux, see scripts/install-test-deps.sh)", tool)
		}
	}
	sweepStale(t)
	var rnd [2]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatalf("testbed: random prefix: %v", err)
	}
	b := &Bed{
		Prefix:     fmt.Sprintf("hbt%d-%s", os.Getpid(), hex.EncodeToString(rnd[:])),
		RunTimeout: DefaultRunTimeout,
		t:          t,
	}
	// Probe with a real namespace: root and the ip binary are not enough in
	// some containers (no CAP_SYS_ADMIN, read-only /run).
	probe := b.Prefix + "-probe"
	if out, err := b.ip("netns", "add", probe); err != nil {
		Unavailable(t, "testbed: cannot create a network namespace (ip netns add: %v: %s)", err, bytes.TrimSpace(out))
	}
	if out, err := b.ip("netns", "del", probe); err != nil {
		t.Fatalf("testbed: deleting probe namespace %s: %v: %s", probe, err, out)
	}
	dir, err := os.MkdirTemp("", b.Prefix+"-")
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	b.Dir = dir
	t.Cleanup(b.cleanup)
	return b
}

// ip runs the ip command in the root namespace (it addresses namespaces with -n).
func (b *Bed) ip(args ...string) ([]byte, error) {
	return runBounded(DefaultRunTimeout, nil, "ip", args...)
}

// mustIP runs ip and fails the test on error.
func (b *Bed) mustIP(args ...string) {
	b.t.Helper()
	if out, err := b.ip(args...); err != nil {
		b.t.Fatalf("testbed: ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
}

// runBounded runs a command with a timeout and returns its combined output.
// WaitDelay keeps a grandchild that inherited the output pipe from holding
// Wait past the deadline.
func runBounded(timeout time.Duration, stdin []byte, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return out, fmt.Errorf("%s: timed out after %v", name, timeout)
	}
	return out, err
}

// validName keeps namespace and file names short and shell-safe.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,15}$`)

func (b *Bed) checkName(kind, name, ns string) {
	b.t.Helper()
	if !validName.MatchString(name) {
		b.t.Fatalf("testbed: %s name %q: want 1-16 of [a-z0-9_]", kind, name)
	}
	// Hosts and switches share the namespace space: host "swlan" would be
	// switch "lan".
	for _, h := range b.hosts {
		if h.ns == ns {
			b.t.Fatalf("testbed: %s %q: namespace %s is taken by host %q", kind, name, ns, h.Name)
		}
	}
	for _, s := range b.switches {
		if s.ns == ns {
			b.t.Fatalf("testbed: %s %q: namespace %s is taken by switch %q", kind, name, ns, s.Name)
		}
	}
}

// addNS creates a namespace with its loopback up.
func (b *Bed) addNS(ns string) {
	b.t.Helper()
	b.mustIP("netns", "add", ns)
	b.mustIP("-n", ns, "link", "set", "lo", "up")
}

// Switch is a Linux bridge "br0" alone in its own namespace.
type Switch struct {
	Name string
	ns   string
	bed  *Bed
}

// NS returns the switch's namespace name.
func (s *Switch) NS() string { return s.ns }

// AddSwitch creates namespace "<prefix>-sw<name>" with a bridge br0. Multicast
// snooping is off so that the bridge floods multicast like a dumb switch (the
// heartbeat mcast medium would otherwise depend on IGMP timing); STP is off
// so ports forward at once.
func (b *Bed) AddSwitch(name string) *Switch {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &Switch{Name: name, ns: b.Prefix + "-sw" + name, bed: b}
	b.checkName("switch", name, s.ns)
	b.addNS(s.ns)
	b.switches = append(b.switches, s)
	b.mustIP("-n", s.ns, "link", "add", "br0", "type", "bridge",
		"mcast_snooping", "0", "stp_state", "0", "forward_delay", "0")
	b.mustIP("-n", s.ns, "link", "set", "br0", "up")
	return s
}

// AddHost creates namespace "<prefix>-<name>" with lo up.
func (b *Bed) AddHost(name string) *Host {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	h := &Host{Name: name, ns: b.Prefix + "-" + name, bed: b}
	b.checkName("host", name, h.ns)
	b.addNS(h.ns)
	b.hosts = append(b.hosts, h)
	return h
}

// cleanup kills every process of every host, deletes all namespaces and the
// directory. Problems are test errors: a leak would poison later runs.
func (b *Bed) cleanup() {
	t := b.t
	b.mu.Lock()
	b.closed = true
	hosts := append([]*Host(nil), b.hosts...)
	switches := append([]*Switch(nil), b.switches...)
	procs := append([]*Proc(nil), b.procs...)
	b.mu.Unlock()

	for _, p := range procs {
		p.killGroup()
	}
	for _, h := range hosts {
		if err := killNetns(h.ns); err != nil {
			t.Errorf("testbed cleanup: %v", err)
		}
	}
	for _, p := range procs {
		if !p.waitDone(killSweepTimeout) {
			t.Errorf("testbed cleanup: %s (pid %d) did not exit after SIGKILL", p.name, p.Pid())
		}
		p.release()
	}
	if t.Failed() {
		b.dumpLogs(procs)
	}
	for _, h := range hosts {
		if out, err := b.ip("netns", "del", h.ns); err != nil {
			t.Errorf("testbed cleanup: ip netns del %s: %v: %s", h.ns, err, bytes.TrimSpace(out))
		}
	}
	for _, s := range switches {
		if out, err := b.ip("netns", "del", s.ns); err != nil {
			t.Errorf("testbed cleanup: ip netns del %s: %v: %s", s.ns, err, bytes.TrimSpace(out))
		}
	}
	if left := Namespaces(b.Prefix); len(left) > 0 {
		t.Errorf("testbed cleanup: namespaces left behind: %v", left)
	}
	if os.Getenv("HBT_KEEP") == "1" {
		// Renamed so that the next run's sweepStale leaves it alone.
		kept := filepath.Join(filepath.Dir(b.Dir), "hbt-kept-"+filepath.Base(b.Dir))
		if err := os.Rename(b.Dir, kept); err != nil {
			t.Errorf("testbed cleanup: %v", err)
			return
		}
		t.Logf("testbed: HBT_KEEP=1, kept %s", kept)
		return
	}
	if err := os.RemoveAll(b.Dir); err != nil {
		t.Errorf("testbed cleanup: %v", err)
	}
}

// dumpLogs prints the tail of every log so that a failure in CI can be
// understood without the directory, which is removed.
func (b *Bed) dumpLogs(procs []*Proc) {
	const tailLines = 40
	seen := map[string]bool{}
	var paths []string
	for _, p := range procs {
		if p.logPath != "" && !seen[p.logPath] {
			seen[p.logPath] = true
			paths = append(paths, p.logPath)
		}
	}
	// Heartbeat's own log files live next to the node state.
	extra, _ := filepath.Glob(filepath.Join(b.Dir, "*", "*", "log", "ha-log"))
	for _, p := range extra {
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > tailLines {
			lines = lines[len(lines)-tailLines:]
		}
		b.t.Logf("testbed: last %d lines of %s:\n%s", len(lines), p, strings.Join(lines, "\n"))
	}
}

// Namespaces lists the network namespaces whose name starts with prefix.
func Namespaces(prefix string) []string {
	ents, err := os.ReadDir(netnsDir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// stalePrefix matches names made by New: "hbt<pid>-<4 hex>".
var stalePrefix = regexp.MustCompile(`^hbt([0-9]+)-[0-9a-f]{4}-`)

// sweepStale removes namespaces and directories of earlier runs whose process
// no longer exists (a go test -timeout panic skips every cleanup). Runs whose
// process is alive, in parallel with this one, are left alone.
func sweepStale(t testing.TB) {
	dead := func(name string) bool {
		m := stalePrefix.FindStringSubmatch(name)
		if m == nil {
			return false
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() {
			return false
		}
		return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	}
	for _, ns := range Namespaces("hbt") {
		if !dead(ns) {
			continue
		}
		t.Logf("testbed: removing namespace %s left by a dead run", ns)
		if err := killNetns(ns); err != nil {
			t.Logf("testbed: %v", err)
		}
		if out, err := runBounded(DefaultRunTimeout, nil, "ip", "netns", "del", ns); err != nil {
			t.Logf("testbed: ip netns del %s: %v: %s", ns, err, out)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "hbt*-*-*"))
	for _, d := range dirs {
		if dead(filepath.Base(d)) {
			_ = os.RemoveAll(d)
		}
	}
}
