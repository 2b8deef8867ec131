package e2efence

import (
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasuite/hasuite/watchdog/watchdogtest"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// TestOrderlyStopDisarmsTheWatchdog: heartbeat -k on a node with
// "watchdog <fifo>" writes the magic 'V' and closes; the emulator is
// disarmed and never fires.
func TestOrderlyStopDisarmsTheWatchdog(t *testing.T) {
	const margin = 2 * time.Second // the daemon's deadtime + 1 s, rounded up
	var emu *watchdogtest.Emulator
	c := newCluster(t, nil, nil, func(c *cluster) {
		emu = &watchdogtest.Emulator{Path: filepath.Join(t.TempDir(), "watchdog"), Margin: margin,
			OnFire: func() { c.h1.PowerOff() }}
		emu.Start(t)
		e2ekit.WriteFile(t, filepath.Join(c.n1.ConfDir, "ha.cf"), hacf(node2HB, "watchdog "+emu.Path), 0o644)
	})
	c.startAndSettle()
	if !emu.WaitKicks(5, 5*time.Second) {
		t.Fatalf("watchdog not kicked: %+v", emu.State())
	}
	if r := c.n1.Heartbeat("-k"); r.Code != 0 {
		t.Fatalf("heartbeat -k on node1: %v; log:\n%s", r, testbed.Tail(c.n1.Log(), 30))
	}
	if err := c.n1.Proc.Wait(10 * time.Second); err != nil {
		t.Errorf("node1 after heartbeat -k: %v", err)
	}
	if !emu.WaitDisarmed(5 * time.Second) {
		t.Fatalf("watchdog not disarmed after an orderly stop: %+v", emu.State())
	}
	time.Sleep(margin + 500*time.Millisecond)
	if st := emu.State(); st.Fired || !st.Disarmed || st.Armed {
		t.Errorf("after an orderly stop and %v: %+v, want disarmed and not fired", margin+500*time.Millisecond, st)
	}
	// node2 takes over on shutdone, without fencing or deadtime.
	c.n2.WaitRsc("foreign", moveBound)
}

// TestSystemdNotifyReadyAndStopping runs node1 with NOTIFY_SOCKET set to
// a unixgram socket of the test: READY=1 (with a STATUS=) once the node
// is active, STOPPING=1 on heartbeat -k.
func TestSystemdNotifyReadyAndStopping(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var mu sync.Mutex
	var msgs []string
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, string(buf[:n]))
			mu.Unlock()
		}
	}()
	seen := func(field string) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			for _, l := range strings.Split(m, "\n") {
				if l == field {
					return m, true
				}
			}
		}
		return "", false
	}
	all := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), msgs...)
	}

	c := newCluster(t, nil, nil, nil)
	c.n1.Env = []string{"NOTIFY_SOCKET=" + sock}
	c.n1.Start()
	c.n1.WaitRsc("local", settleBound) // alone: active after initdead, holds its group
	var ready string
	if _, ok := testbed.WaitFor(5*time.Second, e2ekit.SlowPoll, func() (ok bool) { ready, ok = seen("READY=1"); return }); !ok {
		t.Fatalf("no READY=1 once active; got %q", all())
	}
	if !strings.Contains(ready, "STATUS=") {
		t.Errorf("READY=1 without STATUS=: %q", ready)
	}
	if _, ok := seen("STOPPING=1"); ok {
		t.Errorf("STOPPING=1 before any stop: %q", all())
	}
	if r := c.n1.Heartbeat("-k"); r.Code != 0 {
		t.Fatalf("heartbeat -k: %v", r)
	}
	if _, ok := testbed.WaitFor(5*time.Second, e2ekit.SlowPoll, func() bool { _, ok := seen("STOPPING=1"); return ok }); !ok {
		t.Fatalf("no STOPPING=1 on heartbeat -k; got %q", all())
	}
	t.Logf("notifications: %q", all())
}
