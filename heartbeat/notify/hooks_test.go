package notify

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/internal/childproc"
)

// script writes an executable shell script.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFor polls cond for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readLines(path string) []string {
	b, _ := os.ReadFile(path)
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Hooks run in event order, one at a time: each run records its start and
// end; no start comes before the previous end. A hook that fails, one that
// hangs (killed at its timeout) and one that is missing do not stop the
// next event's hooks.
func TestHooksOrderOneAtATimeAndFailures(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	// The recording hook: start line, a short sleep, end line.
	good := script(t, dir, "good", `echo "start $HA_EVENT $*" >> `+rec+`
sleep 0.05
echo "end $HA_EVENT" >> `+rec+`
`)
	bad := script(t, dir, "bad", `[ "$HA_EVENT" = link-dead ] && exit 3; exit 0`+"\n")
	hang := script(t, dir, "hang", `[ "$HA_EVENT" = node-dead ] && { sleep 60 & sleep 60; }; exit 0`+"\n")
	h := NewHooks([]config.HookSpec{{Argv: []string{bad}}, {Argv: []string{hang}}, {Argv: []string{good, "x"}},
		{When: "master", Argv: []string{filepath.Join(dir, "gone")}}}, Options{Timeout: 1500 * time.Millisecond})
	defer h.Close(5 * time.Second)
	events := []Event{{Name: "link-dead"}, {Name: "node-dead"}, {Name: "group-starting", Group: "g"},
		{Name: "group-active", Group: "g", State: Master, Score: 100}, {Name: "node-up"}}
	start := time.Now()
	for _, e := range events {
		h.Notify(e)
	}
	if took := time.Since(start); took > 50*time.Millisecond {
		t.Errorf("Notify blocked for %v", took)
	}
	waitFor(t, 10*time.Second, "five events recorded", func() bool { return len(readLines(rec)) == 10 })
	want := []string{
		"start link-dead x", "end link-dead",
		"start node-dead x", "end node-dead",
		"start group-starting x", "end group-starting",
		"start group-active x GROUP g MASTER 100", "end group-active",
		"start node-up x", "end node-up",
	}
	if got := readLines(rec); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("record\n%q\nwant\n%q", got, want)
	}
	// bad once, hang once (killed), the missing notify_master once.
	// (The timeout leaves room for a loaded machine: a quick hook killed
	// there would count as one more failure.)
	waitFor(t, 3*time.Second, "the counters", func() bool { return h.Failed() == 3 })
	if h.Runs() != 16 || h.Dropped() != 0 {
		t.Errorf("runs %d dropped %d", h.Runs(), h.Dropped())
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("the hanging hook held the queue for %v", took)
	}
}

// A hook that runs past its timeout is killed with its process group
// (the sleep it started too).
func TestHookTimeoutKillsTheGroup(t *testing.T) {
	dir := t.TempDir()
	pidf := filepath.Join(dir, "pid")
	hang := script(t, dir, "hang", "sleep 60 &\necho $! > "+pidf+"\nwait\n")
	h := NewHooks([]config.HookSpec{{Argv: []string{hang}}}, Options{Timeout: 300 * time.Millisecond})
	h.Notify(Event{Name: "node-dead"})
	waitFor(t, 10*time.Second, "the timeout", func() bool { return h.Failed() == 1 })
	h.Close(time.Second)
	b, err := os.ReadFile(pidf)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	waitFor(t, 5*time.Second, "the hook's child to die", func() bool {
		st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		return err != nil || strings.Contains(string(st), ") Z ")
	})
}

// A hook that floods its output, or starts a daemon that keeps the pipes,
// does not hold the queue.
func TestHookFloodAndDaemon(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	flood := script(t, dir, "flood", "head -c 2000000 /dev/zero | tr '\\0' x\necho $HA_EVENT >> "+rec+"\n")
	daemon := script(t, dir, "daemon", "sleep 3 &\necho $HA_EVENT >> "+rec+"\n")
	h := NewHooks([]config.HookSpec{{Argv: []string{flood}}, {Argv: []string{daemon}}}, Options{Timeout: 5 * time.Second})
	defer h.Close(time.Second)
	start := time.Now()
	h.Notify(Event{Name: "node-dead"})
	h.Notify(Event{Name: "node-up"})
	waitFor(t, 10*time.Second, "both events", func() bool { return len(readLines(rec)) == 4 })
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Errorf("took %v: the daemon's pipe held the queue", took)
	}
	if got := strings.Join(readLines(rec), " "); got != "node-dead node-dead node-up node-up" {
		t.Errorf("record %q", got)
	}
}

// With the runner stuck, events beyond the queue are dropped and counted,
// and the count is logged when the runner moves on; the queued ones run.
func TestHookQueueOverflow(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var ran []string
	run := func(ctx context.Context, s childproc.Spec) (childproc.Result, error) {
		mu.Lock()
		first := len(ran) == 0
		ran = append(ran, s.Env[1])
		mu.Unlock()
		if first {
			<-release
		}
		return childproc.Result{ExitCode: 0}, nil
	}
	h := NewHooks([]config.HookSpec{{Argv: []string{"/hook"}}}, Options{Run: run, Queue: 3})
	h.Notify(Event{Name: "e0"})
	waitFor(t, 2*time.Second, "the first run", func() bool { mu.Lock(); defer mu.Unlock(); return len(ran) == 1 })
	for i := 1; i <= 10; i++ {
		h.Notify(Event{Name: "e" + strconv.Itoa(i)})
	}
	if h.Dropped() != 7 {
		t.Errorf("dropped %d, want 7", h.Dropped())
	}
	close(release)
	h.Close(2 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(ran, " "); got != "HA_EVENT=e0 HA_EVENT=e1 HA_EVENT=e2 HA_EVENT=e3" {
		t.Errorf("ran %q", got)
	}
}
