package respawn

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []Event
	ch     chan Event
}

func newRecorder() *recorder { return &recorder{ch: make(chan Event, 1000)} }

func (r *recorder) report(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.ch <- e
}

// wait returns the next event of kind k for program i.
func (r *recorder) wait(t *testing.T, i int, k EventKind) Event {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e := <-r.ch:
			if e.Index == i && e.Kind == k {
				return e
			}
		case <-deadline:
			t.Fatalf("no event %d for program %d", k, i)
		}
	}
}

func (r *recorder) count(i int, k EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Index == i && e.Kind == k {
			n++
		}
	}
	return n
}

func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

var env = []string{"PATH=/usr/bin:/bin"}

// A program killed is restarted; one that exits 100 is not.
func TestSupervisorRestartsAfterKill(t *testing.T) {
	r := newRecorder()
	s := New([]Program{{Path: script(t, "echo up\nexec sleep 300\n"), Env: env}}, time.Second, r.report)
	s.Start()
	defer s.Stop()
	first := r.wait(t, 0, Started)
	if err := syscall.Kill(first.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ex := r.wait(t, 0, Exited)
	if ex.Exit.Signal != syscall.SIGKILL || ex.Verdict != Restart {
		t.Fatalf("exit %v verdict %v", ex.Exit, ex.Verdict)
	}
	second := r.wait(t, 0, Started)
	if second.Pid == first.Pid || second.Runs != 1 {
		t.Fatalf("restart: pid %d runs %d", second.Pid, second.Runs)
	}
	if l := r.wait(t, 0, Output); l.Line.Text != "up" {
		t.Errorf("output %q", l.Line.Text)
	}
}

func TestSupervisorExit100(t *testing.T) {
	r := newRecorder()
	s := New([]Program{{Path: script(t, "exit 100\n"), Env: env}}, time.Second, r.report)
	s.Start()
	ex := r.wait(t, 0, Exited)
	if ex.Exit.Code != 100 || ex.Verdict != NoRespawn {
		t.Fatalf("exit %v verdict %v", ex.Exit, ex.Verdict)
	}
	time.Sleep(200 * time.Millisecond)
	s.Stop()
	if n := r.count(0, Started); n != 1 {
		t.Fatalf("started %d times", n)
	}
}

// A program that exits at once is started 11 times (the first start and
// 10 restarts), then given up: respawning too fast.
func TestSupervisorTooFast(t *testing.T) {
	r := newRecorder()
	s := New([]Program{{Path: script(t, "exit 1\n"), Env: env}}, time.Second, r.report)
	s.Start()
	defer s.Stop()
	for {
		ex := r.wait(t, 0, Exited)
		if ex.Verdict == TooFast {
			break
		}
		if ex.Verdict != Restart {
			t.Fatalf("verdict %v", ex.Verdict)
		}
	}
	if n := r.count(0, Started); n != MaxShortRestarts+1 {
		t.Fatalf("started %d times, want %d", n, MaxShortRestarts+1)
	}
}

// Stop ends the programs in reverse order, each with SIGTERM, and they
// are not restarted.
func TestSupervisorStopReverseOrder(t *testing.T) {
	log := filepath.Join(t.TempDir(), "order")
	prog := func(name string) Program {
		return Program{Path: script(t, "trap 'echo "+name+" >> "+log+"; exit 0' TERM\necho ready\nwhile :; do sleep 0.05; done\n"), Env: env}
	}
	r := newRecorder()
	s := New([]Program{prog("a"), prog("b"), prog("c")}, 5*time.Second, r.report)
	s.Start()
	deadline := time.After(20 * time.Second)
	for ready := 0; ready < 3; {
		select {
		case e := <-r.ch:
			if e.Kind == Output && e.Line.Text == "ready" {
				ready++
			}
		case <-deadline:
			t.Fatal("the programs did not start")
		}
	}
	s.Stop()
	s.Stop() // a second call only waits
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(b)); strings.Join(got, " ") != "c b a" {
		t.Fatalf("stopped in order %v, want c b a", got)
	}
	for i := range 3 {
		if n := r.count(i, Started); n != 1 {
			t.Errorf("program %d started %d times", i, n)
		}
	}
}

// A failfast program that dies of a signal asks for the node to be fenced
// and is not restarted.
func TestSupervisorFailFast(t *testing.T) {
	r := newRecorder()
	s := New([]Program{{Path: script(t, "kill -SEGV $$\n"), Env: env, FailFast: true}}, time.Second, r.report)
	s.Start()
	defer s.Stop()
	ex := r.wait(t, 0, Exited)
	if ex.Verdict != Fenced || ex.Exit.Signal != syscall.SIGSEGV {
		t.Fatalf("exit %v verdict %v", ex.Exit, ex.Verdict)
	}
}

// A program that cannot be started is an abnormal exit.
func TestSupervisorNotStarted(t *testing.T) {
	r := newRecorder()
	s := New([]Program{{Path: "/nonexistent/prog", Env: env, FailFast: true}}, time.Second, r.report)
	s.Start()
	defer s.Stop()
	ex := r.wait(t, 0, Exited)
	if ex.Exit.StartErr == nil || ex.Verdict != Fenced {
		t.Fatalf("exit %v verdict %v", ex.Exit, ex.Verdict)
	}
}
