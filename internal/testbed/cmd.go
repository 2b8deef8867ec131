package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// ExecResult is the outcome of one command: of RunCmd, Host.Exec, Proc.Exec
// and RealHB.Exec.
type ExecResult struct {
	Stdout, Stderr string
	// Code is the exit status; -1 if the command could not run or timed out
	// (then Err says why).
	Code int
	Err  error
	// Took is how long the command ran.
	Took time.Duration
}

func (r ExecResult) String() string {
	return fmt.Sprintf("exit %d (%v) after %v, stdout %q, stderr %q", r.Code, r.Err, r.Took.Round(time.Millisecond), r.Stdout, r.Stderr)
}

// RunCmd runs a command of the machine (the root network namespace) bounded by
// timeout, with the environment env (nil: the test's own), and returns its
// exit code and its standard output and error apart. End-to-end tests run
// the suite's tools with it: they reach a daemon through its control
// socket's path, from any namespace.
func RunCmd(timeout time.Duration, env []string, name string, args ...string) ExecResult {
	return runCmd(timeout, env, nil, name, args...)
}

// Exec runs "ip netns exec NS name args..." bounded by the bed's RunTimeout,
// as RunCmd does (Run is the same with the output combined). It does not
// fail the test; t marks the helper.
func (h *Host) Exec(t testing.TB, name string, args ...string) ExecResult {
	t.Helper()
	return runCmd(h.bed.RunTimeout, nil, nil, "ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
}

// runCmd is RunCmd, passing extra open files to the command (as fd 3 on).
// WaitDelay keeps a grandchild that inherited an output pipe from holding
// Wait past the deadline.
func runCmd(timeout time.Duration, env []string, extra []*os.File, name string, args ...string) ExecResult {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	cmd.Env = env
	cmd.ExtraFiles = extra
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := ExecResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: -1, Took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		res.Err = fmt.Errorf("%s: timed out after %v", name, timeout)
	case err == nil:
		res.Code = 0
	case errors.As(err, &ee) && ee.Exited():
		res.Code = ee.ExitCode()
	default:
		res.Err = err
	}
	return res
}

// Tail returns the last n lines of s (a log, for a failure message).
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// CountLines counts the lines of s (a log) that contain substr.
func CountLines(s, substr string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}
