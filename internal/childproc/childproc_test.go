package childproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary doubles as a child that prints its scheduling.
const childEnv = "CHILDPROC_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		fmt.Print(describeScheduling())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// describeScheduling names the calling thread's scheduling, e.g. "rr/10"
// or "other/0".
func describeScheduling() string {
	a, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		return "error: " + err.Error()
	}
	switch a.Policy {
	case unix.SCHED_RR:
		return fmt.Sprintf("rr/%d", a.Priority)
	case unix.SCHED_FIFO:
		return fmt.Sprintf("fifo/%d", a.Priority)
	case unix.SCHED_NORMAL:
		return fmt.Sprintf("other/%d", a.Nice)
	}
	return fmt.Sprintf("policy%d/%d", a.Policy, a.Priority)
}

// script writes an executable sh script into a fresh directory.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// lines records OnLine calls.
type lines struct {
	mu  sync.Mutex
	got []Line
}

func (l *lines) add(x Line) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, x)
}

func (l *lines) all() []Line {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.got)
}

func (l *lines) texts(s Stream) []string {
	var out []string
	for _, x := range l.all() {
		if x.Stream == s {
			out = append(out, x.Text)
		}
	}
	return out
}

// alive reports whether pid runs (a zombie does not: in a container nobody
// may reap re-parented children).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

