package testbed

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCheckAddr(t *testing.T) {
	for _, c := range []struct {
		cidr string
		ok   bool
	}{
		{"198.18.0.1/24", true},
		{"198.19.255.254/16", true},
		{"2001:2::1/64", true},
		{"198.20.0.1/24", false},
		{"10.0.0.1/8", false},
		{"192.168.1.1/24", false},
		{"2001:db8::1/64", false},
		{"198.18.0.1", false}, // no prefix length
	} {
		_, err := CheckAddr(c.cidr)
		if (err == nil) != c.ok {
			t.Errorf("CheckAddr(%q) = %v, want ok=%v", c.cidr, err, c.ok)
		}
	}
}

func TestLossOnly(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int
		ok   bool
	}{
		{[]string{"loss", "30%"}, 3000, true},
		{[]string{"loss", "12.5%"}, 1250, true},
		{[]string{"loss", "100"}, 10000, true},
		{[]string{"loss", "101%"}, 0, false},
		{[]string{"delay", "10ms"}, 0, false},
		{[]string{"loss", "30%", "25%"}, 0, false},
	} {
		got, ok := lossOnly(c.args)
		if got != c.want || ok != c.ok {
			t.Errorf("lossOnly(%q) = %d,%v want %d,%v", c.args, got, ok, c.want, c.ok)
		}
	}
	if got := lossTable("eth0.1-x"); got != "hbtloss_eth0_2e1_2dx" {
		t.Errorf("lossTable = %q", got)
	}
}

func TestAugmentHACF(t *testing.T) {
	in := "keepalive 1\n# logfile in a comment does not count\nnode a b\n"
	out, log := augmentHACF(in, "/l/ha-log", "/l/ha-debug")
	if log != "/l/ha-log" {
		t.Errorf("log = %q", log)
	}
	for _, want := range []string{"use_logd no\n", "logfile /l/ha-log\n", "debugfile /l/ha-debug\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, in) || strings.Index(out, "use_logd") > strings.Index(out, "keepalive") {
		t.Errorf("logging must come first, original text unchanged:\n%s", out)
	}
	own := "use_logd no\nlogfile /var/log/x\ndebugfile /dev/null\nnode a\n"
	out, log = augmentHACF(own, "/l/ha-log", "/l/ha-debug")
	if out != own || log != "/var/log/x" {
		t.Errorf("explicit logging must be kept: %q, %q", out, log)
	}
}

// ping sends one echo request from h; it tolerates both iputils and inetutils.
func ping(t *testing.T, h *Host, addr string) bool {
	t.Helper()
	_, err := h.Run(t, "ping", "-c", "1", "-W", "1", addr)
	return err == nil
}

// pingEventually retries because the first packets wait for ARP.
func pingEventually(t *testing.T, h *Host, addr string) bool {
	t.Helper()
	for i := 0; i < 10; i++ {
		if ping(t, h, addr) {
			return true
		}
	}
	return false
}

