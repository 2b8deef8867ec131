package script

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/internal/realtime"
	"github.com/hasuite/hasuite/resources/agent"
)

// OpError is the error of an operation that failed: a bad exit code, a
// signal, a timeout, a cancellation, or a program that could not be run.
type OpError struct {
	Resource string
	Op       string // start, stop, status or monitor
	Path     string
	// Code is the exit code, or -1 when the program did not exit by itself
	// (signal, timeout) or did not run.
	Code int
	// Reason says what went wrong in words, e.g. "exit code 6
	// (OCF_ERR_CONFIGURED: not configured)".
	Reason string
	// Output holds the last lines of output (stdout and stderr
	// interleaved as they arrived), oldest first.
	Output []string
	// Err is agent.ErrTimeout (also wrapping context.DeadlineExceeded when
	// the caller's deadline passed), context.Canceled, or why the program
	// could not run; nil for a bad exit code or signal.
	Err error
}

// errorTailLines is how many of Output the error message quotes.
const errorTailLines = 5

func (e *OpError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", e.Resource, e.Op, e.Reason)
	if len(e.Output) > 0 {
		tail := e.Output
		if len(tail) > errorTailLines {
			tail = tail[len(tail)-errorTailLines:]
		}
		b.WriteString("; last output: ")
		for i, l := range tail {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(l)
		}
	}
	return b.String()
}

func (e *OpError) Unwrap() error { return e.Err }

// result is what one run of the program produced.
type result struct {
	a       *scriptAgent
	op      string
	code    int            // exit code; -1 when signalled
	signal  syscall.Signal // non-zero when killed by a signal we did not send
	running bool           // Heartbeat's stdout rule, when asked for
	tail    []string
	err     error // *OpError: not run, timed out or cancelled
}

// failure is the error for a completed run whose outcome is a failure.
func (r result) failure(codeName string) error {
	reason := fmt.Sprintf("exit code %d", r.code)
	if r.signal != 0 {
		reason = "killed by signal " + unix.SignalName(r.signal)
	} else if codeName != "" {
		reason += " (" + codeName + ")"
	}
	return &OpError{Resource: r.a.name, Op: r.op, Path: r.a.path, Code: r.code,
		Reason: reason + " from " + r.a.path, Output: r.tail}
}

