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

type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	j.lines = append(j.lines, s)
	j.mu.Unlock()
}

func (j *journal) String() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return strings.Join(j.lines, " ")
}

type fake struct {
	mu        sync.Mutex
	name      string
	j         *journal
	failStart bool
	stopFails int // how many stops fail before one succeeds
	running   bool
}

func (f *fake) Start(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.j.add("start:" + f.name)
	if f.failStart {
		return errors.New("no")
	}
	f.running = true
	return nil
}

func (f *fake) Stop(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.j.add("stop:" + f.name)
	if f.stopFails > 0 {
		f.stopFails--
		return errors.New("busy")
	}
	f.running = false
	return nil
}

func (f *fake) Status(context.Context) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running, nil
}
func (f *fake) String() string { return f.name }

func run(t *testing.T, agents []agent.Agent, acts ...manager.ActionKind) []Result {
	t.Helper()
	r := New(map[string][]agent.Agent{"g": agents}, Options{StopRetries: 3, StopRetryDelay: time.Millisecond})
	defer r.Close()
	var out []Result
	for _, k := range acts {
		r.Submit(manager.Action{Kind: k, Group: "g"})
	}
	for range acts {
		select {
		case res := <-r.Results():
			out = append(out, res)
		case <-time.After(10 * time.Second):
			t.Fatal("no result")
		}
	}
	return out
}

func TestRunnerOrder(t *testing.T) {
	tests := []struct {
		name    string
		build   func(j *journal) []agent.Agent
		acts    []manager.ActionKind
		journal string
		errs    []bool
	}{
		{"start left to right, stop right to left", func(j *journal) []agent.Agent {
			return []agent.Agent{&fake{name: "ip", j: j}, &fake{name: "fs", j: j}, &fake{name: "httpd", j: j}}
		}, []manager.ActionKind{manager.Start, manager.Stop},
			"start:ip start:fs start:httpd stop:httpd stop:fs stop:ip", []bool{false, false}},
		{"failed start stops what was started", func(j *journal) []agent.Agent {
			return []agent.Agent{&fake{name: "ip", j: j}, &fake{name: "fs", j: j, failStart: true}, &fake{name: "httpd", j: j}}
		}, []manager.ActionKind{manager.Start},
			"start:ip start:fs stop:fs stop:ip", []bool{true}},
		{"stop retried until it works", func(j *journal) []agent.Agent {
			return []agent.Agent{&fake{name: "ip", j: j, running: true, stopFails: 2}}
		}, []manager.ActionKind{manager.Stop},
			"stop:ip stop:ip stop:ip", []bool{false}},
		{"stop that keeps failing with the resource running fails", func(j *journal) []agent.Agent {
			return []agent.Agent{&fake{name: "db", j: j, running: true, stopFails: 99}, &fake{name: "ip", j: j, running: true}}
		}, []manager.ActionKind{manager.Stop},
			"stop:ip stop:db stop:db stop:db", []bool{true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &journal{}
			res := run(t, tt.build(j), tt.acts...)
			if got := j.String(); got != tt.journal {
				t.Fatalf("journal %q, want %q", got, tt.journal)
			}
			for i, r := range res {
				if (r.Err != nil) != tt.errs[i] {
					t.Fatalf("result %d: err %v, want error %v", i, r.Err, tt.errs[i])
				}
			}
		})
	}
}

// A failing stop of a resource that turns out not to run is only a warning.
func TestRunnerStopFailureButNotRunning(t *testing.T) {
	j := &journal{}
	f := &fake{name: "x", j: j, stopFails: 99, running: false}
	if res := run(t, []agent.Agent{f}, manager.Stop); res[0].Err != nil {
		t.Fatalf("err %v", res[0].Err)
	}
}

// slow blocks its start until released, to show groups run in parallel.
type slow struct {
	fake
	release chan struct{}
}

func (s *slow) Start(ctx context.Context) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.fake.Start(ctx)
}

func (s *slow) Stop(ctx context.Context) error           { return s.fake.Stop(ctx) }
func (s *slow) Status(ctx context.Context) (bool, error) { return s.fake.Status(ctx) }
func (s *slow) String() string                           { return s.fake.String() }

func TestRunnerGroupsAreIndependent(t *testing.T) {
	j := &journal{}
	blocked := &slow{fake: fake{name: "slow", j: j}, release: make(chan struct{})}
	r := New(map[string][]agent.Agent{"a": {blocked}, "b": {&fake{name: "fast", j: j}}}, Options{})
	defer r.Close()
	r.Submit(manager.Action{Kind: manager.Start, Group: "a"})
	r.Submit(manager.Action{Kind: manager.Start, Group: "b"})
	select {
	case res := <-r.Results():
		if res.Action.Group != "b" {
			t.Fatalf("group a finished first while blocked: %+v", res)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("group b waited for group a")
	}
	close(blocked.release)
	if res := <-r.Results(); res.Action.Group != "a" || res.Err != nil {
		t.Fatalf("group a: %+v", res)
	}
}

func TestMonitorRestartsAVanishedResource(t *testing.T) {
	j := &journal{}
	vip := &fake{name: "vip", j: j}
	svc := &fake{name: "svc", j: j}
	r := New(map[string][]agent.Agent{"g": {vip, svc}}, Options{MonitorInterval: time.Millisecond,
		Monitor: func(a agent.Agent) bool { return a == agent.Agent(vip) }})
	defer r.Close()
	r.Submit(manager.Action{Kind: manager.Start, Group: "g"})
	<-r.Results() // a successful start begins the monitoring by itself
	vip.mu.Lock()
	vip.running = false // removed behind our back
	vip.mu.Unlock()
	select {
	case a := <-r.Alerts():
		if a.Resource != "vip" || a.Err != nil {
			t.Fatalf("alert %+v", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no alert")
	}
	if !strings.Contains(j.String(), "start:vip start:svc start:vip") {
		t.Fatalf("journal %s", j)
	}
	if strings.Count(j.String(), "start:svc") != 1 {
		t.Fatal("an unmonitored resource was restarted")
	}
}

func TestCheckFirstSkipsRunningResources(t *testing.T) {
	j := &journal{}
	up := &fake{name: "up", j: j, running: true}
	down := &fake{name: "down", j: j}
	r := New(map[string][]agent.Agent{"g": {up, down}}, Options{CheckFirst: func(agent.Agent) bool { return true }})
	defer r.Close()
	r.Submit(manager.Action{Kind: manager.Start, Group: "g"})
	if res := <-r.Results(); res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := j.String(); got != "start:down" {
		t.Fatalf("journal %q: a running resource was started again", got)
	}
}

type announcing struct {
	fake
	announced chan struct{}
}

func (a *announcing) Announce(context.Context) error { close(a.announced); return nil }

func TestAnnounceReachesVIPsWithoutAResult(t *testing.T) {
	j := &journal{}
	vip := &announcing{fake: fake{name: "vip", j: j}, announced: make(chan struct{})}
	r := New(map[string][]agent.Agent{"g": {vip, &fake{name: "svc", j: j}}}, Options{})
	defer r.Close()
	r.Submit(manager.Action{Kind: manager.Announce, Group: "g"})
	select {
	case <-vip.announced:
	case <-time.After(10 * time.Second):
		t.Fatal("not announced")
	}
	r.Submit(manager.Action{Kind: manager.Start, Group: "g"})
	if res := <-r.Results(); res.Action.Kind != manager.Start {
		t.Fatalf("announce produced a result: %+v", res)
	}
}
