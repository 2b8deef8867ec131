package daemon

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// enableRealtime gives the daemon SCHED_RR at prio and locks its memory, as
// Heartbeat's "realtime on" does: a heartbeat that waits behind a busy
// machine's other work, or for a page to come back from swap, is a false
// death at the peer.
//
// The scheduling policy is per thread in Linux; new threads inherit it from
// the thread that creates them. The Go runtime has started its threads
// already, so every existing thread is switched (twice, to catch one
// created meanwhile by a thread not yet switched).
//
// Memory is locked with MCL_ONFAULT: pages are locked as they are first
// touched. Plain MCL_FUTURE would fault in and pin the whole of every heap
// arena the Go runtime maps, tens of MB that are never used.
func enableRealtime(prio int) error {
	var errs []error
	attr := &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_RR, Priority: uint32(prio)}
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
				errs = append(errs, fmt.Errorf("SCHED_RR priority %d for thread %d: %w", prio, tid, err))
				break
			}
		}
	}
	if err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE | unix.MCL_ONFAULT); err != nil {
		errs = append(errs, fmt.Errorf("lock memory: %w", err))
	}
	return errors.Join(errs...)
}
