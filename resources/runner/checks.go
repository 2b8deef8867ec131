package runner

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hasuite/hasuite/internal/childproc"
)

// Check commands ([[group.check]] of haresources.toml): each runs on its
// own goroutine, one run at a time, all the time (on the node that holds
// the group and on the other, which must know it is healthy before it
// takes over), through internal/childproc: argv without a shell, its own
// process group killed at the timeout (a timeout is a failure), bounded
// output, optionally as another user. Results go to the daemon's loop,
// which hands them to the node layer (node.CheckResult); nothing here
// decides anything.

// CheckSpec is one check to run.
type CheckSpec struct {
	Group string
	Index int    // in the group's checks, from 0
	Name  string // for logs
	// Path is the resolved program, Args its arguments (argv[1:]).
	Path string
	Args []string
	// Interval is the pause between the end of one run and the start of
	// the next; Timeout bounds one run.
	Interval, Timeout time.Duration
	// User and Group: run as them ("" keeps the daemon's).
	User, UserGroup string
	// Env is the whole environment of the command.
	Env []string
}

// CheckResult is one run's outcome: OK is exit status 0; anything else
// (a non-zero status, a signal, a timeout, a failure to start) is not,
// and Reason says what.
type CheckResult struct {
	Group  string
	Index  int
	Name   string
	OK     bool
	Reason string
	Took   time.Duration
}

// checkOutput bounds what is kept of a check's output per stream: only
// the reason of a failure is logged.
const checkOutput = 1024

// Checker runs the checks until Close.
type Checker struct {
	results chan CheckResult
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// StartChecks starts every check now (the first run at once).
func StartChecks(specs []CheckSpec) *Checker {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Checker{results: make(chan CheckResult, 2*len(specs)+1), cancel: cancel}
	for _, s := range specs {
		c.wg.Add(1)
		go c.loop(ctx, s)
	}
	return c
}

// Results delivers every run's outcome.
func (c *Checker) Results() <-chan CheckResult { return c.results }

// Close stops the checks, killing the runs in progress, and waits.
func (c *Checker) Close() {
	c.cancel()
	c.wg.Wait()
}

func (c *Checker) loop(ctx context.Context, s CheckSpec) {
	defer c.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r := RunCheck(ctx, s)
		if ctx.Err() != nil {
			return
		}
		select {
		case c.results <- r:
		case <-ctx.Done():
			return
		}
		t.Reset(s.Interval)
	}
}

// RunCheck runs one check once and waits for it.
func RunCheck(ctx context.Context, s CheckSpec) CheckResult {
	out := CheckResult{Group: s.Group, Index: s.Index, Name: s.Name}
	res, err := childproc.Run(ctx, childproc.Spec{Path: s.Path, Args: s.Args, Env: s.Env, User: s.User, Group: s.UserGroup,
		Timeout: s.Timeout, MaxOutput: checkOutput, DrainWait: 100 * time.Millisecond})
	out.Took = res.Duration
	switch {
	case err != nil && res.TimedOut:
		out.Reason = fmt.Sprintf("timed out after %s (its process group was killed)", s.Timeout)
	case err != nil:
		out.Reason = err.Error()
	case res.ExitCode == 0:
		out.OK = true
	case res.ExitCode > 0:
		out.Reason = fmt.Sprintf("exit status %d", res.ExitCode)
	default:
		out.Reason = fmt.Sprintf("killed by signal %d", res.Signal)
	}
	if !out.OK {
		if msg := strings.TrimSpace(lastLine(res.Stderr.Bytes())); msg != "" {
			out.Reason += ": " + msg
		} else if msg := strings.TrimSpace(lastLine(res.Stdout.Bytes())); msg != "" {
			out.Reason += ": " + msg
		}
	}
	return out
}

func lastLine(b []byte) string {
	s := strings.TrimRight(string(b), "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return strings.ToValidUTF8(s, "?")
}
