package script

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/internal/childproc"
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
	if a.rscTmp != "" {
		if err := os.MkdirAll(a.rscTmp, 0o755); err != nil {
			return fail("cannot create HA_RSCTMP: "+err.Error(), err, nil)
		}
	}
	args := append(append(make([]string, 0, len(a.args)+1), a.args...), op)
	c := newCapture(a.log, a.name, op)
	spec := childproc.Spec{
		Path:      a.path,
		Args:      args,
		Env:       a.env,
		Timeout:   a.timeout,
		KillGrace: a.killGrace,
		ReapWait:  a.reapWait,
		DrainWait: a.drainWait,
		MaxLine:   maxLineLen,
		MaxOutput: -1, // the last lines, as they were logged, are kept by c
		OnStart: func(pid int) {
			a.log(a.name, fmt.Sprintf("%s: running %s %s (pid %d)", op, a.path, strings.Join(args, " "), pid))
		},
		OnLine: c.line,
	}
	var status statusGlob
	if matchStatus {
		spec.StdoutTee = &status // as Heartbeat's backquotes: stdout only
	}
	res, err := childproc.Run(ctx, spec)
	r.tail = c.lines()
	if res.Unreaped {
		a.log(a.name, fmt.Sprintf("%s: pid %d not reaped %s after SIGKILL", op, res.Pid, a.reapWait))
	}
	if res.OutputHeld {
		a.log(a.name, op+": output still held open by a child process; not waiting for it")
	}
	elapsed := res.Duration.Round(time.Millisecond)

	switch {
	case res.Pid == 0:
		if cerr := ctx.Err(); cerr != nil {
			return fail("not run: "+cerr.Error(), ctxError(cerr), nil)
		}
		return fail("cannot run "+a.path+": "+err.Error(), err, nil)
	case res.Killed:
		cause := ctx.Err()
		var err error
		var reason string
		switch {
		case res.TimedOut:
			err = agent.ErrTimeout
			reason = fmt.Sprintf("%s after %s (process group %d killed)", agent.ErrTimeout, a.timeout, res.Pid)
		case errors.Is(cause, context.DeadlineExceeded):
			err = ctxError(cause)
			reason = fmt.Sprintf("%s: caller's deadline passed after %s (process group %d killed)", agent.ErrTimeout, elapsed, res.Pid)
		default:
			err = cause
			reason = fmt.Sprintf("%s after %s (process group %d killed)", cause, elapsed, res.Pid)
		}
		return fail(reason, err, r.tail)
	case err != nil:
		return fail(err.Error(), err, r.tail)
	}
	r.code, r.signal = res.ExitCode, res.Signal
	if matchStatus {
		r.running = status.running()
	}
	if r.signal != 0 {
		a.log(a.name, fmt.Sprintf("%s: killed by signal %s after %s", op, unix.SignalName(r.signal), elapsed))
	} else {
		a.log(a.name, fmt.Sprintf("%s: exit code %d after %s", op, r.code, elapsed))
	}
	return r
}

// ctxError maps a context error to the errors an operation wraps.
func ctxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", agent.ErrTimeout, err)
	}
	return err
}
