package stonith

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hasuite/hasuite/internal/realtime"
)

const (
	// maxOutput bounds what is kept of a process's stdout and stderr.
	maxOutput = 64 << 10
	// waitDelay bounds the wait for output pipes that a process's
	// descendants keep open after it exited or was killed.
	waitDelay = 2 * time.Second
)

// capBuf keeps the first max bytes written to it and discards the rest.
type capBuf struct {
	b   []byte
	max int
}

func (c *capBuf) Write(p []byte) (int, error) {
	if room := c.max - len(c.b); room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// outcome is how a finished process ended.
type outcome struct {
	stdout, stderr string
	code           int // exit status, -1 when killed by a signal
}

// detail is a short description of a failed run for error messages: the
// exit status and the first line of stderr.
func (o outcome) detail() string {
	s := "exit status " + strconv.Itoa(o.code)
	if o.code < 0 {
		s = "killed by a signal"
	}
	msg, _, _ := strings.Cut(strings.TrimSpace(o.stderr), "\n")
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg != "" {
		s += ": " + msg
	}
	return s
}

// run executes path with args (argv only, no shell) and environment envv
// in its own process group, and waits at most timeout (and until ctx
// ends). On expiry the whole process group is killed with SIGKILL and the
// error wraps the context error. A non-zero exit status is not an error:
// it is in the outcome.
func run(ctx context.Context, timeout time.Duration, path string, args, envv []string) (outcome, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stdout := &capBuf{max: maxOutput}
	stderr := &capBuf{max: maxOutput}
	cmd := exec.CommandContext(rctx, path, args...)
	cmd.Env = envv
	cmd.Dir = "/"
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The process is its own group leader (Setpgid), so -pid is the
		// group: its children die with it.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = waitDelay
	err := realtime.Start(cmd) // never at the daemon's realtime priority
	if err == nil {
		err = cmd.Wait()
	}
	o := outcome{stdout: string(stdout.b), stderr: string(stderr.b), code: -1}
	if cmd.ProcessState != nil {
		o.code = cmd.ProcessState.ExitCode()
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return o, nil
	case rctx.Err() != nil:
		if ctx.Err() != nil {
			return o, ctx.Err()
		}
		return o, fmt.Errorf("killed after %v: %w", timeout, context.DeadlineExceeded)
	case errors.Is(err, exec.ErrWaitDelay):
		// Exited, but a descendant still holds its output open.
		return o, nil
	case errors.As(err, &exitErr):
		return o, nil
	default:
		return o, err
	}
}

// runError turns a run failure into an *Error: Timeout for an expired or
// cancelled context, Oops otherwise (could not start).
func runError(device, op, node string, err error) *Error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return newError(device, op, node, Timeout, err)
	}
	return newError(device, op, node, Oops, err)
}
