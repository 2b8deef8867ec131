// Package childproc runs one child process of the daemon to completion:
// resource scripts, STONITH plugins, the self-fence program, and later
// check scripts and notify hooks. Every child is started the same way:
//
//   - argv is executed directly, never through a shell; Path is used as
//     given (no $PATH search: callers resolve and check their programs);
//   - in a process group of its own, so that a timeout kills what it
//     started too (a script's "sleep", an ssh a plugin runs);
//   - with exactly the environment given (nil is empty: the daemon's
//     environment is passed only when a caller asks for it), stdin on
//     /dev/null, in "/" unless told otherwise, optionally as another user;
//   - at normal scheduling even when the daemon runs realtime
//     (internal/realtime.Start): services a script starts must not inherit
//     SCHED_RR and starve the machine or the heartbeat.
//
// Run blocks until the program has finished (or has been killed) and its
// output has been read. It has no global state: callers run as many at
// once as they like, each on a goroutine of their own, never on the
// daemon's event loop (Run waits for a process, so it may take as long as
// Spec.Timeout plus the grace periods).
//
// Ending a child: when Spec.Timeout runs out, the whole process group gets
// SIGTERM, then SIGKILL after Spec.KillGrace (at once when KillGrace is
// 0). When the caller's context ends first, the group gets SIGKILL at once:
// the caller has stopped waiting, and a grace would keep it waiting. After
// SIGKILL the program is waited for at most Spec.ReapWait (a process stuck
// in the kernel cannot be reaped); it is then left to a goroutine that
// reaps it whenever it dies.
//
// Output: stdout and stderr are separate pipes, read as data arrives. Each
// stream keeps its first and last Spec.MaxOutput/2 bytes and counts what
// was dropped in between; each line can be passed to Spec.OnLine as it
// arrives (lines longer than Spec.MaxLine are cut, flagged Truncated).
// A program that started a daemon which kept the pipes (an init script
// whose service does not redirect its output) has exited, but its output
// never reaches end of file: Run waits Spec.DrainWait for it, then returns.
// The pipes are not closed under the daemon (its next write would kill it
// with SIGPIPE): they are still read, and their lines still passed to
// OnLine, until the last holder closes them.
package childproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/internal/realtime"
)

// Defaults of Spec's zero fields.
const (
	DefaultReapWait  = 2 * time.Second
	DefaultDrainWait = 300 * time.Millisecond
	DefaultMaxOutput = 64 << 10 // per stream
	DefaultMaxLine   = 4096
)

// ErrTimeout is wrapped by the error of a run that Spec.Timeout ended. It
// also matches context.DeadlineExceeded, so callers that only know
// contexts treat it as one.
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string        { return "timed out" }
func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// ErrStopped is wrapped by the error of a run that Spec.Stop ended.
var ErrStopped = errors.New("stopped")

// Spec is one command to run.
type Spec struct {
	// Path is the program, executed as is (no shell, no $PATH search).
	Path string
	// Args follow argv[0], which is Path.
	Args []string
	// Env is the child's whole environment; nil means an empty one.
	// Pass os.Environ() (and more) to hand on the daemon's own.
	Env []string
	// Dir is the working directory; "" means "/", so a child never holds
	// a directory that an operator wants to unmount.
	Dir string

	// User runs the child as this user (a name): its uid, its primary
	// group (unless Group is set) and its supplementary groups. "" keeps
	// the daemon's credentials. Nothing else changes: HOME, USER and the
	// like are whatever Env says.
	User string
	// Group, when set, is the child's primary group (a name). Without
	// User the child keeps the daemon's uid and has no supplementary
	// groups.
	Group string

	// Timeout bounds the run; 0 means only ctx does.
	Timeout time.Duration
	// KillGrace is how long a timed-out or stopped group has between
	// SIGTERM and SIGKILL; 0 sends SIGKILL at once.
	KillGrace time.Duration
	// Stop, if set, ends the run when it is closed, as a timeout does:
	// SIGTERM to the process group, SIGKILL after KillGrace. The error
	// then wraps ErrStopped. It is how a long-running child (a respawned
	// client) is stopped in an orderly way.
	Stop <-chan struct{}
	// ReapWait bounds the wait for the program after SIGKILL; 0 means
	// DefaultReapWait.
	ReapWait time.Duration
	// DrainWait bounds the wait, after the program has ended, for its
	// output to reach end of file; 0 means DefaultDrainWait.
	DrainWait time.Duration

	// MaxOutput is how many bytes of each stream Result keeps (the first
	// and the last half); 0 means DefaultMaxOutput, a negative value
	// keeps nothing (for callers that take what they need from OnLine).
	MaxOutput int
	// MaxLine is the longest line passed to OnLine; 0 means
	// DefaultMaxLine.
	MaxLine int

	// OnStart, if set, is called with the child's pid once it runs,
	// before any of its output is passed on.
	OnStart func(pid int)
	// OnLine, if set, receives each line of output as it arrives, in
	// order within each stream; calls are never concurrent. It runs on
	// the goroutine reading the pipe and must not block for long (the
	// child would block on a full pipe). It is also called after Run has
	// returned, for lines written later by a descendant that still holds
	// the pipe.
	OnLine func(Line)
	// StdoutTee, if set, is written every byte of stdout as it is read
	// (e.g. to match patterns across lines without keeping the output).
	// Writes are never concurrent, never after Run returns, and their
	// errors are ignored.
	StdoutTee io.Writer
}

