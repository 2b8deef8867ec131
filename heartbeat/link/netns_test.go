package link

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// Test networks: two namespaces "a" and "b" joined by veth pairs named
// alike on both sides (hb0, hb1, ...). Pair i uses 198.18.i.1 (a) and
// 198.18.i.2 (b), plus kernel-made link-local addresses for the IPv6 media.

var nsCounter atomic.Int32

// skipOrFail skips with reason, or fails when CI=true promises the
// environment.
func skipOrFail(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: required)", reason)
	}
	t.Skip(reason)
}

func requireNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "network namespace tests need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skipOrFail(t, "network namespace tests need iproute2's ip command")
	}
}

// ip runs an ip(8) command, failing the test on error.
func ip(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

type testNet struct {
	a, b string // namespace names
}

// newTestNet creates namespaces a and b joined by pairs veth pairs. The
// namespaces (and with them the veths) are deleted in t.Cleanup.
func newTestNet(t *testing.T, pairs int) *testNet {
	t.Helper()
	requireNetns(t)
	id := nsCounter.Add(1)
	n := &testNet{
		a: fmt.Sprintf("hbt%d-%d-a", os.Getpid(), id),
		b: fmt.Sprintf("hbt%d-%d-b", os.Getpid(), id),
	}
	for _, ns := range []string{n.a, n.b} {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			skipOrFail(t, fmt.Sprintf("cannot create network namespace: %v: %s", err, out))
		}
		t.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("delete namespace %s: %v: %s", ns, err, out)
			}
		})
		ip(t, "-n", ns, "link", "set", "lo", "up")
	}
	for i := 0; i < pairs; i++ {
		n.addPair(t, i)
	}
	return n
}

func devName(i int) string { return fmt.Sprintf("hb%d", i) }

// hostMAC is the MAC of host (1 or 2) on pair i. The kernel derives the
// link-local IPv6 address from it: see linkLocal.
func hostMAC(i, host int) string { return fmt.Sprintf("02:00:00:00:%02x:%02x", i, host) }

// linkLocal is the EUI-64 link-local address of host on pair i, as the
// kernel generates it from hostMAC (and again after every down/up: the
// kernel always flushes link-local addresses on down).
func linkLocal(i, host int) string { return fmt.Sprintf("fe80::ff:fe00:%x", i<<8|host) }

// addPair creates veth pair i with its addresses and brings it up.
func (n *testNet) addPair(t *testing.T, i int) {
	t.Helper()
	dev := devName(i)
	ip(t, "-n", n.a, "link", "add", dev, "address", hostMAC(i, 1), "type", "veth",
		"peer", "name", dev, "address", hostMAC(i, 2), "netns", n.b)
	for host, ns := range []string{n.a, n.b} {
		// No duplicate address detection: the link-local address is usable
		// as soon as the carrier is up.
		inNetns(t, ns, func() {
			path := "/proc/sys/net/ipv6/conf/" + dev + "/accept_dad"
			if err := os.WriteFile(path, []byte("0"), 0o644); err != nil {
				t.Fatalf("%s in %s: %v", path, ns, err)
			}
		})
		ip(t, "-n", ns, "addr", "add", fmt.Sprintf("198.18.%d.%d/24", i, host+1), "brd", "+", "dev", dev)
		ip(t, "-n", ns, "link", "set", "dev", dev, "up")
	}
}

// delPair deletes veth pair i (both ends).
func (n *testNet) delPair(t *testing.T, i int) {
	t.Helper()
	ip(t, "-n", n.a, "link", "del", devName(i))
}

// inNetns runs fn on a thread switched into namespace ns. Sockets created
// by fn stay in ns; the thread is switched back afterwards (or discarded
// with the goroutine if that fails).
func inNetns(t *testing.T, ns string, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("open own network namespace: %v", err)
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("open namespace %s: %v", ns, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("enter namespace %s: %v", ns, err)
	}
	defer func() {
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// Stay locked: the runtime then discards this thread when
			// the goroutine ends instead of reusing it in ns.
			t.Errorf("leave namespace %s: %v", ns, err)
			return
		}
		runtime.UnlockOSThread()
	}()
	fn()
}