func waitDead(t *testing.T, pid int, what string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Errorf("%s (pid %d) still alive", what, pid)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readPid waits for a pid a script writes into path.
func readPid(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				return pid
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pid in %s", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func killLater(t *testing.T, pid int) {
	t.Cleanup(func() {
		if alive(pid) {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	})
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		code     int
		signal   syscall.Signal
		stdout   string
		stderr   string
		lineText []string
	}{
		{name: "success", body: "echo out; echo err >&2; exit 0\n", code: 0, stdout: "out\n", stderr: "err\n"},
		{name: "exit 1", body: "exit 1\n", code: 1},
		{name: "exit 3", body: "echo stopped; exit 3\n", code: 3, stdout: "stopped\n"},
		{name: "exit 255", body: "exit 255\n", code: 255},
		{name: "signal", body: "echo dying; kill -SEGV $$\n", code: -1, signal: syscall.SIGSEGV, stdout: "dying\n"},
		{name: "signal TERM", body: "kill -TERM $$\n", code: -1, signal: syscall.SIGTERM},
		{name: "last line without newline", body: "printf 'a\\nb'\n", stdout: "a\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := script(t, tt.body)
			res, err := Run(context.Background(), Spec{Path: path, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tt.code || res.Signal != tt.signal {
				t.Errorf("exit code %d signal %v, want %d %v", res.ExitCode, res.Signal, tt.code, tt.signal)
			}
			if res.Killed || res.TimedOut || res.OutputHeld || res.Unreaped || res.Pid <= 0 {
				t.Errorf("result %+v", res)
			}
			if got := res.Stdout.String(); got != tt.stdout {
				t.Errorf("stdout %q, want %q", got, tt.stdout)
			}
			if got := res.Stderr.String(); got != tt.stderr {
				t.Errorf("stderr %q, want %q", got, tt.stderr)
			}
		})
	}
}

// hang records its pid and a child's, then waits for ever; with trap it
// also ignores SIGTERM (and so does its child).
func hang(ignoreTerm bool) string {
	s := ""
	if ignoreTerm {
		s = "trap '' TERM\n"
	}
	return s + `echo $$ > "$0.pid"
sleep 300 &
echo $! > "$0.child"
echo hanging
while :; do wait; done
`
}

func TestKillsTheWholeGroup(t *testing.T) {
	tests := []struct {
		name       string
		ignoreTerm bool
		timeout    time.Duration
		killGrace  time.Duration
		ctxTimeout time.Duration // the caller's deadline; 0: none
		cancel     bool          // the caller cancels once the script runs
		wantIs     []error
		wantNot    []error
		timedOut   bool
		minElapsed time.Duration
		maxElapsed time.Duration
	}{
		// Timeouts leave the script time to start its child even on a
		// loaded machine: the child's death is what is checked.
		{name: "timeout, SIGKILL at once", timeout: 2 * time.Second,
			wantIs: []error{ErrTimeout, context.DeadlineExceeded}, timedOut: true, minElapsed: 2 * time.Second, maxElapsed: 5 * time.Second},
		{name: "timeout, SIGTERM obeyed", timeout: 2 * time.Second, killGrace: time.Minute,
			wantIs: []error{ErrTimeout}, timedOut: true, minElapsed: 2 * time.Second, maxElapsed: 5 * time.Second},
		{name: "timeout, SIGTERM ignored: SIGKILL after the grace", ignoreTerm: true, timeout: 2 * time.Second, killGrace: time.Second,
			wantIs: []error{ErrTimeout}, timedOut: true, minElapsed: 3 * time.Second, maxElapsed: 6 * time.Second},
		{name: "caller's deadline: no grace", ignoreTerm: true, timeout: time.Minute, killGrace: time.Minute, ctxTimeout: 2 * time.Second,
			wantIs: []error{context.DeadlineExceeded}, wantNot: []error{ErrTimeout}, minElapsed: 2 * time.Second, maxElapsed: 5 * time.Second},
		{name: "caller cancels: no grace", ignoreTerm: true, timeout: time.Minute, killGrace: time.Minute, cancel: true,
			wantIs: []error{context.Canceled}, wantNot: []error{ErrTimeout, context.DeadlineExceeded}, maxElapsed: 8 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := script(t, hang(tt.ignoreTerm))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.ctxTimeout > 0 {
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}
			if tt.cancel {
				go func() {
					for i := 0; i < 500; i++ {
						if _, err := os.Stat(path + ".child"); err == nil {
							break
						}
						time.Sleep(10 * time.Millisecond)
					}
					time.Sleep(100 * time.Millisecond)
					cancel()
				}()
			}
			var l lines
			began := time.Now()
			res, err := Run(ctx, Spec{Path: path, Timeout: tt.timeout, KillGrace: tt.killGrace, OnLine: l.add})
			elapsed := time.Since(began)
			if err == nil {
				t.Fatal("no error from a hanging script")
			}
			for _, want := range tt.wantIs {
				if !errors.Is(err, want) {
					t.Errorf("error %q is not %v", err, want)
				}
			}
			for _, not := range tt.wantNot {
				if errors.Is(err, not) {
					t.Errorf("error %q is %v", err, not)
				}
			}
			if !res.Killed || res.TimedOut != tt.timedOut || res.Unreaped || res.ExitCode != -1 || res.Signal == 0 {
				t.Errorf("result %+v", res)
			}
			if !strings.Contains(err.Error(), "process group "+strconv.Itoa(res.Pid)+" killed") || !strings.Contains(err.Error(), path) {
				t.Errorf("error lacks the path or the kill: %q", err)
			}
			if got := res.Stdout.String(); got != "hanging\n" {
				t.Errorf("stdout %q", got)
			}
			if got := l.texts(Stdout); !slices.Equal(got, []string{"hanging"}) {
				t.Errorf("lines %q", got)
			}
			if elapsed < tt.minElapsed || elapsed > tt.maxElapsed {
				t.Errorf("returned after %v, want %v to %v", elapsed, tt.minElapsed, tt.maxElapsed)
			}
			if pid := readPid(t, path+".pid"); pid != res.Pid {
				t.Errorf("script pid %d, Result.Pid %d", pid, res.Pid)
			}
			waitDead(t, res.Pid, "script")
			waitDead(t, readPid(t, path+".child"), "script's child sleep")
		})
	}
}

// A program that starts a daemon which keeps stdout open returns at once;
// the daemon lives on, and what it writes later still reaches OnLine.
func TestDaemonHoldingOutput(t *testing.T) {
	path := script(t, `(sleep 0.5; echo late; exec sleep 30) &
echo $! > "$0.child"
echo started
exit 0
`)
	var l lines
	began := time.Now()
	res, err := Run(context.Background(), Spec{Path: path, Timeout: 10 * time.Second, DrainWait: 200 * time.Millisecond, OnLine: l.add})
	elapsed := time.Since(began)
	if err != nil {
		t.Fatal(err)
	}
	daemon := readPid(t, path+".child")
	killLater(t, daemon)
	if elapsed > 2*time.Second {
		t.Errorf("Run took %v", elapsed)
	}
	if res.ExitCode != 0 || !res.OutputHeld || res.Killed {
		t.Errorf("result %+v, want exit 0 with OutputHeld", res)
	}
	if !alive(daemon) {
		t.Error("the daemon the program started was killed")
	}
	if got := res.Stdout.String(); got != "started\n" {
		t.Errorf("stdout %q", got)
	}
	deadline := time.Now().Add(3 * time.Second)
	for !slices.Equal(l.texts(Stdout), []string{"started", "late"}) {
		if time.Now().After(deadline) {
			t.Fatalf("lines %q, want the late line too", l.texts(Stdout))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := res.Stdout.String(); got != "started\n" {
		t.Errorf("Result changed after Run returned: %q", got)
	}
}

func TestOutputBounded(t *testing.T) {
	// About 140 KB on stdout: "L<n>\n" lines, then a 10000-byte line;
	// 100 KiB on stderr.
	path := script(t, `i=0
while [ $i -lt 20000 ]; do echo "L$i"; i=$((i+1)); done
head -c 10000 /dev/zero | tr '\0' x
echo
head -c 102400 /dev/zero | tr '\0' e >&2
echo END
`)
	var l lines
	res, err := Run(context.Background(), Spec{Path: path, Timeout: 60 * time.Second, MaxOutput: 4096, MaxLine: 100, OnLine: l.add})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	var want bytes.Buffer
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&want, "L%d\n", i)
	}
	want.WriteString(strings.Repeat("x", 10000) + "\nEND\n")
	w := want.Bytes()
	so := res.Stdout
	if !bytes.Equal(so.Head, w[:2048]) || !bytes.Equal(so.Tail, w[len(w)-2048:]) {
		t.Errorf("stdout head %q... tail ...%q", so.Head[:20], so.Tail[len(so.Tail)-20:])
	}
	if so.Size() != int64(len(w)) || so.Dropped != int64(len(w)-4096) {
		t.Errorf("stdout size %d dropped %d, want %d and %d", so.Size(), so.Dropped, len(w), len(w)-4096)
	}
	se := res.Stderr
	if len(se.Head)+len(se.Tail) != 4096 || se.Size() != 102400 || strings.Trim(string(se.Bytes()), "e") != "" {
		t.Errorf("stderr kept %d+%d of %d", len(se.Head), len(se.Tail), se.Size())
	}
	if s := so.String(); !strings.Contains(s, fmt.Sprintf("\n[%d bytes dropped]\n", so.Dropped)) {
		t.Errorf("String() lacks the dropped mark")
	}

	out := l.texts(Stdout)
	if len(out) != 20002 {
		t.Fatalf("%d stdout lines, want 20002", len(out))
	}
	for i := 0; i < 20000; i++ {
		if out[i] != "L"+strconv.Itoa(i) {
			t.Fatalf("line %d is %q: not in order", i, out[i])
		}
	}
	var long, errLine Line
	for _, x := range l.all() {
		if x.Stream == Stdout && strings.HasPrefix(x.Text, "x") {
			long = x
		}
		if x.Stream == Stderr {
			errLine = x
		}
	}
	if long.Text != strings.Repeat("x", 100) || !long.Truncated || out[20001] != "END" {
		t.Errorf("long line %d bytes truncated %v; last %q", len(long.Text), long.Truncated, out[20001])
	}
	if errLine.Text != strings.Repeat("e", 100) || !errLine.Truncated {
		t.Errorf("stderr line %d bytes truncated %v", len(errLine.Text), errLine.Truncated)
	}
}

// Every byte of stdout reaches the tee, however long its lines.
func TestStdoutTee(t *testing.T) {
	path := script(t, "head -c 100000 /dev/zero | tr '\\0' y; echo; echo err >&2\n")
	var tee bytes.Buffer
	res, err := Run(context.Background(), Spec{Path: path, Timeout: 10 * time.Second, MaxOutput: 100, StdoutTee: &tee})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	if tee.String() != strings.Repeat("y", 100000)+"\n" {
		t.Errorf("tee got %d bytes", tee.Len())
	}
	// A negative MaxOutput keeps nothing, and still counts.
	tee.Reset()
	res, err = Run(context.Background(), Spec{Path: path, Timeout: 10 * time.Second, MaxOutput: -1, StdoutTee: &tee})
	if err != nil || len(res.Stdout.Bytes()) != 0 || res.Stdout.Dropped != 100001 || res.Stderr.Dropped != 4 || tee.Len() != 100001 {
		t.Errorf("MaxOutput -1: stdout %+v, stderr %+v, tee %d bytes, %v", res.Stdout.Size(), res.Stderr.Size(), tee.Len(), err)
	}
}

func TestEnvironmentExact(t *testing.T) {
	t.Setenv("CHILDPROC_DAEMON_ONLY", "leak")
	for _, tt := range []struct {
		name string
		env  []string
	}{
		{"nil is empty", nil},
		{"given", []string{"A=1", "B=two words", "C=", "PATH=/nowhere"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), Spec{Path: "/usr/bin/env", Env: tt.env, Timeout: 10 * time.Second})
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("%+v %v", res, err)
			}
			got := strings.Split(strings.TrimSuffix(res.Stdout.String(), "\n"), "\n")
			if res.Stdout.String() == "" {
				got = nil
			}
			if !slices.Equal(got, tt.env) {
				t.Errorf("environment %q, want %q", got, tt.env)
			}
		})
	}
}

