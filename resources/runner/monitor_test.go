package runner

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasuite/hasuite/resources/agent"
	"github.com/hasuite/hasuite/resources/manager"
)

// hangs is a fake whose status blocks until its context ends.
type hangs struct {
	fake
	hang bool
}

func (h *hangs) Status(ctx context.Context) (bool, error) {
	h.mu.Lock()
	hang := h.hang
	h.mu.Unlock()
	if hang {
		<-ctx.Done()
		return false, ctx.Err()
	}
	return h.fake.Status(ctx)
}

// counting wraps a fake and counts overlapping status calls.
type counting struct {
	fake
	mu2         sync.Mutex
	in, maxIn   int
	calls       int
	statusDelay time.Duration
}

func (c *counting) Status(ctx context.Context) (bool, error) {
	c.mu2.Lock()
	c.in++
	c.calls++
	if c.in > c.maxIn {
		c.maxIn = c.in
	}
	c.mu2.Unlock()
	time.Sleep(c.statusDelay)
	c.mu2.Lock()
	c.in--
	c.mu2.Unlock()
	return c.fake.Status(ctx)
}

func monitored(interval, timeout time.Duration) func(string, int, agent.Agent) MonitorSpec {
	return func(string, int, agent.Agent) MonitorSpec { return MonitorSpec{Interval: interval, Timeout: timeout} }
}

func waitResult(t *testing.T, r *Runner) Result {
	t.Helper()
	select {
	case res := <-r.Results():
		return res
	case <-time.After(5 * time.Second):
		t.Fatal("no result")
	}
	return Result{}
}

func waitFailure(t *testing.T, r *Runner, within time.Duration) Failure {
	t.Helper()
	select {
	case f := <-r.Failures():
		return f
	case <-time.After(within):
		t.Fatalf("no monitor failure within %v", within)
	}
	return Failure{}
}