// udpDelivery sends n datagrams from a to b's addr and counts what arrives.
func udpDelivery(t *testing.T, a, b *Host, addr string, n int) int {
	t.Helper()
	var rx net.PacketConn
	if err := b.Do(func() (err error) {
		rx, err = net.ListenPacket("udp4", addr+":9999")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	var tx net.Conn
	if err := a.Do(func() (err error) {
		tx, err = net.Dial("udp4", addr+":9999")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	for i := 0; i < n; i++ {
		if _, err := fmt.Fprintf(tx, "%d", i); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	got := 0
	buf := make([]byte, 64)
	for got < n {
		if err := rx.SetReadDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := rx.ReadFrom(buf); err != nil {
			break
		}
		got++
	}
	return got
}

// TestBed checks the network, fault injection, processes and that cleanup
// leaves nothing behind (checked after the subtest, whose cleanup has run).
func TestBed(t *testing.T) {
	if _, err := exec.LookPath("ping"); err != nil {
		Unavailable(t, "ping not installed (scripts/install-test-deps.sh)")
	}
	var prefix, dir string
	var pidsSeen []int
	t.Run("net", func(t *testing.T) {
		b := New(t)
		prefix, dir = b.Prefix, b.Dir
		sw := b.AddSwitch("lan")
		h1 := b.AddHost("node1")
		h2 := b.AddHost("node2")
		h1.Connect(sw, "eth0", "198.18.0.1/24")
		h2.Connect(sw, "eth0", "198.18.0.2/24")
		if got := Namespaces(prefix); len(got) != 3 {
			t.Fatalf("namespaces %v, want switch and two hosts", got)
		}

		if !pingEventually(t, h1, "198.18.0.2") || !pingEventually(t, h2, "198.18.0.1") {
			t.Fatal("hosts on one switch cannot ping each other")
		}
		if got := udpDelivery(t, h1, h2, "198.18.0.2", 100); got != 100 {
			t.Fatalf("clean link delivered %d/100 datagrams", got)
		}

		h1.Netem("eth0", "loss", "100%")
		if ping(t, h1, "198.18.0.2") {
			t.Fatal("ping succeeded through 100% loss")
		}
		h1.Netem("eth0", "loss", "50%")
		got := udpDelivery(t, h1, h2, "198.18.0.2", 200)
		// P(outside 20..180 of 200 at 50%) is far below 1e-18.
		if got < 20 || got > 180 {
			t.Fatalf("50%% loss delivered %d/200 datagrams", got)
		}
		t.Logf("50%% loss: %d/200 delivered", got)
		h1.ClearNetem("eth0")
		if !pingEventually(t, h1, "198.18.0.2") {
			t.Fatal("no ping after ClearNetem")
		}

		h2.LinkDown("eth0")
		if ping(t, h1, "198.18.0.2") {
			t.Fatal("ping succeeded with the peer's link down")
		}
		h2.LinkUp("eth0")
		if !pingEventually(t, h1, "198.18.0.2") {
			t.Fatal("no ping after LinkUp")
		}

		// Processes: exit status and log.
		p := h1.Start(t, "sh", "-c", "echo hello from $(cat /proc/sys/kernel/hostname); exit 3")
		var ee *exec.ExitError
		if err := p.Wait(10 * time.Second); !errors.As(err, &ee) || p.ExitCode() != 3 {
			t.Fatalf("Wait = %v, exit %d; want exit 3", err, p.ExitCode())
		}
		if !strings.Contains(p.Log(), "hello from") {
			t.Fatalf("log %q", p.Log())
		}
		long := h2.Start(t, "sleep", sleepArg(0))
		if err := long.Wait(200 * time.Millisecond); err != ErrTimeout {
			t.Fatalf("sleep %s Wait = %v, want ErrTimeout", sleepArg(0), err)
		}
		// A daemon that leaves our process group must die with its host too.
		h2.Start(t, "sh", "-c", "setsid sleep "+sleepArg(1)+" & exec sleep "+sleepArg(2))
		h2.Start(t, "sleep", sleepArg(3))
		time.Sleep(200 * time.Millisecond)
		id, err := statNS(filepath.Join(netnsDir, h2.NS()))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(pidsInNS("net", id)); n < 4 {
			t.Fatalf("%d processes in %s, want at least 4", n, h2.NS())
		}
		pidsSeen = pidsInNS("net", id)
		h2.PowerOff()
		if got := pidsInNS("net", id); len(got) != 0 {
			t.Fatalf("processes survived PowerOff: %v", got)
		}
		if err := long.Wait(time.Second); err == nil || err == ErrTimeout {
			t.Fatalf("killed sleep: Wait = %v", err)
		}
		if ping(t, h1, "198.18.0.2") {
			t.Fatal("powered-off host answers ping")
		}
		h2.PowerOn()
		if !pingEventually(t, h1, "198.18.0.2") {
			t.Fatal("no ping after PowerOn")
		}
		// Something for cleanup to kill.
		pidsSeen = append(pidsSeen, h1.Start(t, "sh", "-c", "setsid sleep "+sleepArg(4)+" & exec sleep "+sleepArg(5)).Pid())
	})
	if prefix == "" {
		return // skipped
	}
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	if strings.Contains(string(out), prefix) {
		t.Errorf("namespaces left after cleanup:\n%s", out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("bed directory %s left after cleanup (%v)", dir, err)
	}
	for _, pid := range pidsSeen {
		if alive(pid) {
			st, _ := statField(pid, 0)
			t.Errorf("process %d still exists after cleanup (state %s)", pid, st)
		}
	}
	// Only the exact commands this test started: other tests running at
	// the same time (Heartbeat's ResourceManager runs "sleep 30") are not ours.
	ours := map[string]bool{}
	for n := range 6 {
		ours["sleep\x00"+sleepArg(n)+"\x00"] = true
	}
	for _, pid := range pids() {
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if ours[string(cmd)] {
			t.Errorf("a test process survived cleanup: pid %d %q", pid, cmd)
		}
	}
}

// TestSandbox checks the private mount and UTS namespaces and Exec, also
// after the process has gone.
func TestSandbox(t *testing.T) {
	b := New(t)
	h := b.AddHost("gamma")
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "marker"), []byte("private"), 0o644); err != nil {
		t.Fatal(err)
	}
	const target = "/mnt"
	if st, err := os.Stat(target); err != nil || !st.IsDir() {
		t.Skipf("needs an existing %s to bind onto", target)
	}
	sb := Sandbox{Hostname: "gamma", Binds: []Bind{{Source: src, Target: target}}}
	p := h.StartSandboxed(t, sb, "sleep", "300")
	myName, _ := os.Hostname()
	check := func(when string) {
		t.Helper()
		if r := p.Exec(t, "cat", "/proc/sys/kernel/hostname"); r.Stdout != "gamma\n" || r.Code != 0 {
			t.Errorf("%s: hostname %+v", when, r)
		}
		if r := p.Exec(t, "cat", target+"/marker"); r.Stdout != "private" {
			t.Errorf("%s: bind mount not visible: %+v", when, r)
		}
		if r := p.Exec(t, "sh", "-c", "exit 7"); r.Code != 7 || r.Err != nil {
			t.Errorf("%s: exit code %+v", when, r)
		}
	}
	check("running")
	if now, _ := os.Hostname(); now != myName {
		t.Errorf("our host name changed from %q to %q", myName, now)
	}
	if _, err := os.Stat(target + "/marker"); err == nil {
		t.Errorf("the sandbox's bind mount leaked to the machine")
	}
	p.Kill()
	check("after Kill (fresh sandbox)")
}

// TestSandboxSetupFailure checks that a failing sandbox setup fails the test
// with the log, using a sub-TB to observe the failure.
func TestSandboxSetupFailure(t *testing.T) {
	b := New(t)
	h := b.AddHost("delta")
	ft := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.StartSandboxed(ft, Sandbox{Binds: []Bind{{Source: "/nonexistent-hbt", Target: "/mnt"}}}, "sleep", "300")
	}()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		t.Fatal("StartSandboxed did not return")
	}
	if !strings.Contains(ft.msg, "sandbox setup") {
		t.Fatalf("want a setup failure, got %q", ft.msg)
	}
}

// fatalRecorder turns Fatalf into a recorded message and a goroutine exit.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalRecorder) Helper() {}

// sleepArg is the duration of the n-th sleep TestBed starts: unique to
// this test process, so that a TestBed running at the same time in
// another checkout (whose sleeps its own cleanup kills) is never taken
// for a survivor of ours.
func sleepArg(n int) string { return strconv.Itoa(1000 + (os.Getpid()%100000)*10 + n) }
