package stonith

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/hasuite/hasuite/internal/childproc"
)

const (
	// maxOutput bounds what is kept of a process's stdout and of its
	// stderr (the first and the last half).
	maxOutput = 64 << 10
	// drainWait bounds the wait for output pipes that a process's
	// descendants keep open after it exited or was killed.
	drainWait = 2 * time.Second
)

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
// through childproc, and waits at most timeout (and until ctx ends). On
// expiry the whole process group is killed with SIGKILL at once (a
// plugin's ssh or ipmitool with it) and the error wraps
// context.DeadlineExceeded; when ctx ends first it wraps ctx's error. A
// non-zero exit status is not an error: it is in the outcome.
func run(ctx context.Context, timeout time.Duration, path string, args, envv []string) (outcome, error) {
	res, err := childproc.Run(ctx, childproc.Spec{
		Path:      path,
		Args:      args,
		Env:       envv,
		Timeout:   timeout,
		DrainWait: drainWait,
		MaxOutput: maxOutput,
	})
	return outcome{stdout: res.Stdout.String(), stderr: res.Stderr.String(), code: res.ExitCode}, err
}

// runError turns a run failure into an *Error: Timeout for an expired or
// cancelled context, Oops otherwise (could not start).
func runError(device, op, node string, err error) *Error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return newError(device, op, node, Timeout, err)
	}
	return newError(device, op, node, Oops, err)
}