func TestMonitorReportsAFailureAndRestartInPlace(t *testing.T) {
	j := &journal{}
	vip, httpd, app := &fake{name: "vip", j: j}, &fake{name: "httpd", j: j}, &fake{name: "app", j: j}
	r := New(map[string][]agent.Agent{"g": {vip, httpd, app}}, Options{Monitors: monitored(20*time.Millisecond, time.Second),
		StopRetries: 1})
	defer r.Close()
	r.Submit(manager.Action{Kind: manager.Start, Group: "g"})
	if res := waitResult(t, r); res.Err != nil {
		t.Fatal(res.Err)
	}
	time.Sleep(100 * time.Millisecond) // several healthy rounds
	httpd.mu.Lock()
	httpd.running = false
	httpd.mu.Unlock()
	f := waitFailure(t, r, 2*time.Second)
	if f.Group != "g" || f.Resource != 1 || f.Name != "httpd" || f.Reason != "not running" || f.Unusable {
		t.Fatalf("failure %+v", f)
	}
	// The round ended: no second report before the restart.
	select {
	case f := <-r.Failures():
		t.Fatalf("a second report %+v before the node layer decided", f)
	case <-time.After(100 * time.Millisecond):
	}
	before := len(strings.Fields(j.String()))
	r.Submit(manager.Action{Kind: manager.Restart, Group: "g", Resource: 1})
	if res := waitResult(t, r); res.Err != nil || res.Action.Kind != manager.Restart {
		t.Fatalf("restart result %+v", res)
	}
	got := strings.Join(strings.Fields(j.String())[before:], " ")
	if got != "stop:app stop:httpd start:httpd start:app" {
		t.Fatalf("restart did %q, want the failed resource and the ones after it stopped right to left, started left to right", got)
	}
	// Monitoring resumed: the next failure is reported too.
	app.mu.Lock()
	app.running = false
	app.mu.Unlock()
	if f := waitFailure(t, r, 2*time.Second); f.Resource != 2 {
		t.Fatalf("failure %+v, want app's", f)
	}
	// A stop ends monitoring.
	r.Submit(manager.Action{Kind: manager.Stop, Group: "g"})
	waitResult(t, r)
	select {
	case f := <-r.Failures():
		t.Fatalf("report %+v after the stop", f)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestMonitorTimeoutIsAFailure(t *testing.T) {
	h := &hangs{fake: fake{name: "svc", j: &journal{}}}
	r := New(map[string][]agent.Agent{"g": {h}}, Options{Monitors: monitored(20*time.Millisecond, 50*time.Millisecond)})
	defer r.Close()
	r.Submit(manager.Action{Kind: manager.Start, Group: "g"})
	waitResult(t, r)
	time.Sleep(60 * time.Millisecond)
	h.mu.Lock()
	h.hang = true
	h.mu.Unlock()
	t0 := time.Now()
	f := waitFailure(t, r, 2*time.Second)
	if !strings.HasPrefix(f.Reason, "monitor timed out after") || f.Unusable {
		t.Fatalf("failure %+v", f)
	}
	if took := time.Since(t0); took > time.Second {
		t.Fatalf("the hung check was reported after %v (timeout 50ms)", took)
	}
}

func TestMonitorOfAStatusThatNeverSaysRunningIsSwitchedOff(t *testing.T) {
	j := &journal{}
	// A resource.d script without a status action: its status never
	// says running (Heartbeat's stdout rule), even right after its start.
	never := &neverRunning{fake{name: "nostatus", j: j}}
	r := New(map[string][]agent.Agent{"g": {never}}, Options{Monitors: monitored(10*time.Millisecond, time.Second)})
	defer r.Close()
	r.Submit(manager.Action{Kind: manager.Start, Group: "g"})
	waitResult(t, r)
	f := waitFailure(t, r, 2*time.Second)
	if !f.Unusable || !strings.Contains(f.Reason, "no usable status action") {
		t.Fatalf("failure %+v, want an unusable report", f)
	}
	select {
	case f := <-r.Failures():
		t.Fatalf("second report %+v: monitoring should be off for it", f)
	case <-time.After(100 * time.Millisecond):
	}
}

type neverRunning struct{ fake }

func (n *neverRunning) Status(context.Context) (bool, error) { return false, nil }

func TestMonitorOneCheckAtATimeAndNeverDuringActions(t *testing.T) {
	c := &counting{fake: fake{name: "svc", j: &journal{}}, statusDelay: 30 * time.Millisecond}
	r := New(map[string][]agent.Agent{"g": {c}}, Options{Monitors: monitored(time.Millisecond, time.Second)})
	defer r.Close()
	r.Submit(manager.Action{Kind: manager.Start, Group: "g"})
	waitResult(t, r)
	time.Sleep(300 * time.Millisecond)
	c.mu2.Lock()
	maxIn, calls := c.maxIn, c.calls
	c.mu2.Unlock()
	if maxIn != 1 || calls < 3 || calls > 12 {
		t.Fatalf("%d checks in 300ms, at most %d at once: want one at a time, each after the last ended plus the interval", calls, maxIn)
	}
}

func TestNoMonitorsByDefault(t *testing.T) {
	f := &fake{name: "svc", j: &journal{}}
	r := New(map[string][]agent.Agent{"g": {f}}, Options{Monitors: monitored(0, 0)})
	defer r.Close()
	r.Submit(manager.Action{Kind: manager.Start, Group: "g"})
	waitResult(t, r)
	f.mu.Lock()
	f.running = false
	f.mu.Unlock()
	select {
	case x := <-r.Failures():
		t.Fatalf("report %+v with monitoring off", x)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestRestartWhoseStopFailsIsStopFailed(t *testing.T) {
	j := &journal{}
	a, b := &fake{name: "a", j: j}, &fake{name: "b", j: j, stopFails: 10}
	r := New(map[string][]agent.Agent{"g": {a, b}}, Options{StopRetries: 2, StopRetryDelay: time.Millisecond})
	defer r.Close()
	r.Submit(manager.Action{Kind: manager.Start, Group: "g"})
	waitResult(t, r)
	r.Submit(manager.Action{Kind: manager.Restart, Group: "g", Resource: 0})
	res := waitResult(t, r)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "could not be stopped") {
		t.Fatalf("restart result %v, want a stop failure", res.Err)
	}
	if !errorsIs(res.Err, manager.ErrStopFailed) {
		t.Fatalf("%v does not wrap manager.ErrStopFailed", res.Err)
	}
	// And a restart whose start fails stops what it started, from the
	// restarted resource on only.
	j2 := &journal{}
	x, y := &fake{name: "x", j: j2}, &fake{name: "y", j: j2}
	r2 := New(map[string][]agent.Agent{"g": {x, y}}, Options{StopRetries: 1})
	defer r2.Close()
	r2.Submit(manager.Action{Kind: manager.Start, Group: "g"})
	waitResult(t, r2)
	y.failStart = true
	r2.Submit(manager.Action{Kind: manager.Restart, Group: "g", Resource: 1})
	res = waitResult(t, r2)
	if res.Err == nil || errorsIs(res.Err, manager.ErrStopFailed) {
		t.Fatalf("restart result %v, want a start failure", res.Err)
	}
	if got := j2.String(); got != "start:x start:y stop:y start:y stop:y" {
		t.Fatalf("journal %q", got)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// A stop queued behind a start (or restart) ends the monitoring the start
// begins: nothing is checked, re-added or reported after the stop.
func TestStopQueuedBehindStartEndsMonitoring(t *testing.T) {
	j := &journal{}
	svc := &fake{name: "svc", j: j}
	r := New(map[string][]agent.Agent{"g": {svc}}, Options{Monitors: monitored(10*time.Millisecond, time.Second),
		Monitor: func(agent.Agent) bool { return true }, MonitorInterval: 10 * time.Millisecond})
	defer r.Close()
	r.Submit(manager.Action{Kind: manager.Start, Group: "g"})
	r.Submit(manager.Action{Kind: manager.Stop, Group: "g"})
	waitResult(t, r)
	waitResult(t, r)
	time.Sleep(100 * time.Millisecond)
	if got := j.String(); got != "start:svc stop:svc" {
		t.Fatalf("journal %q: the stopped resource was started again by a monitor", got)
	}
	select {
	case f := <-r.Failures():
		t.Fatalf("report %+v after the stop", f)
	default:
	}
}
