package watchdogtest

import (
	"errors"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hasuite/hasuite/watchdog"
)

// wait bounds every wait; nothing asserts on how long things take.
const wait = 10 * time.Second

func open(t *testing.T, e *Emulator) *watchdog.Device {
	t.Helper()
	d, err := watchdog.Open(e.Path, watchdog.DefaultTimeout(time.Second))
	if err != nil {
		t.Fatalf("watchdog.Open: %v", err)
	}
	if !errors.Is(d.SetTimeoutErr(), watchdog.ErrTimeoutNotSet) {
		t.Errorf("SetTimeoutErr() = %v on a FIFO, want ErrTimeoutNotSet", d.SetTimeoutErr())
	}
	return d
}

func kick(t *testing.T, d *watchdog.Device, n int) {
	t.Helper()
	for range n {
		if err := d.Kick(); err != nil {
			t.Fatalf("Kick: %v", err)
		}
	}
}

func TestEmulator(t *testing.T) {
	type step struct {
		op string // "open", "kick", "close", "abandon"
		n  int    // kicks
	}
	for _, tc := range []struct {
		name      string
		keepArmed bool
		steps     []step
		wantFired bool
		want      State // Opens, Kicks, Busy, Armed, Disarmed compared (not Fired*)
	}{
		{
			name:  "orderly stop disarms",
			steps: []step{{op: "open"}, {op: "kick", n: 5}, {op: "close"}},
			want:  State{Opens: 1, Closes: 1, Kicks: 5, Disarmed: true},
		},
		{
			name:  "close without kicks disarms",
			steps: []step{{op: "open"}, {op: "close"}},
			want:  State{Opens: 1, Closes: 1, Disarmed: true},
		},
		{
			name:      "abandon fires",
			steps:     []step{{op: "open"}, {op: "kick", n: 2}, {op: "abandon"}},
			wantFired: true,
			want:      State{Opens: 1, Closes: 1, Kicks: 2},
		},
		{
			name:      "abandon then orderly reopen still fired once",
			steps:     []step{{op: "open"}, {op: "abandon"}, {op: "open"}, {op: "kick", n: 1}, {op: "abandon"}},
			wantFired: true,
			want:      State{Opens: 2, Closes: 2, Kicks: 1},
		},
		{
			name:  "restart: close and reopen",
			steps: []step{{op: "open"}, {op: "kick", n: 3}, {op: "close"}, {op: "open"}, {op: "kick", n: 4}},
			want:  State{Opens: 2, Closes: 1, Kicks: 7, Armed: true},
		},
		{
			name:      "softdog mode: unexpected close keeps running, reopen kicks, orderly stop",
			keepArmed: true,
			steps:     []step{{op: "open"}, {op: "kick", n: 1}, {op: "abandon"}, {op: "open"}, {op: "kick", n: 1}, {op: "close"}},
			want:      State{Opens: 2, Closes: 2, Kicks: 2, Disarmed: true},
		},
		{
			name:  "two writers at once are busy",
			steps: []step{{op: "open"}, {op: "open"}, {op: "close"}, {op: "close"}},
			want:  State{Opens: 2, Closes: 2, Busy: 1, Disarmed: true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fires atomic.Int32
			e := &Emulator{Margin: time.Hour, KeepArmedOnClose: tc.keepArmed, OnFire: func() { fires.Add(1) }}
			e.Start(t)
			var devs []*watchdog.Device
			opens, kicks, closes := 0, 0, 0
			for _, s := range tc.steps {
				switch s.op {
				case "open":
					devs = append(devs, open(t, e))
					opens++
					// Each open is seen before the next step, so the
					// steps are judged one at a time.
					if !e.WaitOpens(opens, wait) {
						t.Fatalf("open %d not seen: %+v", opens, e.State())
					}
				case "kick":
					kick(t, devs[len(devs)-1], s.n)
					kicks += s.n
					if !e.WaitKicks(kicks, wait) {
						t.Fatalf("kicks not seen: %+v", e.State())
					}
				case "close", "abandon":
					d := devs[0]
					devs = devs[1:]
					var err error
					if s.op == "close" {
						err = d.Close()
					} else {
						err = d.Abandon()
					}
					if err != nil {
						t.Fatal(err)
					}
					closes++
					if !e.WaitCloses(closes, wait) {
						t.Fatalf("close not seen: %+v", e.State())
					}
				}
			}
			got, _ := e.WaitFor(wait, func(s State) bool { return s.Fired == tc.wantFired })
			if got.Fired != tc.wantFired {
				t.Errorf("Fired = %v, want %v", got.Fired, tc.wantFired)
			}
			if n := fires.Load(); n != map[bool]int32{true: 1}[tc.wantFired] {
				t.Errorf("OnFire called %d times", n)
			}
			got.Fired, got.FiredAt = false, time.Time{}
			if got != tc.want {
				t.Errorf("state %+v, want %+v", got, tc.want)
			}
			for _, d := range devs {
				d.Close()
			}
		})
	}
}