func TestArgvStdinDir(t *testing.T) {
	path := script(t, `for a in "$@"; do printf '[%s]' "$a"; done
echo
readlink /proc/self/fd/0
pwd
cat
`)
	res, err := Run(context.Background(), Spec{Path: path, Args: []string{"a b", "$HOME", "; touch /tmp/childproc-pwned"}, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[a b][$HOME][; touch /tmp/childproc-pwned]\n/dev/null\n/\n"; res.Stdout.String() != want {
		t.Errorf("stdout %q, want %q", res.Stdout.String(), want)
	}
	dir := t.TempDir()
	res, err = Run(context.Background(), Spec{Path: "/bin/pwd", Dir: dir, Timeout: 10 * time.Second})
	if err != nil || res.Stdout.String() != dir+"\n" {
		t.Errorf("pwd in Dir: %q %v", res.Stdout.String(), err)
	}
}

func TestNotStarted(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	noShebang := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(noShebang, []byte("echo hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ran := script(t, "touch \"$0.ran\"\n")
	for _, tt := range []struct {
		name   string
		ctx    context.Context
		spec   Spec
		wantIs error
		want   string
	}{
		{"context already done", cancelled, Spec{Path: ran}, context.Canceled, "not run"},
		{"missing", context.Background(), Spec{Path: "/nonexistent/prog"}, os.ErrNotExist, "/nonexistent/prog"},
		{"not executable format", context.Background(), Spec{Path: noShebang}, syscall.ENOEXEC, noShebang},
		{"unknown user", context.Background(), Spec{Path: ran, User: "no-such-user-childproc"}, user.UnknownUserError("no-such-user-childproc"), `run as user "no-such-user-childproc"`},
		{"unknown group", context.Background(), Spec{Path: ran, Group: "no-such-group-childproc"}, user.UnknownGroupError("no-such-group-childproc"), `run as group "no-such-group-childproc"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(tt.ctx, tt.spec)
			if err == nil || !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %v containing %q", err, tt.wantIs, tt.want)
			}
			if res.Pid != 0 || res.ExitCode != -1 {
				t.Errorf("result %+v of a program not started", res)
			}
		})
	}
	if _, err := os.Stat(ran + ".ran"); err == nil {
		t.Error("a program ran although Run refused it")
	}
}

func TestRunAsNobody(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running a child as another user needs root")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody:", err)
	}
	path := script(t, "id -u; id -g; id -G\n")
	// t.TempDir's parent is private to root: let nobody reach the script.
	if err := os.Chmod(filepath.Dir(filepath.Dir(path)), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Spec{Path: path, User: "nobody", Timeout: 10 * time.Second})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("%+v %v (stderr %q)", res, err, res.Stderr.String())
	}
	groups, _ := u.GroupIds()
	want := u.Uid + "\n" + u.Gid + "\n" + strings.Join(groups, " ") + "\n"
	if got := res.Stdout.String(); got != want {
		t.Errorf("id says %q, want %q", got, want)
	}
	g, err := user.LookupGroupId("0")
	if err != nil {
		t.Skip("no group 0:", err)
	}
	res, err = Run(context.Background(), Spec{Path: path, User: "nobody", Group: g.Name, Timeout: 10 * time.Second})
	if err != nil || !strings.HasPrefix(res.Stdout.String(), u.Uid+"\n0\n") {
		t.Errorf("as nobody:%s: %q %v", g.Name, res.Stdout.String(), err)
	}
}

// onThreadAt runs f on a thread of its own set to SCHED_RR at prio, and
// puts the thread back afterwards (as internal/realtime's tests do).
func onThreadAt(t *testing.T, prio int, f func()) {
	t.Helper()
	done := make(chan struct{})
	var skip error
	go func() {
		defer close(done)
		runtime.LockOSThread()
		err := unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_RR, Priority: uint32(prio)}, 0)
		if err != nil {
			skip = err
			runtime.UnlockOSThread()
			return
		}
		f()
		if err := unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL}, 0); err == nil {
			runtime.UnlockOSThread() // else the thread ends with this goroutine
		}
	}()
	<-done
	if skip != nil {
		if errors.Is(skip, unix.EPERM) {
			t.Skip("needs CAP_SYS_NICE to set SCHED_RR:", skip)
		}
		t.Fatal(skip)
	}
}

func TestChildRunsAtNormalScheduling(t *testing.T) {
	onThreadAt(t, 10, func() {
		if got := describeScheduling(); got != "rr/10" {
			t.Errorf("the test thread runs at %s, want rr/10", got)
		}
		res, err := Run(context.Background(), Spec{Path: os.Args[0], Args: []string{"-test.run=^$"}, Env: []string{childEnv + "=1"}, Timeout: 30 * time.Second})
		if err != nil || res.ExitCode != 0 {
			t.Errorf("%+v %v", res, err)
		} else if got := res.Stdout.String(); got != "other/0" {
			t.Errorf("child runs at %s, want other/0", got)
		}
		if got := describeScheduling(); got != "rr/10" {
			t.Errorf("the starting thread runs at %s after Run, want rr/10", got)
		}
	})
}

// Runs share nothing: many at once each get their own output and status.
func TestConcurrentRuns(t *testing.T) {
	path := script(t, `i=0; while [ $i -lt 200 ]; do echo "$1 $i"; i=$((i+1)); done; exit $1`)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for k := 0; k < n; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var l lines
			res, err := Run(context.Background(), Spec{Path: path, Args: []string{strconv.Itoa(k)}, Timeout: 30 * time.Second, OnLine: l.add})
			switch {
			case err != nil:
				errs <- err
			case res.ExitCode != k:
				errs <- fmt.Errorf("run %d: exit code %d", k, res.ExitCode)
			case len(l.texts(Stdout)) != 200 || l.texts(Stdout)[199] != fmt.Sprintf("%d 199", k):
				errs <- fmt.Errorf("run %d: lines %q", k, l.texts(Stdout))
			case !strings.HasPrefix(res.Stdout.String(), fmt.Sprintf("%d 0\n", k)):
				errs <- fmt.Errorf("run %d: stdout %q", k, res.Stdout.String()[:20])
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestKeeper(t *testing.T) {
	// Against a plain buffer, for many write patterns.
	for _, max := range []int{1, 2, 7, 64} {
		for _, chunk := range []int{1, 3, 5, 64, 200} {
			k := newKeeper(max)
			var all []byte
			for i := 0; i < 300; i += chunk {
				p := make([]byte, chunk)
				for j := range p {
					p[j] = byte(i + j)
				}
				k.write(p)
				all = append(all, p...)
				o := k.output()
				h := max - max/2
				wantHead := all[:min(h, len(all))]
				wantTail := all[len(wantHead):]
				if len(wantTail) > max/2 {
					wantTail = wantTail[len(wantTail)-max/2:]
				}
				if !bytes.Equal(o.Head, wantHead) || !bytes.Equal(o.Tail, wantTail) || o.Size() != int64(len(all)) {
					t.Fatalf("max %d chunk %d after %d bytes: head %v tail %v dropped %d", max, chunk, len(all), o.Head, o.Tail, o.Dropped)
				}
			}
		}
	}
}