// Stream says where a line was written.
type Stream int

const (
	Stdout Stream = 1
	Stderr Stream = 2
)

func (s Stream) String() string {
	if s == Stderr {
		return "stderr"
	}
	return "stdout"
}

// Line is one line of output.
type Line struct {
	Stream Stream
	// Text is the line without its line ending, invalid UTF-8 replaced.
	Text string
	// Truncated: the line was longer than Spec.MaxLine and the rest of it
	// is not in Text (it is in Result's output, within its bounds).
	Truncated bool
}

// Result is how a run ended.
type Result struct {
	// Pid is the child's; 0 when it was not started.
	Pid int
	// ExitCode is the program's exit status; -1 when it did not exit by
	// itself (a signal) or was not started or reaped.
	ExitCode int
	// Signal is the signal that ended it (one of ours when Killed).
	Signal syscall.Signal
	// Killed: Run killed the process group, because Timeout ran out
	// (TimedOut) or the caller's context ended.
	Killed   bool
	TimedOut bool
	// Unreaped: the program was still not reaped ReapWait after SIGKILL.
	Unreaped bool
	// OutputHeld: when Run returned, a descendant still held stdout or
	// stderr open (see the package documentation).
	OutputHeld bool
	// Stdout and Stderr are what was kept of each stream.
	Stdout, Stderr Output
	// Duration is from start to the end of the wait.
	Duration time.Duration
}