// run executes "<path> <args...> <op>" and waits for it within the
// operation timeout and ctx. r.err is set when there is no exit status to
// judge.
func (a *scriptAgent) run(ctx context.Context, op string, matchStatus bool) result {
	r := result{a: a, op: op, code: -1}
	fail := func(reason string, err error, tail []string) result {
		a.log(a.name, op+": "+reason)
		r.err = &OpError{Resource: a.name, Op: op, Path: a.path, Code: -1, Reason: reason, Output: tail, Err: err}
		return r
	}
	if err := ctx.Err(); err != nil {
		return fail("not run: "+err.Error(), ctxError(err), nil)
	}
	began := time.Now()
	opCtx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()

	if a.rscTmp != "" {
		if err := os.MkdirAll(a.rscTmp, 0o755); err != nil {
			return fail("cannot create HA_RSCTMP: "+err.Error(), err, nil)
		}
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return fail("cannot create a pipe: "+err.Error(), err, nil)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return fail("cannot create a pipe: "+err.Error(), err, nil)
	}
	args := make([]string, 0, len(a.args)+2)
	args = append(append(append(args, a.path), a.args...), op)
	cmd := &exec.Cmd{
		Path:        a.path,
		Args:        args,
		Env:         a.env,
		Dir:         "/",
		Stdout:      outW, // *os.File: handed to the child, no copying goroutine
		Stderr:      errW,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	err = startRetrying(opCtx, cmd)
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return fail("cannot run "+a.path+": "+err.Error(), err, nil)
	}
	pid := cmd.Process.Pid
	a.log(a.name, fmt.Sprintf("%s: running %s (pid %d)", op, strings.Join(args, " "), pid))

	c := newCapture(a.log, a.name, op, matchStatus)
	drained := make(chan struct{})
	readers := make(chan struct{}, 2)
	go func() { c.read(outR, "", matchStatus); readers <- struct{}{} }()
	go func() { c.read(errR, "stderr: ", false); readers <- struct{}{} }()
	go func() { <-readers; <-readers; close(drained) }()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var waitErr error
	killed := false
	reaped := true
	select {
	case waitErr = <-exited:
	case <-opCtx.Done():
		select {
		case waitErr = <-exited: // it finished just as time ran out
		default:
			killed = true
			waitErr, reaped = a.terminate(ctx, pid, exited)
		}
	}
	if !reaped {
		a.log(a.name, fmt.Sprintf("%s: pid %d not reaped %s after SIGKILL", op, pid, a.reapWait))
	}
	a.awaitOutput(ctx, op, drained)
	r.tail = c.lines()
	elapsed := time.Since(began).Round(time.Millisecond)

	if killed {
		cause := ctx.Err()
		var err error
		var reason string
		switch {
		case cause == nil:
			err = agent.ErrTimeout
			reason = fmt.Sprintf("%s after %s (process group %d killed)", agent.ErrTimeout, a.timeout, pid)
		case errors.Is(cause, context.DeadlineExceeded):
			err = ctxError(cause)
			reason = fmt.Sprintf("%s: caller's deadline passed after %s (process group %d killed)", agent.ErrTimeout, elapsed, pid)
		default:
			err = cause
			reason = fmt.Sprintf("%s after %s (process group %d killed)", cause, elapsed, pid)
		}
		return fail(reason, err, r.tail)
	}
	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
		r.code = 0
	case errors.As(waitErr, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.signal = ws.Signal()
		} else {
			r.code = exitErr.ExitCode()
		}
	default:
		return fail("waiting for "+a.path+": "+waitErr.Error(), waitErr, r.tail)
	}
	if matchStatus {
		r.running = c.statusRunning()
	}
	if r.signal != 0 {
		a.log(a.name, fmt.Sprintf("%s: killed by signal %s after %s", op, unix.SignalName(r.signal), elapsed))
	} else {
		a.log(a.name, fmt.Sprintf("%s: exit code %d after %s", op, r.code, elapsed))
	}
	return r
}

// startRetrying starts cmd, retrying briefly while the executable is
// "text file busy": open for writing in another process, typically for a
// moment only (a file just written whose descriptor a concurrently forked
// child still holds until its exec).
func startRetrying(ctx context.Context, cmd *exec.Cmd) error {
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

// terminate kills the process group of an operation that ran out of time
// or was cancelled: SIGTERM, up to killGrace for the leader to exit (no
// grace once the caller's context is done), then SIGKILL to the whole group
// (leftover children included), then a bounded wait for the leader.
func (a *scriptAgent) terminate(ctx context.Context, pid int, exited <-chan error) (waitErr error, reaped bool) {
	reaped = false
	if ctx.Err() == nil && a.killGrace > 0 {
		_ = unix.Kill(-pid, unix.SIGTERM)
		t := time.NewTimer(a.killGrace)
		select {
		case waitErr = <-exited:
			reaped = true
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	// The group id stays reserved while any member lives, so this cannot
	// hit an unrelated process group.
	_ = unix.Kill(-pid, unix.SIGKILL)
	if reaped {
		return waitErr, true
	}
	t := time.NewTimer(a.reapWait)
	defer t.Stop()
	select {
	case waitErr = <-exited:
		return waitErr, true
	case <-t.C:
		return nil, false
	}
}

// awaitOutput waits a little for the output pipes to reach end of file. A
// child that outlives the program and keeps them open (a daemon started
// without redirecting its output) must not hold the operation up: its
// output keeps being logged by the readers, which close the pipes at EOF.
func (a *scriptAgent) awaitOutput(ctx context.Context, op string, drained <-chan struct{}) {
	t := time.NewTimer(a.drainWait)
	defer t.Stop()
	select {
	case <-drained:
	case <-t.C:
		a.log(a.name, op+": output still held open by a child process; not waiting for it")
	case <-ctx.Done():
	}
}

// ctxError maps a context error to the errors an operation wraps.
func ctxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", agent.ErrTimeout, err)
	}
	return err
}
