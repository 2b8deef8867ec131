package runner

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func shCheck(script string, interval, timeout time.Duration) CheckSpec {
	return CheckSpec{Group: "g", Name: "c", Path: "/bin/sh", Args: []string{"-c", script}, Interval: interval, Timeout: timeout,
		Env: []string{"PATH=/usr/bin:/bin"}}
}

func TestRunCheckOutcomes(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		script string
		ok     bool
		reason string
	}{
		{"exit 0", true, ""},
		{"echo broken >&2; exit 3", false, "exit status 3: broken"},
		{"kill -9 $$", false, "killed by signal 9"},
	} {
		r := RunCheck(ctx, shCheck(tc.script, time.Second, time.Second))
		if r.OK != tc.ok || !strings.HasPrefix(r.Reason, tc.reason) {
			t.Errorf("%q: ok %v reason %q, want %v %q", tc.script, r.OK, r.Reason, tc.ok, tc.reason)
		}
	}
	r := RunCheck(ctx, CheckSpec{Path: "/nonexistent/check", Timeout: time.Second})
	if r.OK || r.Reason == "" {
		t.Errorf("a missing program: %+v", r)
	}
}

// A check that hangs is killed at its timeout with its process group
// (the sleep it started too) and counts as a failure.
func TestRunCheckTimeoutKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	t0 := time.Now()
	r := RunCheck(context.Background(), shCheck("sleep 30 & echo $! > "+pidFile+"; wait", time.Second, 300*time.Millisecond))
	if r.OK || !strings.Contains(r.Reason, "timed out") {
		t.Fatalf("%+v", r)
	}
	if took := time.Since(t0); took > 3*time.Second {
		t.Fatalf("took %s", took)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := syscall.Kill(pid, 0)
		st, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the check's sleep %d survived its timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A check that floods its output is bounded and still judged by its
// exit status; one that forks a daemon holding its output and exits is
// judged at once.
func TestRunCheckFloodAndDaemon(t *testing.T) {
	r := RunCheck(context.Background(), shCheck("head -c 20000000 /dev/zero | tr '\\0' x; echo; echo last >&2; exit 1", 5*time.Second, 5*time.Second))
	if r.OK || !strings.Contains(r.Reason, "exit status 1: last") || len(r.Reason) > 300 {
		t.Fatalf("flood: %.300q", r.Reason)
	}
	t0 := time.Now()
	r = RunCheck(context.Background(), shCheck("sleep 3 & exit 0", time.Second, time.Second))
	if !r.OK || time.Since(t0) > time.Second {
		t.Fatalf("a check that leaves a daemon holding its output: %+v after %s", r, time.Since(t0))
	}
}

// Runs of one check never overlap, and keep coming at their interval.
func TestCheckerOneAtATime(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "lock")
	c := StartChecks([]CheckSpec{
		shCheck("mkdir "+lock+" || exit 7; sleep 0.05; rmdir "+lock, time.Millisecond, time.Second),
		{Group: "h", Index: 1, Name: "t", Path: "/bin/true", Interval: 20 * time.Millisecond, Timeout: time.Second},
	})
	defer c.Close()
	var g, h int
	deadline := time.After(5 * time.Second)
	for g < 10 || h < 3 {
		select {
		case r := <-c.Results():
			if !r.OK {
				t.Fatalf("%+v: runs overlapped", r)
			}
			if r.Group == "g" {
				g++
			} else if r.Index != 1 || r.Name != "t" {
				t.Fatalf("%+v", r)
			} else {
				h++
			}
		case <-deadline:
			t.Fatalf("only %d and %d results", g, h)
		}
	}
}

// A check with a user runs as that user.
func TestRunCheckAsUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to change user")
	}
	s := shCheck(`test "$(id -u)" = "$(id -u nobody)"`, time.Second, 5*time.Second)
	s.User = "nobody"
	if r := RunCheck(context.Background(), s); !r.OK {
		t.Fatalf("as nobody: %+v", r)
	}
	s.User = ""
	if r := RunCheck(context.Background(), s); r.OK {
		t.Fatalf("as root it claims to be nobody: %+v", r)
	}
}