// Run runs spec and waits for it within ctx and spec.Timeout.
//
// A non-nil error means the outcome is not the program's own: it was not
// started (Result.Pid is 0), it was killed (ErrTimeout for spec.Timeout,
// else the context's error), or waiting for it failed. An exit code or a
// signal the program died of by itself is not an error: it is in Result.
func Run(ctx context.Context, spec Spec) (Result, error) {
	res := Result{ExitCode: -1}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("%s not run: %w", spec.Path, err)
	}
	spec = spec.withDefaults()
	cred, err := LookupCredential(spec.User, spec.Group)
	if err != nil {
		return res, fmt.Errorf("%s not run: %w", spec.Path, err)
	}

	outR, outW, err := os.Pipe()
	if err != nil {
		return res, fmt.Errorf("%s not run: output pipe: %w", spec.Path, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return res, fmt.Errorf("%s not run: output pipe: %w", spec.Path, err)
	}
	env := spec.Env
	if env == nil {
		env = []string{} // exec.Cmd would pass on the daemon's environment
	}
	cmd := &exec.Cmd{
		Path: spec.Path,
		Args: append([]string{spec.Path}, spec.Args...),
		Env:  env,
		Dir:  spec.Dir,
		// *os.File: the child writes into the pipe directly, and Wait
		// returns when the program exits, not when its pipes close.
		Stdout:      outW,
		Stderr:      errW,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Credential: cred},
	}

	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if spec.Timeout > 0 {
		runCtx, cancel = context.WithTimeout(ctx, spec.Timeout)
	}
	defer cancel()

	began := time.Now()
	err = start(runCtx, cmd)
	// The child has its copies; ours would keep the pipes from ever
	// reaching end of file.
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return res, err // exec's errors name the path ("fork/exec /x: ...")
	}
	pid := cmd.Process.Pid
	res.Pid = pid
	if spec.OnStart != nil {
		spec.OnStart(pid)
	}

	out := newOutputs(spec)
	drained := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); out.read(outR, Stdout) }()
	go func() { defer readers.Done(); out.read(errR, Stderr) }()
	go func() { readers.Wait(); close(drained) }()
	exited := make(chan error, 1) // buffered: an unreaped child's waiter ends on its own
	go func() { exited <- cmd.Wait() }()

	var waitErr error
	reaped := true
	stopped := false
	select {
	case waitErr = <-exited:
	case <-spec.Stop:
		select {
		case waitErr = <-exited: // it finished just as it was told to stop
		default:
			res.Killed, stopped = true, true
			waitErr, reaped = terminate(ctx, pid, spec, exited)
		}
	case <-runCtx.Done():
		select {
		case waitErr = <-exited: // it finished just as time ran out
		default:
			res.Killed = true
			res.TimedOut = ctx.Err() == nil
			waitErr, reaped = terminate(ctx, pid, spec, exited)
		}
	}
	res.Unreaped = !reaped

	drain := time.NewTimer(spec.DrainWait)
	select {
	case <-drained:
	case <-drain.C:
		res.OutputHeld = true
	case <-ctx.Done():
	}
	drain.Stop()
	res.Stdout, res.Stderr = out.detach()
	res.Duration = time.Since(began)

	if reaped {
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
			switch {
			case ws.Exited():
				res.ExitCode = ws.ExitStatus()
			case ws.Signaled():
				res.Signal = ws.Signal()
			}
		}
	}

	if res.Killed {
		cause := ctx.Err()
		switch {
		case res.TimedOut:
			cause = ErrTimeout
		case stopped && cause == nil:
			cause = ErrStopped
		}
		how := fmt.Sprintf("process group %d killed", pid)
		if !reaped {
			how += fmt.Sprintf(", pid %d not reaped %s after SIGKILL", pid, spec.ReapWait)
		}
		return res, fmt.Errorf("%s: %w after %s (%s)", spec.Path, cause, res.Duration.Round(time.Millisecond), how)
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return res, fmt.Errorf("waiting for %s (pid %d): %w", spec.Path, pid, waitErr)
	}
	return res, nil
}

func (s Spec) withDefaults() Spec {
	if s.Dir == "" {
		s.Dir = "/"
	}
	if s.ReapWait <= 0 {
		s.ReapWait = DefaultReapWait
	}
	if s.DrainWait <= 0 {
		s.DrainWait = DefaultDrainWait
	}
	if s.MaxOutput == 0 {
		s.MaxOutput = DefaultMaxOutput
	}
	if s.MaxLine <= 0 {
		s.MaxLine = DefaultMaxLine
	}
	return s
}

// start starts cmd at normal scheduling, retrying briefly while the
// executable is "text file busy": open for writing in another process,
// typically for a moment only (a file just written whose descriptor a
// concurrently forked child still holds until its exec).
func start(ctx context.Context, cmd *exec.Cmd) error {
	delay := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := realtime.Start(cmd) // never at the daemon's realtime priority
		if err == nil || !errors.Is(err, syscall.ETXTBSY) || attempt == 8 {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
		delay *= 2
		// A Cmd cannot be started twice: retry with a fresh copy.
		*cmd = exec.Cmd{Path: cmd.Path, Args: cmd.Args, Env: cmd.Env, Dir: cmd.Dir,
			Stdout: cmd.Stdout, Stderr: cmd.Stderr, SysProcAttr: cmd.SysProcAttr}
	}
}

// terminate kills the process group of a run that ran out of time or
// whose caller gave up: SIGTERM and up to KillGrace for the leader to exit
// (only for a timeout: a caller whose context ended gets no grace), then
// SIGKILL to the whole group, leftover children included, then a bounded
// wait for the leader.
func terminate(ctx context.Context, pid int, spec Spec, exited <-chan error) (waitErr error, reaped bool) {
	if ctx.Err() == nil && spec.KillGrace > 0 {
		_ = unix.Kill(-pid, unix.SIGTERM)
		t := time.NewTimer(spec.KillGrace)
		select {
		case waitErr = <-exited:
			reaped = true
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	// The group id stays reserved while any member lives, and the leader
	// is reaped only just now if at all, so this cannot hit an unrelated
	// process group.
	_ = unix.Kill(-pid, unix.SIGKILL)
	if reaped {
		return waitErr, true
	}
	t := time.NewTimer(spec.ReapWait)
	defer t.Stop()
	select {
	case waitErr = <-exited:
		return waitErr, true
	case <-t.C:
		return nil, false
	}
}