// TestEmulatorMargin: no kick within the margin fires, not before it.
func TestEmulatorMargin(t *testing.T) {
	fired := make(chan struct{}, 2)
	e := &Emulator{Margin: 50 * time.Millisecond, OnFire: func() { fired <- struct{}{} }}
	e.Start(t)
	start := time.Now()
	d := open(t, e)
	defer d.Abandon()
	if !e.WaitFired(wait) {
		t.Fatalf("not fired: %+v", e.State())
	}
	ok, at := e.Fired()
	if !ok || at.Sub(start) < e.Margin {
		t.Errorf("Fired() = %v at +%v, want after the %v margin", ok, at.Sub(start), e.Margin)
	}
	if len(fired) != 1 {
		t.Errorf("OnFire called %d times, want 1", len(fired))
	}
	// Fired is final: kicks are still drained but change nothing.
	kick(t, d, 3)
	if !e.WaitKicks(3, wait) {
		t.Fatalf("kicks after firing not drained: %+v", e.State())
	}
	if s := e.State(); !s.Fired || s.Armed || s.FiredAt != at {
		t.Errorf("state after firing changed: %+v", s)
	}
}

// TestEmulatorRestarts reopens back to back, without waiting for the
// emulator in between: every close is a magic one, so nothing may fire.
func TestEmulatorRestarts(t *testing.T) {
	const restarts = 200
	e := &Emulator{Margin: time.Hour, OnFire: func() { t.Error("fired during restarts") }}
	e.Start(t)
	for range restarts {
		d := open(t, e)
		kick(t, d, 2)
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s, ok := e.WaitFor(wait, func(s State) bool { return s.Closes == restarts && s.Kicks == 2*restarts })
	if !ok || s.Fired || s.Busy != 0 || s.Opens != restarts || !s.Disarmed {
		t.Errorf("after %d restarts: %+v", restarts, s)
	}
}

// TestEmulatorAbandonAmongRestarts: one abandon among orderly restarts fires.
func TestEmulatorAbandonAmongRestarts(t *testing.T) {
	e := &Emulator{Margin: time.Hour}
	e.Start(t)
	for i := range 20 {
		d := open(t, e)
		kick(t, d, 1)
		if i == 10 {
			d.Abandon()
		} else {
			d.Close()
		}
	}
	if !e.WaitFired(wait) {
		t.Errorf("not fired: %+v", e.State())
	}
}

func TestEmulatorStop(t *testing.T) {
	e := &Emulator{}
	e.Start(t)
	if e.Margin != DefaultMargin || e.Path == "" {
		t.Errorf("defaults: margin %v path %q", e.Margin, e.Path)
	}
	e.Stop()
	e.Stop()
	if _, err := watchdog.Open(e.Path, time.Second); err == nil {
		t.Error("FIFO still usable after Stop")
	}
}

func TestFake(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ops       string
		kicks     int
		closed    bool
		abandoned bool
		lastErr   error
	}{
		{name: "kicks and close", ops: "kkc", kicks: 2, closed: true},
		{name: "abandon", ops: "ka", kicks: 1, abandoned: true},
		{name: "kick after close", ops: "ck", closed: true, lastErr: watchdog.ErrClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f Fake
			var w watchdog.Watchdog = &f
			var err error
			for _, op := range tc.ops {
				switch op {
				case 'k':
					err = w.Kick()
				case 'c':
					err = w.Close()
				case 'a':
					err = w.Abandon()
				}
			}
			if !errors.Is(err, tc.lastErr) || (err == nil) != (tc.lastErr == nil) {
				t.Errorf("last error %v, want %v", err, tc.lastErr)
			}
			if f.Kicks() != tc.kicks || f.Closed() != tc.closed || f.Abandoned() != tc.abandoned {
				t.Errorf("kicks %d closed %v abandoned %v", f.Kicks(), f.Closed(), f.Abandoned())
			}
		})
	}
}

// TestEmulatorKeepArmedBurst: in softdog mode, abandons followed at once by
// reopens do not fire, and a final orderly close disarms.
func TestEmulatorKeepArmedBurst(t *testing.T) {
	e := &Emulator{Margin: time.Hour, KeepArmedOnClose: true, OnFire: func() { t.Error("fired") }}
	e.Start(t)
	const n = 50
	for i := range n {
		d := open(t, e)
		kick(t, d, 1)
		if i%2 == 0 && i < n-1 {
			d.Abandon()
		} else {
			d.Close()
		}
	}
	s, ok := e.WaitFor(wait, func(s State) bool { return s.Closes == n })
	if !ok || s.Fired || !s.Disarmed || s.Armed {
		t.Errorf("after the burst: %+v", s)
	}
}

// TestEmulatorOtherProcess: writers in other processes (a shell here, the
// daemon in e2e tests) are seen the same way.
func TestEmulatorOtherProcess(t *testing.T) {
	for _, tc := range []struct {
		name      string
		script    string
		kicks     int
		wantFired bool
	}{
		{"magic close", `printf '\000\000\000V' >"$1"`, 3, false},
		{"exit without magic", `printf '\000\000' >"$1"`, 2, true},
		{"two runs, second without magic", `printf '\000V' >"$1"; printf '\000' >"$1"`, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &Emulator{Margin: time.Hour}
			e.Start(t)
			if out, err := exec.Command("sh", "-c", tc.script, "sh", e.Path).CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			s, _ := e.WaitFor(wait, func(s State) bool { return s.Kicks == tc.kicks && s.Closes == s.Opens && (s.Fired || s.Disarmed) })
			if s.Fired != tc.wantFired || s.Disarmed == tc.wantFired || s.Kicks != tc.kicks {
				t.Errorf("state %+v, want fired %v", s, tc.wantFired)
			}
		})
	}
}
