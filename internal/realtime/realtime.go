// Package realtime gives the daemon realtime scheduling, as Heartbeat's
// "realtime on" does, without passing it on to what the daemon runs.
//
// Linux sets the scheduling policy per thread, and a new thread or child
// process inherits it from the thread that creates it. A daemon that only
// switched itself to SCHED_RR would also run every child at that priority:
// resource scripts and the services they start (nginx, a database would run
// SCHED_RR, able to starve the machine and the heartbeat itself), STONITH
// plugins, the self-fence program. Heartbeat runs its children at normal
// priority; Start does the same.
//
// Inside the process every thread keeps the same priority. The Go runtime
// spin-waits, with sched_yield, for goroutines it must stop, and a yield
// never gives the CPU to a thread of lower priority, so threads at mixed
// priorities can stall the whole process until the kernel's realtime
// throttle (950 ms a second) lets the lower one run. That is the likely
// cause of what a trial showed: with resource work one priority below the
// loop, both nodes of a test pair fell silent for 850 ms at a time.
package realtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Enable gives every thread of the process SCHED_RR at prio and locks the
// process's memory, as Heartbeat's "realtime on" does: a heartbeat that
// waits behind a busy machine's other work, or for a page to come back from
// swap, is a false death at the peer.
//
// Memory is locked with MCL_ONFAULT: pages are locked as they are first
// touched. Plain MCL_FUTURE would fault in and pin the whole of every heap
// arena the Go runtime maps, tens of MB that are never used.
func Enable(prio int) error {
	err := setAll(&unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_RR, Priority: uint32(prio)})
	if merr := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE | unix.MCL_ONFAULT); merr != nil {
		err = errors.Join(err, fmt.Errorf("lock memory: %w", merr))
	}
	return err
}

// setAll switches every thread of the process. The Go runtime has started
// its threads already, so every existing thread is switched (twice, to
// catch one created meanwhile by a thread not yet switched); threads
// started later inherit the policy.
func setAll(attr *unix.SchedAttr) error {
	for pass := 0; pass < 2; pass++ {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("list threads: %w", err)
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetAttr(tid, attr, 0); err != nil && pass == 1 && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("scheduling policy %d priority %d for thread %d: %w", attr.Policy, attr.Priority, tid, err)
			}
		}
	}
	return nil
}

// Start starts cmd as a child at normal scheduling (SCHED_OTHER, nice 0
// or above), whatever the calling thread's policy. internal/childproc
// starts every child of the daemon with it.
//
// The child is forked from a thread that has SCHED_RESET_ON_FORK set for the
// moment, so the kernel resets the child's policy; the thread itself keeps
// its priority throughout (lowering it instead would mix priorities in the
// process: see the package documentation).
func Start(cmd *exec.Cmd) error {
	runtime.LockOSThread() // the flag is the thread's: fork from this one
	cur, err := unix.SchedGetAttr(0, 0)
	if err != nil || !isRealtime(cur.Policy) || cur.Flags&unix.SCHED_FLAG_RESET_ON_FORK != 0 {
		defer runtime.UnlockOSThread()
		return cmd.Start()
	}
	cur.Size = unix.SizeofSchedAttr
	reset := *cur
	reset.Flags |= unix.SCHED_FLAG_RESET_ON_FORK
	if err := unix.SchedSetAttr(0, &reset, 0); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("start %s at normal priority: %w", cmd.Path, err)
	}
	err = cmd.Start()
	// If the flag cannot be cleared, the thread stays locked to this
	// goroutine and ends with it: threads the runtime cloned from it
	// would start at normal priority.
	if unix.SchedSetAttr(0, cur, 0) == nil {
		runtime.UnlockOSThread()
	}
	return err
}

func isRealtime(policy uint32) bool {
	return policy == unix.SCHED_RR || policy == unix.SCHED_FIFO
}
