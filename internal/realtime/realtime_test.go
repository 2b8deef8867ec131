package realtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The test binary doubles as the child whose scheduling is checked.
const childEnv = "REALTIME_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		fmt.Print(describe())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// describe names the calling thread's scheduling, e.g. "rr/10" or "other/0".
func describe() string {
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

// onThreadAt runs f on a thread of its own set to SCHED_RR at prio (0:
// left at normal scheduling), and puts the thread back afterwards.
func onThreadAt(t *testing.T, prio int, f func()) {
	t.Helper()
	done := make(chan struct{})
	var skip error
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if prio > 0 {
			err := unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_RR, Priority: uint32(prio)}, 0)
			if err != nil {
				skip = err
				runtime.UnlockOSThread()
				return
			}
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

// childCmd runs the test binary as the child that prints its scheduling.
func childCmd() *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	return cmd
}

func childScheduling(t *testing.T) string {
	cmd := childCmd()
	var out strings.Builder
	cmd.Stdout = &out
	if err := Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestStartRunsChildrenAtNormalScheduling(t *testing.T) {
	for _, tc := range []struct {
		name string
		prio int
	}{{"from a realtime thread", 10}, {"from a normal thread", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			onThreadAt(t, tc.prio, func() {
				before := describe()
				if got := childScheduling(t); got != "other/0" {
					t.Errorf("child runs at %s, want other/0", got)
				}
				if after := describe(); after != before {
					t.Errorf("the starting thread is at %s after Start, was %s", after, before)
				}
				if a, err := unix.SchedGetAttr(0, 0); err != nil || a.Flags&unix.SCHED_FLAG_RESET_ON_FORK != 0 {
					t.Errorf("the starting thread keeps reset-on-fork after Start (%+v, %v)", a, err)
				}
			})
		})
	}
}

// Threads the starting thread creates later (here: another child) are not
// affected by the reset-on-fork flag once Start has returned: a plain
// cmd.Start from the same realtime thread passes its priority on again.
func TestStartLeavesTheThreadAsItWas(t *testing.T) {
	onThreadAt(t, 10, func() {
		_ = childScheduling(t)
		out, err := childCmd().Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != "rr/10" {
			t.Errorf("a plain fork after Start runs at %s, want rr/10 (the thread's own)", out)
		}
	})
}
