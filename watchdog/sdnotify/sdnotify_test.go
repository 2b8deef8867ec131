package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"
)

// listen sets NOTIFY_SOCKET to a fresh unixgram socket and returns it.
func listen(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return c
}

// recv reads one datagram, waiting at most 10 s.
func recv(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	return string(buf[:n])
}

func TestMessages(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func() error
		want string // exact message, or a regexp when re is set
		re   bool
	}{
		{"ready", func() error { return Ready("") }, "READY=1", false},
		{"ready with status", func() error { return Ready("running, node2 up") }, "READY=1\nSTATUS=running, node2 up", false},
		{"status", func() error { return Status("node2 dead") }, "STATUS=node2 dead", false},
		{"status newlines flattened", func() error { return Status("a\nREADY=1\r\nb") }, "STATUS=a READY=1 b", false},
		{"stopping", Stopping, "STOPPING=1", false},
		{"reloading", Reloading, `^RELOADING=1\nMONOTONIC_USEC=[1-9][0-9]*$`, true},
		{"watchdog kick", Kick, "WATCHDOG=1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := listen(t)
			if !Enabled() {
				t.Fatal("Enabled() = false with NOTIFY_SOCKET set")
			}
			if err := tc.call(); err != nil {
				t.Fatal(err)
			}
			got := recv(t, c)
			if tc.re && !regexp.MustCompile(tc.want).MatchString(got) || !tc.re && got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if os.Getenv("NOTIFY_SOCKET") == "" {
				t.Error("NOTIFY_SOCKET was unset by a notification")
			}
		})
	}
}

// TestNoSocket: without NOTIFY_SOCKET every call is a silent no-op. The
// listener proves nothing was sent: the first datagram it gets is the
// sentinel sent afterwards.
func TestNoSocket(t *testing.T) {
	c := listen(t)
	path := os.Getenv("NOTIFY_SOCKET")
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "10000000")
	if Enabled() {
		t.Error("Enabled() = true without NOTIFY_SOCKET")
	}
	for name, call := range map[string]func() error{
		"Ready": func() error { return Ready("x") }, "Status": func() error { return Status("x") },
		"Stopping": Stopping, "Reloading": Reloading, "Kick": Kick,
	} {
		if err := call(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if d, err := WatchdogInterval(); d != 0 || err != nil {
		t.Errorf("WatchdogInterval() = %v, %v, want 0, nil", d, err)
	}
	s, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Write([]byte("sentinel")); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, c); got != "sentinel" {
		t.Errorf("received %q before the sentinel", got)
	}
}

func TestSendError(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "nobody-listens"))
	if err := Ready(""); err == nil {
		t.Error("Ready to a missing socket: no error")
	}
}

func TestWatchdogInterval(t *testing.T) {
	self := strconv.Itoa(os.Getpid())
	for _, tc := range []struct {
		name       string
		usec, pid  string // "" unsets
		want       time.Duration
		wantErr    bool
		socketless bool
	}{
		{name: "not configured", want: 0},
		{name: "10 s, no pid", usec: "10000000", want: 5 * time.Second},
		{name: "10 s, our pid", usec: "10000000", pid: self, want: 5 * time.Second},
		{name: "10 s, other pid", usec: "10000000", pid: "1", want: 0},
		{name: "odd usec", usec: "3", want: 1500 * time.Nanosecond},
		{name: "pid without usec", pid: self, want: 0},
		{name: "malformed usec", usec: "10s", wantErr: true},
		{name: "zero usec", usec: "0", wantErr: true},
		{name: "negative usec", usec: "-5", wantErr: true},
		{name: "malformed pid", usec: "10000000", pid: "me", wantErr: true},
		{name: "no socket", usec: "10000000", pid: self, socketless: true, want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			listen(t)
			if tc.socketless {
				t.Setenv("NOTIFY_SOCKET", "")
			}
			setOrUnset(t, "WATCHDOG_USEC", tc.usec)
			setOrUnset(t, "WATCHDOG_PID", tc.pid)
			got, err := WatchdogInterval()
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("WatchdogInterval() = %v, %v, want %v (error %v)", got, err, tc.want, tc.wantErr)
			}
			// The variables stay for later calls.
			if os.Getenv("WATCHDOG_USEC") != tc.usec || os.Getenv("WATCHDOG_PID") != tc.pid {
				t.Error("WATCHDOG_USEC/WATCHDOG_PID changed")
			}
		})
	}
}

func setOrUnset(t *testing.T, k, v string) {
	t.Helper()
	t.Setenv(k, v) // restores the old value at the end of the test
	if v == "" {
		os.Unsetenv(k)
	}
}

func TestChildEnv(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in, want []string
	}{
		{"empty", nil, []string{}},
		{"strips notify variables",
			[]string{"PATH=/bin", "NOTIFY_SOCKET=/run/systemd/notify", "WATCHDOG_USEC=10000000", "WATCHDOG_PID=42", "HOME=/root"},
			[]string{"PATH=/bin", "HOME=/root"}},
		{"keeps look-alikes", []string{"NOTIFY_SOCKETS=x", "MY_WATCHDOG_USEC=1", "WATCHDOG_USEC"}, []string{"NOTIFY_SOCKETS=x", "MY_WATCHDOG_USEC=1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ChildEnv(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("ChildEnv(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestAbstractSocket: systemd may name an abstract socket ("@..."), as
// some containers' managers do.
func TestAbstractSocket(t *testing.T) {
	name := fmt.Sprintf("@hasuite-sdnotify-test-%d", os.Getpid())
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Setenv("NOTIFY_SOCKET", name)
	if err := Kick(); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, c); got != "WATCHDOG=1" {
		t.Errorf("got %q, want WATCHDOG=1", got)
	}
}

// TestAFullSocketDropsInsteadOfWaiting: systemd not reading (PID 1 busy)
// must not hold up the caller, the event loop. Every call has to return;
// once the socket is full they report ErrBusy.
func TestAFullSocketDropsInsteadOfWaiting(t *testing.T) {
	listen(t) // never read
	done := make(chan error, 1)
	go func() {
		for range 100000 {
			if err := Status("busy"); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrBusy) {
			t.Fatalf("filling the socket ended with %v, want ErrBusy", err)
		}
	case <-time.After(10 * time.Second): // liveness bound, not a timing check
		t.Fatal("a notification blocked on a full socket")
	}
}
