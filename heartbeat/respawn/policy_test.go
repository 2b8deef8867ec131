package respawn

import (
	"errors"
	"syscall"
	"testing"
	"time"
)

func TestPolicyExit100NotRestarted(t *testing.T) {
	var p Policy
	p.Started(0)
	if v := p.Exited(time.Second, Exit{Code: 100}, false); v != NoRespawn {
		t.Fatalf("exit 100: %v, want no-respawn", v)
	}
	// Only an exit of its own with code 100: a signal is not one.
	p.Started(0)
	if v := p.Exited(time.Second, Exit{Code: -1, Signal: syscall.SIGKILL}, false); v != Restart {
		t.Fatalf("killed: %v, want restart", v)
	}
}

func TestPolicyRestarts(t *testing.T) {
	for _, e := range []Exit{{Code: 0}, {Code: 1}, {Code: -1, Signal: syscall.SIGKILL}, {Code: -1, StartErr: errors.New("no such file")}} {
		var p Policy
		p.Started(0)
		if v := p.Exited(time.Minute, e, false); v != Restart {
			t.Errorf("%v: %v, want restart", e, v)
		}
	}
}

// More than 10 restarts, each within 30 s of the start before it: the
// 11th is refused, and the count starts over afterwards.
func TestPolicyTooFast(t *testing.T) {
	var p Policy
	now := time.Duration(0)
	p.Started(now)
	for i := 1; i <= MaxShortRestarts; i++ {
		now += time.Second
		if v := p.Exited(now, Exit{Code: 1}, false); v != Restart {
			t.Fatalf("restart %d: %v", i, v)
		}
		p.Started(now)
	}
	now += time.Second
	if v := p.Exited(now, Exit{Code: 1}, false); v != TooFast {
		t.Fatalf("restart %d: %v, want too-fast", MaxShortRestarts+1, v)
	}
	p.Started(now) // the operator's next start gets the whole allowance
	for i := 1; i <= MaxShortRestarts; i++ {
		now += time.Second
		if v := p.Exited(now, Exit{Code: 1}, false); v != Restart {
			t.Fatalf("after the refusal, restart %d: %v", i, v)
		}
		p.Started(now)
	}
}

// A run of 30 s or more starts the count over.
func TestPolicyLongRunResets(t *testing.T) {
	var p Policy
	now := time.Duration(0)
	p.Started(now)
	for i := 0; i < 3*MaxShortRestarts; i++ {
		d := time.Second
		if i%MaxShortRestarts == MaxShortRestarts-1 {
			d = ShortRun // every 10th run is long enough
		}
		now += d
		if v := p.Exited(now, Exit{Code: 1}, false); v != Restart {
			t.Fatalf("exit %d after %s: %v", i, d, v)
		}
		p.Started(now)
	}
}

func TestPolicyStopping(t *testing.T) {
	p := Policy{FailFast: true}
	p.Started(0)
	if v := p.Exited(time.Second, Exit{Code: -1, Signal: syscall.SIGTERM}, true); v != Stopped {
		t.Fatalf("stopping: %v, want stopped (no fence for our own stop)", v)
	}
}

func TestPolicyFailFast(t *testing.T) {
	for _, tc := range []struct {
		e    Exit
		want Verdict
	}{
		{Exit{Code: -1, Signal: syscall.SIGSEGV}, Fenced},
		{Exit{Code: 2}, Fenced},
		{Exit{Code: -1, StartErr: errors.New("exec format error")}, Fenced},
		{Exit{Code: 0}, Restart},
		{Exit{Code: 100}, NoRespawn},
	} {
		p := Policy{FailFast: true}
		p.Started(0)
		if v := p.Exited(time.Second, tc.e, false); v != tc.want {
			t.Errorf("failfast, %v: %v, want %v", tc.e, v, tc.want)
		}
	}
}
